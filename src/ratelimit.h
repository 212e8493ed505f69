/* Token-bucket rate limiter, Firecracker's model: a bytes bucket and an
 * operations bucket, each with a size (tokens it holds), a one-time burst
 * (extra tokens spent first, never refilled) and a refill time (ms to go
 * from empty to full). A bucket with size 0 or refill time 0 is disabled
 * (no limit), as in Firecracker. Pure state and arithmetic on a clock the
 * caller passes in (ns, monotonic): a device calls rate_limiter_consume
 * before taking work and, when it is refused, arms a timer for
 * rate_limiter_wait_ns. Not thread-safe: the caller's lock protects it. */
#ifndef KITE_RATELIMIT_H
#define KITE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "state.h"

/* A refill time above a day is a configuration mistake (a limit of a few
 * bytes a day), and keeps refill_time_ms * 1e6 far inside 64 bits. */
#define RATE_LIMIT_MAX_REFILL_MS (24ull * 3600 * 1000)

struct token_bucket_config {
	uint64_t size;		 /* tokens (bytes or operations); 0: disabled */
	uint64_t one_time_burst; /* extra tokens at start, spent first */
	uint64_t refill_time_ms; /* empty to full; 0: disabled */
};

struct rate_limiter_config {
	struct token_bucket_config bandwidth; /* bytes */
	struct token_bucket_config ops;	      /* operations */
};

struct token_bucket {
	uint64_t size, one_time_burst, refill_time_ms; /* as configured */
	uint64_t budget;			       /* refilling tokens, <= size */
	uint64_t burst_left;			       /* one-time burst not yet spent */
	uint64_t frac;	  /* part-token, in units of 1/(refill_time ns) */
	uint64_t last_ns; /* time up to which budget and frac are refilled */
};

struct rate_limiter {
	struct token_bucket bytes, ops;
	uint64_t throttled; /* consumes refused */
};

/* Validates cfg (-EINVAL: refill_time_ms above RATE_LIMIT_MAX_REFILL_MS)
 * and starts both buckets full, with their one-time bursts. */
int rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
		      uint64_t now_ns) MUST_CHECK;
/* True when either bucket limits anything. */
bool rate_limiter_enabled(const struct rate_limiter *rl);
/* Takes `bytes` and `ops` tokens, from both buckets or neither; false (and
 * a throttled count) when either has too few. A request larger than a
 * bucket's size passes when that bucket is full, and empties it: it could
 * never pass otherwise. Such requests therefore go through at one per
 * refill time, above the configured rate if they are much larger. */
bool rate_limiter_consume(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns);
/* Nanoseconds until the same consume would succeed; 0 when it would now.
 * For a timerfd that brings a blocked device back. */
uint64_t rate_limiter_wait_ns(const struct rate_limiter *rl, uint64_t bytes, uint64_t ops,
			      uint64_t now_ns);
/* New limits at run time (same validation as init; rl unchanged on
 * error). Tokens accrued so far stay, clamped to the new size; a bucket
 * that was disabled starts full; the one-time burst restarts only when
 * its configured value changed. */
int rate_limiter_update(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
			uint64_t now_ns) MUST_CHECK;

/* The limiter's state, versioned, inside a device's section. Time spent
 * saved does not refill the buckets: restore counts from now_ns. */
void rate_limiter_save(const struct rate_limiter *rl, struct state_buf *b);
/* Reads what rate_limiter_save wrote, checking every field against the
 * others (budget <= size, a disabled bucket holds nothing, ...). On error
 * (-EINVAL, message in r) rl is unchanged. */
int rate_limiter_restore(struct rate_limiter *rl, struct state_reader *r,
			 uint64_t now_ns) MUST_CHECK;

#endif
