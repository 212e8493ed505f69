/* The PC board's legacy devices, placed on the port bus from the board
 * table (board.h): the UART (the console unless virtio-console takes it),
 * i8042, CMOS RTC with its host timer, ACPI PM, the boot timer and, with
 * --debug-exit only, the debug-exit port. */
#include "arch/x86/board_devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "devices/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/debug_exit.h"
#include "devices/i8042.h"
#include "devices/rtc_cmos.h"
#include "devices/serial8250.h"
#include "arch/x86/board.h"
#include "hostio.h"
#include "irq.h"
#include "log.h"

struct board {
	struct machine *m;
	struct serial8250 uart;
	int uart_ready;
	struct i8042 kbd;
	int kbd_ready;
	struct rtc_cmos rtc;
	int rtc_ready;
	int rtc_timer_fd; /* CLOCK_REALTIME timerfd for rtc_cmos_tick */
	struct debug_exit dbg;
	struct boot_timer timer;
	struct acpi_pm pm;
};

static void uart_out(void *ctx, const uint8_t *buf, size_t n)
{
	hostio_write(ctx, buf, n);
}

static size_t uart_receive(void *dev, const uint8_t *buf, size_t n)
{
	return serial8250_receive(dev, buf, n);
}

static int setup_uart(struct board *p, char *err, size_t errlen)
{
	struct machine *m = p->m;
	struct serial8250_config c = {
		.irq = irq_line_kvm(m->irq, BOARD_COM1_IRQ),
		.out = uart_out,
		.rx_space = hostio_rx_space,
		.ctx = m->io,
	};
	int rc;

	rc = serial8250_init(&p->uart, &c);
	if (rc) {
		snprintf(err, errlen, "cannot create the UART: %s", strerror(-rc));
		return rc;
	}
	p->uart_ready = 1;
	hostio_set_input(m->io, uart_receive, &p->uart);
	rc = bus_add(m->pio, BOARD_COM1_PORT, BOARD_COM1_NR_PORTS, &serial8250_ops,
		     &p->uart, "com1");
	if (rc) {
		snprintf(err, errlen, "cannot place COM1: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* A guest could write the port in a loop: only the first marks are logged. */
#define BOOT_MARKS_LOGGED 1000u

static double elapsed_ms(const struct machine *m)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - m->t_start.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - m->t_start.tv_nsec) / 1e6;
}

/* Boot-timestamp writes logged so far, for the whole process: a guest that
 * reboots in a loop (--on-reboot restart) must not get a fresh allowance
 * with every machine. */
static unsigned boot_marks;

static void boot_mark(void *ctx, uint32_t value)
{
	struct board *p = ctx;
	unsigned n = __atomic_fetch_add(&boot_marks, 1u, __ATOMIC_RELAXED);

	if (n >= BOOT_MARKS_LOGGED) {
		if (n == BOOT_MARKS_LOGGED)
			log_warn("timestamp", "more than %u boot-timestamp port writes: no "
				 "more are logged", BOOT_MARKS_LOGGED);
		return;
	}
	if (p->m->cfg->timestamps)
		log_report("timestamp", "boot-timestamp port: value %u at %.3f ms", value,
			   elapsed_ms(p->m));
	else
		log_info("timestamp", "boot-timestamp port: value %u at %.3f ms", value,
			 elapsed_ms(p->m));
}

/* The RTC's timer request (its lock held, any thread): one absolute
 * CLOCK_REALTIME expiry, the clock the RTC reads its time from. */
static void rtc_timer_arm(void *ctx, const struct timespec *deadline)
{
	struct board *p = ctx;
	struct itimerspec its = {0};

	if (deadline) {
		its.it_value = *deadline;
		/* An all-zero value would disarm; before 1970 means now. */
		if (its.it_value.tv_sec < 0 || (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0))
			its.it_value = (struct timespec){.tv_sec = 0, .tv_nsec = 1};
	}
	if (timerfd_settime(p->rtc_timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_guest("rtc", "timerfd_settime: %s", strerror(errno));
}

static void on_rtc_timer(void *ctx, uint32_t events)
{
	struct board *p = ctx;
	uint64_t n;

	(void)events;
	if (read(p->rtc_timer_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: re-armed since it fired; the tick is harmless. */
	}
	rtc_cmos_tick(&p->rtc);
}

static int setup_rtc(struct board *p, char *err, size_t errlen)
{
	struct rtc_cmos_config c = {
		.timer_arm = rtc_timer_arm,
		.ctx = p,
		.irq = irq_line_kvm(p->m->irq, BOARD_RTC_IRQ),
	};
	int rc;

	p->rtc_timer_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->rtc_timer_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the RTC timer: %s", strerror(errno));
		return rc;
	}
	rc = ev_add(p->m->ev, p->rtc_timer_fd, EPOLLIN, on_rtc_timer, p);
	if (rc) {
		snprintf(err, errlen, "cannot watch the RTC timer: %s", strerror(-rc));
		return rc;
	}
	rc = rtc_cmos_init(&p->rtc, &c);
	if (rc) {
		snprintf(err, errlen, "cannot create the RTC: %s", strerror(-rc));
		return rc;
	}
	p->rtc_ready = 1;
	return 0;
}

struct port_dev {
	uint64_t base, len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

static int platform_legacy_devices(struct board *p, char *err, size_t errlen)
{
	struct machine *m = p->m;
	struct i8042_config kc = {
		.stopper = m->stopper,
		.kbd_irq = irq_line_kvm(m->irq, BOARD_I8042_KBD_IRQ),
		.aux_irq = irq_line_kvm(m->irq, BOARD_I8042_AUX_IRQ),
	};
	const struct port_dev devs[] = {
		{BOARD_I8042_DATA_PORT, 1, &i8042_data_ops, &p->kbd, "i8042-data"},
		{BOARD_I8042_CMD_PORT, 1, &i8042_cmd_ops, &p->kbd, "i8042-cmd"},
		{BOARD_RTC_PORT, BOARD_RTC_NR_PORTS, &rtc_cmos_ops, &p->rtc, "rtc"},
		{BOARD_BOOT_TIMER_PORT, BOARD_BOOT_TIMER_NR_PORTS, &boot_timer_ops, &p->timer,
		 "boot-timer"},
		{BOARD_ACPI_PM_PORT, BOARD_ACPI_PM_NR_PORTS, &acpi_pm_ops, &p->pm, "acpi-pm"},
	};
	int rc;

	rc = i8042_init(&p->kbd, &kc);
	if (rc) {
		snprintf(err, errlen, "cannot create the i8042: %s", strerror(-rc));
		return rc;
	}
	p->kbd_ready = 1;
	rc = setup_rtc(p, err, errlen);
	if (rc)
		return rc;
	debug_exit_init(&p->dbg, &m->stopper);
	boot_timer_init(&p->timer, boot_mark, p);
	acpi_pm_init(&p->pm, &m->stopper);
	/* Only when asked for: it lets the guest choose kite's exit status. */
	if (m->cfg->debug_exit) {
		rc = bus_add(m->pio, BOARD_DEBUG_EXIT_PORT, 1, &debug_exit_ops, &p->dbg,
			     "debug-exit");
		if (rc) {
			snprintf(err, errlen, "cannot place debug-exit: %s", strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		rc = bus_add(m->pio, devs[i].base, devs[i].len, devs[i].ops, devs[i].opaque,
			     devs[i].name);
		if (rc) {
			snprintf(err, errlen, "cannot place %s: %s", devs[i].name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int board_create(struct machine *m, struct board **out, char *err, size_t errlen)
{
	struct board *p = calloc(1, sizeof(*p));
	int rc;

	*out = p;
	if (!p)
		return -ENOMEM;
	p->m = m;
	p->rtc_timer_fd = -1;
	rc = setup_uart(p, err, errlen);
	if (!rc)
		rc = platform_legacy_devices(p, err, errlen);
	return rc;
}

void board_destroy(struct board *p)
{
	if (!p)
		return;
	if (p->rtc_timer_fd >= 0)
		close(p->rtc_timer_fd);
	if (p->rtc_ready)
		rtc_cmos_free(&p->rtc);
	if (p->kbd_ready)
		i8042_free(&p->kbd);
	if (p->uart_ready)
		serial8250_free(&p->uart);
	free(p);
}
