/* virtio-net receive: frames from the tap straight into the guest's
 * buffers. A frame is read only once the popped chains can hold the largest
 * frame the negotiated features allow (one chain without MRG_RXBUF, as many
 * as it takes with it), so that nothing is ever truncated or copied. When
 * the guest has posted too little, the tap is taken out of the loop's set
 * and the guest's next RX kick brings it back: a starved queue costs no CPU
 * however fast the host sends. Chains popped and not used by the end of a
 * pass go back to the ring (virtio_dev_unpop, last popped first), so none
 * is in flight between passes and a reset or pause never waits for RX. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "virtio/net_priv.h"

#define RXQ VIRTIO_NET_RXQ

bool net_rx_live(const struct virtio_net *n)
{
	const struct virtio_dev *vd = &n->vd;
	const struct virtio_queue *q = &vd->queues[RXQ];

	return (vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_FAILED) &&
	       q->vq.ready && !q->vq.broken && !q->disabling && !vd->reset_pending && !vd->paused &&
	       !vd->dead;
}

void net_rx_watch(struct virtio_net *n, bool on)
{
	int err;

	if (n->watching == on || !n->loop)
		return;
	err = ev_mod(n->loop, n->fd, on ? EPOLLIN : 0);
	if (err < 0)
		log_err(n->vd.name, "tap watch: %s", strerror(-err));
	else
		n->watching = on;
}

/* Frame size the guest's buffers must hold, vnet header included. */
static uint32_t rx_need(const struct virtio_net *n)
{
	bool gso = n->vd.negotiated &
		   (VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6));

	return VIRTIO_NET_HDR_LEN +
	       (gso ? VIRTIO_NET_MAX_FRAME : n->frame_mtu + VIRTIO_NET_L2_OVERHEAD);
}

/* A chain the device cannot use: readable buffers, no room, or (without
 * MRG_RXBUF) too little room for a whole frame. */
static bool chain_bad(const struct virtio_net *n, const struct virtq_chain *c, uint32_t need)
{
	return c->nr_out || !c->in_len ||
	       (!(n->vd.negotiated & VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF)) && c->in_len < need);
}

static void hold(struct virtio_net *n, const struct virtq_chain *c)
{
	struct net_held *h = &n->held[n->nheld++];

	h->head = c->head;
	h->gen = c->gen;
	h->len = c->in_len;
	h->iov0 = n->niov;
	/* GUEST: each buffer bounds-checked by virtq_pop; nr_in fits (checked
	 * by the caller against NET_RX_IOV_MAX). */
	for (uint32_t i = c->nr_out; i < c->nr; i++) {
		if (!c->buf[i].len)
			continue;
		n->iov[n->niov].iov_base = c->buf[i].host;
		n->iov[n->niov++].iov_len = c->buf[i].len;
	}
	h->niov = n->niov - h->iov0;
	n->held_len += c->in_len;
}

/* Pops chains until the held ones can take a whole frame. 1: they can;
 * 0: the guest posted too little; VIRTIO_POP_BUDGET or a guest error. */
static int gather(struct virtio_net *n, uint32_t need)
{
	struct virtq_chain *c = &n->chain;
	int r;

	while (n->held_len < need) {
		if (n->nheld == NET_QUEUE_MAX)
			return 0;
		r = virtio_dev_pop(&n->vd, RXQ, c);
		if (r <= 0)
			return r;
		if (chain_bad(n, c, need) || n->niov + (c->nr - c->nr_out) > NET_RX_IOV_MAX) {
			if (n->nheld) {
				/* Held chains must stay the last popped: this one
				 * waits until they are used (a broken driver stalls
				 * only its own receive). */
				virtio_dev_unpop(&n->vd, RXQ, c->gen);
				return 0;
			}
			log_guest(n->vd.name,
				  "rx: unusable buffer (%u bytes writable, %u readable "
				  "buffers; a frame needs %u)",
				  c->in_len, c->nr_out, need);
			n->st.rx_dropped++;
			virtio_dev_push(&n->vd, RXQ, c->gen, c->head, 0);
			continue;
		}
		hold(n, c);
	}
	return 1;
}

/* Writes n bytes at byte `off` of the iovecs (which are long enough). */
static void iov_write(const struct iovec *iov, const void *src, size_t off, size_t len)
{
	const uint8_t *p = src;

	for (; len; iov++) {
		size_t take;

		if (off >= iov->iov_len) {
			off -= iov->iov_len;
			continue;
		}
		take = MIN(len, iov->iov_len - off);
		memcpy((uint8_t *)iov->iov_base + off, p, take);
		p += take;
		len -= take;
		off = 0;
	}
}

static void iov_read(const struct iovec *iov, void *dst, size_t len)
{
	uint8_t *p = dst;

	for (; len; iov++) {
		size_t take = MIN(len, iov->iov_len);

		memcpy(p, iov->iov_base, take);
		p += take;
		len -= take;
	}
}

/* Returns the first k held chains, covering len bytes, to the driver. */
static void deliver(struct virtio_net *n, uint32_t len)
{
	uint32_t left = len, k = 0, iovs = 0;

	while (left) {
		struct net_held *h = &n->held[k++];
		uint32_t take = MIN(left, h->len);

		virtio_dev_push(&n->vd, RXQ, h->gen, h->head, take);
		left -= take;
		iovs += h->niov;
		n->held_len -= h->len;
	}
	n->nheld -= k;
	memmove(n->held, n->held + k, n->nheld * sizeof(n->held[0]));
	n->niov -= iovs;
	memmove(n->iov, n->iov + iovs, n->niov * sizeof(n->iov[0]));
	for (uint32_t i = 0; i < n->nheld; i++)
		n->held[i].iov0 -= iovs;
}

/* Checks the frame's vnet header and sets num_buffers; -EINVAL: drop. */
static int fix_header(struct virtio_net *n, uint32_t len)
{
	struct virtio_net_hdr h;
	uint32_t left = len, k = 0;

	iov_read(n->iov, &h, sizeof(h));
	if (virtio_net_hdr_rx_fix(&h, n->vd.negotiated) < 0)
		return -EINVAL;
	for (; left; k++)
		left -= MIN(left, n->held[k].len);
	/* The tap leaves num_buffers alone (its header is 10 bytes plus
	 * room): 1 without MRG_RXBUF, as the spec asks. */
	h.num_buffers = (uint16_t)k;
	iov_write(n->iov, &h, 0, sizeof(h));
	return 0;
}

/* For the no-buffer count only: a frame is waiting in the tap. */
static bool frame_waiting(const struct virtio_net *n)
{
	struct pollfd p = {.fd = n->fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* One frame. 1: received or dropped, go on; 0: stop the pass. */
static int rx_one(struct virtio_net *n)
{
	uint32_t need = rx_need(n);
	ssize_t got;
	int r;

	if (!net_limit_take(n, RXQ, need - VIRTIO_NET_HDR_LEN, true)) {
		/* The refill timer brings the queue back. */
		net_rx_watch(n, false);
		return 0;
	}
	r = gather(n, need);
	if (r != 1) {
		if (r == 0) {
			/* Too little posted: wait for the guest's kick. */
			if (frame_waiting(n))
				n->st.rx_no_buffer++;
			net_rx_watch(n, false);
		}
		return 0;
	}
	got = readv(n->fd, n->iov, (int)n->niov);
	if (got < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			net_rx_watch(n, true);
			return 0;
		}
		if (errno == EINTR)
			return 1;
		n->st.rx_errors++;
		log_guest(n->vd.name, "tap read: %s", strerror(errno));
		net_rx_watch(n, false);
		return 0;
	}
	/* A runt or a frame the driver did not negotiate: the buffers stay
	 * held for the next one. */
	if ((size_t)got < VIRTIO_NET_HDR_LEN + 14 || fix_header(n, (uint32_t)got) < 0) {
		n->st.rx_dropped++;
		return 1;
	}
	(void)net_limit_take(n, RXQ, (uint64_t)got - VIRTIO_NET_HDR_LEN, false);
	deliver(n, (uint32_t)got);
	n->st.rx_packets++;
	n->st.rx_bytes += (uint64_t)got - VIRTIO_NET_HDR_LEN;
	return 1;
}

/* Chains not used go back, last popped first. */
static void give_back(struct virtio_net *n)
{
	while (n->nheld) {
		struct net_held *h = &n->held[--n->nheld];

		virtio_dev_unpop(&n->vd, RXQ, h->gen);
	}
	n->niov = 0;
	n->held_len = 0;
}

int net_rx_pass(struct virtio_net *n)
{
	uint32_t frames = 0;

	while (frames < NET_RX_BATCH && rx_one(n))
		frames++;
	if (frames == NET_RX_BATCH)
		virtio_dev_kick_self(&n->vd, RXQ); /* more after other work */
	give_back(n);
	/* One interrupt for the whole pass. */
	virtio_dev_notify(&n->vd, RXQ);
	return 0;
}
