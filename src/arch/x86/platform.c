/* The PC platform: legacy devices on the port bus and the host side of the
 * serial console. Guest output goes to stdout or --serial-out; host stdin is
 * fed to the UART on the event loop, with backpressure (nothing dropped). */
#include "arch/x86/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "devices/acpi_pm.h"
#include "devices/boot_timer.h"
#include "devices/debug_exit.h"
#include "devices/i8042.h"
#include "devices/rtc_cmos.h"
#include "devices/serial8250.h"
#include "hostio.h"
#include "irq.h"
#include "log.h"
#include "vm.h"

struct platform {
	struct vm *vm;
	struct serial8250 uart;
	int uart_ready;
	struct i8042 kbd;
	int kbd_ready;
	struct rtc_cmos rtc;
	int rtc_ready;
	int rtc_timer_fd; /* CLOCK_REALTIME timerfd for rtc_cmos_tick */
	struct debug_exit dbg;
	struct boot_timer timer;
	unsigned boot_marks; /* boot-timestamp writes so far (atomic) */
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

static int setup_uart(struct platform *p, char *err, size_t errlen)
{
	struct vm *vm = p->vm;
	struct serial8250_config c = {
		.irq = irq_line_kvm(&vm->irq, SERIAL8250_COM1_IRQ),
		.out = uart_out,
		.rx_space = hostio_rx_space,
		.ctx = vm->io,
	};
	int rc;

	rc = serial8250_init(&p->uart, &c);
	if (rc) {
		snprintf(err, errlen, "cannot create the UART: %s", strerror(-rc));
		return rc;
	}
	p->uart_ready = 1;
	hostio_set_input(vm->io, uart_receive, &p->uart);
	rc = bus_add(&vm->pio, SERIAL8250_COM1_BASE, SERIAL8250_NR_PORTS, &serial8250_ops,
		     &p->uart, "com1");
	if (rc) {
		snprintf(err, errlen, "cannot place COM1: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

/* A guest could write the port in a loop: only the first marks are logged. */
#define BOOT_MARKS_LOGGED 1000u

static void boot_mark(void *ctx, uint32_t value)
{
	struct platform *p = ctx;
	unsigned n = __atomic_fetch_add(&p->boot_marks, 1u, __ATOMIC_RELAXED);

	if (n >= BOOT_MARKS_LOGGED) {
		if (n == BOOT_MARKS_LOGGED)
			log_warn("timestamp", "more than %u boot-timestamp port writes: no "
				 "more are logged", BOOT_MARKS_LOGGED);
		return;
	}
	if (p->vm->cfg->timestamps)
		log_report("timestamp", "boot-timestamp port: value %u at %.3f ms", value,
			   vm_elapsed_ms(p->vm));
	else
		log_info("timestamp", "boot-timestamp port: value %u at %.3f ms", value,
			 vm_elapsed_ms(p->vm));
}

/* The RTC's timer request (its lock held, any thread): one absolute
 * CLOCK_REALTIME expiry, the clock the RTC reads its time from. */
static void rtc_timer_arm(void *ctx, const struct timespec *deadline)
{
	struct platform *p = ctx;
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
	struct platform *p = ctx;
	uint64_t n;

	(void)events;
	if (read(p->rtc_timer_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: re-armed since it fired; the tick is harmless. */
	}
	rtc_cmos_tick(&p->rtc);
}

static int setup_rtc(struct platform *p, char *err, size_t errlen)
{
	struct rtc_cmos_config c = {
		.timer_arm = rtc_timer_arm,
		.ctx = p,
		.irq = irq_line_kvm(&p->vm->irq, RTC_CMOS_IRQ),
	};
	int rc;

	p->rtc_timer_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->rtc_timer_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the RTC timer: %s", strerror(errno));
		return rc;
	}
	rc = ev_add(&p->vm->ev, p->rtc_timer_fd, EPOLLIN, on_rtc_timer, p);
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

static int platform_legacy_devices(struct platform *p, char *err, size_t errlen)
{
	struct vm *vm = p->vm;
	struct i8042_config kc = {
		.stopper = vm->stopper,
		.kbd_irq = irq_line_kvm(&vm->irq, 1),
		.aux_irq = irq_line_kvm(&vm->irq, 12),
	};
	const struct port_dev devs[] = {
		{0x60, 1, &i8042_data_ops, &p->kbd, "i8042-data"},
		{0x64, 1, &i8042_cmd_ops, &p->kbd, "i8042-cmd"},
		{0x70, 2, &rtc_cmos_ops, &p->rtc, "rtc"},
		{DEBUG_EXIT_PORT, 1, &debug_exit_ops, &p->dbg, "debug-exit"},
		{BOOT_TIMER_PORT, 4, &boot_timer_ops, &p->timer, "boot-timer"},
		{ACPI_PM_PORT_BASE, ACPI_PM_NR_PORTS, &acpi_pm_ops, &p->pm, "acpi-pm"},
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
	debug_exit_init(&p->dbg, &vm->stopper);
	boot_timer_init(&p->timer, boot_mark, p);
	acpi_pm_init(&p->pm, &vm->stopper);
	for (size_t i = 0; i < ARRAY_SIZE(devs); i++) {
		rc = bus_add(&vm->pio, devs[i].base, devs[i].len, devs[i].ops, devs[i].opaque,
			     devs[i].name);
		if (rc) {
			snprintf(err, errlen, "cannot place %s: %s", devs[i].name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int platform_create(struct vm *vm, struct platform **out, char *err, size_t errlen)
{
	struct platform *p = calloc(1, sizeof(*p));
	int rc;

	*out = p;
	if (!p)
		return -ENOMEM;
	p->vm = vm;
	p->rtc_timer_fd = -1;
	rc = setup_uart(p, err, errlen);
	if (!rc)
		rc = platform_legacy_devices(p, err, errlen);
	return rc;
}

void platform_destroy(struct platform *p)
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
