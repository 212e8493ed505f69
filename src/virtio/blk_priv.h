/* virtio-blk internals shared by blk.c (the device: queues, completions,
 * state), blk_req.c (the request parser) and blk_limit.c (the rate limit). */
#ifndef KITE_VIRTIO_BLK_PRIV_H
#define KITE_VIRTIO_BLK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/disk_raw.h"
#include "ratelimit.h"
#include "virtio/blk.h"

struct virtio_blk {
	struct virtio_dev vd;
	struct disk_raw *disk;
	bool ro;
	unsigned disk_flags; /* DISK_RAW_*, for a swapped-in image too */
	/* A swap happened while the device was paused: the config interrupt
	 * goes out at resume (a quiesced device raises none). Core lock. */
	bool config_pending;
	uint64_t capacity; /* sectors */
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
	struct virtq_chain chain;
	uint64_t poll_ns;
	/* Requests handed to the backend and not completed (core lock).
	 * A driver can re-offer buffers without waiting for them, so this is
	 * capped at the queue size: each costs host memory and I/O. */
	uint32_t inflight;
	bool throttled; /* stopped popping at the cap; blk_done resumes */
	/* Rate limit (blk_limit.c; core lock). A request the limiter refuses
	 * is parked: popped (in flight for the core) but not started; the
	 * device takes nothing else until it went, so order is kept. */
	struct rate_limiter_config rl_cfg;
	struct rate_limiter rl;
	uint64_t (*now)(void);
	struct evloop *loop;
	int timer_fd; /* -1 without a limit or without a loop (tests) */
	bool timer_armed;
	uint64_t timer_ns; /* the wait last armed */
	struct blk_req *parked;
	/* Counters (core lock). */
	uint64_t reads, writes, bytes_read, bytes_written, errors, dsync;
	uint64_t limited; /* requests that had to wait for tokens */
};

struct blk_req {
	struct disk_req d;
	struct virtio_blk *b;
	uint32_t qidx, gen;
	uint16_t head;
	uint8_t *status;
	uint32_t used_len;
	uint8_t st; /* blk_parse's verdict, kept while parked */
	struct iovec iov[]; /* one per chain buffer */
};

/* Parses one chain (r->iov holds its buffers, the status byte trimmed off;
 * nout device-readable ones first). Returns a status to complete with now,
 * or BLK_SUBMIT when r->d is ready for the backend. */
#define BLK_SUBMIT 0xffu
uint8_t blk_parse(struct virtio_blk *b, struct blk_req *r, const struct virtq_chain *c, int nout,
		  int nin);

/* blk_limit.c. init: the limiter from opts and, with a limit, its timer on
 * `loop` (none when loop is NULL). -EINVAL for burst without bps. */
int blk_limit_init(struct virtio_blk *b, const struct virtio_blk_opts *o,
		   struct evloop *loop) MUST_CHECK;
void blk_limit_free(struct virtio_blk *b);
/* Whether r (parsed, r->st set) may start now; false: it is parked and the
 * timer armed. */
bool blk_limit_admit(struct virtio_blk *b, struct blk_req *r);
/* The parked request when it may start now (no longer parked), else NULL:
 * still waiting, or dropped because its queue was reset (then
 * b->parked is NULL too). */
struct blk_req *blk_limit_unpark(struct virtio_blk *b);
/* Pause: stops the timer and gives a parked request back to the ring. */
void blk_limit_pause(struct virtio_blk *b);
void blk_limit_reset(struct virtio_blk *b);
/* The limiter in the device's section; load checks that its buckets are
 * the ones this device was configured with. */
void blk_limit_save(struct virtio_blk *b, struct state_buf *out);
void blk_limit_load(struct virtio_blk *b, struct state_reader *in, struct rate_limiter *out);
void blk_limit_apply(struct virtio_blk *b, const struct rate_limiter *rl);

#endif
