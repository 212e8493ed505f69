/* bzImage header validation and loading on synthetic kernel files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/bzimage.h"
#include "guest_mem.h"
#include "x86_test_images.h"

#define RAM_SIZE (32u << 20)

static int parse(const uint8_t *f, size_t len, struct bzimage_info *bi, char *err)
{
	err[0] = 0;
	return bzimage_parse(f, len, bi, err, 256);
}

static void expect_fail(const struct bz_opts *o, const char *needle)
{
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(o, &len);

	assert_non_null(f);
	assert_true(parse(f, len, &bi, err) < 0);
	assert_true(strlen(err) > 0);
	if (needle && !strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
	free(f);
}

static void test_parse_ok(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	assert_int_equal(parse(f, len, &bi, err), 0);
	assert_int_equal(bi.version, 0x020f);
	assert_int_equal(bi.payload_off, 5 * 512);
	assert_int_equal(bi.payload_len, 8192);
	assert_int_equal(bi.hdr_end, 0x26c);
	assert_int_equal(bi.cmdline_size, 2047);
	assert_int_equal(bi.initrd_addr_max, 0x7fffffff);
	assert_int_equal(bi.kernel_alignment, 0x200000);
	assert_int_equal(bi.pref_address, 0x1000000);
	assert_int_equal(bi.init_size, 0x400000);
	assert_int_equal(bi.relocatable, 1);
	free(f);
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f;

	(void)state;
	o.setup_sects = 0;
	f = bz_build(&o, &len);
	assert_int_equal(parse(f, len, &bi, err), 0);
	assert_int_equal(bi.payload_off, 5 * 512);
	free(f);
}

static void test_trailing_bytes_allowed(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f;

	(void)state;
	o.syssize = o.payload_len / 16 - 4; /* a 64-byte signature follows */
	f = bz_build(&o, &len);
	assert_int_equal(parse(f, len, &bi, err), 0);
	assert_int_equal(bi.payload_len, o.payload_len - 64);
	free(f);
}

static void test_truncated_everywhere(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	for (size_t l = 0; l < len; l++) {
		/* A copy of exactly l bytes so ASan catches any over-read. */
		uint8_t *t = malloc(l ? l : 1);

		memcpy(t, f, l);
		assert_true(parse(t, l, &bi, err) < 0);
		assert_true(strlen(err) > 0);
		free(t);
	}
	free(f);
}

static void test_bad_magics(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	f[BZ_BOOT_FLAG] = 0;
	assert_int_equal(parse(f, len, &bi, err), -ENOEXEC);
	assert_non_null(strstr(err, "not a bzImage"));
	f[BZ_BOOT_FLAG] = 0x55;
	f[BZ_HEADER] = 'X';
	assert_int_equal(parse(f, len, &bi, err), -ENOEXEC);
	free(f);
}

static void test_old_protocol(void **state)
{
	struct bz_opts o = bz_default();

	(void)state;
	o.version = 0x0205;
	expect_fail(&o, "2.05 is older than 2.12");
	o.version = 0x020b;
	expect_fail(&o, "2.11");
}

static void test_no_kernel64(void **state)
{
	struct bz_opts o = bz_default();

	(void)state;
	o.xloadflags = BZ_XLF_CAN_BE_LOADED_ABOVE_4G;
	expect_fail(&o, "XLF_KERNEL_64");
}

static void test_zimage(void **state)
{
	struct bz_opts o = bz_default();

	(void)state;
	o.loadflags = 0;
	expect_fail(&o, "zImage");
}

static void test_short_header(void **state)
{
	struct bz_opts o = bz_default();

	(void)state;
	o.hdr_len = 0x40; /* header would end at 0x242 */
	expect_fail(&o, "too short");
}

static void test_long_header_clamped(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f;

	(void)state;
	o.hdr_len = 0xff;
	f = bz_build(&o, &len);
	assert_int_equal(parse(f, len, &bi, err), 0);
	assert_int_equal(bi.hdr_end, BZ_HDR_LIMIT);
	free(f);
}

static void test_syssize(void **state)
{
	struct bz_opts o = bz_default();

	(void)state;
	o.syssize = o.payload_len / 16 + 1;
	expect_fail(&o, "truncated");
	o.syssize = 0xffffffff;
	expect_fail(&o, "truncated");
}

static void test_syssize_zero(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	le32_put(f + BZ_SYSSIZE, 0);
	assert_true(parse(f, len, &bi, err) < 0);
	assert_non_null(strstr(err, "syssize"));
	free(f);
}

static void test_setup_sects_huge(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	f[BZ_SETUP_SECTS] = 255; /* 128 KiB of setup in an 10 KiB file */
	assert_true(parse(f, len, &bi, err) < 0);
	assert_non_null(strstr(err, "setup"));
	free(f);
}

static void test_bad_alignment(void **state)
{
	struct bz_opts o = bz_default();

	(void)state;
	o.kernel_alignment = 0x300000;
	expect_fail(&o, "power of two");
	o.kernel_alignment = 0;
	expect_fail(&o, "power of two");
}

static void test_extent(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	uint64_t s, e;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	assert_int_equal(parse(f, len, &bi, err), 0);
	/* Relocatable: runs at max(align_up(1 MiB, 2 MiB), 16 MiB). */
	assert_int_equal(bzimage_extent(&bi, 0x100000, &s, &e), 0);
	assert_int_equal(s, 0x100000);
	assert_int_equal(e, 0x1000000 + 0x400000);
	/* Fixed kernel: runs at pref_address. */
	bi.relocatable = 0;
	bi.pref_address = 0x2000000;
	assert_int_equal(bzimage_extent(&bi, 0x100000, &s, &e), 0);
	assert_int_equal(e, 0x2400000);
	/* Overflow from the file's pref_address is refused. */
	bi.pref_address = UINT64_MAX - 10;
	assert_int_equal(bzimage_extent(&bi, 0x100000, &s, &e), -EINVAL);
	bi.relocatable = 1;
	bi.kernel_alignment = 1u << 31;
	assert_int_equal(bzimage_extent(&bi, UINT64_MAX - 4096, &s, &e), -EINVAL);
	free(f);
}

static void test_load(void **state)
{
	struct bz_opts o = bz_default();
	struct bzimage_info bi;
	struct guest_mem gm;
	uint8_t *ram = calloc(1, RAM_SIZE), zp[4096] = {0};
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	gm_init_wrap(&gm, ram, RAM_SIZE);
	assert_int_equal(parse(f, len, &bi, err), 0);
	assert_int_equal(bzimage_load(&gm, f, &bi, 0x100000, err, sizeof(err)), 0);
	assert_memory_equal(ram + 0x100000, f + 5 * 512, 8192);
	/* Does not fit at the top of RAM. */
	assert_int_equal(bzimage_load(&gm, f, &bi, RAM_SIZE - 4096, err, sizeof(err)), -ENOMEM);
	assert_non_null(strstr(err, "does not fit"));
	bzimage_copy_header(f, &bi, zp);
	assert_memory_equal(zp + 0x1f1, f + 0x1f1, 0x26c - 0x1f1);
	assert_int_equal(zp[0x26c], 0);
	assert_int_equal(zp[0x1f0], 0);
	free(f);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_ok),
	    cmocka_unit_test(test_setup_sects_zero_means_four),
	    cmocka_unit_test(test_trailing_bytes_allowed),
	    cmocka_unit_test(test_truncated_everywhere),
	    cmocka_unit_test(test_bad_magics),
	    cmocka_unit_test(test_old_protocol),
	    cmocka_unit_test(test_no_kernel64),
	    cmocka_unit_test(test_zimage),
	    cmocka_unit_test(test_short_header),
	    cmocka_unit_test(test_long_header_clamped),
	    cmocka_unit_test(test_syssize),
	    cmocka_unit_test(test_syssize_zero),
	    cmocka_unit_test(test_setup_sects_huge),
	    cmocka_unit_test(test_bad_alignment),
	    cmocka_unit_test(test_extent),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
