/* The ACPI hardware-reduced sleep and reset registers. See acpi_pm.h. */
#include "devices/acpi_pm.h"

#include <string.h>

#include "log.h"

static void acpi_pm_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	/* Sleep control reads 0, sleep status reads 0 (WAK_STS never set),
	 * the reset register is write-only. */
	memset(data, 0, len);
}

static void reg_write(struct acpi_pm *pm, uint64_t reg, uint8_t v)
{
	unsigned int typ;

	switch (reg) {
	case ACPI_PM_SLEEP_CONTROL:
		if (!(v & ACPI_PM_SLP_EN))
			return;
		typ = (v >> ACPI_PM_SLP_TYP_SHIFT) & ACPI_PM_SLP_TYP_MASK;
		if (typ == ACPI_PM_SLP_TYP_S5)
			vm_stopper_fire(&pm->stopper, VM_STOP_POWEROFF, 0);
		else
			log_guest("acpi_pm", "sleep type %u not supported, ignored", typ);
		return;
	case ACPI_PM_RESET:
		if (v == ACPI_PM_RESET_VALUE)
			vm_stopper_fire(&pm->stopper, VM_STOP_RESET, 0);
		return;
	default: /* sleep status: nothing to clear; reserved */
		return;
	}
}

static void acpi_pm_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct acpi_pm *pm = opaque;
	uint32_t i;

	/* GUEST: offset + i is only compared against register numbers. */
	for (i = 0; i < len; i++)
		reg_write(pm, offset + i, data[i]);
}

const struct bus_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

void acpi_pm_init(struct acpi_pm *pm, const struct vm_stopper *stopper)
{
	memset(pm, 0, sizeof(*pm));
	if (stopper)
		pm->stopper = *stopper;
}
