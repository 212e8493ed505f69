/* virtio-blk (VIRTIO 1.2 section 5.2) over a raw image: request parsing with
 * every bound checked before any I/O, asynchronous completion through the
 * disk backend. One instance per disk. */
#ifndef KITE_VIRTIO_BLK_H
#define KITE_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/disk_image.h"
#include "compiler.h"
#include "ratelimit.h"
#include "evloop.h"
#include "guest_mem.h"
#include "device.h"
#include "virtio/core.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_SECTOR 512u
#define VIRTIO_BLK_CONFIG_SIZE 60u
/* Data buffers per request: 254 with the header and status fill a queue of
 * 256, and a 1 MiB request of 4 KiB pages is one request. */
#define VIRTIO_BLK_SEG_MAX 254u
#define VIRTIO_BLK_QUEUE_MAX 256u
#define VIRTIO_BLK_MAX_DISCARD_SECTORS 0x400000u /* 2 GiB per request */

struct virtio_blk_opts {
	const char *path;
	/* The image opened once by main (a machine restart reuses it and
	 * opens no path); NULL: open `path` here. */
	const struct disk_image *image;
	bool read_only;
	const char *serial;   /* GET_ID string, at most 20 bytes used; may be NULL */
	unsigned disk_flags;  /* DISK_RAW_* (tests force the thread pool) */
	/* Device-side polling: after a kick, how long the event loop keeps
	 * taking requests and completions without new ones before it asks the
	 * driver for kicks again. 0: never poll. */
	uint64_t poll_ns;
	/* Rate limit (blk_limit.c), 0: none. bps: bytes per second of read
	 * and write data; iops: requests per second, every request counting
	 * one whatever its type or size; burst: extra bytes the bytes bucket
	 * gives once at start, spent first and never refilled (needs bps).
	 * Each bucket holds one second's worth and refills in 1000 ms. */
	uint64_t bps, iops, burst;
	/* Firecracker's rate_limiter (the API's drives): when it limits
	 * anything, it is used instead of bps/iops/burst. */
	const struct rate_limiter_config *rl;
	/* The limiter's clock (monotonic ns); NULL: clock_mono_ns. Tests
	 * drive a fake one. */
	uint64_t (*now)(void);
};

struct virtio_blk;

/* Opens the image (errors are logged with the path) and builds the device.
 * `loop` receives the disk's completion eventfd; it may be NULL in tests and
 * fuzzers that call virtio_blk_drain. name: the device's name in the VM
 * (log prefix, metrics key), e.g. blk0. */
int virtio_blk_new(struct virtio_blk **out, const struct guest_mem *gm, struct evloop *loop,
		   const struct virtio_blk_opts *opts, const char *name) MUST_CHECK;
/* The virtio core of the device (transport opaque, eventfds, irq line). */
struct virtio_dev *virtio_blk_vdev(struct virtio_blk *b);
/* The device in the registry (its destroy op frees it: virtio_blk_free). */
struct device *virtio_blk_device(struct virtio_blk *b);
uint64_t virtio_blk_capacity(const struct virtio_blk *b); /* in 512-byte sectors */
/* Requests handed to the backend and not completed yet (tests). */
uint32_t virtio_blk_inflight(struct virtio_blk *b);
/* The rate limiter's refill timer, for tests and fuzzers without an event
 * loop: the wait it was last armed for (ns), 0 when not armed; and what it
 * does when it fires (the parked request and the rest of the queue go on
 * if the clock says so, else it is armed again). */
uint64_t virtio_blk_limit_wait_ns(struct virtio_blk *b);
void virtio_blk_limit_fire(struct virtio_blk *b);
/* The blk device behind a registry entry, or NULL if d is another kind. */
struct virtio_blk *virtio_blk_from_device(struct device *d);
/* PATCH /drives: puts a new image behind the running device. Event-loop
 * thread (or the only thread), vCPUs may be running. Builds the backend
 * first, so that on any error (-EINVAL: read-only mismatch; the backend's
 * errors) the old disk stays and err says why. Then pauses the device
 * (unless the whole VM is paused already), which completes what is in
 * flight and gives a rate-limited request back to the ring, swaps the
 * backend, the capacity and the config space, and resumes: the guest gets
 * a configuration-change interrupt (at resume when the VM is paused) with
 * a new ConfigGeneration. The old backend is closed; img must outlive the
 * device (the caller closes the image it replaced). */
int virtio_blk_swap_disk(struct virtio_blk *b, const struct disk_image *img, char *err,
			 size_t errlen) MUST_CHECK;
/* New rate limits at run time (rate_limiter_update: tokens accrued stay,
 * clamped). A request parked by the old limits is looked at again at once.
 * -EINVAL for limits rate_limiter_init refuses, or a timerfd error; the old
 * limits stay on error. Event-loop thread (or the only thread). */
int virtio_blk_set_rate_limiter(struct virtio_blk *b,
				const struct rate_limiter_config *rl) MUST_CHECK;
/* Completes every request in flight (tests, fuzzers, shutdown). */
void virtio_blk_drain(struct virtio_blk *b);
/* Closes the image without waiting for the guest's I/O (what is in flight
 * is cancelled or completes writing nothing), frees the device. */
void virtio_blk_free(struct virtio_blk *b);

#endif
