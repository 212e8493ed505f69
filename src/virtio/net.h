/* virtio-net (VIRTIO 1.2 section 5.1) over a tap: one receive and one
 * transmit queue, guest buffers handed to readv/writev directly, mergeable
 * receive buffers, checksum and TSO offloads passed through the tap's vnet
 * header, and a token-bucket rate limit each way. */
#ifndef KITE_VIRTIO_NET_H
#define KITE_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "evloop.h"
#include "guest_mem.h"
#include "virtio/core.h"

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

struct virtio_net_opts {
	int fd; /* the tap (tests: a datagram socket); the device owns it */
	/* TUNSETOFFLOAD (backends/tap.c: tap_set_offload); tests record it. */
	int (*set_offload)(int fd, unsigned offloads);
	const uint8_t *mac;	 /* NULL: VIRTIO_NET_F_MAC not offered */
	uint32_t mtu;		 /* 0: VIRTIO_NET_F_MTU not offered, 1500 assumed */
	uint64_t rx_bps, tx_bps; /* frame bytes per second, 0 = no limit */
	uint64_t (*now)(void);	 /* NULL: clock_mono_ns (tests pass a fake) */
};

struct virtio_net;

/* loop may be NULL (unit tests): the tap is then never watched and
 * limits need no timer (tests fire it by hand). On error the fd is closed. */
int virtio_net_new(struct virtio_net **out, const struct guest_mem *gm, struct evloop *loop,
		   const struct virtio_net_opts *o, const char *name) MUST_CHECK;
struct virtio_dev *virtio_net_vdev(struct virtio_net *n);
struct device *virtio_net_device(struct virtio_net *n);
void virtio_net_free(struct virtio_net *n);

/* What the event loop does when the tap is readable or a refill timer
 * fires; tests without a loop call them by hand. */
void virtio_net_tap_ready(struct virtio_net *n);
void virtio_net_limit_fire(struct virtio_net *n, uint32_t qidx);
/* The offloads (TAP_OFF_*) last given to the tap; whether it is watched. */
unsigned virtio_net_offloads(struct virtio_net *n);
bool virtio_net_watching(struct virtio_net *n);

/* Header checks (net_hdr.c), pure. tx: 0, or -EINVAL for a frame to drop
 * (frame_len excludes the header). rx: 0 (h possibly rewritten: flags the
 * driver did not negotiate cleared), or -EINVAL for a frame the driver
 * cannot take (GSO or partial checksum it did not accept). */
int virtio_net_hdr_tx_check(const struct virtio_net_hdr *h, uint32_t frame_len, uint64_t features,
			    uint32_t mtu) MUST_CHECK;
int virtio_net_hdr_rx_fix(struct virtio_net_hdr *h, uint64_t features) MUST_CHECK;

#endif
