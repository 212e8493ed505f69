/* The PC's MC146818-style CMOS real-time clock and its 128 bytes of CMOS
 * RAM, at port 0x70 (index; bit 7 masks NMI) and 0x71 (data), with its
 * interrupts on IRQ 8.
 *
 * The time registers show the host's wall clock (UTC) plus an offset that
 * the guest sets by writing them; they are encoded in BCD or binary and in
 * 24- or 12-hour form as register B asks. Register A's UIP bit is set for
 * the ~2.2 ms around each second boundary, as on the real part. Reads are
 * served from a snapshot of the time taken when the guest reads register A
 * (and refreshed when it is more than 10 ms old), so a read sequence is
 * consistent even though each port access costs tens of microseconds here.
 *
 * Interrupts (rtc_cmos_irq.c): register C's UF (an update ended: once a
 * second, as UIP falls 1.984 ms after the boundary), AF (at such an
 * update the new time matches the seconds/minutes/hours alarm registers,
 * 0xC0-0xFF meaning "don't care"; the guest's offset applies) and PF
 * (register A's rate: RS 1, 2 = 256, 128 Hz as on PCs, RS 3..15 =
 * 32768 >> (RS - 1) Hz, RS 0 = off; ticks are phase-locked to the second
 * boundary) are set whatever the enable bits, as on the real part. SET in
 * register B stops updates: no UF or AF while it is held. IRQF = PF.PIE +
 * AF.AIE + UF.UIE; each 0 -> 1 transition of IRQF pulses IRQ 8 (an
 * edge-triggered ISA line), so there is no new interrupt until register C
 * is read (which returns and clears the flags) or an enable bit is cleared
 * and set again. The flags are computed from the clock when register C is
 * read, so a guest that polls register C needs no timer; a host timer
 * (cfg.timer_arm -> rtc_cmos_tick) is armed only while an enabled event
 * can raise IRQF, for the next such event: with PIE, AIE and UIE clear, or
 * IRQF already set, no timer runs at all. Periodic interrupts faster than
 * 1024 Hz are coalesced: the timer fires at most at 1024 Hz, PF being one
 * flag the guest sees one interrupt per expiry (a guest that polls
 * register C still sees PF at the full rate).
 *
 * As a struct device (rtc_cmos_new, rtc_cmos_state.c): pause cancels the
 * host timer and makes rtc_cmos_tick() a no-op; resume counts the events
 * that fell due meanwhile, pulses IRQ 8 if IRQF rose (or, after a restore,
 * if the restored IRQF is set: the new machine's interrupt controller never
 * saw that edge) and re-arms the timer for the next enabled event from the
 * restored state and cfg.now. The section holds CMOS RAM, the index and NMI
 * mask, the guest's clock offset, the read snapshot, register C's flags
 * and IRQF, and the instant the flags account for; the clock offset is
 * relative to the host's wall clock, so a restored guest clock keeps
 * following real time, as a battery-backed RTC does.
 *
 * Not modelled: daylight saving, the divider-reset and square-wave bits of
 * register A (stored only: updates and PF run on), register D's VRT is
 * always 1, and the extended bank at 0x72/0x73. */
#ifndef KITE_DEVICES_RTC_CMOS_H
#define KITE_DEVICES_RTC_CMOS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"
#include "compiler.h"
#include "device.h"
#include "vm_event.h"

#define RTC_CMOS_PORT_BASE 0x70
#define RTC_CMOS_NR_PORTS 2 /* offset 0: index, offset 1: data */
#define RTC_CMOS_IRQ 8

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
#define RTC_CENTURY 0x32 /* the conventional PC century register */

#define RTC_A_UIP 0x80
#define RTC_A_RS_MASK 0x0f
#define RTC_B_SET 0x80
#define RTC_B_PIE 0x40
#define RTC_B_AIE 0x20
#define RTC_B_UIE 0x10
#define RTC_B_DM_BINARY 0x04
#define RTC_B_24H 0x02
#define RTC_C_IRQF 0x80
#define RTC_C_PF 0x40 /* same bit as its enable in register B */
#define RTC_C_AF 0x20
#define RTC_C_UF 0x10
#define RTC_D_VRT 0x80
#define RTC_ALARM_DONT_CARE 0xc0 /* both top bits set: matches any value */

struct rtc_cmos_config {
	/* Wall-clock time in UTC; NULL means clock_gettime(CLOCK_REALTIME).
	 * Interrupt timing uses this clock too, so that UF and AF come at
	 * the second boundaries the time registers show. */
	void (*now)(void *ctx, struct timespec *ts);
	/* Asks for one rtc_cmos_tick() at or after `deadline` on the now()
	 * clock (an absolute CLOCK_REALTIME timerfd by default); NULL
	 * deadline: cancel. Replaces any earlier request. Called with the
	 * device lock held, from whichever thread touched the device: it
	 * must be cheap and must not call back into the device. NULL: no
	 * host timer (flags are still right when register C is read). */
	void (*timer_arm)(void *ctx, const struct timespec *deadline);
	void *ctx; /* for now() and timer_arm() */
	struct irq_line irq; /* IRQ 8, pulsed; a NULL set means no interrupt */
};

struct rtc_cmos_stats {
	uint64_t irqs;       /* IRQ 8 pulses */
	uint64_t timer_arms; /* timer_arm() calls with a deadline */
	uint64_t ticks;      /* rtc_cmos_tick() calls */
	uint64_t clock_sets; /* guest writes that set the clock */
};

struct rtc_cmos {
	struct device dev;
	pthread_mutex_t lock;
	struct rtc_cmos_config cfg;
	uint8_t ram[128];
	uint8_t index;
	uint8_t nmi_masked;
	int64_t offset;          /* guest seconds minus host seconds */
	int64_t latch;           /* guest time (s since 1970) being shown */
	struct timespec latch_at; /* host time the latch was taken */
	int latched;
	/* Interrupt state, rtc_cmos_irq.c. */
	uint8_t flags;           /* PF/AF/UF of register C (IRQF derived) */
	int irqf;                /* IRQF as last computed: pulse on 0 -> 1 */
	struct timespec seen;    /* flags account for events up to here */
	int armed;               /* a timer_arm(deadline) is outstanding */
	struct timespec deadline;
	bool paused;             /* struct device pause: no ticks, no IRQ */
	bool restored;           /* since pause: resume re-pulses IRQF */
	struct rtc_cmos_stats stats;
};

extern const struct bus_ops rtc_cmos_ops; /* bus_add(pio, 0x70, 2, ...) */
extern const struct device_ops rtc_cmos_device_ops;

int rtc_cmos_init(struct rtc_cmos *r, const struct rtc_cmos_config *cfg) MUST_CHECK;
void rtc_cmos_free(struct rtc_cmos *r);
/* A heap device named `name`, freed by its destroy op. */
int rtc_cmos_new(const struct rtc_cmos_config *cfg, const char *name,
		 struct rtc_cmos **out) MUST_CHECK;
/* The timer requested through cfg.timer_arm expired (a spurious or early
 * call is harmless): brings the flags up to date, pulses IRQ 8 if IRQF
 * rose, and asks for the next timer. Any thread. A no-op while paused. */
void rtc_cmos_tick(struct rtc_cmos *r);
/* Bit 7 of the last index write; kite does not inject NMIs, so this is
 * informational. */
int rtc_cmos_nmi_masked(struct rtc_cmos *r);

#endif
