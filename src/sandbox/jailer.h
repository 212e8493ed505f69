/* `kite jailer ...` and kite run under the name `jailer`: Firecracker's
 * jailer command line. Builds <base>/<exec name>/<id>/root with a copy of
 * the exec file and the device nodes /dev/kvm and /dev/net/tun, applies
 * rlimits, cgroups and the network namespace, pivots into the root, drops
 * to uid/gid and execs the copy with --id and the arguments after "--".
 * README.md "Sandbox" / "kite jailer" is the contract. */
#ifndef KITE_SANDBOX_JAILER_H
#define KITE_SANDBOX_JAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sandbox/jail_opts.h"

#define JAILER_DEFAULT_BASE "/srv/jailer"
#define JAILER_ID_MAX 64
#define JAILER_DEFAULT_NOFILE 2048 /* Firecracker's jailer, when no limit is given */

struct jailer_args {
	const char *id, *exec_file, *base, *netns, *parent_cgroup;
	uint32_t uid, gid;
	bool uid_set, gid_set;
	int cgroup_version; /* 1 (default) or 2 */
	struct jail_cgroup_kv cgroups[JAIL_MAX_CGROUPS];
	int nr_cgroups;
	uint64_t nofile, fsize; /* 0 = not given */
	bool daemonize, new_pid_ns, help, version;
	char **extra; /* after "--" */
	int nr_extra;
};

/* argv[0] is the first argument after the command. 0, or -EINVAL with one
 * line in err. Nothing is opened. */
int jailer_parse(int argc, char **argv, struct jailer_args *a, char *err, size_t errlen) MUST_CHECK;
/* The basename of the exec file ("" for a path ending in '/'). */
const char *jailer_exec_name(const char *exec_file);
/* The whole jailer: returns an exit status (it execs on success; a parent
 * under --new-pid-ns returns 0 after writing <exec name>.pid). fc_version:
 * the Firecracker version --version reports (main knows the API's). */
int jailer_main(int argc, char **argv, const char *fc_version);

extern const char jailer_help_text[];

#endif
