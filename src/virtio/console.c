/* virtio-console, one port: receiveq (0) carries host input to the guest,
 * transmitq (1) guest output to the host. */
#include "virtio/console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define CONSOLE_QUEUE_MAX 64
#define CONSOLE_RXQ 0
#define CONSOLE_TXQ 1

struct virtio_console {
	struct virtio_mmio t;
	struct virtio_console_host host;
	int rx_blocked; /* receive() ran out of guest buffers */
	struct virtq_chain chain;
};

static void transmit(struct virtio_console *c)
{
	uint32_t budget = virtio_mmio_queue_size(&c->t, CONSOLE_TXQ);
	int r;

	for (;;) {
		if (budget-- == 0) {
			/* A queue's worth sent: the rest after other work. */
			virtio_mmio_kick_self(&c->t, CONSOLE_TXQ);
			break;
		}
		if ((r = virtio_mmio_pop(&c->t, CONSOLE_TXQ, &c->chain)) <= 0)
			break;
		/* GUEST: each buffer was bounds-checked by virtq_pop; only
		 * the device-readable ones carry output. */
		for (uint32_t i = 0; i < c->chain.nr_out; i++)
			if (c->chain.buf[i].len) /* zero-length buffers have no host pointer */
				c->host.out(c->host.ctx, c->chain.buf[i].host, c->chain.buf[i].len);
		virtio_mmio_push(&c->t, CONSOLE_TXQ, c->chain.gen, c->chain.head, 0);
	}
	virtio_mmio_notify(&c->t, CONSOLE_TXQ);
}

static int console_queue_notify(void *dev, uint32_t qidx)
{
	struct virtio_console *c = dev;

	if (qidx == CONSOLE_TXQ) {
		transmit(c);
	} else if (c->rx_blocked && c->host.rx_space) {
		/* New receive buffers: the host may feed again. */
		c->rx_blocked = 0;
		c->host.rx_space(c->host.ctx);
	}
	return 0;
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
	 * the driver is back. */
	c->rx_blocked = 1;
}

static const struct virtio_dev_ops console_ops = {
	.name = "virtio-console",
	.device_id = VIRTIO_ID_CONSOLE,
	.num_queues = 2,
	.queue_max = CONSOLE_QUEUE_MAX,
	.config_size = 12,
	.features = console_features,
	.config_read = console_config_read,
	.queue_notify = console_queue_notify,
	.reset = console_reset,
};

size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf, size_t n)
{
	size_t done = 0;

	uint32_t budget;

	virtio_mmio_lock(&c->t);
	budget = MAX(virtio_mmio_queue_size(&c->t, CONSOLE_RXQ), 1u); /* not ready: pop says so */
	while (done < n) {
		uint32_t put = 0;

		if (budget-- == 0) {
			/* Chains without room (zero-length) could keep this
			 * going: after a queue's worth, wait to be asked again
			 * (the self-kick runs console_queue_notify, which
			 * reports rx_space). */
			c->rx_blocked = 1;
			virtio_mmio_kick_self(&c->t, CONSOLE_RXQ);
			break;
		}
		if (virtio_mmio_pop(&c->t, CONSOLE_RXQ, &c->chain) <= 0) {
			c->rx_blocked = 1;
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
		virtio_mmio_push(&c->t, CONSOLE_RXQ, c->chain.gen, c->chain.head, put);
	}
	virtio_mmio_notify(&c->t, CONSOLE_RXQ);
	virtio_mmio_unlock(&c->t);
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
	err = virtio_mmio_init(&c->t, gm, &console_ops, c, name ? name : "virtio-console");
	if (err < 0) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

struct virtio_mmio *virtio_console_transport(struct virtio_console *c)
{
	return &c->t;
}

void virtio_console_free(struct virtio_console *c)
{
	if (!c)
		return;
	virtio_mmio_free(&c->t);
	free(c);
}
