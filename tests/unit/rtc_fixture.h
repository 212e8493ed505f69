/* Shared fixture of the CMOS RTC unit tests (test_rtc_cmos.c,
 * test_rtc_cmos_irq.c): the device on a test clock `now` that the tests move,
 * with fake timer and IRQ 8 callbacks that record what the device asked for,
 * and index/data port accessors. Included by one test file each. */
#ifndef KITE_TEST_RTC_FIXTURE_H
#define KITE_TEST_RTC_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "devices/rtc_cmos.h"

struct fixture {
	struct rtc_cmos r;
	struct timespec now;
	int pulses;  /* IRQ 8 raised then lowered */
	int level;
	int irq_bad; /* set to a level it already had */
	int armed;   /* the fake timer */
	int arms;    /* timer_arm calls with a deadline */
	int cancels;
	struct timespec deadline;
};

static void fx_now(void *ctx, struct timespec *ts)
{
	struct fixture *f = ctx;

	*ts = f->now;
}

static void fx_irq(void *ctx, unsigned int gsi, int level)
{
	struct fixture *f = ctx;

	assert_int_equal(gsi, RTC_CMOS_IRQ);
	if (level == f->level)
		f->irq_bad++;
	f->level = level;
	if (!level)
		f->pulses++;
}

static void fx_arm(void *ctx, const struct timespec *deadline)
{
	struct fixture *f = ctx;

	if (deadline) {
		/* Always strictly in the future of the clock it was armed on. */
		assert_true(deadline->tv_sec > f->now.tv_sec ||
			    (deadline->tv_sec == f->now.tv_sec && deadline->tv_nsec > f->now.tv_nsec));
		assert_true(deadline->tv_nsec >= 0 && deadline->tv_nsec < 1000000000L);
		f->deadline = *deadline;
		f->armed = 1;
		f->arms++;
	} else {
		f->armed = 0;
		f->cancels++;
	}
}

/* with_irq: the fake timer and IRQ 8 are connected; else the RTC gets a
 * clock only, as without an irqchip. */
static int setup_with(void **state, int with_irq)
{
	static struct fixture f;
	struct rtc_cmos_config cfg = {
		.now = fx_now,
		.timer_arm = with_irq ? fx_arm : NULL,
		.ctx = &f,
		.irq = {with_irq ? fx_irq : NULL, &f, RTC_CMOS_IRQ},
	};

	memset(&f, 0, sizeof(f));
	/* 2024-02-29 13:45:07.5 UTC, a Thursday. */
	f.now.tv_sec = 1709214307;
	f.now.tv_nsec = 500000000;
	assert_int_equal(rtc_cmos_init(&f.r, &cfg), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(f->irq_bad, 0);
	assert_int_equal(f->level, 0);
	rtc_cmos_free(&f->r);
	return 0;
}

static void advance_ns(struct fixture *f, long ns)
{
	f->now.tv_nsec += ns;
	while (f->now.tv_nsec >= 1000000000L) {
		f->now.tv_nsec -= 1000000000L;
		f->now.tv_sec++;
	}
}

static uint8_t rd(struct fixture *f, uint8_t idx)
{
	uint8_t v = 0;

	rtc_cmos_ops.write(&f->r, 0, &idx, 1);
	rtc_cmos_ops.read(&f->r, 1, &v, 1);
	return v;
}

static void wr(struct fixture *f, uint8_t idx, uint8_t v)
{
	rtc_cmos_ops.write(&f->r, 0, &idx, 1);
	rtc_cmos_ops.write(&f->r, 1, &v, 1);
}

#endif
