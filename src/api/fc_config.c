/* The pre-boot Firecracker resources that describe the guest:
 * machine-config, boot-source (with kite's raw-image extension), drives
 * and entropy, applied to struct vm_config. See fc_config.h. */
#include "api/fc_config.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "api/fc_json.h"

#define MIB (1ull << 20)
#define MAX_MEM_MIB (CONFIG_MAX_MEMORY / MIB)

void fc_config_init(struct vm_config *cfg)
{
	config_init(cfg);
	cfg->memory = FC_DEFAULT_MEM_MIB * MIB;
	cfg->fc = 1;
}

/* ---- machine-config ---- */

static const char *const huge_names[] = {"None", "2M", "Transparent", NULL};
/* Only "None" is supported; the others are Firecracker's, so that a known
 * template gets "not supported" rather than "unknown variant". */
static const char *const template_names[] = {"C3",  "T2",   "T2S",  "T2CL",
					     "T2A", "V1N1", "None", NULL};

int fc_put_machine_config(struct vm_config *cfg, const json_t *body, bool patch, char *err,
			  size_t errlen)
{
	static const char *const fields[] = {
	    "vcpu_count",	 "mem_size_mib", "smt", "cpu_template",
	    "track_dirty_pages", "huge_pages",	 NULL};
	uint64_t vcpus = (uint64_t)cfg->cpus, mib = (cfg->memory + MIB - 1) / MIB;
	bool smt = false, dirty = patch ? cfg->track_dirty_pages : false;
	int huge = patch ? (int)cfg->huge_pages : HUGE_PAGES_NONE, tmpl = 6;
	int rc, got_vcpus, got_mib;

	if ((rc = fcj_object(body, patch ? "MachineConfigUpdate" : "MachineConfig", fields, err,
			     errlen)))
		return rc;
	if (patch && json_object_size(body) == 0)
		return fcj_fail(err, errlen, -EINVAL, "Empty PATCH request.");
	/* u8 and usize in Firecracker: serde's own range errors above those. */
	if ((got_vcpus = fcj_u64(body, "vcpu_count", UINT8_MAX, "u8", &vcpus, err, errlen)) < 0)
		return got_vcpus;
	if ((got_mib = fcj_u64(body, "mem_size_mib", INT64_MAX, "usize", &mib, err, errlen)) < 0)
		return got_mib;
	if (!patch && !got_vcpus)
		return fcj_missing("vcpu_count", err, errlen);
	if (!patch && !got_mib)
		return fcj_missing("mem_size_mib", err, errlen);
	if ((rc = fcj_bool(body, "smt", &smt, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "track_dirty_pages", &dirty, err, errlen)) < 0 ||
	    (rc = fcj_enum(body, "huge_pages", huge_names, &huge, err, errlen)) < 0 ||
	    (rc = fcj_enum(body, "cpu_template", template_names, &tmpl, err, errlen)) < 0)
		return rc;
	if (smt)
		return fcj_fail(
		    err, errlen, -ENOTSUP,
		    "Enabling simultaneous multithreading is not supported by this kite.");
	if (strcmp(template_names[tmpl], "None"))
		return fcj_fail(err, errlen, -ENOTSUP,
				"The CPU template %s is not supported by this kite.",
				template_names[tmpl]);
	if (vcpus == 0 || vcpus > FC_MAX_VCPUS)
		return fcj_fail(
		    err, errlen, -EINVAL,
		    "The number of vCPUs must be greater than 0, less than %d and must be "
		    "1 or an even number if SMT is enabled.",
		    FC_MAX_VCPUS);
	if (mib == 0 || (huge == HUGE_PAGES_2M && mib % 2))
		return fcj_fail(err, errlen, -EINVAL,
				"The memory size (MiB) is either 0, or not a multiple of the "
				"configured page size.");
	if (mib > MAX_MEM_MIB)
		return fcj_fail(err, errlen, -EINVAL,
				"The memory size (MiB) is more than kite's limit of %llu MiB.",
				(unsigned long long)MAX_MEM_MIB);
	cfg->cpus = (int)vcpus;
	cfg->memory = mib * MIB;
	cfg->track_dirty_pages = dirty;
	cfg->huge_pages = (enum huge_pages)huge;
	return 0;
}

/* ---- boot-source ---- */

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* A number, or a string config_parse_u64 takes ("0x100000"). */
static int kite_u64(const json_t *obj, const char *key, uint64_t *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	const char *s;
	int rc;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		if ((rc = fcj_str(obj, key, 64, &s, err, errlen)) < 0)
			return rc;
		if (config_parse_u64(s, out))
			return fcj_deser(err, errlen, "invalid value: `%s` is not a number", key);
		return 1;
	}
	return fcj_u64(obj, key, INT64_MAX, "a number or a \"0x...\" string", out, err, errlen);
}

static const char *const mode_names[] = {"real", "protected", "long", "long-user", NULL};

/* The "kite" object: into a scratch config, committed by the caller. */
static int kite_ext(const json_t *k, struct vm_config *n, char *err, size_t errlen)
{
	static const char *const fields[] = {"mode", "load_addr", "entry", "regs", NULL};
	const json_t *regs = json_object_get(k, "regs");
	const char *key;
	json_t *val;
	int mode = MODE_REAL, rc;

	if ((rc = fcj_object(k, "KiteBootSource", fields, err, errlen)) ||
	    (rc = fcj_enum(k, "mode", mode_names, &mode, err, errlen)) < 0 ||
	    (rc = kite_u64(k, "load_addr", &n->load_addr, err, errlen)) < 0 ||
	    (rc = kite_u64(k, "entry", &n->entry, err, errlen)) < 0)
		return rc;
	n->mode = (enum cpu_mode)mode;
	n->entry_set = rc;
	if (regs && !json_is_null(regs)) {
		if (!json_is_object(regs))
			return fcj_deser(err, errlen, "invalid type: `regs`, expected a map");
		json_object_foreach((json_t *)regs, key, val)
		{
			int r = config_reg_from_name(key);
			uint64_t v;

			if (r < 0)
				return fcj_deser(err, errlen,
						 "unknown register `%.16s` (rax..r15, rflags, rsp)",
						 key);
			if ((rc = kite_u64(regs, key, &v, err, errlen)) < 0)
				return rc;
			if (rc == 0)
				continue;
			n->regs[r] = v;
			n->regs_set |= 1u << r;
		}
	}
	/* The same bounds config_validate applies, in the API's words. */
	if (n->mode == MODE_REAL && (n->entry_set ? n->entry : n->load_addr) >= 0x100000)
		return fcj_fail(err, errlen, -EINVAL,
				"kite.entry: real mode can only start below 1 MiB");
	if (n->mode == MODE_PROTECTED && (n->entry_set ? n->entry : n->load_addr) > 0xffffffffull)
		return fcj_fail(err, errlen, -EINVAL,
				"kite.entry: protected mode can only start below 4 GiB");
	return 0;
}

int fc_put_boot_source(struct vm_config *cfg, const json_t *body, char *err, size_t errlen)
{
	static const char *const fields[] = {"kernel_image_path", "initrd_path", "boot_args",
					     "kite", NULL};
	const char *kernel = NULL, *initrd = NULL, *args = NULL;
	const json_t *k = json_object_get(body, "kite");
	struct vm_config n;
	int rc;

	if ((rc = fcj_object(body, "BootSourceConfig", fields, err, errlen)))
		return rc;
	if ((rc = fcj_str(body, "kernel_image_path", FCJ_PATH_MAX, &kernel, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("kernel_image_path", err, errlen);
	/* The file itself is opened later, by the lead's code; "" never opens. */
	if (!*kernel)
		return fcj_fail(err, errlen, -EINVAL,
				"The kernel file cannot be opened: No such file or directory (os "
				"error 2)");
	if ((rc = fcj_str(body, "initrd_path", FCJ_PATH_MAX, &initrd, err, errlen)) < 0 ||
	    (rc = fcj_str(body, "boot_args", FC_BOOT_ARGS_MAX, &args, err, errlen)) < 0)
		return rc;
	if (args && !printable(args))
		return fcj_fail(
		    err, errlen, -EINVAL,
		    "The kernel command line is invalid: String contains a non-printable "
		    "ASCII character");
	/* Scratch copy of the raw-image fields only: cfg changes on success. */
	memset(&n, 0, sizeof(n));
	n.mode = MODE_REAL;
	n.load_addr = 0x1000;
	if (k && !json_is_null(k)) {
		if (initrd || args)
			return fcj_fail(err, errlen, -EINVAL,
					"kite: a raw image takes no initrd_path or boot_args");
		if ((rc = kite_ext(k, &n, err, errlen)))
			return rc;
	}
	{
		const char *kc, *ic = NULL, *ac = NULL;

		if ((rc = config_strdup(cfg, kernel, &kc)))
			goto nomem;
		if ((initrd && (rc = config_strdup(cfg, initrd, &ic))) ||
		    (args && (rc = config_strdup(cfg, args, &ac)))) {
			config_release(cfg, kc);
			config_release(cfg, ic);
			goto nomem;
		}
		config_release(cfg, cfg->image);
		config_release(cfg, cfg->kernel);
		config_release(cfg, cfg->initrd);
		config_release(cfg, cfg->boot_args);
		cfg->image = k && !json_is_null(k) ? kc : NULL;
		cfg->kernel = cfg->image ? NULL : kc;
		cfg->initrd = ic;
		cfg->boot_args = ac;
	}
	cfg->mode = n.mode;
	cfg->load_addr = n.load_addr;
	cfg->entry = n.entry;
	cfg->entry_set = n.entry_set;
	memcpy(cfg->regs, n.regs, sizeof(cfg->regs));
	cfg->regs_set = n.regs_set;
	return 0;
nomem:
	return fcj_fail(err, errlen, rc, "Out of memory.");
}

/* ---- drives ---- */

/* Goes into a kernel command line word: no spaces, quotes or controls. */
static int valid_partuuid(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-/=", *s))
			return 0;
	return 1;
}

static int find_drive(const struct vm_config *cfg, const char *id)
{
	for (int i = 0; i < cfg->nr_disks; i++)
		if (!strcmp(cfg->disks[i].id, id))
			return i;
	return -1;
}

static const char *const cache_names[] = {"Unsafe", "Writeback", NULL};
static const char *const engine_names[] = {"Sync", "Async", NULL};

int fc_put_drive(struct vm_config *cfg, const char *path_id, const json_t *body, char *err,
		 size_t errlen)
{
	static const char *const fields[] = {
	    "drive_id",	    "partuuid",	    "is_root_device", "cache_type", "is_read_only",
	    "path_on_host", "rate_limiter", "io_engine",      "socket",	    NULL};
	const char *path = NULL, *partuuid = NULL, *sock = NULL;
	bool root = false, ro = false;
	int cache = DISK_CACHE_UNSAFE, engine = DISK_IO_SYNC, rc, pos;
	struct disk_config d;

	if ((rc = fcj_checked_id(path_id, CONFIG_DRIVE_ID_MAX, "Drive IDs", err, errlen)) ||
	    (rc = fcj_object(body, "BlockDeviceConfig", fields, err, errlen)) ||
	    (rc = fcj_body_id(path_id, body, "drive_id", err, errlen)))
		return rc;
	if ((rc = fcj_bool(body, "is_root_device", &root, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("is_root_device", err, errlen);
	if ((rc = fcj_str(body, "socket", FCJ_PATH_MAX, &sock, err, errlen)) < 0)
		return rc;
	if (sock)
		return fcj_fail(err, errlen, -ENOTSUP,
				"vhost-user-block drives (socket) are not supported by this kite.");
	if ((rc = fcj_str(body, "path_on_host", FCJ_PATH_MAX, &path, err, errlen)) < 0)
		return rc;
	if (rc == 0)
		return fcj_missing("path_on_host", err, errlen);
	if (!*path)
		return fcj_fail(err, errlen, -EINVAL, "Invalid block device path: ");
	if ((rc = fcj_str(body, "partuuid", 64, &partuuid, err, errlen)) < 0 ||
	    (rc = fcj_bool(body, "is_read_only", &ro, err, errlen)) < 0 ||
	    (rc = fcj_enum(body, "cache_type", cache_names, &cache, err, errlen)) < 0 ||
	    (rc = fcj_enum(body, "io_engine", engine_names, &engine, err, errlen)) < 0)
		return rc;
	if (partuuid && (!*partuuid || !valid_partuuid(partuuid)))
		return fcj_fail(err, errlen, -EINVAL,
				"The partuuid may only contain letters, digits, '-', '/' and '='.");
	memset(&d, 0, sizeof(d));
	if ((rc = fcj_rate_limiter(json_object_get(body, "rate_limiter"), &d.rl, err, errlen)))
		return rc;

	pos = find_drive(cfg, path_id);
	/* Firecracker: the root drive is always first, and there is one. */
	if (root && cfg->nr_disks > 0 && cfg->disks[0].root && pos != 0)
		return fcj_fail(err, errlen, -EINVAL, "A root block device already exists!");
	if (pos < 0 && cfg->nr_disks == CONFIG_MAX_DISKS)
		return fcj_fail(err, errlen, -EINVAL,
				"Too many drives: this kite takes at most %d.", CONFIG_MAX_DISKS);

	strcpy(d.id, path_id); /* checked_id bounded it */
	d.read_only = ro;
	d.poll_us = CONFIG_DISK_POLL_US_DEFAULT;
	d.root = root;
	d.cache = (enum disk_cache)cache;
	d.io_engine = (enum disk_io_engine)engine;
	if ((rc = config_strdup(cfg, path, &d.path)))
		return fcj_fail(err, errlen, rc, "Out of memory.");
	if (partuuid && (rc = config_strdup(cfg, partuuid, &d.partuuid))) {
		config_release(cfg, d.path);
		return fcj_fail(err, errlen, rc, "Out of memory.");
	}

	if (pos >= 0) {
		config_release(cfg, cfg->disks[pos].path);
		config_release(cfg, cfg->disks[pos].partuuid);
		config_release(cfg, cfg->disks[pos].serial);
		cfg->disks[pos] = d;
		if (root && pos != 0) {
			struct disk_config t = cfg->disks[0];

			cfg->disks[0] = cfg->disks[pos];
			cfg->disks[pos] = t;
		}
	} else if (root) {
		memmove(&cfg->disks[1], &cfg->disks[0], (size_t)cfg->nr_disks * sizeof(d));
		cfg->disks[0] = d;
		cfg->nr_disks++;
	} else {
		cfg->disks[cfg->nr_disks++] = d;
	}
	return 0;
}

int fc_parse_drive_update(const char *path_id, const json_t *body, struct fc_drive_update *u,
			  char *err, size_t errlen)
{
	static const char *const fields[] = {"drive_id", "path_on_host", "rate_limiter", NULL};
	int rc;

	memset(u, 0, sizeof(*u));
	if ((rc = fcj_checked_id(path_id, CONFIG_DRIVE_ID_MAX, "Drive IDs", err, errlen)) ||
	    (rc = fcj_object(body, "BlockDeviceUpdateConfig", fields, err, errlen)) ||
	    (rc = fcj_body_id(path_id, body, "drive_id", err, errlen)))
		return rc;
	if ((rc = fcj_str(body, "path_on_host", FCJ_PATH_MAX, &u->path, err, errlen)) < 0)
		return rc;
	if (u->path && !*u->path)
		return fcj_fail(err, errlen, -EINVAL, "Invalid block device path: (empty)");
	if ((rc = fcj_rl_update(body, "rate_limiter", &u->rl, err, errlen)))
		return rc;
	strcpy(u->id, path_id);
	return 0;
}

int fc_apply_drive_update(struct vm_config *cfg, const struct fc_drive_update *u, char *err,
			  size_t errlen)
{
	int pos = find_drive(cfg, u->id);
	const char *p;
	int rc;

	if (pos < 0)
		return fcj_fail(err, errlen, -ENOENT, "Invalid block device ID: %s", u->id);
	if (u->path) {
		if ((rc = config_strdup(cfg, u->path, &p)))
			return fcj_fail(err, errlen, rc, "Out of memory.");
		config_release(cfg, cfg->disks[pos].path);
		cfg->disks[pos].path = p;
	}
	fc_rl_update_limits(&u->rl, &cfg->disks[pos].rl, &cfg->disks[pos].rl);
	return 0;
}

/* ---- entropy ---- */

int fc_put_entropy(struct vm_config *cfg, const json_t *body, char *err, size_t errlen)
{
	static const char *const fields[] = {"rate_limiter", NULL};
	struct rate_limiter_config rl;
	int rc;

	if ((rc = fcj_object(body, "EntropyDeviceConfig", fields, err, errlen)) ||
	    (rc = fcj_rate_limiter(json_object_get(body, "rate_limiter"), &rl, err, errlen)))
		return rc;
	cfg->rng = 1;
	cfg->rng_rl = rl;
	cfg->rng_rate = 0;
	return 0;
}
