/* seccomp filters, one per thread role (seccomp_roles.c holds the rules as
 * data, seccomp_gen.c compiles them at build time, seccomp.c loads,
 * reports and exports them). Each thread
 * loads its own role's filter before it touches guest work; the main
 * thread loads its own last, once the vCPUs run. A thread started later
 * inherits the filter of the thread that starts it and stacks its own on
 * top: the roles are written so that such a thread still ends with its
 * own role's rules (main's rules include those of the threads it may start
 * after the guest runs). */
#ifndef KITE_SANDBOX_SECCOMP_H
#define KITE_SANDBOX_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* --seccomp on|log|off. ON (0) is the default: a zeroed config has it. */
enum kite_seccomp { KITE_SECCOMP_ON, KITE_SECCOMP_LOG, KITE_SECCOMP_OFF };

/* A forbidden system call ends kite with this status (Firecracker's
 * BadSyscall code, so orchestrators read it the same way). */
#define EXIT_BAD_SYSCALL 148

enum seccomp_role {
	SECCOMP_ROLE_MAIN,	   /* the event loop, after the vCPUs started */
	SECCOMP_ROLE_MAIN_RESTART, /* the same, with --on-reboot restart */
	SECCOMP_ROLE_VCPU,
	SECCOMP_ROLE_DISK, /* disk workers (no io_uring) */
	SECCOMP_ROLE_PREFETCH,
	SECCOMP_ROLE_COUNT
};

/* How one rule checks an argument. */
enum seccomp_check {
	SC_ANY,	    /* the call, whatever its arguments */
	SC_EQ,	    /* args[arg] is one of vals[] */
	SC_NOBITS,  /* args[arg] has none of the bits of vals[0] */
	SC_ALLBITS, /* args[arg] has all the bits of vals[0] */
	SC_ENOSYS,  /* answered with ENOSYS, not run (clone3: glibc falls back
		     * to clone, whose flags a filter can see) */
};

struct seccomp_rule {
	int nr;
	uint8_t arg;
	uint8_t check; /* enum seccomp_check */
	uint8_t nr_vals;
	const uint64_t *vals;
};

/* seccomp_roles.c: names and rules. */
const char *seccomp_role_name(enum seccomp_role r);
/* The role for a name, or -1. */
int seccomp_role_from_name(const char *name);
/* The role's rules, NULL-terminated sets (a rule appears once per role).
 * Sanitizer builds add their runtime's calls (seccomp_sanitizer_rules). */
const struct seccomp_rule *const *seccomp_role_sets(enum seccomp_role r);
size_t seccomp_set_len(const struct seccomp_rule *set);
/* What a sanitizer runtime calls (empty in ordinary builds). */
extern const struct seccomp_rule seccomp_sanitizer_rules[];

/* seccomp.c. Once, in main, before any thread: installs the SIGSYS
 * handler and records the mode. `restart`: the main thread must be able to
 * build the next machine (--on-reboot restart). Nothing is loaded yet. The
 * programs themselves were compiled when kite was built (seccomp_bpf.h). */
int seccomp_setup(enum kite_seccomp mode, bool restart) MUST_CHECK;
/* Filters will be loaded (seccomp_setup ran with a mode other than off)
 * and the main thread has none yet: a thread it starts now may still make
 * calls that no role allows before it loads its own. */
bool seccomp_before_main(void);
/* The calling thread: no_new_privs, then its role's filter. A no-op when
 * seccomp_setup was not called (unit tests) or the mode is off. */
int seccomp_enter(enum seccomp_role r) MUST_CHECK;
/* The main thread's filter, once: later calls (a restarted machine, a
 * second resume) do nothing. */
int seccomp_enter_main(void) MUST_CHECK;
/* The role's BPF program for this build and mode (on or log), to fd: the
 * raw struct sock_filter array kite loads, as seccomp_export_bpf wrote it. */
int seccomp_export(enum seccomp_role r, enum kite_seccomp mode, int fd) MUST_CHECK;
/* `kite seccomp export ROLE FILE` (the on-mode program) and `kite seccomp list`:
 * an exit status. */
int seccomp_cmd(int argc, char **argv);
/* Test builds only (-Dseccomp_test_hook, the kite-seccomp-hook binary):
 * the disk uses its thread pool when KITE_TEST_DISK_POOL is set. */
bool seccomp_test_disk_pool(void);

#endif
