/* Unit tests for the snapshot file container (src/snapshot/snapfile.c,
 * snaphost.c, crc32c.c, inspect.c): CRC32C vectors on both paths, the
 * encode/parse and write/read round trips, every refusal of the parser on
 * a small file doctored field by field (checksums recomputed where the test
 * is about what lies beneath them), truncation at every byte, the atomic
 * write's failures, the host signature check, and the inspector on good
 * and damaged files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "leftover.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/crc32c.h"
#include "snapshot/inspect.h"
#include "snapshot/snapfile.h"

static char err[512];

static const char machine[] = "machine-payload";	 /* 16 bytes with the NUL */
static const char memmap[] = "memmap";			 /* 7: padding follows */
static const char devices[] = "";			 /* 1 */
static const char cpu[] = "cpu state, 27 bytes long..."; /* 28 */

static const struct snap_host host = {
    .kvm_api_version = 12,
    .tsc_khz = 2400000,
    .cpuid_nent = 50,
    .cpuid_crc = 0x12345678,
    .msr_nent = 100,
    .msr_crc = 0x9abcdef0,
    .size = {144, 312, 416, 4096, 392, 128, 1024, 64, 48, 112, 520},
};

/* clang-format off */
#define SEC(t, f, p) {.type = (t), .version = 1, .flags = (f), .data = (p), .len = sizeof(p)}
/* clang-format on */

static const struct snap_section four[] = {
    SEC(SNAP_SEC_MACHINE, SNAP_SEC_REQUIRED, machine),
    SEC(SNAP_SEC_MEMMAP, SNAP_SEC_REQUIRED, memmap),
    SEC(SNAP_SEC_DEVICES, SNAP_SEC_REQUIRED, devices),
    SEC(SNAP_SEC_CPU, SNAP_SEC_REQUIRED, cpu),
};

static unsigned char *encode(const struct snap_section *secs, int n, size_t *len)
{
	void *buf = NULL;

	assert_int_equal(snap_encode(&host, secs, n, &buf, len, err, sizeof(err)), 0);
	return buf;
}

static void put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4); /* x86-64 is little-endian, like the file */
}

static void put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void fix_header(unsigned char *b)
{
	put32(b + SNAP_HEADER_LEN - 4, crc32c(0, b, SNAP_HEADER_LEN - 4));
}

static void fix_table(unsigned char *b, int n)
{
	size_t t = (size_t)n * SNAP_ENTRY_LEN;

	put32(b + SNAP_HEADER_LEN + t, crc32c(0, b + SNAP_HEADER_LEN, t));
}

static unsigned char *entry(unsigned char *b, int i)
{
	return b + SNAP_HEADER_LEN + (size_t)i * SNAP_ENTRY_LEN;
}

/* Parses an exact-size copy, so ASan sees a read past the end. */
static int parse(const unsigned char *b, size_t len, struct snap_file *f)
{
	unsigned char *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, b, len);
	err[0] = 0;
	rc = snap_parse(copy, len, f, err, sizeof(err));
	free(copy);
	return rc;
}

static void refused(const unsigned char *b, size_t len, const char *want)
{
	struct snap_file f;

	assert_int_equal(parse(b, len, &f), -EINVAL);
	if (!strstr(err, want))
		fail_msg("want \"%s\" in \"%s\"", want, err);
	assert_int_equal(f.nr, 0);
}

static void test_crc32c(void **state UNUSED)
{
	static const char v[] = "123456789";
	unsigned char zero[32] = {0}, ones[32], inc[32], big[301];

	memset(ones, 0xff, sizeof(ones));
	for (int i = 0; i < 32; i++)
		inc[i] = i;
	/* RFC 3720's vectors and the usual check value. */
	assert_int_equal(crc32c_sw(0, v, 9), 0xE3069283);
	assert_int_equal(crc32c_sw(0, zero, 32), 0x8A9136AA);
	assert_int_equal(crc32c_sw(0, ones, 32), 0x62A8AB43);
	assert_int_equal(crc32c_sw(0, inc, 32), 0x46DD794E);
	assert_int_equal(crc32c(0, v, 9), 0xE3069283);
	assert_int_equal(crc32c(0, v, 0), 0);
	assert_int_equal(crc32c(crc32c(0, v, 4), v + 4, 5), 0xE3069283);
	if (!crc32c_hw_available())
		skip();
	assert_int_equal(crc32c_hw(0, v, 9), 0xE3069283);
	assert_int_equal(crc32c_hw(0, inc, 32), 0x46DD794E);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 131 + 7);
	/* Every length and alignment the 8-byte loop and the tail can meet. */
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof(big); n += 7)
			assert_int_equal(crc32c_hw(0xdeadbeef, big + off, n),
					 crc32c_sw(0xdeadbeef, big + off, n));
}

static void test_round_trip(void **state UNUSED)
{
	struct snap_section secs[6];
	struct snap_file f;
	size_t len;
	unsigned char *b;

	memcpy(secs, four, sizeof(four));
	secs[4] = (struct snap_section)SEC(SNAP_SEC_INFO, 0, "saved by a test");
	secs[5] = (struct snap_section){.type = 77, .version = 3, .data = "x", .len = 1};
	b = encode(secs, 6, &len);
	assert_int_equal(parse(b, len, &f), 0);
	/* Parse again in place: parse() copied and freed. */
	assert_int_equal(snap_parse(b, len, &f, err, sizeof(err)), 0);
	assert_int_equal(f.nr, 6);
	assert_int_equal(f.version, SNAP_FORMAT_VERSION);
	assert_memory_equal(&f.host, &host, sizeof(host));
	assert_null(f.buf);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(f.secs[i].type, secs[i].type);
		assert_int_equal(f.secs[i].version, secs[i].version);
		assert_int_equal(f.secs[i].flags, secs[i].flags);
		assert_int_equal(f.secs[i].len, secs[i].len);
		assert_memory_equal(f.secs[i].data, secs[i].data, secs[i].len);
		assert_int_equal(((const unsigned char *)f.secs[i].data - b) % SNAP_SEC_ALIGN, 0);
	}
	assert_ptr_equal(snap_find(&f, SNAP_SEC_CPU), &f.secs[3]);
	assert_ptr_equal(snap_find(&f, SNAP_SEC_INFO), &f.secs[4]);
	/* The unknown optional section is kept but never found. */
	assert_null(snap_find(&f, 77));
	assert_null(snap_find(&f, 0));
	assert_int_equal((const unsigned char *)f.secs[5].data + 1 - b, len);
	free(b);
	/* No sections at all is a well-formed container. */
	b = encode(NULL, 0, &len);
	assert_int_equal(len, SNAP_HEADER_LEN + 4);
	assert_int_equal(parse(b, len, &f), 0);
	assert_int_equal(f.nr, 0);
	assert_null(snap_find(&f, SNAP_SEC_MACHINE));
	free(b);
}

static void test_names(void **state UNUSED)
{
	static const char *const names[] = {"unknown", "machine", "memmap", "devices",
					    "cpu",     "info",	  "unknown"};

	for (uint32_t t = 0; t < ARRAY_SIZE(names); t++)
		assert_string_equal(snap_sec_name(t), names[t]);
	assert_string_equal(snap_host_struct_name(SNAP_SZ_XSAVE), "kvm_xsave");
	assert_string_equal(snap_host_struct_name(SNAP_SZ_NR), "?");
}

/* A header field set to a value; fix: with the header CRC made right again. */
static const struct {
	size_t at;
	uint32_t v;
	bool fix;
	const char *want;
} header_cases[] = {
    {0, 0x4554494c, true, "not a kite snapshot"}, /* "LITESNAP" */
    {4, 0x50414e54, true, "not a kite snapshot"},
    {8, 2, false, "format version 2, this kite reads version 1"},
    {8, 2, true, "format version 2, this kite reads version 1"},
    {12, 3, true, "architecture 3, this kite is x86-64 (1)"},
    {16, 100, true, "header length 100, format version 1 has 96"},
    {40, 7, false, "header: checksum mismatch (stored 0x"}, /* in the host signature */
    {20, SNAP_MAX_SECTIONS + 1, true, "65 sections, at most 64"},
    {20, UINT32_MAX, true, "4294967295 sections, at most 64"},
};

static void test_header_refusals(void **state UNUSED)
{
	unsigned char c[SNAP_HEADER_LEN + 4];
	size_t len;
	unsigned char *b = encode(four, 0, &len);
	struct snap_file f;

	for (size_t i = 0; i < ARRAY_SIZE(header_cases); i++) {
		memcpy(c, b, sizeof(c));
		put32(c + header_cases[i].at, header_cases[i].v);
		if (header_cases[i].fix)
			fix_header(c);
		refused(c, sizeof(c), header_cases[i].want);
	}
	refused((const unsigned char *)"KITEX", 5, "not a kite snapshot");
	refused((const unsigned char *)"", 0, "truncated: the header is 96 bytes, the file has 0");
	/* Refused on the length alone: nothing past the magic is read. */
	assert_int_equal(snap_parse(b, (size_t)SNAP_FILE_MAX + 1, &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "the file is 268435457 bytes, a snapshot is at most"));
	free(b);
}

static void test_checksums(void **state UNUSED)
{
	size_t len;
	unsigned char *b = encode(four, 4, &len);
	unsigned char *p;
	uint64_t off;

	entry(b, 1)[4] ^= 1; /* version of section 1 */
	refused(b, len, "section table: checksum mismatch");
	entry(b, 1)[4] ^= 1;
	memcpy(&off, entry(b, 3) + 16, 8);
	p = b + off + 5;
	*p ^= 0x40;
	refused(b, len, "section 3 (cpu): checksum mismatch (stored 0x");
	*p ^= 0x40;
	b[len - 1] ^= 1; /* the last byte is the cpu section's NUL */
	refused(b, len, "computed 0x");
	b[len - 1] ^= 1;
	assert_int_equal(parse(b, len, &(struct snap_file){0}), 0);
	free(b);
}

/* Every prefix of a valid file is refused as truncated, never misread. */
static void test_truncation(void **state UNUSED)
{
	size_t len;
	unsigned char *b = encode(four, 4, &len);

	for (size_t n = 0; n < len; n++)
		refused(b, n, "truncated");
	refused(b, len - 1, "truncated: the table says section 3 ends at");
	refused(b, SNAP_HEADER_LEN + 10, "truncated: the section table ends at 228");
	free(b);
}

/* Rewrites field `at` (byte offset in the entry) of entry i, then the table
 * CRC, so the layout checks themselves are reached. */
static void refuse_entry(int i, size_t at, uint64_t v, int width, const char *want)
{
	size_t len;
	unsigned char *b = encode(four, 4, &len);

	if (width == 8)
		put64(entry(b, i) + at, v);
	else
		put32(entry(b, i) + at, (uint32_t)v);
	fix_table(b, 4);
	refused(b, len, want);
	free(b);
}

static void test_layout_refusals(void **state UNUSED)
{
	size_t len;
	unsigned char *t, *b = encode(four, 4, &len);
	uint64_t off1, pad;

	memcpy(&off1, entry(b, 1) + 16, 8);
	assert_int_equal(off1, 248);
	refuse_entry(1, 16, off1 + 4, 8, "section 1 (memmap): offset 252 is not 8-byte aligned");
	refuse_entry(1, 16, off1 - 8, 8, "section 1 (memmap): offset 240 overlaps");
	refuse_entry(0, 16, 96, 8, "section 0 (machine): offset 96 overlaps");
	refuse_entry(1, 16, off1 + 8, 8, "section 1 (memmap): offset 256 leaves a gap");
	refuse_entry(3, 16, 1ull << 40, 8, "leaves a gap");
	refuse_entry(3, 16, UINT64_MAX - 7, 8, "leaves a gap");
	refuse_entry(3, 24, 29, 8, "truncated: the table says section 3 ends at");
	refuse_entry(3, 24, (uint64_t)SNAP_FILE_MAX + 1, 8, "section 3 (cpu): 268435457 bytes");
	refuse_entry(3, 24, UINT64_MAX, 8, "at most 268435456");
	refuse_entry(2, 24, 0, 8, "section 3 (cpu): offset");
	refuse_entry(1, 0, SNAP_SEC_MACHINE, 4, "type 1 appears twice (sections 0 and 1)");
	refuse_entry(2, 0, 0, 4, "section 2: type 0 is invalid");
	refuse_entry(3, 0, 9, 4, "section type 9 is required but unknown to this kite");
	refuse_entry(0, 8, 3, 4, "section 0 (machine): unknown flags 0x2");
	refuse_entry(0, 8, 0x80000000u, 4, "unknown flags 0x80000000");
	/* Padding after memmap's 7 bytes must be zero. */
	pad = off1 + sizeof(memmap);
	b[pad] = 1;
	refused(b, len, "section 2 (devices): the padding before it is not zero");
	b[pad] = 0;
	free(b);
	/* Trailing bytes, zero or not, are refused. */
	b = encode(four, 4, &len);
	t = calloc(1, len + 8);
	memcpy(t, b, len);
	refused(t, len + 1, "1 trailing bytes after the last section");
	refused(t, len + 8, "8 trailing bytes");
	free(t);
	free(b);
}

static void enc_refused(const struct snap_section *s, int n, int rc, const char *want)
{
	size_t len;
	void *out;

	assert_int_equal(snap_encode(&host, s, n, &out, &len, err, sizeof(err)), rc);
	if (!strstr(err, want))
		fail_msg("want \"%s\" in \"%s\"", want, err);
}

static void test_sections_limit(void **state UNUSED)
{
	static const unsigned char data[SNAP_MAX_SECTIONS + 1];
	struct snap_section secs[SNAP_MAX_SECTIONS + 1];
	struct snap_file f;
	unsigned char *b;
	size_t len;

	for (int i = 0; i <= SNAP_MAX_SECTIONS; i++)
		secs[i] = (struct snap_section){.type = 100 + i, .data = data, .len = i};
	b = encode(secs, SNAP_MAX_SECTIONS, &len);
	assert_int_equal(parse(b, len, &f), 0);
	assert_int_equal(f.nr, SNAP_MAX_SECTIONS);
	free(b);
	enc_refused(secs, SNAP_MAX_SECTIONS + 1, -EINVAL, "65 sections, at most 64");
}

static void test_encode_refusals(void **state UNUSED)
{
	struct snap_section s[2] = {four[0], four[1]};
	size_t len;
	void *out;

	s[1].type = s[0].type;
	enc_refused(s, 2, -EINVAL, "section 1 (machine): type 1 appears twice");
	s[1] = four[1];
	s[1].flags = 4;
	enc_refused(s, 2, -EINVAL, "section 1 (memmap): unknown flags 0x4");
	s[1] = four[1];
	s[1].data = NULL;
	enc_refused(s, 2, -EINVAL, "section 1 (memmap): no data");
	s[1] = four[1];
	s[0].len = SNAP_FILE_MAX - 8;
	s[1].len = 200;
	enc_refused(s, 2, -EFBIG, "would be over 268435456 bytes");
	enc_refused(s, -1, -EINVAL, "-1 sections");
	/* A newer kite's required type can be written, not read. */
	s[0] = four[0];
	s[1] = (struct snap_section){.type = 9, .flags = SNAP_SEC_REQUIRED};
	assert_int_equal(snap_encode(&host, s, 2, &out, &len, err, sizeof(err)), 0);
	refused(out, len, "section type 9 is required but unknown to this kite");
	free(out);
}

/* ---- files: atomic write, read, inspect ---- */

static char dir[64];

static const char *at(const char *name)
{
	static char path[2][128];
	static int k;

	k ^= 1;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

static int setup_dir(void **state UNUSED)
{
	strcpy(dir, "/tmp/test_snapfile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

/* Each test removes its files: the directory must be empty again. */
static int teardown_dir(void **state UNUSED)
{
	return rmdir(dir);
}

static bool leftover(const char *name)
{
	return leftover_in(dir, name);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static void write_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static void test_write_read(void **state UNUSED)
{
	struct snap_file f;
	struct stat st;

	assert_int_equal(snap_write(at("s"), &host, four, 4, err, sizeof(err)), 0);
	assert_false(leftover("s"));
	assert_int_equal(stat(at("s"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* it holds the guest's state */
	assert_int_equal(snap_read(at("s"), &f, err, sizeof(err)), 0);
	assert_non_null(f.buf);
	assert_int_equal(f.nr, 4);
	assert_memory_equal(snap_find(&f, SNAP_SEC_CPU)->data, cpu, sizeof(cpu));
	assert_memory_equal(&f.host, &host, sizeof(host));
	snap_file_free(&f);
	assert_null(f.buf);
	assert_int_equal(f.nr, 0);
	/* Replacing a snapshot. */
	assert_int_equal(snap_write(at("s"), &host, four + 2, 2, err, sizeof(err)), 0);
	assert_int_equal(snap_read(at("s"), &f, err, sizeof(err)), 0);
	assert_int_equal(f.nr, 2);
	assert_null(snap_find(&f, SNAP_SEC_MACHINE));
	snap_file_free(&f);
	assert_int_equal(unlink(at("s")), 0);
}

static void test_write_failures(void **state UNUSED)
{
	struct snap_section dup[2] = {four[0], four[0]};
	struct snap_file f;
	struct stat st;

	/* No such directory: nothing is created anywhere. */
	assert_int_equal(snap_write(at("none/s"), &host, four, 4, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "none/s"));
	assert_false(exists(at("none")));
	/* The target is a directory: rename fails after the tmp was written. */
	assert_int_equal(mkdir(at("d"), 0755), 0);
	assert_int_equal(snap_write(at("d"), &host, four, 4, err, sizeof(err)), -EISDIR);
	assert_false(leftover("d"));
	assert_int_equal(rmdir(at("d")), 0);
	/* A file left by an interrupted save (any name beside the target) is
	 * neither used nor removed, and does not block the next save. */
	assert_int_equal(snap_write(at("s"), &host, four, 4, err, sizeof(err)), 0);
	write_bytes(at("s.tmp"), "keep", 4);
	assert_int_equal(snap_write(at("s"), &host, four, 1, err, sizeof(err)), 0);
	assert_int_equal(stat(at("s.tmp"), &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(unlink(at("s.tmp")), 0);
	assert_int_equal(snap_write(at("s"), &host, four, 4, err, sizeof(err)), 0);
	/* A refused encoding leaves the old snapshot as it was. */
	assert_int_equal(snap_write(at("s"), &host, dup, 2, err, sizeof(err)), -EINVAL);
	assert_false(leftover("s"));
	assert_int_equal(snap_read(at("s"), &f, err, sizeof(err)), 0);
	assert_int_equal(f.nr, 4);
	snap_file_free(&f);
	/* Root writes into a 0555 directory anyway: only checked for others. */
	if (geteuid() != 0) {
		assert_int_equal(chmod(dir, 0555), 0);
		assert_int_equal(snap_write(at("s"), &host, four, 1, err, sizeof(err)), -EACCES);
		assert_int_equal(chmod(dir, 0755), 0);
		assert_false(leftover("s"));
	}
	assert_int_equal(unlink(at("s")), 0);
}

static void test_read_failures(void **state UNUSED)
{
	struct snap_file f;
	size_t len;
	unsigned char *b = encode(four, 4, &len);
	int fd;

	assert_int_equal(snap_read(at("missing"), &f, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/missing: "));
	assert_int_equal(snap_read(dir, &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	fd = open(at("huge"), O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)SNAP_FILE_MAX + 1), 0); /* sparse */
	close(fd);
	assert_int_equal(snap_read(at("huge"), &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "268435457 bytes, a snapshot is at most 268435456"));
	b[len - 2] ^= 1;
	write_bytes(at("bad"), b, len);
	assert_int_equal(snap_read(at("bad"), &f, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/bad: section 3 (cpu): checksum mismatch"));
	assert_null(f.buf);
	unlink(at("huge"));
	unlink(at("bad"));
	free(b);
}

/* One word of the signature changed (struct snap_host is all u32), and the
 * difference it must be named by; NULL: no difference that counts. */
static const struct {
	int word;
	uint32_t v;
	const char *want;
} host_cases[] = {
    {1, 0, NULL}, /* the TSC not measured here */
    {1, 3000000, "TSC 2400000 kHz there, 3000000 kHz here"},
    {6 + SNAP_SZ_XSAVE, 11008, "struct kvm_xsave 4096 bytes there, 11008 here"},
    {6 + SNAP_SZ_IRQCHIP, 0, "struct kvm_irqchip 520 bytes there, 0 here"},
    {3, 1, "CPUID differs (50 entries, checksum 0x12345678 there; 50 entries, 0x00000001 here)"},
    {2, 51, "CPUID differs (50 entries"},
    {4, 99, "MSR list differs (100 MSRs, checksum 0x9abcdef0 there; 99 MSRs"},
    {5, 1, "MSR list differs"},
    {0, 13, "KVM API version 12 there, 13 here"},
};

static void test_host_check(void **state UNUSED)
{
	assert_int_equal(snap_host_check(&host, &host, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(host_cases); i++) {
		struct snap_host h = host;
		int rc;

		((uint32_t *)&h)[host_cases[i].word] = host_cases[i].v;
		rc = snap_host_check(&host, &h, err, sizeof(err));
		if (!host_cases[i].want) {
			assert_int_equal(rc, 0);
			continue;
		}
		assert_int_equal(rc, -EINVAL);
		if (strncmp(err, "snapshot taken on another host: ", 32) ||
		    !strstr(err, host_cases[i].want))
			fail_msg("want \"%s\" in \"%s\"", host_cases[i].want, err);
	}
	/* Only the first difference is named: the struct before the TSC. */
	{
		struct snap_host h = host;

		h.tsc_khz = 1;
		h.size[SNAP_SZ_FPU] = 1;
		assert_int_equal(snap_host_check(&host, &h, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "struct kvm_fpu 416 bytes there, 1 here"));
	}
}

static void test_host_probe(void **state UNUSED)
{
	struct snap_host a, b;
	cpu_set_t all;
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		skip();
	assert_int_equal(snap_host_probe(fd, 1234, &a), 0);
	assert_int_equal(snap_host_probe(fd, 0, &b), 0);
	assert_int_equal(a.kvm_api_version, 12);
	assert_int_equal(a.tsc_khz, 1234);
	assert_true(a.cpuid_nent > 0 && a.msr_nent > 0);
	assert_int_equal(a.size[SNAP_SZ_REGS], 144);
	assert_true(a.size[SNAP_SZ_XSAVE] >= 4096);
	/* Deterministic, and the TSC of 0 is not compared. */
	assert_int_equal(snap_host_check(&a, &b, err, sizeof(err)), 0);
	assert_int_equal(a.cpuid_crc, b.cpuid_crc);
	/* Nor does it depend on the CPU the probe runs on (KVM reports that
	 * CPU's APIC ID). */
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		cpu_set_t one;

		if (!CPU_ISSET(cpu, &all))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
		assert_int_equal(snap_host_probe(fd, 1234, &b), 0);
		assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
		assert_memory_equal(&a, &b, sizeof(a));
	}
	close(fd);
	assert_int_equal(snap_host_probe(-1, 0, &a), -EBADF);
}

static char *inspect(const char *path, int want_rc)
{
	char *out = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&out, &n);

	assert_non_null(f);
	assert_int_equal(snap_inspect(path, f, err, sizeof(err)), want_rc);
	fclose(f);
	return out;
}

static void has(const char *out, const char *want)
{
	/* out is never NULL here (open_memstream), but GCC under ASan cannot
	 * tell and refuses a %s of it. */
	if (!out || !strstr(out, want))
		fail_msg("want \"%s\" in:\n%s", want, out ? out : "(nothing)");
}

static void test_inspect(void **state UNUSED)
{
	size_t len;
	unsigned char *b = encode(four, 4, &len);
	char *out;

	write_bytes(at("good"), b, len);
	out = inspect(at("good"), 0);
	has(out, "format version: 1\narchitecture: 1 (x86-64)\n");
	has(out, "host: TSC 2400000 kHz\n");
	has(out, "host: struct kvm_xsave 4096 bytes\n");
	has(out, "header checksum: 0x");
	has(out, "section table checksum: 0x");
	has(out, "   3 cpu      type 4 version 1 required offset 264 length 28 crc32c 0x");
	has(out, "verdict: ok\n");
	if (exists("/dev/kvm"))
		has(out, "this host: ");
	free(out);
	/* A payload damaged: still listed, the mismatch shown, the status -EINVAL. */
	b[len - 2] ^= 1;
	write_bytes(at("bad"), b, len);
	out = inspect(at("bad"), -EINVAL);
	has(out, "   0 machine  type 1 version 1 required offset 232 length 16 crc32c 0x");
	has(out, "length 28 crc32c");
	has(out, " MISMATCH\nverdict: damaged: section 3 (cpu): checksum mismatch");
	has(err, "/bad: section 3 (cpu)");
	free(out);
	/* Truncated inside the table: the whole entries still shown. */
	write_bytes(at("bad"), b, SNAP_HEADER_LEN + 70);
	out = inspect(at("bad"), -EINVAL);
	has(out, "section table: truncated (ends at 228, the file has 166 bytes)\n");
	has(out, "   1 memmap   type 2 version 1 required offset 248 length 7 crc32c 0x");
	has(out, "OUTSIDE THE FILE\nverdict: damaged: truncated");
	free(out);
	write_bytes(at("bad"), "#!/bin/sh\n", 10);
	out = inspect(at("bad"), -EINVAL);
	has(out, "magic: not \"KITESNAP\"\nverdict: damaged: not a kite snapshot\n");
	free(out);
	assert_int_equal(snapshot_cmd(2, (char *[]){"inspect", (char *)at("good"), NULL}), 0);
	assert_int_equal(snapshot_cmd(2, (char *[]){"inspect", (char *)at("bad"), NULL}), 2);
	assert_int_equal(snapshot_cmd(2, (char *[]){"inspect", (char *)at("none"), NULL}), 2);
	assert_int_equal(snapshot_cmd(1, (char *[]){"inspect", NULL}), 2);
	assert_int_equal(snapshot_cmd(2, (char *[]){"merge", "x", NULL}), 2);
	assert_int_equal(snapshot_cmd(0, (char *[]){NULL}), 2);
	unlink(at("good"));
	unlink(at("bad"));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c),	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_names),	    cmocka_unit_test(test_header_refusals),
	    cmocka_unit_test(test_checksums),	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_layout_refusals), cmocka_unit_test(test_sections_limit),
	    cmocka_unit_test(test_encode_refusals), cmocka_unit_test(test_write_read),
	    cmocka_unit_test(test_write_failures),  cmocka_unit_test(test_read_failures),
	    cmocka_unit_test(test_host_check),	    cmocka_unit_test(test_host_probe),
	    cmocka_unit_test(test_inspect),
	};

	/* One scratch directory for the file tests, removed at the end. */
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
