/* The PC's MC146818-style CMOS real-time clock and its 128 bytes of CMOS
 * RAM, at port 0x70 (index; bit 7 masks NMI) and 0x71 (data).
 *
 * The time registers show the host's wall clock (UTC) plus an offset that
 * the guest sets by writing them; they are encoded in BCD or binary and in
 * 24- or 12-hour form as register B asks. Register A's UIP bit is set for
 * the ~2.2 ms around each second boundary, as on the real part. Reads are
 * served from a snapshot of the time taken when the guest reads register A
 * (and refreshed when it is more than 10 ms old), so a read sequence is
 * consistent even though each port access costs tens of microseconds here.
 *
 * Not modelled: periodic, alarm and update-ended interrupts (the enable bits
 * in register B are stored, register C always reads 0, IRQ 8 is never
 * raised), daylight saving, the divider-reset and square-wave bits of
 * register A (stored only), and the extended bank at 0x72/0x73. */
#ifndef KITE_DEVICES_RTC_CMOS_H
#define KITE_DEVICES_RTC_CMOS_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"
#include "compiler.h"

#define RTC_CMOS_PORT_BASE 0x70
#define RTC_CMOS_NR_PORTS 2 /* offset 0: index, offset 1: data */

#define RTC_SECONDS 0x00
#define RTC_SECONDS_ALARM 0x01
#define RTC_MINUTES 0x02
#define RTC_MINUTES_ALARM 0x03
#define RTC_HOURS 0x04
#define RTC_HOURS_ALARM 0x05
#define RTC_DAY_OF_WEEK 0x06 /* 1 = Sunday */
#define RTC_DAY_OF_MONTH 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09 /* two digits */
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_CENTURY 0x32 /* what kite's FADT names as the century register */

#define RTC_A_UIP 0x80
#define RTC_B_SET 0x80
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_D_VRT 0x80

struct rtc_cmos_config {
	/* Wall-clock time in UTC; NULL means clock_gettime(CLOCK_REALTIME). */
	void (*now)(void *ctx, struct timespec *ts);
	void *ctx;
};

struct rtc_cmos {
	pthread_mutex_t lock;
	struct rtc_cmos_config cfg;
	uint8_t ram[128];
	uint8_t index;
	uint8_t nmi_masked;
	int64_t offset;          /* guest seconds minus host seconds */
	int64_t latch;           /* guest time (s since 1970) being shown */
	struct timespec latch_at; /* host time the latch was taken */
	int latched;
};

extern const struct bus_ops rtc_cmos_ops; /* bus_add(pio, 0x70, 2, ...) */

int rtc_cmos_init(struct rtc_cmos *r, const struct rtc_cmos_config *cfg) MUST_CHECK;
void rtc_cmos_free(struct rtc_cmos *r);
/* Bit 7 of the last index write; kite does not inject NMIs, so this is
 * informational. */
int rtc_cmos_nmi_masked(struct rtc_cmos *r);

#endif
