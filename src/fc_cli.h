/* Firecracker mode: `kite firecracker ARGS...`, or kite run under the name
 * `firecracker`. Firecracker's command line (its own parser's rules: every
 * option is `--name`, a value is the next argument and may not start with
 * "--", each option at most once, "--" ends the options, --help and
 * --version win wherever they are) into struct vm_config, and
 * Firecracker's exit statuses. Parsing only: nothing is opened here. */
#ifndef KITE_FC_CLI_H
#define KITE_FC_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "config.h"
#include "log.h"

#define FC_DEFAULT_API_SOCK "/run/firecracker.socket"

/* Firecracker's FcExitCode values kite uses. */
enum {
	FC_EXIT_OK = 0,
	FC_EXIT_GENERIC_ERROR = 1,
	FC_EXIT_SIGHUP = 156,
	FC_EXIT_BAD_CONFIGURATION = 152,
	FC_EXIT_ARG_PARSING = 153,
};

/* Whether argv asks for Firecracker mode: argv[0]'s basename is
 * "firecracker" (*skip = 1), or argv[1] is "firecracker" (*skip = 2). */
bool fc_cli_wanted(int argc, char **argv, int *skip);

/* Parses argv[skip..] into cfg (config_init first). On error returns the
 * exit status Firecracker would (FC_EXIT_ARG_PARSING, or
 * FC_EXIT_BAD_CONFIGURATION for --level) with err set; *cmd says
 * CMD_HELP or CMD_VERSION. Ignored options are logged (log_info) by
 * fc_cli_log_ignored, once the log target is known. */
int fc_cli_parse(int argc, char **argv, int skip, struct vm_config *cfg, enum config_cmd *cmd,
		 char *err, size_t errlen) MUST_CHECK;
/* One log line per accepted-and-ignored option that was given. */
void fc_cli_log_ignored(int argc, char **argv, int skip);


/* kite's exit status as Firecracker's (README "Firecracker mode"):
 * debug_exit when the guest ended through the debug-exit port. */
int fc_cli_exit_status(int kite_status, bool debug_exit);

extern const char fc_cli_help_text[];

#endif
