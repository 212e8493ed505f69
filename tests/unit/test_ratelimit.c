/* Unit tests for src/ratelimit.c, on an injected clock: the rate measured
 * over many bucket sizes, the one-time burst, the ops bucket, wait_ns,
 * oversized requests, run-time updates, save/restore and hostile sections,
 * and huge values. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define MS 1000000ull
#define SEC 1000000000ull

static struct rate_limiter_config bw(uint64_t size, uint64_t burst, uint64_t refill_ms)
{
	return (struct rate_limiter_config){.bandwidth = {size, burst, refill_ms}};
}

/* Consumes `req` bytes greedily for `dur` ns of simulated time, sleeping
 * exactly wait_ns when refused; returns bytes consumed after the initial
 * full bucket was spent. */
static uint64_t measure(struct rate_limiter *rl, uint64_t req, uint64_t t0, uint64_t dur)
{
	uint64_t now = t0, total = 0;

	while (now < t0 + dur) {
		if (rate_limiter_consume(rl, req, 1, now)) {
			total += req;
			continue;
		}
		uint64_t w = rate_limiter_wait_ns(rl, req, 1, now);

		assert_true(w > 0);
		assert_false(rate_limiter_consume(rl, req, 1, now + w - 1));
		now += w;
	}
	return total;
}

static void test_rate_many_sizes(void **s)
{
	static const struct {
		uint64_t size, refill_ms, req;
	} c[] = {
	    {4096, 100, 512},
	    {65536, 1000, 4096},
	    {1 << 20, 1000, 65536},
	    {10 << 20, 500, 1 << 20},
	    {1000, 7, 333},
	    {100ull << 30, 1000, 1 << 30},
	    {1, 1, 1},
	    {3, 1000, 2},
	};

	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct rate_limiter rl;
		uint64_t dur = 50 * c[i].refill_ms * MS, got;
		double rate, want = (double)c[i].size / (double)(c[i].refill_ms * MS);

		assert_int_equal(rate_limiter_init(&rl,
						   &(struct rate_limiter_config){
						       .bandwidth = {c[i].size, 0, c[i].refill_ms}},
						   1000),
				 0);
		got = measure(&rl, c[i].req, 1000, dur);
		/* The bucket starts full: that much came for free. */
		rate = (double)(got - MIN(got, c[i].size)) / (double)dur;
		print_message("size %llu refill %llu ms: %.4f of the limit\n",
			      (unsigned long long)c[i].size, (unsigned long long)c[i].refill_ms,
			      rate / want);
		assert_true(rate >= want * 0.85 && rate <= want * 1.15);
		assert_true(rl.throttled > 0);
	}
}

static void test_one_time_burst(void **s)
{
	struct rate_limiter rl;
	struct rate_limiter_config cfg = bw(1000, 5000, 1000);

	(void)s;
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	/* 5000 burst + 1000 budget at once, then nothing. */
	assert_true(rate_limiter_consume(&rl, 6000, 0, 0));
	assert_false(rate_limiter_consume(&rl, 1, 0, 0));
	/* The burst never comes back: a second later, only the budget. */
	assert_true(rate_limiter_consume(&rl, 1000, 0, SEC));
	assert_false(rate_limiter_consume(&rl, 1, 0, SEC));
	assert_int_equal(rl.bytes.burst_left, 0);
	assert_int_equal(rl.throttled, 2);
}

static void test_ops_bucket(void **s)
{
	struct rate_limiter rl;
	struct rate_limiter_config cfg = {.ops = {10, 0, 1000}};

	(void)s;
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	assert_true(rate_limiter_enabled(&rl));
	for (int i = 0; i < 10; i++)
		assert_true(rate_limiter_consume(&rl, 1u << 30, 1, 0)); /* bytes unlimited */
	assert_false(rate_limiter_consume(&rl, 0, 1, 0));
	assert_int_equal(rate_limiter_wait_ns(&rl, 0, 1, 0), 100 * MS);
	assert_true(rate_limiter_consume(&rl, 0, 1, 100 * MS));

	/* Both buckets: all or nothing. */
	cfg.bandwidth = (struct token_bucket_config){1000, 0, 1000};
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	assert_true(rate_limiter_consume(&rl, 0, 1, 0));
	assert_false(rate_limiter_consume(&rl, 500, 10, 0)); /* 9 ops left */
	assert_int_equal(rl.bytes.budget, 1000);
	assert_int_equal(rl.ops.budget, 9);
	assert_true(rate_limiter_consume(&rl, 500, 9, 0));
	assert_false(rate_limiter_consume(&rl, 1, 1, 0)); /* ops empty */
	assert_int_equal(rl.bytes.budget, 500);
}

static void test_disabled(void **s)
{
	struct rate_limiter rl;
	struct rate_limiter_config cfg = bw(0, 100, 1000);

	(void)s;
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	assert_false(rate_limiter_enabled(&rl));
	cfg = bw(1000, 0, 0); /* refill 0: disabled, as in Firecracker */
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	assert_false(rate_limiter_enabled(&rl));
	assert_true(rate_limiter_consume(&rl, UINT64_MAX, UINT64_MAX, 0));
	assert_int_equal(rate_limiter_wait_ns(&rl, UINT64_MAX, UINT64_MAX, 0), 0);
	cfg = bw(1000, 0, RATE_LIMIT_MAX_REFILL_MS + 1);
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), -EINVAL);
	cfg = (struct rate_limiter_config){.ops = {1, 0, UINT64_MAX}};
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), -EINVAL);
}

static void test_wait_and_fractions(void **s)
{
	struct rate_limiter rl;
	struct rate_limiter_config cfg = bw(3, 0, 1000); /* a token per 333.3 ms */
	uint64_t now = 0, w;

	(void)s;
	assert_int_equal(rate_limiter_init(&rl, &cfg, now), 0);
	assert_true(rate_limiter_consume(&rl, 3, 0, now));
	assert_int_equal(rate_limiter_wait_ns(&rl, 0, 0, now), 0);
	w = rate_limiter_wait_ns(&rl, 1, 0, now);
	assert_int_equal(w, 333333334); /* ceil(1e9 / 3) */
	assert_false(rate_limiter_consume(&rl, 1, 0, w - 1));
	assert_true(rate_limiter_consume(&rl, 1, 0, w));
	/* Many tiny steps lose nothing: 3000 steps of 1 ms add 3 tokens. */
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	assert_true(rate_limiter_consume(&rl, 3, 0, 0));
	for (now = MS; now <= 999 * MS; now += MS)
		assert_true(rate_limiter_consume(&rl, 0, 0, now));
	assert_true(rate_limiter_consume(&rl, 2, 0, 999 * MS));
	assert_false(rate_limiter_consume(&rl, 1, 0, 999 * MS));
	assert_true(rate_limiter_consume(&rl, 1, 0, 1000 * MS));

	/* Oversized: waits for a full bucket, then passes and drains it. */
	cfg = bw(1000, 0, 1000);
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	assert_true(rate_limiter_consume(&rl, 500, 0, 0));
	assert_int_equal(rate_limiter_wait_ns(&rl, 5000, 0, 0), 500 * MS);
	assert_false(rate_limiter_consume(&rl, 5000, 0, 499 * MS));
	assert_true(rate_limiter_consume(&rl, 5000, 0, 500 * MS));
	assert_int_equal(rl.bytes.budget, 0);

	/* A clock that goes back refills nothing and breaks nothing. */
	assert_false(rate_limiter_consume(&rl, 1, 0, 0));
	assert_true(rate_limiter_wait_ns(&rl, 1, 0, 0) >= MS);
}

static void test_huge_values(void **s)
{
	struct rate_limiter rl;
	struct rate_limiter_config cfg = {.bandwidth = {UINT64_MAX, UINT64_MAX, 1},
					  .ops = {UINT64_MAX, 0, RATE_LIMIT_MAX_REFILL_MS}};
	uint64_t w;

	(void)s;
	assert_int_equal(rate_limiter_init(&rl, &cfg, UINT64_MAX - SEC), 0);
	assert_true(rate_limiter_consume(&rl, UINT64_MAX, UINT64_MAX, UINT64_MAX - SEC));
	assert_true(rate_limiter_consume(&rl, UINT64_MAX, 0, UINT64_MAX - SEC)); /* burst */
	assert_false(rate_limiter_consume(&rl, UINT64_MAX, 0, UINT64_MAX - SEC));
	w = rate_limiter_wait_ns(&rl, UINT64_MAX, 0, UINT64_MAX - SEC);
	assert_int_equal(w, MS);
	w = rate_limiter_wait_ns(&rl, 0, UINT64_MAX, UINT64_MAX - SEC);
	assert_int_equal(w, RATE_LIMIT_MAX_REFILL_MS * MS);
	/* A second later: the bytes bucket is full again, the ops bucket
	 * holds size * 1 s / 1 day tokens. */
	assert_true(rate_limiter_consume(&rl, UINT64_MAX, 0, UINT64_MAX));
	assert_int_equal(rl.ops.budget, UINT64_MAX / (24 * 3600));
	assert_true(rate_limiter_consume(&rl, 0, UINT64_MAX / (24 * 3600), UINT64_MAX));
	assert_false(rate_limiter_consume(&rl, 0, 1, UINT64_MAX));
}

static void test_update(void **s)
{
	struct rate_limiter rl;
	struct rate_limiter_config cfg = bw(1000, 100, 1000);

	(void)s;
	assert_int_equal(rate_limiter_init(&rl, &cfg, 0), 0);
	assert_true(rate_limiter_consume(&rl, 900, 0, 0)); /* 100 burst + 800 */
	/* Smaller size: the 200 left stay; refill meanwhile at the old rate. */
	cfg = bw(300, 100, 1000);
	assert_int_equal(rate_limiter_update(&rl, &cfg, 50 * MS), 0);
	assert_int_equal(rl.bytes.budget, 250);
	assert_int_equal(rl.bytes.burst_left, 0); /* same burst: not restarted */
	cfg = bw(300, 200, 1000);
	assert_int_equal(rate_limiter_update(&rl, &cfg, 50 * MS), 0);
	assert_int_equal(rl.bytes.burst_left, 200); /* new burst */
	/* Off, then on again: starts full. Bad config: nothing changes. */
	cfg = bw(0, 0, 0);
	assert_int_equal(rate_limiter_update(&rl, &cfg, 60 * MS), 0);
	assert_false(rate_limiter_enabled(&rl));
	cfg = bw(5000, 0, 100);
	assert_int_equal(rate_limiter_update(&rl, &cfg, 70 * MS), 0);
	assert_int_equal(rl.bytes.budget, 5000);
	cfg.ops.refill_time_ms = UINT64_MAX;
	cfg.ops.size = 1;
	assert_int_equal(rate_limiter_update(&rl, &cfg, 80 * MS), -EINVAL);
	assert_int_equal(rl.bytes.size, 5000);
	assert_int_equal(rl.ops.size, 0);
}

static int restore(struct rate_limiter *rl, const void *p, size_t n, char *msg)
{
	struct state_reader r;
	int err;

	state_reader_init(&r, p, n, "rng0");
	err = rate_limiter_restore(rl, &r, 5 * SEC);
	if (err == 0)
		err = state_end(&r, msg, 160);
	else
		snprintf(msg, 160, "%s", r.msg);
	return err;
}

static void test_save_restore(void **s)
{
	struct rate_limiter a, b;
	struct rate_limiter_config cfg = {.bandwidth = {3000, 700, 1000}, .ops = {50, 0, 100}};
	struct state_buf buf, big;
	char msg[160];
	uint8_t *bad;

	(void)s;
	assert_int_equal(rate_limiter_init(&a, &cfg, 0), 0);
	assert_true(rate_limiter_consume(&a, 2000, 7, 0));
	assert_true(rate_limiter_consume(&a, 0, 0, 10 * MS + 7)); /* a fraction */
	assert_false(rate_limiter_consume(&a, 5000, 0, 10 * MS + 7));
	state_buf_init(&buf);
	rate_limiter_save(&a, &buf);
	assert_int_equal(buf.err, 0);
	assert_int_equal(buf.len, 4 + 2 * 6 * 8 + 8);

	memset(&b, 0xff, sizeof(b));
	assert_int_equal(restore(&b, buf.data, buf.len, msg), 0);
	assert_memory_equal(&b.bytes, &a.bytes, offsetof(struct token_bucket, last_ns));
	assert_memory_equal(&b.ops, &a.ops, offsetof(struct token_bucket, last_ns));
	assert_int_equal(b.throttled, 1);
	/* Identical behaviour afterwards, on each one's own clock. */
	for (uint64_t t = 0; t < 3 * SEC; t += 7 * MS) {
		bool x = rate_limiter_consume(&a, 333, 1, 10 * MS + 7 + t);

		assert_int_equal(rate_limiter_consume(&b, 333, 1, 5 * SEC + t), x);
		assert_int_equal(rate_limiter_wait_ns(&a, 999, 2, 10 * MS + 7 + t),
				 rate_limiter_wait_ns(&b, 999, 2, 5 * SEC + t));
	}

	/* Truncated anywhere: refused, b untouched. */
	memcpy(&a, &b, sizeof(a));
	for (size_t n = 0; n < buf.len; n++) {
		assert_int_equal(restore(&b, buf.data, n, msg), -EINVAL);
		assert_non_null(strstr(msg, "truncated"));
		assert_memory_equal(&a, &b, sizeof(a));
	}
	/* Oversized. */
	state_buf_init(&big);
	state_put_bytes(&big, buf.data, buf.len);
	state_put_u8(&big, 0);
	assert_int_equal(restore(&b, big.data, big.len, msg), -EINVAL);
	assert_non_null(strstr(msg, "oversized"));
	state_buf_free(&big);
	/* (restore read its part; the owner's state_end refused the rest) */
	memcpy(&b, &a, sizeof(a));

	/* Out of range, field by field (offsets in the bytes bucket). */
	bad = malloc(buf.len);
	static const struct {
		size_t off;
		uint64_t v;
		const char *what;
	} cases[] = {
	    {0, 2, "version"},
	    {4 + 16, RATE_LIMIT_MAX_REFILL_MS + 1, "bytes refill_time_ms"},
	    {4 + 24, 3001, "bytes budget"},
	    {4 + 32, 701, "bytes burst_left"},
	    {4 + 40, 1000 * MS, "bytes frac"},
	    {4 + 48 + 24, 51, "ops budget"},
	    {4 + 48 + 0, 0, "ops budget"}, /* disabled but holding tokens */
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t v = cases[i].v;

		memcpy(bad, buf.data, buf.len);
		memcpy(bad + cases[i].off, &v, cases[i].off == 0 ? 4 : 8);
		assert_int_equal(restore(&b, bad, buf.len, msg), -EINVAL);
		print_message("%s\n", msg);
		assert_non_null(strstr(msg, cases[i].what));
		assert_memory_equal(&a, &b, sizeof(a));
	}
	free(bad);
	state_buf_free(&buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rate_many_sizes),
	    cmocka_unit_test(test_one_time_burst),
	    cmocka_unit_test(test_ops_bucket),
	    cmocka_unit_test(test_disabled),
	    cmocka_unit_test(test_wait_and_fractions),
	    cmocka_unit_test(test_huge_values),
	    cmocka_unit_test(test_update),
	    cmocka_unit_test(test_save_restore),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
