/* Loading a Linux kernel into guest RAM: picks the format (bzImage, ELF
 * vmlinux, ELF with a PVH note), places the kernel, command line and initrd,
 * writes the zero page or PVH start_info with the memory map, and the MP and
 * ACPI tables. Register and page-table setup for the entry is cpu.c's job.
 *
 * Fixed guest-physical layout (cpu.c owns 0x500-0x5ff and 0x9000-0x1ffff):
 *   0x6000   PVH hvm_start_info, its module list and memory map
 *   0x7000   zero page (struct boot_params)
 *   0x20000  kernel command line
 *   0x9fc00  EBDA (reserved)
 *   0xe0000  ACPI RSDP and tables; 0xf0000 MP floating pointer and table
 *   0x100000 bzImage protected-mode part; ELF segments at their p_paddr
 *   initrd: page-aligned, as high as the kernel allows below 3 GiB */
#ifndef KITE_X86_LINUX_BOOT_H
#define KITE_X86_LINUX_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/acpi.h"
#include "compiler.h"
#include "guest_mem.h"

#define LINUX_START_INFO_ADDR 0x6000ull
#define LINUX_ZERO_PAGE_ADDR 0x7000ull
#define LINUX_CMDLINE_ADDR 0x20000ull
#define LINUX_CMDLINE_AREA 0x10000ull /* up to 0x30000 */
#define LINUX_EBDA_START 0x9fc00ull
#define LINUX_BIOS_START 0xe0000ull
#define LINUX_KERNEL_MIN 0x100000ull
#define LINUX_BZIMAGE_LOAD_ADDR 0x100000ull
/* x86 COMMAND_LINE_SIZE - 1, for kernels whose file does not say. */
#define LINUX_CMDLINE_DEFAULT_MAX 2047

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_MAX_ENTRIES 128 /* the zero page's table */
/* Zero page offsets beyond the setup header (zero-page.rst). */
#define ZP_ACPI_RSDP_ADDR 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE 0x2d0
#define ZP_E820_ENTRY_SIZE 20
/* hvm_start_info (xen/include/public/arch-x86/hvm/start_info.h). */
#define PVH_START_MAGIC 0x336ec578u
#define PVH_START_INFO_SIZE 56
#define PVH_MODLIST_ENTRY_SIZE 32
#define PVH_MEMMAP_ENTRY_SIZE 24

enum linux_entry_mode {
	LINUX_ENTRY_64,	 /* 64-bit boot protocol: long mode, rsi = zero page */
	LINUX_ENTRY_PVH, /* 32-bit protected mode, paging off, ebx = start_info */
};

/* Legacy devices the VMM does NOT provide, for the FADT boot flags. */
#define LINUX_BOOT_NO_I8042 (1u << 0)
#define LINUX_BOOT_NO_RTC (1u << 1)

struct linux_boot_cfg {
	const uint8_t *kernel; /* the whole file */
	size_t kernel_len;
	const uint8_t *initrd; /* may be NULL */
	size_t initrd_len;
	const char *cmdline; /* final; NULL means empty */
	int nr_cpus;
	const struct linux_mmio_dev *mmio_devs; /* described in the DSDT */
	int nr_mmio_devs;
	int prefer_pvh; /* with a PVH note: 1 = PVH entry, 0 = 64-bit */
	unsigned flags; /* LINUX_BOOT_NO_* */
};

struct linux_boot_entry {
	enum linux_entry_mode mode;
	uint64_t rip;
	uint64_t rsi;	    /* zero page for LINUX_ENTRY_64, else 0 */
	uint64_t rbx;	    /* start_info for LINUX_ENTRY_PVH, else 0 */
	const char *format; /* "bzImage", "ELF" or "PVH" */
	/* Guest-physical extents, for logs and for cpu.c's identity map:
	 * the 64-bit protocol needs the kernel through kernel_end mapped. */
	uint64_t kernel_start, kernel_end;
	uint64_t initrd_addr, initrd_size;
};

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

/* The guest's memory map from gm->regions: RAM below the EBDA, the EBDA
 * and BIOS area reserved, RAM from 1 MiB to the end of low RAM, RAM at
 * 4 GiB. Returns the entry count or -EINVAL if region 0 does not start at
 * 0 or is smaller than 1 MiB. */
int linux_boot_memmap(const struct guest_mem *gm, struct e820_entry *map, int max) MUST_CHECK;

/* Loads everything and says how to enter. Returns 0 or -errno; on failure
 * err holds one line for the user. Guest memory may be partly written. */
int linux_boot_load(struct guest_mem *gm, const struct linux_boot_cfg *cfg,
		    struct linux_boot_entry *out, char *err, size_t errlen) MUST_CHECK;

#endif
