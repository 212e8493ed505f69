/* The jail's steps (README "Sandbox" / "Jail"): the network namespace,
 * rlimits, the cgroup, inherited descriptors, a new mount namespace pivoted
 * into the jail directory, the drop to uid/gid without groups or
 * capabilities, no_new_privs, Landlock and a clear environment. kite run
 * --jail (jail_vmm.c) and `kite jailer` (jailer.c) both use them. */
#ifndef KITE_SANDBOX_JAIL_H
#define KITE_SANDBOX_JAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "compiler.h"
#include "sandbox/jail_opts.h"

/* setns(CLONE_NEWNET) into the namespace at path. */
int jail_netns_join(const char *path, char *err, size_t errlen) MUST_CHECK;
/* The highest open descriptor (from /proc/self/fd), or -errno. */
int jail_highest_fd(void);
/* RLIMIT_NOFILE (nofile) and RLIMIT_FSIZE (fsize), 0 = left alone. nofile
 * must exceed the highest open descriptor plus fds_more (what the process
 * will still open): otherwise -EINVAL and a line saying the least value. */
int jail_rlimits(uint64_t nofile, uint64_t fsize, unsigned fds_more, char *err,
		 size_t errlen) MUST_CHECK;
/* Closes every descriptor above 2 without FD_CLOEXEC: kite opens all of
 * its own close-on-exec, so these were inherited. Returns how many. */
int jail_close_inherited(void);
/* A device node like the host's src (char device) at name in dirfd, owned
 * by uid:gid, 0600; whatever was at name is removed first and no link is
 * followed (the jail's tree may hold what an earlier jailed VMM put there). */
int jail_mknod_like(const char *src, int dirfd, const char *name, uid_t uid, gid_t gid) MUST_CHECK;
/* *fd: the directory name in dirfd, opened without following a link. */
int jail_open_dir_at(int dirfd, const char *name, int *fd) MUST_CHECK;

#define JAIL_PIVOT_DEV_TMPFS 1u /* a fresh /dev: tmpfs with kvm and net/tun */
/* unshare(CLONE_NEWNS), every mount private, dir bound on itself and made
 * the root (pivot_root; the old root detached), cwd "/". */
int jail_pivot(const char *dir, unsigned flags, uid_t uid, gid_t gid, char *err,
	       size_t errlen) MUST_CHECK;
/* No supplementary groups, gid then uid (all three ids), no capabilities
 * in any set, the bounding set emptied, PR_SET_KEEPCAPS off; then
 * no_new_privs. Checks that root cannot be regained. */
int jail_drop_privileges(uid_t uid, gid_t gid, char *err, size_t errlen) MUST_CHECK;
/* clearenv(), and the strings zeroed where /proc/PID/environ shows them. */
void jail_clear_env(void);

/* What jail_enter needs besides the options. */
struct jail_enter_opts {
	const char *cgroup_name; /* the instance's cgroup directory (under "kite") */
	unsigned fds_more;	 /* descriptors the machine will still open */
	/* Told each cgroup directory created (jail_cgroup_req's made), or NULL. */
	void (*made_dir)(void *ctx, const char *dir);
	void *ctx;
};
/* Everything after the network namespace and the host resources, in order:
 * inherited descriptors, rlimits, cgroup, pivot (with a tmpfs /dev), the
 * drop, no_new_privs, Landlock (*landlock_abi: 0 skipped), environment. */
int jail_enter(const struct jail_config *j, const struct jail_enter_opts *o, int *landlock_abi,
	       char *err, size_t errlen) MUST_CHECK;

#endif
