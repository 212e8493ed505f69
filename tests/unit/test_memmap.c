/* The snapshot memory map section: a good map parsed, totalled and
 * printed; every kind of bad map refused with its reason, as are all its
 * truncations and a byte too many. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>

#include "snapshot/memfile.h"

#define PG 4096u

static char err[256];

/* A map section: ram, page size, flags, nr_ranges, then triples. */
static void enc(struct state_buf *b, uint64_t ram, uint32_t page, uint32_t flags, uint32_t nr,
		int n, const uint64_t *r)
{
	state_buf_init(b);
	state_put_u64(b, ram);
	state_put_u32(b, page);
	state_put_u32(b, flags);
	state_put_u32(b, nr);
	for (int i = 0; i < n; i++) {
		state_put_u64(b, r[3 * i]);
		state_put_u64(b, r[3 * i + 1]);
		state_put_u32(b, (uint32_t)r[3 * i + 2]);
	}
}

static void map_good_and_printed(void **state UNUSED)
{
	static const uint64_t r[] = {0, PG, 1, PG, 3 * PG, 2, 4 * PG, 4 * PG, 0};
	struct state_buf b;
	struct memmap m;
	uint64_t data, zero, base;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	enc(&b, 8 * PG, PG, MEMMAP_DIFF, 3, 3, r);
	assert_int_equal(memmap_parse(b.data, b.len, &m, err, sizeof(err)), 0);
	memmap_totals(&m, &data, &zero, &base);
	assert_int_equal(data, PG);
	assert_int_equal(base, 3 * PG);
	assert_int_equal(zero, 4 * PG);
	f = open_memstream(&text, &len);
	memmap_print(&m, f);
	fclose(f);
	assert_non_null(
	    strstr(text, "diff, 0 MiB RAM, 3 ranges: data 4 KiB, zero 16 KiB, base 12 KiB"));
	assert_non_null(strstr(text, "0x000000001000-0x000000004000 base"));
	free(text);
	memmap_free(&m);
	state_buf_free(&b);
}

struct bad_map {
	const char *why;
	uint64_t ram;
	uint32_t page, flags, nr;
	int n;
	uint64_t r[9];
	const char *msg;
};

static const struct bad_map bad_maps[] = {
    {"zero RAM", 0, PG, 0, 1, 1, {0, PG, 1}, "ram_size"},
    {"unaligned RAM", PG + 1, PG, 0, 1, 1, {0, PG, 1}, "ram_size"},
    {"huge RAM", 1ull << 41, PG, 0, 1, 1, {0, 1ull << 41, 1}, "ram_size"},
    {"page size", 2 * PG, 2 * PG, 0, 1, 1, {0, 2 * PG, 1}, "page size"},
    {"flag", 2 * PG, PG, 2, 1, 1, {0, 2 * PG, 1}, "flags"},
    {"no ranges", 2 * PG, PG, 0, 0, 0, {0}, "nr_ranges"},
    {"more ranges than pages", 2 * PG, PG, 0, 3, 3, {0, PG, 1, PG, PG, 0, 0, 0, 1}, "nr_ranges"},
    {"nr above the bytes", 4 * PG, PG, 0, 3, 2, {0, PG, 1, PG, 3 * PG, 0}, "need 60 bytes"},
    {"nr below the bytes", 4 * PG, PG, 0, 1, 2, {0, PG, 1, PG, 3 * PG, 0}, "need 20 bytes"},
    {"starts late", 2 * PG, PG, 0, 1, 1, {PG, PG, 1}, "starts at"},
    {"gap", 4 * PG, PG, 0, 2, 2, {0, PG, 1, 2 * PG, 2 * PG, 0}, "starts at"},
    {"overlap", 4 * PG, PG, 0, 2, 2, {0, 2 * PG, 1, PG, 3 * PG, 0}, "starts at"},
    {"empty range", 2 * PG, PG, 0, 2, 2, {0, 0, 1, 0, 2 * PG, 0}, "length"},
    {"unaligned length", 2 * PG, PG, 0, 2, 2, {0, 100, 1, 100, 2 * PG - 100, 0}, "length"},
    {"past RAM", 2 * PG, PG, 0, 1, 1, {0, 3 * PG, 1}, "length"},
    {"wrapping length", 2 * PG, PG, 0, 2, 2, {0, PG, 1, PG, UINT64_MAX - PG + 1, 0}, "length"},
    {"short of RAM", 4 * PG, PG, 0, 1, 1, {0, 2 * PG, 1}, "ranges end"},
    {"unknown kind", 2 * PG, PG, 0, 1, 1, {0, 2 * PG, 3}, "kind 3"},
    {"base in a full", 2 * PG, PG, 0, 1, 1, {0, 2 * PG, 2}, "base in a full"},
    {"not coalesced", 2 * PG, PG, 0, 2, 2, {0, PG, 1, PG, PG, 1}, "not coalesced"},
};

static void bad_maps_refused(void **state UNUSED)
{
	struct state_buf b;
	struct memmap m;

	for (size_t i = 0; i < ARRAY_SIZE(bad_maps); i++) {
		const struct bad_map *t = &bad_maps[i];

		enc(&b, t->ram, t->page, t->flags, t->nr, t->n, t->r);
		err[0] = 0;
		if (memmap_parse(b.data, b.len, &m, err, sizeof(err)) != -EINVAL ||
		    !strstr(err, t->msg) || m.ranges)
			fail_msg("%s: accepted or wrong error: %s", t->why, err);
		/* Every truncation and one byte too many are refused too. */
		for (size_t len = 0; len < b.len; len++)
			assert_int_equal(memmap_parse(b.data, len, &m, err, sizeof(err)), -EINVAL);
		state_put_u8(&b, 0);
		assert_int_equal(memmap_parse(b.data, b.len, &m, err, sizeof(err)), -EINVAL);
		state_buf_free(&b);
	}
	assert_int_equal(memmap_parse(NULL, 0, &m, err, sizeof(err)), -EINVAL);
}

/* The encoder coalesces neighbours of one kind, refuses ranges that stop
 * short of RAM, and its output parses. */
static void writer_output_parses(void **state UNUSED)
{
	struct memmap_writer w;
	struct state_buf b;
	struct memmap m;

	state_buf_init(&b);
	memmap_writer_begin(&w, &b, 8 * PG, MEMMAP_DIFF);
	memmap_writer_add(&w, 0, PG, MEMMAP_BASE);
	memmap_writer_add(&w, PG, 2 * PG, MEMMAP_BASE);
	memmap_writer_add(&w, 3 * PG, PG, MEMMAP_DATA);
	assert_int_equal(memmap_writer_count(&w), 2);
	memmap_writer_add(&w, 4 * PG, 3 * PG, MEMMAP_ZERO);
	assert_int_equal(memmap_writer_end(&w), -EINVAL); /* a page short */
	state_buf_free(&b);
	memmap_writer_begin(&w, &b, 8 * PG, MEMMAP_DIFF);
	memmap_writer_add(&w, 0, 3 * PG, MEMMAP_BASE);
	memmap_writer_add(&w, 3 * PG, 5 * PG, MEMMAP_DATA);
	assert_int_equal(memmap_writer_end(&w), 0);
	assert_int_equal(memmap_parse(b.data, b.len, &m, err, sizeof(err)), 0);
	assert_int_equal(m.nr_ranges, 2);
	assert_int_equal(m.ranges[1].length, 5 * PG);
	memmap_free(&m);
	state_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(map_good_and_printed),
	    cmocka_unit_test(bad_maps_refused),
	    cmocka_unit_test(writer_output_parses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
