/* virtio-rng (entropy device, VIRTIO 1.2 section 5.4): fills the guest's
 * device-writable buffers from getrandom(), optionally rate-limited by a
 * token bucket (ratelimit.h) whose refill is waited for with a timerfd on
 * the event loop. */
#ifndef KITE_VIRTIO_RNG_H
#define KITE_VIRTIO_RNG_H

#include <stdint.h>

#include "compiler.h"
#include "evloop.h"
#include "guest_mem.h"
#include "device.h"
#include "ratelimit.h"
#include "virtio/core.h"

/* Largest number of bytes given for one request, limit or not: bounds the
 * time one guest buffer (up to 4 GiB) can hold the event loop. */
#define VIRTIO_RNG_MAX_REQ 65536u

struct virtio_rng;

/* bytes_per_sec 0 means unlimited (loop may then be NULL); otherwise the
 * bucket holds at most one second's worth (at least 64 bytes) and `loop`
 * gets the refill timer. gm must outlive the device. */
/* name: the device's name in the VM (log prefix, metrics key), e.g. rng0. */
int virtio_rng_new(struct virtio_rng **out, const struct guest_mem *gm, struct evloop *loop,
		   uint64_t bytes_per_sec, const char *name) MUST_CHECK;
/* The same with Firecracker's limiter (PUT /entropy's rate_limiter): a
 * bytes bucket (bytes given) and an ops bucket (one per request), either
 * may be off. -EINVAL for limits rate_limiter_init refuses, or for a limit
 * without a loop. */
int virtio_rng_new_limited(struct virtio_rng **out, const struct guest_mem *gm,
			   struct evloop *loop, const struct rate_limiter_config *rl,
			   const char *name) MUST_CHECK;
/* The virtio core of the device: the opaque of a transport's bus ops
 * (virtio_mmio_ops), where eventfds and the irq line are wired. */
struct virtio_dev *virtio_rng_vdev(struct virtio_rng *r);
/* The device in the registry (its destroy op frees it: virtio_rng_free). */
struct device *virtio_rng_device(struct virtio_rng *r);
void virtio_rng_free(struct virtio_rng *r);
/* The rng device behind a registry entry, or NULL if d is not one. */
struct virtio_rng *virtio_rng_from_device(struct device *d);
/* A new limiter for the running device (kite's PATCH /entropy), with
 * rate_limiter_update's semantics; a --rng rate is replaced by it. On
 * error (-EINVAL: refused limits, a limit without a loop; timerfd
 * errors) nothing changed. Call on the event loop's thread. */
int virtio_rng_set_rate_limiter(struct virtio_rng *r,
				const struct rate_limiter_config *rl) MUST_CHECK;
/* The limiter configuration in use (tests). */
void virtio_rng_rate_limiter(struct virtio_rng *r, struct rate_limiter_config *rl);

#endif
