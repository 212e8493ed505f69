/* cgroups for the jail and the jailer: which hierarchy holds a controller
 * (read from /proc/self/mountinfo: these hosts mix v1 and v2), the
 * per-instance directory <mount>/<parent>/<name>, its values, and joining it. */
#ifndef KITE_SANDBOX_JAIL_CGROUP_H
#define KITE_SANDBOX_JAIL_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "compiler.h"
#include "sandbox/jail_opts.h"

/* version: 1 or 2 as asked (the jailer's --cgroup-version), or 0: a v1
 * hierarchy with the controller if there is one, else the v2 one. */
struct jail_cgroup_req {
	int version;
	const char *parent; /* relative to the hierarchy's root, no ".." */
	const char *name;   /* the instance's directory */
	const struct jail_cgroup_kv *kv;
	int nr;
	pid_t pid; /* joins this process; 0 = the caller (right in a PID namespace too) */
	/* Called with each instance directory this call created, or NULL. */
	void (*made)(void *ctx, const char *dir);
	void *ctx;
};

/* From mountinfo text: the mount point (unescaped) of the hierarchy for
 * controller ("pids"; "cgroup" is v2's core files), of the given version
 * (0 as above). *version_out says which it was. -ENOENT if none, -EINVAL for
 * a malformed line that would have matched, -ENAMETOOLONG if out is short. */
int jail_cgroup_find(const char *mountinfo, const char *controller, int version, char *out,
		     size_t outlen, int *version_out) MUST_CHECK;

/* Creates each value's directory, writes the values, and moves r->pid in.
 * One line in err on failure. */
int jail_cgroup_apply(const struct jail_cgroup_req *r, char *err, size_t errlen) MUST_CHECK;

#endif
