/* The CMOS RTC's clock arithmetic, shared by the register model
 * (rtc_cmos.c) and the interrupt logic (rtc_cmos_irq.c) so that neither
 * calls into the other for it: the host clock, guest time, and the BCD and
 * 12/24-hour register encodings. */
#include <time.h>

#include "devices/rtc_cmos_priv.h"

void rtc_cmos_host_now(const struct rtc_cmos *r, struct timespec *ts)
{
	if (r->cfg.now)
		r->cfg.now(r->cfg.ctx, ts);
	else
		clock_gettime(CLOCK_REALTIME, ts);
	/* The clock is pluggable: keep the sub-second arithmetic in range. */
	if (ts->tv_nsec < 0)
		ts->tv_nsec = 0;
	else if (ts->tv_nsec >= RTC_NSEC_PER_SEC)
		ts->tv_nsec = RTC_NSEC_PER_SEC - 1;
}

int64_t rtc_cmos_guest_time(int64_t host_sec, int64_t offset)
{
	int64_t t;

	/* Saturate rather than overflow on an absurd host clock. */
	if (__builtin_add_overflow(host_sec, offset, &t))
		t = offset < 0 ? INT64_MIN : INT64_MAX;
	return t;
}

uint8_t rtc_cmos_encode(const struct rtc_cmos *r, int v)
{
	if (r->ram[RTC_REG_B] & RTC_B_DM_BINARY)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* Returns -1 for a value that is not valid BCD. */
int rtc_cmos_decode(const struct rtc_cmos *r, uint8_t v)
{
	if (r->ram[RTC_REG_B] & RTC_B_DM_BINARY)
		return v;
	if ((v >> 4) > 9 || (v & 0xf) > 9)
		return -1;
	return (v >> 4) * 10 + (v & 0xf);
}

uint8_t rtc_cmos_encode_hour(const struct rtc_cmos *r, int h)
{
	int h12;

	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return rtc_cmos_encode(r, h);
	h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(rtc_cmos_encode(r, h12) | (h >= 12 ? 0x80 : 0));
}

int rtc_cmos_decode_hour(const struct rtc_cmos *r, uint8_t v)
{
	int h;

	if (r->ram[RTC_REG_B] & RTC_B_24H) {
		h = rtc_cmos_decode(r, v);
		return h > 23 ? -1 : h;
	}
	h = rtc_cmos_decode(r, v & 0x7f);
	if (h < 1 || h > 12)
		return -1;
	return h % 12 + ((v & 0x80) ? 12 : 0);
}

