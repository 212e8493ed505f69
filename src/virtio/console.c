/* virtio-console, one port: receiveq (0) carries host input to the guest,
 * transmitq (1) guest output to the host. The device buffers no bytes of
 * its own: input is copied straight into the guest's receive buffers (what
 * does not fit stays with the host), and output goes to the sink one whole
 * chain at a time, chains staying in the ring while the sink is full. Its
 * state section (after the core's): u8 rx_blocked, u8 tx_blocked. */
#include "virtio/console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONSOLE_QUEUE_MAX 64
#define CONSOLE_RXQ 0
#define CONSOLE_TXQ 1

struct virtio_console {
	struct virtio_dev vd;
	struct virtio_console_host host;
	bool rx_blocked; /* receive() ran out of guest buffers */
	bool tx_blocked; /* out() said the host is full: wait for tx_space */
	uint64_t rx_bytes, tx_bytes;
	struct virtq_chain chain;
};

static void transmit(struct virtio_console *c)
{
	while (!c->tx_blocked) {
		bool room = true;

		/* A queue's worth per call: the core re-signals the queue. */
		if (virtio_dev_pop(&c->vd, CONSOLE_TXQ, &c->chain) <= 0)
			break;
		/* GUEST: each buffer was bounds-checked by virtq_pop; only
		 * the device-readable ones carry output. */
		for (uint32_t i = 0; i < c->chain.nr_out; i++) {
			if (!c->chain.buf[i].len) /* zero-length buffers have no host pointer */
				continue;
			if (!c->host.out(c->host.ctx, c->chain.buf[i].host, c->chain.buf[i].len))
				room = false;
			c->tx_bytes += c->chain.buf[i].len;
		}
		virtio_dev_push(&c->vd, CONSOLE_TXQ, c->chain.gen, c->chain.head, 0);
		if (!room)
			c->tx_blocked = true; /* the rest stays in the ring */
	}
	virtio_dev_notify(&c->vd, CONSOLE_TXQ);
}

static int console_queue_notify(void *dev, uint32_t qidx)
{
	struct virtio_console *c = dev;

	if (qidx == CONSOLE_TXQ) {
		transmit(c);
	} else if (c->rx_blocked && c->host.rx_space) {
		/* New receive buffers: the host may feed again. */
		c->rx_blocked = false;
		c->host.rx_space(c->host.ctx);
	}
	return 0;
}

void virtio_console_tx_space(struct virtio_console *c)
{
	bool was;

	virtio_dev_lock(&c->vd);
	was = c->tx_blocked;
	c->tx_blocked = false;
	virtio_dev_unlock(&c->vd);
	if (was && !virtio_dev_kick_self(&c->vd, CONSOLE_TXQ))
		virtio_dev_queue_notify(&c->vd, CONSOLE_TXQ);
}

static uint64_t console_features(void *dev)
{
	(void)dev;
	return 0;
}

static void console_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	(void)dev;
	(void)off;
	/* cols, rows, max_nr_ports, emerg_wr: meaningful only with features
	 * kite does not offer. */
	memset(data, 0, len);
}

static void console_reset(void *dev)
{
	struct virtio_console *c = dev;

	/* Input that was refused stays with the host; ask for it again once
	 * the driver is back. Output waits no more for a full host: the
	 * rings it would have left chains in are gone. */
	c->rx_blocked = true;
	c->tx_blocked = false;
}

static void console_resume(void *dev)
{
	struct virtio_console *c = dev;

	/* The host end may be a new one (restore): try output again; out()
	 * says whether it is still full. */
	virtio_dev_lock(&c->vd);
	c->tx_blocked = false;
	virtio_dev_unlock(&c->vd);
}

static int console_save(void *dev, struct state_buf *out)
{
	struct virtio_console *c = dev;

	state_put_u8(out, c->rx_blocked);
	state_put_u8(out, c->tx_blocked);
	return 0;
}

struct console_saved {
	bool rx_blocked, tx_blocked;
};

static void console_load(void *dev, struct state_reader *in, uint32_t version, void *scratch)
{
	struct console_saved *s = scratch;
	uint8_t rx = state_get_u8(in), tx = state_get_u8(in);

	(void)dev;
	(void)version;
	if (state_check(in, rx <= 1, "rx_blocked", rx) && state_check(in, tx <= 1, "tx_blocked", tx)) {
		s->rx_blocked = rx;
		s->tx_blocked = tx;
	}
}

static void console_apply(void *dev, const void *scratch)
{
	struct virtio_console *c = dev;
	const struct console_saved *s = scratch;

	c->rx_blocked = s->rx_blocked;
	c->tx_blocked = s->tx_blocked;
}

static void console_stats(void *dev, struct device_stats *out)
{
	struct virtio_console *c = dev;

	device_stat(out, "rx_bytes", c->rx_bytes);
	device_stat(out, "tx_bytes", c->tx_bytes);
}

static void console_destroy(void *dev)
{
	virtio_console_free(dev);
}

static const struct device_ops console_dops = VIRTIO_DEVICE_OPS("virtio-console");

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = 2,
	.queue_max = CONSOLE_QUEUE_MAX,
	.config_size = 12,
	.device_ops = &console_dops,
	.features = console_features,
	.config_read = console_config_read,
	.queue_notify = console_queue_notify,
	.reset = console_reset,
	.resume = console_resume,
	.save = console_save,
	.state_size = sizeof(struct console_saved),
	.load = console_load,
	.apply = console_apply,
	.stats = console_stats,
	.destroy = console_destroy,
};

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf, size_t n)
{
	size_t done = 0;

	virtio_dev_lock(&c->vd);
	/* Not a kick: a budget of its own, so that chains without room
	 * (zero-length) cannot keep this going. */
	virtio_dev_begin(&c->vd, CONSOLE_RXQ);
	while (done < n) {
		uint32_t put = 0;

		/* Out of buffers (or of budget: the self-kick runs
		 * console_queue_notify, which reports rx_space). */
		if (virtio_dev_pop(&c->vd, CONSOLE_RXQ, &c->chain) <= 0) {
			c->rx_blocked = true;
			break;
		}
		/* GUEST: writable buffers bounded by virtq_pop; we write at
		 * most their length. */
		for (uint32_t i = c->chain.nr_out; i < c->chain.nr && done < n; i++) {
			size_t k = MIN((size_t)c->chain.buf[i].len, n - done);

			if (!k)
				continue; /* zero-length buffers have no host pointer */
			memcpy(c->chain.buf[i].host, buf + done, k);
			done += k;
			put += (uint32_t)k;
		}
		virtio_dev_push(&c->vd, CONSOLE_RXQ, c->chain.gen, c->chain.head, put);
	}
	c->rx_bytes += done;
	virtio_dev_notify(&c->vd, CONSOLE_RXQ);
	virtio_dev_unlock(&c->vd);
	return done;
}

int virtio_console_new(struct virtio_console **out, const struct guest_mem *gm,
		       const struct virtio_console_host *host, const char *name)
{
	struct virtio_console *c;
	int err;

	if (!host || !host->out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->host = *host;
	err = virtio_dev_init(&c->vd, gm, &console_ops, c, name ? name : "virtio-console");
	if (err < 0) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

struct virtio_dev *virtio_console_vdev(struct virtio_console *c)
{
	return &c->vd;
}

struct device *virtio_console_device(struct virtio_console *c)
{
	return &c->vd.dev;
}

void virtio_console_free(struct virtio_console *c)
{
	if (!c)
		return;
	virtio_dev_free(&c->vd);
	free(c);
}
