/* libFuzzer target for the CMOS RTC: random index/data accesses against a
 * clock the input also moves, to shake out the calendar and BCD paths, and
 * timer expiries to drive the interrupt logic. Besides the sanitizers it
 * checks the interrupt contract (traps on a breach):
 * - a deadline given to timer_arm is after the clock it was armed on;
 * - with PIE, AIE and UIE clear no timer stays armed;
 * - IRQ 8 is only ever pulsed (1 then 0);
 * - the timer expiring at its deadline pulses IRQ 8 exactly once (it is
 *   armed only for an enabled event while IRQF is clear). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "devices/rtc_cmos.h"

static struct timespec fake_now;
static int armed, level, pulses;
static struct timespec deadline;

static void f_now(void *ctx, struct timespec *ts)
{
	(void)ctx;
	*ts = fake_now;
}

static int before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void f_arm(void *ctx, const struct timespec *dl)
{
	(void)ctx;
	if (dl) {
		if (!before(&fake_now, dl) || dl->tv_nsec < 0 || dl->tv_nsec >= 1000000000L)
			__builtin_trap();
		deadline = *dl;
	}
	armed = dl != NULL;
}

static void f_irq(void *ctx, unsigned int gsi, int lvl)
{
	(void)ctx;
	if (gsi != RTC_CMOS_IRQ || lvl == level)
		__builtin_trap();
	level = lvl;
	pulses += !lvl;
}

static void advance(long ns)
{
	fake_now.tv_nsec += ns;
	while (fake_now.tv_nsec >= 1000000000L) {
		fake_now.tv_nsec -= 1000000000L;
		fake_now.tv_sec++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t irq_regs[] = {RTC_SECONDS_ALARM, RTC_MINUTES_ALARM, RTC_HOURS_ALARM,
					   RTC_REG_A, RTC_REG_B, RTC_SECONDS};
	struct rtc_cmos_config cfg = {
		.now = f_now,
		.timer_arm = f_arm,
		.irq = {f_irq, NULL, RTC_CMOS_IRQ},
	};
	struct rtc_cmos r;
	size_t i = 0;
	int n;

	fake_now.tv_sec = 1700000000;
	fake_now.tv_nsec = 0;
	armed = level = pulses = 0;
	if (rtc_cmos_init(&r, &cfg))
		return 0;
	while (i < size) {
		uint8_t op = data[i++], v = 0, idx;

		if (i < size)
			v = data[i++];
		switch (op & 7) {
		case 0:
			rtc_cmos_ops.write(&r, op >> 7, &v, 1);
			break;
		case 1:
			rtc_cmos_ops.read(&r, op >> 7, &v, 1);
			break;
		case 2: /* move the host clock, by up to ~4 years either way */
			fake_now.tv_sec += (int64_t)(int8_t)v * ((op >> 3) + 1) * 1000003LL / 64;
			fake_now.tv_nsec = (long)(op >> 3) * 31250000L;
			break;
		case 3:
			rtc_cmos_ops.write(&r, 0, &v, 1);
			rtc_cmos_ops.read(&r, 1, &v, 1);
			break;
		case 4: /* the timer expires (or a stray tick when none is armed) */
			n = pulses;
			if (armed) {
				armed = 0;
				fake_now = deadline;
				rtc_cmos_tick(&r);
				if (pulses != n + 1)
					__builtin_trap();
			} else {
				rtc_cmos_tick(&r);
			}
			break;
		case 5: /* time passes: up to ~0.5 s, in steps near periodic rates */
			advance((long)v * ((op >> 3) + 1) * 61035L / 8);
			break;
		case 6: /* a register that matters to the interrupts */
			idx = irq_regs[(op >> 3) % ARRAY_SIZE(irq_regs)];
			rtc_cmos_ops.write(&r, 0, &idx, 1);
			rtc_cmos_ops.write(&r, 1, &v, 1);
			break;
		case 7:
			idx = RTC_REG_C;
			rtc_cmos_ops.write(&r, 0, &idx, 1);
			rtc_cmos_ops.read(&r, 1, &v, 1);
			break;
		}
		if (!(r.ram[RTC_REG_B] & (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE)) && armed)
			__builtin_trap();
	}
	if (level)
		__builtin_trap();
	rtc_cmos_free(&r);
	return 0;
}
