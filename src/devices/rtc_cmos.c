/* CMOS RTC: time registers derived from the host clock, register A/B/D
 * semantics, the guest's clock offset, and CMOS RAM; register C and the
 * interrupts are in rtc_cmos_irq.c. See rtc_cmos.h. */
#include "devices/rtc_cmos.h"

#include <errno.h>
#include <string.h>

#include "devices/rtc_cmos_priv.h"
#include "log.h"

/* How long a snapshot serves reads that are not preceded by register A. */
#define LATCH_MAX_AGE_NS 10000000L

struct civil {
	int64_t year;
	int mon, mday, hour, min, sec, wday; /* wday: 0 = Sunday */
};

/* Days since 1970-01-01 <-> proleptic Gregorian date (era arithmetic, so
 * every int64 day count within +-2^60 works without tables). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_time(int64_t t, struct civil *c)
{
	int64_t days = t / 86400, rem = t % 86400;
	int64_t z, era, doe, yoe, doy, mp;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	c->hour = (int)(rem / 3600);
	c->min = (int)(rem / 60 % 60);
	c->sec = (int)(rem % 60);
	c->wday = (int)(((days + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	c->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	c->year = yoe + era * 400 + (c->mon <= 2);
}

static int is_time_reg(unsigned int idx)
{
	switch (idx) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_DAY_OF_WEEK:
	case RTC_DAY_OF_MONTH:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return 1;
	}
	return 0;
}

static void take_latch(struct rtc_cmos *r, const struct timespec *now)
{
	r->latch = rtc_cmos_guest_time((int64_t)now->tv_sec, r->offset);
	r->latch_at = *now;
	r->latched = 1;
}

static void refresh_latch(struct rtc_cmos *r, int force)
{
	struct timespec now;
	int64_t age;

	rtc_cmos_host_now(r, &now);
	/* Checked: the clock source is pluggable (and fuzzed), so a jump of any
	 * size must not overflow; an overflow just means "stale". */
	if (__builtin_sub_overflow((int64_t)now.tv_sec, (int64_t)r->latch_at.tv_sec, &age) ||
	    __builtin_mul_overflow(age, (int64_t)RTC_NSEC_PER_SEC, &age) ||
	    __builtin_add_overflow(age, (int64_t)(now.tv_nsec - r->latch_at.tv_nsec), &age))
		age = -1;
	/* A clock that stepped backwards also re-latches. */
	if (force || !r->latched || age < 0 || age > LATCH_MAX_AGE_NS)
		take_latch(r, &now);
}

/* The register's value for guest time t, in the current format. */
static uint8_t time_reg(const struct rtc_cmos *r, unsigned int idx, int64_t t)
{
	struct civil c;

	civil_from_time(t, &c);
	switch (idx) {
	case RTC_SECONDS:
		return rtc_cmos_encode(r, c.sec);
	case RTC_MINUTES:
		return rtc_cmos_encode(r, c.min);
	case RTC_HOURS:
		return rtc_cmos_encode_hour(r, c.hour);
	case RTC_DAY_OF_WEEK:
		return rtc_cmos_encode(r, c.wday + 1);
	case RTC_DAY_OF_MONTH:
		return rtc_cmos_encode(r, c.mday);
	case RTC_MONTH:
		return rtc_cmos_encode(r, c.mon);
	case RTC_YEAR:
		return rtc_cmos_encode(r, (int)(((c.year % 100) + 100) % 100));
	default: /* RTC_CENTURY */
		return rtc_cmos_encode(r, (int)(((c.year / 100) % 100 + 100) % 100));
	}
}

/* Fills the RAM copies of the time registers with the current time, so
 * that a partial update by the guest keeps the other fields. */
static void freeze_time(struct rtc_cmos *r)
{
	static const uint8_t regs[] = {RTC_SECONDS, RTC_MINUTES, RTC_HOURS,
				       RTC_DAY_OF_WEEK, RTC_DAY_OF_MONTH, RTC_MONTH,
				       RTC_YEAR, RTC_CENTURY};
	unsigned int i;

	refresh_latch(r, 1);
	for (i = 0; i < ARRAY_SIZE(regs); i++)
		r->ram[regs[i]] = time_reg(r, regs[i], r->latch);
}

/* The guest has written a time: the clock runs on from it. */
static void set_time_from_ram(struct rtc_cmos *r)
{
	int sec = rtc_cmos_decode(r, r->ram[RTC_SECONDS]);
	int min = rtc_cmos_decode(r, r->ram[RTC_MINUTES]);
	int hour = rtc_cmos_decode_hour(r, r->ram[RTC_HOURS]);
	int mday = rtc_cmos_decode(r, r->ram[RTC_DAY_OF_MONTH]);
	int mon = rtc_cmos_decode(r, r->ram[RTC_MONTH]);
	int year = rtc_cmos_decode(r, r->ram[RTC_YEAR]);
	int cent = rtc_cmos_decode(r, r->ram[RTC_CENTURY]);
	struct timespec now;
	int64_t t;

	/* GUEST: every field is range-checked before use; the result is at
	 * most year 9999, far from int64 limits. */
	if (sec < 0 || sec > 59 || min < 0 || min > 59 || hour < 0 || mday < 1 ||
	    mday > 31 || mon < 1 || mon > 12 || year < 0 || year > 99 || cent < 0 ||
	    cent > 99) {
		log_guest("rtc", "invalid time written, clock not changed");
		return;
	}
	t = days_from_civil(cent * 100 + year, mon, mday) * 86400 + hour * 3600 +
	    min * 60 + sec;
	rtc_cmos_host_now(r, &now);
	if (__builtin_sub_overflow(t, (int64_t)now.tv_sec, &r->offset))
		r->offset = 0;
	take_latch(r, &now);
	r->stats.clock_sets++;
}

static uint8_t reg_a_read(struct rtc_cmos *r)
{
	uint8_t v = r->ram[RTC_REG_A] & 0x7f;
	long ns;

	if (r->ram[RTC_REG_B] & RTC_B_SET)
		return v; /* updates are inhibited, so never in progress */
	refresh_latch(r, 1);
	ns = r->latch_at.tv_nsec;
	if (ns >= RTC_NSEC_PER_SEC - RTC_UIP_BEFORE_NS || ns < RTC_UIP_AFTER_NS)
		v |= RTC_A_UIP;
	return v;
}

static uint8_t data_read(struct rtc_cmos *r)
{
	unsigned int idx = r->index;

	if (is_time_reg(idx)) {
		if (r->ram[RTC_REG_B] & RTC_B_SET)
			return r->ram[idx];
		refresh_latch(r, 0);
		return time_reg(r, idx, r->latch);
	}
	switch (idx) {
	case RTC_REG_A:
		return reg_a_read(r);
	case RTC_REG_C:
		return rtc_cmos_irq_read_c(r);
	case RTC_REG_D:
		return RTC_D_VRT; /* the battery is always good */
	}
	/* GUEST: idx < 128 == ARRAY_SIZE(ram), masked at the index write. */
	return r->ram[idx];
}

static void reg_write(struct rtc_cmos *r, unsigned int idx, uint8_t v)
{
	uint8_t old;

	if (is_time_reg(idx)) {
		if (r->ram[RTC_REG_B] & RTC_B_SET) {
			r->ram[idx] = v; /* takes effect when SET is cleared */
		} else {
			freeze_time(r);
			r->ram[idx] = v;
			set_time_from_ram(r);
		}
		return;
	}
	switch (idx) {
	case RTC_REG_A:
		r->ram[idx] = v & 0x7f; /* UIP is read-only */
		return;
	case RTC_REG_B:
		old = r->ram[idx];
		if (v & RTC_B_SET)
			v &= (uint8_t)~RTC_B_UIE; /* as the MC146818 does */
		if ((v & RTC_B_SET) && !(old & RTC_B_SET)) {
			r->ram[idx] = v;
			freeze_time(r); /* in the new format */
		} else if (!(v & RTC_B_SET) && (old & RTC_B_SET)) {
			/* The time registers were written in the format in
			 * force while SET was held. */
			set_time_from_ram(r);
			r->ram[idx] = v;
		} else {
			r->ram[idx] = v;
		}
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	}
	/* GUEST: idx < 128, masked at the index write. */
	r->ram[idx] = v;
}

/* The interrupt flags depend on the time (through the offset), the alarm
 * registers, A and B: around a write to those, events up to now are
 * counted under the old values and the IRQ and timer follow the new. */
static void data_write(struct rtc_cmos *r, uint8_t v)
{
	unsigned int idx = r->index;
	struct timespec now;

	if (idx > RTC_REG_B && idx != RTC_CENTURY) {
		reg_write(r, idx, v);
		return;
	}
	rtc_cmos_host_now(r, &now);
	rtc_cmos_irq_advance(r, &now);
	reg_write(r, idx, v);
	rtc_cmos_irq_sync(r, &now);
}

/* Offset 0 is the index port (write-only; reads 0xff), offset 1 the data
 * port. A wider access uses the low byte; the rest of a read is 0xff. */
static void rtc_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	struct rtc_cmos *r = opaque;

	memset(data, 0xff, len);
	/* GUEST: only offset 1 reaches the registers. */
	if (offset != 1 || len == 0)
		return;
	pthread_mutex_lock(&r->lock);
	data[0] = data_read(r);
	pthread_mutex_unlock(&r->lock);
}

static void rtc_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct rtc_cmos *r = opaque;

	if (len == 0 || offset > 1)
		return;
	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		r->index = data[0] & 0x7f;
		r->nmi_masked = !!(data[0] & 0x80);
	} else {
		data_write(r, data[0]);
	}
	pthread_mutex_unlock(&r->lock);
}

const struct bus_ops rtc_cmos_ops = {
	.read = rtc_read,
	.write = rtc_write,
};

int rtc_cmos_init(struct rtc_cmos *r, const struct rtc_cmos_config *cfg)
{
	int err;

	memset(r, 0, sizeof(*r));
	err = pthread_mutex_init(&r->lock, NULL);
	if (err)
		return -err;
	if (cfg)
		r->cfg = *cfg;
	r->ram[RTC_REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
	r->ram[RTC_REG_B] = RTC_B_24H; /* BCD, 24-hour: what PC firmware sets */
	rtc_cmos_irq_init(r);
	return 0;
}

void rtc_cmos_free(struct rtc_cmos *r)
{
	pthread_mutex_destroy(&r->lock);
}

int rtc_cmos_nmi_masked(struct rtc_cmos *r)
{
	int v;

	pthread_mutex_lock(&r->lock);
	v = r->nmi_masked;
	pthread_mutex_unlock(&r->lock);
	return v;
}
