/* The vnet header's rules: what a driver may send (the offloads it was
 * offered and accepted, a checksum inside the frame, a frame no longer than
 * the MTU allows without TSO), and what it may receive (frames the tap
 * queued before TUNSETOFFLOAD took effect can still carry GSO or a partial
 * checksum the driver no longer accepts after a reset). Pure functions:
 * both directions are fuzzed (fuzz_net.c). */
#include <errno.h>
#include <stdbool.h>

#include "virtio/net_hdr.h"
#include "virtio/virtio.h"

static bool has(uint64_t f, int bit)
{
	return (f & VIRTIO_BIT(bit)) != 0;
}

/* GSO types kite offers each way; UDP (UFO) and ECN are not offered. */
static bool gso_ok(uint8_t gso, uint64_t f, int tso4, int tso6)
{
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has(f, tso4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has(f, tso6);
	default:
		return false;
	}
}

int virtio_net_hdr_tx_check(const struct virtio_net_hdr *h, uint32_t frame_len, uint64_t features,
			    uint32_t mtu)
{
	bool tso = has(features, VIRTIO_NET_F_HOST_TSO4) || has(features, VIRTIO_NET_F_HOST_TSO6);
	uint32_t max = tso ? VIRTIO_NET_MAX_FRAME : mtu + VIRTIO_NET_L2_OVERHEAD;

	/* GUEST: frame length between an Ethernet header and the largest
	 * frame the negotiated features allow. */
	if (frame_len < 14 || frame_len > max)
		return -EINVAL;
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return -EINVAL;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		/* GUEST: the checksum field lies inside the frame. */
		if (!has(features, VIRTIO_NET_F_CSUM) ||
		    (uint32_t)h->csum_start + h->csum_offset + 2u > frame_len)
			return -EINVAL;
	}
	if (!gso_ok(h->gso_type, features, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6))
		return -EINVAL;
	/* TSO needs the checksum offload and a segment size. */
	if (h->gso_type != VIRTIO_NET_HDR_GSO_NONE &&
	    (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || !h->gso_size))
		return -EINVAL;
	return 0;
}

int virtio_net_hdr_rx_fix(struct virtio_net_hdr *h, uint64_t features)
{
	if (!gso_ok(h->gso_type, features, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6))
		return -EINVAL;
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return has(features, VIRTIO_NET_F_GUEST_CSUM) ? 0 : -EINVAL;
	/* DATA_VALID is only a hint; without GUEST_CSUM the flags must be 0. */
	if (!has(features, VIRTIO_NET_F_GUEST_CSUM))
		h->flags = 0;
	h->flags &= VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID;
	return 0;
}
