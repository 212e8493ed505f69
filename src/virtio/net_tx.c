/* virtio-net transmit: each chain's readable buffers, vnet header first,
 * go to the tap in one writev. A frame the negotiated features do not allow
 * (too long, too short, an offload not accepted, a checksum outside the
 * frame) or a chain with writable buffers is dropped and counted; a failed
 * write is counted too. Either way the chain goes back to the driver and
 * the device carries on: nothing the guest sends can stop it. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log.h"
#include "virtio/net_priv.h"

#define TXQ VIRTIO_NET_TXQ

/* The header, wherever the driver split it across buffers. */
static void read_header(const struct virtq_chain *c, struct virtio_net_hdr *h)
{
	uint8_t *p = (uint8_t *)h;
	uint32_t left = sizeof(*h);

	/* GUEST: out_len >= sizeof(*h) checked by the caller; buffers
	 * bounds-checked by virtq_pop. */
	for (uint32_t i = 0; i < c->nr_out && left; i++) {
		uint32_t take = MIN(left, c->buf[i].len);

		if (take)
			memcpy(p, c->buf[i].host, take);
		p += take;
		left -= take;
	}
}

/* Frame length without the header, or -EINVAL for a chain to drop. *h gets
 * the header as checked: that copy, not the guest's bytes (which another
 * vCPU may change meanwhile), is what goes to the tap. */
static int64_t check(struct virtio_net *n, const struct virtq_chain *c, struct virtio_net_hdr *h)
{
	uint32_t len;

	if (c->nr != c->nr_out || c->out_len < VIRTIO_NET_HDR_LEN)
		return -EINVAL;
	read_header(c, h);
	len = c->out_len - VIRTIO_NET_HDR_LEN;
	if (virtio_net_hdr_tx_check(h, len, n->vd.negotiated, n->frame_mtu) < 0)
		return -EINVAL;
	return len;
}

/* The checked header, then the frame: the guest's buffers past their first
 * VIRTIO_NET_HDR_LEN bytes. False when that needs more than IOV_MAX
 * pieces (the header copy adds one), a frame to drop. */
static bool build_iov(struct virtio_net *n, const struct virtq_chain *c, struct virtio_net_hdr *h,
		      int *nr)
{
	uint32_t skip = VIRTIO_NET_HDR_LEN;
	int k = 0;

	n->txiov[k].iov_base = h;
	n->txiov[k++].iov_len = VIRTIO_NET_HDR_LEN;
	/* GUEST: buffers bounds-checked by virtq_pop; skip <= out_len
	 * (check). */
	for (uint32_t i = 0; i < c->nr_out; i++) {
		uint32_t cut = MIN(skip, c->buf[i].len);

		skip -= cut;
		if (c->buf[i].len == cut)
			continue;
		if (k == IOV_MAX)
			return false;
		n->txiov[k].iov_base = c->buf[i].host + cut;
		n->txiov[k++].iov_len = c->buf[i].len - cut;
	}
	*nr = k;
	return true;
}

static void send(struct virtio_net *n, const struct virtq_chain *c, struct virtio_net_hdr *h,
		 uint32_t len)
{
	int k;

	if (!build_iov(n, c, h, &k)) {
		n->st.tx_dropped++;
		log_guest(n->vd.name, "tx: dropped a frame in more than %d pieces", IOV_MAX - 1);
		return;
	}
	if (writev(n->fd, n->txiov, k) < 0) {
		/* A full tap queue (EAGAIN), a link down (EIO), a frame the
		 * kernel refused (EINVAL): the frame is lost, as on a wire. */
		n->st.tx_errors++;
		log_guest(n->vd.name, "tap write of %u bytes: %s", len, strerror(errno));
		return;
	}
	n->st.tx_packets++;
	n->st.tx_bytes += len;
}

int net_tx_pass(struct virtio_net *n)
{
	struct virtq_chain *c = &n->chain;

	while (virtio_dev_pop(&n->vd, TXQ, c) > 0) {
		struct virtio_net_hdr h;
		int64_t len = check(n, c, &h);

		if (len < 0) {
			n->st.tx_dropped++;
			log_guest(n->vd.name,
				  "tx: dropped a malformed or oversized frame "
				  "(%u bytes)",
				  c->out_len);
		} else if (!net_limit_take(n, TXQ, (uint64_t)len, false)) {
			/* The last chain popped: back to the ring until the
			 * refill timer brings the queue back. */
			virtio_dev_unpop(&n->vd, TXQ, c->gen);
			break;
		} else {
			send(n, c, &h, (uint32_t)len);
		}
		virtio_dev_push(&n->vd, TXQ, c->gen, c->head, 0);
	}
	/* One interrupt for the whole pass. */
	virtio_dev_notify(&n->vd, TXQ);
	return 0;
}
