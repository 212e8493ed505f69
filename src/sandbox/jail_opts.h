/* The jail's options (`kite run --jail DIR --uid N --gid N ...`) and the
 * value parsers `kite jailer` shares: parsing only, nothing is opened. The
 * jail itself is jail.c's; README.md "Sandbox" / "Jail" is the contract. */
#ifndef KITE_SANDBOX_JAIL_OPTS_H
#define KITE_SANDBOX_JAIL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define JAIL_MAX_CGROUPS 16
#define JAIL_CGROUP_KEY_MAX 64
#define JAIL_CGROUP_VALUE_MAX 256

struct jail_cgroup_kv {
	char key[JAIL_CGROUP_KEY_MAX];	   /* a file name: CONTROLLER.NAME */
	char value[JAIL_CGROUP_VALUE_MAX]; /* written as given */
};

struct jail_config {
	const char *dir;   /* --jail: NULL = no jail, and no other jail option */
	uint32_t uid, gid; /* --uid, --gid */
	bool uid_set, gid_set;
	const char *netns; /* --netns PATH (a file under /var/run/netns, /proc/PID/ns/net) */
	struct jail_cgroup_kv cgroups[JAIL_MAX_CGROUPS]; /* --cgroup, in order */
	int nr_cgroups;
	uint64_t nofile, fsize; /* --rlimit; 0 = not set */
	bool new_pid_ns;	/* --new-pid-ns */
	bool daemonize;		/* --daemonize */
	bool any;		/* some jail option was given (they need --jail) */
};

/* The options, in config.c's order; jail_opt() takes their index. */
enum jail_opt_id {
	JAIL_OPT_JAIL,
	JAIL_OPT_UID,
	JAIL_OPT_GID,
	JAIL_OPT_NETNS,
	JAIL_OPT_CGROUP,
	JAIL_OPT_RLIMIT,
	JAIL_OPT_NEW_PID_NS,
	JAIL_OPT_DAEMONIZE,
	JAIL_OPT_COUNT
};
extern const char *const jail_opt_names[JAIL_OPT_COUNT];

/* One option (arg NULL for the flags) into j; -EINVAL with one line in err. */
int jail_opt(struct jail_config *j, enum jail_opt_id id, const char *arg, char *err,
	     size_t errlen) MUST_CHECK;
/* After the last option: --jail needs --uid and --gid, the others --jail. */
int jail_opts_check(const struct jail_config *j, char *err, size_t errlen) MUST_CHECK;

/* Formats one line into err and returns -EINVAL (the parsers' failure). */
int jail_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A uid or gid: decimal, 0 to 4294967294 (-1 means "unchanged" to the
 * kernel); names are not looked up (the jail has no passwd). */
int jail_parse_id(const char *s, uint32_t *out) MUST_CHECK;
/* KEY=VALUE: KEY a cgroup file name, letters, digits, '_' and '.', with a
 * controller prefix ("pids.max"); VALUE without newline. */
int jail_parse_cgroup(const char *s, struct jail_cgroup_kv *out) MUST_CHECK;
/* One NAME=N limit: nofile (no-file too, Firecracker's spelling) or fsize;
 * N decimal, 1 or more. Sets *nofile or *fsize. */
int jail_parse_limit(const char *s, uint64_t *nofile, uint64_t *fsize) MUST_CHECK;

#endif
