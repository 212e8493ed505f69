/* fc_cli: Firecracker's command line (every option, the defaults, its
 * parser's errors and exit statuses), the mapping of exit statuses, and the
 * Firecracker log line format (log.c). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/fc_config.h"
#include "fc_cli.h"
#include "log.h"
#include "sandbox/seccomp.h"
#include "vmm.h"

static char err[512];
static struct vm_config cfg;
static enum config_cmd cmd;

#define ARGV(...) ((char *[]){"firecracker", __VA_ARGS__, NULL})
#define NARGS(...) ((int)(sizeof((char *[]){"firecracker", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(...)                                                                                 \
	fc_cli_parse(NARGS(__VA_ARGS__), ARGV(__VA_ARGS__), 1, &cfg, &cmd, err, sizeof(err))

static void test_wanted(void **state)
{
	int skip = 0;

	(void)state;
	assert_true(fc_cli_wanted(1, (char *[]){"/usr/bin/firecracker", NULL}, &skip));
	assert_int_equal(skip, 1);
	assert_true(fc_cli_wanted(1, (char *[]){"firecracker", NULL}, &skip));
	assert_true(fc_cli_wanted(2, (char *[]){"./kite", "firecracker", NULL}, &skip));
	assert_int_equal(skip, 2);
	assert_false(fc_cli_wanted(2, (char *[]){"./kite", "run", NULL}, &skip));
	assert_false(fc_cli_wanted(1, (char *[]){"/bin/firecracker-x", NULL}, &skip));
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(
	    fc_cli_parse(1, (char *[]){"firecracker", NULL}, 1, &cfg, &cmd, err, sizeof(err)), 0);
	assert_int_equal(cmd, CMD_RUN);
	assert_true(cfg.fc_mode);
	assert_string_equal(cfg.api_socket, "/run/firecracker.socket");
	assert_string_equal(cfg.instance_id, "anonymous-instance");
	assert_null(cfg.config_file);
	assert_null(cfg.fc_log_path);
	assert_null(cfg.fc_metrics_path);
	assert_int_equal(cfg.fc_log_level, 0);
	assert_false(cfg.no_api || cfg.fc_show_level || cfg.fc_show_origin || cfg.timestamps);
	assert_int_equal(cfg.api_max_payload, 0);
}

static void test_every_option(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--api-sock", "/tmp/s", "--id", "vm-1", "--config-file", "c.json",
			       "--log-path", "l.fifo", "--level", "Debug", "--show-level",
			       "--show-log-origin", "--metrics-path", "m.fifo",
			       "--http-api-max-payload-size", "1000", "--boot-timer",
			       "--no-seccomp", "--start-time-us", "1", "--start-time-cpu-us", "2",
			       "--parent-cpu-time-us", "3"),
			 0);
	assert_string_equal(cfg.api_socket, "/tmp/s");
	assert_string_equal(cfg.instance_id, "vm-1");
	assert_string_equal(cfg.config_file, "c.json");
	assert_string_equal(cfg.fc_log_path, "l.fifo");
	assert_int_equal(cfg.fc_log_level, FC_LOG_DEBUG + 1);
	assert_true(cfg.fc_show_level && cfg.fc_show_origin && cfg.timestamps);
	assert_string_equal(cfg.fc_metrics_path, "m.fifo");
	assert_int_equal(cfg.api_max_payload, 1000);
	assert_int_equal(cfg.seccomp, KITE_SECCOMP_OFF); /* --no-seccomp */

	assert_int_equal(PARSE("--no-api", "--config-file", "c.json", "--seccomp-filter", "f.bpf"),
			 0);
	assert_true(cfg.no_api);
	assert_null(cfg.api_socket);
	assert_int_equal(cfg.seccomp, KITE_SECCOMP_ON); /* the default; the filter is ignored */
	assert_int_equal(PARSE("--seccomp", "log"), 0);
	assert_int_equal(cfg.seccomp, KITE_SECCOMP_LOG);
	assert_int_equal(PARSE("--seccomp", "off"), 0);
	assert_int_equal(cfg.seccomp, KITE_SECCOMP_OFF);
	/* Level names are Firecracker's, any case. */
	assert_int_equal(PARSE("--level", "warning"), 0);
	assert_int_equal(cfg.fc_log_level, FC_LOG_WARN + 1);
	assert_int_equal(PARSE("--level", "Off"), 0);
	assert_int_equal(cfg.fc_log_level, FC_LOG_OFF + 1);
	/* After "--" nothing is an option. */
	assert_int_equal(PARSE("--id", "a", "--", "--bogus", "x"), 0);
}

static void test_help_version(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--bogus", "--version"), 0);
	assert_int_equal(cmd, CMD_VERSION);
	assert_int_equal(PARSE("--version", "--help"), 0);
	assert_int_equal(cmd, CMD_HELP);
}

static void test_errors(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--bogus"), FC_EXIT_ARG_PARSING);
	assert_non_null(strstr(err, "Found argument 'bogus' which wasn't expected"));
	assert_int_equal(PARSE("stray"), FC_EXIT_ARG_PARSING);
	assert_non_null(strstr(err, "'stray'"));
	/* Firecracker's parser: no single dash, no --name=value. */
	assert_int_equal(PARSE("-api-sock", "x"), FC_EXIT_ARG_PARSING);
	assert_int_equal(PARSE("--api-sock=/tmp/s"), FC_EXIT_ARG_PARSING);
	assert_int_equal(PARSE("--api-sock"), FC_EXIT_ARG_PARSING);
	assert_non_null(strstr(err, "requires a value"));
	assert_int_equal(PARSE("--api-sock", "--id", "x"), FC_EXIT_ARG_PARSING);
	assert_int_equal(PARSE("--id", "a", "--id", "b"), FC_EXIT_ARG_PARSING);
	assert_non_null(strstr(err, "more than once"));
	assert_int_equal(PARSE("--no-api"), FC_EXIT_ARG_PARSING);
	assert_non_null(strstr(err, "'config-file' required"));
	assert_int_equal(PARSE("--no-seccomp", "--seccomp-filter", "f"), FC_EXIT_ARG_PARSING);
	assert_int_equal(PARSE("--no-seccomp", "--seccomp", "on"), FC_EXIT_ARG_PARSING);
	assert_int_equal(PARSE("--seccomp", "strict"), FC_EXIT_ARG_PARSING);
	assert_non_null(strstr(err, "on, log or off"));
	assert_int_equal(PARSE("--id", "bad id"), FC_EXIT_ARG_PARSING);
	assert_int_equal(PARSE("--http-api-max-payload-size", "lots"), FC_EXIT_ARG_PARSING);
	assert_int_equal(PARSE("--level", "Loud"), FC_EXIT_BAD_CONFIGURATION);
	assert_non_null(strstr(err, "Invalid value for logger level"));
}

static void test_levels(void **state)
{
	(void)state;
	assert_int_equal(fc_log_level_kite(FC_LOG_OFF), LOG_OFF);
	assert_int_equal(fc_log_level_kite(FC_LOG_ERROR), LOG_ERROR);
	assert_int_equal(fc_log_level_kite(FC_LOG_WARN), LOG_WARN);
	assert_int_equal(fc_log_level_kite(FC_LOG_INFO), LOG_INFO);
	assert_int_equal(fc_log_level_kite(FC_LOG_DEBUG), LOG_DEBUG);
	assert_int_equal(fc_log_level_kite(FC_LOG_TRACE), LOG_DEBUG);
}

static void test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(fc_cli_exit_status(EXIT_OK, false), 0);
	assert_int_equal(fc_cli_exit_status(EXIT_HOST_FAILURE, false), 1);
	assert_int_equal(fc_cli_exit_status(EXIT_BAD_INPUT, false), 1);
	assert_int_equal(fc_cli_exit_status(EXIT_GUEST_RESET, false), 0);
	assert_int_equal(fc_cli_exit_status(EXIT_TRIPLE_FAULT, false), 0);
	assert_int_equal(fc_cli_exit_status(EXIT_INTERNAL, false), 1);
	assert_int_equal(fc_cli_exit_status(EXIT_GUEST_PANIC, false), 1);
	assert_int_equal(fc_cli_exit_status(128 + SIGHUP, false), 156);
	assert_int_equal(fc_cli_exit_status(128 + SIGTERM, false), 143);
	assert_int_equal(fc_cli_exit_status(3, true), 3); /* debug-exit: the guest's own */
}

static void test_log_format(void **state)
{
	struct timespec t = {0, 5};
	struct log_target lt = {"vm1", false, false};
	char buf[256], expect_time[64];
	struct tm tm;
	size_t n;

	(void)state;
	localtime_r(&t.tv_sec, &tm);
	strftime(expect_time, sizeof(expect_time), "%Y-%m-%dT%H:%M:%S.000000005", &tm);
	n = log_format_fc(buf, sizeof(buf), &lt, "fc_vcpu 0", LOG_WARN, "../src/vcpu.c", 42, &t,
			  "hello");
	assert_int_equal(n, strlen(buf));
	assert_int_equal(strncmp(buf, expect_time, strlen(expect_time)), 0);
	assert_string_equal(buf + strlen(expect_time), " [vm1:fc_vcpu 0] hello");
	lt.show_level = true;
	log_format_fc(buf, sizeof(buf), &lt, "kite", LOG_ERROR, "../src/vcpu.c", 42, &t, "m");
	assert_string_equal(buf + strlen(expect_time), " [vm1:kite:ERROR] m");
	lt.show_origin = true;
	log_format_fc(buf, sizeof(buf), &lt, "kite", LOG_INFO, "../src/vcpu.c", 42, &t, "m");
	assert_string_equal(buf + strlen(expect_time), " [vm1:kite:INFO:src/vcpu.c:42] m");
	lt.show_level = false;
	log_format_fc(buf, sizeof(buf), &lt, "kite", LOG_DEBUG, "src/x.c", 7, &t, "m");
	assert_string_equal(buf + strlen(expect_time), " [vm1:kite:src/x.c:7] m");
	/* Truncated, never overrun. */
	n = log_format_fc(buf, 16, &lt, "kite", LOG_DEBUG, "src/x.c", 7, &t, "m");
	assert_int_equal(n, 15);
}

/* Through the target: lines written to a file, levels filtered, Off. */
static void test_log_target(void **state)
{
	char path[] = "/tmp/kite-log-XXXXXX", buf[2048];
	int fd = mkstemp(path), lfd;
	ssize_t n;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(log_open_path("/nonexistent/kite.log"), -ENOENT);
	lfd = log_open_path(path);
	assert_true(lfd >= 0);
	log_set_target(lfd, &(struct log_target){"x1", true, false});
	log_set_level(LOG_INFO);
	log_info("blk0", "one %d", 1);
	log_debug(NULL, "hidden");
	log_set_level(LOG_OFF);
	log_err(NULL, "also hidden");
	log_close_target();
	log_set_level(LOG_WARN);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = 0;
	assert_non_null(strstr(buf, " [x1:"));
	assert_non_null(strstr(buf, ":INFO] blk0: one 1\n"));
	assert_null(strstr(buf, "hidden"));
	assert_int_equal(log_missed(), 0);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wanted),	 cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_every_option), cmocka_unit_test(test_help_version),
	    cmocka_unit_test(test_errors),	 cmocka_unit_test(test_levels),
	    cmocka_unit_test(test_exit_status),	 cmocka_unit_test(test_log_format),
	    cmocka_unit_test(test_log_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
