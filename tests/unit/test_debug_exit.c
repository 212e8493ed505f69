/* Unit tests for the debug-exit port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/debug_exit.h"

static int stops, last_status;
static enum vm_stop_reason last_reason;

static void fx_stop(void *ctx, enum vm_stop_reason r, int status)
{
	assert_ptr_equal(ctx, &stops);
	stops++;
	last_reason = r;
	last_status = status;
}

static void test_write_stops_with_byte(void **state)
{
	struct vm_stopper st = {.fn = fx_stop, .ctx = &stops};
	struct debug_exit d;
	uint8_t v = 0x2a, w[4] = {0x81, 0x22, 0x33, 0x44};

	(void)state;
	debug_exit_init(&d, &st);
	debug_exit_ops.write(&d, 0, &v, 1);
	assert_int_equal(stops, 1);
	assert_int_equal(last_reason, VM_STOP_DEBUG_EXIT);
	assert_int_equal(last_status, 0x2a);
	/* Wider writes use the low byte; the status is never negative. */
	debug_exit_ops.write(&d, 0, w, 4);
	assert_int_equal(stops, 2);
	assert_int_equal(last_status, 0x81);
}

static void test_reads_ff(void **state)
{
	struct debug_exit d;
	uint8_t v[2] = {0, 0};

	(void)state;
	debug_exit_init(&d, NULL);
	debug_exit_ops.read(&d, 0, v, 2);
	assert_int_equal(v[0], 0xff);
	assert_int_equal(v[1], 0xff);
	debug_exit_ops.write(&d, 0, v, 1); /* no stopper: nothing happens */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_stops_with_byte),
		cmocka_unit_test(test_reads_ff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
