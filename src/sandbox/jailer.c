/* Firecracker's jailer command line (jailer.h). The order of the steps is
 * the one Firecracker's docs/jailer.md gives; the steps themselves are the
 * jail's (jail.c). */
#include "sandbox/jailer.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fdio.h"
#include "sandbox/jail.h"
#include "sandbox/jail_cgroup.h"
#include "sandbox/jail_landlock.h"
#include "sandbox/jail_proc.h"

const char jailer_help_text[] =
    "usage: jailer --id ID --exec-file FILE --uid N --gid N [options] [-- ARGS...]\n"
    "       (also: kite jailer ...; Firecracker's jailer command line, README.md)\n"
    "\n"
    "  --id ID                  1 to 64 letters, digits and '-'\n"
    "  --exec-file FILE         the VMM to copy into the jail and exec\n"
    "  --uid N, --gid N         the ids it runs as\n"
    "  --chroot-base-dir DIR    [default: " JAILER_DEFAULT_BASE "]; the jail is\n"
    "                           DIR/<exec file name>/ID/root\n"
    "  --netns PATH             join this network namespace\n"
    "  --cgroup-version 1|2     [default: 1]\n"
    "  --cgroup FILE=VALUE      written in the instance's cgroup (repeatable)\n"
    "  --parent-cgroup PATH     [default: the exec file's name]\n"
    "  --resource-limit fsize=N|no-file=N  (repeatable) [default: no-file=2048]\n"
    "  --daemonize              setsid, standard I/O to /dev/null\n"
    "  --new-pid-ns             exec in a new PID namespace (pid in\n"
    "                           <root>/<exec file name>.pid)\n"
    "  -- ARGS...               passed to the VMM after --id ID\n";

#define fail jail_errf

const char *jailer_exec_name(const char *exec_file)
{
	const char *s = strrchr(exec_file, '/');

	return s ? s + 1 : exec_file;
}

static const char *const names[] = {
    "id",
    "exec-file",
    "uid",
    "gid",
    "chroot-base-dir",
    "netns",
    "cgroup-version",
    "cgroup",
    "parent-cgroup",
    "resource-limit",
    "node",
    "seccomp-level",
    "daemonize",
    "new-pid-ns",
    "help",
    "version",
    NULL,
};
enum {
	A_ID,
	A_EXEC,
	A_UID,
	A_GID,
	A_BASE,
	A_NETNS,
	A_CGV,
	A_CGROUP,
	A_PARENT,
	A_RLIMIT,
	A_NODE,		 /* older jailers' NUMA node (Kata passes 0): accepted, ignored */
	A_SECCOMP_LEVEL, /* older jailers' (passed to Firecracker): accepted, ignored */
	A_DAEMONIZE,
	A_NEW_PID_NS,
	A_HELP,
	A_VERSION,
	A_FLAGS = A_DAEMONIZE
};

static int apply(struct jailer_args *a, int o, const char *v, char *err, size_t errlen)
{
	switch (o) {
	case A_ID:
		if (!*v || strlen(v) > JAILER_ID_MAX ||
		    v[strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")])
			return fail(err, errlen, "--id %.80s: 1 to %d letters, digits and '-'", v,
				    JAILER_ID_MAX);
		a->id = v;
		return 0;
	case A_EXEC:
		if (!*v || !*jailer_exec_name(v))
			return fail(err, errlen, "--exec-file '%s': expected a file path", v);
		a->exec_file = v;
		return 0;
	case A_UID:
	case A_GID:
		if (jail_parse_id(v, o == A_UID ? &a->uid : &a->gid))
			return fail(err, errlen, "--%s %s: expected a number from 0 to 4294967294",
				    names[o], v);
		*(o == A_UID ? &a->uid_set : &a->gid_set) = true;
		return 0;
	case A_BASE:
		if (v[0] != '/')
			return fail(err, errlen, "--chroot-base-dir %s: expected an absolute path",
				    v);
		a->base = v;
		return 0;
	case A_NETNS:
		if (!*v)
			return fail(err, errlen, "--netns: expected a path");
		a->netns = v;
		return 0;
	case A_CGV:
		if (strcmp(v, "1") && strcmp(v, "2"))
			return fail(err, errlen, "--cgroup-version %s: expected 1 or 2", v);
		a->cgroup_version = v[0] - '0';
		return 0;
	case A_CGROUP:
		if (a->nr_cgroups == JAIL_MAX_CGROUPS)
			return fail(err, errlen, "--cgroup: at most %d", JAIL_MAX_CGROUPS);
		if (jail_parse_cgroup(v, &a->cgroups[a->nr_cgroups]))
			return fail(err, errlen,
				    "--cgroup %.300s: expected <cgroup_file>=<value> "
				    "(example: cpuset.cpus=0)",
				    v);
		a->nr_cgroups++;
		return 0;
	case A_PARENT:
		if (!*v || v[0] == '/' || strstr(v, ".."))
			return fail(err, errlen,
				    "--parent-cgroup %s: expected a relative path "
				    "without '..'",
				    v);
		a->parent_cgroup = v;
		return 0;
	case A_RLIMIT:
		if (jail_parse_limit(v, &a->nofile, &a->fsize))
			return fail(err, errlen,
				    "--resource-limit %s: expected fsize=N or no-file=N", v);
		return 0;
	case A_NODE:
	case A_SECCOMP_LEVEL:
		if (!*v || strspn(v, "0123456789") != strlen(v))
			return fail(err, errlen, "--%s %s: expected a number", names[o], v);
		return 0;
	}
	return fail(err, errlen, "unknown option");
}

int jailer_parse(int argc, char **argv, struct jailer_args *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->base = JAILER_DEFAULT_BASE;
	a->cgroup_version = 1;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq, *val = NULL;
		size_t len;
		int o = -1, rc;

		if (!strcmp(arg, "--")) {
			a->extra = argv + i + 1;
			a->nr_extra = argc - i - 1;
			break;
		}
		if (strncmp(arg, "--", 2))
			return fail(err, errlen,
				    "unexpected argument '%s' (the VMM's arguments go "
				    "after --)",
				    arg);
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		for (int k = 0; names[k]; k++)
			if (strlen(names[k]) == len && !strncmp(arg + 2, names[k], len))
				o = k;
		if (o < 0)
			return fail(err, errlen, "unknown option %.*s (try --help)", (int)len + 2,
				    arg);
		if (o == A_HELP || o == A_VERSION) {
			*(o == A_HELP ? &a->help : &a->version) = true;
			return 0;
		}
		if (o >= A_FLAGS) {
			if (eq)
				return fail(err, errlen, "--%s takes no value", names[o]);
			*(o == A_DAEMONIZE ? &a->daemonize : &a->new_pid_ns) = true;
			continue;
		}
		if (eq)
			val = eq + 1;
		else if (i + 1 < argc && strcmp(argv[i + 1], "--"))
			val = argv[++i];
		else
			return fail(err, errlen, "--%s needs a value", names[o]);
		rc = apply(a, o, val, err, errlen);
		if (rc)
			return rc;
	}
	if (!a->id || !a->exec_file || !a->uid_set || !a->gid_set)
		return fail(err, errlen,
			    "--id, --exec-file, --uid and --gid are required "
			    "(try --help)");
	return 0;
}

/* exec_file copied to name in rootfd, mode 0755 (a copy, as Firecracker's
 * jailer: the jail holds no link into the host's tree). What was at name
 * goes first, and the copy is a new file: an earlier jailed VMM owned the
 * root and may have left a link, a hard link to a host file or a FIFO
 * there. */
static int copy_exec(const char *src, int rootfd, const char *name)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
	char buf[65536];
	struct stat st;

	if (in < 0)
		return -errno;
	if (fstat(in, &st)) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if (unlinkat(rootfd, name, 0) && errno != ENOENT) {
		rc = -errno;
		goto out;
	}
	out = openat(rootfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0755);
	if (out < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		/* A short write (a full disk, a signal) goes on, or says why. */
		rc = fd_write_all(out, buf, (size_t)n);
		if (rc)
			goto out;
	}
	if (fchmod(out, 0755) || fsync(out))
		rc = -errno;
out:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

static int mkdirs(char *path, mode_t mode)
{
	for (char *p = path + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = 0;
			if (mkdir(path, mode) && errno != EEXIST)
				return -errno;
			*p = c;
			if (!c)
				return 0;
		}
	}
}

/* A directory name in dirfd owned by uid:gid, made if missing; one that is
 * there must be a directory (not a link). */
static int own_dir(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;

	if (mkdirat(dirfd, name, 0755) && errno != EEXIST)
		return -errno;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

/* /dev/kvm and /dev/net/tun under rootfd. */
static int make_nodes(const struct jailer_args *a, int rootfd)
{
	int dev = -1, net = -1, rc;

	rc = own_dir(rootfd, "dev", 0, 0);
	if (!rc)
		rc = jail_open_dir_at(rootfd, "dev", &dev);
	if (!rc)
		rc = jail_mknod_like("/dev/kvm", dev, "kvm", a->uid, a->gid);
	if (!rc)
		rc = own_dir(dev, "net", 0, 0);
	if (!rc)
		rc = jail_open_dir_at(dev, "net", &net);
	if (!rc)
		rc = jail_mknod_like("/dev/net/tun", net, "tun", a->uid, a->gid);
	if (net >= 0)
		close(net);
	if (dev >= 0)
		close(dev);
	return rc;
}

/* The jail's tree on the host side: root, the exec file's copy, /dev's
 * nodes, root owned by uid:gid so that the VMM can make its socket there.
 * Everything inside root is reached from one descriptor without following
 * a link: a root left by an earlier run belonged to its jailed VMM. */
static int build_root(const struct jailer_args *a, const char *root, char *err, size_t errlen)
{
	const char *name = jailer_exec_name(a->exec_file);
	char p[4096];
	int rc, rootfd = -1;

	snprintf(p, sizeof(p), "%s", root);
	rc = mkdirs(p, 0755);
	if (!rc)
		rc = jail_open_dir_at(AT_FDCWD, root, &rootfd);
	if (rc)
		return fail(err, errlen, "creating %s: %s", root, strerror(-rc)), rc;
	rc = copy_exec(a->exec_file, rootfd, name);
	if (rc) {
		fail(err, errlen, "copying --exec-file %s to %s/%s: %s", a->exec_file, root, name,
		     rc == -EINVAL ? "not a regular file" : strerror(-rc));
		goto out;
	}
	/* Firecracker's default API socket is /run/firecracker.socket. */
	rc = own_dir(rootfd, "run", a->uid, a->gid);
	if (rc) {
		fail(err, errlen, "creating %s/run: %s", root, strerror(-rc));
		goto out;
	}
	rc = make_nodes(a, rootfd);
	if (rc) {
		fail(err, errlen, "creating %s/dev/kvm and dev/net/tun: %s", root, strerror(-rc));
		goto out;
	}
	if (fchown(rootfd, a->uid, a->gid)) {
		rc = -errno;
		fail(err, errlen, "chown %s: %s", root, strerror(errno));
	}
out:
	close(rootfd);
	return rc;
}

static long long us_of(clockid_t clk, const struct timespec *since)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return (long long)(t.tv_sec - since->tv_sec) * 1000000 +
	       (t.tv_nsec - since->tv_nsec) / 1000;
}

/* Under --new-pid-ns, the child's end of a close-on-exec pipe: a byte
 * written there says the child failed before its exec. */
static int child_report_fd = -1;

/* <root>/<name>.pid (the parent is in the jail's root already), made anew
 * and not through a link: the jailed VMM of an earlier run with this --id
 * owned the root. */
static int write_pid_file(const char *name, pid_t pid, char *err, size_t errlen)
{
	char path[300], text[24];
	int fd, n = snprintf(text, sizeof(text), "%d", (int)pid), rc = 0;

	snprintf(path, sizeof(path), "/%s.pid", name);
	if (unlink(path) && errno != ENOENT)
		rc = -errno;
	fd = rc ? -1 : open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (!rc && fd < 0)
		rc = -errno;
	if (fd >= 0)
		rc = fd_write_all(fd, text, (size_t)n);
	if (fd >= 0 && close(fd) && !rc)
		rc = -errno;
	if (rc)
		fail(err, errlen, "--new-pid-ns: writing %s: %s", path, strerror(-rc));
	return rc;
}

/* Under --new-pid-ns the parent writes the child's pid, as Firecracker's
 * jailer does, then stays until the child has exec'd the VMM or failed
 * before that: 1 in the parent, with *status what it ends with (0, or the
 * child's status, its line already on stderr); 0 in the child. Firecracker's
 * parent ends at once, so that a failure before the exec is lost. */
static int pid_ns_fork(const char *name, int *status, char *err, size_t errlen)
{
	int p[2], rc;
	pid_t pid = 0;
	ssize_t n;
	char c;

	if (pipe2(p, O_CLOEXEC))
		return fail(err, errlen, "--new-pid-ns: pipe: %s", strerror(errno)), -errno;
	if (unshare(CLONE_NEWPID)) {
		rc = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto fail;
	}
	if (pid == 0) {
		close(p[0]);
		child_report_fd = p[1];
		return 0;
	}
	close(p[1]);
	rc = write_pid_file(name, pid, err, errlen);
	do
		n = read(p[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(p[0]);
	if (n == 1) /* the child's own line says why */
		*status = jail_proc_wait(pid);
	else
		*status = rc ? 1 : 0;
	if (rc && n != 1)
		fprintf(stderr, "jailer (kite): %s\n", err);
	return 1;
fail:
	fail(err, errlen, "--new-pid-ns: %s: %s", pid < 0 ? "fork" : "unshare", strerror(-rc));
	close(p[0]);
	close(p[1]);
	return rc;
}

static int run(const struct jailer_args *a, const struct timespec *t0, const struct timespec *c0,
	       int *status, char *err, size_t errlen)
{
	const char *name = jailer_exec_name(a->exec_file);
	struct jail_cgroup_req cg = {a->cgroup_version,
				     a->parent_cgroup ? a->parent_cgroup : name,
				     a->id,
				     a->cgroups,
				     a->nr_cgroups,
				     0};
	char root[4096], start_us[24], start_cpu_us[24], *argv[16 + 256];
	int rc, null_fd = -1, n = 0;

	if (a->nr_extra > 256)
		return fail(err, errlen, "more than 256 arguments after --");
	if ((size_t)snprintf(root, sizeof(root), "%s/%s/%s/root", a->base, name, a->id) >=
	    sizeof(root))
		return fail(err, errlen, "--chroot-base-dir: the jail's path is too long");
	rc = build_root(a, root, err, errlen);
	if (!rc)
		rc = jail_rlimits(a->nofile ? a->nofile : JAILER_DEFAULT_NOFILE,
				  a->fsize, 0, err, errlen);
	if (!rc)
		rc = jail_cgroup_apply(&cg, err, errlen);
	if (!rc && a->netns)
		rc = jail_netns_join(a->netns, err, errlen);
	if (rc)
		return rc;
	if (a->daemonize && (null_fd = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		return fail(err, errlen, "--daemonize: /dev/null: %s", strerror(errno)), -errno;
	rc = jail_pivot(root, 0, a->uid, a->gid, err, errlen);
	if (rc)
		return rc;
	if (a->daemonize) {
		if (setsid() < 0)
			return fail(err, errlen,
				    "--daemonize: setsid: %s (a process group leader "
				    "cannot start a session)",
				    strerror(errno)),
			       -errno;
		if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
			return fail(err, errlen, "--daemonize: %s", strerror(errno)), -errno;
		close(null_fd);
	}
	if (a->new_pid_ns && (rc = pid_ns_fork(name, status, err, errlen)) != 0)
		return rc; /* 1: the parent, done */
	rc = jail_drop_privileges(a->uid, a->gid, err, errlen);
	if (!rc && (rc = jail_landlock_apply(true, err, errlen)) > 0)
		rc = 0;
	if (rc)
		return rc;
	snprintf(start_us, sizeof(start_us), "%lld", us_of(CLOCK_MONOTONIC, t0));
	snprintf(start_cpu_us, sizeof(start_cpu_us), "%lld", us_of(CLOCK_PROCESS_CPUTIME_ID, c0));
	argv[n++] = (char *)name;
	argv[n++] = "--id";
	argv[n++] = (char *)a->id;
	argv[n++] = "--start-time-us";
	argv[n++] = start_us;
	argv[n++] = "--start-time-cpu-us";
	argv[n++] = start_cpu_us;
	for (int i = 0; i < a->nr_extra; i++)
		argv[n++] = a->extra[i];
	argv[n] = NULL;
	snprintf(root, sizeof(root), "/%s", name);
	execve(root, argv, (char *[]){NULL});
	rc = -errno;
	/* The file is there: what is missing is its ELF interpreter. */
	return fail(err, errlen, "exec %s in the jail: %s%s", root, strerror(-rc),
		    rc == -ENOENT && !access(root, F_OK)
			? " (its loader and libraries are not in the jail: the exec file "
			  "must be linked statically, as Firecracker's is)"
			: ""),
	       rc;
}

int jailer_main(int argc, char **argv, const char *fc_version)
{
	struct timespec t0, c0;
	struct jailer_args a;
	char err[600] = "";
	int rc, status = 1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	if (jailer_parse(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, "jailer (kite): %s\n", err);
		return 1;
	}
	if (a.help) {
		fputs(jailer_help_text, stdout);
		return 0;
	}
	if (a.version) {
		printf("Jailer v%s\nkite %s\n", fc_version, KITE_VERSION);
		return 0;
	}
	/* As Firecracker's jailer: nothing inherited beyond stdio, no
	 * environment, before anything else is opened. */
	syscall(SYS_close_range, 3, ~0u, 0);
	jail_clear_env();
	rc = run(&a, &t0, &c0, &status, err, sizeof(err));
	if (rc == 1)
		return status; /* the parent under --new-pid-ns */
	fprintf(stderr, "jailer (kite): %s\n", err);
	if (child_report_fd >= 0)
		(void)!write(child_report_fd, "F", 1);
	return 1;
}
