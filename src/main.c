/* kite's entry point: parse options, hand them to the process controller
 * (vmm.c), return its exit status. The only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/router.h"
#include "config.h"
#include "error.h"
#include "fc_cli.h"
#include "log.h"
#include "sandbox/jail_proc.h"
#include "sandbox/jailer.h"
#include "sandbox/seccomp.h"
#include "snapshot/inspect.h"
#include "vmm.h"
#include "vmm_jail.h"

int main(int argc, char **argv)
{
	static struct vmm vmm;
	struct timespec t_start;
	struct vm_config cfg;
	enum config_cmd cmd;
	char err[512];
	struct error e = {0};
	struct jail_proc jp = {-1, -1, false};
	const char *base = argv[0] && strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	int code, skip = 0;
	bool fc;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	/* A closed stdin/stdout/stderr would be handed to the next open() (a
	 * disk image, /dev/kvm) and guest output written into it: put
	 * /dev/null there first. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return EXIT_HOST_FAILURE;
	/* A closed stdout must not kill kite mid-run; writes report EPIPE.
	 * Nor a write past --rlimit fsize= (a guest's disk write, a log line,
	 * a snapshot): it fails with EFBIG, reported where it was made. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);

	/* kite snapshot inspect|merge ...: tools, no machine. */
	if (argc > 1 && !strcmp(argv[1], "snapshot"))
		return snapshot_cmd(argc - 2, argv + 2);
	/* kite jailer ... (or the name jailer): Firecracker's jailer. */
	if (argc > 1 && !strcmp(argv[1], "jailer"))
		return jailer_main(argc - 2, argv + 2, API_FIRECRACKER_VERSION);
	if (base && !strcmp(base, "jailer"))
		return jailer_main(argc - 1, argv + 1, API_FIRECRACKER_VERSION);
	/* kite seccomp export ROLE FILE | list: the filters as data. */
	if (argc > 1 && !strcmp(argv[1], "seccomp"))
		return seccomp_cmd(argc - 2, argv + 2);
	fc = fc_cli_wanted(argc, argv, &skip);
	if (fc) {
		int rc = fc_cli_parse(argc, argv, skip, &cfg, &cmd, err, sizeof(err));

		if (rc) {
			fprintf(stderr, "firecracker (kite): %s\n\nFor more information try --help.\n",
				err);
			return rc;
		}
	} else if (config_parse(argc, argv, &cfg, &cmd, err, sizeof(err))) {
		fprintf(stderr, "kite: %s\n", err);
		return EXIT_BAD_INPUT;
	}
	if (cmd == CMD_HELP) {
		fputs(fc ? fc_cli_help_text : config_help_text, stdout);
		return EXIT_OK;
	}
	if (cmd == CMD_VERSION) {
		/* Kata Containers reads the second word of the first line. */
		if (fc)
			printf("Firecracker v%s\n", API_FIRECRACKER_VERSION);
		printf("kite %s\n", KITE_VERSION);
		return EXIT_OK;
	}
	log_set_level((enum log_level)cfg.log_level);
	/* The SIGSYS report, before any thread starts; each thread loads its
	 * own filter (compiled when kite was built). */
	if ((code = seccomp_setup(cfg.seccomp, cfg.on_reboot == REBOOT_RESTART))) {
		fprintf(stderr, "kite: cannot set up seccomp: %s\n", strerror(-code));
		return fc ? FC_EXIT_GENERIC_ERROR : EXIT_HOST_FAILURE;
	}
	/* --new-pid-ns, --daemonize, the jail's cleaner: fork before
	 * anything is opened. */
	if (cfg.jail.dir && (code = vmm_jail_start(&cfg, &jp)) >= 0)
		return code;
	if (vmm_open(&vmm, &cfg, &t_start, &e) || vmm_jail_enter(&vmm, &e) ||
	    (cfg.restore_path && vmm_restore(&vmm, &e)) ||
	    (!cfg.restore_path && vmm_guest_given(&vmm) && vmm_start(&vmm, &e))) {
		fprintf(stderr, "kite: %s\n", e.msg);
		vmm_close(&vmm);
		code = vmm_blame_status(&e);
		/* Firecracker: a configuration it could not use is 152. */
		if (fc)
			code = code == EXIT_BAD_INPUT && cfg.config_file ? FC_EXIT_BAD_CONFIGURATION
									 : FC_EXIT_GENERIC_ERROR;
		return code;
	}
	if (fc)
		fc_cli_log_ignored(argc, argv, skip);
	jail_proc_ready(&jp);
	code = vmm_run(&vmm);
	if (fc)
		code = fc_cli_exit_status(code, vmm.built && vmm.vm.stop_reason == VM_STOP_DEBUG_EXIT);
	vmm_close(&vmm);
	return code;
}
