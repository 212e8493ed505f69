/* jail_opts: kite run's jail options through config_parse (every option,
 * the checks between them) and the value parsers, with bad inputs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "sandbox/jail_opts.h"

static char err[512];
static struct vm_config cfg;
static enum config_cmd cmd;

#define ARGV(...) ((char *[]){"kite", "run", "--image", "x.bin", __VA_ARGS__, NULL})
#define NARGS(...)                                                                                 \
	((int)(sizeof((char *[]){"kite", "run", "--image", "x.bin", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(...) config_parse(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), &cfg, &cmd, err, sizeof(err))

static void test_every_option(void **state)
{
	const struct jail_config *j = &cfg.jail;

	(void)state;
	assert_int_equal(PARSE("--jail", "/srv/j", "--uid", "4242", "--gid", "4343", "--netns",
			       "/var/run/netns/a", "--cgroup", "pids.max=64", "--cgroup",
			       "cgroup.max.descendants=2", "--rlimit", "nofile=128,fsize=1048576",
			       "--new-pid-ns", "--daemonize"),
			 0);
	assert_string_equal(j->dir, "/srv/j");
	assert_int_equal(j->uid, 4242);
	assert_int_equal(j->gid, 4343);
	assert_string_equal(j->netns, "/var/run/netns/a");
	assert_int_equal(j->nr_cgroups, 2);
	assert_string_equal(j->cgroups[0].key, "pids.max");
	assert_string_equal(j->cgroups[0].value, "64");
	assert_string_equal(j->cgroups[1].key, "cgroup.max.descendants");
	assert_int_equal(j->nofile, 128);
	assert_int_equal(j->fsize, 1048576);
	assert_true(j->new_pid_ns && j->daemonize);
	/* Without any: no jail. */
	assert_int_equal(config_parse(4, ARGV(NULL), &cfg, &cmd, err, sizeof(err)), 0);
	assert_null(cfg.jail.dir);
	assert_false(cfg.jail.any);
	/* Firecracker's spelling of the same limit, and one limit alone. */
	assert_int_equal(PARSE("--jail", "/j", "--uid", "0", "--gid", "0", "--rlimit", "no-file=9"),
			 0);
	assert_int_equal(cfg.jail.nofile, 9);
	assert_int_equal(cfg.jail.fsize, 0);
}

static void test_needs(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--uid", "1", "--gid", "1"), -EINVAL);
	assert_non_null(strstr(err, "need --jail DIR"));
	assert_int_equal(PARSE("--daemonize"), -EINVAL);
	assert_int_equal(PARSE("--jail", "/j"), -EINVAL);
	assert_non_null(strstr(err, "--jail needs --uid N and --gid N"));
	assert_int_equal(PARSE("--jail", "/j", "--uid", "1"), -EINVAL);
	assert_int_equal(PARSE("--jail", "relative", "--uid", "1", "--gid", "1"), -EINVAL);
	assert_non_null(strstr(err, "absolute"));
	assert_int_equal(PARSE("--jail", "/j", "--uid", "1", "--gid", "1", "--netns", ""), -EINVAL);
}

static void test_bad_values(void **state)
{
	static char *const bad_ids[] = {"",	"-1", "+1",   "4294967295", "99999999999",
					"root", "1x", "0x10", " 1"};
	static char *const bad_cgroups[] = {
	    "",
	    "pids.max",
	    "=1",
	    "pids.max=",
	    "max=1",
	    ".max=1",
	    "pids.=1",
	    "../x.y=1",
	    "pids/max=1",
	    "pids..max=1",
	    "pids.max=a\nb",
	    "p ids.max=1",
	    "a.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1"};
	static char *const bad_limits[] = {"",
					   "nofile",
					   "nofile=",
					   "nofile=0",
					   "nofile=-1",
					   "nofile=1k",
					   "fsize=x",
					   "stack=1",
					   "nofile=1,",
					   ",nofile=1",
					   "nofile=1,,fsize=2",
					   "NOFILE=1",
					   "nofile=18446744073709551616"};
	uint32_t id;
	uint64_t nf = 0, fs = 0;
	struct jail_cgroup_kv kv;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		assert_int_equal(jail_parse_id(bad_ids[i], &id), -EINVAL);
		assert_int_equal(PARSE("--jail", "/j", "--uid", bad_ids[i], "--gid", "1"), -EINVAL);
		assert_non_null(strstr(err, "--uid"));
	}
	assert_int_equal(jail_parse_id("4294967294", &id), 0);
	assert_int_equal(id, 4294967294u);
	for (size_t i = 0; i < sizeof(bad_cgroups) / sizeof(bad_cgroups[0]); i++) {
		assert_int_equal(jail_parse_cgroup(bad_cgroups[i], &kv), -EINVAL);
		assert_int_equal(
		    PARSE("--jail", "/j", "--uid", "1", "--gid", "1", "--cgroup", bad_cgroups[i]),
		    -EINVAL);
		assert_non_null(strstr(err, "--cgroup"));
	}
	assert_int_equal(jail_parse_cgroup("cpuset.cpus=0-1,3", &kv), 0);
	assert_string_equal(kv.value, "0-1,3");
	for (size_t i = 0; i < sizeof(bad_limits) / sizeof(bad_limits[0]); i++)
		assert_int_equal(
		    PARSE("--jail", "/j", "--uid", "1", "--gid", "1", "--rlimit", bad_limits[i]),
		    -EINVAL);
	assert_int_equal(jail_parse_limit("fsize=5", &nf, &fs), 0);
	assert_int_equal(fs, 5);
	assert_int_equal(jail_parse_limit("no-file=7", &nf, &fs), 0);
	assert_int_equal(nf, 7);
	assert_int_equal(jail_parse_limit("nofile7", &nf, &fs), -EINVAL);
	assert_int_equal(jail_parse_limit(NULL, &nf, &fs), -EINVAL);
}

static void test_too_many_cgroups(void **state)
{
	struct jail_config j = {0};

	(void)state;
	for (int i = 0; i < JAIL_MAX_CGROUPS; i++)
		assert_int_equal(jail_opt(&j, JAIL_OPT_CGROUP, "pids.max=1", err, sizeof(err)), 0);
	assert_int_equal(jail_opt(&j, JAIL_OPT_CGROUP, "pids.max=1", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "at most"));
	assert_int_equal(j.nr_cgroups, JAIL_MAX_CGROUPS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_option),
	    cmocka_unit_test(test_needs),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_too_many_cgroups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
