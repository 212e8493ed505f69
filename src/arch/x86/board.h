/* The board kite builds: every guest-visible port, IRQ, GSI and MMIO window,
 * defined once. The device wiring (board.c, machine_virtio.c), the ACPI
 * tables (acpi.c) and the MP table (mptable.c) all read them from here.
 *
 *   device      ports           IRQ/GSI   notes
 *   serial0     0x3f8-0x3ff     4         16550A, the console by default
 *   i8042       0x60, 0x64      1, 12     reset line (0xFE)
 *   rtc0        0x70-0x71       8         CMOS RTC, PNP0B00 in the DSDT
 *   debug-exit  0x501           -         only with --debug-exit
 *   boot-timer  0x510-0x513     -         boot timestamps
 *   acpi-pm     0x600-0x603     -         sleep control/status, reset
 *   SCI         -               9         level, active high (MADT, MP)
 *   vmgenid0    -               13        GED (ACPI0013), edge, active high
 *   virtio n    0xd0000000 + 4 KiB * n, GSIs below (edge, active high)
 *
 * Low guest-physical memory for Linux guests (the e820 map marks the whole
 * 0xE0000-0xFFFFF BIOS area reserved, so Linux never allocates from it):
 *   0xE0000-0xEEFFF   ACPI tables and RSDP (acpi.h)
 *   0xEF000-0xEF00F   VM generation ID, 16 bytes (vmgenid0, 8-byte aligned,
 *                     alone in its page, which nothing else writes)
 *   0xF0000-0xFFFFF   MP table (mptable.h)
 */
#ifndef KITE_X86_BOARD_H
#define KITE_X86_BOARD_H

#include <stdint.h>

#define BOARD_COM1_PORT 0x3f8
#define BOARD_COM1_NR_PORTS 8
#define BOARD_COM1_IRQ 4
#define BOARD_I8042_DATA_PORT 0x60
#define BOARD_I8042_CMD_PORT 0x64
#define BOARD_I8042_KBD_IRQ 1
#define BOARD_I8042_AUX_IRQ 12
#define BOARD_RTC_PORT 0x70
#define BOARD_RTC_NR_PORTS 2
#define BOARD_RTC_IRQ 8
#define BOARD_DEBUG_EXIT_PORT 0x501
#define BOARD_BOOT_TIMER_PORT 0x510
#define BOARD_BOOT_TIMER_NR_PORTS 4
#define BOARD_ACPI_PM_PORT 0x600
#define BOARD_ACPI_PM_NR_PORTS 4
/* ACPI's SCI: hardware-reduced ACPI raises none, but the FADT names it and
 * the MADT and MP table declare it level/active-high, so no device may use
 * it (an edge device on a level pin never gets a second interrupt). */
#define BOARD_SCI_IRQ 9
/* IRQ 13 is the FPU's on an ISA PC, 0 (on pin 2) the PIT's. */
#define BOARD_FPU_IRQ 13

/* The VM generation ID (devices/vmgenid.h): where its 16 bytes live, and
 * the GSI of the ACPI Generic Event Device whose _EVT notifies the guest's
 * driver. The 16 virtio devices take every other free I/O APIC pin, and
 * only IRQ 13 is left: x86-64 Linux never requests it (the FPU error
 * interrupt was 32-bit only), and no kite device raises it. Only Linux
 * guests booted with ACPI find the device (the DSDT describes it); raw
 * images get no tables, and acpi=off guests read neither. */
#define BOARD_VMGENID_ADDR 0xEF000ull
#define BOARD_VMGENID_GSI BOARD_FPU_IRQ

#define BOARD_VIRTIO_BASE 0xd0000000ull
#define BOARD_VIRTIO_STRIDE 0x1000ull
#define BOARD_VIRTIO_MAX 16

/* GSI of the i-th virtio device (i < BOARD_VIRTIO_MAX): the ISA lines that
 * no board device uses (3, COM2's, comes last), then the I/O APIC's PCI
 * lines 16-23. Never the SCI (9). */
static inline uint32_t board_virtio_gsi(int i)
{
	static const uint8_t gsis[BOARD_VIRTIO_MAX] = {5,  6,  7,  10, 11, 14, 15, 16,
						       17, 18, 19, 20, 21, 22, 23, 3};
	return gsis[i];
}

static inline uint64_t board_virtio_base(int i)
{
	return BOARD_VIRTIO_BASE + (uint64_t)i * BOARD_VIRTIO_STRIDE;
}

#endif
