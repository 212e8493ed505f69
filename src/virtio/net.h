/* virtio-net (VIRTIO 1.2 section 5.1) over a tap: one receive and one
 * transmit queue, guest buffers handed to readv/writev directly, mergeable
 * receive buffers, checksum and TSO offloads passed through the tap's vnet
 * header, and a token-bucket rate limiter each way (bytes and frames),
 * changeable while the device runs. */
#ifndef KITE_VIRTIO_NET_H
#define KITE_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "evloop.h"
#include "guest_mem.h"
#include "ratelimit.h"
#include "virtio/core.h"
#include "virtio/net_hdr.h"

struct virtio_net_opts {
	int fd; /* the tap (tests: a datagram socket); the device owns it */
	/* TUNSETOFFLOAD (backends/tap.c: tap_set_offload); tests record it. */
	int (*set_offload)(int fd, unsigned offloads);
	const uint8_t *mac;	 /* NULL: VIRTIO_NET_F_MAC not offered */
	uint32_t mtu;		 /* 0: VIRTIO_NET_F_MTU not offered, 1500 assumed */
	uint64_t rx_bps, tx_bps; /* frame bytes per second, 0 = no limit */
	/* The full limiters (bytes and frames buckets), used instead of
	 * rx_bps/tx_bps when given and limiting anything. */
	const struct rate_limiter_config *rx_rl, *tx_rl;
	uint64_t (*now)(void); /* NULL: clock_mono_ns (tests pass a fake) */
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
/* The net device behind a registry entry, or NULL if d is not one. */
struct virtio_net *virtio_net_from_device(struct device *d);
/* New limiters for a running device (PATCH /network-interfaces/{id}),
 * rate_limiter_update's semantics each way; NULL keeps that way's. Both
 * are checked before either changes: on error (-EINVAL: refused limits,
 * a limit without an event loop; timerfd errors) nothing changed. A
 * queue the old limit held back is looked at again at once. Call on the
 * event loop's thread. */
int virtio_net_set_rate_limiter(struct virtio_net *n, const struct rate_limiter_config *rx,
				const struct rate_limiter_config *tx) MUST_CHECK;
/* The limiter configuration in use each way (tests, GET). */
void virtio_net_rate_limiter(struct virtio_net *n, struct rate_limiter_config *rx,
			     struct rate_limiter_config *tx);

#endif
