/* Unit tests for the stateless legacy devices as struct devices (ACPI PM,
 * boot timer, debug exit): an empty section that still round-trips and
 * refuses any byte, pause/resume, and the counters. */
#include "device_state_fixture.h"
#include "devices/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/debug_exit.h"

static int stops[16], last_status;
static uint32_t last_mark;
static int marks;

static void fx_stop(void *ctx, enum vm_stop_reason r, int status)
{
	(void)ctx;
	stops[r]++;
	last_status = status;
}

static void fx_mark(void *ctx, uint32_t v)
{
	(void)ctx;
	marks++;
	last_mark = v;
}

static const struct vm_stopper stopper = {.fn = fx_stop};

/* Empty payload: round trip into a fresh instance, then every way of
 * getting the frame wrong. */
static void check_empty_section(struct device *a, struct device *b)
{
	struct state_buf sec;

	assert_int_equal(a->ops->state_version, 1);
	assert_non_null(a->ops->destroy);
	dev_pause(a);
	dev_save(a, &sec);
	assert_int_equal(sec.len, payload_off(&sec));
	expect_framing_refused(b, &sec);
	dev_restore_ok(b, &sec);
	dev_resume(b);
	dev_resume(a);
	state_buf_free(&sec);
}

static void test_acpi_pm(void **state)
{
	struct acpi_pm *a, *b;
	uint8_t v;
	(void)state;

	memset(stops, 0, sizeof(stops));
	assert_int_equal(acpi_pm_new(&stopper, "acpi_pm", &a), 0);
	assert_int_equal(acpi_pm_new(&stopper, "acpi_pm", &b), 0);
	assert_ptr_equal(a->dev.ops, &acpi_pm_device_ops);
	check_empty_section(&a->dev, &b->dev);
	v = ACPI_PM_SLP_EN | (ACPI_PM_SLP_TYP_S5 << ACPI_PM_SLP_TYP_SHIFT);
	acpi_pm_ops.write(b, ACPI_PM_SLEEP_CONTROL, &v, 1);
	v = ACPI_PM_SLP_EN | (3 << ACPI_PM_SLP_TYP_SHIFT);
	acpi_pm_ops.write(b, ACPI_PM_SLEEP_CONTROL, &v, 1);
	v = ACPI_PM_RESET_VALUE;
	acpi_pm_ops.write(b, ACPI_PM_RESET, &v, 1);
	acpi_pm_ops.write(b, ACPI_PM_RESET, &v, 1);
	assert_int_equal(stops[VM_STOP_POWEROFF], 1);
	assert_int_equal(stops[VM_STOP_RESET], 2);
	assert_int_equal(dev_stat(&b->dev, "poweroffs"), 1);
	assert_int_equal(dev_stat(&b->dev, "resets"), 2);
	assert_int_equal(dev_stat(&b->dev, "bad_sleeps"), 1);
	assert_int_equal(dev_stat(&a->dev, "resets"), 0); /* per instance */
	a->dev.ops->destroy(&a->dev);
	b->dev.ops->destroy(&b->dev);
}

static void test_boot_timer(void **state)
{
	struct boot_timer *a, *b;
	uint8_t v[4] = {1, 2, 3, 4};
	(void)state;

	marks = 0;
	assert_int_equal(boot_timer_new(fx_mark, NULL, "boot_timer", &a), 0);
	assert_int_equal(boot_timer_new(fx_mark, NULL, "boot_timer", &b), 0);
	assert_ptr_equal(a->dev.ops, &boot_timer_device_ops);
	check_empty_section(&a->dev, &b->dev);
	boot_timer_ops.write(b, 0, v, 4);
	boot_timer_ops.write(b, 1, v, 1);
	assert_int_equal(marks, 2);
	assert_int_equal(last_mark, 1);
	assert_int_equal(dev_stat(&b->dev, "marks"), 2);
	assert_int_equal(dev_stat(&a->dev, "marks"), 0);
	a->dev.ops->destroy(&a->dev);
	b->dev.ops->destroy(&b->dev);
}

static void test_debug_exit(void **state)
{
	struct debug_exit *a, *b;
	uint8_t v = 7;
	(void)state;

	memset(stops, 0, sizeof(stops));
	assert_int_equal(debug_exit_new(&stopper, "debug_exit", &a), 0);
	assert_int_equal(debug_exit_new(NULL, "debug_exit", &b), 0);
	assert_ptr_equal(a->dev.ops, &debug_exit_device_ops);
	check_empty_section(&a->dev, &b->dev);
	debug_exit_ops.write(a, 0, &v, 1);
	debug_exit_ops.write(b, 0, &v, 1); /* no stopper: counted only */
	assert_int_equal(stops[VM_STOP_DEBUG_EXIT], 1);
	assert_int_equal(last_status, 7);
	assert_int_equal(dev_stat(&a->dev, "exits"), 1);
	assert_int_equal(dev_stat(&b->dev, "exits"), 1);
	a->dev.ops->destroy(&a->dev);
	b->dev.ops->destroy(&b->dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acpi_pm),
		cmocka_unit_test(test_boot_timer),
		cmocka_unit_test(test_debug_exit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
