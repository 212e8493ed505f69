/* Builds each role's seccomp filter (libseccomp, from seccomp_roles.c),
 * loads it in the calling thread, reports a violation (SIGSYS: one line
 * naming the thread and the call, then exit status 148), and writes a
 * role's BPF for `kite seccomp export`. A role's program is compiled once,
 * by the first thread that needs it (the main thread's after the vCPUs
 * run, off the path to the guest's first instruction); a load is then two
 * system calls. */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* System call numbers the report can name (x86-64 has fewer). */
#define NAMED_NR 512
/* The call the test hook makes: in no role's list. */
#define HOOK_CALL SYS_getpgrp

static struct {
	bool ready;
	enum kite_seccomp mode;
	bool restart;
	bool main_done;
	/* compiling progs[r], one lock per role: a vCPU thread must not
	 * wait for the main thread compiling its own (the largest) filter */
	pthread_mutex_t lock[SECCOMP_ROLE_COUNT];
	struct sock_fprog progs[SECCOMP_ROLE_COUNT];
	char *names[NAMED_NR];
	int hook_role; /* test builds: the role that makes HOOK_CALL, or -1 */
} sc = {.hook_role = -1, .lock = {[0 ... SECCOMP_ROLE_COUNT - 1] = PTHREAD_MUTEX_INITIALIZER}};

static bool sanitizer_allows(int nr)
{
	for (const struct seccomp_rule *r = seccomp_sanitizer_rules; r->nr >= 0; r++)
		if (r->nr == nr)
			return true;
	return false;
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r)
{
	int rc = 0;

	switch (r->check) {
	case SC_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	case SC_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), r->nr, 0);
	case SC_NOBITS:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->vals[0], 0));
	case SC_ALLBITS:
		return seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, r->nr, 1,
		    SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->vals[0], r->vals[0]));
	case SC_EQ:
		for (unsigned i = 0; i < r->nr_vals && !rc; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					      SCMP_CMP(r->arg, SCMP_CMP_EQ, r->vals[i]));
		return rc;
	default:
		return -EINVAL;
	}
}

/* The role's filter, compiled by libseccomp. */
static int build(enum seccomp_role role, enum kite_seccomp mode, scmp_filter_ctx *out)
{
	uint32_t deny = mode == KITE_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	const struct seccomp_rule *const *sets = seccomp_role_sets(role);
	scmp_filter_ctx ctx;
	int rc;

	if (!sets)
		return -EINVAL;
	ctx = seccomp_init(deny);
	if (!ctx)
		return -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
	/* The sanitizer's unconditional rules replace a role's checked ones. */
	for (const struct seccomp_rule *r = seccomp_sanitizer_rules; !rc && r->nr >= 0; r++)
		rc = add_rule(ctx, r);
	for (; !rc && *sets; sets++)
		for (const struct seccomp_rule *r = *sets; !rc && r->nr >= 0; r++)
			if (!sanitizer_allows(r->nr))
				rc = add_rule(ctx, r);
	if (rc) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

int seccomp_export(enum seccomp_role r, enum kite_seccomp mode, int fd)
{
	scmp_filter_ctx ctx;
	int rc = build(r, mode, &ctx);

	if (rc)
		return rc;
	rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return rc;
}

/* The role's program into memory: exported through a memfd (libseccomp
 * 2.5 exports only to a descriptor). */
static int compile(enum seccomp_role r, enum kite_seccomp mode, struct sock_fprog *prog)
{
	int fd = memfd_create("kite-seccomp", MFD_CLOEXEC), rc;
	struct stat st;
	void *buf = NULL;

	if (fd < 0)
		return -errno;
	rc = seccomp_export(r, mode, fd);
	if (!rc && fstat(fd, &st) < 0)
		rc = -errno;
	if (!rc && (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
		    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -E2BIG;
	if (!rc && !(buf = malloc((size_t)st.st_size)))
		rc = -ENOMEM;
	if (!rc && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		rc = -EIO;
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	prog->filter = buf;
	prog->len = (unsigned short)(st.st_size / sizeof(struct sock_filter));
	return 0;
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
		    nr >= 0 && nr < NAMED_NR && sc.names[nr] ? sc.names[nr] : "unknown");
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
	int rc;

	sc.mode = mode;
	sc.restart = restart;
	if (mode == KITE_SECCOMP_OFF)
		return 0;
	/* Fails here, not in a thread, when libseccomp cannot build filters. */
	rc = compile(SECCOMP_ROLE_VCPU, mode, &sc.progs[SECCOMP_ROLE_VCPU]);
	if (rc)
		return rc;
	/* Resolved now: the handler may not allocate. */
	for (int nr = 0; nr < NAMED_NR; nr++)
		sc.names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
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

int seccomp_enter(enum seccomp_role r)
{
	int rc = 0;

	if (!sc.ready || (unsigned)r >= SECCOMP_ROLE_COUNT)
		return 0;
	pthread_mutex_lock(&sc.lock[r]);
	if (!sc.progs[r].filter)
		rc = compile(r, sc.mode, &sc.progs[r]);
	pthread_mutex_unlock(&sc.lock[r]);
	if (rc)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &sc.progs[r]) < 0)
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
