/* The PC board's legacy devices, placed on the port bus from the board
 * table (board.h): the UART (the console unless virtio-console takes it),
 * i8042, CMOS RTC with its host timer, ACPI PM, the boot timer, with
 * --debug-exit only the debug-exit port, and for Linux guests the VM
 * generation ID (memory and an interrupt, no ports). */
#include "arch/x86/board_devices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "devices/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/debug_exit.h"
#include "devices/i8042.h"
#include "devices/rtc_cmos.h"
#include "devices/serial8250.h"
#include "devices/vmgenid.h"
#include "arch/x86/board.h"
#include "clock.h"
#include "hostio.h"
#include "irq.h"
#include "log.h"

struct board {
	struct machine *m;
	struct serial8250 *uart;
	struct i8042 *kbd;
	struct rtc_cmos *rtc;
	int rtc_timer_fd; /* CLOCK_REALTIME timerfd for rtc_cmos_tick */
	bool rtc_timer_watched;
};

static bool uart_out(void *ctx, const uint8_t *buf, size_t n)
{
	return hostio_write(ctx, buf, n);
}

static void uart_tx_space(void *ctx)
{
	serial8250_tx_space(ctx);
}

static size_t uart_receive(void *dev, const uint8_t *buf, size_t n)
{
	return serial8250_receive(dev, buf, n);
}

/* Registers a device created by a row, then places its port ranges. */
static int place(struct board *p, struct device *dev, const struct bus_range *ranges, int nr,
		 char *err, size_t errlen)
{
	int rc = device_list_add(p->m->devices, dev);

	if (rc) {
		dev->ops->destroy(dev);
		snprintf(err, errlen, "%s: %s", dev->name, strerror(-rc));
		return rc;
	}
	for (int i = 0; i < nr; i++) {
		rc = bus_add(p->m->pio, ranges[i].base, ranges[i].len, ranges[i].ops,
			     ranges[i].opaque, ranges[i].name);
		if (rc) {
			snprintf(err, errlen, "cannot place %s at port 0x%llx: %s", ranges[i].name,
				 (unsigned long long)ranges[i].base, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int make_serial(struct board *p, char *err, size_t errlen)
{
	struct machine *m = p->m;
	struct serial8250_config c = {
		.irq = irq_line_kvm(m->irq, BOARD_COM1_IRQ),
		.out = uart_out,
		.rx_space = hostio_rx_space,
		.ctx = m->io,
	};
	int rc = serial8250_new(&c, "serial0", &p->uart);

	if (rc) {
		snprintf(err, errlen, "cannot create the UART: %s", strerror(-rc));
		return rc;
	}
	rc = place(p, &p->uart->dev,
		   &(struct bus_range){BOARD_COM1_PORT, BOARD_COM1_NR_PORTS, &serial8250_ops,
				       p->uart, "serial0"}, 1, err, errlen);
	if (!rc)
		rc = hostio_on_space(m->io, uart_tx_space, p->uart);
	/* The console's input goes here unless virtio-console (created
	 * later) takes it over. */
	if (!rc)
		hostio_set_input(m->io, uart_receive, p->uart);
	return rc;
}

static int make_i8042(struct board *p, char *err, size_t errlen)
{
	struct machine *m = p->m;
	struct i8042_config c = {
		.stopper = m->stopper,
		.kbd_irq = irq_line_kvm(m->irq, BOARD_I8042_KBD_IRQ),
		.aux_irq = irq_line_kvm(m->irq, BOARD_I8042_AUX_IRQ),
	};
	struct i8042 *k;
	int rc = i8042_new(&c, "i8042", &k);

	if (rc) {
		snprintf(err, errlen, "cannot create the i8042: %s", strerror(-rc));
		return rc;
	}
	p->kbd = k;
	return place(p, &k->dev,
		     (const struct bus_range[]){
			     {BOARD_I8042_DATA_PORT, 1, &i8042_data_ops, k, "i8042-data"},
			     {BOARD_I8042_CMD_PORT, 1, &i8042_cmd_ops, k, "i8042-cmd"},
		     }, 2, err, errlen);
}

/* A guest could write the port in a loop: only the first marks are logged. */
#define BOOT_MARKS_LOGGED 1000u

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
			   clock_elapsed_ms(&p->m->t_start));
	else
		log_info("timestamp", "boot-timestamp port: value %u at %.3f ms", value,
			 clock_elapsed_ms(&p->m->t_start));
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
	rtc_cmos_tick(p->rtc);
}

static int make_rtc(struct board *p, char *err, size_t errlen)
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
	rc = rtc_cmos_new(&c, "rtc0", &p->rtc);
	if (rc) {
		snprintf(err, errlen, "cannot create the RTC: %s", strerror(-rc));
		return rc;
	}
	rc = place(p, &p->rtc->dev,
		   &(struct bus_range){BOARD_RTC_PORT, BOARD_RTC_NR_PORTS, &rtc_cmos_ops, p->rtc,
				       "rtc0"}, 1, err, errlen);
	if (rc)
		return rc;
	rc = ev_add(p->m->ev, p->rtc_timer_fd, EPOLLIN, on_rtc_timer, p);
	if (rc) {
		snprintf(err, errlen, "cannot watch the RTC timer: %s", strerror(-rc));
		return rc;
	}
	p->rtc_timer_watched = true;
	return 0;
}

static int make_debug_exit(struct board *p, char *err, size_t errlen)
{
	struct debug_exit *d;
	int rc;

	/* Only when asked for: it lets the guest choose kite's exit status. */
	if (!p->m->cfg->debug_exit)
		return 0;
	rc = debug_exit_new(&p->m->stopper, "debug-exit", &d);
	if (rc) {
		snprintf(err, errlen, "cannot create debug-exit: %s", strerror(-rc));
		return rc;
	}
	return place(p, &d->dev,
		     &(struct bus_range){BOARD_DEBUG_EXIT_PORT, 1, &debug_exit_ops, d,
					 "debug-exit"}, 1, err, errlen);
}

static int make_boot_timer(struct board *p, char *err, size_t errlen)
{
	struct boot_timer *t;
	int rc = boot_timer_new(boot_mark, p, "boot-timer", &t);

	if (rc) {
		snprintf(err, errlen, "cannot create the boot timer: %s", strerror(-rc));
		return rc;
	}
	return place(p, &t->dev,
		     &(struct bus_range){BOARD_BOOT_TIMER_PORT, BOARD_BOOT_TIMER_NR_PORTS,
					 &boot_timer_ops, t, "boot-timer"}, 1, err, errlen);
}

static int make_acpi_pm(struct board *p, char *err, size_t errlen)
{
	struct acpi_pm *pm;
	int rc = acpi_pm_new(&p->m->stopper, "acpi-pm", &pm);

	if (rc) {
		snprintf(err, errlen, "cannot create the ACPI PM device: %s", strerror(-rc));
		return rc;
	}
	return place(p, &pm->dev,
		     &(struct bus_range){BOARD_ACPI_PM_PORT, BOARD_ACPI_PM_NR_PORTS, &acpi_pm_ops,
					 pm, "acpi-pm"}, 1, err, errlen);
}

/* Only a Linux guest gets the DSDT that tells it where the ID is; a raw
 * image owns all of its RAM, and the ID's page is not reserved for it. */
static int make_vmgenid(struct board *p, char *err, size_t errlen)
{
	struct machine *m = p->m;
	struct vmgenid_config c = {
		.gm = m->gm,
		.gpa = BOARD_VMGENID_ADDR,
		.irq = irq_line_kvm(m->irq, BOARD_VMGENID_GSI),
	};
	struct vmgenid *g;
	int rc;

	/* Linux guests only (kite's ACPI describes it); a restored one was
	 * one if its snapshot says so. */
	if (!m->cfg->kernel && !m->cfg->restored_linux)
		return 0;
	rc = vmgenid_new(&c, "vmgenid0", &g);
	if (rc) {
		snprintf(err, errlen, "cannot create the VM generation ID: %s", strerror(-rc));
		return rc;
	}
	return place(p, &g->dev, NULL, 0, err, errlen);
}

/* The board's legacy devices, in creation (and device list) order. Adding
 * one is its device file plus a row here and its ports in board.h. */
static int (*const rows[])(struct board *p, char *err, size_t errlen) = {
	make_serial, make_i8042, make_rtc, make_debug_exit, make_boot_timer, make_acpi_pm,
	make_vmgenid,
};

int board_create(struct machine *m, struct board **out, char *err, size_t errlen)
{
	struct board *p = calloc(1, sizeof(*p));
	int rc = 0;

	*out = p;
	if (!p)
		return -ENOMEM;
	p->m = m;
	p->rtc_timer_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(rows) && !rc; i++)
		rc = rows[i](p, err, errlen);
	return rc;
}

int board_ctrl_alt_del(struct board *p)
{
	return p && p->kbd ? i8042_send_ctrl_alt_del(p->kbd) : -ENODEV;
}

/* The devices themselves go with the device list; this undoes the host
 * side the board wired for them. */
void board_destroy(struct board *p)
{
	if (!p)
		return;
	if (p->rtc_timer_watched)
		ev_del(p->m->ev, p->rtc_timer_fd);
	if (p->rtc_timer_fd >= 0)
		close(p->rtc_timer_fd);
	free(p);
}
