/* Parsing of the jail's options (jail_opts.h): strings in, struct
 * jail_config out, one line of error text for anything else. */
#include "sandbox/jail_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_num.h"

const char *const jail_opt_names[JAIL_OPT_COUNT] = {
    "jail", "uid", "gid", "netns", "cgroup", "rlimit", "new-pid-ns", "daemonize",
};

int jail_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

#define fail jail_errf

int jail_parse_id(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || config_parse_u64(s, &v) ||
	    v >= UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int jail_parse_cgroup(const char *s, struct jail_cgroup_kv *out)
{
	const char *eq = s ? strchr(s, '=') : NULL;
	size_t klen;

	if (!eq)
		return -EINVAL;
	klen = (size_t)(eq - s);
	/* The key becomes a file name under the cgroup directory: no '/',
	 * no "..", and a controller before a dot. */
	if (klen == 0 || klen >= sizeof(out->key) || s[0] == '.' || eq[-1] == '.' ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") != klen ||
	    !memchr(s, '.', klen) || strstr(s, ".."))
		return -EINVAL;
	if (!eq[1] || strlen(eq + 1) >= sizeof(out->value) || strchr(eq + 1, '\n'))
		return -EINVAL;
	memcpy(out->key, s, klen);
	out->key[klen] = 0;
	strcpy(out->value, eq + 1);
	return 0;
}

int jail_parse_limit(const char *s, uint64_t *nofile, uint64_t *fsize)
{
	const char *eq = s ? strchr(s, '=') : NULL;
	uint64_t v;

	if (!eq || !eq[1] || strspn(eq + 1, "0123456789") != strlen(eq + 1) ||
	    config_parse_u64(eq + 1, &v) || v == 0)
		return -EINVAL;
	if ((eq - s == 6 && !strncmp(s, "nofile", 6)) || (eq - s == 7 && !strncmp(s, "no-file", 7)))
		*nofile = v;
	else if (eq - s == 5 && !strncmp(s, "fsize", 5))
		*fsize = v;
	else
		return -EINVAL;
	return 0;
}

/* --rlimit nofile=N,fsize=N: one or both, comma-separated. */
static int parse_rlimits(struct jail_config *j, const char *arg, char *err, size_t errlen)
{
	char buf[128], *save = NULL, *tok;

	if (!*arg || strlen(arg) >= sizeof(buf))
		return fail(err, errlen, "--rlimit %.64s: expected nofile=N,fsize=N", arg);
	strcpy(buf, arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		if (jail_parse_limit(tok, &j->nofile, &j->fsize))
			return fail(err, errlen,
				    "--rlimit %s: '%s': expected nofile=N or fsize=N "
				    "(N a positive decimal number)",
				    arg, tok);
	if (arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,"))
		return fail(err, errlen, "--rlimit %s: an empty item", arg);
	return 0;
}

int jail_opt(struct jail_config *j, enum jail_opt_id id, const char *arg, char *err, size_t errlen)
{
	j->any = true;
	switch (id) {
	case JAIL_OPT_JAIL:
		if (!*arg || arg[0] != '/')
			return fail(err, errlen, "--jail %s: expected an absolute directory path",
				    arg);
		j->dir = arg;
		return 0;
	case JAIL_OPT_UID:
	case JAIL_OPT_GID:
		if (jail_parse_id(arg, id == JAIL_OPT_UID ? &j->uid : &j->gid))
			return fail(err, errlen, "--%s %s: expected a number from 0 to 4294967294",
				    jail_opt_names[id], arg);
		*(id == JAIL_OPT_UID ? &j->uid_set : &j->gid_set) = true;
		return 0;
	case JAIL_OPT_NETNS:
		if (!*arg)
			return fail(err, errlen, "--netns: expected a path");
		j->netns = arg;
		return 0;
	case JAIL_OPT_CGROUP:
		if (j->nr_cgroups == JAIL_MAX_CGROUPS)
			return fail(err, errlen, "--cgroup: at most %d", JAIL_MAX_CGROUPS);
		if (jail_parse_cgroup(arg, &j->cgroups[j->nr_cgroups]))
			return fail(err, errlen,
				    "--cgroup %.300s: expected CONTROLLER.FILE=VALUE "
				    "(example: pids.max=64)",
				    arg);
		j->nr_cgroups++;
		return 0;
	case JAIL_OPT_RLIMIT:
		return parse_rlimits(j, arg, err, errlen);
	case JAIL_OPT_NEW_PID_NS:
		j->new_pid_ns = true;
		return 0;
	case JAIL_OPT_DAEMONIZE:
		j->daemonize = true;
		return 0;
	default:
		return fail(err, errlen, "unknown jail option");
	}
}

int jail_opts_check(const struct jail_config *j, char *err, size_t errlen)
{
	if (!j->any)
		return 0;
	if (!j->dir)
		return fail(err, errlen,
			    "--uid, --gid, --netns, --cgroup, --rlimit, --new-pid-ns "
			    "and --daemonize need --jail DIR");
	if (!j->uid_set || !j->gid_set)
		return fail(err, errlen, "--jail needs --uid N and --gid N (numbers)");
	return 0;
}
