/* Command-line options parsed into struct vm_config. Parsing and validation
 * only: no files are opened and nothing is allocated beyond the config. */
#ifndef KITE_CONFIG_H
#define KITE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

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

struct disk_config {
	const char *path;
	const char *serial;
	int read_only;
	uint32_t poll_us; /* device-side queue polling after each kick, 0 = off */
	/* Rate limit, 0 = none: data bytes per second (reads and writes),
	 * requests per second, one-time extra bytes (needs bps). */
	uint64_t bps, iops, burst;
};

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
	const char *api_socket;
	struct disk_config disks[CONFIG_MAX_DISKS];
	char disk_specs[CONFIG_MAX_DISKS][1024]; /* --disk values, split in place */
	int nr_disks;
	int rng;
	enum console_choice console;
	const char *console_socket;
	uint64_t rng_rate; /* bytes per second, 0 = unlimited */
	int log_level; /* enum log_level */
	int timestamps;
	int debug_exit; /* the debug-exit port exists */
	enum reboot_action on_reboot;
	/* Not an option: main counts the machine's restarts (--on-reboot restart),
	 * 0 on the first boot. Host-side outputs are truncated only then. */
	unsigned boot;
};

enum config_cmd { CMD_RUN, CMD_HELP, CMD_VERSION };

/* Parses argv (argv[0] is the program). On error returns -EINVAL and writes
 * one line (no newline) to err. */
int config_parse(int argc, char **argv, struct vm_config *cfg, enum config_cmd *cmd,
		 char *err, size_t errlen) MUST_CHECK;

/* "256M", "1G", "4096K", "512" (MiB when bare). Bytes out. */
int config_parse_size(const char *s, uint64_t *out) MUST_CHECK;
/* Decimal or 0x-hex, the whole string, no sign, no overflow. */
int config_parse_u64(const char *s, uint64_t *out) MUST_CHECK;
int config_reg_from_name(const char *name);
const char *config_reg_name(int reg);

/* The help text, shared by --help and the usage error path. */
extern const char config_help_text[];


#endif
