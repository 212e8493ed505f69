/* guest_mem's dirty bitmap (Diff snapshots): what a range marks, by RAM
 * offset, across pages, words, regions and the hole; what it ignores; and
 * take-and-clear. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "guest_mem.h"

#define PG GM_PAGE_SIZE

/* The pages set in a taken bitmap, as a list (at most max). */
static int set_pages(const uint64_t *bm, size_t n, uint64_t *out, int max)
{
	int k = 0;

	for (size_t w = 0; w < n; w++)
		for (int b = 0; b < 64; b++)
			if (bm[w] >> b & 1) {
				if (k < max)
					out[k] = w * 64 + (uint64_t)b;
				k++;
			}
	return k;
}

/* Takes gm's marks and checks they are exactly want[0..nr). */
static void expect_pages(const struct guest_mem *gm, const uint64_t *want, int nr)
{
	size_t n = gm_dirty_words(gm);
	uint64_t *bm = calloc(n, sizeof(*bm)), got[64];
	int k;

	assert_non_null(bm);
	gm_dirty_take(gm, bm);
	k = set_pages(bm, n, got, 64);
	assert_int_equal(k, nr);
	for (int i = 0; i < nr; i++)
		assert_int_equal(got[i], want[i]);
	free(bm);
}

static void clear(const struct guest_mem *gm)
{
	size_t n = gm_dirty_words(gm);
	uint64_t *bm = calloc(n, sizeof(*bm));

	assert_non_null(bm);
	gm_dirty_take(gm, bm);
	free(bm);
}

static void disabled_is_noop(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, 8 * PG);
	uint64_t bm[1] = {0x5};

	(void)state;
	gm_init_wrap(&gm, mem, 8 * PG);
	assert_null(gm.dirty);
	gm_mark_dirty(&gm, 0, 8 * PG);
	assert_int_equal(gm_write(&gm, PG, "x", 1), 0);
	gm_dirty_take(&gm, bm);
	assert_int_equal(bm[0], 0x5); /* untouched */
	gm_free(&gm);
	free(mem);
}

static void enable_marks_all(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, 100 * PG);
	uint64_t bm[2] = {0, 0};

	(void)state;
	gm_init_wrap(&gm, mem, 100 * PG);
	assert_int_equal(gm_dirty_words(&gm), 2);
	assert_int_equal(gm_dirty_enable(&gm), 0);
	assert_int_equal(gm_dirty_enable(&gm), 0); /* again: no new bitmap */
	gm_dirty_take(&gm, bm);
	assert_int_equal(bm[0], UINT64_MAX);
	assert_int_equal(bm[1], (1ull << 36) - 1); /* nothing past page 99 */
	/* Taken: nothing left. */
	expect_pages(&gm, NULL, 0);
	gm_free(&gm);
	assert_null(gm.dirty);
	free(mem);
}

static void ranges_one_region(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, 200 * PG);

	(void)state;
	gm_init_wrap(&gm, mem, 200 * PG);
	assert_int_equal(gm_dirty_enable(&gm), 0);
	clear(&gm);
	gm_mark_dirty(&gm, 5 * PG + 100, 1);
	expect_pages(&gm, (uint64_t[]){5}, 1);
	/* One byte each side of a page boundary. */
	gm_mark_dirty(&gm, 7 * PG - 1, 2);
	expect_pages(&gm, (uint64_t[]){6, 7}, 2);
	/* A whole page, aligned: that page only. */
	gm_mark_dirty(&gm, 9 * PG, PG);
	expect_pages(&gm, (uint64_t[]){9}, 1);
	/* Across a word boundary. */
	gm_mark_dirty(&gm, 62 * PG, 3 * PG);
	expect_pages(&gm, (uint64_t[]){62, 63, 64}, 3);
	/* Length 0 marks nothing. */
	gm_mark_dirty(&gm, 3 * PG, 0);
	expect_pages(&gm, NULL, 0);
	/* A whole word and then some: 64..130. */
	gm_mark_dirty(&gm, 64 * PG, 67 * PG);
	{
		size_t n = gm_dirty_words(&gm);
		uint64_t bm[4] = {0};

		assert_int_equal(n, 4);
		gm_dirty_take(&gm, bm);
		assert_int_equal(bm[0], 0);
		assert_int_equal(bm[1], UINT64_MAX);
		assert_int_equal(bm[2], 0x7);
		assert_int_equal(bm[3], 0);
	}
	/* Marks accumulate until taken; take ORs into what dst held. */
	gm_mark_dirty(&gm, 1 * PG, 1);
	gm_mark_dirty(&gm, 1 * PG + 8, 1);
	gm_mark_dirty(&gm, 199 * PG, PG);
	expect_pages(&gm, (uint64_t[]){1, 199}, 2);
	/* Past the top, partly or wholly; wrapping ranges. */
	gm_mark_dirty(&gm, 199 * PG + 10, 10 * PG);
	gm_mark_dirty(&gm, 200 * PG, 1);
	gm_mark_dirty(&gm, UINT64_MAX, 2);
	gm_mark_dirty(&gm, UINT64_MAX - 10, 100);
	expect_pages(&gm, (uint64_t[]){199}, 1);
	/* gm_write marks what it wrote. */
	assert_int_equal(gm_write(&gm, 10 * PG - 2, "abcd", 4), 0);
	expect_pages(&gm, (uint64_t[]){9, 10}, 2);
	/* A write refused (outside RAM) marks nothing. */
	assert_int_equal(gm_write(&gm, 200 * PG - 2, "abcd", 4), -EFAULT);
	expect_pages(&gm, NULL, 0);
	gm_free(&gm);
	free(mem);
}

/* Two regions around the hole, as layout() makes them, small enough to
 * hand-build: 3 pages at 0, 2 pages at 4 GiB, RAM offsets 0-2 and 3-4. */
static void two_regions(struct guest_mem *gm, uint8_t *mem)
{
	gm_init_wrap(gm, mem, 5 * PG);
	gm->nr_regions = 2;
	gm->regions[0] = (struct gm_region){0, 3 * PG, mem};
	gm->regions[1] = (struct gm_region){GM_HIGH_START, 2 * PG, mem + 3 * PG};
	assert_int_equal(gm_dirty_enable(gm), 0);
	clear(gm);
}

static void ranges_two_regions(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, 5 * PG);

	(void)state;
	two_regions(&gm, mem);
	/* The first page above the hole is RAM offset 3 * PG. */
	gm_mark_dirty(&gm, GM_HIGH_START, 1);
	expect_pages(&gm, (uint64_t[]){3}, 1);
	gm_mark_dirty(&gm, GM_HIGH_START + PG + 5, 1);
	expect_pages(&gm, (uint64_t[]){4}, 1);
	/* From the low region's last page into the hole: the RAM part only. */
	gm_mark_dirty(&gm, 2 * PG, 100 * PG);
	expect_pages(&gm, (uint64_t[]){2}, 1);
	/* The hole itself, and the hole's end just before 4 GiB. */
	gm_mark_dirty(&gm, 3 * PG, PG);
	gm_mark_dirty(&gm, GM_MMIO_HOLE_START, GM_HIGH_START - GM_MMIO_HOLE_START);
	expect_pages(&gm, NULL, 0);
	/* From the hole into the high region. */
	gm_mark_dirty(&gm, GM_HIGH_START - 8, 16);
	expect_pages(&gm, (uint64_t[]){3}, 1);
	/* Spanning both regions and the hole between them. */
	gm_mark_dirty(&gm, PG, GM_HIGH_START);
	expect_pages(&gm, (uint64_t[]){1, 2, 3}, 3);
	/* Past the top of the high region. */
	gm_mark_dirty(&gm, GM_HIGH_START + 2 * PG, PG);
	gm_mark_dirty(&gm, GM_HIGH_START + 2 * PG - 1, 2);
	expect_pages(&gm, (uint64_t[]){4}, 1);
	/* Everything, with a length that would wrap. */
	gm_mark_dirty(&gm, 0, UINT64_MAX);
	expect_pages(&gm, (uint64_t[]){0, 1, 2, 3, 4}, 5);
	gm_free(&gm);
	free(mem);
}

/* The real layout (memfd, MAP_NORESERVE: nothing is touched): 3 GiB + 8 KiB
 * puts two pages above 4 GiB at RAM offset 3 GiB. */
static void real_layout(void **state)
{
	struct guest_mem gm;
	uint64_t low = GM_MMIO_HOLE_START / PG;

	(void)state;
	if (gm_init(&gm, GM_MMIO_HOLE_START + 2 * PG)) {
		skip();
		return;
	}
	assert_int_equal(gm.nr_regions, 2);
	assert_int_equal(gm_dirty_words(&gm), (low + 2 + 63) / 64);
	assert_int_equal(gm_dirty_enable(&gm), 0);
	clear(&gm);
	gm_mark_dirty(&gm, GM_MMIO_HOLE_START - 1, 1);
	gm_mark_dirty(&gm, GM_HIGH_START + PG, PG);
	gm_mark_dirty(&gm, GM_MMIO_HOLE_START, PG);
	expect_pages(&gm, (uint64_t[]){low - 1, low + 1}, 2);
	gm_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(disabled_is_noop),
		cmocka_unit_test(enable_marks_all),
		cmocka_unit_test(ranges_one_region),
		cmocka_unit_test(ranges_two_regions),
		cmocka_unit_test(real_layout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
