/* The process side of --new-pid-ns and --daemonize (kite run --jail and
 * `kite jailer`): forks before anything is opened. The process that runs
 * on is the one that becomes pid 1 of a new PID namespace (its parent
 * waits for it, passes on SIGINT/SIGTERM/SIGHUP/SIGQUIT and ends with its
 * status), and/or a daemon in its own session whose first parent ends 0
 * once jail_proc_ready() says the guest started (or with the daemon's
 * status, its error already on stderr, if it failed before that). */
#ifndef KITE_SANDBOX_JAIL_PROC_H
#define KITE_SANDBOX_JAIL_PROC_H

#include <stdbool.h>

#include "compiler.h"

struct jail_proc {
	int ready_fd; /* the daemon's end of the readiness pipe, or -1 */
	int null_fd;  /* /dev/null for stderr once ready, or -1 */
	bool waited;  /* a parent returning: it waited for kite to end (--new-pid-ns) */
};

/* Returns -1 in the process that goes on (p filled), or the exit status
 * the calling process must end with (a parent, or a failure: message on
 * stderr). */
int jail_proc_start(bool new_pid_ns, bool daemonize, struct jail_proc *p);
/* The daemon is set up: the first parent may end (0); stderr to /dev/null. */
void jail_proc_ready(struct jail_proc *p);

/* The waiting loop of a parent: returns child's exit status as a shell
 * would (128+N for signal N). Signals in set are passed on to it. */
int jail_proc_wait(int child);

#endif
