/* Token-bucket rate limiter (see ratelimit.h): refill arithmetic, the
 * all-or-nothing consume over two buckets, the wait until a consume would
 * pass, run-time updates, and save/restore of the state. */
#include "ratelimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_MS 1000000ull
#define RATE_LIMIT_STATE_VERSION 1u

typedef unsigned __int128 u128;

static bool bucket_on(const struct token_bucket *b)
{
	return b->size && b->refill_time_ms;
}

static uint64_t period_ns(const struct token_bucket *b)
{
	return b->refill_time_ms * NS_PER_MS; /* <= 8.64e13: no overflow */
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t s;

	return __builtin_add_overflow(a, b, &s) ? UINT64_MAX : s;
}

/* Budget grows by size tokens per period: frac counts size per elapsed
 * ns and turns into a token at each period_ns, so no fraction is lost
 * however often this runs. A whole period or more fills the bucket. */
static void refill(struct token_bucket *b, uint64_t now_ns)
{
	uint64_t dt, p = period_ns(b);
	u128 acc;

	if (now_ns <= b->last_ns) /* same instant, or a clock that went back */
		return;
	dt = now_ns - b->last_ns;
	b->last_ns = now_ns;
	if (!bucket_on(b) || b->budget == b->size) {
		b->frac = 0;
		return;
	}
	if (dt >= p) {
		b->budget = b->size;
		b->frac = 0;
		return;
	}
	/* dt < p <= 2^47 and size < 2^64: the product fits in 128 bits. */
	acc = (u128)dt * b->size + b->frac;
	if (acc / p >= b->size - b->budget) {
		b->budget = b->size;
		b->frac = 0;
	} else {
		b->budget += (uint64_t)(acc / p);
		b->frac = (uint64_t)(acc % p);
	}
}

static bool bucket_can(const struct token_bucket *b, uint64_t n)
{
	if (!bucket_on(b) || n <= sat_add(b->burst_left, b->budget))
		return true;
	return b->budget == b->size; /* oversized, bucket full: let it drain */
}

static void bucket_take(struct token_bucket *b, uint64_t n)
{
	uint64_t from_burst;

	if (!bucket_on(b))
		return;
	from_burst = MIN(n, b->burst_left);
	b->burst_left -= from_burst;
	n -= from_burst;
	b->budget = n >= b->budget ? 0 : b->budget - n;
}

/* ns until bucket_can(b, n) with b refilled to now. */
static uint64_t bucket_wait(const struct token_bucket *b, uint64_t n)
{
	uint64_t want, missing;
	u128 units, ns;

	if (bucket_can(b, n))
		return 0;
	want = MIN(n - b->burst_left, b->size); /* n > burst_left + budget here */
	missing = want - b->budget;
	/* Tokens arrive when frac reaches period_ns, gaining size per ns. */
	units = (u128)missing * period_ns(b) - b->frac;
	ns = (units + b->size - 1) / b->size;
	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

static int check_config(const struct rate_limiter_config *cfg)
{
	if (cfg->bandwidth.refill_time_ms > RATE_LIMIT_MAX_REFILL_MS ||
	    cfg->ops.refill_time_ms > RATE_LIMIT_MAX_REFILL_MS)
		return -EINVAL;
	return 0;
}

static void bucket_init(struct token_bucket *b, const struct token_bucket_config *c,
			uint64_t now_ns)
{
	memset(b, 0, sizeof(*b));
	b->size = c->size;
	b->one_time_burst = c->one_time_burst;
	b->refill_time_ms = c->refill_time_ms;
	b->last_ns = now_ns;
	if (bucket_on(b)) {
		b->budget = b->size;
		b->burst_left = b->one_time_burst;
	}
}

int rate_limiter_init(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
		      uint64_t now_ns)
{
	int err = check_config(cfg);

	if (err)
		return err;
	memset(rl, 0, sizeof(*rl));
	bucket_init(&rl->bytes, &cfg->bandwidth, now_ns);
	bucket_init(&rl->ops, &cfg->ops, now_ns);
	return 0;
}

bool rate_limiter_enabled(const struct rate_limiter *rl)
{
	return bucket_on(&rl->bytes) || bucket_on(&rl->ops);
}

bool rate_limiter_consume(struct rate_limiter *rl, uint64_t bytes, uint64_t ops, uint64_t now_ns)
{
	refill(&rl->bytes, now_ns);
	refill(&rl->ops, now_ns);
	if (!bucket_can(&rl->bytes, bytes) || !bucket_can(&rl->ops, ops)) {
		rl->throttled++;
		return false;
	}
	bucket_take(&rl->bytes, bytes);
	bucket_take(&rl->ops, ops);
	return true;
}

uint64_t rate_limiter_wait_ns(const struct rate_limiter *rl, uint64_t bytes, uint64_t ops,
			      uint64_t now_ns)
{
	struct rate_limiter t = *rl;

	refill(&t.bytes, now_ns);
	refill(&t.ops, now_ns);
	return MAX(bucket_wait(&t.bytes, bytes), bucket_wait(&t.ops, ops));
}

static void bucket_update(struct token_bucket *b, const struct token_bucket_config *c,
			  uint64_t now_ns)
{
	struct token_bucket old = *b;

	refill(&old, now_ns); /* tokens earned at the old rate are kept */
	bucket_init(b, c, now_ns);
	if (!bucket_on(b) || !bucket_on(&old))
		return; /* off, or newly on: starts full */
	b->budget = MIN(old.budget, b->size);
	if (c->one_time_burst == old.one_time_burst)
		b->burst_left = old.burst_left;
	/* frac is in the old period's units: dropping it loses < 1 token. */
}

int rate_limiter_update(struct rate_limiter *rl, const struct rate_limiter_config *cfg,
			uint64_t now_ns)
{
	int err = check_config(cfg);

	if (err)
		return err;
	bucket_update(&rl->bytes, &cfg->bandwidth, now_ns);
	bucket_update(&rl->ops, &cfg->ops, now_ns);
	return 0;
}

static void bucket_save(const struct token_bucket *b, struct state_buf *s)
{
	state_put_u64(s, b->size);
	state_put_u64(s, b->one_time_burst);
	state_put_u64(s, b->refill_time_ms);
	state_put_u64(s, b->budget);
	state_put_u64(s, b->burst_left);
	state_put_u64(s, b->frac);
}

void rate_limiter_save(const struct rate_limiter *rl, struct state_buf *s)
{
	state_put_u32(s, RATE_LIMIT_STATE_VERSION);
	bucket_save(&rl->bytes, s);
	bucket_save(&rl->ops, s);
	state_put_u64(s, rl->throttled);
}

/* GUEST: a section comes from a snapshot file, as hostile as guest input:
 * every field is checked against the others before anything is used. */
static void bucket_restore(struct token_bucket *b, struct state_reader *r, const char *name,
			   uint64_t now_ns)
{
	char field[48];

	b->size = state_get_u64(r);
	b->one_time_burst = state_get_u64(r);
	b->refill_time_ms = state_get_u64(r);
	b->budget = state_get_u64(r);
	b->burst_left = state_get_u64(r);
	b->frac = state_get_u64(r);
	b->last_ns = now_ns;
	if (r->err)
		return;
	snprintf(field, sizeof(field), "%s refill_time_ms", name);
	if (!state_check(r, b->refill_time_ms <= RATE_LIMIT_MAX_REFILL_MS, field,
			 b->refill_time_ms))
		return;
	snprintf(field, sizeof(field), "%s budget", name);
	if (!state_check(r, b->budget <= (bucket_on(b) ? b->size : 0), field, b->budget))
		return;
	snprintf(field, sizeof(field), "%s burst_left", name);
	if (!state_check(r, b->burst_left <= (bucket_on(b) ? b->one_time_burst : 0), field,
			 b->burst_left))
		return;
	snprintf(field, sizeof(field), "%s frac", name);
	state_check(r, b->frac < (bucket_on(b) && b->budget < b->size ? period_ns(b) : 1), field,
		    b->frac);
}

int rate_limiter_restore(struct rate_limiter *rl, struct state_reader *r, uint64_t now_ns)
{
	struct rate_limiter t;
	uint32_t version = state_get_u32(r);

	memset(&t, 0, sizeof(t));
	if (!r->err)
		state_check(r, version == RATE_LIMIT_STATE_VERSION, "rate limiter version",
			    version);
	bucket_restore(&t.bytes, r, "bytes", now_ns);
	bucket_restore(&t.ops, r, "ops", now_ns);
	t.throttled = state_get_u64(r);
	if (r->err)
		return r->err;
	*rl = t;
	return 0;
}
