/* Unit tests for the CMOS RTC, on a fixed test clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "devices/rtc_cmos.h"
#include "rtc_fixture.h"

static int setup(void **state)
{
	return setup_with(state, 0);
}

static void test_bcd_24h(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, RTC_REG_A), 0x26);
	assert_int_equal(rd(f, RTC_SECONDS), 0x07);
	assert_int_equal(rd(f, RTC_MINUTES), 0x45);
	assert_int_equal(rd(f, RTC_HOURS), 0x13);
	assert_int_equal(rd(f, RTC_DAY_OF_WEEK), 5);
	assert_int_equal(rd(f, RTC_DAY_OF_MONTH), 0x29);
	assert_int_equal(rd(f, RTC_MONTH), 0x02);
	assert_int_equal(rd(f, RTC_YEAR), 0x24);
	assert_int_equal(rd(f, RTC_CENTURY), 0x20);
}

static void test_binary_and_12h(void **state)
{
	struct fixture *f = *state;

	wr(f, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
	assert_int_equal(rd(f, RTC_REG_B), RTC_B_DM_BINARY | RTC_B_24H);
	assert_int_equal(rd(f, RTC_SECONDS), 7);
	assert_int_equal(rd(f, RTC_MINUTES), 45);
	assert_int_equal(rd(f, RTC_HOURS), 13);
	assert_int_equal(rd(f, RTC_DAY_OF_MONTH), 29);
	assert_int_equal(rd(f, RTC_YEAR), 24);
	assert_int_equal(rd(f, RTC_CENTURY), 20);
	wr(f, RTC_REG_B, RTC_B_DM_BINARY);
	assert_int_equal(rd(f, RTC_HOURS), 0x80 | 1);
	wr(f, RTC_REG_B, 0);
	assert_int_equal(rd(f, RTC_HOURS), 0x80 | 0x01);
	/* Midnight is 12 AM, noon 12 PM. */
	f->now.tv_sec = 1709164800; /* 2024-02-29 00:00:00 */
	rd(f, RTC_REG_A);
	assert_int_equal(rd(f, RTC_HOURS), 0x12);
	f->now.tv_sec += 12 * 3600;
	rd(f, RTC_REG_A);
	assert_int_equal(rd(f, RTC_HOURS), 0x92);
	f->now.tv_sec += 11 * 3600;
	rd(f, RTC_REG_A);
	assert_int_equal(rd(f, RTC_HOURS), 0x80 | 0x11);
}

static void test_uip_window(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, 0);
	f->now.tv_nsec = 999900000; /* 100 us before the update */
	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	f->now.tv_nsec = 999700000; /* 300 us before: not yet */
	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, 0);
	f->now.tv_nsec = 1000000; /* 1 ms into the update */
	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, RTC_A_UIP);
	f->now.tv_nsec = 2000000;
	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, 0);
	/* SET inhibits updates, so UIP stays clear. */
	wr(f, RTC_REG_B, RTC_B_SET | RTC_B_24H);
	f->now.tv_nsec = 1000000;
	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, 0);
	/* UIP is read-only. */
	wr(f, RTC_REG_A, 0xa6);
	assert_int_equal(rd(f, RTC_REG_A), 0x26);
}

/* A read sequence that starts with register A sees one instant, even when
 * a second boundary passes in the middle of it. */
static void test_consistent_snapshot(void **state)
{
	struct fixture *f = *state;

	f->now.tv_sec = 1704067199; /* 2023-12-31 23:59:59 */
	f->now.tv_nsec = 998000000;
	assert_int_equal(rd(f, RTC_REG_A) & RTC_A_UIP, 0);
	advance_ns(f, 5000000); /* now past midnight */
	assert_int_equal(rd(f, RTC_SECONDS), 0x59);
	assert_int_equal(rd(f, RTC_MINUTES), 0x59);
	assert_int_equal(rd(f, RTC_HOURS), 0x23);
	assert_int_equal(rd(f, RTC_DAY_OF_MONTH), 0x31);
	assert_int_equal(rd(f, RTC_MONTH), 0x12);
	assert_int_equal(rd(f, RTC_YEAR), 0x23);
	/* The next register A read moves the snapshot on. */
	rd(f, RTC_REG_A);
	assert_int_equal(rd(f, RTC_SECONDS), 0x00);
	assert_int_equal(rd(f, RTC_YEAR), 0x24);
	assert_int_equal(rd(f, RTC_MONTH), 0x01);
	/* Without register A, a stale snapshot is refreshed after 10 ms. */
	f->now.tv_sec += 5;
	assert_int_equal(rd(f, RTC_SECONDS), 0x05);
}

static void test_set_time_with_set_bit(void **state)
{
	struct fixture *f = *state;

	wr(f, RTC_REG_B, RTC_B_SET | RTC_B_24H | RTC_B_UIE);
	/* SET clears UIE. */
	assert_int_equal(rd(f, RTC_REG_B), RTC_B_SET | RTC_B_24H);
	/* Frozen at the time SET was raised, whatever the host does. */
	f->now.tv_sec += 100;
	assert_int_equal(rd(f, RTC_SECONDS), 0x07);
	wr(f, RTC_SECONDS, 0x00);
	wr(f, RTC_MINUTES, 0x00);
	wr(f, RTC_HOURS, 0x00);
	wr(f, RTC_DAY_OF_MONTH, 0x01);
	wr(f, RTC_MONTH, 0x01);
	wr(f, RTC_YEAR, 0x00);
	assert_int_equal(rd(f, RTC_MINUTES), 0x00);
	wr(f, RTC_REG_B, RTC_B_24H);
	assert_int_equal(rd(f, RTC_CENTURY), 0x20);
	assert_int_equal(rd(f, RTC_YEAR), 0x00);
	assert_int_equal(rd(f, RTC_DAY_OF_WEEK), 7); /* 2000-01-01: Saturday */
	f->now.tv_sec += 61;
	rd(f, RTC_REG_A);
	assert_int_equal(rd(f, RTC_SECONDS), 0x01);
	assert_int_equal(rd(f, RTC_MINUTES), 0x01);
	assert_int_equal(rd(f, RTC_HOURS), 0x00);
	assert_int_equal(rd(f, RTC_MONTH), 0x01);
}

static void test_single_register_write(void **state)
{
	struct fixture *f = *state;

	wr(f, RTC_MINUTES, 0x10);
	assert_int_equal(rd(f, RTC_MINUTES), 0x10);
	assert_int_equal(rd(f, RTC_HOURS), 0x13);
	f->now.tv_sec += 60;
	rd(f, RTC_REG_A);
	assert_int_equal(rd(f, RTC_MINUTES), 0x11);
	assert_int_equal(rd(f, RTC_SECONDS), 0x07);
	/* Invalid BCD leaves the clock alone. */
	wr(f, RTC_SECONDS, 0x6a);
	assert_int_equal(rd(f, RTC_SECONDS), 0x07);
	/* 12-hour write while in 12-hour mode: 1 PM stays 13:00. */
	wr(f, RTC_REG_B, 0);
	wr(f, RTC_HOURS, 0x80 | 0x01);
	wr(f, RTC_REG_B, RTC_B_24H);
	assert_int_equal(rd(f, RTC_HOURS), 0x13);
	wr(f, RTC_HOURS, 0x24);
	assert_int_equal(rd(f, RTC_HOURS), 0x13);
}

static void test_regs_c_d_and_ram(void **state)
{
	struct fixture *f = *state;
	uint8_t v = 0, idx;
	int i;

	assert_int_equal(rd(f, RTC_REG_C), 0);
	wr(f, RTC_REG_C, 0xff);
	assert_int_equal(rd(f, RTC_REG_C), 0);
	assert_int_equal(rd(f, RTC_REG_D), RTC_D_VRT);
	wr(f, RTC_REG_D, 0);
	assert_int_equal(rd(f, RTC_REG_D), RTC_D_VRT);
	for (i = 0x0e; i < 0x80; i++)
		if (i != RTC_CENTURY)
			wr(f, (uint8_t)i, (uint8_t)(i ^ 0x5a));
	for (i = 0x0e; i < 0x80; i++)
		if (i != RTC_CENTURY)
			assert_int_equal(rd(f, (uint8_t)i), i ^ 0x5a);
	/* Bit 7 of the index masks NMI and is not part of the index. */
	assert_int_equal(rtc_cmos_nmi_masked(&f->r), 0);
	idx = 0x80 | 0x40;
	rtc_cmos_ops.write(&f->r, 0, &idx, 1);
	assert_int_equal(rtc_cmos_nmi_masked(&f->r), 1);
	rtc_cmos_ops.read(&f->r, 1, &v, 1);
	assert_int_equal(v, 0x40 ^ 0x5a);
	/* The index port is write-only. */
	rtc_cmos_ops.read(&f->r, 0, &v, 1);
	assert_int_equal(v, 0xff);
	/* Alarm registers are plain storage. */
	wr(f, RTC_HOURS_ALARM, 0xc0);
	assert_int_equal(rd(f, RTC_HOURS_ALARM), 0xc0);
}

/* The calendar arithmetic against the C library, 1900..2199. */
static void test_calendar_against_gmtime(void **state)
{
	struct fixture *f = *state;
	int i;

	wr(f, RTC_REG_B, RTC_B_DM_BINARY | RTC_B_24H);
	srand(1);
	for (i = 0; i < 2000; i++) {
		int64_t t = -2208988800LL + (int64_t)((double)rand() / RAND_MAX * 9467107199.0);
		time_t tt = (time_t)t;
		struct tm tm;

		assert_non_null(gmtime_r(&tt, &tm));
		f->now.tv_sec = tt;
		rd(f, RTC_REG_A);
		assert_int_equal(rd(f, RTC_SECONDS), tm.tm_sec);
		assert_int_equal(rd(f, RTC_MINUTES), tm.tm_min);
		assert_int_equal(rd(f, RTC_HOURS), tm.tm_hour);
		assert_int_equal(rd(f, RTC_DAY_OF_WEEK), tm.tm_wday + 1);
		assert_int_equal(rd(f, RTC_DAY_OF_MONTH), tm.tm_mday);
		assert_int_equal(rd(f, RTC_MONTH), tm.tm_mon + 1);
		assert_int_equal(rd(f, RTC_YEAR), (tm.tm_year + 1900) % 100);
		assert_int_equal(rd(f, RTC_CENTURY), (tm.tm_year + 1900) / 100);
	}
}

static void test_default_clock(void **state)
{
	struct rtc_cmos r;
	uint8_t idx = RTC_CENTURY, v = 0;

	(void)state;
	assert_int_equal(rtc_cmos_init(&r, NULL), 0);
	rtc_cmos_ops.write(&r, 0, &idx, 1);
	rtc_cmos_ops.read(&r, 1, &v, 1);
	assert_int_equal(v, 0x20); /* until 2100 */
	rtc_cmos_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_bcd_24h),
		T(test_binary_and_12h),
		T(test_uip_window),
		T(test_consistent_snapshot),
		T(test_set_time_with_set_bit),
		T(test_single_register_write),
		T(test_regs_c_d_and_ram),
		T(test_calendar_against_gmtime),
		cmocka_unit_test(test_default_clock),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
