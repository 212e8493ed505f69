/* kernel_cmdline: what kite appends to the guest's command line. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/kernel.h"
#include "arch/x86/board.h"

static void default_and_user(void **state)
{
	char out[256];

	(void)state;
	assert_int_equal(kernel_cmdline(NULL, NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, KERNEL_DEFAULT_CMDLINE);
	assert_int_equal(kernel_cmdline("console=hvc0 quiet", NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "console=hvc0 quiet");
	/* acpi=off with no devices adds nothing */
	assert_int_equal(kernel_cmdline("acpi=off", NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "acpi=off");
}

static void too_long(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(kernel_cmdline("console=ttyS0", NULL, 0, out, sizeof(out)), -E2BIG);
}

static void gsis(void **state)
{
	(void)state;
	/* Never the lines the platform devices use: 4 COM1, 8 RTC, 12 aux;
	 * nor the SCI (9, level-triggered), nor the FPU's 13. */
	for (int i = 0; i < BOARD_VIRTIO_MAX; i++) {
		uint32_t g = board_virtio_gsi(i);
		assert_true(g != 4 && g != 8 && g != 12 && g != 0 && g != 1 && g != 2 && g < 24);
		assert_true(g != BOARD_SCI_IRQ && g != BOARD_FPU_IRQ);
		for (int j = 0; j < i; j++)
			assert_true(board_virtio_gsi(j) != g);
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
