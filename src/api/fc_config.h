/* Firecracker's resource bodies (PUT /machine-config, /boot-source,
 * /drives/{id}, /entropy, /logger, /metrics; the network and vsock ones
 * are fc_net.h's) and its --config-file, turned
 * into kite's struct vm_config; and the other way for GET /machine-config
 * and GET /vm/config. Parsing only: nothing here opens a file except
 * fc_config_file, which reads the config file itself. The HTTP layer maps
 * every error to 400 with {"fault_message": err}.
 *
 * Behaviour follows Firecracker where the spec is silent: unknown fields
 * are refused (serde's deny_unknown_fields), optional fields may be null,
 * error texts are Firecracker's. A failing call leaves its target as it
 * was. Strings taken from a body are copied (config_strdup): the json_t
 * may be freed as soon as a call returns. Parse bodies with
 * JSON_REJECT_DUPLICATES, as serde refuses duplicate fields.
 *
 * kite's choices where it differs:
 *  - smt must be false; cpu_template absent or "None" (-ENOTSUP otherwise).
 *  - Without boot_args the guest gets FC_DEFAULT_BOOT_ARGS: Firecracker's
 *    defaults minus 8250.nr_uarts=0 and i8042.nopnp (see FC_DEFAULT_BOOT_ARGS),
 *    plus console=ttyS0, since kite's console is the serial port. Given
 *    boot_args are used as they are.
 *  - cache_type and io_engine are stored and reported but change nothing:
 *    kite always offers FLUSH and always uses io_uring.
 *  - drive_id: [A-Za-z0-9_], 1 to CONFIG_DRIVE_ID_MAX characters; at most
 *    CONFIG_MAX_DISKS drives; vhost-user drives ("socket") are refused.
 *  - boot-source takes a kite extension for raw images, which Firecracker
 *    clients never send:
 *      "kite": {"mode": "real"|"protected"|"long"|"long-user",
 *               "load_addr": N, "entry": N, "regs": {"rax": N, ...}}
 *    (N a number or a "0x..." string; all optional; mode defaults to
 *    real, load_addr to 0x1000, entry to load_addr). kernel_image_path is
 *    then a flat binary loaded like --image; initrd_path and boot_args
 *    must be absent. */
#ifndef KITE_API_FC_CONFIG_H
#define KITE_API_FC_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/fc_json.h"
#include "compiler.h"
#include "config.h"
#include "log.h"

#define FC_MAX_VCPUS 32	       /* Firecracker's limit, below kite's own */
#define FC_DEFAULT_MEM_MIB 128 /* Firecracker's default machine */
#define FC_BOOT_ARGS_MAX 2047  /* Linux's x86 command line, without the NUL */
#define FC_CONFIG_FILE_MAX (1u << 20)
/* Firecracker's defaults with two changes: console=ttyS0 (kite's console
 * is COM1) and no i8042.nopnp: kite's ACPI is hardware-reduced, so IRQ 1
 * exists for the keyboard only through its PNP0303 description in the
 * DSDT, and SendCtrlAltDel needs the keyboard bound. */
#define FC_DEFAULT_BOOT_ARGS                                                                       \
	"console=ttyS0 reboot=k panic=1 pci=off nomodule i8042.noaux i8042.nomux i8042.dumbkbd"

enum fc_log_level {
	FC_LOG_OFF,
	FC_LOG_ERROR,
	FC_LOG_WARN,
	FC_LOG_INFO,
	FC_LOG_DEBUG,
	FC_LOG_TRACE
};

/* PUT /logger; Firecracker's defaults: level Info, no level, no origin. */
struct fc_logger {
	bool set; /* configured by PUT /logger or the file's "logger" */
	char *log_path;
	enum fc_log_level level;
	bool show_level, show_log_origin;
	char *module;
};

/* PUT /metrics. properties: the object of strings given, or NULL. */
struct fc_metrics {
	bool set;
	char *metrics_path;
	bool emit_id;
	json_t *properties;
};

/* PATCH /drives/{id} (after boot): what to change. path points into the
 * body: valid while the body is. */
struct fc_drive_update {
	char id[CONFIG_DRIVE_ID_MAX + 1];
	const char *path;	/* NULL: keep the backing file */
	struct fc_rl_update rl; /* rate_limiter, as PATCH /network-interfaces' */
};

/* Kite's defaults with Firecracker's machine (1 vCPU, 128 MiB) and no guest
 * yet: the state an API-only kite starts in. Free with config_free. */
void fc_config_init(struct vm_config *cfg);
void fc_logger_free(struct fc_logger *lg);
void fc_metrics_free(struct fc_metrics *m);

/* PUT (patch false): vcpu_count and mem_size_mib required, the rest back
 * to defaults when absent. PATCH: only the fields given; an empty body is
 * "Empty PATCH request.". */
int fc_put_machine_config(struct vm_config *cfg, const json_t *body, bool patch, char *err,
			  size_t errlen) MUST_CHECK;
/* Replaces the boot source (and with it any earlier kite extension). */
int fc_put_boot_source(struct vm_config *cfg, const json_t *body, char *err,
		       size_t errlen) MUST_CHECK;
/* Adds a drive, or replaces the one with the same drive_id in place. A root
 * drive goes first, as in Firecracker. path_id: the {id} of the path. */
int fc_put_drive(struct vm_config *cfg, const char *path_id, const json_t *body, char *err,
		 size_t errlen) MUST_CHECK;
/* Checks a PATCH /drives/{id} body (drive_id, path_on_host, rate_limiter). */
int fc_parse_drive_update(const char *path_id, const json_t *body, struct fc_drive_update *u,
			  char *err, size_t errlen) MUST_CHECK;
/* Records a checked update in cfg (for GET /vm/config); -ENOENT with
 * Firecracker's text when no drive has that id. The lead applies it to the
 * device. */
int fc_apply_drive_update(struct vm_config *cfg, const struct fc_drive_update *u, char *err,
			  size_t errlen) MUST_CHECK;
/* Enables the entropy device (virtio-rng) with its rate limiter. */
int fc_put_entropy(struct vm_config *cfg, const json_t *body, char *err, size_t errlen) MUST_CHECK;
int fc_put_logger(struct fc_logger *lg, const json_t *body, char *err, size_t errlen) MUST_CHECK;
/* Firecracker refuses a second PUT /metrics ("Reinitialization of metrics
 * not allowed."); so does this. */
int fc_put_metrics(struct fc_metrics *m, const json_t *body, char *err, size_t errlen) MUST_CHECK;

/* The config file: one object with kebab-case keys holding the bodies
 * above ("drives" and "network-interfaces" arrays of them; the latter and
 * "vsock" are fc_net.c's). boot-source is required. Sections of later
 * issues (balloon, mmds-config,
 * cpu-config, pmem, memory-hotplug) that are present and not null or []
 * give -ENOTSUP, "<key> is not supported by this kite". cfg should come
 * from fc_config_init; on error it may hold part of the file (free it). */
int fc_config_file(struct vm_config *cfg, struct fc_logger *lg, struct fc_metrics *m,
		   const char *path, char *err, size_t errlen) MUST_CHECK;
/* The same from text (len bytes, no NUL needed). */
int fc_config_json(struct vm_config *cfg, struct fc_logger *lg, struct fc_metrics *m,
		   const char *text, size_t len, char *err, size_t errlen) MUST_CHECK;

/* Can InstanceStart go ahead? "Cannot start microvm without kernel
 * configuration." when no boot source was given. */
int fc_check_startable(const struct vm_config *cfg, char *err, size_t errlen) MUST_CHECK;
/* Once, just before the machine is built: checks fc_check_startable and
 * config_validate, and sets cfg->cmdline to the boot args (given or
 * FC_DEFAULT_BOOT_ARGS) plus the root drive's " root=/dev/vda" or
 * " root=PARTUUID=..." and " ro" or " rw", as Firecracker appends them.
 * Idempotent: the command line is built again from boot_args each time.
 * For a config from fc_config_init (cfg->fc); one from config_parse keeps
 * its --cmdline. */
int fc_config_prepare(struct vm_config *cfg, char *err, size_t errlen) MUST_CHECK;

/* GET /machine-config and GET /vm/config (the config-file shape; lg and m
 * may be NULL). NULL on allocation failure. Disks from --disk have no
 * drive_id: they are reported as "blk<N>". */
json_t *fc_get_machine_config(const struct vm_config *cfg);
json_t *fc_get_vm_config(const struct vm_config *cfg, const struct fc_logger *lg,
			 const struct fc_metrics *m);

/* "Error", "warning", "INFO"... (case-insensitive; "warn" too), for PUT
 * /logger and --level. -EINVAL for anything else. */
int fc_log_level_parse(const char *s, enum fc_log_level *out) MUST_CHECK;
const char *fc_log_level_name(enum fc_log_level l);
/* kite's level for a Firecracker level (Trace is Debug, Off logs nothing). */
enum log_level fc_log_level_kite(int fc_level);

#endif
