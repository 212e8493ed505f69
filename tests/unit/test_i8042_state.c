/* Unit tests for the i8042 as a struct device: save/restore round trip into
 * a fresh instance, refused sections, pause/resume and the counters. */
#include "device_state_fixture.h"
#include "devices/i8042.h"

struct side {
	struct i8042 *k;
	int level[16];
	int irq_calls;
	int resets;
};

static void sd_irq(void *ctx, unsigned int gsi, int level)
{
	struct side *sd = ctx;

	assert_true(gsi < 16);
	sd->level[gsi] = level;
	sd->irq_calls++;
}

static void sd_stop(void *ctx, enum vm_stop_reason r, int status)
{
	struct side *sd = ctx;

	assert_int_equal(r, VM_STOP_RESET);
	assert_int_equal(status, 0);
	sd->resets++;
}

static void side_new(struct side *sd)
{
	struct i8042_config cfg = {
		.stopper = {.fn = sd_stop, .ctx = sd},
		.kbd_irq = {.set = sd_irq, .ctx = sd, .gsi = I8042_KBD_IRQ},
		.aux_irq = {.set = sd_irq, .ctx = sd, .gsi = I8042_AUX_IRQ},
	};

	memset(sd, 0, sizeof(*sd));
	assert_int_equal(i8042_new(&cfg, "i8042", &sd->k), 0);
	assert_ptr_equal(sd->k->dev.ops, &i8042_device_ops);
}

static void side_free(struct side *sd)
{
	sd->k->dev.ops->destroy(&sd->k->dev);
}

static uint8_t rd(struct side *sd, int cmd_port)
{
	uint8_t v = 0;

	(cmd_port ? &i8042_cmd_ops : &i8042_data_ops)->read(sd->k, 0, &v, 1);
	return v;
}

static void wr(struct side *sd, int cmd_port, uint8_t v)
{
	(cmd_port ? &i8042_cmd_ops : &i8042_data_ops)->write(sd->k, 0, &v, 1);
}

/* Several answers queued (one already read, so the ring has moved), AUX
 * interrupts on, a command waiting for its data byte. */
static void drive(struct side *sd)
{
	wr(sd, 1, 0x60);
	wr(sd, 0, I8042_CTR_KBDINT | I8042_CTR_AUXINT | I8042_CTR_SYS);
	wr(sd, 1, 0xaa); /* 0x55 */
	wr(sd, 1, 0xab); /* 0x00 */
	assert_int_equal(rd(sd, 0), 0x55);
	wr(sd, 1, 0xd4);
	wr(sd, 0, 0xf4); /* mouse: 0xfe, AUX + time-out */
	wr(sd, 1, 0x20); /* CTR */
	wr(sd, 1, 0xd3);
	wr(sd, 0, 0x77); /* as if from the mouse */
	for (int i = 0; i < 6; i++)
		wr(sd, 1, 0xc0);
	wr(sd, 1, 0xdd); /* A20 off */
	wr(sd, 1, 0x61); /* RAM[1] write pending */
}

static void same_behaviour(struct side *a, struct side *b)
{
	for (int i = 0; i < 12; i++) {
		assert_int_equal(rd(a, 1), rd(b, 1));
		assert_int_equal(a->level[1], b->level[1]);
		assert_int_equal(a->level[12], b->level[12]);
		if (i == 3) {
			wr(a, 0, 0x99); /* completes the pending RAM write */
			wr(b, 0, 0x99);
			wr(a, 1, 0x21);
			wr(b, 1, 0x21);
			wr(a, 1, 0xd0);
			wr(b, 1, 0xd0);
		}
		assert_int_equal(rd(a, 0), rd(b, 0));
	}
}

static void test_round_trip(void **state)
{
	struct side a, b;
	struct state_buf sec, again;
	(void)state;

	side_new(&a);
	side_new(&b);
	drive(&a);
	assert_int_equal(a.level[I8042_KBD_IRQ], 1);
	dev_pause(&a.k->dev);
	dev_save(&a.k->dev, &sec);
	dev_restore_ok(&b.k->dev, &sec);
	assert_int_equal(b.irq_calls, 0); /* paused: lines untouched */
	dev_save(&b.k->dev, &again);
	assert_int_equal(sec.len, again.len);
	assert_memory_equal(sec.data, again.data, sec.len);
	dev_resume(&b.k->dev);
	assert_int_equal(b.level[I8042_KBD_IRQ], 1); /* re-asserted */
	assert_int_equal(b.level[I8042_AUX_IRQ], 0);
	dev_resume(&a.k->dev);
	same_behaviour(&a, &b);
	/* A reset through the restored output port works the same. */
	wr(&a, 1, 0xfe);
	wr(&b, 1, 0xfe);
	assert_int_equal(a.resets, 1);
	assert_int_equal(b.resets, 1);
	state_buf_free(&sec);
	state_buf_free(&again);
	side_free(&a);
	side_free(&b);
}

/* Payload offsets (i8042.c). */
enum { P_PENDING = 33, P_LASTCMD = 34, P_COUNT = 36, P_Q = 37, P_KBD = 53, P_AUX = 54 };

static void test_bad_sections(void **state)
{
	struct side a, b;
	struct state_buf sec;
	(void)state;

	side_new(&a);
	side_new(&b);
	wr(&a, 1, 0xaa);
	wr(&a, 1, 0xd4);
	wr(&a, 0, 0xff);
	wr(&a, 1, 0x60);
	dev_pause(&a.k->dev);
	dev_save(&a.k->dev, &sec);
	assert_int_equal(sec.len - payload_off(&sec), 55);
	wr(&b, 1, 0xab);
	expect_framing_refused(&b.k->dev, &sec);
	expect_field_refused(&b.k->dev, &sec, P_PENDING, 0x50, "pending_cmd");
	expect_field_refused(&b.k->dev, &sec, P_PENDING, 0xd5, "pending_cmd");
	expect_field_refused(&b.k->dev, &sec, P_LASTCMD, 2, "last_was_cmd");
	expect_field_refused(&b.k->dev, &sec, P_COUNT, 9, "out_count");
	expect_field_refused(&b.k->dev, &sec, P_COUNT, 1, "unused output byte");
	expect_field_refused(&b.k->dev, &sec, P_Q + 2 * 7, 1, "unused output byte");
	expect_field_refused(&b.k->dev, &sec, P_Q + 1, 0x01, "output status");
	expect_field_refused(&b.k->dev, &sec, P_KBD, 0, "kbd irq level");
	expect_field_refused(&b.k->dev, &sec, P_AUX, 1, "aux irq level");
	dev_restore_ok(&b.k->dev, &sec);
	state_buf_free(&sec);
	side_free(&a);
	side_free(&b);
}

static void test_stats(void **state)
{
	struct side a;
	(void)state;

	side_new(&a);
	for (int i = 0; i < 10; i++)
		wr(&a, 1, 0xaa); /* two more than the buffer holds */
	wr(&a, 0, 0x12);
	wr(&a, 1, 0xfe);
	assert_int_equal(dev_stat(&a.k->dev, "commands"), 11);
	assert_int_equal(dev_stat(&a.k->dev, "data_writes"), 1);
	assert_int_equal(dev_stat(&a.k->dev, "out_bytes"), 8);
	assert_int_equal(dev_stat(&a.k->dev, "out_dropped"), 3);
	assert_int_equal(dev_stat(&a.k->dev, "resets"), 1);
	side_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_sections),
		cmocka_unit_test(test_stats),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
