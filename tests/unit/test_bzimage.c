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

/* bz_default()'s payload_len. */
#define PAYLOAD_LEN 8192u

/* One change to the default file. Every bz_opts field is stored at a fixed
 * offset and only setup_sects moves anything (0 keeps the layout of 4), so a
 * patch gives the same bytes as bz_build from the changed bz_opts. */
struct patch {
	size_t off;
	unsigned width; /* 1, 2 or 4 bytes, little-endian */
	uint32_t value;
};

static uint8_t *build_patched(const struct patch *p, size_t *len)
{
	struct bz_opts o = bz_default();
	uint8_t *f = bz_build(&o, len);

	assert_non_null(f);
	if (p->width == 1)
		f[p->off] = (uint8_t)p->value;
	else if (p->width == 2)
		le16_put(f + p->off, (uint16_t)p->value);
	else
		le32_put(f + p->off, p->value);
	return f;
}

/* Files the parser must refuse. */
static const struct bad_case {
	const char *what;
	struct patch p;
	int want;	    /* the exact return, or 0 for any negative one */
	const char *needle; /* in the message, or NULL */
} bad_cases[] = {
    {"boot flag", {BZ_BOOT_FLAG, 1, 0}, -ENOEXEC, "not a bzImage"},
    {"HdrS magic", {BZ_HEADER, 1, 'X'}, -ENOEXEC, NULL},
    {"protocol 2.05", {BZ_VERSION, 2, 0x0205}, 0, "2.05 is older than 2.12"},
    {"protocol 2.11", {BZ_VERSION, 2, 0x020b}, 0, "2.11"},
    {"no XLF_KERNEL_64", {BZ_XLOADFLAGS, 2, BZ_XLF_CAN_BE_LOADED_ABOVE_4G}, 0, "XLF_KERNEL_64"},
    {"zImage", {BZ_LOADFLAGS, 1, 0}, 0, "zImage"},
    /* The header would end at 0x242. */
    {"short header", {BZ_JUMP + 1, 1, 0x40}, 0, "too short"},
    {"syssize past the file", {BZ_SYSSIZE, 4, PAYLOAD_LEN / 16 + 1}, 0, "truncated"},
    {"syssize huge", {BZ_SYSSIZE, 4, 0xffffffff}, 0, "truncated"},
    {"syssize 0", {BZ_SYSSIZE, 4, 0}, 0, "syssize"},
    /* 128 KiB of setup in a 10 KiB file. */
    {"setup_sects 255", {BZ_SETUP_SECTS, 1, 255}, 0, "setup"},
    {"alignment 3 MiB", {BZ_KERNEL_ALIGNMENT, 4, 0x300000}, 0, "power of two"},
    {"alignment 0", {BZ_KERNEL_ALIGNMENT, 4, 0}, 0, "power of two"},
};

static void test_refused_headers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct bzimage_info bi;
		char err[256];
		size_t len;
		uint8_t *f = build_patched(&c->p, &len);
		int rc = parse(f, len, &bi, err);

		if (c->want ? rc != c->want : rc >= 0)
			fail_msg("%s: parse returned %d, want %d", c->what, rc, c->want);
		if (c->needle && !strstr(err, c->needle))
			fail_msg("%s: error '%s' lacks '%s'", c->what, err, c->needle);
		free(f);
	}
}

#define INFO_FIELD(f) offsetof(struct bzimage_info, f), sizeof(((struct bzimage_info *)0)->f)

/* Unusual files the parser must take, and the one field each changes. */
static const struct good_case {
	const char *what;
	struct patch p;
	size_t field, size; /* in struct bzimage_info */
	uint64_t want;
} good_cases[] = {
    {"setup_sects 0 means 4", {BZ_SETUP_SECTS, 1, 0}, INFO_FIELD(payload_off), 5 * 512},
    /* A 64-byte signature follows the payload. */
    {"trailing bytes",
     {BZ_SYSSIZE, 4, PAYLOAD_LEN / 16 - 4},
     INFO_FIELD(payload_len),
     PAYLOAD_LEN - 64},
    {"long header clamped", {BZ_JUMP + 1, 1, 0xff}, INFO_FIELD(hdr_end), BZ_HDR_LIMIT},
};

static void test_unusual_headers_accepted(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good_cases) / sizeof(good_cases[0]); i++) {
		const struct good_case *c = &good_cases[i];
		struct bzimage_info bi;
		char err[256];
		size_t len;
		uint8_t *f = build_patched(&c->p, &len);
		uint64_t got = 0;
		int rc = parse(f, len, &bi, err);

		if (rc != 0)
			fail_msg("%s: parse returned %d (%s)", c->what, rc, err);
		memcpy(&got, (const uint8_t *)&bi + c->field, c->size); /* x86: little-endian */
		if (got != c->want)
			fail_msg("%s: got 0x%llx, want 0x%llx", c->what, (unsigned long long)got,
				 (unsigned long long)c->want);
		free(f);
	}
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
	    cmocka_unit_test(test_truncated_everywhere),
	    /* One patched header field a row: */
	    cmocka_unit_test(test_refused_headers),
	    cmocka_unit_test(test_unusual_headers_accepted),
	    cmocka_unit_test(test_extent),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
