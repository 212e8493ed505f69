/* virtio-vsock, the RX side: kite's packets for the guest (replies,
 * connection requests, credit news and host data read straight into the
 * guest's buffers), the event queue, and the chain helpers both sides
 * use. One list of connections that owe the guest something is served
 * round robin; RSTs for connections kite does not know come first. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "virtio/vsock_priv.h"

/* --- chains: the header and payload may be split across buffers --- */

uint32_t vsock_chain_copy(const struct virtq_chain *c, bool write, uint32_t off, void *p,
			   uint32_t n)
{
	uint32_t first = write ? c->nr_out : 0, end = write ? c->nr : c->nr_out, done = 0;

	for (uint32_t i = first; i < end && done < n; i++) {
		/* GUEST: buffer bounds checked by virtq_pop. */
		uint32_t len = c->buf[i].len, k;

		if (off >= len) {
			off -= len;
			continue;
		}
		k = MIN(len - off, n - done);
		if (write)
			memcpy((uint8_t *)c->buf[i].host + off, (uint8_t *)p + done, k);
		else
			memcpy((uint8_t *)p + done, (uint8_t *)c->buf[i].host + off, k);
		done += k;
		off = 0;
	}
	return done;
}

int vsock_chain_iov(const struct virtq_chain *c, bool write, uint32_t off, uint32_t limit,
		     struct iovec *iov, int max, uint32_t *len)
{
	uint32_t first = write ? c->nr_out : 0, end = write ? c->nr : c->nr_out;
	int nr = 0;

	*len = 0;
	for (uint32_t i = first; i < end && nr < max && *len < limit; i++) {
		uint32_t blen = c->buf[i].len, k;

		if (off >= blen) {
			off -= blen;
			continue;
		}
		k = MIN(blen - off, limit - *len);
		iov[nr].iov_base = (uint8_t *)c->buf[i].host + off;
		iov[nr].iov_len = k;
		nr++;
		*len += k;
		off = 0;
	}
	return nr;
}

/* --- host to guest (RX) --- */

static void fill_hdr(const struct virtio_vsock *v, struct vsock_hdr *h, uint32_t local,
		     uint32_t peer, uint16_t op)
{
	memset(h, 0, sizeof(*h));
	h->src_cid = VSOCK_HOST_CID;
	h->dst_cid = v->guest_cid;
	h->src_port = local;
	h->dst_port = peer;
	h->type = VSOCK_TYPE_STREAM;
	h->op = op;
	h->buf_alloc = VSOCK_BUF_ALLOC;
}

/* Writes h (and already-placed payload of len bytes) as one RX packet. */
static void rx_put(struct virtio_vsock *v, struct vsock_hdr *h)
{
	struct virtq_chain *ch = &v->chain;

	vsock_chain_copy(ch, true, 0, h, VSOCK_HDR_LEN);
	v->st.rx_packets++;
	if (h->op == VSOCK_OP_RST)
		v->st.rst_sent++;
	virtio_dev_push(&v->vd, VSOCK_RXQ, ch->gen, ch->head, VSOCK_HDR_LEN + h->len);
}

/* The next control op c owes, lowest bit first (a RESPONSE before any
 * credit news); its bit is cleared. */
static uint16_t next_control(struct vsock_conn *c, uint32_t *flags)
{
	static const struct {
		uint32_t bit;
		uint16_t op;
	} order[] = {
		{PEND_REQUEST, VSOCK_OP_REQUEST},
		{PEND_RESPONSE, VSOCK_OP_RESPONSE},
		{PEND_CREDIT_UPDATE, VSOCK_OP_CREDIT_UPDATE},
		{PEND_CREDIT_REQUEST, VSOCK_OP_CREDIT_REQUEST},
		{PEND_SHUTDOWN, VSOCK_OP_SHUTDOWN},
	};

	*flags = 0;
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (!(c->pending & order[i].bit))
			continue;
		c->pending &= ~order[i].bit;
		if (order[i].op == VSOCK_OP_SHUTDOWN)
			*flags = VSOCK_SHUTDOWN_SEND | (c->host_hup ? VSOCK_SHUTDOWN_RCV : 0);
		return order[i].op;
	}
	return VSOCK_OP_INVALID;
}

/* Reads host data straight into the RX chain after the header. 1: a
 * packet was pushed; 0: the chain was not used. */
static int rx_data(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;
	struct virtq_chain *ch = &v->chain;
	uint32_t credit = vsock_credit_free(c->peer_buf_alloc, c->tx_cnt, c->peer_fwd_cnt);
	struct iovec iov[64];
	struct vsock_hdr h;
	uint32_t room;
	ssize_t n;
	int nr;

	nr = vsock_chain_iov(ch, true, VSOCK_HDR_LEN, MIN(credit, VSOCK_MAX_PKT), iov,
		       (int)ARRAY_SIZE(iov), &room);
	/* room > 0: vsock_rx_process refused smaller buffers, credit > 0. */
	n = readv(c->fd, iov, nr);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		c->readable = false;
		vsock_conn_update_events(c);
		return 0;
	}
	if (n <= 0) {
		/* EOF, or the socket failed: the host sends no more. */
		c->host_eof = true;
		c->host_hup |= n < 0;
		c->pending |= PEND_SHUTDOWN;
		return 0;
	}
	fill_hdr(v, &h, c->local_port, c->peer_port, VSOCK_OP_RW);
	h.len = (uint32_t)n;
	c->tx_cnt += (uint32_t)n;
	v->st.rx_bytes += (uint64_t)n;
	h.fwd_cnt = c->fwd_cnt;
	c->last_fwd_sent = c->fwd_cnt;
	c->pending &= ~PEND_CREDIT_UPDATE; /* this packet carries it */
	rx_put(v, &h);
	return 1;
}

static void rx_control(struct vsock_conn *c, uint16_t op, uint32_t flags)
{
	struct vsock_hdr h;

	fill_hdr(c->v, &h, c->local_port, c->peer_port, op);
	h.flags = flags;
	h.fwd_cnt = c->fwd_cnt;
	c->last_fwd_sent = c->fwd_cnt;
	rx_put(c->v, &h);
}

static void rx_dequeue_head(struct virtio_vsock *v)
{
	struct vsock_conn *c = v->rx_head;

	v->rx_head = c->rnext;
	if (!v->rx_head)
		v->rx_tail = NULL;
	c->queued = false;
	c->rnext = NULL;
}

/* Host data waits, the guest has no room, and was not asked yet. */
static bool needs_credit(const struct vsock_conn *c)
{
	return c->state == CONN_EST && c->readable && !c->host_eof && !c->guest_no_rx &&
	       !c->credit_asked &&
	       vsock_credit_free(c->peer_buf_alloc, c->tx_cnt, c->peer_fwd_cnt) == 0;
}

/* One packet for the connection at the head of the list, into the chain
 * just popped. Returns whether the chain was used. */
static bool rx_one(struct virtio_vsock *v, struct vsock_conn *c)
{
	uint32_t flags;
	uint16_t op = next_control(c, &flags);
	bool used = false;

	if (op != VSOCK_OP_INVALID) {
		rx_control(c, op, flags);
		used = true;
	} else if (vsock_conn_wants_rx(c)) {
		used = rx_data(c) == 1;
	} else if (needs_credit(c)) {
		/* Host data but no credit: ask once; the guest's answer
		 * queues the connection again. */
		c->credit_asked = true;
		rx_control(c, VSOCK_OP_CREDIT_REQUEST, 0);
		used = true;
	}
	rx_dequeue_head(v);
	/* Round robin: what it still owes goes to the back. */
	if (c->pending || vsock_conn_wants_rx(c) || needs_credit(c))
		vsock_conn_queue(c, 0);
	return used;
}

static bool rx_has_work(const struct virtio_vsock *v)
{
	return v->nr_rsts || v->rx_head;
}

void vsock_rx_process(struct virtio_vsock *v)
{
	struct virtq_chain *ch = &v->chain;
	int r;

	/* Host events start work of their own: a fresh budget. */
	virtio_dev_begin(&v->vd, VSOCK_RXQ);
	v->rx_starved = false;
	while (rx_has_work(v)) {
		r = virtio_dev_pop(&v->vd, VSOCK_RXQ, ch);
		if (r == 0) {
			v->rx_starved = true;
			v->st.rx_starved++;
		}
		if (r <= 0)
			break;
		/* GUEST: a buffer with no room past a header can carry
		 * nothing useful (and data never): returned unused, counted. */
		if (ch->in_len <= VSOCK_HDR_LEN) {
			v->st.bad_rx_buffers++;
			log_guest(v->vd.name, "RX buffer of %u bytes: too small", ch->in_len);
			virtio_dev_push(&v->vd, VSOCK_RXQ, ch->gen, ch->head, 0);
			continue;
		}
		if (v->nr_rsts) {
			struct vsock_rst *rs = &v->rsts[v->rst_head];
			struct vsock_hdr h;

			fill_hdr(v, &h, rs->local_port, rs->peer_port, VSOCK_OP_RST);
			v->rst_head = (v->rst_head + 1) % VSOCK_RST_QUEUE;
			v->nr_rsts--;
			rx_put(v, &h);
		} else if (!rx_one(v, v->rx_head)) {
			virtio_dev_unpop(&v->vd, VSOCK_RXQ, ch->gen);
		}
	}
	virtio_dev_notify(&v->vd, VSOCK_RXQ);
}

/* --- event queue --- */

void vsock_event_process(struct virtio_vsock *v)
{
	struct virtq_chain *ch = &v->chain;
	uint32_t id = VSOCK_EVENT_TRANSPORT_RESET;

	if (!v->event_pending || virtio_dev_pop(&v->vd, VSOCK_EVQ, ch) <= 0)
		return;
	/* GUEST: a buffer too small for the event gets nothing written. */
	if (ch->in_len >= sizeof(id)) {
		vsock_chain_copy(ch, true, 0, &id, sizeof(id));
		v->event_pending = false;
		v->st.events_sent++;
	}
	virtio_dev_push(&v->vd, VSOCK_EVQ, ch->gen, ch->head, v->event_pending ? 0 : 4);
	virtio_dev_notify(&v->vd, VSOCK_EVQ);
}

