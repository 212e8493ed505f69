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
#include "console_sock.h"
#include "irq.h"
#include "log.h"
#include "term.h"
#include "vm.h"

#define STDIN_CHUNK 256

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
	int out_fd;
	int out_owned;
	int out_broken;

	/* stdin -> UART */
	int in_fd;
	int in_watched;
	int in_file; /* stdin cannot be polled (a regular file): read on demand */
	struct console_sock *sock; /* --console-socket: replaces stdin/stdout */
	int rx_wake_fd;
	int sig_fd;
	struct term_filter filter;
	/* Where stdin goes: the UART unless a virtio console took over. */
	size_t (*receive)(void *dev, const uint8_t *buf, size_t n);
	void *receive_dev;
	uint8_t pending[STDIN_CHUNK + 1];
	size_t pending_len, pending_off;
};

/* Host input read but not yet taken by the guest when a reboot restarts the
 * machine (--on-reboot restart): still on the wire, so the next machine gets
 * it. Touched only by the main thread, between two machines. */
static struct {
	uint8_t buf[STDIN_CHUNK + 1];
	size_t len;
} carry;

static void on_signal(void *ctx, uint32_t events);

/* Guest console output to stdout (or --serial-out). A reader that stops
 * reading must not stall kite for good: the write waits in poll() together
 * with the signalfd, so SIGTERM/SIGINT still stop the VM (also when this is
 * the event-loop thread, virtio-console, where nobody else would read the
 * signalfd), and a stopping VM drops what is left. At most PIPE_BUF bytes
 * per write, the most a pipe reported writable takes without blocking. */
static void console_out(void *ctx, const uint8_t *buf, size_t n)
{
	struct platform *p = ctx;

	if (p->sock) {
		console_sock_write(p->sock, buf, n);
		return;
	}
	while (n && !p->out_broken) {
		struct pollfd pf[2] = {{.fd = p->out_fd, .events = POLLOUT},
				       {.fd = p->sig_fd, .events = POLLIN}};
		ssize_t w;

		if (vm_stopping(p->vm))
			return;
		if (poll(pf, p->sig_fd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			pf[0].revents = POLLOUT; /* let write() say what is wrong */
		}
		if (pf[1].revents & POLLIN)
			on_signal(p, POLLIN); /* requests the stop: loop ends above */
		if (!(pf[0].revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)))
			continue;
		w = write(p->out_fd, buf, MIN(n, (size_t)PIPE_BUF));
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0) {
			/* The reader went away: the guest keeps running,
			 * its console output is dropped from now on. */
			log_warn("serial", "guest output lost: %s", w < 0 ? strerror(errno) : "short write");
			p->out_broken = 1;
			return;
		}
		buf += w;
		n -= (size_t)w;
	}
}

/* Reads the next chunk of host input into `pending`, through the escape
 * filter. Returns 1 with data, 0 at end of input or on Ctrl-A x. */
static int read_input(struct platform *p)
{
	uint8_t buf[STDIN_CHUNK];
	ssize_t n;
	int quit = 0;

	do
		n = read(p->in_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		/* End of input: the guest keeps running without it (and a
		 * socket console waits for the next client). */
		if (p->sock)
			console_sock_client_gone(p->sock, p->in_fd);
		else if (!p->in_file)
			ev_del(&p->vm->ev, p->in_fd);
		p->in_fd = -1;
		return 0;
	}
	p->pending_len = term_filter_feed(&p->filter, buf, (size_t)n, p->pending, &quit);
	p->pending_off = 0;
	if (quit) {
		log_info(NULL, "Ctrl-A x: quitting");
		vm_request_stop(p->vm, VM_STOP_USER, 0);
		p->pending_len = 0;
		return 0;
	}
	return 1;
}

/* Offers pending input to the console device. A pollable stdin is watched
 * only while nothing is pending, so that input waits in the pipe rather than
 * being dropped; a regular file (not pollable) is read on as long as the
 * device takes what it is given. */
static void feed_console(struct platform *p)
{
	int want;

	for (;;) {
		if (p->pending_off < p->pending_len)
			p->pending_off += p->receive(p->receive_dev, p->pending + p->pending_off,
						     p->pending_len - p->pending_off);
		if (p->pending_off < p->pending_len)
			break; /* the device is full: wait for its rx_space */
		p->pending_off = p->pending_len = 0;
		if (!p->in_file || p->in_fd < 0 || !read_input(p))
			break;
	}
	want = p->pending_off == p->pending_len;
	if (!p->in_file && p->in_fd >= 0 && want != p->in_watched) {
		if (ev_mod(&p->vm->ev, p->in_fd, want ? EPOLLIN : 0) == 0)
			p->in_watched = want;
	}
}

static void on_stdin(void *ctx, uint32_t events)
{
	struct platform *p = ctx;

	(void)events;
	if (read_input(p))
		feed_console(p);
}

/* Called by the console device (the UART on a vCPU thread, virtio-console
 * with its lock held): hand the work to the event loop. */
static void console_rx_space(void *ctx)
{
	struct platform *p = ctx;
	uint64_t one = 1;

	if (write(p->rx_wake_fd, &one, sizeof(one)) < 0) {
		/* Counter already nonzero: the loop will run anyway. */
	}
}

static void on_rx_wake(void *ctx, uint32_t events)
{
	struct platform *p = ctx;
	uint64_t v;

	(void)events;
	if (read(p->rx_wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain. */
	}
	feed_console(p);
}

static void on_signal(void *ctx, uint32_t events)
{
	struct platform *p = ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(p->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info(NULL, "signal %u: stopping the guest", si.ssi_signo);
		vm_request_stop(p->vm, VM_STOP_USER, (int)si.ssi_signo);
	}
}

static int setup_signals(struct platform *p, char *err, size_t errlen)
{
	sigset_t set;
	int rc;

	/* Blocked here, before any vCPU thread exists, so that every thread
	 * inherits the mask and only the signalfd sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	p->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (p->sig_fd < 0 || (rc = ev_add(&p->vm->ev, p->sig_fd, EPOLLIN, on_signal, p)) < 0) {
		snprintf(err, errlen, "cannot watch signals: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* A console-socket client connected: its input is the console's input. */
static void on_sock_client(void *ctx, int fd)
{
	struct platform *p = ctx;

	p->in_fd = -1; /* a previous client was closed by console_sock */
	p->in_watched = 0;
	if (ev_add(&p->vm->ev, fd, EPOLLIN, on_stdin, p) == 0) {
		p->in_fd = fd;
		p->in_watched = 1;
		feed_console(p); /* input left over from the last client */
	}
}

/* Input carried over from the machine before a restart waits in `pending`;
 * the event loop offers it to the console once the machine runs. */
static void take_carry(struct platform *p)
{
	if (!carry.len)
		return;
	memcpy(p->pending, carry.buf, carry.len);
	p->pending_len = carry.len;
	p->pending_off = 0;
	carry.len = 0;
	console_rx_space(p);
}

static int setup_stdin(struct platform *p, char *err, size_t errlen)
{
	int rc;

	p->rx_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->rx_wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -errno;
	}
	rc = ev_add(&p->vm->ev, p->rx_wake_fd, EPOLLIN, on_rx_wake, p);
	if (rc) {
		snprintf(err, errlen, "cannot watch the serial wake-up: %s", strerror(-rc));
		return rc;
	}
	if (p->vm->cfg->console_socket) {
		p->sock = calloc(1, sizeof(*p->sock));
		if (!p->sock)
			return -ENOMEM;
		rc = console_sock_open(p->sock, p->vm->cfg->console_socket, &p->vm->ev,
				       on_sock_client, p, err, errlen);
		if (!rc)
			take_carry(p);
		return rc;
	}
	rc = ev_add(&p->vm->ev, STDIN_FILENO, EPOLLIN, on_stdin, p);
	if (rc == -EPERM) {
		/* Regular files and /dev/null cannot be polled: they are always
		 * readable, so read them whenever the console has room, starting
		 * now (through the wake-up eventfd, on the event loop). */
		p->in_fd = STDIN_FILENO;
		p->in_file = 1;
		take_carry(p);
		console_rx_space(p);
		return 0;
	}
	if (rc) {
		log_info("serial", "stdin not usable (%s); the guest gets no input", strerror(-rc));
		return 0;
	}
	p->in_fd = STDIN_FILENO;
	p->in_watched = 1;
	term_raw(STDIN_FILENO);
	take_carry(p);
	return 0;
}

/* The UART's sink: console_out blocks until written (or dropped), so
 * there is always room. (Devices area: the smallest change for the new
 * sink signature; the lead's console rework replaces it.) */
static bool uart_out(void *ctx, const uint8_t *buf, size_t n)
{
	console_out(ctx, buf, n);
	return true;
}

static size_t uart_receive(void *dev, const uint8_t *buf, size_t n)
{
	return serial8250_receive(dev, buf, n);
}

void platform_console_host(struct platform *p,
			   void (**out)(void *ctx, const uint8_t *buf, size_t n),
			   void (**rx_space)(void *ctx), void **ctx)
{
	*out = console_out;
	*rx_space = console_rx_space;
	*ctx = p;
}

void platform_console_input(struct platform *p,
			    size_t (*receive)(void *dev, const uint8_t *buf, size_t n), void *dev)
{
	p->receive = receive;
	p->receive_dev = dev;
}

static int setup_uart(struct platform *p, char *err, size_t errlen)
{
	struct vm *vm = p->vm;
	struct serial8250_config c = {
		.irq = irq_line_kvm(vm, SERIAL8250_COM1_IRQ),
		.out = uart_out,
		.rx_space = console_rx_space,
		.ctx = p,
	};
	int rc;

	if (vm->cfg->serial_out) {
		/* After a restart the file goes on where the last boot left it. */
		p->out_fd = open(vm->cfg->serial_out,
				 O_WRONLY | O_CREAT | O_CLOEXEC | (vm->cfg->boot ? O_APPEND : O_TRUNC),
				 0644);
		if (p->out_fd < 0) {
			rc = -errno;
			snprintf(err, errlen, "--serial-out %s: %s", vm->cfg->serial_out,
				 strerror(errno));
			return rc;
		}
		p->out_owned = 1;
	}
	rc = serial8250_init(&p->uart, &c);
	if (rc) {
		snprintf(err, errlen, "cannot create the UART: %s", strerror(-rc));
		return rc;
	}
	p->uart_ready = 1;
	platform_console_input(p, uart_receive, &p->uart);
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
		.irq = irq_line_kvm(p->vm, RTC_CMOS_IRQ),
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
		.kbd_irq = irq_line_kvm(vm, 1),
		.aux_irq = irq_line_kvm(vm, 12),
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
	p->out_fd = STDOUT_FILENO;
	p->in_fd = -1;
	p->rx_wake_fd = -1;
	p->sig_fd = -1;
	p->rtc_timer_fd = -1;
	rc = setup_uart(p, err, errlen);
	if (!rc)
		rc = platform_legacy_devices(p, err, errlen);
	if (!rc)
		rc = setup_signals(p, err, errlen);
	if (!rc)
		rc = setup_stdin(p, err, errlen);
	return rc;
}

void platform_destroy(struct platform *p)
{
	if (!p)
		return;
	term_restore();
	if (p->pending_off < p->pending_len) {
		carry.len = p->pending_len - p->pending_off;
		memcpy(carry.buf, p->pending + p->pending_off, carry.len);
	}
	if (p->sock) {
		console_sock_close(p->sock);
		free(p->sock);
	}
	if (p->sig_fd >= 0)
		close(p->sig_fd);
	if (p->rx_wake_fd >= 0)
		close(p->rx_wake_fd);
	if (p->rtc_timer_fd >= 0)
		close(p->rtc_timer_fd);
	if (p->rtc_ready)
		rtc_cmos_free(&p->rtc);
	if (p->kbd_ready)
		i8042_free(&p->kbd);
	if (p->uart_ready)
		serial8250_free(&p->uart);
	if (p->out_owned)
		close(p->out_fd);
	free(p);
}
