/* jail_cgroup: finding the hierarchy for a controller in mountinfo text
 * (v1 only, v2 only, hybrid, escapes, malformed lines). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox/jail_cgroup.h"

/* This build host's layout: v1 controllers and v2 at .../unified. */
static const char hybrid[] =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime shared:9 - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char v2only[] = "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";

static void test_find(void **state)
{
	char out[256];
	int ver = -1;

	(void)state;
	assert_int_equal(jail_cgroup_find(hybrid, "pids", 0, out, sizeof(out), &ver), 0);
	assert_string_equal(out, "/sys/fs/cgroup/pids");
	assert_int_equal(ver, 1);
	assert_int_equal(jail_cgroup_find(hybrid, "cpuacct", 1, out, sizeof(out), &ver), 0);
	assert_string_equal(out, "/sys/fs/cgroup/cpu,cpuacct");
	/* "cpu" is a word of the options, not a prefix of "cpuacct". */
	assert_int_equal(jail_cgroup_find(hybrid, "cpu", 1, out, sizeof(out), &ver), 0);
	assert_int_equal(jail_cgroup_find(hybrid, "cpuset", 1, out, sizeof(out), &ver), -ENOENT);
	/* Not in v1: the v2 hierarchy (auto), or v2 when asked. */
	assert_int_equal(jail_cgroup_find(hybrid, "cgroup", 0, out, sizeof(out), &ver), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(ver, 2);
	assert_int_equal(jail_cgroup_find(hybrid, "pids", 2, out, sizeof(out), &ver), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
	assert_int_equal(jail_cgroup_find(v2only, "pids", 0, out, sizeof(out), &ver), 0);
	assert_string_equal(out, "/sys/fs/cgroup");
	assert_int_equal(ver, 2);
	assert_int_equal(jail_cgroup_find(v2only, "pids", 1, out, sizeof(out), &ver), -ENOENT);
	assert_int_equal(jail_cgroup_find("", "pids", 0, out, sizeof(out), &ver), -ENOENT);
}

static void test_escapes_and_bad(void **state)
{
	char out[64];
	int ver;

	(void)state;
	assert_int_equal(jail_cgroup_find("1 1 0:1 / /a\\040b rw - cgroup cgroup rw,pids\n", "pids",
					  0, out, sizeof(out), &ver),
			 0);
	assert_string_equal(out, "/a b");
	/* A truncated or invalid escape in a matching line is an error. */
	assert_int_equal(jail_cgroup_find("1 1 0:1 / /a\\04 rw - cgroup cgroup rw,pids\n", "pids",
					  0, out, sizeof(out), &ver),
			 -EINVAL);
	assert_int_equal(jail_cgroup_find("1 1 0:1 / /a\\9xx rw - cgroup cgroup rw,pids", "pids", 0,
					  out, sizeof(out), &ver),
			 -EINVAL);
	/* Lines without the separator or its fields are skipped. */
	assert_int_equal(jail_cgroup_find("1 1 0:1 / /x rw cgroup cgroup rw,pids\n"
					  "garbage\n- \n - cgroup\n1 2 3 - cgroup cgroup pids\n",
					  "pids", 0, out, sizeof(out), &ver),
			 -ENOENT);
	/* Too long for out. */
	assert_int_equal(
	    jail_cgroup_find("1 1 0:1 / /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			     "aaaaaaaaaaaaaaaaaaaaaaaaa rw - cgroup cgroup rw,pids\n",
			     "pids", 0, out, sizeof(out), &ver),
	    -ENAMETOOLONG);
	assert_int_equal(jail_cgroup_find(hybrid, "pids", 3, out, sizeof(out), &ver), -EINVAL);
	assert_int_equal(jail_cgroup_find(hybrid, "", 0, out, sizeof(out), &ver), -EINVAL);
}

static void test_apply_refuses(void **state)
{
	char err[256];
	struct jail_cgroup_kv kv = {"pids.max", "1"};
	struct jail_cgroup_req r = {0, "../up", "x", &kv, 1, 1};

	(void)state;
	assert_int_equal(jail_cgroup_apply(&r, err, sizeof(err)), -EINVAL);
	r.parent = "kite";
	r.name = "a/b";
	assert_int_equal(jail_cgroup_apply(&r, err, sizeof(err)), -EINVAL);
	r.nr = 0; /* nothing asked: nothing done */
	assert_int_equal(jail_cgroup_apply(&r, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_escapes_and_bad),
	    cmocka_unit_test(test_apply_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
