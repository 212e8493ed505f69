/* Firecracker's command line and exit statuses (see fc_cli.h). */
#include "fc_cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/fc_config.h"
#include "sandbox/seccomp.h"
#include "vmm.h"

const char fc_cli_help_text[] =
    "usage: firecracker [options]   (kite's Firecracker mode; also kite firecracker)\n"
    "\n"
    "  --api-sock <path>          API socket [default: " FC_DEFAULT_API_SOCK "]\n"
    "  --id <id>                  microVM id [default: anonymous-instance]\n"
    "  --config-file <path>       Firecracker's JSON configuration; boots at once\n"
    "  --no-api                   no API socket (needs --config-file)\n"
    "  --log-path <path>          log to this existing file or FIFO\n"
    "  --level <level>            Off, Error, Warning, Info, Debug, Trace\n"
    "  --show-level               the level in each log line\n"
    "  --show-log-origin          the file and line in each log line\n"
    "  --metrics-path <path>      metrics to this existing file or FIFO\n"
    "  --http-api-max-payload-size <bytes>  [default: 51200]\n"
    "  --boot-timer               log the guest's boot-timestamp port writes\n"
    "  --version                  Firecracker's API version, then kite's\n"
    "  --seccomp on|log|off       kite's filter per thread (default on)\n"
    "  --no-seccomp               the same as --seccomp off\n"
    "accepted and ignored: --seccomp-filter <path> (kite's own filters apply),\n"
    "  --start-time-us <us>, --start-time-cpu-us <us>, --parent-cpu-time-us <us>\n";

enum opt {
	O_API_SOCK,
	O_CONFIG_FILE,
	O_NO_API,
	O_ID,
	O_LOG_PATH,
	O_LEVEL,
	O_SHOW_LEVEL,
	O_SHOW_ORIGIN,
	O_METRICS_PATH,
	O_MAX_PAYLOAD,
	O_BOOT_TIMER,
	O_VERSION,
	O_HELP,
	O_NO_SECCOMP,
	O_SECCOMP,
	O_SECCOMP_FILTER,
	O_START_US,
	O_START_CPU_US,
	O_PARENT_CPU_US,
	O_COUNT
};

static const struct {
	const char *name;
	bool value;
	bool ignored;
} opts[O_COUNT] = {
    [O_API_SOCK] = {"api-sock", true, false},
    [O_CONFIG_FILE] = {"config-file", true, false},
    [O_NO_API] = {"no-api", false, false},
    [O_ID] = {"id", true, false},
    [O_LOG_PATH] = {"log-path", true, false},
    [O_LEVEL] = {"level", true, false},
    [O_SHOW_LEVEL] = {"show-level", false, false},
    [O_SHOW_ORIGIN] = {"show-log-origin", false, false},
    [O_METRICS_PATH] = {"metrics-path", true, false},
    [O_MAX_PAYLOAD] = {"http-api-max-payload-size", true, false},
    [O_BOOT_TIMER] = {"boot-timer", false, false},
    [O_VERSION] = {"version", false, false},
    [O_HELP] = {"help", false, false},
    [O_NO_SECCOMP] = {"no-seccomp", false, false},
    [O_SECCOMP] = {"seccomp", true, false},
    [O_SECCOMP_FILTER] = {"seccomp-filter", true, true},
    [O_START_US] = {"start-time-us", true, true},
    [O_START_CPU_US] = {"start-time-cpu-us", true, true},
    [O_PARENT_CPU_US] = {"parent-cpu-time-us", true, true},
};

static int fail(int status, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(int status, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

bool fc_cli_wanted(int argc, char **argv, int *skip)
{
	const char *base = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : argc > 0 && argv[0] ? argv[0] : "";
	if (!strcmp(base, "firecracker")) {
		*skip = 1;
		return true;
	}
	if (argc > 1 && !strcmp(argv[1], "firecracker")) {
		*skip = 2;
		return true;
	}
	return false;
}

static int lookup(const char *arg)
{
	if (strncmp(arg, "--", 2))
		return -1;
	for (int i = 0; i < O_COUNT; i++)
		if (!strcmp(arg + 2, opts[i].name))
			return i;
	return -1;
}

/* The options before "--" (Firecracker ignores what follows it). */
static int end_of_options(int argc, char **argv, int skip)
{
	for (int i = skip; i < argc; i++)
		if (!strcmp(argv[i], "--"))
			return i;
	return argc;
}

static int apply(int o, const char *val, struct vm_config *cfg, char *err, size_t errlen)
{
	enum fc_log_level lvl;
	uint64_t v;

	switch (o) {
	case O_API_SOCK:
		cfg->api_socket = val;
		break;
	case O_CONFIG_FILE:
		cfg->config_file = val;
		break;
	case O_NO_API:
		cfg->no_api = 1;
		break;
	case O_ID:
		/* Firecracker's validate_instance_id: 1 to 64 of [A-Za-z0-9-]. */
		if (!*val || strlen(val) > 64 ||
		    val[strspn(val, "abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-")])
			return fail(FC_EXIT_ARG_PARSING, err, errlen,
				    "Invalid instance ID: '%.64s' (1 to 64 characters: letters, "
				    "digits and '-')",
				    val);
		cfg->instance_id = val;
		break;
	case O_LOG_PATH:
		cfg->fc_log_path = val;
		break;
	case O_LEVEL:
		if (fc_log_level_parse(val, &lvl))
			return fail(FC_EXIT_BAD_CONFIGURATION, err, errlen,
				    "Invalid value for logger level: Failed to parse string to "
				    "level filter: %.32s.Possible values: [Error, Warning, Info, "
				    "Debug]",
				    val);
		cfg->fc_log_level = (int)lvl + 1;
		break;
	case O_SHOW_LEVEL:
		cfg->fc_show_level = 1;
		break;
	case O_SHOW_ORIGIN:
		cfg->fc_show_origin = 1;
		break;
	case O_METRICS_PATH:
		cfg->fc_metrics_path = val;
		break;
	case O_MAX_PAYLOAD:
		if (config_parse_u64(val, &v) || !v || v > (64u << 20))
			return fail(FC_EXIT_ARG_PARSING, err, errlen,
				    "'http-api-max-payload-size' parameter expected to be of "
				    "'usize' type (kite: 1 to 67108864): %.32s",
				    val);
		cfg->api_max_payload = v;
		break;
	case O_BOOT_TIMER:
		cfg->timestamps = 1;
		break;
	case O_NO_SECCOMP:
		cfg->seccomp = KITE_SECCOMP_OFF;
		break;
	case O_SECCOMP:
		if (config_parse_seccomp(val, &cfg->seccomp))
			return fail(FC_EXIT_ARG_PARSING, err, errlen,
				    "Arguments parsing error: 'seccomp' expects on, log or off: %.32s",
				    val);
		break;
	default: /* accepted and ignored: logged by fc_cli_log_ignored */
		break;
	}
	return 0;
}

int fc_cli_parse(int argc, char **argv, int skip, struct vm_config *cfg, enum config_cmd *cmd,
		 char *err, size_t errlen)
{
	bool seen[O_COUNT] = {false};
	int end = end_of_options(argc, argv, skip);

	config_init(cfg);
	cfg->fc_mode = 1;
	*cmd = CMD_RUN;
	err[0] = 0;
	/* Firecracker looks for --help, then --version, before anything else. */
	for (int i = skip; i < end; i++)
		if (!strcmp(argv[i], "--help"))
			return *cmd = CMD_HELP, 0;
	for (int i = skip; i < end; i++)
		if (!strcmp(argv[i], "--version"))
			return *cmd = CMD_VERSION, 0;
	for (int i = skip; i < end; i++) {
		int o = lookup(argv[i]), rc;
		const char *val = NULL;

		if (o < 0)
			return fail(FC_EXIT_ARG_PARSING, err, errlen,
				    "Arguments parsing error: Found argument '%s' which wasn't "
				    "expected, or isn't valid in this context.",
				    strncmp(argv[i], "--", 2) ? argv[i] : argv[i] + 2);
		if (seen[o])
			return fail(FC_EXIT_ARG_PARSING, err, errlen,
				    "Arguments parsing error: The argument '%s' was provided more "
				    "than once.",
				    opts[o].name);
		seen[o] = true;
		if (opts[o].value) {
			if (i + 1 >= end || !strncmp(argv[i + 1], "--", 2))
				return fail(FC_EXIT_ARG_PARSING, err, errlen,
					    "Arguments parsing error: The argument '%s' requires a "
					    "value, but none was supplied.",
					    opts[o].name);
			val = argv[++i];
		}
		rc = apply(o, val, cfg, err, errlen);
		if (rc)
			return rc;
	}
	if (seen[O_NO_API] && !seen[O_CONFIG_FILE])
		return fail(FC_EXIT_ARG_PARSING, err, errlen,
			    "Arguments parsing error: Argument 'config-file' required, but not "
			    "found.");
	if (seen[O_NO_SECCOMP] && seen[O_SECCOMP])
		return fail(FC_EXIT_ARG_PARSING, err, errlen,
			    "Arguments parsing error: Argument 'no-seccomp' cannot be used "
			    "together with argument 'seccomp'.");
	if (seen[O_NO_SECCOMP] && seen[O_SECCOMP_FILTER])
		return fail(FC_EXIT_ARG_PARSING, err, errlen,
			    "Arguments parsing error: Argument 'no-seccomp' cannot be used "
			    "together with argument 'seccomp-filter'.");
	/* Firecracker serves its API unless --no-api, at its default path. */
	if (!cfg->no_api && !cfg->api_socket)
		cfg->api_socket = FC_DEFAULT_API_SOCK;
	if (!cfg->instance_id)
		cfg->instance_id = "anonymous-instance";
	return 0;
}

void fc_cli_log_ignored(int argc, char **argv, int skip)
{
	int end = end_of_options(argc, argv, skip);

	for (int i = skip; i < end; i++) {
		int o = lookup(argv[i]);

		if (o >= 0 && opts[o].ignored)
			log_info(NULL, "--%s is accepted and ignored by kite%s", opts[o].name,
				 o == O_SECCOMP_FILTER ? " (kite installs its own seccomp filters)"
				     : "");
		if (o >= 0 && opts[o].value)
			i++;
	}
}

int fc_cli_exit_status(int kite_status, bool debug_exit)
{
	if (debug_exit)
		return kite_status;
	switch (kite_status) {
	case EXIT_OK:
	case EXIT_GUEST_RESET:	/* Firecracker exits 0 when the guest reboots */
	case EXIT_TRIPLE_FAULT: /* KVM_EXIT_SHUTDOWN: a stop, not an error there */
		return FC_EXIT_OK;
	case EXIT_HOST_FAILURE:
	case EXIT_BAD_INPUT:
	case EXIT_INTERNAL:
	case EXIT_GUEST_PANIC:
		return FC_EXIT_GENERIC_ERROR;
	case 128 + SIGHUP:
		return FC_EXIT_SIGHUP;
	default:
		return kite_status; /* 128+SIG for other signals */
	}
}
