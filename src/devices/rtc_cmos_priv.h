/* Internal to the CMOS RTC: what rtc_cmos.c (registers, calendar) and
 * rtc_cmos_irq.c (flags, alarm, timer) share. Not an API. All functions
 * are called with r->lock held. */
#ifndef KITE_DEVICES_RTC_CMOS_PRIV_H
#define KITE_DEVICES_RTC_CMOS_PRIV_H

#include "devices/rtc_cmos.h"

#define RTC_NSEC_PER_SEC 1000000000L
/* UIP rises 244 us before an update and the update takes up to 1984 us;
 * UF and AF are set when it ends. */
#define RTC_UIP_BEFORE_NS 244000L
#define RTC_UIP_AFTER_NS 1984000L

/* rtc_cmos.c */
void rtc_cmos_host_now(const struct rtc_cmos *r, struct timespec *ts);
/* host_sec + offset, saturated: what the read snapshot (latch) shows. */
int64_t rtc_cmos_guest_time(int64_t host_sec, int64_t offset);
/* A register value in the current mode (BCD or binary; 12- or 24-hour for
 * hours) -> its number, or -1 if no time register can hold that value. */
int rtc_cmos_decode(const struct rtc_cmos *r, uint8_t v);
uint8_t rtc_cmos_encode(const struct rtc_cmos *r, int v);
uint8_t rtc_cmos_encode_hour(const struct rtc_cmos *r, int h);
int rtc_cmos_decode_hour(const struct rtc_cmos *r, uint8_t v);

/* rtc_cmos_irq.c */
void rtc_cmos_irq_init(struct rtc_cmos *r);
/* Sets the flags for every update and periodic tick in (seen, now] under
 * the registers as they are, and moves seen to now. Called before anything
 * that changes what the flags depend on. */
void rtc_cmos_irq_advance(struct rtc_cmos *r, const struct timespec *now);
/* Recomputes IRQF (pulsing IRQ 8 on 0 -> 1) and asks for the timer the
 * next enabled event needs (cancels it when there is none). */
void rtc_cmos_irq_sync(struct rtc_cmos *r, const struct timespec *now);
/* Register C: advance, return the flags and IRQF, clear them, sync. */
uint8_t rtc_cmos_irq_read_c(struct rtc_cmos *r);

#endif
