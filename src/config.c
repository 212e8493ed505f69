/* Option parsing and validation for `kite run`. No side effects: files are
 * opened later, by the code that uses them, so that this stays unit-testable. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

static const char *const reg_names[GPR_COUNT] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rflags",
};

int config_reg_from_name(const char *name)
{
	for (int i = 0; i < GPR_COUNT; i++)
		if (strcmp(name, reg_names[i]) == 0)
			return i;
	return -1;
}

const char *config_reg_name(int reg)
{
	return reg >= 0 && reg < GPR_COUNT ? reg_names[reg] : "?";
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

enum {
	OPT_IMAGE = 256, OPT_MODE, OPT_LOAD, OPT_ENTRY, OPT_REG, OPT_MEMORY, OPT_CPUS,
	OPT_IRQCHIP, OPT_SERIAL_OUT, OPT_KVM_DEVICE, OPT_TIMESTAMPS, OPT_DEBUG_EXIT, OPT_LOG_LEVEL,
	OPT_HELP, OPT_VERSION, OPT_KERNEL, OPT_INITRD, OPT_CMDLINE, OPT_DISK, OPT_RNG, OPT_VSOCK, OPT_CONSOLE, OPT_CONSOLE_SOCKET,
	OPT_ON_REBOOT, OPT_API_SOCK, OPT_ID, OPT_CONFIG_FILE, OPT_NO_API, OPT_MAX_PAYLOAD,
	OPT_HUGEPAGES, OPT_NET, OPT_RESTORE, OPT_MEM_FILE, OPT_RECORD_WS, OPT_NO_PREFETCH, OPT_CLOCK_REALTIME, OPT_VSOCK_UDS,
	OPT_SECCOMP,
	OPT_JAIL, /* ... OPT_JAIL + JAIL_OPT_COUNT - 1 (jail_opts.h): keep it last */
};

static const struct option run_opts[] = {
	{"image", required_argument, NULL, OPT_IMAGE},
	{"mode", required_argument, NULL, OPT_MODE},
	{"load", required_argument, NULL, OPT_LOAD},
	{"entry", required_argument, NULL, OPT_ENTRY},
	{"reg", required_argument, NULL, OPT_REG},
	{"memory", required_argument, NULL, OPT_MEMORY},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"hugepages", required_argument, NULL, OPT_HUGEPAGES},
	{"irqchip", required_argument, NULL, OPT_IRQCHIP},
	{"serial-out", required_argument, NULL, OPT_SERIAL_OUT},
	{"kvm-device", required_argument, NULL, OPT_KVM_DEVICE},
	{"timestamps", no_argument, NULL, OPT_TIMESTAMPS},
	{"debug-exit", no_argument, NULL, OPT_DEBUG_EXIT},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"kernel", required_argument, NULL, OPT_KERNEL},
	{"initrd", required_argument, NULL, OPT_INITRD},
	{"cmdline", required_argument, NULL, OPT_CMDLINE},
	{"disk", required_argument, NULL, OPT_DISK},
	{"net", required_argument, NULL, OPT_NET},
	{"rng", optional_argument, NULL, OPT_RNG},
	{"vsock", required_argument, NULL, OPT_VSOCK},
	{"console", required_argument, NULL, OPT_CONSOLE},
	{"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
	{"on-reboot", required_argument, NULL, OPT_ON_REBOOT},
	{"api-sock", required_argument, NULL, OPT_API_SOCK},
	{"id", required_argument, NULL, OPT_ID},
	{"config-file", required_argument, NULL, OPT_CONFIG_FILE},
	{"no-api", no_argument, NULL, OPT_NO_API},
	{"http-api-max-payload-size", required_argument, NULL, OPT_MAX_PAYLOAD},
	{"restore", required_argument, NULL, OPT_RESTORE},
	{"mem-file", required_argument, NULL, OPT_MEM_FILE},
	{"record-working-set", optional_argument, NULL, OPT_RECORD_WS},
	{"no-prefetch", no_argument, NULL, OPT_NO_PREFETCH},
	{"clock-realtime", no_argument, NULL, OPT_CLOCK_REALTIME},
	{"vsock-uds", required_argument, NULL, OPT_VSOCK_UDS},
	{"jail", required_argument, NULL, OPT_JAIL + JAIL_OPT_JAIL},
	{"uid", required_argument, NULL, OPT_JAIL + JAIL_OPT_UID},
	{"gid", required_argument, NULL, OPT_JAIL + JAIL_OPT_GID},
	{"netns", required_argument, NULL, OPT_JAIL + JAIL_OPT_NETNS},
	{"cgroup", required_argument, NULL, OPT_JAIL + JAIL_OPT_CGROUP},
	{"rlimit", required_argument, NULL, OPT_JAIL + JAIL_OPT_RLIMIT},
	{"new-pid-ns", no_argument, NULL, OPT_JAIL + JAIL_OPT_NEW_PID_NS},
	{"daemonize", no_argument, NULL, OPT_JAIL + JAIL_OPT_DAEMONIZE},
	{"seccomp", required_argument, NULL, OPT_SECCOMP},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static int parse_reg(const char *arg, struct vm_config *cfg, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');
	char name[16];
	uint64_t v;
	int r;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return fail(err, errlen, "--reg %s: expected NAME=VALUE", arg);
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = 0;
	r = config_reg_from_name(name);
	if (r < 0)
		return fail(err, errlen, "--reg %s: unknown register '%s' (rax..r15, rflags, rsp)",
			    arg, name);
	if (config_parse_u64(eq + 1, &v))
		return fail(err, errlen, "--reg %s: '%s' is not a number", arg, eq + 1);
	cfg->regs[r] = v;
	cfg->regs_set |= 1u << r;
	return 0;
}

/* The rate-limit options of --disk; 1 when opt is none of them. */
static int parse_disk_limit(const char *opt, struct disk_config *d, char *err, size_t errlen)
{
	if (!strncmp(opt, "bps=", 4)) {
		if (config_parse_bytes(opt + 4, &d->bps) || !d->bps)
			return fail(err, errlen, "--disk %s: %s: expected a positive number of bytes "
				    "per second (K/M/G suffix allowed)", d->path, opt);
	} else if (!strncmp(opt, "iops=", 5)) {
		if (config_parse_u64(opt + 5, &d->iops) || !d->iops)
			return fail(err, errlen, "--disk %s: %s: expected a positive number of "
				    "requests per second", d->path, opt);
	} else if (!strncmp(opt, "burst=", 6)) {
		if (config_parse_bytes(opt + 6, &d->burst))
			return fail(err, errlen, "--disk %s: %s: expected a number of bytes "
				    "(K/M/G suffix allowed)", d->path, opt);
	} else {
		return 1;
	}
	return 0;
}

/* PATH[,ro][,serial=ID][,poll=US][,bps=N][,iops=N][,burst=N]; the path
 * itself may not contain a comma. */
static int parse_disk(const char *spec, struct vm_config *cfg, char *err, size_t errlen)
{
	struct disk_config *d;
	char *opt, *save = NULL, *arg;

	if (cfg->nr_disks == CONFIG_MAX_DISKS)
		return fail(err, errlen, "--disk: at most %d disks", CONFIG_MAX_DISKS);
	if (strlen(spec) >= sizeof(cfg->disk_specs[0]))
		return fail(err, errlen, "--disk: the value is too long");
	arg = strcpy(cfg->disk_specs[cfg->nr_disks], spec);
	d = &cfg->disks[cfg->nr_disks];
	memset(d, 0, sizeof(*d));
	d->poll_us = CONFIG_DISK_POLL_US_DEFAULT;
	d->path = strtok_r(arg, ",", &save);
	if (!d->path || spec[0] == ',')
		return fail(err, errlen, "--disk: expected PATH[,ro][,serial=ID][,poll=US]");
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strcmp(opt, "ro"))
			d->read_only = 1;
		else if (!strcmp(opt, "rw"))
			d->read_only = 0;
		else if (!strncmp(opt, "serial=", 7) && strlen(opt + 7) <= 20)
			d->serial = opt + 7;
		else if (!strncmp(opt, "serial=", 7))
			return fail(err, errlen, "--disk %s: serial is at most 20 characters", d->path);
		else if (!strncmp(opt, "poll=", 5)) {
			uint64_t us;

			if (config_parse_u64(opt + 5, &us) || us > CONFIG_DISK_POLL_US_MAX)
				return fail(err, errlen,
					    "--disk %s: poll=%s: expected microseconds, 0 to %d",
					    d->path, opt + 5, CONFIG_DISK_POLL_US_MAX);
			d->poll_us = (uint32_t)us;
		} else {
			int rc = parse_disk_limit(opt, d, err, errlen);

			if (rc == 1)
				return fail(err, errlen,
					    "--disk %s: unknown option '%s' (ro, serial=ID, poll=US, "
					    "bps=N, iops=N, burst=N)", d->path, opt);
			if (rc)
				return rc;
		}
	}
	if (d->burst && !d->bps)
		return fail(err, errlen, "--disk %s: burst=%llu needs bps= (it is extra for the "
			    "bytes limit)", d->path, (unsigned long long)d->burst);
	cfg->nr_disks++;
	return 0;
}

/* Keyword options: the index of arg in names (NULL-terminated), or -1.
 * Each option's enum values are in the same order as its names. */
static int choice(const char *arg, const char *const names[], bool fold)
{
	for (int i = 0; names[i]; i++)
		if (fold ? !strcasecmp(arg, names[i]) : !strcmp(arg, names[i]))
			return i;
	return -1;
}

int config_parse_seccomp(const char *arg, int *out)
{
	int i = choice(arg, (const char *const[]){"on", "log", "off", NULL}, false);

	if (i < 0)
		return -EINVAL;
	*out = i; /* enum kite_seccomp's order */
	return 0;
}

static int parse_one(int c, const char *arg, struct vm_config *cfg, enum config_cmd *cmd,
		     char *err, size_t errlen)
{
	uint64_t v;
	int i;

	switch (c) {
	case OPT_IMAGE:
		cfg->image = arg;
		return 0;
	case OPT_MODE:
		if ((i = choice(arg, (const char *const[]){"real", "protected", "long", "long-user",
							  NULL}, false)) < 0)
			return fail(err, errlen,
				    "--mode %s: expected real, protected, long or long-user", arg);
		cfg->mode = (enum cpu_mode)i; /* MODE_REAL, MODE_PROTECTED, ... in order */
		return 0;
	case OPT_LOAD:
		if (config_parse_u64(arg, &cfg->load_addr))
			return fail(err, errlen, "--load %s: not an address", arg);
		return 0;
	case OPT_ENTRY:
		if (config_parse_u64(arg, &cfg->entry))
			return fail(err, errlen, "--entry %s: not an address", arg);
		cfg->entry_set = 1;
		return 0;
	case OPT_REG:
		return parse_reg(arg, cfg, err, errlen);
	case OPT_MEMORY:
		if (config_parse_size(arg, &v))
			return fail(err, errlen, "--memory %s: not a size (examples: 256M, 2G)", arg);
		if (v == 0)
			return fail(err, errlen, "--memory %s: must be more than 0", arg);
		if (v % 4096)
			return fail(err, errlen, "--memory %s: must be a multiple of 4 KiB", arg);
		if (v > CONFIG_MAX_MEMORY)
			return fail(err, errlen, "--memory %s: more than kite's limit of 1 TiB", arg);
		cfg->memory = v;
		return 0;
	case OPT_HUGEPAGES:
		if ((i = choice(arg, (const char *const[]){"none", "2M", "transparent", NULL},
				true)) < 0)
			return fail(err, errlen, "--hugepages %s: expected none, 2M or transparent",
				    arg);
		cfg->huge_pages = (enum huge_pages)i;
		return 0;
	case OPT_CPUS:
		if (config_parse_u64(arg, &v) || v == 0 || v > CONFIG_MAX_CPUS)
			return fail(err, errlen, "--cpus %s: expected a number from 1 to %d", arg,
				    CONFIG_MAX_CPUS);
		cfg->cpus = (int)v;
		return 0;
	case OPT_IRQCHIP:
		if ((i = choice(arg, (const char *const[]){"on", "off", NULL}, false)) < 0)
			return fail(err, errlen, "--irqchip %s: expected on or off", arg);
		cfg->irqchip = i == 0 ? IRQCHIP_ON : IRQCHIP_OFF;
		return 0;
	case OPT_SERIAL_OUT:
		cfg->serial_out = arg;
		return 0;
	case OPT_KVM_DEVICE:
		cfg->kvm_device = arg;
		return 0;
	case OPT_TIMESTAMPS:
		cfg->timestamps = 1;
		return 0;
	case OPT_DEBUG_EXIT:
		cfg->debug_exit = 1;
		return 0;
	case OPT_LOG_LEVEL:
		if ((i = choice(arg, (const char *const[]){"error", "warn", "info", "debug", NULL},
				false)) < 0)
			return fail(err, errlen, "--log-level %s: expected error, warn, info or debug",
				    arg);
		cfg->log_level = i; /* LOG_ERROR .. LOG_DEBUG in order */
		return 0;
	case OPT_KERNEL:
		cfg->kernel = arg;
		return 0;
	case OPT_INITRD:
		cfg->initrd = arg;
		return 0;
	case OPT_CMDLINE:
		cfg->cmdline = arg;
		return 0;
	case OPT_DISK:
		return parse_disk(arg, cfg, err, errlen);
	case OPT_NET:
		return config_parse_net(arg, cfg->nets, cfg->net_specs, &cfg->nr_nets, err, errlen);
	case OPT_RNG:
		cfg->rng = 1;
		if (arg && (config_parse_u64(arg, &cfg->rng_rate) || cfg->rng_rate == 0))
			return fail(err, errlen, "--rng=%s: expected a positive number of bytes per second",
				    arg);
		return 0;
	case OPT_VSOCK:
		return config_parse_vsock(arg, &cfg->vsock_cid, &cfg->vsock_uds, cfg->vsock_spec,
					  sizeof(cfg->vsock_spec), err, errlen);
	case OPT_CONSOLE:
		if ((i = choice(arg, (const char *const[]){"serial", "virtio", NULL}, false)) < 0)
			return fail(err, errlen, "--console %s: expected serial or virtio", arg);
		cfg->console = i == 0 ? CONSOLE_SERIAL : CONSOLE_VIRTIO;
		return 0;
	case OPT_CONSOLE_SOCKET:
		cfg->console_socket = arg;
		return 0;
	case OPT_ON_REBOOT:
		if ((i = choice(arg, (const char *const[]){"exit", "restart", NULL}, false)) < 0)
			return fail(err, errlen, "--on-reboot %s: expected exit or restart", arg);
		cfg->on_reboot = i == 0 ? REBOOT_EXIT : REBOOT_RESTART;
		return 0;
	case OPT_API_SOCK:
		cfg->api_socket = arg;
		return 0;
	case OPT_SECCOMP:
		if (config_parse_seccomp(arg, &cfg->seccomp))
			return fail(err, errlen, "--seccomp %s: expected on, log or off", arg);
		return 0;
	case OPT_ID:
		cfg->instance_id = arg;
		return 0;
	case OPT_CONFIG_FILE:
		cfg->config_file = arg;
		return 0;
	case OPT_NO_API:
		cfg->no_api = 1;
		return 0;
	case OPT_MAX_PAYLOAD:
		if (config_parse_u64(arg, &cfg->api_max_payload) || !cfg->api_max_payload ||
		    cfg->api_max_payload > (64u << 20))
			return fail(err, errlen,
				    "--http-api-max-payload-size %s: bytes, 1 to 67108864", arg);
		return 0;
	case OPT_RESTORE:
		cfg->restore_path = arg;
		return 0;
	case OPT_MEM_FILE:
		cfg->restore_mem = arg;
		return 0;
	case OPT_RECORD_WS:
		cfg->record_ws_ms = CONFIG_RECORD_WS_MS_DEFAULT;
		if (arg && (config_parse_u64(arg, &v) || v == 0 || v > 600000))
			return fail(err, errlen,
				    "--record-working-set=%s: expected milliseconds, 1 to 600000", arg);
		if (arg)
			cfg->record_ws_ms = (uint32_t)v;
		return 0;
	case OPT_NO_PREFETCH:
		cfg->no_prefetch = 1;
		return 0;
	case OPT_CLOCK_REALTIME:
		cfg->restore_clock_realtime = 1;
		return 0;
	case OPT_VSOCK_UDS:
		cfg->restore_vsock_uds = arg;
		return 0;
	case OPT_HELP:
		*cmd = CMD_HELP;
		return 0;
	case OPT_VERSION:
		*cmd = CMD_VERSION;
		return 0;
	default:
		if (c >= OPT_JAIL && c < OPT_JAIL + JAIL_OPT_COUNT)
			return jail_opt(&cfg->jail, (enum jail_opt_id)(c - OPT_JAIL), arg, err,
					errlen);
		return fail(err, errlen, "unknown option");
	}
}

void config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = MODE_REAL;
	cfg->load_addr = 0x1000;
	cfg->memory = CONFIG_DEFAULT_MEMORY;
	cfg->cpus = 1;
	cfg->irqchip = IRQCHIP_AUTO;
	cfg->kvm_device = "/dev/kvm";
	cfg->log_level = LOG_WARN;
}

int config_validate(struct vm_config *cfg, char *err, size_t errlen)
{
	if (cfg->huge_pages == HUGE_PAGES_2M && cfg->memory % (2ull << 20))
		return fail(err, errlen, "--memory %llu KiB: 2 MiB huge pages need a multiple of 2M",
			    (unsigned long long)(cfg->memory >> 10));
	if (!cfg->image && !cfg->kernel)
		return fail(err, errlen,
			    "nothing to run: give --kernel FILE, --image FILE, --config-file FILE "
			    "or --api-sock PATH (see kite --help)");
	if (cfg->image && cfg->kernel)
		return fail(err, errlen, "--image and --kernel cannot be used together");
	if (!cfg->kernel && (cfg->initrd || cfg->cmdline))
		return fail(err, errlen, "--initrd and --cmdline need --kernel");
	if (cfg->kernel) {
		if (cfg->irqchip == IRQCHIP_OFF)
			return fail(err, errlen, "--kernel needs the in-kernel irqchip (--irqchip on)");
		cfg->irqchip = IRQCHIP_ON;
		return 0;
	}
	if (!cfg->entry_set)
		cfg->entry = cfg->load_addr;
	if (cfg->mode == MODE_REAL && cfg->entry >= 0x100000)
		return fail(err, errlen,
			    "--entry 0x%llx: real mode can only start below 1 MiB",
			    (unsigned long long)cfg->entry);
	if (cfg->mode == MODE_PROTECTED && cfg->entry > 0xffffffffull)
		return fail(err, errlen,
			    "--entry 0x%llx: protected mode can only start below 4 GiB",
			    (unsigned long long)cfg->entry);
	return 0;
}

int config_parse(int argc, char **argv, struct vm_config *cfg, enum config_cmd *cmd,
		 char *err, size_t errlen)
{
	int c, idx = 1;

	config_init(cfg);
	*cmd = CMD_RUN;
	err[0] = 0;
	if (argc < 2)
		return fail(err, errlen, "no command given (try kite --help)");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		*cmd = CMD_HELP;
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		*cmd = CMD_VERSION;
		return 0;
	}
	if (strcmp(argv[1], "run"))
		return fail(err, errlen, "unknown command '%s' (try kite --help)", argv[1]);

	/* getopt keeps global state; 0 asks glibc to re-initialise it, so that
	 * config_parse can be called more than once (tests do). */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc - idx, argv + idx, "+:", run_opts, NULL)) != -1) {
		int rc;

		if (c == '?' || c == ':') {
			const char *bad = argv[idx + optind - 1];
			if (c == ':')
				return fail(err, errlen, "option %s needs a value", bad);
			return fail(err, errlen, "unknown option %s (try kite --help)", bad);
		}
		switch (c) {
		case OPT_IMAGE: case OPT_MODE: case OPT_LOAD: case OPT_ENTRY: case OPT_REG:
		case OPT_MEMORY: case OPT_CPUS: case OPT_KERNEL: case OPT_INITRD: case OPT_CMDLINE:
		case OPT_DISK: case OPT_NET: case OPT_RNG: case OPT_VSOCK: case OPT_HUGEPAGES:
			cfg->guest_opts = 1;
			break;
		default:
			break;
		}
		rc = parse_one(c, optarg, cfg, cmd, err, errlen);
		if (rc)
			return rc;
		if (*cmd != CMD_RUN)
			return 0;
	}
	if (optind < argc - idx)
		return fail(err, errlen, "unexpected argument '%s'", argv[idx + optind]);
	if (jail_opts_check(&cfg->jail, err, errlen))
		return -EINVAL;
	if (cfg->config_file && cfg->guest_opts)
		return fail(err, errlen, "--config-file describes the guest: kite's own guest "
			    "options (--image, --kernel, --disk, --memory, ...) cannot be added to it");
	if (cfg->restore_path && (cfg->guest_opts || cfg->config_file))
		return fail(err, errlen, "--restore: the snapshot describes the guest; --image, "
			    "--kernel, --disk, --memory, --config-file ... cannot be added to it");
	if (!cfg->restore_path != !cfg->restore_mem)
		return fail(err, errlen, "--restore SNAPSHOT and --mem-file FILE go together");
	if ((cfg->record_ws_ms || cfg->no_prefetch || cfg->restore_clock_realtime ||
	     cfg->restore_vsock_uds) && !cfg->restore_path)
		return fail(err, errlen, "--record-working-set, --no-prefetch, --clock-realtime and "
			    "--vsock-uds need --restore");
	if (cfg->restore_path)
		return 0; /* the rest comes from the snapshot */
	if (cfg->no_api && !cfg->config_file)
		return fail(err, errlen, "--no-api needs --config-file (nothing else could "
			    "configure the guest)");
	if (cfg->no_api && cfg->api_socket)
		return fail(err, errlen, "--no-api and --api-sock cannot be used together");
	/* A config file is read, and an API-configured guest checked, later. */
	if (cfg->config_file || (!cfg->guest_opts && cfg->api_socket))
		return 0;
	return config_validate(cfg, err, errlen);
}

int config_strdup(struct vm_config *cfg, const char *s, const char **out)
{
	char *copy;

	if (cfg->nr_owned == cfg->owned_cap) {
		size_t cap = cfg->owned_cap ? cfg->owned_cap * 2 : 16;
		char **v = realloc(cfg->owned, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		cfg->owned = v;
		cfg->owned_cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	cfg->owned[cfg->nr_owned++] = copy;
	*out = copy;
	return 0;
}

void config_release(struct vm_config *cfg, const char *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < cfg->nr_owned; i++) {
		if (cfg->owned[i] == s) {
			free(cfg->owned[i]);
			cfg->owned[i] = cfg->owned[--cfg->nr_owned];
			return;
		}
	}
}

void config_free(struct vm_config *cfg)
{
	for (size_t i = 0; i < cfg->nr_owned; i++)
		free(cfg->owned[i]);
	free(cfg->owned);
	cfg->owned = NULL;
	cfg->nr_owned = cfg->owned_cap = 0;
}
