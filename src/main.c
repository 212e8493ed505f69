/* kite's entry point: parse options, build the VM, run it, and turn the way
 * it stopped into kite's exit status. The only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "hostio.h"
#include "log.h"
#include "term.h"
#include "vm.h"

/* Documented in --help and README.md; scripts rely on these. */
enum {
	EXIT_OK = 0,
	EXIT_HOST_FAILURE = 1,
	EXIT_BAD_INPUT = 2,
	EXIT_GUEST_RESET = 3,
	EXIT_TRIPLE_FAULT = 4,
	EXIT_INTERNAL = 5,
	EXIT_GUEST_PANIC = 6,
};

static int exit_status(enum vm_stop_reason r, int status)
{
	switch (r) {
	case VM_STOP_HALT:
	case VM_STOP_POWEROFF:
		return EXIT_OK;
	case VM_STOP_RESET:
		return EXIT_GUEST_RESET;
	case VM_STOP_TRIPLE_FAULT:
		return EXIT_TRIPLE_FAULT;
	case VM_STOP_INTERNAL:
		return EXIT_INTERNAL;
	case VM_STOP_PANIC:
		return EXIT_GUEST_PANIC;
	case VM_STOP_DEBUG_EXIT:
		return status & 0xff;
	case VM_STOP_USER:
		return status ? 128 + status : EXIT_OK;
	case VM_STOP_HOST_ERROR:
	case VM_STOP_NONE:
	default:
		return EXIT_HOST_FAILURE;
	}
}

static int blame_status(const struct error *e)
{
	return e->blame == BLAME_INPUT ? EXIT_BAD_INPUT : EXIT_HOST_FAILURE;
}

static const char *reason_text(enum vm_stop_reason r)
{
	static const char *const t[] = {
		[VM_STOP_NONE] = "no reason",
		[VM_STOP_HALT] = "guest halted",
		[VM_STOP_POWEROFF] = "guest powered off",
		[VM_STOP_RESET] = "guest reset",
		[VM_STOP_TRIPLE_FAULT] = "guest triple fault",
		[VM_STOP_INTERNAL] = "KVM could not run the guest",
		[VM_STOP_DEBUG_EXIT] = "guest wrote the debug-exit port",
		[VM_STOP_PANIC] = "guest panic",
		[VM_STOP_HOST_ERROR] = "host failure",
		[VM_STOP_USER] = "stopped by the user",
	};
	return (unsigned)r < sizeof(t) / sizeof(t[0]) ? t[r] : "unknown";
}

/* What the process holds across machines: the event loop, the host console
 * and the host resources, and the machine running now (NULL between two). */
struct proc {
	struct evloop loop;
	bool loop_ready;
	struct hostio *io;
	struct vm_host host;
	bool host_open;
	struct vm *vm;
	/* A stop asked for while no machine runs. */
	int stopped;
	int stop_status;
};

/* Signals and Ctrl-A x: stop the machine, or the process when none runs. */
static void proc_stop(void *ctx, enum vm_stop_reason reason, int status)
{
	struct proc *p = ctx;

	if (p->vm) {
		vm_request_stop(p->vm, reason, status);
		return;
	}
	p->stopped = 1;
	p->stop_status = status;
	ev_stop(&p->loop);
}

static int proc_open(struct proc *p, const struct vm_config *cfg, struct error *e)
{
	struct vm_stopper stop = {proc_stop, p};
	int rc;

	rc = hostio_open(&p->io, &(struct hostio_opts){cfg->serial_out, cfg->console_socket},
			 e->msg, sizeof(e->msg));
	if (rc) /* --serial-out and --console-socket are paths the user gave. */
		return error_blame(e, rc, error_blame_path(rc));
	rc = ev_init(&p->loop);
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot create the event loop: %s",
				 strerror(-rc));
	p->loop_ready = true;
	rc = hostio_attach(p->io, &p->loop, &stop, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_HOST);
	p->host_open = true;
	return vm_host_open(&p->host, cfg, p->io, e);
}

static void proc_close(struct proc *p, int flush_ms)
{
	if (p->host_open)
		vm_host_close(&p->host);
	if (p->io) {
		hostio_detach(p->io);
		/* Output still buffered: the reader gets a moment. */
		hostio_flush(p->io, flush_ms);
	}
	if (p->loop_ready)
		ev_free(&p->loop);
	hostio_close(p->io);
}

int main(int argc, char **argv)
{
	static struct proc proc;
	struct timespec t_start;
	struct vm_config cfg;
	enum config_cmd cmd;
	char err[512];
	struct error e = {0};
	struct vm vm;
	int rc, code;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	/* A closed stdin/stdout/stderr would be handed to the next open() (a
	 * disk image, /dev/kvm) and guest output written into it: put
	 * /dev/null there first. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return EXIT_HOST_FAILURE;
	/* A closed stdout must not kill kite mid-run; writes report EPIPE. */
	signal(SIGPIPE, SIG_IGN);

	if (config_parse(argc, argv, &cfg, &cmd, err, sizeof(err))) {
		fprintf(stderr, "kite: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	if (cmd == CMD_HELP) {
		fputs(config_help_text, stdout);
		return EXIT_OK;
	}
	if (cmd == CMD_VERSION) {
		printf("kite %s\n", KITE_VERSION);
		return EXIT_OK;
	}
	log_set_level((enum log_level)cfg.log_level);
	rc = proc_open(&proc, &cfg, &e);
	if (rc) {
		fprintf(stderr, "kite: %s\n", e.msg);
		proc_close(&proc, 0);
		return blame_status(&e);
	}

	for (;;) {
		ev_clear_stop(&proc.loop);
		rc = vm_create(&vm, &cfg, &proc.host, &proc.loop, &t_start, &e);
		if (rc) {
			fprintf(stderr, "kite: %s\n", e.msg);
			vm_destroy(&vm);
			proc_close(&proc, 1000);
			return blame_status(&e);
		}
		proc.vm = &vm;
		rc = vm_run(&vm);
		proc.vm = NULL;
		code = rc ? EXIT_HOST_FAILURE : exit_status(vm.stop_reason, vm.stop_status);
		if (!rc && vm.stop_reason == VM_STOP_RESET && vm.user_stop) {
			vm.stop_reason = VM_STOP_USER;
			vm.stop_status = vm.user_stop_status;
			code = exit_status(vm.stop_reason, vm.stop_status);
		}
		if (!rc && vm.stop_reason == VM_STOP_RESET && cfg.on_reboot == REBOOT_RESTART) {
			/* A fresh machine from the same options: new RAM, vCPUs
			 * and devices, the kernel loaded again. Only what the
			 * host holds (stdout, the disk files, queued input)
			 * carries over. */
			log_info(NULL, "guest reset: restarting the machine (boot %u)", cfg.boot + 2);
			vm_destroy(&vm);
			cfg.boot++;
			continue;
		}
		break;
	}
	if (vm.stop_reason == VM_STOP_DEBUG_EXIT)
		log_info(NULL, "guest wrote %d to the debug-exit port", vm.stop_status);
	else if (code != EXIT_OK)
		log_msg(LOG_ERROR, NULL, "%s (exit status %d)", reason_text(vm.stop_reason), code);
	else
		log_info(NULL, "%s", reason_text(vm.stop_reason));
	if (cfg.timestamps)
		log_report("timestamp", "guest stopped at %.3f ms", vm_elapsed_ms(&vm));
	vm_destroy(&vm);
	/* A stuck reader must not hold up a SIGTERM. */
	proc_close(&proc, vm.user_stop ? 0 : 2000);
	return code;
}
