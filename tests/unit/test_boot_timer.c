/* Unit tests for the boot-timer port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/boot_timer.h"

static int marks;
static uint32_t last_value;

static void fx_mark(void *ctx, uint32_t value)
{
	assert_ptr_equal(ctx, &marks);
	marks++;
	last_value = value;
}

static void test_writes_mark(void **state)
{
	struct boot_timer t;
	uint8_t d[8] = {0x78, 0x56, 0x34, 0x12, 0xaa, 0xbb, 0xcc, 0xdd};
	uint8_t r[4];

	(void)state;
	boot_timer_init(&t, fx_mark, &marks);
	boot_timer_ops.write(&t, 0, d, 4);
	assert_int_equal(marks, 1);
	assert_int_equal(last_value, 0x12345678);
	boot_timer_ops.write(&t, 3, d, 1);
	assert_int_equal(marks, 2);
	assert_int_equal(last_value, 0x78);
	boot_timer_ops.write(&t, 0, d, 2);
	assert_int_equal(last_value, 0x5678);
	boot_timer_ops.write(&t, 0, d, 8);
	assert_int_equal(last_value, 0x12345678);
	memset(r, 0xee, sizeof(r));
	boot_timer_ops.read(&t, 0, r, 4);
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	assert_int_equal(marks, 4);
}

static void test_no_callback(void **state)
{
	struct boot_timer t;
	uint8_t v = 1;

	(void)state;
	boot_timer_init(&t, NULL, NULL);
	boot_timer_ops.write(&t, 0, &v, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_mark),
		cmocka_unit_test(test_no_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
