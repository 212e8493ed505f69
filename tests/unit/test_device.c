/* Unit tests for the device registry (device.c) and state sections
 * (state.c), on a fake device whose state is one u32. */
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

struct fake {
	struct device dev;
	uint32_t value;
	int pause_rc; /* what pause returns */
	int pauses, resumes;
};

static char destroyed[8][DEVICE_NAME_MAX];
static int nr_destroyed;

static struct fake *to_fake(const struct device *d)
{
	return container_of(d, struct fake, dev);
}

static void fake_destroy(struct device *d)
{
	assert_true(nr_destroyed < 8);
	strcpy(destroyed[nr_destroyed++], d->name);
	free(to_fake(d));
}

static int fake_pause(struct device *d)
{
	struct fake *f = to_fake(d);

	if (f->pause_rc)
		return f->pause_rc;
	f->pauses++;
	return 0;
}

static void fake_resume(struct device *d)
{
	to_fake(d)->resumes++;
}

static int fake_save(const struct device *d, struct state_buf *out)
{
	state_put_u32(out, to_fake(d)->value);
	return 0;
}

static int fake_restore(struct device *d, struct state_reader *in, uint32_t version)
{
	uint32_t v = state_get_u32(in);

	assert_true(version >= 1 && version <= 2);
	if (in->err || !state_check(in, v != 0xdead, "value", v) || state_end(in, NULL, 0))
		return -EINVAL;
	to_fake(d)->value = v;
	return 0;
}

static void fake_stats(struct device *d, struct device_stats *out)
{
	device_stat(out, "value", to_fake(d)->value);
}

static const struct device_ops fake_ops = {
	.kind = "fake",
	.state_version = 2,
	.destroy = fake_destroy,
	.pause = fake_pause,
	.resume = fake_resume,
	.save = fake_save,
	.restore = fake_restore,
	.stats = fake_stats,
};

static struct fake *fake_new(const char *name, uint32_t value)
{
	struct fake *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	device_init(&f->dev, &fake_ops, name);
	f->value = value;
	return f;
}

/* A list of three: a=1, b=2, c=3. */
static void list3(struct device_list *l, struct fake **f)
{
	static const char *names[] = {"a", "b", "c"};

	device_list_init(l);
	for (int i = 0; i < 3; i++) {
		f[i] = fake_new(names[i], (uint32_t)i + 1);
		assert_int_equal(device_list_add(l, &f[i]->dev), 0);
	}
	nr_destroyed = 0;
}

static void collect(void *ctx, const struct device *d, const struct device_stats *s)
{
	char *out = ctx;

	assert_int_equal(s->nr, 1);
	assert_string_equal(s->v[0].key, "value");
	strcat(out, d->name);
	out[strlen(out)] = (char)('0' + s->v[0].value);
}

static void test_order_find_destroy(void **state)
{
	struct device_list l;
	struct fake *f[3], *dup;
	char seen[16] = "";
	(void)state;

	list3(&l, f);
	assert_ptr_equal(device_list_find(&l, "b"), &f[1]->dev);
	assert_null(device_list_find(&l, "d"));
	dup = fake_new("b", 9);
	assert_int_equal(device_list_add(&l, &dup->dev), -EEXIST);
	free(dup);
	device_list_stats(&l, collect, seen);
	assert_string_equal(seen, "a1b2c3");
	device_list_destroy(&l);
	assert_int_equal(nr_destroyed, 3);
	assert_string_equal(destroyed[0], "c");
	assert_string_equal(destroyed[1], "b");
	assert_string_equal(destroyed[2], "a");
	assert_int_equal(l.nr, 0);
}

static void test_names(void **state)
{
	struct fake *f = fake_new(NULL, 0);
	(void)state;

	assert_string_equal(f->dev.name, "fake");
	device_init(&f->dev, &fake_ops, "a-very-long-device-name");
	assert_int_equal(strlen(f->dev.name), DEVICE_NAME_MAX - 1);
	free(f);
}

static void test_pause_rollback(void **state)
{
	struct device_list l;
	struct fake *f[3];
	struct state_buf b;
	(void)state;

	list3(&l, f);
	f[1]->pause_rc = -EIO;
	assert_int_equal(device_list_pause(&l), -EIO);
	assert_int_equal(f[0]->pauses, 1);
	assert_int_equal(f[0]->resumes, 1);
	assert_false(f[0]->dev.paused);
	assert_false(f[1]->dev.paused);
	assert_int_equal(f[2]->pauses, 0);
	state_buf_init(&b);
	assert_int_equal(device_list_save(&l, &b), -EBUSY);
	assert_int_equal(device_save_one(&f[0]->dev, &b), -EBUSY);
	assert_int_equal(b.len, 0);
	f[1]->pause_rc = 0;
	assert_int_equal(device_list_pause(&l), 0);
	assert_int_equal(device_list_pause(&l), 0); /* already paused: no-op */
	assert_int_equal(f[0]->pauses, 2);
	device_list_resume(&l);
	device_list_resume(&l);
	assert_int_equal(f[0]->resumes, 2);
	state_buf_free(&b);
	device_list_destroy(&l);
}

/* Appends one framed section by hand. */
static void put_section(struct state_buf *b, const char *name, uint32_t version, uint32_t value)
{
	state_put_u8(b, (uint8_t)strlen(name));
	state_put_bytes(b, name, strlen(name));
	state_put_u32(b, version);
	state_put_u32(b, 4);
	state_put_u32(b, value);
}

static void refused(struct device_list *l, struct fake **f, const struct state_buf *b,
		    const char *needle)
{
	char err[200] = "";

	assert_int_equal(device_list_restore(l, b->data, b->len, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
	for (int i = 0; i < 3; i++)
		assert_int_equal(f[i]->value, (uint32_t)i + 1);
}

static void test_list_save_restore(void **state)
{
	struct device_list l;
	struct fake *f[3];
	struct state_buf b, bad;
	char err[200] = "";
	(void)state;

	list3(&l, f);
	assert_int_equal(device_list_pause(&l), 0);
	state_buf_init(&b);
	assert_int_equal(device_list_save(&l, &b), 0);
	assert_int_equal(b.len, 3 * (1 + 1 + 4 + 4 + 4));
	f[0]->value = 7;
	f[2]->value = 9;
	assert_int_equal(device_list_restore(&l, b.data, b.len, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(f[0]->value, 1);
	assert_int_equal(f[2]->value, 3);

	/* Any order, and an older version the device still reads. */
	state_buf_init(&bad);
	put_section(&bad, "c", 1, 3);
	put_section(&bad, "a", 2, 1);
	put_section(&bad, "b", 1, 2);
	assert_int_equal(device_list_restore(&l, bad.data, bad.len, err, sizeof(err)), 0);
	state_buf_free(&bad);

#define CASE(needle, ...)                                    \
	do {                                                 \
		state_buf_init(&bad);                        \
		__VA_ARGS__;                                 \
		refused(&l, f, &bad, needle);                \
		state_buf_free(&bad);                        \
	} while (0)
	CASE("unknown device", put_section(&bad, "a", 2, 1); put_section(&bad, "zz", 2, 5));
	CASE("two sections", put_section(&bad, "a", 2, 8); put_section(&bad, "a", 2, 1));
	CASE("no section for device c", put_section(&bad, "a", 2, 8); put_section(&bad, "b", 2, 8));
	CASE("version 3", put_section(&bad, "a", 3, 8); put_section(&bad, "b", 2, 8);
	     put_section(&bad, "c", 2, 8));
	CASE("version 0", put_section(&bad, "c", 0, 8));
	CASE("name length", state_put_u8(&bad, 0));
	CASE("name length", state_put_u8(&bad, DEVICE_NAME_MAX));
	CASE("truncated", state_put_bytes(&bad, b.data, b.len - 1));
	CASE("section length", state_put_u8(&bad, 1); state_put_u8(&bad, 'a');
	     state_put_u32(&bad, 2); state_put_u32(&bad, STATE_SECTION_MAX + 1));
	/* A payload refused after others were restored: those get their
	 * state back. */
	CASE("value 57005", put_section(&bad, "a", 2, 8); put_section(&bad, "b", 2, 0xdead);
	     put_section(&bad, "c", 2, 8));
	/* A byte after the last section starts a frame that is not one. */
	CASE("name length", put_section(&bad, "a", 2, 8); put_section(&bad, "b", 2, 8);
	     put_section(&bad, "c", 1, 8); state_put_u8(&bad, 0));
	/* An extra byte inside the last payload. */
	CASE("oversized", put_section(&bad, "a", 2, 8); put_section(&bad, "b", 2, 8);
	     state_put_u8(&bad, 1); state_put_u8(&bad, 'c'); state_put_u32(&bad, 2);
	     state_put_u32(&bad, 5); state_put_u32(&bad, 8); state_put_u8(&bad, 0));
#undef CASE
	/* device_restore_one: the section must be the device's own. */
	state_buf_init(&bad);
	put_section(&bad, "b", 2, 8);
	assert_int_equal(device_restore_one(&f[0]->dev, bad.data, bad.len, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "unknown device \"b\""));
	assert_int_equal(f[0]->value, 1);
	state_buf_free(&bad);
	state_buf_free(&b);
	device_list_destroy(&l);
}

static void test_state_reader(void **state)
{
	struct state_buf b;
	struct state_reader r, sub;
	uint8_t bytes[3];
	char err[200] = "";
	(void)state;

	state_buf_init(&b);
	state_put_u8(&b, 0x11);
	state_put_u16(&b, 0x2233);
	state_put_u32(&b, 0x44556677);
	state_put_u64(&b, 0x8899aabbccddeeffull);
	state_put_i64(&b, -2);
	state_put_bytes(&b, "xyz", 3);
	assert_int_equal(b.len, 1 + 2 + 4 + 8 + 8 + 3);
	assert_int_equal(b.data[1], 0x33); /* little-endian */
	assert_int_equal(b.data[3], 0x77);
	state_reader_init(&r, b.data, b.len, "dev0");
	assert_int_equal(state_get_u8(&r), 0x11);
	assert_int_equal(state_get_u16(&r), 0x2233);
	assert_int_equal(state_get_u32(&r), 0x44556677);
	assert_true(state_get_u64(&r) == 0x8899aabbccddeeffull);
	assert_true(state_get_i64(&r) == -2);
	state_get_reader(&r, &sub, 2);
	assert_int_equal(state_get_u8(&sub), 'x');
	assert_int_equal(state_end(&sub, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "dev0: section oversized (1 bytes left over of 2)");
	state_get_bytes(&r, bytes, 1);
	assert_int_equal(bytes[0], 'z');
	assert_int_equal(state_end(&r, NULL, 0), 0);
	/* Past the end: sticky error, zeros, the first message kept. */
	state_get_bytes(&r, bytes, 3);
	assert_int_equal(r.err, -EINVAL);
	assert_memory_equal(bytes, "\0\0\0", 3);
	assert_int_equal(state_get_u32(&r), 0);
	assert_false(state_check(&r, false, "later", 1));
	assert_int_equal(state_end(&r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "dev0: section truncated"));
	/* A sub-reader of a failed reader fails too. */
	state_get_reader(&r, &sub, 1);
	assert_int_equal(sub.err, -EINVAL);
	/* state_check's message. */
	state_reader_init(&r, b.data, b.len, "dev1");
	assert_true(state_check(&r, true, "index", 5));
	assert_false(state_check(&r, false, "index", 200));
	assert_int_equal(state_end(&r, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "dev1: index 200 out of range");
	/* A sub-reader cannot claim more than there is. */
	state_reader_init(&r, b.data, 4, NULL);
	state_get_reader(&r, &sub, 5);
	assert_int_equal(sub.err, -EINVAL);
	assert_int_equal(sub.len, 0);
	state_buf_free(&b);
}

static void test_state_buf_grows(void **state)
{
	struct state_buf b;
	static uint8_t big[100000];
	(void)state;

	state_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		state_put_u32(&b, (uint32_t)i);
	state_put_bytes(&b, big, sizeof(big));
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 4000 + sizeof(big));
	assert_int_equal(b.data[4 * 999], 999 & 0xff);
	state_buf_free(&b);
	assert_null(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_find_destroy),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_pause_rollback),
		cmocka_unit_test(test_list_save_restore),
		cmocka_unit_test(test_state_reader),
		cmocka_unit_test(test_state_buf_grows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
