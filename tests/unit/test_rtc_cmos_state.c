/* Unit tests for the CMOS RTC as a struct device: save/restore round trip
 * into a fresh instance on a fake clock (the alarm fires at the same guest
 * time, the periodic timer is re-armed relative to the restored clock, a
 * set IRQF is pulsed again), refused sections, pause and the counters. */
#include <time.h>

#include "device_state_fixture.h"
#include "devices/rtc_cmos.h"

struct side {
	struct rtc_cmos *r;
	struct timespec now;
	int pulses, level;
	int armed, arms, cancels;
	struct timespec deadline;
};

static void sd_now(void *ctx, struct timespec *ts)
{
	*ts = ((struct side *)ctx)->now;
}

static void sd_irq(void *ctx, unsigned int gsi, int level)
{
	struct side *sd = ctx;

	assert_int_equal(gsi, RTC_CMOS_IRQ);
	assert_int_not_equal(level, sd->level);
	sd->level = level;
	sd->pulses += !level;
}

static void sd_arm(void *ctx, const struct timespec *dl)
{
	struct side *sd = ctx;

	if (dl) {
		assert_true(dl->tv_sec > sd->now.tv_sec ||
			    (dl->tv_sec == sd->now.tv_sec && dl->tv_nsec > sd->now.tv_nsec));
		sd->deadline = *dl;
		sd->armed = 1;
		sd->arms++;
	} else {
		sd->armed = 0;
		sd->cancels++;
	}
}

/* 2024-02-29 13:45:07.5 UTC on the host. */
static void side_new(struct side *sd)
{
	struct rtc_cmos_config cfg = {
		.now = sd_now,
		.timer_arm = sd_arm,
		.ctx = sd,
		.irq = {sd_irq, sd, RTC_CMOS_IRQ},
	};

	memset(sd, 0, sizeof(*sd));
	sd->now.tv_sec = 1709214307;
	sd->now.tv_nsec = 500000000;
	assert_int_equal(rtc_cmos_new(&cfg, "rtc0", &sd->r), 0);
	assert_ptr_equal(sd->r->dev.ops, &rtc_cmos_device_ops);
}

static void side_free(struct side *sd)
{
	assert_int_equal(sd->level, 0);
	sd->r->dev.ops->destroy(&sd->r->dev);
}

static void advance(struct side *sd, long ns)
{
	sd->now.tv_nsec += ns;
	while (sd->now.tv_nsec >= 1000000000L) {
		sd->now.tv_nsec -= 1000000000L;
		sd->now.tv_sec++;
	}
}

static uint8_t rd(struct side *sd, uint8_t idx)
{
	uint8_t v = 0;

	rtc_cmos_ops.write(sd->r, 0, &idx, 1);
	rtc_cmos_ops.read(sd->r, 1, &v, 1);
	return v;
}

static void wr(struct side *sd, uint8_t idx, uint8_t v)
{
	rtc_cmos_ops.write(sd->r, 0, &idx, 1);
	rtc_cmos_ops.write(sd->r, 1, &v, 1);
}

/* (Register A keeps its 1024 Hz rate: PF is set in every read of C.)
 * The guest sets 2030-06-15 12:00:00 and an alarm at 12:00:03 with AIE,
 * writes some RAM, and 1.2 s pass (UF set, not enabled). */
static void drive(struct side *sd)
{
	wr(sd, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	wr(sd, RTC_SECONDS, 0x00);
	wr(sd, RTC_MINUTES, 0x00);
	wr(sd, RTC_HOURS, 0x12);
	wr(sd, RTC_DAY_OF_MONTH, 0x15);
	wr(sd, RTC_MONTH, 0x06);
	wr(sd, RTC_YEAR, 0x30);
	wr(sd, RTC_CENTURY, 0x20);
	wr(sd, RTC_REG_B, RTC_B_24H);
	wr(sd, RTC_SECONDS_ALARM, 0x03);
	wr(sd, RTC_MINUTES_ALARM, 0x00);
	wr(sd, RTC_HOURS_ALARM, 0x12);
	for (uint8_t i = 0x40; i < 0x50; i++)
		wr(sd, i, (uint8_t)(i * 7));
	wr(sd, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	advance(sd, 1200000000L);
	wr(sd, RTC_REG_B, RTC_B_24H | RTC_B_AIE); /* counts the update: UF */
	rd(sd, RTC_SECONDS);
	/* Index 0x41 with NMIs masked. */
	uint8_t idx = 0x80 | 0x41;
	rtc_cmos_ops.write(sd->r, 0, &idx, 1);
}

static void same_regs(struct side *a, struct side *b)
{
	static const uint8_t regs[] = {RTC_SECONDS, RTC_MINUTES, RTC_HOURS, RTC_DAY_OF_WEEK,
				       RTC_DAY_OF_MONTH, RTC_MONTH, RTC_YEAR, RTC_CENTURY,
				       RTC_REG_A, RTC_REG_B, RTC_REG_D, 0x41, 0x4f};
	uint8_t va = 0, vb = 0;

	/* The index (and NMI mask) came across: read without setting it. */
	rtc_cmos_ops.read(a->r, 1, &va, 1);
	rtc_cmos_ops.read(b->r, 1, &vb, 1);
	assert_int_equal(va, vb);
	assert_int_equal(rtc_cmos_nmi_masked(a->r), rtc_cmos_nmi_masked(b->r));
	for (unsigned int i = 0; i < ARRAY_SIZE(regs); i++)
		assert_int_equal(rd(a, regs[i]), rd(b, regs[i]));
}

static void test_round_trip_alarm(void **state)
{
	struct side a, b;
	struct state_buf sec, again;
	(void)state;

	side_new(&a);
	side_new(&b);
	drive(&a);
	assert_int_equal(a.armed, 1);
	dev_pause(&a.r->dev);
	assert_int_equal(a.armed, 0); /* pause cancels the host timer */
	dev_save(&a.r->dev, &sec);
	b.now = a.now;
	dev_restore_ok(&b.r->dev, &sec);
	assert_int_equal(b.arms, 0); /* nothing until resume */
	dev_save(&b.r->dev, &again);
	assert_int_equal(sec.len, again.len);
	assert_memory_equal(sec.data, again.data, sec.len);
	dev_resume(&b.r->dev);
	dev_resume(&a.r->dev);
	assert_int_equal(a.armed, 1);
	assert_int_equal(b.armed, 1);
	assert_int_equal(a.deadline.tv_sec, b.deadline.tv_sec);
	assert_int_equal(a.deadline.tv_nsec, b.deadline.tv_nsec);
	/* The alarm is due at guest 12:00:03: 3 s after the time was set
	 * at host .5, the update ending 1.984 ms into host second +3. */
	assert_int_equal(b.deadline.tv_sec, 1709214307 + 3);
	assert_int_equal(b.deadline.tv_nsec, 1984000);
	same_regs(&a, &b);
	a.now = b.now = b.deadline;
	rtc_cmos_tick(a.r);
	rtc_cmos_tick(b.r);
	assert_int_equal(a.pulses, 1);
	assert_int_equal(b.pulses, 1);
	assert_int_equal(rd(&b, RTC_SECONDS), 0x03);
	assert_int_equal(rd(&a, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
	assert_int_equal(rd(&b, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_AF | RTC_C_UF);
	same_regs(&a, &b);
	state_buf_free(&sec);
	state_buf_free(&again);
	side_free(&a);
	side_free(&b);
}

/* IRQF set and not yet acknowledged: the fresh instance pulses IRQ 8 at
 * resume (its interrupt controller never saw the edge); the original,
 * resumed in place, does not pulse twice. */
static void test_round_trip_irqf(void **state)
{
	struct side a, b;
	struct state_buf sec;
	(void)state;

	side_new(&a);
	side_new(&b);
	wr(&a, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	a.now = a.deadline;
	rtc_cmos_tick(a.r);
	assert_int_equal(a.pulses, 1);
	dev_pause(&a.r->dev);
	dev_save(&a.r->dev, &sec);
	b.now = a.now;
	dev_restore_ok(&b.r->dev, &sec);
	assert_int_equal(b.pulses, 0);
	dev_resume(&b.r->dev);
	assert_int_equal(b.pulses, 1);
	dev_resume(&a.r->dev);
	assert_int_equal(a.pulses, 1);
	assert_int_equal(rd(&a, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	assert_int_equal(rd(&b, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	/* Acknowledged: both arm for the next update, the same one. */
	assert_int_equal(a.armed && b.armed, 1);
	assert_int_equal(a.deadline.tv_sec, b.deadline.tv_sec);
	assert_int_equal(a.deadline.tv_nsec, b.deadline.tv_nsec);
	/* A plain pause/resume of b does not pulse again. */
	dev_pause(&b.r->dev);
	dev_resume(&b.r->dev);
	assert_int_equal(b.pulses, 1);
	state_buf_free(&sec);
	side_free(&a);
	side_free(&b);
}

/* Restored 10.3 s later on the host: the periodic timer is armed from the
 * restored state relative to the restore-time clock, and the guest clock
 * has moved on with the host's. */
static void test_restore_later_periodic(void **state)
{
	struct side a, b;
	struct state_buf sec;
	(void)state;

	side_new(&a);
	side_new(&b);
	wr(&a, RTC_REG_A, 0x2f); /* RS 15: 2 Hz */
	wr(&a, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	assert_int_equal(a.armed, 1);
	assert_int_equal(a.deadline.tv_sec, 1709214308);
	assert_int_equal(a.deadline.tv_nsec, 0);
	dev_pause(&a.r->dev);
	dev_save(&a.r->dev, &sec);
	b.now = a.now;
	advance(&b, 10300000000L); /* host .8 */
	dev_restore_ok(&b.r->dev, &sec);
	dev_resume(&b.r->dev);
	/* Periodic ticks passed while it was saved: PF, IRQF, one pulse, and
	 * no timer while IRQF is set. */
	assert_int_equal(b.pulses, 1);
	assert_int_equal(rd(&b, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	assert_int_equal(b.armed, 1);
	assert_int_equal(b.deadline.tv_sec, 1709214307 + 11);
	assert_int_equal(b.deadline.tv_nsec, 0);
	assert_int_equal(rd(&b, RTC_SECONDS), 0x17); /* 13:45:17 */
	state_buf_free(&sec);
	side_free(&a);
	side_free(&b);
}

static void test_pause_ignores_ticks(void **state)
{
	struct side a;
	(void)state;

	side_new(&a);
	wr(&a, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	assert_int_equal(a.armed, 1);
	dev_pause(&a.r->dev);
	assert_int_equal(a.cancels, 1);
	a.now = a.deadline;
	advance(&a, 100);
	rtc_cmos_tick(a.r); /* already on its way when pause cancelled it */
	assert_int_equal(a.pulses, 0);
	assert_int_equal(a.armed, 0);
	dev_resume(&a.r->dev); /* catches up */
	assert_int_equal(a.pulses, 1);
	assert_int_equal(rd(&a, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	assert_int_equal(dev_stat(&a.r->dev, "irqs"), 1);
	assert_int_equal(dev_stat(&a.r->dev, "ticks"), 1);
	assert_int_equal(dev_stat(&a.r->dev, "timer_arms"), 2);
	assert_int_equal(dev_stat(&a.r->dev, "clock_sets"), 0);
	wr(&a, RTC_SECONDS, 0x00);
	assert_int_equal(dev_stat(&a.r->dev, "clock_sets"), 1);
	side_free(&a);
}

/* Payload offsets (rtc_cmos_state.c). */
enum { P_INDEX = 128, P_NMI = 129, P_LATCH = 138, P_LATCH_NS = 154, P_LATCHED = 158,
       P_FLAGS = 159, P_IRQF = 160, P_SEEN_NS = 169, P_END = 173 };

static void test_bad_sections(void **state)
{
	struct side a, b;
	struct state_buf sec;
	uint8_t latch0;
	(void)state;

	side_new(&a);
	side_new(&b);
	drive(&a);
	dev_pause(&a.r->dev);
	dev_save(&a.r->dev, &sec);
	assert_int_equal(sec.len - payload_off(&sec), P_END);
	wr(&b, 0x70, 0x12);
	expect_framing_refused(&b.r->dev, &sec);
	expect_field_refused(&b.r->dev, &sec, P_INDEX, 0x80, "index");
	expect_field_refused(&b.r->dev, &sec, P_NMI, 2, "nmi_masked");
	expect_field_refused(&b.r->dev, &sec, RTC_REG_A, 0xa6, "register A");
	expect_field_refused(&b.r->dev, &sec, RTC_REG_B, RTC_B_SET | RTC_B_UIE, "register B");
	expect_field_refused(&b.r->dev, &sec, RTC_REG_C, 0x01, "register C");
	expect_field_refused(&b.r->dev, &sec, RTC_REG_D, 0x80, "register D");
	expect_field_refused(&b.r->dev, &sec, P_LATCH_NS + 3, 0xff, "latch_at nsec");
	expect_field_refused(&b.r->dev, &sec, P_SEEN_NS + 3, 0xff, "seen nsec");
	expect_field_refused(&b.r->dev, &sec, P_LATCHED, 2, "latched");
	expect_field_refused(&b.r->dev, &sec, P_FLAGS, 0x01, "register C flags");
	expect_field_refused(&b.r->dev, &sec, P_FLAGS, RTC_C_IRQF, "register C flags");
	expect_field_refused(&b.r->dev, &sec, P_IRQF, 1, "irqf");
	expect_field_refused(&b.r->dev, &sec, P_IRQF, 2, "irqf");
	/* UF is set: enabling UIE in the image makes the saved IRQF wrong. */
	expect_field_refused(&b.r->dev, &sec, RTC_REG_B, RTC_B_24H | RTC_B_UIE, "irqf");
	latch0 = sec.data[payload_off(&sec) + P_LATCH];
	expect_field_refused(&b.r->dev, &sec, P_LATCH, (uint8_t)(latch0 ^ 1), "latch");
	dev_restore_ok(&b.r->dev, &sec);
	state_buf_free(&sec);
	side_free(&a);
	side_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_alarm),
		cmocka_unit_test(test_round_trip_irqf),
		cmocka_unit_test(test_restore_later_periodic),
		cmocka_unit_test(test_pause_ignores_ticks),
		cmocka_unit_test(test_bad_sections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
