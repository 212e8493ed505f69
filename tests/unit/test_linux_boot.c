/* The Linux loader end to end on synthetic kernels: zero page and PVH
 * start_info fields, e820, command line and initrd placement, entry points,
 * and one clear error for each kind of bad input. A real bzImage from /boot
 * (or $KITE_TEST_VMLINUZ) is loaded too when one is present. */
#include <errno.h>
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "arch/x86/elf_load.h"
#include "arch/x86/linux_boot.h"
#include "arch/x86/mptable.h"
#include "guest_mem.h"
#include "x86_test_images.h"

#define RAM_SIZE (64ull << 20)

static uint8_t *ram;
static struct guest_mem gm;
static uint8_t initrd[3 << 20];

static int setup(void **state)
{
	(void)state;
	ram = malloc(RAM_SIZE);
	memset(ram, 0xcc, RAM_SIZE);
	gm_init_wrap(&gm, ram, RAM_SIZE);
	for (size_t i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i ^ (i >> 8));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static struct linux_boot_cfg cfg_for(const uint8_t *k, size_t len)
{
	return (struct linux_boot_cfg){
	    .kernel = k,
	    .kernel_len = len,
	    .initrd = initrd,
	    .initrd_len = sizeof(initrd) - 123,
	    .cmdline = "console=ttyS0 root=/dev/vda",
	    .nr_cpus = 2,
	    .prefer_pvh = 1,
	};
}

static int load(const struct linux_boot_cfg *cfg, struct linux_boot_entry *e, char *err)
{
	err[0] = 0;
	return linux_boot_load(&gm, cfg, e, err, 256);
}

static void expect_fail(const struct linux_boot_cfg *cfg, int want, const char *needle)
{
	struct linux_boot_entry e;
	char err[256];
	int r = load(cfg, &e, err);

	if (want)
		assert_int_equal(r, want);
	assert_true(r < 0);
	assert_true(strlen(err) > 0);
	if (needle && !strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void check_e820_64m(const uint8_t *tbl, int n, size_t stride)
{
	static const uint64_t want[4][3] = {
	    {0, 0x9fc00, E820_RAM},
	    {0x9fc00, 0x400, E820_RESERVED},
	    {0xe0000, 0x20000, E820_RESERVED},
	    {0x100000, RAM_SIZE - 0x100000, E820_RAM},
	};

	assert_int_equal(n, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(le64_get(tbl + i * stride), want[i][0]);
		assert_int_equal(le64_get(tbl + i * stride + 8), want[i][1]);
		assert_int_equal(le32_get(tbl + i * stride + 16), want[i][2]);
	}
}

static void check_initrd(const struct linux_boot_entry *e, uint64_t top, size_t len)
{
	assert_int_equal(e->initrd_size, len);
	assert_int_equal(e->initrd_addr % 4096, 0);
	assert_true(e->initrd_addr + len <= top);
	assert_true(e->initrd_addr + len + 4096 > top); /* as high as possible */
	assert_true(e->initrd_addr >= e->kernel_end);
	assert_memory_equal(ram + e->initrd_addr, initrd, len);
}

static void test_bzimage(void **state)
{
	struct bz_opts o = bz_default();
	struct linux_boot_cfg cfg;
	struct linux_boot_entry e;
	const uint8_t *zp = NULL;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	cfg = cfg_for(f, len);
	assert_int_equal(load(&cfg, &e, err), 0);
	assert_int_equal(e.mode, LINUX_ENTRY_64);
	assert_string_equal(e.format, "bzImage");
	assert_int_equal(e.rip, 0x100200);
	assert_int_equal(e.rsi, LINUX_ZERO_PAGE_ADDR);
	assert_int_equal(e.kernel_start, 0x100000);
	assert_int_equal(e.kernel_end, 0x1000000 + 0x400000);
	assert_memory_equal(ram + 0x100000, f + 5 * 512, 8192);

	zp = ram + LINUX_ZERO_PAGE_ADDR;
	assert_int_equal(le16_get(zp + BZ_BOOT_FLAG), 0xaa55);
	assert_int_equal(le32_get(zp + BZ_HEADER), BZ_HDRS_MAGIC);
	assert_int_equal(le16_get(zp + BZ_VERSION), 0x020f);
	assert_int_equal(zp[BZ_TYPE_OF_LOADER], 0xff);
	assert_int_equal(zp[BZ_LOADFLAGS], BZ_LOADED_HIGH);
	assert_int_equal(le32_get(zp + BZ_CODE32_START), 0x100000);
	assert_int_equal(le32_get(zp + BZ_CMD_LINE_PTR), LINUX_CMDLINE_ADDR);
	assert_int_equal(le32_get(zp + BZ_INIT_SIZE), 0x400000);
	assert_int_equal(le64_get(zp + ZP_ACPI_RSDP_ADDR), 0xe0000);
	assert_int_equal(zp[0x1ef], 0); /* sentinel */
	for (int i = 0; i < 0x1e8; i++)
		if (i < ZP_ACPI_RSDP_ADDR || i >= ZP_ACPI_RSDP_ADDR + 8)
			assert_int_equal(zp[i], 0);
	assert_string_equal((const char *)ram + LINUX_CMDLINE_ADDR, cfg.cmdline);
	assert_int_equal(le32_get(zp + BZ_RAMDISK_IMAGE), e.initrd_addr);
	assert_int_equal(le32_get(zp + BZ_RAMDISK_SIZE), cfg.initrd_len);
	check_initrd(&e, RAM_SIZE, cfg.initrd_len);
	check_e820_64m(zp + ZP_E820_TABLE, zp[ZP_E820_ENTRIES], ZP_E820_ENTRY_SIZE);
	/* The tables are there too. */
	assert_memory_equal(ram + 0xe0000, "RSD PTR ", 8);
	assert_memory_equal(ram + MPTABLE_ADDR, "_MP_", 4);
	free(f);
}

static void test_bzimage_initrd_addr_max(void **state)
{
	struct bz_opts o = bz_default();
	struct linux_boot_cfg cfg;
	struct linux_boot_entry e;
	char err[256];
	size_t len;
	uint8_t *f;

	(void)state;
	o.initrd_addr_max = 0x1ffffff; /* 32 MiB */
	f = bz_build(&o, &len);
	cfg = cfg_for(f, len);
	assert_int_equal(load(&cfg, &e, err), 0);
	check_initrd(&e, 0x2000000, cfg.initrd_len);
	/* 0 (protocol < 2.03 semantics) means 0x37ffffff: RAM is the limit. */
	le32_put(f + BZ_INITRD_ADDR_MAX, 0);
	assert_int_equal(load(&cfg, &e, err), 0);
	check_initrd(&e, RAM_SIZE, cfg.initrd_len);
	/* No initrd at all. */
	cfg.initrd = NULL;
	assert_int_equal(load(&cfg, &e, err), 0);
	assert_int_equal(e.initrd_addr, 0);
	assert_int_equal(le32_get(ram + LINUX_ZERO_PAGE_ADDR + BZ_RAMDISK_SIZE), 0);
	free(f);
}

static void test_elf_64(void **state)
{
	struct linux_boot_cfg cfg;
	struct linux_boot_entry e;
	const uint8_t *zp;
	char err[256];
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, ELF_TEST_TEXT_PADDR + 0x80, &len);

	(void)state;
	cfg = cfg_for(f, len);
	cfg.prefer_pvh = 0;
	assert_int_equal(load(&cfg, &e, err), 0);
	assert_string_equal(e.format, "ELF");
	assert_int_equal(e.mode, LINUX_ENTRY_64);
	assert_int_equal(e.rip, ELF_TEST_TEXT_PADDR);
	assert_int_equal(e.rsi, LINUX_ZERO_PAGE_ADDR);
	zp = ram + LINUX_ZERO_PAGE_ADDR;
	assert_int_equal(le16_get(zp + BZ_BOOT_FLAG), 0xaa55);
	assert_int_equal(le32_get(zp + BZ_HEADER), BZ_HDRS_MAGIC);
	assert_true(le16_get(zp + BZ_VERSION) >= 0x020c);
	assert_int_equal(zp[BZ_TYPE_OF_LOADER], 0xff);
	assert_int_equal(le32_get(zp + BZ_CMD_LINE_PTR), LINUX_CMDLINE_ADDR);
	assert_int_equal(le32_get(zp + BZ_RAMDISK_IMAGE), e.initrd_addr);
	check_initrd(&e, RAM_SIZE, cfg.initrd_len);
	check_e820_64m(zp + ZP_E820_TABLE, zp[ZP_E820_ENTRIES], ZP_E820_ENTRY_SIZE);
	free(f);
}

static void test_pvh(void **state)
{
	struct linux_boot_cfg cfg;
	struct linux_boot_entry e;
	const uint8_t *si, *mod;
	char err[256];
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, ELF_TEST_TEXT_PADDR + 0x80, &len);

	(void)state;
	cfg = cfg_for(f, len);
	assert_int_equal(load(&cfg, &e, err), 0);
	assert_string_equal(e.format, "PVH");
	assert_int_equal(e.mode, LINUX_ENTRY_PVH);
	assert_int_equal(e.rip, ELF_TEST_TEXT_PADDR + 0x80);
	assert_int_equal(e.rbx, LINUX_START_INFO_ADDR);
	si = ram + LINUX_START_INFO_ADDR;
	assert_int_equal(le32_get(si), PVH_START_MAGIC);
	assert_int_equal(le32_get(si + 4), 1);
	assert_int_equal(le32_get(si + 12), 1);
	assert_int_equal(le64_get(si + 24), LINUX_CMDLINE_ADDR);
	assert_int_equal(le64_get(si + 32), 0xe0000);
	assert_int_equal(le32_get(si + 52), 0);
	mod = ram + le64_get(si + 16);
	assert_true(le64_get(si + 16) >= LINUX_START_INFO_ADDR + PVH_START_INFO_SIZE);
	assert_true(le64_get(si + 16) < LINUX_ZERO_PAGE_ADDR);
	assert_int_equal(le64_get(mod), e.initrd_addr);
	assert_int_equal(le64_get(mod + 8), cfg.initrd_len);
	check_initrd(&e, RAM_SIZE, cfg.initrd_len);
	assert_true(le64_get(si + 40) < LINUX_ZERO_PAGE_ADDR);
	check_e820_64m(ram + le64_get(si + 40), (int)le32_get(si + 48), PVH_MEMMAP_ENTRY_SIZE);
	/* Without an initrd there is no module. */
	cfg.initrd_len = 0;
	assert_int_equal(load(&cfg, &e, err), 0);
	assert_int_equal(le32_get(si + 12), 0);
	assert_int_equal(le64_get(si + 16), 0);
	free(f);
}

static void test_cmdline_limits(void **state)
{
	struct bz_opts o = bz_default();
	struct linux_boot_cfg cfg;
	struct linux_boot_entry e;
	char err[256], *line = malloc(70000);
	size_t len;
	uint8_t *f;

	(void)state;
	o.cmdline_size = 100;
	f = bz_build(&o, &len);
	cfg = cfg_for(f, len);
	memset(line, 'x', 100);
	line[100] = 0;
	cfg.cmdline = line;
	assert_int_equal(load(&cfg, &e, err), 0);
	assert_int_equal(strlen((char *)ram + LINUX_CMDLINE_ADDR), 100);
	line[100] = 'y';
	line[101] = 0;
	expect_fail(&cfg, -E2BIG, "command line is 101 bytes; this kernel accepts at most 100");
	/* A huge cmdline_size is capped by kite's own area. */
	le32_put(f + BZ_CMDLINE_SIZE, 0xffffffff);
	memset(line, 'x', 69999);
	line[69999] = 0;
	expect_fail(&cfg, -E2BIG, "at most 65535");
	/* NULL means an empty command line. */
	cfg.cmdline = NULL;
	assert_int_equal(load(&cfg, &e, err), 0);
	assert_int_equal(ram[LINUX_CMDLINE_ADDR], 0);
	free(f);
	/* ELF kernels get x86's COMMAND_LINE_SIZE - 1. */
	f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, 0, &len);
	cfg = cfg_for(f, len);
	memset(line, 'x', 3000);
	line[3000] = 0;
	cfg.cmdline = line;
	expect_fail(&cfg, -E2BIG, "command line is 3000 bytes; this kernel accepts at most 2047");
	free(f);
	free(line);
}

static void test_initrd_too_big(void **state)
{
	struct bz_opts o = bz_default();
	struct linux_boot_cfg cfg;
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	cfg = cfg_for(f, len);
	/* The pointer is never read: the size check comes first. */
	cfg.initrd_len = 300ull << 20;
	expect_fail(&cfg, -ENOMEM, "initrd (300 MiB) does not fit");
	/* Fits in RAM, but not above the kernel's decompression area. */
	cfg.initrd_len = RAM_SIZE - 0x1000000;
	expect_fail(&cfg, -ENOMEM, "initrd");
	cfg.initrd_len = SIZE_MAX;
	expect_fail(&cfg, -ENOMEM, "initrd");
	free(f);
}

static void test_kernel_too_big(void **state)
{
	struct bz_opts o = bz_default();
	struct linux_boot_cfg cfg;
	size_t len;
	uint8_t *f;

	(void)state;
	o.init_size = 0x8000000; /* 128 MiB to decompress into 64 MiB */
	f = bz_build(&o, &len);
	cfg = cfg_for(f, len);
	expect_fail(&cfg, -ENOMEM, "decompress");
	free(f);
	o = bz_default();
	o.relocatable = 0;
	o.pref_address = 0x80000; /* below 1 MiB */
	f = bz_build(&o, &len);
	cfg = cfg_for(f, len);
	expect_fail(&cfg, -EINVAL, "unusable address");
	le64_put(f + BZ_PREF_ADDRESS, UINT64_MAX - 0x1000);
	expect_fail(&cfg, -EINVAL, "unusable address");
	free(f);
}

static void test_bad_kernels(void **state)
{
	static const uint8_t junk[4096] = {1, 2, 3};
	struct bz_opts o = bz_default();
	struct linux_boot_cfg cfg = cfg_for(junk, sizeof(junk));
	size_t len;
	uint8_t *f;

	(void)state;
	expect_fail(&cfg, -ENOEXEC, "kernel: not a bzImage or ELF file");
	cfg.kernel_len = 0;
	expect_fail(&cfg, -ENOEXEC, "empty");
	cfg.kernel = NULL;
	expect_fail(&cfg, -ENOEXEC, "empty");
	cfg.kernel = (const uint8_t *)"\x7f"
				      "ELF";
	cfg.kernel_len = 4;
	expect_fail(&cfg, -ENOEXEC, "truncated");
	o.version = 0x0205;
	f = bz_build(&o, &len);
	cfg = cfg_for(f, len);
	expect_fail(&cfg, -ENOEXEC, "kernel: bzImage protocol 2.05 is older than 2.12");
	free(f);
}

static void test_bad_config(void **state)
{
	struct bz_opts o = bz_default();
	struct linux_boot_cfg cfg;
	struct linux_mmio_dev dev = {0xd0000000, 0x1000, 2, NULL};
	uint8_t *small;
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	cfg = cfg_for(f, len);
	cfg.nr_cpus = 0;
	expect_fail(&cfg, -EINVAL, "CPUs");
	cfg.nr_cpus = 255;
	expect_fail(&cfg, -EINVAL, "CPUs");
	cfg.nr_cpus = 1;
	cfg.mmio_devs = &dev;
	cfg.nr_mmio_devs = 1;
	expect_fail(&cfg, -EINVAL, "IRQ 2");
	cfg.nr_mmio_devs = 1000;
	expect_fail(&cfg, -EINVAL, "MMIO devices");
	cfg.nr_mmio_devs = 0;
	/* 512 KiB of RAM: not even the BIOS area. */
	small = calloc(1, 512 << 10);
	gm_init_wrap(&gm, small, 512 << 10);
	expect_fail(&cfg, -EINVAL, "at least 1 MiB");
	gm_init_wrap(&gm, ram, RAM_SIZE);
	free(small);
	free(f);
}

static void test_memmap_regions(void **state)
{
	struct guest_mem hand;
	struct e820_entry map[8];
	int n;

	(void)state;
	memset(&hand, 0, sizeof(hand));
	hand.nr_regions = 2;
	hand.regions[0] = (struct gm_region){0, GM_MMIO_HOLE_START, NULL};
	hand.regions[1] = (struct gm_region){GM_HIGH_START, 1ull << 30, NULL};
	hand.size = GM_MMIO_HOLE_START + (1ull << 30);
	n = linux_boot_memmap(&hand, map, 8);
	assert_int_equal(n, 5);
	assert_int_equal(map[3].addr, 0x100000);
	assert_int_equal(map[3].addr + map[3].size, GM_MMIO_HOLE_START);
	assert_int_equal(map[4].addr, GM_HIGH_START);
	assert_int_equal(map[4].size, 1ull << 30);
	assert_int_equal(map[4].type, E820_RAM);
	/* Too small a table. */
	assert_int_equal(linux_boot_memmap(&hand, map, 4), -EINVAL);
	/* Wrapped memory bigger than 3 GiB still stops at the hole. */
	hand.nr_regions = 1;
	hand.regions[0].size = 5ull << 30;
	n = linux_boot_memmap(&hand, map, 8);
	assert_int_equal(n, 4);
	assert_int_equal(map[3].addr + map[3].size, GM_MMIO_HOLE_START);
	/* Exactly 1 MiB: no RAM above it. */
	hand.regions[0].size = 0x100000;
	assert_int_equal(linux_boot_memmap(&hand, map, 8), 3);
	hand.regions[0].gpa = 0x1000;
	assert_int_equal(linux_boot_memmap(&hand, map, 8), -EINVAL);
}

/* A real >3 GiB layout: sparse anonymous mappings stand in for the regions. */
static void test_above_3g(void **state)
{
	struct bz_opts o = bz_default();
	struct guest_mem big;
	struct linux_boot_cfg cfg;
	struct linux_boot_entry e;
	const uint8_t *zp;
	uint64_t low = GM_MMIO_HOLE_START, high = 64ull << 20;
	uint8_t *lo_map, *hi_map;
	char err[256];
	size_t len;
	uint8_t *f = bz_build(&o, &len);

	(void)state;
	lo_map = mmap(NULL, low, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	hi_map = mmap(NULL, high, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(lo_map != MAP_FAILED && hi_map != MAP_FAILED);
	memset(&big, 0, sizeof(big));
	big.fd = -1;
	big.nr_regions = 2;
	big.size = low + high;
	big.regions[0] = (struct gm_region){0, low, lo_map};
	big.regions[1] = (struct gm_region){GM_HIGH_START, high, hi_map};
	cfg = cfg_for(f, len);
	err[0] = 0;
	assert_int_equal(linux_boot_load(&big, &cfg, &e, err, sizeof(err)), 0);
	zp = lo_map + LINUX_ZERO_PAGE_ADDR;
	assert_int_equal(zp[ZP_E820_ENTRIES], 5);
	assert_int_equal(le64_get(zp + ZP_E820_TABLE + 3 * 20 + 8), low - 0x100000);
	assert_int_equal(le64_get(zp + ZP_E820_TABLE + 4 * 20), GM_HIGH_START);
	assert_int_equal(le64_get(zp + ZP_E820_TABLE + 4 * 20 + 8), high);
	/* initrd_addr_max 0x7fffffff binds before the end of low RAM. */
	assert_true(e.initrd_addr + cfg.initrd_len <= 0x80000000ull);
	assert_true(e.initrd_addr + cfg.initrd_len + 4096 > 0x80000000ull);
	assert_memory_equal(lo_map + e.initrd_addr, initrd, cfg.initrd_len);
	munmap(lo_map, low);
	munmap(hi_map, high);
	free(f);
}

/* Reads a whole file; NULL when it cannot be read. */
static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = n > 0 ? malloc((size_t)n) : NULL;
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* The first of $env or the glob pattern that names a readable file. */
static uint8_t *find_kernel(const char *env, const char *pattern, char *path, size_t plen,
			    size_t *len)
{
	const char *e = getenv(env);
	glob_t gl = {0};
	uint8_t *k = NULL;

	if (e && *e) {
		snprintf(path, plen, "%s", e);
		return read_file(path, len);
	}
	if (glob(pattern, 0, NULL, &gl) == 0) {
		for (size_t i = 0; i < gl.gl_pathc && !k; i++) {
			snprintf(path, plen, "%s", gl.gl_pathv[i]);
			k = read_file(path, len);
		}
	}
	globfree(&gl);
	return k;
}

static void load_real(const uint8_t *k, size_t len, const char *path, int prefer_pvh,
		      const char *format)
{
	struct linux_boot_cfg cfg = cfg_for(k, len);
	struct linux_boot_entry e;
	struct guest_mem g;
	uint8_t *big = calloc(1, 256u << 20);
	char err[256] = "";

	gm_init_wrap(&g, big, 256u << 20);
	cfg.prefer_pvh = prefer_pvh;
	if (linux_boot_load(&g, &cfg, &e, err, sizeof(err)) != 0)
		fail_msg("%s: %s", path, err);
	assert_string_equal(e.format, format);
	print_message("%s as %s: entry 0x%llx, kernel [0x%llx, 0x%llx), initrd at 0x%llx\n", path,
		      format, (unsigned long long)e.rip, (unsigned long long)e.kernel_start,
		      (unsigned long long)e.kernel_end, (unsigned long long)e.initrd_addr);
	free(big);
}

/* Smoke tests with real kernels, when some are around: a distribution
 * bzImage from /boot (or $KITE_TEST_VMLINUZ), and an ELF vmlinux with a PVH
 * note ($KITE_TEST_VMLINUX, or the guest kernel kite's lab builds). */
static void test_real_bzimage(void **state)
{
	char path[512];
	size_t len;
	uint8_t *k = find_kernel("KITE_TEST_VMLINUZ", "/boot/vmlinuz-*", path, sizeof(path), &len);

	(void)state;
	if (!k) {
		skip(); /* no readable bzImage: set KITE_TEST_VMLINUZ */
		return;
	}
	load_real(k, len, path, 1, "bzImage");
	free(k);
}

static void test_real_vmlinux(void **state)
{
	char path[512];
	size_t len;
	uint8_t *k = find_kernel("KITE_TEST_VMLINUX", "/var/cache/kite/guest-kernel/*/vmlinux",
				 path, sizeof(path), &len);
	struct elf_kernel ek;
	struct guest_mem g;
	char err[256];

	(void)state;
	if (!k) {
		skip(); /* no readable vmlinux: set KITE_TEST_VMLINUX */
		return;
	}
	gm_init_wrap(&g, ram, RAM_SIZE);
	assert_int_equal(elf_parse(&g, k, len, LINUX_KERNEL_MIN, &ek, err, sizeof(err)), 0);
	load_real(k, len, path, 0, "ELF");
	if (ek.has_pvh)
		load_real(k, len, path, 1, "PVH");
	free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bzimage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bzimage_initrd_addr_max, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_elf_64, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pvh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cmdline_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_initrd_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kernel_too_big, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_kernels, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
	    cmocka_unit_test(test_memmap_regions),
	    cmocka_unit_test_setup_teardown(test_above_3g, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_real_bzimage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_real_vmlinux, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
