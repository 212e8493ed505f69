/* virtio-vsock, the device half: the three queues (rx 0, tx 1, event 2),
 * the guest's packets and kite's replies, and the device's state. The
 * host half (the Unix sockets) is vsock_host.c, the connection table
 * vsock_conn.c; this file stands above them and calls only down.
 *
 * TX is never held up by a full RX queue (VIRTIO 1.2, 5.10.6.6): replies
 * are remembered, not written, as flags on their connection or, for a
 * connection kite does not know, in a small queue of RSTs (full: the RST
 * is dropped and counted; the guest's connect times out instead). RX is
 * filled from one list of connections that owe the guest something; with
 * no RX buffer kite stops there, the host sockets of the connections on
 * the list stay unwatched, and the guest's RX kick resumes it: no busy
 * loop however long the guest posts nothing.
 *
 * Its state section (after the core's): u64 guest_cid. Connections are
 * host sockets and are not saved: a restored device owes the guest a
 * TRANSPORT_RESET event, which makes the guest drop every connection it
 * had. */
#include "virtio/vsock.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "state.h"
#include "virtio/vsock_priv.h"

#define VSOCK_QUEUE_MAX 256

/* --- guest to host (TX) --- */

static void guest_request(struct virtio_vsock *v, const struct vsock_hdr *h)
{
	struct vsock_conn *c;

	if (vsock_conn_find(v, h->dst_port, h->src_port) ||
	    vsock_conn_connect(v, h->dst_port, h->src_port, &c) < 0) {
		v->st.refused++;
		vsock_queue_rst(v, h->dst_port, h->src_port);
		return;
	}
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	vsock_conn_queue(c, PEND_RESPONSE);
}

static void guest_rw(struct vsock_conn *c, const struct vsock_hdr *h,
		     const struct virtq_chain *ch)
{
	struct iovec iov[64];
	uint32_t got;
	int nr;

	/* GUEST: the payload must fit what is left of the buffer we
	 * advertised; a driver ignoring credit loses the connection. */
	if (h->len > VSOCK_BUF_ALLOC - (c->rx_cnt - c->fwd_cnt) || c->guest_no_tx) {
		c->v->st.credit_violations++;
		log_guest(c->v->vd.name, "port %u: %u bytes beyond credit", c->peer_port, h->len);
		vsock_conn_reset(c);
		return;
	}
	nr = vsock_chain_iov(ch, false, VSOCK_HDR_LEN, h->len, iov, (int)ARRAY_SIZE(iov), &got);
	if (got != h->len) { /* more than 64 pieces: a hostile layout */
		c->v->st.bad_packets++;
		vsock_conn_reset(c);
		return;
	}
	c->v->st.tx_bytes += got;
	if (vsock_conn_to_host(c, iov, nr, got) < 0)
		vsock_conn_reset(c);
}

static void guest_shutdown(struct vsock_conn *c, uint32_t flags)
{
	c->guest_no_rx |= !!(flags & VSOCK_SHUTDOWN_RCV);
	c->guest_no_tx |= !!(flags & VSOCK_SHUTDOWN_SEND);
	if (c->guest_no_rx && c->guest_no_tx) {
		/* A full close: flush what the socket has not taken, then RST
		 * (vsock_host.c finishes it when the buffer drains). */
		c->state = CONN_CLOSING;
		if (c->buf_off == c->buf_len)
			vsock_conn_reset(c);
		else
			vsock_conn_half_open(c, true);
		return;
	}
	vsock_conn_shut_host(c);
}

/* A packet for a connection kite knows. */
static void conn_packet(struct vsock_conn *c, const struct vsock_hdr *h,
			const struct virtq_chain *ch)
{
	if (h->op == VSOCK_OP_RST) {
		vsock_conn_free(c);
		return;
	}
	/* Every packet carries the guest's credit. */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	switch (h->op) {
	case VSOCK_OP_RESPONSE:
		if (c->state != CONN_REQUEST || vsock_conn_accepted(c) < 0) {
			vsock_conn_reset(c);
			return;
		}
		break;
	case VSOCK_OP_REQUEST:
		vsock_conn_reset(c); /* a second request on a live pair */
		return;
	case VSOCK_OP_RW:
		if (c->state != CONN_EST) {
			vsock_conn_reset(c);
			return;
		}
		guest_rw(c, h, ch);
		return; /* c may be gone */
	case VSOCK_OP_SHUTDOWN:
		guest_shutdown(c, h->flags);
		return; /* c may be gone */
	case VSOCK_OP_CREDIT_REQUEST:
		vsock_conn_queue(c, PEND_CREDIT_UPDATE);
		break;
	default: /* CREDIT_UPDATE: the credit above was all */
		break;
	}
	if (vsock_conn_wants_rx(c)) {
		c->credit_asked = false;
		vsock_conn_queue(c, 0);
	}
}

static void tx_packet(struct virtio_vsock *v, const struct virtq_chain *ch)
{
	struct vsock_hdr h;
	enum vsock_bad why;
	struct vsock_conn *c;

	if (vsock_chain_copy(ch, false, 0, &h, VSOCK_HDR_LEN) != VSOCK_HDR_LEN) {
		v->st.bad_packets++;
		log_guest(v->vd.name, "TX chain of %u bytes: shorter than a header", ch->out_len);
		return;
	}
	/* GUEST: out_len >= VSOCK_HDR_LEN here, from virtq_pop's sum. */
	why = vsock_hdr_check(&h, v->guest_cid, ch->out_len - VSOCK_HDR_LEN);
	if (why != VSOCK_OK) {
		v->st.bad_packets++;
		log_guest(v->vd.name, "TX packet dropped: %s", vsock_bad_name(why));
		return;
	}
	v->st.tx_packets++;
	c = vsock_conn_find(v, h.dst_port, h.src_port);
	if (c)
		conn_packet(c, &h, ch);
	else if (h.op == VSOCK_OP_REQUEST)
		guest_request(v, &h);
	else if (h.op != VSOCK_OP_RST) /* never answer a RST: no ping-pong */
		vsock_queue_rst(v, h.dst_port, h.src_port);
}

static void tx_process(struct virtio_vsock *v)
{
	/* A queue's worth per call: the core re-signals the queue. */
	while (virtio_dev_pop(&v->vd, VSOCK_TXQ, &v->chain) > 0) {
		tx_packet(v, &v->chain);
		virtio_dev_push(&v->vd, VSOCK_TXQ, v->chain.gen, v->chain.head, 0);
	}
	virtio_dev_notify(&v->vd, VSOCK_TXQ);
}

static int vsock_queue_notify(void *dev, uint32_t qidx)
{
	struct virtio_vsock *v = dev;

	if (qidx == VSOCK_TXQ)
		tx_process(v);
	else if (qidx == VSOCK_EVQ)
		vsock_event_process(v);
	/* Replies TX queued, or new RX buffers after starving. */
	vsock_rx_process(v);
	return 0;
}

/* --- configuration, reset, state --- */

static uint64_t vsock_features(void *dev)
{
	(void)dev;
	return 0; /* stream sockets need no bit (VIRTIO 1.2, 5.10.3) */
}

static void vsock_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_vsock *v = dev;
	uint64_t cid = v->guest_cid;

	/* off + len <= 8: the transport checked it against config_size. */
	memcpy(data, (const uint8_t *)&cid + off, len);
}

static void forget_all(struct virtio_vsock *v)
{
	vsock_conn_free_all(v);
	v->nr_rsts = 0;
	v->rst_head = 0;
	v->rx_starved = false;
}

/* The driver went away: every connection with it. This runs on the vCPU
 * thread that wrote Status, so the sockets are closed by the loop thread
 * (vsock_host.c sweeps older epochs); from now on nothing sees them. */
static void vsock_reset(void *dev)
{
	struct virtio_vsock *v = dev;

	v->epoch++;
	v->rx_head = v->rx_tail = NULL;
	v->nr_rsts = 0;
	v->rst_head = 0;
	v->rx_starved = false;
	v->event_pending = false;
	if (v->nr_conns)
		vsock_timer_soon(v);
}

static int vsock_save(void *dev, struct state_buf *out)
{
	struct virtio_vsock *v = dev;

	state_put_u64(out, v->guest_cid);
	return 0;
}

struct vsock_saved {
	uint64_t cid;
};

static void vsock_load(void *dev, struct state_reader *in, uint32_t version, void *scratch)
{
	struct virtio_vsock *v = dev;
	struct vsock_saved *s = scratch;

	(void)version;
	s->cid = state_get_u64(in);
	/* GUEST (snapshot): the CID is this device's configuration. */
	if (!in->err && s->cid != v->guest_cid)
		state_fail(in, "guest CID %llu differs from this device's %llu",
			   (unsigned long long)s->cid, (unsigned long long)v->guest_cid);
}

/* The guest's connections died with the old process: tell it (the event
 * goes out when the core re-kicks the queues at resume). */
static void vsock_apply(void *dev, const void *scratch)
{
	struct virtio_vsock *v = dev;

	(void)scratch;
	forget_all(v);
	v->event_pending = true;
}

static void vsock_stats(void *dev, struct device_stats *out)
{
	struct virtio_vsock *v = dev;
	const struct vsock_stats *s = &v->st;

	device_stat(out, "conns", v->nr_conns);
	device_stat(out, "conns_total", s->conns_total);
	device_stat(out, "rx_bytes", s->rx_bytes);
	device_stat(out, "tx_bytes", s->tx_bytes);
	device_stat(out, "rx_packets", s->rx_packets);
	device_stat(out, "tx_packets", s->tx_packets);
	device_stat(out, "rst_sent", s->rst_sent);
	device_stat(out, "rst_dropped", s->rst_dropped);
	device_stat(out, "bad_packets", s->bad_packets);
	device_stat(out, "credit_violations", s->credit_violations);
	device_stat(out, "rx_starved", s->rx_starved);
	device_stat(out, "refused", s->refused);
	device_stat(out, "host_rejected", s->host_rejected);
	device_stat(out, "events_sent", s->events_sent);
	device_stat(out, "timeouts", s->timeouts);
	device_stat(out, "bad_rx_buffers", s->bad_rx_buffers);
}

static void vsock_destroy(void *dev)
{
	virtio_vsock_free(dev);
}

static const struct device_ops vsock_dops = VIRTIO_DEVICE_OPS("virtio-vsock");

static const struct virtio_dev_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.num_queues = 3,
	.queue_max = VSOCK_QUEUE_MAX,
	.config_size = 8,
	.device_ops = &vsock_dops,
	.features = vsock_features,
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.save = vsock_save,
	.state_size = sizeof(struct vsock_saved),
	.load = vsock_load,
	.apply = vsock_apply,
	.stats = vsock_stats,
	.destroy = vsock_destroy,
};

int virtio_vsock_new(struct virtio_vsock **out, const struct guest_mem *gm, struct evloop *loop,
		     uint64_t guest_cid, const char *uds_path, const char *name)
{
	struct virtio_vsock *v;
	int err;

	if (guest_cid < 3 || guest_cid >= UINT32_MAX || !uds_path || !loop)
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->listen_fd = -1;
	v->timer_fd = -1;
	v->half_open_ms = VSOCK_HALF_OPEN_MS;
	v->loop = loop;
	v->guest_cid = guest_cid;
	v->next_port = VSOCK_LOCAL_PORT_BASE;
	v->uds_path = strdup(uds_path);
	if (!v->uds_path) {
		free(v);
		return -ENOMEM;
	}
	err = virtio_dev_init(&v->vd, gm, &vsock_ops, v, name ? name : "virtio-vsock");
	if (err < 0)
		goto fail_free;
	err = vsock_timer_open(v);
	if (err < 0)
		goto fail_core;
	err = vsock_listen_open(v);
	if (err < 0)
		goto fail_timer;
	*out = v;
	return 0;

fail_timer:
	vsock_timer_close(v);
fail_core:
	virtio_dev_free(&v->vd);
fail_free:
	free(v->uds_path);
	free(v);
	return err;
}

struct virtio_dev *virtio_vsock_vdev(struct virtio_vsock *v)
{
	return &v->vd;
}

struct device *virtio_vsock_device(struct virtio_vsock *v)
{
	return &v->vd.dev;
}

void virtio_vsock_set_half_open_ms(struct virtio_vsock *v, uint32_t ms)
{
	virtio_dev_lock(&v->vd);
	v->half_open_ms = ms;
	virtio_dev_unlock(&v->vd);
}

uint32_t virtio_vsock_nr_conns(struct virtio_vsock *v)
{
	uint32_t n;

	virtio_dev_lock(&v->vd);
	n = v->nr_conns;
	virtio_dev_unlock(&v->vd);
	return n;
}

void virtio_vsock_free(struct virtio_vsock *v)
{
	if (!v)
		return;
	vsock_conn_free_all(v);
	vsock_listen_close(v);
	vsock_timer_close(v);
	virtio_dev_free(&v->vd);
	free(v->uds_path);
	free(v);
}
