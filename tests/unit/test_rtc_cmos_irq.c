/* Unit tests for the CMOS RTC's interrupts (rtc_cmos_irq.c): register C,
 * the alarm, periodic rates, IRQ 8 and the timer requests, on a test clock
 * with fake timer and IRQ 8 callbacks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "compiler.h"
#include "devices/rtc_cmos.h"
#include "rtc_fixture.h"

static int setup(void **state)
{
	return setup_with(state, 1);
}

static void set_time(struct fixture *f, int64_t sec, long ns)
{
	f->now.tv_sec = (time_t)sec;
	f->now.tv_nsec = ns;
}

/* The fake timer expires: the clock jumps to its deadline. */
static void fire(struct fixture *f)
{
	assert_true(f->armed);
	f->armed = 0;
	f->now = f->deadline;
	rtc_cmos_tick(&f->r);
}

#define UPDATE_END_NS 1984000L

/* A guest that never enables an interrupt costs nothing: no timer, no IRQ,
 * yet register C's flags are right when it polls. */
static void test_no_timer_when_disabled(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i < 3000; i++) {
		wr(f, RTC_REG_A, (uint8_t)(0x20 | (i % 16)));
		wr(f, RTC_SECONDS_ALARM, 0xff);
		wr(f, RTC_REG_B, (uint8_t)(i & 1 ? RTC_B_24H | RTC_B_SET : RTC_B_24H));
		if (i % 100 == 0)
			wr(f, RTC_MINUTES, 0x30);
		rd(f, RTC_REG_C);
		advance_ns(f, 7777777);
	}
	wr(f, RTC_REG_B, RTC_B_24H);
	assert_int_equal(f->arms, 0);
	assert_int_equal(f->cancels, 0);
	assert_int_equal(f->pulses, 0);
	/* Polled: UF (and AF: all "don't care") after an update, no IRQF. */
	wr(f, RTC_REG_A, 0x20); /* no periodic */
	wr(f, RTC_MINUTES_ALARM, 0xc0);
	wr(f, RTC_HOURS_ALARM, 0xc0);
	rd(f, RTC_REG_C);
	advance_ns(f, 1000000000L);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_UF | RTC_C_AF);
	assert_int_equal(rd(f, RTC_REG_C), 0);
	assert_int_equal(f->arms, 0);
	rtc_cmos_tick(&f->r); /* a stray tick arms nothing either */
	assert_int_equal(f->arms, 0);
	assert_int_equal(f->pulses, 0);
}

static void test_uf_once_per_second(void **state)
{
	struct fixture *f = *state;
	int i;

	wr(f, RTC_REG_A, 0x20); /* no periodic flag in the way */
	set_time(f, 1709214307, 500000000);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	assert_true(f->armed);
	assert_int_equal(f->deadline.tv_sec, 1709214308);
	assert_int_equal(f->deadline.tv_nsec, UPDATE_END_NS);
	/* Just before the update ends: nothing yet. */
	set_time(f, 1709214308, UPDATE_END_NS - 1);
	assert_int_equal(rd(f, RTC_REG_C), 0);
	for (i = 0; i < 5; i++) {
		fire(f);
		assert_int_equal(f->pulses, i + 1);
		assert_false(f->armed); /* IRQF is up: nothing more until C is read */
		assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
		assert_int_equal(rd(f, RTC_REG_C), 0);
		assert_true(f->armed);
		assert_int_equal(f->deadline.tv_sec, 1709214309 + i);
		assert_int_equal(f->deadline.tv_nsec, UPDATE_END_NS);
	}
	/* Not read for 3 s: one flag, one interrupt, then silence. */
	fire(f);
	assert_int_equal(f->pulses, 6);
	f->now.tv_sec += 3;
	rtc_cmos_tick(&f->r);
	assert_int_equal(f->pulses, 6);
	assert_false(f->armed);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
	assert_true(f->armed);
	/* Turning UIE off cancels the timer. */
	wr(f, RTC_REG_B, RTC_B_24H);
	assert_false(f->armed);
	assert_int_equal(f->cancels, 1);
	/* The time registers already show the new second when UF is set. */
	set_time(f, 1709214400, 0);
	rd(f, RTC_REG_C);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	fire(f);
	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, 0);
	assert_int_equal(rd(f, RTC_SECONDS), 0x40);
}

static void test_no_update_while_set(void **state)
{
	struct fixture *f = *state;

	wr(f, RTC_SECONDS_ALARM, 0xc0);
	wr(f, RTC_MINUTES_ALARM, 0xc0);
	wr(f, RTC_HOURS_ALARM, 0xc0);
	wr(f, RTC_REG_A, 0x20);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_AIE);
	assert_false(f->armed); /* no update can come */
	f->now.tv_sec += 10;
	rtc_cmos_tick(&f->r);
	assert_int_equal(rd(f, RTC_REG_C), 0);
	assert_int_equal(f->pulses, 0);
	/* Periodic interrupts come from the divider, which SET does not stop. */
	wr(f, RTC_REG_A, 0x2f);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_SET | RTC_B_PIE);
	assert_true(f->armed);
	fire(f);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
	/* SET cleared: updates resume from the next second on. */
	wr(f, RTC_REG_A, 0x20);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	assert_int_equal(rd(f, RTC_REG_C), 0);
	fire(f);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
}

/* The alarm fires when the time registers first show the alarm time. */
static void test_alarm_exact(void **state)
{
	struct fixture *f = *state;

	wr(f, RTC_REG_A, 0x20); /* no periodic flag in the way */

	set_time(f, 1709214307, 500000000); /* 13:45:07.5 */
	wr(f, RTC_SECONDS_ALARM, 0x10);
	wr(f, RTC_MINUTES_ALARM, 0x45);
	wr(f, RTC_HOURS_ALARM, 0x13);
	assert_false(f->armed);
	rd(f, RTC_REG_C);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	assert_true(f->armed);
	assert_int_equal(f->deadline.tv_sec, 1709214310);
	assert_int_equal(f->deadline.tv_nsec, UPDATE_END_NS);
	/* A second earlier: UF only, no interrupt. */
	set_time(f, 1709214309, 500000000);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_UF);
	assert_int_equal(f->pulses, 0);
	fire(f);
	assert_int_equal(f->pulses, 1);
	assert_int_equal(rd(f, RTC_SECONDS), 0x10);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	/* Next match: tomorrow. */
	assert_true(f->armed);
	assert_int_equal(f->deadline.tv_sec, 1709214310 + 86400);
	/* Moving the alarm moves the timer. */
	wr(f, RTC_SECONDS_ALARM, 0x20);
	assert_int_equal(f->deadline.tv_sec, 1709214320);
	/* A missed alarm is found by a late read of C, without the timer. */
	set_time(f, 1709214330, 0);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	assert_int_equal(f->pulses, 1);
}
static void test_alarm_dont_care(void **state)
{
	struct fixture *f = *state;
	int i;

	wr(f, RTC_REG_A, 0x20); /* no periodic flag in the way */
	set_time(f, 1709214307, 500000000); /* 13:45:07.5 */
	/* Every minute at second 5. */
	wr(f, RTC_SECONDS_ALARM, 0x05);
	wr(f, RTC_MINUTES_ALARM, 0xc0);
	wr(f, RTC_HOURS_ALARM, 0xff);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	for (i = 0; i < 3; i++) {
		assert_int_equal(f->deadline.tv_sec, 1709214365 + 60 * i);
		fire(f);
		assert_int_equal(rd(f, RTC_SECONDS), 0x05);
		assert_int_equal(rd(f, RTC_MINUTES), 0x46 + i);
		assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	}
	/* Every second. */
	wr(f, RTC_SECONDS_ALARM, 0xc0);
	assert_int_equal(f->deadline.tv_sec, f->now.tv_sec + 1);
	fire(f);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	/* Hour 14, any minute, second 0: 14:00:00 today. */
	wr(f, RTC_HOURS_ALARM, 0x14);
	wr(f, RTC_MINUTES_ALARM, 0xc0);
	wr(f, RTC_SECONDS_ALARM, 0x00);
	assert_int_equal(f->deadline.tv_sec, 1709215200);
	fire(f);
	assert_int_equal(rd(f, RTC_HOURS), 0x14);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	assert_int_equal(f->deadline.tv_sec, 1709215260); /* 14:01:00 */
	/* Hour 13 passed for today: 13:00:00 tomorrow. */
	wr(f, RTC_HOURS_ALARM, 0x13);
	assert_int_equal(f->deadline.tv_sec, 1709211600 + 86400);
}

/* The guest's time writes move the alarm with the clock it sees. */
static void test_alarm_guest_offset(void **state)
{
	struct fixture *f = *state;

	wr(f, RTC_REG_A, 0x20); /* no periodic flag in the way */

	set_time(f, 1709214307, 250000000);
	wr(f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	wr(f, RTC_SECONDS, 0x58);
	wr(f, RTC_MINUTES, 0x59);
	wr(f, RTC_HOURS, 0x23);
	wr(f, RTC_DAY_OF_MONTH, 0x31);
	wr(f, RTC_MONTH, 0x12);
	wr(f, RTC_YEAR, 0x99);
	wr(f, RTC_CENTURY, 0x19);
	wr(f, RTC_SECONDS_ALARM, 0x02);
	wr(f, RTC_MINUTES_ALARM, 0x00);
	wr(f, RTC_HOURS_ALARM, 0x00);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE);
	/* 23:59:58 now, alarm at 00:00:02 the next day: 4 s on. */
	assert_true(f->armed);
	assert_int_equal(f->deadline.tv_sec, 1709214311);
	fire(f);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_AF | RTC_C_UF);
	assert_int_equal(rd(f, RTC_YEAR), 0x00);
	assert_int_equal(rd(f, RTC_SECONDS), 0x02);
	/* One time write moves it again: seconds set to 0 -> 2 s on. */
	wr(f, RTC_SECONDS, 0x00);
	assert_int_equal(f->deadline.tv_sec, 1709214313);
}
static void test_alarm_formats(void **state)
{
	struct fixture *f = *state;

	wr(f, RTC_REG_A, 0x20); /* no periodic flag in the way */

	set_time(f, 1709214307, 500000000); /* 13:45:07.5 */
	/* Binary, 12-hour: 1 PM is 0x81. */
	wr(f, RTC_REG_B, RTC_B_DM_BINARY);
	wr(f, RTC_SECONDS_ALARM, 9);
	wr(f, RTC_MINUTES_ALARM, 45);
	wr(f, RTC_HOURS_ALARM, 0x81);
	wr(f, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_AIE);
	assert_int_equal(f->deadline.tv_sec, 1709214309);
	/* 1 AM instead: tomorrow. */
	wr(f, RTC_HOURS_ALARM, 0x01);
	assert_int_equal(f->deadline.tv_sec, 1709214309 - 12 * 3600 + 86400);
	/* Values no register can hold never match: no timer at all. */
	wr(f, RTC_HOURS_ALARM, 0x00); /* hour 0 does not exist in 12-hour form */
	assert_false(f->armed);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_AIE); /* BCD */
	wr(f, RTC_HOURS_ALARM, 0xc0);
	wr(f, RTC_SECONDS_ALARM, 0x60);
	assert_false(f->armed);
	wr(f, RTC_SECONDS_ALARM, 0x0a);
	assert_false(f->armed);
	wr(f, RTC_SECONDS_ALARM, 0x09);
	wr(f, RTC_MINUTES_ALARM, 0xbf);
	assert_false(f->armed);
	f->now.tv_sec += 2 * 86400;
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_UF);
	assert_int_equal(f->pulses, 0);
}
/* Counts the periodic ticks in one second by polling C every 10 us. */
static int pf_per_second(struct fixture *f)
{
	int i, n = 0;

	set_time(f, 1709214307, 0);
	rd(f, RTC_REG_C);
	for (i = 0; i < 100000; i++) {
		advance_ns(f, 10000);
		n += !!(rd(f, RTC_REG_C) & RTC_C_PF);
	}
	return n;
}

static void test_pf_rates(void **state)
{
	struct fixture *f = *state;
	unsigned int rs;

	wr(f, RTC_REG_A, 0x20);
	assert_int_equal(pf_per_second(f), 0);
	wr(f, RTC_REG_A, 0x21);
	assert_int_equal(pf_per_second(f), 256);
	wr(f, RTC_REG_A, 0x22);
	assert_int_equal(pf_per_second(f), 128);
	for (rs = 3; rs < 16; rs++) {
		wr(f, RTC_REG_A, (uint8_t)(0x20 | rs));
		assert_int_equal(pf_per_second(f), 32768 >> (rs - 1));
	}
	assert_int_equal(f->arms, 0);
	assert_int_equal(f->pulses, 0);
}

/* With PIE: one interrupt per period up to 1024 Hz, coalesced above. */
static void test_pf_timer(void **state)
{
	struct fixture *f = *state;
	struct timespec prev;
	unsigned int rs;
	int i;

	for (rs = 1; rs < 16; rs++) {
		unsigned int hz = rs <= 2 ? 512u >> rs : 32768u >> (rs - 1);
		long period = 1000000000L / (long)(hz > 1024 ? 1024 : hz);
		int pulses = f->pulses;

		wr(f, RTC_REG_B, RTC_B_24H);
		set_time(f, 1709214307, 0);
		wr(f, RTC_REG_A, (uint8_t)(0x20 | rs));
		rd(f, RTC_REG_C);
		wr(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
		prev = f->now;
		for (i = 0; i < 8; i++) {
			long d;

			fire(f);
			d = (long)(f->now.tv_sec - prev.tv_sec) * 1000000000L +
			    (f->now.tv_nsec - prev.tv_nsec);
			/* Within a nanosecond of the period (rounding up). */
			assert_true(d >= period - 1 && d <= period + 1);
			prev = f->now;
			/* UF too, whenever a second boundary passed. */
			assert_int_equal(rd(f, RTC_REG_C) & ~RTC_C_UF, RTC_C_IRQF | RTC_C_PF);
		}
		assert_int_equal(f->pulses, pulses + 8);
	}
	/* RS 0 with PIE: nothing to wait for. */
	wr(f, RTC_REG_A, 0x20);
	assert_false(f->armed);
}

static void test_irqf_and_enables(void **state)
{
	struct fixture *f = *state;

	set_time(f, 1709214307, 0);
	wr(f, RTC_REG_A, 0x2f); /* 2 Hz */
	rd(f, RTC_REG_C);
	f->now.tv_sec++;
	/* Flags without enables: no IRQF, no interrupt. */
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_PF | RTC_C_UF);
	f->now.tv_sec++;
	wr(f, RTC_REG_D, 0); /* an unrelated write does not look */
	assert_int_equal(f->pulses, 0);
	/* Enabling a flag that is already set raises IRQF at once. */
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE);
	assert_int_equal(f->pulses, 1);
	assert_false(f->armed);
	/* Enabling another adds no edge: IRQF is already up. */
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_UIE | RTC_B_PIE);
	assert_int_equal(f->pulses, 1);
	/* Off and on again: a new edge, as IRQF fell in between. */
	wr(f, RTC_REG_B, RTC_B_24H);
	wr(f, RTC_REG_B, RTC_B_24H | RTC_B_PIE);
	assert_int_equal(f->pulses, 2);
	assert_int_equal(rd(f, RTC_REG_C), RTC_C_IRQF | RTC_C_PF | RTC_C_UF);
	assert_int_equal(rd(f, RTC_REG_C), 0);
	assert_true(f->armed);
	/* C is read-only. */
	wr(f, RTC_REG_C, 0xff);
	assert_int_equal(rd(f, RTC_REG_C), 0);
}

/* Any register values and any clock: no crash, no overflow (UBSan), the
 * IRQ always pulsed cleanly and every deadline in the future (fx_arm). */
static void test_odd_values(void **state)
{
	static const int64_t secs[] = {0, -1, 1, -86401, 86399, INT64_MAX, INT64_MAX - 1,
				       INT64_MIN, INT64_MIN + 1, 253402300799LL, -62135596800LL};
	static const long nss[] = {0, 1, UPDATE_END_NS - 1, UPDATE_END_NS, 999999999L, -5,
				   1000000000L, 2000000000L};
	struct fixture *f = *state;
	unsigned int i, j, k;

	for (i = 0; i < ARRAY_SIZE(secs); i++) {
		for (j = 0; j < ARRAY_SIZE(nss); j++) {
			for (k = 0; k < 8; k++) {
				uint8_t v = (uint8_t)(k * 37 + i * 11 + j);

				set_time(f, secs[i], nss[j]);
				wr(f, RTC_REG_A, v);
				wr(f, RTC_REG_B, (uint8_t)(v | 0x70));
				wr(f, (uint8_t)(k % 6), (uint8_t)(0xc0 | v));
				wr(f, RTC_HOURS, 0x23);
				wr(f, RTC_CENTURY, 0x99);
				rtc_cmos_tick(&f->r);
				set_time(f, secs[(i + k) % ARRAY_SIZE(secs)], nss[(j + k) % ARRAY_SIZE(nss)]);
				if (f->armed && k & 1)
					fire(f);
				rd(f, RTC_REG_C);
				rd(f, RTC_REG_A);
				rd(f, RTC_SECONDS);
			}
		}
	}
	/* The clock stepping back counts nothing. */
	wr(f, RTC_REG_B, RTC_B_24H);
	set_time(f, 1709214307, 0);
	rd(f, RTC_REG_C);
	f->now.tv_sec -= 100;
	assert_int_equal(rd(f, RTC_REG_C), 0);
}

/* The alarm found over a long gap (one read of C) agrees with a guest that
 * reads C every second and compares the time registers with the alarm
 * registers byte for byte, as the chip does. */
static void test_alarm_against_bytes(void **state)
{
	struct fixture *f = *state;
	int iter, hits = 0;

	wr(f, RTC_REG_A, 0x20); /* no periodic flag in the way */
	srand(7);
	for (iter = 0; iter < 300; iter++) {
		static const uint8_t modes[] = {RTC_B_24H, 0, RTC_B_DM_BINARY | RTC_B_24H,
						RTC_B_DM_BINARY};
		uint8_t b = modes[rand() % 4], al[3];
		int64_t t0 = 1700000000 + rand() % 86400;
		int gap = 1 + rand() % 7200, i, first = -1;
		uint8_t c;

		for (i = 0; i < 3; i++) {
			int r = rand() % 8;

			/* Mostly values the clock will reach soon. */
			set_time(f, t0 + rand() % 7200, 0);
			wr(f, RTC_REG_B, b);
			al[i] = r == 0 ? (uint8_t)(0xc0 | rand()) :
				r == 1 ? (uint8_t)rand() : rd(f, (uint8_t)(2 * i));
		}
		set_time(f, t0, 500000000);
		wr(f, RTC_REG_B, b);
		wr(f, RTC_SECONDS_ALARM, al[0]);
		wr(f, RTC_MINUTES_ALARM, al[1]);
		wr(f, RTC_HOURS_ALARM, al[2]);
		rd(f, RTC_REG_C);
		for (i = 1; i <= gap && first < 0; i++) {
			f->now.tv_sec = t0 + i;
			c = rd(f, RTC_REG_C);
			rd(f, RTC_REG_A);
			if (((al[0] & 0xc0) == 0xc0 || rd(f, RTC_SECONDS) == al[0]) &&
			    ((al[1] & 0xc0) == 0xc0 || rd(f, RTC_MINUTES) == al[1]) &&
			    ((al[2] & 0xc0) == 0xc0 || rd(f, RTC_HOURS) == al[2]))
				first = i;
			assert_int_equal(!!(c & RTC_C_AF), first == i);
		}
		/* Same registers, one read at the end of the gap. */
		set_time(f, t0, 500000000);
		rd(f, RTC_REG_C);
		f->now.tv_sec = t0 + gap;
		c = rd(f, RTC_REG_C);
		assert_int_equal(!!(c & RTC_C_AF), first > 0);
		hits += first > 0;
		/* And the timer asks for exactly that second. */
		set_time(f, t0, 500000000);
		wr(f, RTC_REG_B, (uint8_t)(b | RTC_B_AIE));
		if (first > 0) {
			assert_true(f->armed);
			assert_int_equal(f->deadline.tv_sec, t0 + first);
			assert_int_equal(f->deadline.tv_nsec, UPDATE_END_NS);
		}
		wr(f, RTC_REG_B, b);
		rd(f, RTC_REG_C);
	}
	/* Both outcomes were exercised. */
	assert_true(hits > 50 && hits < iter - 30);
}

static void test_no_callbacks(void **state)
{
	struct rtc_cmos r;
	uint8_t idx, v = RTC_B_24H | RTC_B_UIE | RTC_B_PIE | RTC_B_AIE;

	(void)state;
	assert_int_equal(rtc_cmos_init(&r, NULL), 0);
	idx = RTC_REG_B;
	rtc_cmos_ops.write(&r, 0, &idx, 1);
	rtc_cmos_ops.write(&r, 1, &v, 1);
	rtc_cmos_tick(&r);
	idx = RTC_REG_C;
	rtc_cmos_ops.write(&r, 0, &idx, 1);
	rtc_cmos_ops.read(&r, 1, &v, 1);
	rtc_cmos_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_no_timer_when_disabled),
		T(test_uf_once_per_second),
		T(test_no_update_while_set),
		T(test_alarm_exact),
		T(test_alarm_dont_care),
		T(test_alarm_guest_offset),
		T(test_alarm_formats),
		T(test_pf_rates),
		T(test_pf_timer),
		T(test_irqf_and_enables),
		T(test_odd_values),
		T(test_alarm_against_bytes),
		cmocka_unit_test(test_no_callbacks),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
