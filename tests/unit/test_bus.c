/* bus: registration rules, lookup, straddling and unclaimed accesses. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bus.h"

struct fake {
	uint64_t last_off;
	uint32_t last_len;
	uint8_t last_data[8];
	int reads, writes;
};

static void fake_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct fake *f = opaque;

	f->reads++;
	f->last_off = off;
	f->last_len = len;
	memset(data, 0x5a, len);
}

static void fake_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct fake *f = opaque;

	f->writes++;
	f->last_off = off;
	f->last_len = len;
	memcpy(f->last_data, data, len);
}

static const struct bus_ops fake_ops = {fake_read, fake_write};

static void add_rejects_overlap(void **state)
{
	struct bus b;
	struct fake f = {0};

	(void)state;
	bus_init(&b, "test");
	assert_int_equal(bus_add(&b, 0x100, 0x10, &fake_ops, &f, "a"), 0);
	assert_int_equal(bus_add(&b, 0x10f, 1, &fake_ops, &f, "b"), -EEXIST);
	assert_int_equal(bus_add(&b, 0xf0, 0x11, &fake_ops, &f, "c"), -EEXIST);
	assert_int_equal(bus_add(&b, 0x0, 0x1000, &fake_ops, &f, "d"), -EEXIST);
	assert_int_equal(bus_add(&b, 0x104, 4, &fake_ops, &f, "e"), -EEXIST);
	assert_int_equal(bus_add(&b, 0xf0, 0x10, &fake_ops, &f, "f"), 0);
	assert_int_equal(bus_add(&b, 0x110, 0x10, &fake_ops, &f, "g"), 0);
	assert_int_equal(bus_add(&b, 0x200, 0, &fake_ops, &f, "zero"), -EINVAL);
	assert_int_equal(bus_add(&b, UINT64_MAX, 2, &fake_ops, &f, "wrap"), -EINVAL);
	assert_int_equal(bus_add(&b, UINT64_MAX, 1, &fake_ops, &f, "last"), 0);
	assert_int_equal(bus_add(&b, 0x300, 1, NULL, &f, "noops"), -EINVAL);
	assert_int_equal(b.nr, 4);
	for (int i = 1; i < b.nr; i++)
		assert_true(b.ranges[i - 1].base < b.ranges[i].base);
	bus_free(&b);
}

static void find_binary_search(void **state)
{
	struct bus b;
	struct fake f[64];

	(void)state;
	bus_init(&b, "test");
	/* Insert out of order. */
	for (int i = 63; i >= 0; i--)
		assert_int_equal(bus_add(&b, (uint64_t)i * 0x100, 0x10, &fake_ops, &f[i], "d"), 0);
	for (int i = 0; i < 64; i++) {
		const struct bus_range *r = bus_find(&b, (uint64_t)i * 0x100 + 0xf);
		assert_non_null(r);
		assert_ptr_equal(r->opaque, &f[i]);
		assert_null(bus_find(&b, (uint64_t)i * 0x100 + 0x10));
	}
	assert_null(bus_find(&b, UINT64_MAX));
	bus_free(&b);
}

static void access_dispatch(void **state)
{
	struct bus b;
	struct fake f = {0};
	uint8_t data[8] = {1, 2, 3, 4};

	(void)state;
	bus_init(&b, "test");
	assert_int_equal(bus_add(&b, 0x3f8, 8, &fake_ops, &f, "com1"), 0);
	assert_int_equal(bus_access(&b, 0x3fc, data, 4, 1), 0);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.last_off, 4);
	assert_int_equal(f.last_len, 4);
	assert_memory_equal(f.last_data, data, 4);
	assert_int_equal(bus_access(&b, 0x3f9, data, 1, 0), 0);
	assert_int_equal(f.reads, 1);
	assert_int_equal(data[0], 0x5a);
	bus_free(&b);
}

static void unclaimed_and_straddle(void **state)
{
	struct bus b;
	struct fake f = {0};
	uint8_t data[8] = {0};

	(void)state;
	bus_init(&b, "test");
	assert_int_equal(bus_add(&b, 0x3f8, 8, &fake_ops, &f, "com1"), 0);
	assert_int_equal(bus_access(&b, 0x80, data, 2, 0), -ENOENT);
	assert_int_equal(data[0], 0xff);
	assert_int_equal(data[1], 0xff);
	assert_int_equal(b.unclaimed_reads, 1);
	assert_int_equal(bus_access(&b, 0x80, data, 1, 1), -ENOENT);
	assert_int_equal(b.unclaimed_writes, 1);
	/* Starts inside the device, ends past it: no device sees it. */
	memset(data, 0, sizeof(data));
	assert_int_equal(bus_access(&b, 0x3fe, data, 4, 0), -ENOENT);
	assert_int_equal(f.reads, 0);
	assert_int_equal(data[0], 0xff);
	assert_int_equal(b.split_accesses, 1);
	assert_int_equal(bus_access(&b, 0x3fe, data, 4, 1), -ENOENT);
	assert_int_equal(f.writes, 0);
	bus_free(&b);
}

static void write_only_device_reads_ones(void **state)
{
	static const struct bus_ops wo = {NULL, fake_write};
	struct bus b;
	struct fake f = {0};
	uint8_t data[1] = {0};

	(void)state;
	bus_init(&b, "test");
	assert_int_equal(bus_add(&b, 0x501, 1, &wo, &f, "wo"), 0);
	assert_int_equal(bus_access(&b, 0x501, data, 1, 0), 0);
	assert_int_equal(data[0], 0xff);
	bus_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_rejects_overlap),
		cmocka_unit_test(find_binary_search),
		cmocka_unit_test(access_dispatch),
		cmocka_unit_test(unclaimed_and_straddle),
		cmocka_unit_test(write_only_device_reads_ones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
