/* The jail's steps (jail.h). Each fails with one line naming what it was
 * doing; none is undone on failure: the caller exits before any guest runs. */
#include "sandbox/jail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sandbox/jail_cgroup.h"
#include "sandbox/jail_landlock.h"

int jail_netns_join(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "--netns %s: %s", path, strerror(e));
		return -e;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		e = errno;
		snprintf(err, errlen, "--netns %s: setns: %s%s", path, strerror(e),
			 e == EINVAL ? " (not a network namespace)" : "");
		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

/* Calls fn for each open descriptor (the directory's own excluded). */
static int each_fd(void (*fn)(int fd, void *ctx), void *ctx)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int self;

	if (!d)
		return -errno;
	self = dirfd(d);
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);

		if (*end || end == de->d_name || fd == self)
			continue;
		fn((int)fd, ctx);
	}
	closedir(d);
	return 0;
}

static void max_fd(int fd, void *ctx)
{
	int *m = ctx;

	if (fd > *m)
		*m = fd;
}

int jail_highest_fd(void)
{
	int m = -1, rc = each_fd(max_fd, &m);

	return rc ? rc : m;
}

int jail_rlimits(uint64_t nofile, uint64_t fsize, unsigned fds_more, char *err, size_t errlen)
{
	struct rlimit rl;
	int hi, e;

	if (nofile) {
		uint64_t least;

		hi = jail_highest_fd();
		if (hi < 0) {
			snprintf(err, errlen, "--rlimit nofile: cannot list /proc/self/fd: %s",
				 strerror(-hi));
			return hi;
		}
		least = (uint64_t)hi + 1 + fds_more;
		if (nofile < least) {
			snprintf(err, errlen,
				 "--rlimit nofile=%llu is too small: kite already holds "
				 "descriptors up to %d and the machine needs about %u more "
				 "(at least nofile=%llu)",
				 (unsigned long long)nofile, hi, fds_more,
				 (unsigned long long)least);
			return -EINVAL;
		}
		rl.rlim_cur = rl.rlim_max = nofile;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			e = errno;
			snprintf(err, errlen, "--rlimit nofile=%llu: %s%s",
				 (unsigned long long)nofile, strerror(e),
				 e == EPERM ? " (above fs.nr_open?)" : "");
			return -e;
		}
	}
	if (fsize) {
		rl.rlim_cur = rl.rlim_max = fsize;
		if (setrlimit(RLIMIT_FSIZE, &rl)) {
			e = errno;
			snprintf(err, errlen, "--rlimit fsize=%llu: %s", (unsigned long long)fsize,
				 strerror(e));
			return -e;
		}
	}
	return 0;
}

static void close_inherited(int fd, void *ctx)
{
	int *n = ctx, fl;

	if (fd <= 2)
		return;
	fl = fcntl(fd, F_GETFD);
	if (fl >= 0 && !(fl & FD_CLOEXEC) && !syscall(SYS_close_range, fd, fd, 0))
		(*n)++;
}

int jail_close_inherited(void)
{
	int n = 0, rc = each_fd(close_inherited, &n);

	return rc ? rc : n;
}

int jail_mknod_like(const char *src, int dirfd, const char *name, uid_t uid, gid_t gid)
{
	struct stat st;

	if (stat(src, &st))
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENODEV;
	/* Whatever is there (a node of an earlier run, or a link the jailed
	 * VMM put there) goes: the new node is made, never followed. */
	if (unlinkat(dirfd, name, 0) && errno != ENOENT)
		return -errno;
	if (mknodat(dirfd, name, S_IFCHR | 0600, st.st_rdev))
		return -errno;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW))
		return -errno;
	return 0;
}

int jail_open_dir_at(int dirfd, const char *name, int *fd)
{
	*fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	return *fd < 0 ? -errno : 0;
}

/* A fresh /dev in the jail: tmpfs holding kvm and net/tun, nothing else. */
static int make_dev(const char *dir, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	char dev[4096];
	int rc = 0, dfd = -1, nfd = -1;

	snprintf(dev, sizeof(dev), "%s/dev", dir);
	if ((mkdir(dev, 0755) && errno != EEXIST) ||
	    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")) {
		rc = -errno;
		snprintf(err, errlen, "--jail %s: a /dev for the jail: %s", dir, strerror(-rc));
		return rc;
	}
	rc = jail_open_dir_at(AT_FDCWD, dev, &dfd);
	if (!rc && !access("/dev/kvm", F_OK))
		rc = jail_mknod_like("/dev/kvm", dfd, "kvm", uid, gid);
	if (!rc && mkdirat(dfd, "net", 0755))
		rc = -errno;
	if (!rc)
		rc = jail_open_dir_at(dfd, "net", &nfd);
	if (!rc && !access("/dev/net/tun", F_OK))
		rc = jail_mknod_like("/dev/net/tun", nfd, "tun", uid, gid);
	if (nfd >= 0)
		close(nfd);
	if (dfd >= 0)
		close(dfd);
	if (rc)
		snprintf(err, errlen, "--jail %s: device nodes in its /dev: %s", dir,
			 strerror(-rc));
	return rc;
}

int jail_pivot(const char *dir, unsigned flags, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	const char *step;
	unsigned long ro = flags & JAIL_PIVOT_DEV_TMPFS ? MS_NODEV : 0;
	struct stat st;
	int rc;

	if (stat(dir, &st)) {
		int e = errno;

		snprintf(err, errlen, "--jail %s: %s", dir, strerror(e));
		return -e;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "--jail %s: not a directory", dir);
		return -ENOTDIR;
	}
	/* Mounts made from here on are this process's alone. */
	step = "unshare(CLONE_NEWNS)";
	if (unshare(CLONE_NEWNS))
		goto fail;
	step = "making every mount private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		goto fail;
	/* pivot_root needs a mount point; a plain bind leaves the host's
	 * mounts below dir out of the jail. */
	step = "binding the directory on itself";
	if (mount(dir, dir, NULL, MS_BIND, NULL) ||
	    mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | ro, NULL))
		goto fail;
	if ((flags & JAIL_PIVOT_DEV_TMPFS) && make_dev(dir, uid, gid, err, errlen))
		return -EIO;
	step = "pivot_root";
	/* The old root ends up stacked on the new one; detaching it leaves
	 * the jail as the only tree (no old_root directory needed). */
	if (chdir(dir) || syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) ||
	    chdir("/"))
		goto fail;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "--jail %s: %s: %s", dir, step, strerror(-rc));
	return rc;
}

int jail_drop_privileges(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	const char *step;
	uid_t r, e, s;

	memset(data, 0, sizeof(data));
	step = "PR_SET_KEEPCAPS";
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0))
		goto fail;
	step = "emptying the capability bounding set";
	for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			goto fail;
	/* Kernels before 4.3 have no ambient set: nothing to clear there. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL) {
		step = "clearing the ambient capabilities";
		goto fail;
	}
	step = "setgroups(0)";
	if (setgroups(0, NULL))
		goto fail;
	step = "setresgid";
	if (setresgid(gid, gid, gid))
		goto fail;
	step = "setresuid";
	if (setresuid(uid, uid, uid))
		goto fail;
	step = "capset (all sets empty)";
	if (syscall(SYS_capset, &hdr, data))
		goto fail;
	step = "PR_SET_NO_NEW_PRIVS";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		goto fail;
	if (getresuid(&r, &e, &s) || r != uid || e != uid || s != uid ||
	    (uid != 0 && setuid(0) == 0)) {
		snprintf(err, errlen, "dropping to uid %u: the old ids are still reachable",
			 (unsigned)uid);
		return -EPERM;
	}
	return 0;
fail:
	r = (uid_t)errno;
	snprintf(err, errlen, "dropping to uid %u gid %u: %s: %s", (unsigned)uid, (unsigned)gid,
		 step, strerror((int)r));
	return -(int)r;
}

void jail_clear_env(void)
{
	extern char **environ;

	/* /proc/PID/environ shows the block the process started with, whatever
	 * clearenv() does to the pointers: blank the strings themselves. */
	for (char **p = environ; p && *p; p++)
		memset(*p, 0, strlen(*p));
	clearenv();
}

int jail_enter(const struct jail_config *j, const struct jail_enter_opts *o, int *landlock_abi,
	       char *err, size_t errlen)
{
	struct jail_cgroup_req cg = {.parent = "kite",
				     .name = o->cgroup_name,
				     .kv = j->cgroups,
				     .nr = j->nr_cgroups,
				     .made = o->made_dir,
				     .ctx = o->ctx};
	int rc;

	/* First, so that nofile is checked against kite's own descriptors. */
	rc = jail_close_inherited();
	if (rc < 0) {
		snprintf(err, errlen, "closing inherited descriptors: %s", strerror(-rc));
		return rc;
	}
	rc = jail_rlimits(j->nofile, j->fsize, o->fds_more, err, errlen);
	if (rc)
		return rc;
	rc = jail_cgroup_apply(&cg, err, errlen);
	if (rc)
		return rc;
	rc = jail_pivot(j->dir, JAIL_PIVOT_DEV_TMPFS, j->uid, j->gid, err, errlen);
	if (rc)
		return rc;
	rc = jail_drop_privileges(j->uid, j->gid, err, errlen);
	if (rc)
		return rc;
	rc = jail_landlock_apply(false, err, errlen);
	if (rc < 0)
		return rc;
	*landlock_abi = rc;
	jail_clear_env();
	return 0;
}
