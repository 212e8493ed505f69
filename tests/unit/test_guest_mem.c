/* guest_mem: the checked accessor, including overflow and region edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "guest_mem.h"

static void wrap_bounds(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, 4096);

	(void)state;
	gm_init_wrap(&gm, mem, 4096);
	assert_ptr_equal(gm_ptr(&gm, 0, 4096), mem);
	assert_ptr_equal(gm_ptr(&gm, 4095, 1), mem + 4095);
	assert_ptr_equal(gm_ptr(&gm, 4096, 0), mem + 4096);
	assert_null(gm_ptr(&gm, 4096, 1));
	assert_null(gm_ptr(&gm, 4095, 2));
	assert_null(gm_ptr(&gm, 0, 4097));
	assert_null(gm_ptr(&gm, 4097, 0));
	/* Overflowing ranges must not wrap around into RAM. */
	assert_null(gm_ptr(&gm, UINT64_MAX, 2));
	assert_null(gm_ptr(&gm, 1, UINT64_MAX));
	assert_null(gm_ptr(&gm, UINT64_MAX - 10, 20));
	assert_null(gm_ptr(&gm, 16, UINT64_MAX - 8));
	free(mem);
}

static void read_write(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, 8192);
	uint32_t v = 0xdeadbeef, r = 0;

	(void)state;
	gm_init_wrap(&gm, mem, 8192);
	assert_int_equal(gm_write(&gm, 100, &v, sizeof(v)), 0);
	assert_int_equal(gm_read(&gm, 100, &r, sizeof(r)), 0);
	assert_int_equal(r, 0xdeadbeef);
	assert_int_equal(gm_write(&gm, 8190, &v, sizeof(v)), -EFAULT);
	assert_int_equal(gm_read(&gm, 8190, &r, sizeof(r)), -EFAULT);
	/* A failed write changes nothing. */
	assert_int_equal(mem[8190], 0);
	free(mem);
}

static void memfd_layout_small(void **state)
{
	struct guest_mem gm;

	(void)state;
	assert_int_equal(gm_init(&gm, 16 << 20), 0);
	assert_int_equal(gm.nr_regions, 1);
	assert_int_equal(gm_top(&gm), 16 << 20);
	assert_non_null(gm_ptr(&gm, 0, 16 << 20));
	assert_null(gm_ptr(&gm, (16 << 20) - 1, 2));
	gm_free(&gm);
}

static void memfd_layout_hole(void **state)
{
	struct guest_mem gm;
	uint64_t size = GM_MMIO_HOLE_START + (64ull << 20);
	uint8_t *low_end, *high;

	(void)state;
	/* MAP_NORESERVE: costs nothing until touched. */
	assert_int_equal(gm_init(&gm, size), 0);
	assert_int_equal(gm.nr_regions, 2);
	assert_int_equal(gm.regions[1].gpa, GM_HIGH_START);
	assert_int_equal(gm.regions[1].size, 64ull << 20);
	assert_int_equal(gm_top(&gm), GM_HIGH_START + (64ull << 20));
	/* The hole is not RAM, and no access spans it. */
	assert_null(gm_ptr(&gm, GM_MMIO_HOLE_START, 1));
	assert_null(gm_ptr(&gm, 0xFEC00000ull, 4));
	assert_null(gm_ptr(&gm, GM_MMIO_HOLE_START - 4, 8));
	low_end = gm_ptr(&gm, GM_MMIO_HOLE_START - 1, 1);
	high = gm_ptr(&gm, GM_HIGH_START, 1);
	assert_non_null(low_end);
	assert_ptr_equal(high, low_end + 1); /* contiguous in the host mapping */
	*high = 7;
	assert_int_equal(gm.base[GM_MMIO_HOLE_START], 7);
	gm_free(&gm);
}

static void init_rejects(void **state)
{
	struct guest_mem gm;

	(void)state;
	assert_int_equal(gm_init(&gm, 0), -EINVAL);
	assert_int_equal(gm_init(&gm, 4097), -EINVAL);
}

static void write_meminfo(char *path, const char *text)
{
	int fd;

	strcpy(path, "/tmp/kite-test-meminfo-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* 2 MiB pages: sizes that fit them, and the count the host can give. */
static void huge_page_sizes(void **state)
{
	struct guest_mem gm;
	uint64_t n = 0;

	(void)state;
	assert_int_equal(gm_huge_pages_needed(128ull << 20, &n), 0);
	assert_int_equal(n, 64);
	assert_int_equal(gm_huge_pages_needed(2ull << 20, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(gm_huge_pages_needed(0, &n), -EINVAL);
	assert_int_equal(gm_huge_pages_needed(1ull << 20, &n), -EINVAL);
	assert_int_equal(gm_huge_pages_needed((128ull << 20) + 4096, &n), -EINVAL);
	/* Checked before any memory is asked for. */
	assert_int_equal(gm_init_backed(&gm, 3ull << 20, GM_PAGES_HUGE_2M), -EINVAL);
	assert_int_equal(gm.fd, -1);
}

static void huge_pages_free(void **state)
{
	char path[64];
	uint64_t n = 0;

	(void)state;
	write_meminfo(path, "MemTotal:       24000000 kB\nHugePages_Total:      40\n"
			    "HugePages_Free:       30\nHugePages_Rsvd:        4\n"
			    "HugePages_Surp:        0\nHugepagesize:       2048 kB\n");
	assert_int_equal(gm_huge_pages_free(path, &n), 0);
	assert_int_equal(n, 26);
	unlink(path);
	write_meminfo(path, "HugePages_Free: 1\nHugePages_Rsvd: 3\nHugepagesize: 2048 kB\n");
	assert_int_equal(gm_huge_pages_free(path, &n), 0);
	assert_int_equal(n, 0);
	unlink(path);
	write_meminfo(path, "HugePages_Free: 8\nHugePages_Rsvd: 0\nHugepagesize: 1048576 kB\n");
	assert_int_equal(gm_huge_pages_free(path, &n), -ENOTSUP);
	unlink(path);
	write_meminfo(path, "MemTotal: 1 kB\n");
	assert_int_equal(gm_huge_pages_free(path, &n), -ENOENT);
	unlink(path);
	assert_true(gm_huge_pages_free("/nonexistent/meminfo", &n) < 0);
}

/* Transparent huge pages: ordinary memory, usable as ever. */
static void thp_backing(void **state)
{
	struct guest_mem gm;

	(void)state;
	assert_int_equal(gm_init_backed(&gm, 4ull << 20, GM_PAGES_THP), 0);
	assert_int_equal(gm_write(&gm, 0x1000, "x", 1), 0);
	gm_free(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wrap_bounds),
		cmocka_unit_test(read_write),
		cmocka_unit_test(memfd_layout_small),
		cmocka_unit_test(memfd_layout_hole),
		cmocka_unit_test(init_rejects),
		cmocka_unit_test(huge_page_sizes),
		cmocka_unit_test(huge_pages_free),
		cmocka_unit_test(thp_backing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
