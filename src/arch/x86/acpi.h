/* ACPI tables for the guest (ACPI 6.x chapter 5): RSDP, RSDT, XSDT, a
 * hardware-reduced FADT, the MADT and a DSDT describing COM1, the RTC, the
 * i8042, the S5 sleep state, the virtio-mmio devices and the VM generation
 * ID with its Generic Event Device. */
#ifndef KITE_X86_ACPI_H
#define KITE_X86_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/board.h"
#include "compiler.h"
#include "guest_mem.h"

/* A memory-mapped device the guest finds through the DSDT. */
struct linux_mmio_dev {
	uint64_t base, size;  /* must lie below 4 GiB */
	uint32_t irq;	      /* I/O APIC pin = GSI; see x86_irq_valid() */
	const char *acpi_hid; /* NULL means "LNRO0005" (virtio-mmio) */
};

/* The RSDP and every table live in [ACPI_RSDP_ADDR, ACPI_TABLES_LIMIT),
 * reserved in the e820 map; the VM generation ID's page follows (the
 * tables are written after the device, so the area must stop short of
 * it), then the MP table at 0xF0000 (see board.h for the whole map). */
#define ACPI_RSDP_ADDR 0xE0000ull
#define ACPI_TABLES_LIMIT BOARD_VMGENID_ADDR
#define ACPI_MAX_MMIO_DEVS 64

/* Port I/O registers the FADT names; the VMM must decode them.
 * SLEEP_CONTROL: a byte write with ACPI_SLP_EN set and
 *   (value >> 2 & 7) == ACPI_SLP_TYP_S5 (Linux writes 0x34) is poweroff.
 * SLEEP_STATUS: reads as 0 (Linux clears WAK_STS by writing 0x80 to it).
 * RESET: a byte write of ACPI_RESET_VALUE is a reboot request. */
#define ACPI_SLEEP_CONTROL_PORT (BOARD_ACPI_PM_PORT + 0)
#define ACPI_SLEEP_STATUS_PORT (BOARD_ACPI_PM_PORT + 1)
#define ACPI_RESET_PORT (BOARD_ACPI_PM_PORT + 2)
#define ACPI_RESET_VALUE 1
#define ACPI_SLP_TYP_S5 5
#define ACPI_SLP_EN 0x20

/* FADT IA-PC boot architecture flags for the legacy devices present. */
#define ACPI_IAPC_8042 (1u << 1)
#define ACPI_IAPC_NO_VGA (1u << 2)
#define ACPI_IAPC_NO_MSI (1u << 3)
#define ACPI_IAPC_NO_CMOS_RTC (1u << 5)

/* Table offsets the unit tests and a debugger may want. */
#define ACPI_HDR_SIZE 36
#define ACPI_FADT_SIZE 276
#define ACPI_FADT_FLAGS 112
#define ACPI_FADT_RESET_REG 116
#define ACPI_FADT_RESET_VALUE 128
#define ACPI_FADT_X_DSDT 140
#define ACPI_FADT_SLEEP_CONTROL 244
#define ACPI_FADT_SLEEP_STATUS 256
#define ACPI_FADT_HYPERVISOR_ID 268
#define ACPI_FADT_HW_REDUCED (1u << 20)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

/* Writes every table and the RSDP at ACPI_RSDP_ADDR. iapc_boot_arch is a
 * mask of ACPI_IAPC_* flags. Returns 0 or -errno with one line in err. */
int acpi_write_tables(struct guest_mem *gm, int nr_cpus, const struct linux_mmio_dev *devs,
		      int nr_devs, uint16_t iapc_boot_arch, char *err, size_t errlen) MUST_CHECK;

#endif
