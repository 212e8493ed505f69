/* Shared by the device state tests (test_*_state.c): pause/resume as the
 * device list does it, framed save, and the checks every section must pass:
 * every truncation, an extra byte (inside the payload and after it), a bad
 * version and a patched field are refused with a message, and the device is
 * left as it was. Included by one test file each. */
#ifndef KITE_TEST_DEVICE_STATE_FIXTURE_H
#define KITE_TEST_DEVICE_STATE_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "device.h"
#include "state.h"

/* As device.c's pause_one/resume_one. */
static void dev_pause(struct device *d)
{
	if (d->paused)
		return;
	assert_int_equal(d->ops->pause(d), 0);
	d->paused = true;
}

static void dev_resume(struct device *d)
{
	if (!d->paused)
		return;
	d->paused = false;
	d->ops->resume(d);
}

/* d's framed section into a fresh buffer (d must be paused). */
static void dev_save(struct device *d, struct state_buf *b)
{
	state_buf_init(b);
	assert_int_equal(device_save_one(d, b), 0);
	assert_int_equal(b->err, 0);
}

/* Where the payload starts in a framed section. */
static size_t payload_off(const struct state_buf *b)
{
	return 1 + (size_t)b->data[0] + 4 + 4;
}

static void dev_restore_ok(struct device *d, const struct state_buf *b)
{
	char err[200] = "";

	assert_int_equal(device_restore_one(d, b->data, b->len, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

/* sec must be refused with a message containing needle (if any), and d
 * must save exactly as before. */
static void expect_refused(struct device *d, const uint8_t *sec, size_t len, const char *needle)
{
	struct state_buf before, after;
	char err[200] = "";

	dev_pause(d);
	dev_save(d, &before);
	assert_int_equal(device_restore_one(d, sec, len, err, sizeof(err)), -EINVAL);
	assert_true(err[0] != 0);
	if (needle && !strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	dev_save(d, &after);
	assert_int_equal(before.len, after.len);
	assert_memory_equal(before.data, after.data, before.len);
	state_buf_free(&before);
	state_buf_free(&after);
}

/* The good section `good` (framed) with byte `at` of its payload set to v,
 * must be refused naming `needle`. */
static UNUSED void expect_field_refused(struct device *d, const struct state_buf *good, size_t at,
				 uint8_t v, const char *needle)
{
	uint8_t *c = malloc(good->len);
	size_t off = payload_off(good) + at;

	assert_non_null(c);
	assert_true(off < good->len);
	memcpy(c, good->data, good->len);
	c[off] = v;
	expect_refused(d, c, good->len, needle);
	free(c);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Truncations, extra bytes and bad versions of a good section. */
static void expect_framing_refused(struct device *d, const struct state_buf *good)
{
	size_t po = payload_off(good), n;
	uint8_t *c = malloc(good->len + 1);

	assert_non_null(c);
	for (n = 0; n < good->len; n++)
		expect_refused(d, good->data, n, "truncated");
	/* One byte more than the payload length says: after the section. */
	memcpy(c, good->data, good->len);
	c[good->len] = 0;
	expect_refused(d, c, good->len + 1, "oversized");
	/* One byte more inside the payload. */
	put_le32(c + po - 4, (uint32_t)(good->len - po + 1));
	expect_refused(d, c, good->len + 1, "oversized");
	/* Versions this kite does not write. */
	memcpy(c, good->data, good->len);
	put_le32(c + po - 8, 0);
	expect_refused(d, c, good->len, "version");
	put_le32(c + po - 8, d->ops->state_version + 1);
	expect_refused(d, c, good->len, "version");
	/* Another device's name. */
	memcpy(c, good->data, good->len);
	c[1] ^= 0x20;
	expect_refused(d, c, good->len, "unknown device");
	free(c);
}

/* The value of counter `key` in d's stats (fails if absent). */
static UNUSED uint64_t dev_stat(struct device *d, const char *key)
{
	struct device_stats s = {0};

	d->ops->stats(d, &s);
	for (int i = 0; i < s.nr; i++)
		if (!strcmp(s.v[i].key, key))
			return s.v[i].value;
	fail_msg("no counter %s", key);
	return 0;
}

#endif
