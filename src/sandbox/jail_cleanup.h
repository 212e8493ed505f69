/* What kite run --jail makes on the host before its jail closes and cannot
 * remove once jailed (no path to it, no permission): the --api-sock and
 * --console-socket files it bound and the cgroup directories it created
 * (kite/<id>). kite writes a record of each through a pipe, then a seal,
 * once it is jailed but before any guest runs or any API request is read:
 * what comes after the seal is ignored, so a compromised VMM cannot name
 * other paths, and the forked reader takes the records out of the pipe as
 * they come (kite cannot read them back and write others). The reader, outside the jail and still root, removes them once
 * kite has ended: a process kite forks at start-up (removing them right
 * after kite ends), or, under --new-pid-ns, the waiting process, before it
 * ends with kite's status. A socket is removed only if it is still the
 * one kite bound (device and inode), a directory only if empty. */
#ifndef KITE_SANDBOX_JAIL_CLEANUP_H
#define KITE_SANDBOX_JAIL_CLEANUP_H

#include <sys/types.h>

#include "compiler.h"

struct jail_cleanup {
	int wfd;   /* kite's end (close-on-exec, non-blocking), or -1 */
	int rfd;   /* the reader's end while this process has it, or -1 */
	pid_t pid; /* the forked reader, or 0 */
};
/* clang-format off */
#define JAIL_CLEANUP_INIT {-1, -1, 0}
/* clang-format on */

/* The pipe. */
int jail_cleanup_open(struct jail_cleanup *c) MUST_CHECK;
/* Forks the reader, which waits for this process to end; the caller keeps
 * only wfd. */
int jail_cleanup_fork(struct jail_cleanup *c) MUST_CHECK;
/* In a process that has waited for kite to end (--new-pid-ns's parent):
 * reads the records and removes what they name. */
void jail_cleanup_run(struct jail_cleanup *c);
/* Closes this process's ends: it neither records nor reads. */
void jail_cleanup_close(struct jail_cleanup *c);

/* Records (nothing happens without the pipe, or for a path holding a
 * newline): a socket file as it is now, a directory. */
void jail_cleanup_note_socket(struct jail_cleanup *c, const char *path);
void jail_cleanup_note_dir(struct jail_cleanup *c, const char *path);
/* Nothing written from here on counts. */
void jail_cleanup_seal(struct jail_cleanup *c);

#endif
