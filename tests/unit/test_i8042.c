/* Unit tests for the i8042 controller model. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "devices/i8042.h"

struct fixture {
	struct i8042 k;
	int stops;
	enum vm_stop_reason reason;
	int kbd[32], aux[32]; /* levels, in call order */
	int nr_kbd, nr_aux;
};

static void fx_stop(void *ctx, enum vm_stop_reason r, int status)
{
	struct fixture *f = ctx;

	assert_int_equal(status, 0);
	f->stops++;
	f->reason = r;
}

static void fx_irq(void *ctx, unsigned int gsi, int level)
{
	struct fixture *f = ctx;

	if (gsi == I8042_KBD_IRQ) {
		assert_true(f->nr_kbd < 32);
		f->kbd[f->nr_kbd++] = level;
	} else {
		assert_int_equal(gsi, I8042_AUX_IRQ);
		assert_true(f->nr_aux < 32);
		f->aux[f->nr_aux++] = level;
	}
}

static int setup(void **state)
{
	static struct fixture f;
	struct i8042_config cfg = {
		.stopper = {.fn = fx_stop, .ctx = &f},
		.kbd_irq = {.set = fx_irq, .ctx = &f, .gsi = I8042_KBD_IRQ},
		.aux_irq = {.set = fx_irq, .ctx = &f, .gsi = I8042_AUX_IRQ},
	};

	memset(&f, 0, sizeof(f));
	assert_int_equal(i8042_init(&f.k, &cfg), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	i8042_free(&f->k);
	return 0;
}

static uint8_t status(struct fixture *f)
{
	uint8_t v = 0;

	i8042_cmd_ops.read(&f->k, 0, &v, 1);
	return v;
}

static uint8_t data(struct fixture *f)
{
	uint8_t v = 0;

	i8042_data_ops.read(&f->k, 0, &v, 1);
	return v;
}

static void cmd(struct fixture *f, uint8_t c)
{
	i8042_cmd_ops.write(&f->k, 0, &c, 1);
}

static void put(struct fixture *f, uint8_t v)
{
	i8042_data_ops.write(&f->k, 0, &v, 1);
}

/* Runs a command that answers one byte and returns it. */
static uint8_t query(struct fixture *f, uint8_t c)
{
	cmd(f, c);
	assert_true(status(f) & I8042_STR_OBF);
	return data(f);
}

static void test_status_idle(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(status(f), I8042_STR_KEYLOCK | I8042_STR_SYS);
	/* Reading data with nothing waiting does not set OBF. */
	data(f);
	assert_int_equal(status(f) & I8042_STR_OBF, 0);
}

static void test_selftest_and_interface_tests(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(query(f, 0xaa), 0x55);
	assert_int_equal(status(f) & (I8042_STR_OBF | I8042_STR_CMDDAT), I8042_STR_CMDDAT);
	assert_int_equal(query(f, 0xab), 0x00);
	assert_int_equal(query(f, 0xa9), 0x00);
	assert_int_equal(query(f, 0xe0), 0x00);
	assert_int_equal(query(f, 0xc0), 0x80);
	assert_int_equal(f->stops, 0);
}

static void test_ctr_read_write(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(query(f, 0x20), 0x65);
	cmd(f, 0x60);
	put(f, 0x44);
	assert_int_equal(status(f) & I8042_STR_CMDDAT, 0);
	assert_int_equal(query(f, 0x20), 0x44);
	/* The SYS status bit follows the CTR. */
	assert_int_equal(status(f) & I8042_STR_SYS, I8042_STR_SYS);
	cmd(f, 0x60);
	put(f, 0x00);
	assert_int_equal(status(f) & I8042_STR_SYS, 0);
	/* Other controller RAM bytes are plain storage. */
	cmd(f, 0x7f);
	put(f, 0x99);
	assert_int_equal(query(f, 0x3f), 0x99);
	/* A new command cancels a pending data byte. */
	cmd(f, 0x61);
	cmd(f, 0xae);
	put(f, 0x12); /* goes to the absent keyboard */
	assert_int_equal(data(f), 0xfe);
	assert_int_equal(query(f, 0x21), 0x00);
}

static void test_port_enable_bits(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xa8);
	assert_int_equal(query(f, 0x20) & I8042_CTR_AUXDIS, 0);
	cmd(f, 0xa7);
	assert_int_equal(query(f, 0x20) & I8042_CTR_AUXDIS, I8042_CTR_AUXDIS);
	cmd(f, 0xad);
	assert_int_equal(query(f, 0x20) & I8042_CTR_KBDDIS, I8042_CTR_KBDDIS);
	cmd(f, 0xae);
	assert_int_equal(query(f, 0x20) & I8042_CTR_KBDDIS, 0);
}

static void test_aux_loop_and_irq12(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0x60);
	put(f, I8042_CTR_AUXINT | I8042_CTR_SYS);
	cmd(f, 0xd3);
	put(f, 0x5a);
	assert_int_equal(status(f) & (I8042_STR_OBF | I8042_STR_AUXDATA),
			 I8042_STR_OBF | I8042_STR_AUXDATA);
	assert_int_equal(f->nr_aux, 1);
	assert_int_equal(f->aux[0], 1);
	assert_int_equal(f->nr_kbd, 0);
	assert_int_equal(data(f), 0x5a);
	assert_int_equal(f->nr_aux, 2);
	assert_int_equal(f->aux[1], 0);
	/* Linux's MUX probe gets its bytes echoed back, so no MUX. */
	cmd(f, 0xd3);
	put(f, 0xa4);
	assert_int_equal(data(f), 0xa4);
}

static void test_absent_devices_answer_fe(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xd4);
	put(f, 0xff);
	assert_int_equal(status(f) & (I8042_STR_AUXDATA | I8042_STR_TIMEOUT | I8042_STR_OBF),
			 I8042_STR_AUXDATA | I8042_STR_TIMEOUT | I8042_STR_OBF);
	assert_int_equal(data(f), 0xfe);
	/* AUXINT is off at reset: no IRQ 12. */
	assert_int_equal(f->nr_aux, 0);
	put(f, 0xf2); /* keyboard GETID */
	assert_int_equal(status(f) & (I8042_STR_AUXDATA | I8042_STR_TIMEOUT),
			 I8042_STR_TIMEOUT);
	assert_int_equal(f->nr_kbd, 1);
	assert_int_equal(data(f), 0xfe);
	assert_int_equal(f->nr_kbd, 2);
	assert_int_equal(status(f) & I8042_STR_TIMEOUT, 0);
	/* An empty buffer reads the last byte again. */
	assert_int_equal(data(f), 0xfe);
}

static void test_irq_pulses_between_bytes(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xd2);
	put(f, 1);
	cmd(f, 0xd2);
	put(f, 2);
	assert_int_equal(f->nr_kbd, 1);
	assert_int_equal(data(f), 1);
	/* Dropped and raised again for the second byte. */
	assert_int_equal(f->nr_kbd, 3);
	assert_int_equal(f->kbd[1], 0);
	assert_int_equal(f->kbd[2], 1);
	assert_int_equal(data(f), 2);
	assert_int_equal(f->nr_kbd, 4);
	assert_int_equal(f->kbd[3], 0);
	/* Turning KBDINT off with a byte waiting lowers the line. */
	cmd(f, 0xd2);
	put(f, 3);
	cmd(f, 0x60);
	put(f, 0);
	assert_int_equal(f->kbd[f->nr_kbd - 1], 0);
	assert_int_equal(data(f), 3);
}

static void test_output_overflow_drops(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < I8042_OUTQ_SIZE + 3; i++)
		cmd(f, 0xaa);
	for (i = 0; i < I8042_OUTQ_SIZE; i++)
		assert_int_equal(data(f), 0x55);
	assert_int_equal(status(f) & I8042_STR_OBF, 0);
}

static void test_reset_commands(void **state)
{
	struct fixture *f = *state;

	cmd(f, 0xff); /* pulses nothing */
	assert_int_equal(f->stops, 0);
	cmd(f, 0xfe);
	assert_int_equal(f->stops, 1);
	assert_int_equal(f->reason, VM_STOP_RESET);
	/* Output port: Linux's A20 enable keeps bit 0 set. */
	cmd(f, 0xd1);
	put(f, 0xdf);
	assert_int_equal(f->stops, 1);
	assert_int_equal(query(f, 0xd0), 0xdf);
	cmd(f, 0xdd);
	assert_int_equal(query(f, 0xd0), 0xdd);
	cmd(f, 0xd1);
	put(f, 0xde);
	assert_int_equal(f->stops, 2);
}

static void test_wide_access(void **state)
{
	struct fixture *f = *state;
	uint8_t d[2] = {0xaa, 0x00};

	i8042_cmd_ops.write(&f->k, 0, d, 2);
	memset(d, 0, sizeof(d));
	i8042_data_ops.read(&f->k, 0, d, 2);
	assert_int_equal(d[0], 0x55);
	assert_int_equal(d[1], 0xff);
}

/* The API's SendCtrlAltDel: Ctrl, Alt, Del presses on the keyboard port,
 * translated to set 1 when the CTR asks for translation, with IRQ 1. */
static void test_ctrl_alt_del(void **state)
{
	struct fixture *f = *state;
	static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53};
	static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71};
	uint8_t ctr = query(f, 0x20);

	cmd(f, 0x60);
	put(f, ctr | I8042_CTR_XLATE | I8042_CTR_KBDINT);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->k), 0);
	assert_true(f->nr_kbd > 0 && f->kbd[f->nr_kbd - 1] == 1);
	for (size_t i = 0; i < sizeof(set1); i++) {
		assert_int_equal(status(f) & (I8042_STR_OBF | I8042_STR_AUXDATA), I8042_STR_OBF);
		assert_int_equal(data(f), set1[i]);
	}
	assert_int_equal(status(f) & I8042_STR_OBF, 0);
	cmd(f, 0x60);
	put(f, (ctr & ~I8042_CTR_XLATE) | I8042_CTR_KBDINT);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->k), 0);
	for (size_t i = 0; i < sizeof(set2); i++)
		assert_int_equal(data(f), set2[i]);
	/* A guest that reads nothing: no room, refused, nothing dropped. */
	assert_int_equal(i8042_send_ctrl_alt_del(&f->k), 0);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->k), 0);
	assert_int_equal(i8042_send_ctrl_alt_del(&f->k), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_status_idle),
		T(test_selftest_and_interface_tests),
		T(test_ctr_read_write),
		T(test_port_enable_bits),
		T(test_aux_loop_and_irq12),
		T(test_absent_devices_answer_fe),
		T(test_irq_pulses_between_bytes),
		T(test_output_overflow_drops),
		T(test_reset_commands),
		T(test_wide_access),
		T(test_ctrl_alt_del),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
