/* The ACPI hardware-reduced sleep and reset registers. See acpi_pm.h. */
#include "devices/acpi_pm.h"

#include <errno.h>
#include <stdlib.h>
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
		if (typ == ACPI_PM_SLP_TYP_S5) {
			__atomic_fetch_add(&pm->poweroffs, 1, __ATOMIC_RELAXED);
			vm_stopper_fire(&pm->stopper, VM_STOP_POWEROFF, 0);
		} else {
			__atomic_fetch_add(&pm->bad_sleeps, 1, __ATOMIC_RELAXED);
			log_guest("acpi_pm", "sleep type %u not supported, ignored", typ);
		}
		return;
	case ACPI_PM_RESET:
		if (v == ACPI_PM_RESET_VALUE) {
			__atomic_fetch_add(&pm->resets, 1, __ATOMIC_RELAXED);
			vm_stopper_fire(&pm->stopper, VM_STOP_RESET, 0);
		}
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

/* The struct device: no state, so an empty section. */

static struct acpi_pm *to_pm(const struct device *d)
{
	return container_of(d, struct acpi_pm, dev);
}

static void pm_stats(struct device *d, struct device_stats *out)
{
	struct acpi_pm *pm = to_pm(d);

	device_stat(out, "poweroffs", __atomic_load_n(&pm->poweroffs, __ATOMIC_RELAXED));
	device_stat(out, "resets", __atomic_load_n(&pm->resets, __ATOMIC_RELAXED));
	device_stat(out, "bad_sleeps", __atomic_load_n(&pm->bad_sleeps, __ATOMIC_RELAXED));
}

const struct device_ops acpi_pm_device_ops = {
	.kind = "acpi_pm",
	.state_version = 1,
	.destroy = device_free_destroy,
	.pause = device_nop_pause,
	.resume = device_nop_resume,
	.save = device_empty_save,
	.restore = device_empty_restore,
	.stats = pm_stats,
};

int acpi_pm_new(const struct vm_stopper *stopper, const char *name, struct acpi_pm **out)
{
	struct acpi_pm *pm = malloc(sizeof(*pm));

	if (!pm)
		return -ENOMEM;
	acpi_pm_init(pm, stopper);
	device_init(&pm->dev, &acpi_pm_device_ops, name);
	*out = pm;
	return 0;
}
