/* jail: the steps that need no root: the nofile check and its message,
 * fsize, the sweep of inherited descriptors (close-on-exec ones stay),
 * the network namespace's errors, device nodes refused for non-devices,
 * the Landlock ABI query. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox/jail.h"
#include "sandbox/jail_landlock.h"

static char err[512];

static void test_nofile_too_small(void **state)
{
	struct rlimit before, after;
	int hi = jail_highest_fd();

	(void)state;
	assert_true(hi >= 2);
	getrlimit(RLIMIT_NOFILE, &before);
	assert_int_equal(jail_rlimits(3, 0, 26, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--rlimit nofile=3 is too small"));
	assert_non_null(strstr(err, "at least nofile="));
	/* Refused: nothing changed. */
	getrlimit(RLIMIT_NOFILE, &after);
	assert_int_equal(before.rlim_cur, after.rlim_cur);
	/* Exactly the least value passes (lowering needs no privilege). */
	assert_int_equal(jail_rlimits((uint64_t)hi + 1 + 26, 0, 26, err, sizeof(err)), 0);
	getrlimit(RLIMIT_NOFILE, &after);
	assert_int_equal(after.rlim_cur, (rlim_t)hi + 1 + 26);
	assert_int_equal(jail_rlimits((uint64_t)hi + 26, 0, 26, err, sizeof(err)), -EINVAL);
	/* Nothing asked: nothing done. */
	assert_int_equal(jail_rlimits(0, 0, 1000, err, sizeof(err)), 0);
}

static void test_fsize(void **state)
{
	struct rlimit r;

	(void)state;
	assert_int_equal(jail_rlimits(0, 1 << 30, 0, err, sizeof(err)), 0);
	getrlimit(RLIMIT_FSIZE, &r);
	assert_int_equal(r.rlim_cur, 1 << 30);
	assert_int_equal(r.rlim_max, 1 << 30);
}

static void test_close_inherited(void **state)
{
	int inherited = open("/dev/null", O_RDONLY), own = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int n;

	(void)state;
	assert_true(inherited > 2 && own > 2);
	n = jail_close_inherited();
	assert_true(n >= 1);
	assert_int_equal(fcntl(inherited, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_true(fcntl(own, F_GETFD) >= 0);
	assert_int_equal(fcntl(0, F_GETFD) >= 0, 1); /* stdio stays */
	close(own);
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(jail_netns_join("/nonexistent/netns", err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "--netns /nonexistent/netns"));
	/* A regular file is no namespace: EINVAL, said so (as root), or EPERM. */
	assert_true(jail_netns_join("/dev/null", err, sizeof(err)) < 0);
	assert_int_equal(jail_mknod_like("/etc/hostname", AT_FDCWD, "/nonexistent/x", 1, 1),
			 -ENODEV);
	assert_true(jail_mknod_like("/nonexistent", AT_FDCWD, "/nonexistent/x", 1, 1) == -ENOENT);
	assert_true(jail_pivot("/nonexistent/dir", 0, 1, 1, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "--jail /nonexistent/dir"));
}

/* A link where the node goes (left by a jailed VMM in a root it owned) is
 * replaced, never followed: the file it points to keeps its owner and mode. */
static void test_mknod_no_follow(void **state)
{
	char dir[] = "/tmp/kite-jail-XXXXXX", victim[64], link[64];
	struct stat st;
	int dfd, fd, rc;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/kvm", dir);
	fd = open(victim, O_WRONLY | O_CREAT, 0640);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(symlink(victim, link), 0);
	assert_int_equal(jail_open_dir_at(AT_FDCWD, dir, &dfd), 0);
	rc = jail_mknod_like("/dev/null", dfd, "kvm", 4242, 4242);
	if (rc != -EPERM) { /* mknod needs CAP_MKNOD */
		assert_int_equal(rc, 0);
		assert_int_equal(lstat(link, &st), 0);
		assert_true(S_ISCHR(st.st_mode));
		assert_int_equal(st.st_uid, 4242);
		assert_int_equal(unlink(link), 0);
	} else {
		unlink(link);
	}
	assert_int_equal(stat(victim, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(st.st_uid, getuid());
	/* A link in place of a directory is refused. */
	assert_int_equal(symlink("/tmp", link), 0);
	assert_true(jail_open_dir_at(dfd, "kvm", &fd) < 0); /* ENOTDIR or ELOOP */
	unlink(link);
	close(dfd);
	unlink(victim);
	rmdir(dir);
}

static void test_landlock_abi(void **state)
{
	(void)state;
	/* 0 (none, or off) or a positive version: never an error. */
	assert_true(jail_landlock_abi() >= 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nofile_too_small), cmocka_unit_test(test_fsize),
	    cmocka_unit_test(test_close_inherited),  cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_mknod_no_follow),  cmocka_unit_test(test_landlock_abi),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
