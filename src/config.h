/* Command-line options parsed into struct vm_config. Parsing and validation
 * only: no files are opened and nothing is allocated beyond the config. */
#ifndef KITE_CONFIG_H
#define KITE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config_net.h"
#include "config_num.h"
#include "config_vsock.h"
#include "ratelimit.h"
#include "sandbox/jail_opts.h"

enum cpu_mode { MODE_REAL, MODE_PROTECTED, MODE_LONG, MODE_LONG_USER };

enum reg_id {
	GPR_RAX, GPR_RBX, GPR_RCX, GPR_RDX, GPR_RSI, GPR_RDI, GPR_RBP, GPR_RSP,
	GPR_R8, GPR_R9, GPR_R10, GPR_R11, GPR_R12, GPR_R13, GPR_R14, GPR_R15,
	GPR_RFLAGS, GPR_COUNT
};

#define CONFIG_MAX_DISKS 16
#define CONFIG_DEFAULT_MEMORY (256ull << 20)
#define CONFIG_MAX_MEMORY (1ull << 40) /* 1 TiB: far beyond any host here */
#define CONFIG_MAX_CPUS 1024           /* KVM's own limit is checked at run time */

#define CONFIG_DISK_POLL_US_DEFAULT 50
#define CONFIG_DISK_POLL_US_MAX 1000
#define CONFIG_RECORD_WS_MS_DEFAULT 1000

/* A Firecracker drive_id: at most 15 characters, so that it also fits a
 * struct device name (DEVICE_NAME_MAX) should a device ever be named by it. */
#define CONFIG_DRIVE_ID_MAX 15

/* Firecracker's cache_type: Unsafe ignores the guest's flushes there, kite
 * always offers and honours FLUSH, so both behave as Writeback. Kept so
 * that GET /vm/config reports what was asked. */
enum disk_cache { DISK_CACHE_UNSAFE, DISK_CACHE_WRITEBACK };
/* Firecracker's io_engine: kite always uses io_uring; kept for reporting. */
enum disk_io_engine { DISK_IO_SYNC, DISK_IO_ASYNC };

struct disk_config {
	const char *path;
	const char *serial;
	int read_only;
	uint32_t poll_us; /* device-side queue polling after each kick, 0 = off */
	struct rate_limiter_config rl; /* all zero: no limit */
	/* Firecracker drives (src/api/fc_config.c); empty/zero for --disk. */
	char id[CONFIG_DRIVE_ID_MAX + 1];
	int root;	      /* is_root_device: first disk, root= on the command line */
	const char *partuuid; /* root=PARTUUID=... instead of root=/dev/vda */
	enum disk_cache cache;
	enum disk_io_engine io_engine;
	/* --disk ...,bps=,iops=,burst= (0 = none; an API drive uses rl): data bytes per second (reads and writes),
	 * requests per second, one-time extra bytes (needs bps). */
	uint64_t bps, iops, burst;
};

/* Firecracker's huge_pages. 2M: guest RAM on hugetlbfs 2 MiB pages;
 * Transparent: madvise(MADV_HUGEPAGE) on ordinary memory. */
enum huge_pages { HUGE_PAGES_NONE, HUGE_PAGES_2M, HUGE_PAGES_TRANSPARENT };

enum console_choice { CONSOLE_SERIAL, CONSOLE_VIRTIO };

enum irqchip_choice { IRQCHIP_AUTO, IRQCHIP_ON, IRQCHIP_OFF };

enum reboot_action { REBOOT_EXIT, REBOOT_RESTART };

struct vm_config {
	/* raw image */
	const char *image;
	enum cpu_mode mode;
	uint64_t load_addr;
	uint64_t entry;
	int entry_set;
	uint64_t regs[GPR_COUNT];
	uint32_t regs_set; /* bit per enum reg_id */
	/* Linux */
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	/* machine */
	uint64_t memory;
	int cpus;
	enum irqchip_choice irqchip;
	const char *kvm_device;
	const char *serial_out;
	const char *api_socket;    /* --api-sock: the control API */
	const char *instance_id;   /* --id */
	const char *config_file;   /* --config-file: Firecracker's JSON */
	int no_api;                /* --no-api */
	uint64_t api_max_payload;  /* --http-api-max-payload-size */
	int guest_opts;            /* an option that describes the guest was given */
	struct disk_config disks[CONFIG_MAX_DISKS];
	char disk_specs[CONFIG_MAX_DISKS][1024]; /* --disk values, split in place */
	int nr_disks;
	struct net_config nets[CONFIG_MAX_NETS];
	char net_specs[CONFIG_MAX_NETS][CONFIG_NET_SPEC_MAX]; /* --net values, split in place */
	int nr_nets;
	int rng;
	enum console_choice console;
	const char *console_socket;
	uint64_t rng_rate; /* bytes per second, 0 = unlimited */
	/* --vsock cid=N,uds=PATH (config_vsock.c); vsock_uds NULL: none. */
	uint64_t vsock_cid;
	const char *vsock_uds;
	char vsock_spec[CONFIG_VSOCK_SPEC_MAX]; /* the --vsock value, split in place */
	int log_level; /* enum log_level */
	int timestamps;
	int debug_exit; /* the debug-exit port exists */
	enum reboot_action on_reboot;
	int seccomp; /* --seccomp: enum kite_seccomp (sandbox/seccomp.h), 0 = on */
	/* Firecracker API and config file (src/api/fc_config.c). */
	enum huge_pages huge_pages;
	int track_dirty_pages;		   /* dirty pages for Diff snapshots: vm_dirty.h */
	struct rate_limiter_config rng_rl; /* the entropy device's limiter */
	const char *boot_args; /* boot_args as given (NULL: Firecracker's default) */
	int fc;		       /* configured through the API or a config file */
	/* Firecracker mode's command line (src/fc_cli.c); unset otherwise. */
	int fc_mode;		     /* `kite firecracker` or invoked as firecracker */
	const char *fc_log_path;     /* --log-path */
	int fc_log_level;	     /* --level: enum fc_log_level + 1, 0 = not given */
	int fc_show_level;	     /* --show-level */
	int fc_show_origin;	     /* --show-log-origin */
	const char *fc_metrics_path; /* --metrics-path */
	/* Snapshots (src/vm_snapshot.h): --restore SNAPSHOT --mem-file FILE,
	 * or PUT /snapshot/load. restored_linux comes from the snapshot: the
	 * guest was booted from a kernel (it has kite's ACPI tables). */
	const char *restore_path;
	const char *restore_mem;
	int restore_paused;    /* PUT /snapshot/load without resume_vm */
	int restored_linux;
	uint32_t record_ws_ms; /* --record-working-set[=MS]: 0 = off */
	int no_prefetch;       /* --no-prefetch: ignore a recorded working set */
	int restore_clock_realtime; /* --clock-realtime / clock_realtime */
	const char *restore_vsock_uds; /* --vsock-uds / vsock_override: the vsock's new socket */
	struct jail_config jail; /* --jail DIR --uid N --gid N ... (src/sandbox/jail.c) */
	/* Strings this config allocated (config_strdup); argv's are not here. */
	char **owned;
	size_t nr_owned, owned_cap;
	/* Not an option: main counts the machine's restarts (--on-reboot restart),
	 * 0 on the first boot. Host-side outputs are truncated only then. */
	unsigned boot;
};

enum config_cmd { CMD_RUN, CMD_HELP, CMD_VERSION };

/* Parses argv (argv[0] is the program). On error returns -EINVAL and writes
 * one line (no newline) to err. */
int config_parse(int argc, char **argv, struct vm_config *cfg, enum config_cmd *cmd,
		 char *err, size_t errlen) MUST_CHECK;

/* Kite's defaults, as config_parse starts from. */
void config_init(struct vm_config *cfg);
/* on|log|off into enum kite_seccomp; -EINVAL for anything else. */
int config_parse_seccomp(const char *arg, int *out) MUST_CHECK;
/* The checks config_parse ends with (and the defaults they fill in: the
 * entry point, the irqchip for a kernel); for configs built otherwise. */
int config_validate(struct vm_config *cfg, char *err, size_t errlen) MUST_CHECK;
/* A copy of s owned by cfg (-ENOMEM). Strings from argv are not owned. */
int config_strdup(struct vm_config *cfg, const char *s, const char **out) MUST_CHECK;
/* Frees s if cfg owns it (a replaced value); anything else is left alone. */
void config_release(struct vm_config *cfg, const char *s);
/* Frees every string cfg owns. cfg must not be copied while it owns any:
 * the copy would point at the same strings. */
void config_free(struct vm_config *cfg);

/* The number parsers (config_parse_u64, _size, _bytes) are config_num.h's,
 * --net's parser config_net.h's, --vsock's config_vsock.h's. */
int config_reg_from_name(const char *name);
const char *config_reg_name(int reg);

/* The help text, shared by --help and the usage error path. */
extern const char config_help_text[];


#endif
