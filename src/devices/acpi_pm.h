/* kite's ACPI hardware-reduced power device: the sleep control, sleep status
 * and reset registers that kite's FADT points at, as one 4-port I/O block.
 *   base + 0  SLEEP_CONTROL_REG: SLP_EN (bit 5) with SLP_TYP (bits 4:2) ==
 *             ACPI_PM_SLP_TYP_S5 powers the VM off (VM_STOP_POWEROFF);
 *             other sleep types are refused (logged, ignored).
 *   base + 1  SLEEP_STATUS_REG: reads 0 (never woken); writes are the
 *             write-1-to-clear of WAK_STS and have nothing to clear.
 *   base + 2  RESET_REG: writing ACPI_PM_RESET_VALUE resets the VM.
 *   base + 3  reserved: reads 0, writes ignored.
 * Registers are bytes; a wider access acts on each byte's own register, in
 * order. The boot/ACPI code writes the FADT from the constants here.
 *
 * As a struct device (acpi_pm_new): the registers hold no state, so the
 * section is empty (version 1, zero bytes) and pause has nothing to stop
 * (the vCPUs, its only callers, are paused first). */
#ifndef KITE_DEVICES_ACPI_PM_H
#define KITE_DEVICES_ACPI_PM_H

#include <stdint.h>

#include "bus.h"
#include "compiler.h"
#include "device.h"
#include "vm_event.h"

#define ACPI_PM_PORT_BASE 0x600
#define ACPI_PM_NR_PORTS 4
#define ACPI_PM_SLEEP_CONTROL 0 /* offsets from ACPI_PM_PORT_BASE */
#define ACPI_PM_SLEEP_STATUS 1
#define ACPI_PM_RESET 2

#define ACPI_PM_SLP_EN 0x20
#define ACPI_PM_SLP_TYP_SHIFT 2
#define ACPI_PM_SLP_TYP_MASK 0x07
#define ACPI_PM_SLP_TYP_S5 5
#define ACPI_PM_RESET_VALUE 1

struct acpi_pm {
	struct device dev;
	struct vm_stopper stopper;
	/* Counters, bumped atomically (any vCPU may write the registers). */
	uint64_t poweroffs, resets, bad_sleeps;
};

extern const struct bus_ops acpi_pm_ops; /* bus_add(pio, 0x600, 4, ...) */
extern const struct device_ops acpi_pm_device_ops;

void acpi_pm_init(struct acpi_pm *pm, const struct vm_stopper *stopper);
/* A heap device named `name`, freed by its destroy op. */
int acpi_pm_new(const struct vm_stopper *stopper, const char *name,
		struct acpi_pm **out) MUST_CHECK;

#endif
