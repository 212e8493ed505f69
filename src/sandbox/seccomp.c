/* Loads each role's seccomp filter in the calling thread, reports a
 * violation (SIGSYS: one line naming the thread and the call, then exit
 * status 148), and writes a role's BPF for `kite seccomp export`. The
 * programs were compiled at build time (seccomp_gen.c, from the rules of
 * seccomp_roles.c): a load is two system calls, and nothing is compiled or
 * resolved on the way to the guest's first instruction. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdio.h"
#include "sandbox/seccomp_bpf.h"

/* The call the test hook makes: in no role's list. */
#define HOOK_CALL SYS_getpgrp

static struct {
	bool ready;
	enum kite_seccomp mode;
	bool restart;
	bool main_done;
	int hook_role; /* test builds: the role that makes HOOK_CALL, or -1 */
} sc = {.hook_role = -1};

static const struct seccomp_bpf *role_bpf(enum seccomp_role r, enum kite_seccomp mode)
{
	return &seccomp_bpf[r][mode == KITE_SECCOMP_LOG];
}

int seccomp_export(enum seccomp_role r, enum kite_seccomp mode, int fd)
{
	const struct seccomp_bpf *b;

	if ((unsigned)r >= SECCOMP_ROLE_COUNT || mode == KITE_SECCOMP_OFF)
		return -EINVAL;
	b = role_bpf(r, mode);
	return fd_write_all(fd, b->insns, b->len * sizeof(b->insns[0]));
}

/* Async-signal-safe formatting for the report. */
static size_t put_str(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, unsigned long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof(tmp));
	while (n && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

/* A filter said TRAP: name the thread and the call, and end kite. Only
 * write, prctl(PR_GET_NAME) and exit_group, which every role allows. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char line[192], name[17] = {0};
	int nr = si->si_syscall;
	size_t n = 0;

	(void)sig;
	(void)uc;
	if (prctl(PR_GET_NAME, name, 0, 0, 0) < 0)
		name[0] = '?';
	n = put_str(line, n, sizeof(line), "kite: seccomp: thread '");
	n = put_str(line, n, sizeof(line), name);
	n = put_str(line, n, sizeof(line), "' made a forbidden system call ");
	n = put_num(line, n, sizeof(line), (unsigned long)nr);
	n = put_str(line, n, sizeof(line), " (");
	n = put_str(line, n, sizeof(line),
		    nr >= 0 && nr < SECCOMP_NAMED && seccomp_name_at[nr] != SECCOMP_UNNAMED
			? seccomp_names + seccomp_name_at[nr]
			: "unknown");
	n = put_str(line, n, sizeof(line), "); exiting with status ");
	n = put_num(line, n, sizeof(line), EXIT_BAD_SYSCALL);
	n = put_str(line, n, sizeof(line), "\n");
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere else to say it */
	}
	/* The system call itself: a sanitizer's _exit makes calls of its own. */
	syscall(SYS_exit_group, EXIT_BAD_SYSCALL);
}

int seccomp_setup(enum kite_seccomp mode, bool restart)
{
	struct sigaction sa;

	sc.mode = mode;
	sc.restart = restart;
	if (mode == KITE_SECCOMP_OFF)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return -errno;
#ifdef KITE_SECCOMP_TEST_HOOK
	{
		const char *h = getenv("KITE_TEST_SECCOMP_VIOLATE");

		sc.hook_role = h ? seccomp_role_from_name(h) : -1;
	}
#endif
	sc.ready = true;
	return 0;
}

bool seccomp_before_main(void)
{
	return sc.ready && !sc.main_done;
}

int seccomp_enter(enum seccomp_role r)
{
	const struct seccomp_bpf *b;
	struct sock_fprog prog;

	if (!sc.ready || (unsigned)r >= SECCOMP_ROLE_COUNT)
		return 0;
	b = role_bpf(r, sc.mode);
	/* The kernel only reads the program. */
	prog.len = b->len;
	prog.filter = (struct sock_filter *)b->insns;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
		return -errno;
	if (sc.hook_role == (int)r ||
	    (sc.hook_role == SECCOMP_ROLE_MAIN && r == SECCOMP_ROLE_MAIN_RESTART))
		syscall(HOOK_CALL);
	return 0;
}

int seccomp_enter_main(void)
{
	if (sc.main_done)
		return 0;
	sc.main_done = true;
	return seccomp_enter(sc.restart ? SECCOMP_ROLE_MAIN_RESTART : SECCOMP_ROLE_MAIN);
}

bool seccomp_test_disk_pool(void)
{
#ifdef KITE_SECCOMP_TEST_HOOK
	return getenv("KITE_TEST_DISK_POOL") != NULL;
#else
	return false;
#endif
}

int seccomp_cmd(int argc, char **argv)
{
	int role, fd, rc;

	if (argc == 1 && !strcmp(argv[0], "list")) {
		for (int r = 0; r < SECCOMP_ROLE_COUNT; r++)
			printf("%s\n", seccomp_role_name(r));
		return 0;
	}
	if (argc != 3 || strcmp(argv[0], "export")) {
		fprintf(stderr, "usage: kite seccomp export ROLE FILE | kite seccomp list\n");
		return 2;
	}
	role = seccomp_role_from_name(argv[1]);
	if (role < 0) {
		fprintf(stderr, "kite: seccomp export: unknown role '%s' (kite seccomp list)\n",
			argv[1]);
		return 2;
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "kite: seccomp export: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	rc = seccomp_export(role, KITE_SECCOMP_ON, fd);
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (rc) {
		fprintf(stderr, "kite: seccomp export: %s: %s\n", argv[2], strerror(-rc));
		return 1;
	}
	return 0;
}
