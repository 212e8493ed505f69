/* kernel_cmdline: what kite appends to the guest's command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/kernel.h"
#include "vm_virtio.h"

static void default_and_user(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(kernel_cmdline(NULL, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, KERNEL_DEFAULT_CMDLINE);
	assert_int_equal(kernel_cmdline("console=hvc0 quiet", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "console=hvc0 quiet");
	/* acpi=off with no devices adds nothing */
	assert_int_equal(kernel_cmdline("acpi=off", NULL, out, sizeof(out)), 0);
	assert_string_equal(out, "acpi=off");
}

static void too_long(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(kernel_cmdline("console=ttyS0", NULL, out, sizeof(out)), -E2BIG);
}

static void gsis(void **state)
{
	(void)state;
	/* Never the lines the platform devices use: 4 COM1, 8 RTC, 12 aux. */
	for (int i = 0; i < VM_VIRTIO_MAX; i++) {
		uint32_t g = vm_virtio_gsi(i);
		assert_true(g != 4 && g != 8 && g != 12 && g != 0 && g != 1 && g != 2 && g < 24);
		for (int j = 0; j < i; j++)
			assert_true(vm_virtio_gsi(j) != g);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_and_user),
		cmocka_unit_test(too_long),
		cmocka_unit_test(gsis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
