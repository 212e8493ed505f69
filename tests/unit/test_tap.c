/* Unit tests for src/backends/tap.c on a real tap that the test creates
 * (persistent, through /dev/net/tun) and deletes; skipped without
 * /dev/net/tun or CAP_NET_ADMIN. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backends/tap.h"

static char name[IFNAMSIZ];
static char err[300];

/* A tun/tap fd attached to `name` with these flags, or -errno. */
static int attach(short flags)
{
	struct ifreq ifr = {0};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static int persist(int on)
{
	int fd = attach(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), rc;

	if (fd < 0)
		return fd;
	rc = ioctl(fd, TUNSETPERSIST, on) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int setup(void **s)
{
	(void)s;
	snprintf(name, sizeof(name), "ktu%d", (int)getpid() % 100000);
	if (persist(1) < 0)
		return -1;
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	return persist(0) < 0 ? -1 : 0;
}

static void test_by_name(void **s)
{
	struct ifreq ifr = {0};
	int fd = -1, hdr = 0;

	(void)s;
	assert_int_equal(tap_open(name, -1, &fd, err, sizeof(err)), 0);
	assert_int_equal(ioctl(fd, TUNGETIFF, &ifr), 0);
	assert_string_equal(ifr.ifr_name, name);
	assert_int_equal(ifr.ifr_flags & (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
			 IFF_TAP | IFF_NO_PI | IFF_VNET_HDR);
	assert_int_equal(ioctl(fd, TUNGETVNETHDRSZ, &hdr), 0);
	assert_int_equal(hdr, TAP_VNET_HDR_LEN);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(tap_set_offload(fd, TAP_OFF_CSUM | TAP_OFF_TSO4 | TAP_OFF_TSO6), 0);
	assert_int_equal(tap_set_offload(fd, 0), 0);
	close(fd);
}

static void test_missing(void **s)
{
	int fd = -1;

	(void)s;
	assert_int_equal(tap_open("ktu-none", -1, &fd, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no such network interface"));
	assert_null(strchr(err, '\n'));
	/* An interface that is not a tap. */
	assert_true(tap_open("lo", -1, &fd, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "TUNSETIFF"));
}

static void test_by_fd(void **s)
{
	int given = attach(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), fd = -1, p[2];

	(void)s;
	assert_true(given >= 0);
	assert_int_equal(tap_open(name, given, &fd, err, sizeof(err)), 0);
	assert_int_not_equal(fd, given); /* a dup: the caller's stays open */
	assert_true(fcntl(given, F_GETFD) >= 0);
	close(fd);
	/* Another tap's name. */
	assert_int_equal(tap_open("other0", given, &fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "IFF_VNET_HDR"));
	close(given);
	/* Without IFF_VNET_HDR: refused, since frames would lack the header. */
	given = attach(IFF_TAP | IFF_NO_PI);
	assert_true(given >= 0);
	assert_int_equal(tap_open(name, given, &fd, err, sizeof(err)), -EINVAL);
	close(given);
	/* Not a tap at all. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(tap_open(name, p[0], &fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a tap"));
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_by_name),
	    cmocka_unit_test(test_missing),
	    cmocka_unit_test(test_by_fd),
	};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("SKIP: /dev/net/tun: %s\n", strerror(errno));
		return 77;
	}
	close(fd);
	snprintf(name, sizeof(name), "ktu%d", (int)getpid() % 100000);
	if (persist(1) < 0) {
		printf("SKIP: cannot create a tap (CAP_NET_ADMIN missing?)\n");
		return 77;
	}
	(void)persist(0);
	return cmocka_run_group_tests(tests, setup, teardown);
}
