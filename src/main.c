/* kite's entry point: parse options, build the VM, run it, and turn the way
 * it stopped into kite's exit status. The only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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

int main(int argc, char **argv)
{
	struct timespec t_start;
	struct vm_config cfg;
	enum config_cmd cmd;
	char err[512];
	struct error e = {0};
	struct vm_host host;
	struct hostio *io;
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
	rc = hostio_open(&io, &(struct hostio_opts){cfg.serial_out, cfg.console_socket}, e.msg,
			 sizeof(e.msg));
	if (rc) {
		/* --serial-out and --console-socket are paths the user gave. */
		error_blame(&e, rc, error_blame_path(rc));
		fprintf(stderr, "kite: %s\n", e.msg);
		hostio_close(io);
		return blame_status(&e);
	}

	rc = vm_host_open(&host, &cfg, io, &e);
	if (rc) {
		fprintf(stderr, "kite: %s\n", e.msg);
		vm_host_close(&host);
		hostio_close(io);
		return blame_status(&e);
	}

	for (;;) {
		rc = vm_create(&vm, &cfg, &host, &t_start, &e);
		if (rc) {
			fprintf(stderr, "kite: %s\n", e.msg);
			vm_destroy(&vm);
			vm_host_close(&host);
			hostio_flush(io, 1000);
			hostio_close(io);
			return blame_status(&e);
		}
		rc = vm_run(&vm);
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
	vm_host_close(&host);
	/* Output still buffered: the reader gets a moment, unless the user
	 * stopped kite (a stuck reader must not hold up a SIGTERM). */
	hostio_flush(io, vm.user_stop ? 0 : 2000);
	hostio_close(io);
	return code;
}
