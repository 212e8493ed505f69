/* virtio-net as VIRTIO 1.2 section 5.1 lays it out: the device id, feature
 * bits, queues and the vnet header that leads every frame, with the pure
 * checks of that header (net_hdr.c) that receive and transmit apply. */
#ifndef KITE_VIRTIO_NET_HDR_H
#define KITE_VIRTIO_NET_HDR_H

#include <stdint.h>

#include "compiler.h"

#define VIRTIO_ID_NET 1

/* Device feature bits (5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16

#define VIRTIO_NET_S_LINK_UP 1u

#define VIRTIO_NET_RXQ 0u
#define VIRTIO_NET_TXQ 1u

/* struct virtio_net_hdr as virtio 1 lays it out (12 bytes, num_buffers
 * always present), little-endian. */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1u
#define VIRTIO_NET_HDR_F_DATA_VALID 2u
#define VIRTIO_NET_HDR_GSO_NONE 0u
#define VIRTIO_NET_HDR_GSO_TCPV4 1u
#define VIRTIO_NET_HDR_GSO_UDP 3u
#define VIRTIO_NET_HDR_GSO_TCPV6 4u
#define VIRTIO_NET_HDR_GSO_ECN 0x80u

struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

#define VIRTIO_NET_HDR_LEN 12u
/* Largest frame without the vnet header: a 64 KiB TSO packet plus an
 * Ethernet header and a VLAN tag. */
#define VIRTIO_NET_MAX_FRAME (65536u + 18u)
/* Ethernet header plus a VLAN tag: a frame's size beyond its MTU. */
#define VIRTIO_NET_L2_OVERHEAD 18u

/* Header checks (net_hdr.c), pure. tx: 0, or -EINVAL for a frame to drop
 * (frame_len excludes the header). rx: 0 (h possibly rewritten: flags the
 * driver did not negotiate cleared), or -EINVAL for a frame the driver
 * cannot take (GSO or partial checksum it did not accept). */
int virtio_net_hdr_tx_check(const struct virtio_net_hdr *h, uint32_t frame_len, uint64_t features,
			    uint32_t mtu) MUST_CHECK;
int virtio_net_hdr_rx_fix(struct virtio_net_hdr *h, uint64_t features) MUST_CHECK;

#endif
