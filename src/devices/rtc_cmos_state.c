/* The CMOS RTC as a struct device: constructor, pause/resume, its state
 * section and its counters. The section (version 1) is
 *   u8 ram[128], u8 index, u8 nmi_masked, i64 offset,
 *   i64 latch, i64 latch_at.sec, u32 latch_at.nsec, u8 latched,
 *   u8 flags, u8 irqf, i64 seen.sec, u32 seen.nsec
 * Times are on the host's wall clock (cfg.now). The armed timer is not
 * saved: resume computes it from the restored state and the clock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/rtc_cmos.h"
#include "devices/rtc_cmos_priv.h"

#define FLAG_BITS (RTC_C_PF | RTC_C_AF | RTC_C_UF)

static struct rtc_cmos *to_rtc(const struct device *d)
{
	return container_of(d, struct rtc_cmos, dev);
}

static void rtc_destroy(struct device *d)
{
	struct rtc_cmos *r = to_rtc(d);

	rtc_cmos_free(r);
	free(r);
}

static int rtc_pause(struct device *d)
{
	struct rtc_cmos *r = to_rtc(d);

	pthread_mutex_lock(&r->lock);
	r->paused = true;
	/* No host input while paused; a tick already on its way is ignored
	 * (rtc_cmos_tick). The flags are not brought up to date here: resume
	 * counts everything since `seen` under the state it then has. */
	if (r->armed && r->cfg.timer_arm) {
		r->armed = 0;
		r->cfg.timer_arm(r->cfg.ctx, NULL);
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void rtc_resume(struct device *d)
{
	struct rtc_cmos *r = to_rtc(d);
	struct timespec now;

	pthread_mutex_lock(&r->lock);
	r->paused = false;
	rtc_cmos_host_now(r, &now);
	rtc_cmos_irq_advance(r, &now);
	/* A restored IRQF was an edge the new machine's interrupt controller
	 * never saw: forget it so that sync pulses IRQ 8 again. */
	if (r->restored)
		r->irqf = 0;
	r->restored = false;
	rtc_cmos_irq_sync(r, &now); /* re-arms: armed was cleared by pause */
	pthread_mutex_unlock(&r->lock);
}

static void put_ts(struct state_buf *out, const struct timespec *ts)
{
	state_put_i64(out, (int64_t)ts->tv_sec);
	state_put_u32(out, (uint32_t)ts->tv_nsec);
}

static int rtc_save(const struct device *d, struct state_buf *out)
{
	struct rtc_cmos *r = to_rtc(d);

	pthread_mutex_lock(&r->lock);
	state_put_bytes(out, r->ram, sizeof(r->ram));
	state_put_u8(out, r->index);
	state_put_u8(out, r->nmi_masked);
	state_put_i64(out, r->offset);
	state_put_i64(out, r->latch);
	put_ts(out, &r->latch_at);
	state_put_u8(out, (uint8_t)r->latched);
	state_put_u8(out, r->flags);
	state_put_u8(out, (uint8_t)r->irqf);
	put_ts(out, &r->seen);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void get_ts(struct state_reader *in, struct timespec *ts)
{
	ts->tv_sec = (time_t)state_get_i64(in);
	ts->tv_nsec = (long)state_get_u32(in);
}

/* The values only this device's own code writes; returns ok. Bytes a guest
 * can write directly (time, alarm and RAM bytes, register A's low bits)
 * are any value. */
static bool check_ram(struct state_reader *in, const uint8_t *ram)
{
	uint8_t b = ram[RTC_REG_B];

	return state_check(in, !(ram[RTC_REG_A] & RTC_A_UIP), "register A", ram[RTC_REG_A]) &&
	       state_check(in, !((b & RTC_B_SET) && (b & RTC_B_UIE)), "register B", b) &&
	       state_check(in, ram[RTC_REG_C] == 0, "register C (RAM copy)", ram[RTC_REG_C]) &&
	       state_check(in, ram[RTC_REG_D] == 0, "register D (RAM copy)", ram[RTC_REG_D]);
}

static int rtc_restore(struct device *d, struct state_reader *in, uint32_t version)
{
	struct rtc_cmos *r = to_rtc(d);
	uint8_t ram[128], index, nmi, latched, flags, irqf;
	struct timespec latch_at, seen;
	int64_t offset, latch;

	(void)version; /* 1 is the only one */
	state_get_bytes(in, ram, sizeof(ram));
	index = state_get_u8(in);
	nmi = state_get_u8(in);
	offset = state_get_i64(in);
	latch = state_get_i64(in);
	get_ts(in, &latch_at);
	latched = state_get_u8(in);
	flags = state_get_u8(in);
	irqf = state_get_u8(in);
	get_ts(in, &seen);
	if (in->err)
		return -EINVAL;
	/* GUEST (snapshot): index < 128 == ARRAY_SIZE(ram), as the index
	 * port's mask guarantees for the guest. offset is any int64: every
	 * use of it is overflow-checked. */
	if (!state_check(in, index < sizeof(ram), "index", index) ||
	    !state_check(in, nmi <= 1, "nmi_masked", nmi) || !check_ram(in, ram) ||
	    !state_check(in, latch_at.tv_nsec < RTC_NSEC_PER_SEC, "latch_at nsec",
			 (uint64_t)latch_at.tv_nsec) ||
	    !state_check(in, seen.tv_nsec < RTC_NSEC_PER_SEC, "seen nsec",
			 (uint64_t)seen.tv_nsec) ||
	    !state_check(in, latched <= 1, "latched", latched) ||
	    !state_check(in, !(flags & ~FLAG_BITS), "register C flags", flags) ||
	    !state_check(in, irqf <= 1, "irqf", irqf))
		return -EINVAL;
	/* IRQF is the flags masked by their enables (register B) whenever
	 * the lock is free, and the snapshot shows the clock at latch_at. */
	if (!state_check(in, irqf == ((flags & ram[RTC_REG_B] & FLAG_BITS) != 0), "irqf", irqf))
		return -EINVAL;
	if (latched ? latch != rtc_cmos_guest_time((int64_t)latch_at.tv_sec, offset)
		    : latch || latch_at.tv_sec || latch_at.tv_nsec) {
		state_fail(in, "latch %lld does not match latch_at and offset", (long long)latch);
		return -EINVAL;
	}
	/* Leftovers are refused before anything changes. */
	if (state_end(in, NULL, 0))
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	memcpy(r->ram, ram, sizeof(ram));
	r->index = index;
	r->nmi_masked = nmi;
	r->offset = offset;
	r->latch = latch;
	r->latch_at = latch_at;
	r->latched = latched;
	r->flags = flags;
	r->irqf = irqf;
	r->seen = seen;
	r->restored = true;
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void rtc_stats(struct device *d, struct device_stats *out)
{
	struct rtc_cmos *r = to_rtc(d);
	struct rtc_cmos_stats st;

	pthread_mutex_lock(&r->lock);
	st = r->stats;
	pthread_mutex_unlock(&r->lock);
	device_stat(out, "irqs", st.irqs);
	device_stat(out, "timer_arms", st.timer_arms);
	device_stat(out, "ticks", st.ticks);
	device_stat(out, "clock_sets", st.clock_sets);
}

const struct device_ops rtc_cmos_device_ops = {
	.kind = "rtc_cmos",
	.state_version = 1,
	.destroy = rtc_destroy,
	.pause = rtc_pause,
	.resume = rtc_resume,
	.save = rtc_save,
	.restore = rtc_restore,
	.stats = rtc_stats,
};

int rtc_cmos_new(const struct rtc_cmos_config *cfg, const char *name, struct rtc_cmos **out)
{
	struct rtc_cmos *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	rc = rtc_cmos_init(r, cfg);
	if (rc) {
		free(r);
		return rc;
	}
	device_init(&r->dev, &rtc_cmos_device_ops, name);
	*out = r;
	return 0;
}
