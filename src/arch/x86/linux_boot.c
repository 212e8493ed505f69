/* The Linux loader: format detection, placement of kernel, command line and
 * initrd, the memory map, and the boot structure the entry mode needs (zero
 * page for the 64-bit boot protocol, hvm_start_info for PVH), plus the MP and
 * ACPI tables. Everything is validated before the first byte is written, so
 * a bad kernel file or configuration fails with one clear line for the user
 * (see linux_boot.h for the guest-physical layout). */
#include "arch/x86/linux_boot.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/boot_util.h"
#include "arch/x86/bzimage.h"
#include "arch/x86/elf_load.h"
#include "arch/x86/mptable.h"

#define PAGE_SIZE 4096ull
#define LEGACY_HOLE_START 0xa0000ull
#define OLD_INITRD_ADDR_MAX 0x37ffffffu
/* What x86-64 kernels put in initrd_addr_max; used for ELF kernels. */
#define ELF_INITRD_ADDR_MAX 0x7fffffffu
#define ELF_BOOT_VERSION 0x020c
#define ELF_KERNEL_ALIGNMENT 0x200000u
#define LOADER_UNDEFINED 0xff
#define PVH_MODLIST_OFF 0x40
#define PVH_MEMMAP_OFF 0x80

struct boot_plan {
	const char *format;
	int pvh;
	struct bzimage_info bi; /* bzImage */
	struct elf_kernel ek;	/* ELF */
	uint64_t kstart, kend;	/* guest-physical kernel footprint */
	uint32_t cmdline_max;
	uint64_t initrd_top; /* exclusive end the initrd may reach */
	uint64_t initrd_addr;
	size_t cmdline_len;
	struct e820_entry map[8];
	int nr_map;
};

static void fmt_size(char *buf, size_t len, uint64_t n)
{
	if (n >= (1ull << 20))
		snprintf(buf, len, "%llu MiB", (unsigned long long)(n >> 20));
	else if (n >= 1024)
		snprintf(buf, len, "%llu KiB", (unsigned long long)(n >> 10));
	else
		snprintf(buf, len, "%llu bytes", (unsigned long long)n);
}

static int map_add(struct e820_entry *map, int *n, int max, uint64_t addr, uint64_t size,
		   uint32_t type)
{
	if (*n >= max)
		return -EINVAL;
	map[*n] = (struct e820_entry){addr, size, type};
	(*n)++;
	return 0;
}

int linux_boot_memmap(const struct guest_mem *gm, struct e820_entry *map, int max)
{
	const struct gm_region *r0 = &gm->regions[0];
	uint64_t low_end;
	int n = 0;

	if (gm->nr_regions < 1 || gm->nr_regions > GM_MAX_REGIONS || r0->gpa != 0 ||
	    r0->size < LINUX_KERNEL_MIN)
		return -EINVAL;
	/* Never describe the MMIO hole as RAM, even for wrapped memory. */
	low_end = MIN(r0->size, GM_MMIO_HOLE_START);
	if (map_add(map, &n, max, 0, LINUX_EBDA_START, E820_RAM) ||
	    map_add(map, &n, max, LINUX_EBDA_START, LEGACY_HOLE_START - LINUX_EBDA_START,
		    E820_RESERVED) ||
	    map_add(map, &n, max, LINUX_BIOS_START, LINUX_KERNEL_MIN - LINUX_BIOS_START,
		    E820_RESERVED))
		return -EINVAL;
	if (low_end > LINUX_KERNEL_MIN &&
	    map_add(map, &n, max, LINUX_KERNEL_MIN, low_end - LINUX_KERNEL_MIN, E820_RAM))
		return -EINVAL;
	for (int i = 1; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];

		if (r->size && map_add(map, &n, max, r->gpa, r->size, E820_RAM))
			return -EINVAL;
	}
	return n;
}

static int plan_bzimage(const struct linux_boot_cfg *cfg, uint64_t low_end, struct boot_plan *p,
			char *err, size_t errlen)
{
	int r = bzimage_parse(cfg->kernel, cfg->kernel_len, &p->bi, err, errlen);

	if (r < 0)
		return r;
	p->format = "bzImage";
	if (bzimage_extent(&p->bi, LINUX_BZIMAGE_LOAD_ADDR, &p->kstart, &p->kend) < 0 ||
	    p->kstart < LINUX_KERNEL_MIN) {
		boot_errf(err, errlen,
			  "kernel: bzImage asks to run at an unusable address (0x%llx)",
			  (unsigned long long)p->bi.pref_address);
		return -EINVAL;
	}
	if (p->kend > low_end) {
		boot_errf(err, errlen,
			  "kernel: bzImage needs RAM up to 0x%llx to decompress, guest has %llu "
			  "MiB below 3 GiB",
			  (unsigned long long)p->kend, MIB(low_end));
		return -ENOMEM;
	}
	p->cmdline_max = p->bi.cmdline_size;
	p->initrd_top =
	    (uint64_t)(p->bi.initrd_addr_max ? p->bi.initrd_addr_max : OLD_INITRD_ADDR_MAX) + 1;
	return 0;
}

static int plan_elf(const struct guest_mem *gm, const struct linux_boot_cfg *cfg,
		    struct boot_plan *p, char *err, size_t errlen)
{
	int r = elf_parse(gm, cfg->kernel, cfg->kernel_len, LINUX_KERNEL_MIN, &p->ek, err, errlen);

	if (r < 0)
		return r;
	p->pvh = p->ek.has_pvh && cfg->prefer_pvh;
	p->format = p->pvh ? "PVH" : "ELF";
	p->kstart = p->ek.start;
	p->kend = p->ek.end;
	p->cmdline_max = LINUX_CMDLINE_DEFAULT_MAX;
	p->initrd_top = (uint64_t)ELF_INITRD_ADDR_MAX + 1;
	return 0;
}

static int plan_initrd(const struct guest_mem *gm, const struct linux_boot_cfg *cfg,
		       uint64_t low_end, struct boot_plan *p, char *err, size_t errlen)
{
	uint64_t top = MIN(p->initrd_top, low_end), len = cfg->initrd_len;
	char sz[32];

	if (!cfg->initrd || !len)
		return 0;
	/* As high as allowed, page aligned, clear of the kernel. */
	if (len <= top && ((top - len) & ~(PAGE_SIZE - 1)) >= p->kend) {
		p->initrd_addr = (top - len) & ~(PAGE_SIZE - 1);
		return 0;
	}
	fmt_size(sz, sizeof(sz), len);
	boot_errf(err, errlen,
		  "initrd (%s) does not fit between the kernel's end (0x%llx) and 0x%llx in %llu "
		  "MiB of RAM",
		  sz, (unsigned long long)p->kend, (unsigned long long)(top - 1), MIB(gm->size));
	return -ENOMEM;
}

static int plan(const struct guest_mem *gm, const struct linux_boot_cfg *cfg, struct boot_plan *p,
		char *err, size_t errlen)
{
	const uint8_t *k = cfg->kernel;
	size_t klen = cfg->kernel_len;
	uint64_t low_end;
	uint32_t limit;
	int r;

	memset(p, 0, sizeof(*p));
	if (!k || klen == 0) {
		boot_errf(err, errlen, "kernel: the file is empty");
		return -ENOEXEC;
	}
	p->nr_map = linux_boot_memmap(gm, p->map, (int)ARRAY_SIZE(p->map));
	if (p->nr_map < 0) {
		boot_errf(err, errlen, "guest RAM must start at 0 and be at least 1 MiB for Linux");
		return -EINVAL;
	}
	low_end = MIN(gm->regions[0].size, GM_MMIO_HOLE_START);

	if (elf_is_elf(k, klen)) {
		r = plan_elf(gm, cfg, p, err, errlen);
	} else if (klen >= BZ_HEADER + 4 && le16_get(k + BZ_BOOT_FLAG) == BZ_BOOT_FLAG_MAGIC &&
		   le32_get(k + BZ_HEADER) == BZ_HDRS_MAGIC) {
		r = plan_bzimage(cfg, low_end, p, err, errlen);
	} else {
		boot_errf(err, errlen, "kernel: not a bzImage or ELF file");
		r = -ENOEXEC;
	}
	if (r < 0)
		return r;

	p->cmdline_len = cfg->cmdline ? strlen(cfg->cmdline) : 0;
	limit = (uint32_t)MIN(p->cmdline_max, LINUX_CMDLINE_AREA - 1);
	if (p->cmdline_len > limit) {
		boot_errf(err, errlen, "command line is %zu bytes; this kernel accepts at most %u",
			  p->cmdline_len, limit);
		return -E2BIG;
	}
	return plan_initrd(gm, cfg, low_end, p, err, errlen);
}

static void put_e820(uint8_t *zp, const struct boot_plan *p)
{
	zp[ZP_E820_ENTRIES] = (uint8_t)p->nr_map; /* <= ARRAY_SIZE(map) < 128 */
	for (int i = 0; i < p->nr_map; i++) {
		uint8_t *e = zp + ZP_E820_TABLE + i * ZP_E820_ENTRY_SIZE;

		le64_put(e, p->map[i].addr);
		le64_put(e + 8, p->map[i].size);
		le32_put(e + 16, p->map[i].type);
	}
}

static void build_zero_page(uint8_t *zp, const struct linux_boot_cfg *cfg,
			    const struct boot_plan *p)
{
	memset(zp, 0, PAGE_SIZE);
	if (p->bi.version) {
		bzimage_copy_header(cfg->kernel, &p->bi, zp);
		le32_put(zp + BZ_CODE32_START, (uint32_t)LINUX_BZIMAGE_LOAD_ADDR);
	} else {
		/* A vmlinux has no setup header: give the kernel proper the
		 * fields it reads, as a protocol 2.12 loader would. */
		le16_put(zp + BZ_BOOT_FLAG, BZ_BOOT_FLAG_MAGIC);
		le32_put(zp + BZ_HEADER, BZ_HDRS_MAGIC);
		le16_put(zp + BZ_VERSION, ELF_BOOT_VERSION);
		le32_put(zp + BZ_INITRD_ADDR_MAX, ELF_INITRD_ADDR_MAX);
		le32_put(zp + BZ_KERNEL_ALIGNMENT, ELF_KERNEL_ALIGNMENT);
		le16_put(zp + BZ_XLOADFLAGS, BZ_XLF_KERNEL_64);
		le32_put(zp + BZ_CMDLINE_SIZE, LINUX_CMDLINE_DEFAULT_MAX);
	}
	le16_put(zp + BZ_VID_MODE, 0xffff); /* "normal" */
	zp[BZ_TYPE_OF_LOADER] = LOADER_UNDEFINED;
	/* No real-mode code runs, so no heap; no quiet flag. */
	zp[BZ_LOADFLAGS] = BZ_LOADED_HIGH;
	le16_put(zp + BZ_HEAP_END_PTR, 0);
	le32_put(zp + BZ_CMD_LINE_PTR, (uint32_t)LINUX_CMDLINE_ADDR);
	/* The initrd is below 3 GiB, so the ext_ fields stay 0. */
	le32_put(zp + BZ_RAMDISK_IMAGE, (uint32_t)p->initrd_addr);
	le32_put(zp + BZ_RAMDISK_SIZE, p->initrd_addr ? (uint32_t)cfg->initrd_len : 0);
	le64_put(zp + BZ_SETUP_DATA, 0);
	le64_put(zp + ZP_ACPI_RSDP_ADDR, ACPI_RSDP_ADDR);
	put_e820(zp, p);
}

static void build_start_info(uint8_t *page, const struct linux_boot_cfg *cfg,
			     const struct boot_plan *p)
{
	uint8_t *mod = page + PVH_MODLIST_OFF, *mm = page + PVH_MEMMAP_OFF;

	memset(page, 0, PAGE_SIZE);
	le32_put(page, PVH_START_MAGIC);
	le32_put(page + 4, 1); /* version: has the memory map */
	if (p->initrd_addr) {
		le32_put(page + 12, 1);
		le64_put(page + 16, LINUX_START_INFO_ADDR + PVH_MODLIST_OFF);
		le64_put(mod, p->initrd_addr);
		le64_put(mod + 8, cfg->initrd_len);
	}
	le64_put(page + 24, LINUX_CMDLINE_ADDR);
	le64_put(page + 32, ACPI_RSDP_ADDR);
	le64_put(page + 40, LINUX_START_INFO_ADDR + PVH_MEMMAP_OFF);
	le32_put(page + 48, (uint32_t)p->nr_map);
	for (int i = 0; i < p->nr_map; i++, mm += PVH_MEMMAP_ENTRY_SIZE) {
		le64_put(mm, p->map[i].addr);
		le64_put(mm + 8, p->map[i].size);
		le32_put(mm + 16, p->map[i].type); /* XEN_HVM_MEMMAP_TYPE_* = e820 */
	}
}

static int write_tables(struct guest_mem *gm, const struct linux_boot_cfg *cfg, char *err,
			size_t errlen)
{
	uint32_t irqs[ACPI_MAX_MMIO_DEVS];
	uint16_t iapc = ACPI_IAPC_NO_VGA;
	int r;

	if (!(cfg->flags & LINUX_BOOT_NO_I8042))
		iapc |= ACPI_IAPC_8042;
	if (cfg->flags & LINUX_BOOT_NO_RTC)
		iapc |= ACPI_IAPC_NO_CMOS_RTC;
	/* Validates nr_mmio_devs (<= ACPI_MAX_MMIO_DEVS) and every irq. */
	r = acpi_write_tables(gm, cfg->nr_cpus, cfg->mmio_devs, cfg->nr_mmio_devs, iapc, err,
			      errlen);
	if (r < 0)
		return r;
	for (int i = 0; i < cfg->nr_mmio_devs; i++)
		irqs[i] = cfg->mmio_devs[i].irq;
	return mptable_write(gm, cfg->nr_cpus, irqs, cfg->nr_mmio_devs, err, errlen);
}

int linux_boot_load(struct guest_mem *gm, const struct linux_boot_cfg *cfg,
		    struct linux_boot_entry *out, char *err, size_t errlen)
{
	static const char nul;
	uint8_t page[PAGE_SIZE];
	struct boot_plan p;
	int r;

	memset(out, 0, sizeof(*out));
	if (err && errlen)
		err[0] = '\0';
	r = plan(gm, cfg, &p, err, errlen);
	if (r < 0)
		return r;
	r = write_tables(gm, cfg, err, errlen);
	if (r < 0)
		return r;

	if (p.bi.version)
		r = bzimage_load(gm, cfg->kernel, &p.bi, LINUX_BZIMAGE_LOAD_ADDR, err, errlen);
	else
		r = elf_load(gm, cfg->kernel, cfg->kernel_len, err, errlen);
	if (r < 0)
		return r;
	/* The low areas and the initrd range are RAM: plan() checked both. */
	if (gm_write(gm, LINUX_CMDLINE_ADDR, p.cmdline_len ? cfg->cmdline : &nul, p.cmdline_len) <
		0 ||
	    gm_write(gm, LINUX_CMDLINE_ADDR + p.cmdline_len, &nul, 1) < 0 ||
	    (p.initrd_addr && gm_write(gm, p.initrd_addr, cfg->initrd, cfg->initrd_len) < 0)) {
		boot_errf(err, errlen, "guest RAM does not hold the command line or initrd");
		return -ENOMEM;
	}

	if (p.pvh) {
		build_start_info(page, cfg, &p);
		r = gm_write(gm, LINUX_START_INFO_ADDR, page, sizeof(page));
		out->mode = LINUX_ENTRY_PVH;
		out->rip = p.ek.pvh_entry;
		out->rbx = LINUX_START_INFO_ADDR;
	} else {
		build_zero_page(page, cfg, &p);
		r = gm_write(gm, LINUX_ZERO_PAGE_ADDR, page, sizeof(page));
		out->mode = LINUX_ENTRY_64;
		out->rip =
		    p.bi.version ? LINUX_BZIMAGE_LOAD_ADDR + BZ_ENTRY64_OFFSET : p.ek.entry64;
		out->rsi = LINUX_ZERO_PAGE_ADDR;
	}
	if (r < 0) {
		boot_errf(err, errlen, "guest RAM does not hold the boot parameters");
		return -ENOMEM;
	}
	out->format = p.format;
	out->kernel_start = p.kstart;
	out->kernel_end = p.kend;
	out->initrd_addr = p.initrd_addr;
	out->initrd_size = p.initrd_addr ? cfg->initrd_len : 0;
	return 0;
}
