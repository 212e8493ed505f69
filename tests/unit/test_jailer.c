/* jailer: Firecracker's jailer command line (required options, defaults,
 * both value spellings, "--" and what follows) and its bad inputs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox/jailer.h"

static char err[512];
static struct jailer_args a;

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define NARGS(...) ((int)(sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)))
#define PARSE(...) jailer_parse(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), &a, err, sizeof(err))
#define REQ "--id", "vm-1", "--exec-file", "/usr/bin/firecracker", "--uid", "123", "--gid", "100"

static void test_required_and_defaults(void **state)
{
	(void)state;
	assert_int_equal(PARSE(REQ), 0);
	assert_string_equal(a.id, "vm-1");
	assert_string_equal(a.base, "/srv/jailer");
	assert_int_equal(a.cgroup_version, 1);
	assert_null(a.parent_cgroup);
	assert_int_equal(a.nr_extra, 0);
	assert_false(a.daemonize || a.new_pid_ns);
	assert_string_equal(jailer_exec_name(a.exec_file), "firecracker");
	assert_string_equal(jailer_exec_name("kite"), "kite");
	assert_int_equal(PARSE("--id", "x", "--uid", "1", "--gid", "1"), -EINVAL);
	assert_non_null(strstr(err, "required"));
	assert_int_equal(PARSE("--exec-file", "/f", "--uid", "1", "--gid", "1"), -EINVAL);
	assert_int_equal(PARSE("--id", "x", "--exec-file", "/f", "--gid", "1"), -EINVAL);
}

static void test_everything(void **state)
{
	(void)state;
	assert_int_equal(PARSE(REQ, "--chroot-base-dir=/tmp/j", "--netns", "/var/run/netns/n",
			       "--cgroup-version", "2", "--cgroup", "cpuset.cpus=0", "--cgroup",
			       "pids.max=10", "--parent-cgroup", "all/vms", "--resource-limit",
			       "fsize=100", "--resource-limit", "no-file=64", "--daemonize",
			       "--new-pid-ns", "--", "--api-sock", "/run/firecracker.socket"),
			 0);
	assert_string_equal(a.base, "/tmp/j");
	assert_string_equal(a.netns, "/var/run/netns/n");
	assert_int_equal(a.cgroup_version, 2);
	assert_int_equal(a.nr_cgroups, 2);
	assert_string_equal(a.cgroups[1].key, "pids.max");
	assert_string_equal(a.parent_cgroup, "all/vms");
	assert_int_equal(a.fsize, 100);
	assert_int_equal(a.nofile, 64);
	assert_true(a.daemonize && a.new_pid_ns);
	assert_int_equal(a.nr_extra, 2);
	assert_string_equal(a.extra[0], "--api-sock");
	/* Options after "--" are the VMM's, whatever they look like. */
	/* Older jailers' options, as Kata passed them: accepted. */
	assert_int_equal(PARSE(REQ, "--node", "0", "--seccomp-level", "2"), 0);
	assert_int_equal(PARSE(REQ, "--node", "x"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--", "--id", "other", "--bogus"), 0);
	assert_string_equal(a.id, "vm-1");
	assert_int_equal(a.nr_extra, 3);
	assert_int_equal(PARSE("--help"), 0);
	assert_true(a.help);
	assert_int_equal(PARSE("--version"), 0);
	assert_true(a.version);
}

static void test_bad(void **state)
{
	char id65[66];

	(void)state;
	memset(id65, 'a', 65);
	id65[65] = 0;
	assert_int_equal(PARSE("--id", id65, "--exec-file", "/f", "--uid", "1", "--gid", "1"),
			 -EINVAL);
	assert_non_null(strstr(err, "--id"));
	id65[64] = 0; /* 64 is the most */
	assert_int_equal(PARSE("--id", id65, "--exec-file", "/f", "--uid", "1", "--gid", "1"), 0);
	assert_int_equal(PARSE("--id", "a_b", "--exec-file", "/f", "--uid", "1", "--gid", "1"),
			 -EINVAL);
	assert_int_equal(PARSE("--id", "a/b", "--exec-file", "/f", "--uid", "1", "--gid", "1"),
			 -EINVAL);
	assert_int_equal(PARSE("--id", "", "--exec-file", "/f", "--uid", "1", "--gid", "1"),
			 -EINVAL);
	assert_int_equal(PARSE(REQ, "--uid", "-5"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--gid", "nobody"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--exec-file", "/usr/bin/"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--chroot-base-dir", "rel"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--cgroup-version", "3"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--cgroup-version", "v2"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--cgroup", "nokey"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--cgroup", "../../x.y=1"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--parent-cgroup", "/abs"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--parent-cgroup", "a/../b"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--resource-limit", "stack=1"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--resource-limit", "no-file=0"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--resource-limit", "nofile=1,fsize=2"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--daemonize=yes"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--bogus"), -EINVAL);
	assert_non_null(strstr(err, "unknown option --bogus"));
	assert_int_equal(PARSE(REQ, "stray"), -EINVAL);
	assert_int_equal(PARSE(REQ, "--netns"), -EINVAL);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(PARSE(REQ, "--netns", "--"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_required_and_defaults),
	    cmocka_unit_test(test_everything),
	    cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
