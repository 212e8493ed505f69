/* CMOS RTC interrupts: register C's flags (computed lazily from the clock),
 * the alarm comparison, IRQ 8 and the host timer that makes an enabled
 * event interrupt on time. See rtc_cmos.h for the model. */
#include "devices/rtc_cmos_priv.h"

#define SECS_PER_DAY 86400
/* Periodic rates are in units of 1/32768 s, the divider chain's input, so
 * every period divides a second and ticks fall on the second boundary. */
#define UNITS_PER_SEC 32768
/* The host timer follows periodic rates up to 1024 Hz (32 units); faster
 * ones are coalesced, since a timer expiry costs an event-loop wake-up and
 * the guest cannot take interrupts much faster here anyway. */
#define MIN_TIMER_UNITS 32
#define EVENT_FLAGS (RTC_C_PF | RTC_C_AF | RTC_C_UF)

/* An alarm register's meaning: a value it matches, or one of these. */
#define ALARM_ANY -1
#define ALARM_NEVER -2

static int ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Register A's rate select -> period in units, 0 when off. On a PC's
 * 32.768 kHz time base RS 1 and 2 give 256 and 128 Hz, not 32768 >> 0 and
 * 32768 >> 1 Hz. */
static unsigned int pf_period(const struct rtc_cmos *r)
{
	unsigned int rs = r->ram[RTC_REG_A] & RTC_A_RS_MASK;

	if (rs == 0)
		return 0;
	if (rs <= 2)
		return 64u << rs; /* 128 or 256 units */
	return 1u << (rs - 1); /* RS 3: 4 units (8192 Hz) .. RS 15: 16384 (2 Hz) */
}

/* Which unit of its second a time falls in; ns is in [0, 1e9) (host_now). */
static long sub_units(long ns)
{
	return (long)((int64_t)ns * UNITS_PER_SEC / RTC_NSEC_PER_SEC);
}

/* The first nanosecond of a second whose unit is u (u <= UNITS_PER_SEC). */
static long unit_start_ns(long u)
{
	return (long)(((int64_t)u * RTC_NSEC_PER_SEC + UNITS_PER_SEC - 1) / UNITS_PER_SEC);
}

static int alarm_field(const struct rtc_cmos *r, unsigned int idx, int max)
{
	uint8_t v = r->ram[idx];
	int n;

	if ((v & RTC_ALARM_DONT_CARE) == RTC_ALARM_DONT_CARE)
		return ALARM_ANY;
	/* The chip compares bytes: a value no time register can hold (bad
	 * BCD, 60 seconds, hour 0 in 12-hour form) never matches. */
	n = idx == RTC_HOURS_ALARM ? rtc_cmos_decode_hour(r, v) : rtc_cmos_decode(r, v);
	return n < 0 || n > max ? ALARM_NEVER : n;
}

/* The smallest x >= v, x <= max, that field f accepts; -1 if none. */
static int next_in(int f, int v, int max)
{
	if (f == ALARM_ANY)
		return v <= max ? v : -1;
	return f >= v ? f : -1;
}

/* The first second of the day at or after tod that matches; -1 if none
 * that day. Each loop runs at most twice: past the first candidate hour
 * (minute), the first accepted minute (second) always matches. */
static int alarm_next_tod(int hf, int mf, int sf, int tod)
{
	int h0 = tod / 3600, m0 = tod / 60 % 60, s0 = tod % 60;
	int h, m, s;

	for (h = next_in(hf, h0, 23); h >= 0; h = next_in(hf, h + 1, 23)) {
		for (m = next_in(mf, h == h0 ? m0 : 0, 59); m >= 0; m = next_in(mf, m + 1, 59)) {
			s = next_in(sf, h == h0 && m == m0 ? s0 : 0, 59);
			if (s >= 0)
				return h * 3600 + m * 60 + s;
		}
	}
	return -1;
}

/* The first guest second >= g at which the alarm matches; 0 if never (or
 * beyond int64). */
static int alarm_next(const struct rtc_cmos *r, int64_t g, int64_t *out)
{
	int hf = alarm_field(r, RTC_HOURS_ALARM, 23);
	int mf = alarm_field(r, RTC_MINUTES_ALARM, 59);
	int sf = alarm_field(r, RTC_SECONDS_ALARM, 59);
	int64_t tod = g % SECS_PER_DAY, day;
	int n;

	if (hf == ALARM_NEVER || mf == ALARM_NEVER || sf == ALARM_NEVER)
		return 0;
	if (tod < 0)
		tod += SECS_PER_DAY;
	if (__builtin_sub_overflow(g, tod, &day))
		return 0;
	n = alarm_next_tod(hf, mf, sf, (int)tod);
	if (n < 0) /* tomorrow, at the day's first match (there is one) */
		n = alarm_next_tod(hf, mf, sf, 0) + SECS_PER_DAY;
	return !__builtin_add_overflow(day, (int64_t)n, out);
}

void rtc_cmos_irq_init(struct rtc_cmos *r)
{
	rtc_cmos_host_now(r, &r->seen);
	r->flags = 0;
	r->irqf = 0;
	r->armed = 0;
}

void rtc_cmos_irq_advance(struct rtc_cmos *r, const struct timespec *now)
{
	const struct timespec *seen = &r->seen;
	unsigned int p = pf_period(r);
	int64_t first, last, g1, g2, at;

	/* Nothing has passed, or the host clock stepped back: events are
	 * counted from here on. */
	if (!ts_before(seen, now)) {
		r->seen = *now;
		return;
	}
	/* Host second s's update ends at s + UIP_AFTER_NS and shows guest
	 * second s + offset. [first, last]: the updates that ended in
	 * (seen, now]. The checks only fail on an absurd clock; then no
	 * update is counted. */
	if (!(r->ram[RTC_REG_B] & RTC_B_SET) &&
	    !__builtin_add_overflow((int64_t)seen->tv_sec,
				    (int64_t)(seen->tv_nsec >= RTC_UIP_AFTER_NS), &first) &&
	    !__builtin_sub_overflow((int64_t)now->tv_sec,
				    (int64_t)(now->tv_nsec < RTC_UIP_AFTER_NS), &last) &&
	    first <= last) {
		r->flags |= RTC_C_UF;
		/* GUEST: offset is any int64 the guest's time writes gave;
		 * the sums are checked, and alarm_next works on any int64. */
		if (!__builtin_add_overflow(first, r->offset, &g1) &&
		    !__builtin_add_overflow(last, r->offset, &g2) && alarm_next(r, g1, &at) &&
		    at <= g2)
			r->flags |= RTC_C_AF;
	}
	/* A periodic tick at every multiple of p units: one passed unless
	 * seen and now are in the same period of the same second. */
	if (p && (seen->tv_sec != now->tv_sec ||
		  sub_units(seen->tv_nsec) / p != sub_units(now->tv_nsec) / p))
		r->flags |= RTC_C_PF;
	r->seen = *now;
}

static void earliest(struct timespec *best, int *found, int64_t sec, long ns)
{
	struct timespec t = {.tv_sec = (time_t)sec, .tv_nsec = ns};

	if (!*found || ts_before(&t, best))
		*best = t;
	*found = 1;
}

/* The first instant after now at which an enabled event sets its flag;
 * 0 if no enabled event can happen. */
static int next_event(const struct rtc_cmos *r, const struct timespec *now, struct timespec *dl)
{
	uint8_t b = r->ram[RTC_REG_B];
	unsigned int p = pf_period(r);
	int64_t s, g, at, hs;
	int found = 0;
	long u;

	/* The first update to end after now is host second s's. */
	if (!(b & RTC_B_SET) && (b & (RTC_B_UIE | RTC_B_AIE)) &&
	    !__builtin_add_overflow((int64_t)now->tv_sec,
				    (int64_t)(now->tv_nsec >= RTC_UIP_AFTER_NS), &s)) {
		if (b & RTC_B_UIE)
			earliest(dl, &found, s, RTC_UIP_AFTER_NS);
		else if (!__builtin_add_overflow(s, r->offset, &g) && alarm_next(r, g, &at) &&
			 !__builtin_sub_overflow(at, r->offset, &hs))
			earliest(dl, &found, hs, RTC_UIP_AFTER_NS);
	}
	if ((b & RTC_B_PIE) && p) {
		p = MAX(p, (unsigned int)MIN_TIMER_UNITS);
		u = (sub_units(now->tv_nsec) / (long)p + 1) * (long)p;
		if (u < UNITS_PER_SEC)
			earliest(dl, &found, (int64_t)now->tv_sec, unit_start_ns(u));
		else if (!__builtin_add_overflow((int64_t)now->tv_sec, (int64_t)1, &s))
			earliest(dl, &found, s, 0);
	}
	return found;
}

void rtc_cmos_irq_sync(struct rtc_cmos *r, const struct timespec *now)
{
	int irqf = (r->flags & r->ram[RTC_REG_B] & EVENT_FLAGS) != 0;
	struct timespec dl = {0};
	int want;

	/* IRQ 8 is an edge-triggered ISA line: one pulse per rise of IRQF. */
	if (irqf && !r->irqf) {
		r->stats.irqs++;
		irq_line_set(&r->cfg.irq, 1);
		irq_line_set(&r->cfg.irq, 0);
	}
	r->irqf = irqf;
	if (!r->cfg.timer_arm)
		return;
	/* While IRQF is set no event can interrupt again; it falls only on
	 * a read of register C or a write of register B, which sync. */
	want = !irqf && next_event(r, now, &dl);
	if (want) {
		if (r->armed && r->deadline.tv_sec == dl.tv_sec &&
		    r->deadline.tv_nsec == dl.tv_nsec)
			return;
		r->armed = 1;
		r->deadline = dl;
		r->stats.timer_arms++;
		r->cfg.timer_arm(r->cfg.ctx, &dl);
	} else if (r->armed) {
		r->armed = 0;
		r->cfg.timer_arm(r->cfg.ctx, NULL);
	}
}

uint8_t rtc_cmos_irq_read_c(struct rtc_cmos *r)
{
	struct timespec now;
	uint8_t v;

	rtc_cmos_host_now(r, &now);
	rtc_cmos_irq_advance(r, &now);
	v = r->flags;
	/* IRQF as the formula gives it now: an event found only by this
	 * read (before its timer fired) is reported here, not pulsed. */
	if (v & r->ram[RTC_REG_B] & EVENT_FLAGS)
		v |= RTC_C_IRQF;
	r->flags = 0;
	rtc_cmos_irq_sync(r, &now);
	return v;
}

void rtc_cmos_tick(struct rtc_cmos *r)
{
	struct timespec now;

	pthread_mutex_lock(&r->lock);
	r->stats.ticks++;
	/* Paused: the timer was cancelled and this one was already on its
	 * way; resume catches up on the events it would have seen. */
	if (r->paused) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	/* The timer is one-shot: it has expired, so whatever is due next is
	 * armed anew. If this tick was stale and a later timer is still
	 * armed, that one's tick will be harmless too. */
	r->armed = 0;
	rtc_cmos_host_now(r, &now);
	rtc_cmos_irq_advance(r, &now);
	rtc_cmos_irq_sync(r, &now);
	pthread_mutex_unlock(&r->lock);
}
