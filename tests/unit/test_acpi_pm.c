/* Unit tests for the ACPI power device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/acpi_pm.h"

static int stops;
static enum vm_stop_reason last_reason;

static void fx_stop(void *ctx, enum vm_stop_reason r, int status)
{
	(void)ctx;
	assert_int_equal(status, 0);
	stops++;
	last_reason = r;
}

static void wr(struct acpi_pm *pm, unsigned int reg, uint8_t v)
{
	acpi_pm_ops.write(pm, reg, &v, 1);
}

static void init(struct acpi_pm *pm)
{
	struct vm_stopper st = {.fn = fx_stop};

	acpi_pm_init(pm, &st);
	stops = 0;
	last_reason = VM_STOP_NONE;
}

static void test_s5_powers_off(void **state)
{
	struct acpi_pm pm;

	(void)state;
	init(&pm);
	/* What Linux writes for S5 with SLP_TYP = 5. */
	wr(&pm, ACPI_PM_SLEEP_CONTROL,
	   ACPI_PM_SLP_EN | (ACPI_PM_SLP_TYP_S5 << ACPI_PM_SLP_TYP_SHIFT));
	assert_int_equal(stops, 1);
	assert_int_equal(last_reason, VM_STOP_POWEROFF);
	assert_int_equal(ACPI_PM_SLP_EN | (ACPI_PM_SLP_TYP_S5 << ACPI_PM_SLP_TYP_SHIFT), 0x34);
}

static void test_other_sleep_writes_ignored(void **state)
{
	struct acpi_pm pm;
	unsigned int typ;

	(void)state;
	init(&pm);
	/* SLP_TYP = 5 without SLP_EN. */
	wr(&pm, ACPI_PM_SLEEP_CONTROL, ACPI_PM_SLP_TYP_S5 << ACPI_PM_SLP_TYP_SHIFT);
	for (typ = 0; typ < 8; typ++)
		if (typ != ACPI_PM_SLP_TYP_S5)
			wr(&pm, ACPI_PM_SLEEP_CONTROL,
			   (uint8_t)(ACPI_PM_SLP_EN | (typ << ACPI_PM_SLP_TYP_SHIFT)));
	wr(&pm, ACPI_PM_SLEEP_STATUS, 0xff);
	wr(&pm, 3, 0xff);
	assert_int_equal(stops, 0);
}

static void test_reset_register(void **state)
{
	struct acpi_pm pm;

	(void)state;
	init(&pm);
	wr(&pm, ACPI_PM_RESET, 0x02);
	wr(&pm, ACPI_PM_RESET, 0x00);
	assert_int_equal(stops, 0);
	wr(&pm, ACPI_PM_RESET, ACPI_PM_RESET_VALUE);
	assert_int_equal(stops, 1);
	assert_int_equal(last_reason, VM_STOP_RESET);
}

static void test_reads_and_wide_access(void **state)
{
	struct acpi_pm pm;
	uint8_t d[4];

	(void)state;
	init(&pm);
	memset(d, 0xee, sizeof(d));
	acpi_pm_ops.read(&pm, 0, d, 4);
	assert_int_equal(d[0] | d[1] | d[2] | d[3], 0);
	/* A 16-bit write at offset 1: status gets 0x80, reset gets 0x01. */
	d[0] = 0x80;
	d[1] = ACPI_PM_RESET_VALUE;
	acpi_pm_ops.write(&pm, ACPI_PM_SLEEP_STATUS, d, 2);
	assert_int_equal(stops, 1);
	assert_int_equal(last_reason, VM_STOP_RESET);
	assert_int_equal(ACPI_PM_PORT_BASE, 0x600);
}

static void test_no_stopper(void **state)
{
	struct acpi_pm pm;

	(void)state;
	acpi_pm_init(&pm, NULL);
	wr(&pm, ACPI_PM_RESET, ACPI_PM_RESET_VALUE); /* must not crash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s5_powers_off),
		cmocka_unit_test(test_other_sleep_writes_ignored),
		cmocka_unit_test(test_reset_register),
		cmocka_unit_test(test_reads_and_wide_access),
		cmocka_unit_test(test_no_stopper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
