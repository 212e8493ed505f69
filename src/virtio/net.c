/* virtio-net, the device: config space (MAC, link status, MTU), the
 * features it offers, the tap's offloads, rate limits, pause, state and
 * stats. Receive is net_rx.c, transmit net_tx.c, the rate limits
 * net_limit.c.
 *
 * Offloads. The tap may hand kite partial checksums and TSO frames only
 * when the driver accepted them, so TUNSETOFFLOAD follows the negotiated
 * features at DRIVER_OK, is cleared at every reset and set again after a
 * restore; frames the tap queued under older offloads are checked on
 * receive anyway (virtio_net_hdr_rx_fix).
 *
 * State section (after the core's): u8 has_mac, mac[6], u32 mtu, u64
 * rx bytes bucket size, u64 tx bytes bucket size (the configuration, which
 * must match the device restored onto), then the RX and TX limiters
 * (rate_limiter_save: each bucket's whole configuration, checked too). Nothing
 * is in flight when paused: RX chains go back to the ring after each pass,
 * a TX chain the limit holds back is given back at once. */
#include "virtio/net.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "backends/tap.h"
#include "clock.h"
#include "log.h"
#include "virtio/net_priv.h"

static bool net_has(const struct virtio_net *n, int bit)
{
	return (n->vd.negotiated & VIRTIO_BIT(bit)) != 0;
}

static uint64_t net_features(void *dev)
{
	struct virtio_net *n = dev;
	uint64_t f = VIRTIO_BIT(VIRTIO_NET_F_CSUM) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM) |
		     VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) |
		     VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) |
		     VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_BIT(VIRTIO_NET_F_STATUS);

	if (n->has_mac)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MAC);
	if (n->mtu)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MTU);
	return f;
}

static void net_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_net *n = dev;

	/* GUEST: off + len <= NET_CONFIG_SIZE (the transport checks). */
	memcpy(data, n->config + off, len);
}

static void set_offloads(struct virtio_net *n, unsigned off)
{
	int err;

	if (!n->set_offload)
		return;
	err = n->set_offload(n->fd, off);
	if (err < 0)
		log_err(n->vd.name, "TUNSETOFFLOAD 0x%x: %s", off, strerror(-err));
	else
		n->offloads = off;
}

/* What the driver accepted to receive, in the tap's terms. */
static unsigned negotiated_offloads(const struct virtio_net *n)
{
	unsigned off = 0;

	if (net_has(n, VIRTIO_NET_F_GUEST_CSUM))
		off |= TAP_OFF_CSUM;
	if (net_has(n, VIRTIO_NET_F_GUEST_TSO4))
		off |= TAP_OFF_TSO4;
	if (net_has(n, VIRTIO_NET_F_GUEST_TSO6))
		off |= TAP_OFF_TSO6;
	return off;
}

static void net_driver_ok(void *dev)
{
	struct virtio_net *n = dev;

	set_offloads(n, negotiated_offloads(n));
}

/* --- queues, reset, pause --- */

static int net_queue_notify(void *dev, uint32_t qidx)
{
	struct virtio_net *n = dev;

	return qidx == VIRTIO_NET_RXQ ? net_rx_pass(n) : net_tx_pass(n);
}

void virtio_net_tap_ready(struct virtio_net *n)
{
	bool live;

	virtio_dev_lock(&n->vd);
	live = net_rx_live(n);
	/* Not live (before DRIVER_OK, resetting, paused): stop watching, or
	 * a readable tap would wake the loop forever; the next kick (or
	 * resume) looks at the tap again. */
	if (!live)
		net_rx_watch(n, false);
	virtio_dev_unlock(&n->vd);
	if (live)
		virtio_dev_queue_notify(&n->vd, VIRTIO_NET_RXQ);
}

static void on_tap(void *ctx, uint32_t events)
{
	struct virtio_net *n = ctx;

	if (events & (EPOLLERR | EPOLLHUP)) {
		log_warn(n->vd.name, "tap: %s; receive stops until the guest's next kick",
			 events & EPOLLHUP ? "hang-up" : "error");
		virtio_dev_lock(&n->vd);
		net_rx_watch(n, false);
		virtio_dev_unlock(&n->vd);
		return;
	}
	virtio_net_tap_ready(n);
}

static void net_reset(void *dev)
{
	struct virtio_net *n = dev;

	/* Until the driver accepts offloads again, none. */
	set_offloads(n, 0);
	net_limit_disarm(&n->lim[0]);
	net_limit_disarm(&n->lim[1]);
}

static int net_pause(void *dev)
{
	struct virtio_net *n = dev;

	/* Nothing in flight (see the top of the file): stop watching and
	 * stop the timers; resume kicks both queues, which re-arms them. */
	virtio_dev_lock(&n->vd);
	net_rx_watch(n, false);
	net_limit_disarm(&n->lim[0]);
	net_limit_disarm(&n->lim[1]);
	virtio_dev_unlock(&n->vd);
	return 0;
}

/* --- state --- */

static int net_save(void *dev, struct state_buf *out)
{
	struct virtio_net *n = dev;

	state_put_u8(out, n->has_mac);
	state_put_bytes(out, n->config, 6);
	state_put_u32(out, n->mtu);
	state_put_u64(out, n->lim[0].cfg.bandwidth.size);
	state_put_u64(out, n->lim[1].cfg.bandwidth.size);
	rate_limiter_save(&n->lim[0].rl, out);
	rate_limiter_save(&n->lim[1].rl, out);
	return 0;
}

struct net_saved {
	struct rate_limiter rl[2];
};

static bool bucket_is(const struct token_bucket *b, const struct token_bucket_config *c)
{
	return b->size == c->size && b->one_time_burst == c->one_time_burst &&
	       b->refill_time_ms == c->refill_time_ms;
}

static void net_load(void *dev, struct state_reader *in, uint32_t version, void *scratch)
{
	struct virtio_net *n = dev;
	struct net_saved *s = scratch;
	uint8_t has_mac, mac[6];
	uint32_t mtu;
	uint64_t bps[2];

	(void)version;
	has_mac = state_get_u8(in);
	state_get_bytes(in, mac, sizeof(mac));
	mtu = state_get_u32(in);
	bps[0] = state_get_u64(in);
	bps[1] = state_get_u64(in);
	/* GUEST (snapshot): MAC, MTU and limits are this device's
	 * configuration; a snapshot of another one is refused. */
	if (!in->err &&
	    (has_mac != n->has_mac || (has_mac && memcmp(mac, n->config, 6)) || mtu != n->mtu ||
	     bps[0] != n->lim[0].cfg.bandwidth.size || bps[1] != n->lim[1].cfg.bandwidth.size)) {
		state_fail(in, "MAC, MTU or rate limits differ from this device's");
		return;
	}
	for (int i = 0; i < 2 && !in->err; i++) {
		if (rate_limiter_restore(&s->rl[i], in, n->now()) < 0)
			return;
		if (!bucket_is(&s->rl[i].bytes, &n->lim[i].cfg.bandwidth) ||
		    !bucket_is(&s->rl[i].ops, &n->lim[i].cfg.ops))
			state_fail(in, "%s token bucket is not this device's", i ? "tx" : "rx");
	}
}

static void net_apply(void *dev, const void *scratch)
{
	struct virtio_net *n = dev;
	const struct net_saved *s = scratch;

	for (int i = 0; i < 2; i++) {
		net_limit_disarm(&n->lim[i]);
		n->lim[i].rl = s->rl[i];
	}
	/* The core's part (negotiated features) is in place already. */
	set_offloads(n, (n->vd.status & VIRTIO_STATUS_DRIVER_OK) ? negotiated_offloads(n) : 0);
}

static void net_stats(void *dev, struct device_stats *out)
{
	struct virtio_net *n = dev;
	const struct net_stats *s = &n->st;

	device_stat(out, "rx_bytes", s->rx_bytes);
	device_stat(out, "rx_packets", s->rx_packets);
	device_stat(out, "rx_dropped", s->rx_dropped);
	device_stat(out, "rx_errors", s->rx_errors);
	device_stat(out, "rx_no_buffer", s->rx_no_buffer);
	device_stat(out, "rx_rate_limited", n->lim[0].events);
	device_stat(out, "tx_bytes", s->tx_bytes);
	device_stat(out, "tx_packets", s->tx_packets);
	device_stat(out, "tx_dropped", s->tx_dropped);
	device_stat(out, "tx_errors", s->tx_errors);
	device_stat(out, "tx_rate_limited", n->lim[1].events);
}

static void net_destroy(void *dev)
{
	virtio_net_free(dev);
}

static const struct device_ops net_dops = VIRTIO_DEVICE_OPS("virtio-net");

static const struct virtio_dev_ops net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = NET_QUEUE_MAX,
    .config_size = NET_CONFIG_SIZE,
    .device_ops = &net_dops,
    .features = net_features,
    .config_read = net_config_read,
    .queue_notify = net_queue_notify,
    .driver_ok = net_driver_ok,
    .reset = net_reset,
    .pause = net_pause,
    .save = net_save,
    .state_size = sizeof(struct net_saved),
    .load = net_load,
    .apply = net_apply,
    .stats = net_stats,
    .destroy = net_destroy,
};

/* --- life --- */

static void fill_config(struct virtio_net *n, const struct virtio_net_opts *o)
{
	uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1, mtu = (uint16_t)n->frame_mtu;

	if (o->mac)
		memcpy(n->config, o->mac, 6);
	memcpy(n->config + 6, &status, 2);
	memcpy(n->config + 8, &pairs, 2);
	memcpy(n->config + 10, &mtu, 2);
}

static int watch_tap(struct virtio_net *n)
{
	int err;

	if (!n->loop)
		return 0;
	/* In the loop's table from the start, out of its set until the
	 * driver has posted buffers (net_rx_watch). */
	err = ev_add(n->loop, n->fd, EPOLLIN, on_tap, n);
	if (err < 0)
		return err;
	n->watching = true;
	err = ev_mod(n->loop, n->fd, 0);
	if (err < 0) {
		ev_del(n->loop, n->fd);
		return err;
	}
	n->watching = false;
	return 0;
}

int virtio_net_new(struct virtio_net **out, const struct guest_mem *gm, struct evloop *loop,
		   const struct virtio_net_opts *o, const char *name)
{
	struct virtio_net *n;
	int err = -EINVAL;

	if (o->mtu && (o->mtu < 68 || o->mtu > 65535))
		goto fail_fd;
	err = -ENOMEM;
	n = calloc(1, sizeof(*n));
	if (!n)
		goto fail_fd;
	n->fd = o->fd;
	n->loop = loop;
	n->set_offload = o->set_offload;
	n->now = o->now ? o->now : clock_mono_ns;
	n->has_mac = o->mac != NULL;
	n->mtu = o->mtu;
	n->frame_mtu = o->mtu ? o->mtu : 1500;
	n->lim[0].timer_fd = n->lim[1].timer_fd = -1;
	fill_config(n, o);
	err = virtio_dev_init(&n->vd, gm, &net_ops, n, name ? name : "virtio-net");
	if (err < 0) {
		free(n);
		goto fail_fd;
	}
	err = net_limit_init(n, VIRTIO_NET_RXQ, o->rx_bps, o->rx_rl);
	if (!err)
		err = net_limit_init(n, VIRTIO_NET_TXQ, o->tx_bps, o->tx_rl);
	if (!err)
		err = watch_tap(n);
	if (err < 0) {
		virtio_net_free(n);
		return err;
	}
	*out = n;
	return 0;

fail_fd:
	close(o->fd);
	return err;
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *n)
{
	return &n->vd;
}

struct device *virtio_net_device(struct virtio_net *n)
{
	return &n->vd.dev;
}

unsigned virtio_net_offloads(struct virtio_net *n)
{
	return n->offloads;
}

bool virtio_net_watching(struct virtio_net *n)
{
	return n->watching;
}

struct virtio_net *virtio_net_from_device(struct device *d)
{
	return d && d->ops == &net_dops ? virtio_dev_from_device(d)->priv : NULL;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	net_limit_free(n, 0);
	net_limit_free(n, 1);
	if (n->loop)
		ev_del(n->loop, n->fd); /* -ENOENT when watch_tap failed: fine */
	close(n->fd);
	virtio_dev_free(&n->vd);
	free(n);
}
