/* The GET side of the Firecracker API: GET /machine-config and GET
 * /vm/config, built from struct vm_config in the shapes the PUT bodies and
 * the config file take, so that a GET /vm/config fed back as a config file
 * describes the same machine. */
#include "api/fc_config.h"

#include <stdio.h>

#include "api/fc_json.h"
#include "api/fc_net.h"

#define MIB (1ull << 20)

static const char *const huge_names[] = {"None", "2M", "Transparent"};
static const char *const mode_names[] = {"real", "protected", "long", "long-user"};

/* jansson takes NULL values to mean failure; an absent string is null. */
static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *fc_get_machine_config(const struct vm_config *cfg)
{
	unsigned h = cfg->huge_pages < ARRAY_SIZE(huge_names) ? cfg->huge_pages : 0;

	/* --memory may be given in KiB: round up to what the guest has. */
	return json_pack("{sI sI sb sb ss}", "vcpu_count", (json_int_t)cfg->cpus, "mem_size_mib",
			 (json_int_t)((cfg->memory + MIB - 1) / MIB), "smt", 0, "track_dirty_pages",
			 cfg->track_dirty_pages, "huge_pages", huge_names[h]);
}

static json_t *kite_ext(const struct vm_config *cfg)
{
	char hex[24];
	json_t *k, *regs = json_object();

	/* Addresses above 2^63 do not fit a JSON integer here: hex strings. */
	snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)cfg->load_addr);
	k = json_pack("{ss ss}", "mode",
		      mode_names[cfg->mode < ARRAY_SIZE(mode_names) ? cfg->mode : 0], "load_addr",
		      hex);
	if (!k || !regs)
		goto fail;
	if (cfg->entry_set) {
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)cfg->entry);
		json_object_set_new(k, "entry", json_string(hex));
	}
	for (int r = 0; r < GPR_COUNT; r++) {
		if (!(cfg->regs_set & (1u << r)))
			continue;
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)cfg->regs[r]);
		json_object_set_new(regs, config_reg_name(r), json_string(hex));
	}
	if (json_object_set_new(k, "regs", regs))
		goto fail_k;
	return k;
fail:
	json_decref(regs);
fail_k:
	json_decref(k);
	return NULL;
}

static json_t *boot_source(const struct vm_config *cfg)
{
	const char *args = cfg->fc ? cfg->boot_args : cfg->cmdline;
	json_t *b;

	if (!cfg->kernel && !cfg->image)
		return json_null();
	b = json_pack("{ss so}", "kernel_image_path", cfg->kernel ? cfg->kernel : cfg->image,
		      "initrd_path", str_or_null(cfg->initrd));
	if (!b)
		return NULL;
	/* Firecracker leaves boot_args out when none were given. */
	if (args)
		json_object_set_new(b, "boot_args", json_string(args));
	if (cfg->image && json_object_set_new(b, "kite", kite_ext(cfg))) {
		json_decref(b);
		return NULL;
	}
	return b;
}

static json_t *drive(const struct disk_config *d, int i)
{
	static const char *const cache[] = {"Unsafe", "Writeback"};
	static const char *const engine[] = {"Sync", "Async"};
	char id[CONFIG_DRIVE_ID_MAX + 1];

	snprintf(id, sizeof(id), "%s", d->id);
	if (!id[0])
		snprintf(id, sizeof(id), "blk%d", i);
	return json_pack("{ss ss sb so sb ss ss so sn}", "drive_id", id, "path_on_host",
			 d->path ? d->path : "", "is_root_device", d->root, "partuuid",
			 str_or_null(d->partuuid), "is_read_only", d->read_only, "cache_type",
			 cache[d->cache == DISK_CACHE_WRITEBACK], "io_engine",
			 engine[d->io_engine == DISK_IO_ASYNC], "rate_limiter",
			 fcj_rate_limiter_json(&d->rl), "socket");
}

static json_t *entropy(const struct vm_config *cfg)
{
	struct rate_limiter_config rl = cfg->rng_rl;

	if (!cfg->rng)
		return json_null();
	/* --rng=RATE is a bytes bucket refilled every second. */
	if (!rl.bandwidth.size && !rl.ops.size && cfg->rng_rate) {
		rl.bandwidth.size = cfg->rng_rate;
		rl.bandwidth.refill_time_ms = 1000;
	}
	return json_pack("{so}", "rate_limiter", fcj_rate_limiter_json(&rl));
}

static json_t *logger(const struct fc_logger *lg)
{
	if (!lg || !lg->set)
		return json_null();
	return json_pack("{so ss sb sb so}", "log_path", str_or_null(lg->log_path), "level",
			 fc_log_level_name(lg->level), "show_level", lg->show_level,
			 "show_log_origin", lg->show_log_origin, "module", str_or_null(lg->module));
}

static json_t *metrics(const struct fc_metrics *m)
{
	json_t *o;

	if (!m || !m->set)
		return json_null();
	o = json_pack("{ss sb}", "metrics_path", m->metrics_path ? m->metrics_path : "", "emit_id",
		      m->emit_id);
	if (o && m->properties && json_object_set(o, "properties", m->properties)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *fc_get_vm_config(const struct vm_config *cfg, const struct fc_logger *lg,
			 const struct fc_metrics *m)
{
	json_t *drives = json_array();
	json_t *o;

	if (!drives)
		return NULL;
	for (int i = 0; i < cfg->nr_disks && i < CONFIG_MAX_DISKS; i++) {
		if (json_array_append_new(drives, drive(&cfg->disks[i], i))) {
			json_decref(drives);
			return NULL;
		}
	}
	/* "o" steals each value and fails the whole pack on a NULL one. */
	o = json_pack("{so so so sn sn so so so so sn so sn so}", "boot-source", boot_source(cfg),
		      "drives", drives, "machine-config", fc_get_machine_config(cfg), "cpu-config",
		      "balloon", "network-interfaces", fc_get_nets(cfg), "vsock", fc_get_vsock(cfg),
		      "logger", logger(lg), "metrics", metrics(m), "mmds-config", "entropy",
		      entropy(cfg), "memory-hotplug", "pmem", json_array());
	return o;
}
