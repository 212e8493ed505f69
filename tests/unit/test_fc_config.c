/* fc_config: every Firecracker body kite takes (machine-config, boot-source,
 * drives, entropy, logger, metrics, the config file), valid and invalid,
 * from a table with the error text each must give; drive ordering and
 * limits; PUT against PATCH; GET /vm/config fed back as a config file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/fc_config.h"

#include "fc_config_cases.h"

static char err[512];

static int run_case(const struct body_case *c, struct vm_config *cfg, struct fc_logger *lg,
		    struct fc_metrics *m)
{
	json_error_t je;
	json_t *b;
	int rc;

	if (c->res == FILE_)
		return fc_config_json(cfg, lg, m, c->body, strlen(c->body), err, sizeof(err));
	b = json_loads(c->body, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!b)
		fail_msg("case body is not JSON: %s (%s)", c->body, je.text);
	switch (c->res) {
	case MC:
		rc = fc_put_machine_config(cfg, b, false, err, sizeof(err));
		break;
	case MC_PATCH:
		rc = fc_put_machine_config(cfg, b, true, err, sizeof(err));
		break;
	case BOOT:
		rc = fc_put_boot_source(cfg, b, err, sizeof(err));
		break;
	case DRIVE:
		rc = fc_put_drive(cfg, c->path_id, b, err, sizeof(err));
		break;
	case ENTROPY:
		rc = fc_put_entropy(cfg, b, err, sizeof(err));
		break;
	case LOGGER:
		rc = fc_put_logger(lg, b, err, sizeof(err));
		break;
	default:
		rc = fc_put_metrics(m, b, err, sizeof(err));
		break;
	}
	json_decref(b);
	return rc;
}

static void body_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct body_case *c = &cases[i];
		struct vm_config cfg, before;
		struct fc_logger lg = {0};
		struct fc_metrics m = {0};
		int rc;

		fc_config_init(&cfg);
		before = cfg;
		err[0] = 0;
		rc = run_case(c, &cfg, &lg, &m);
		if (rc != c->rc)
			fail_msg("case %zu (%s): rc %d, want %d; err '%s'", i, c->body, rc, c->rc,
				 err);
		if (c->want && !strstr(err, c->want))
			fail_msg("case %zu (%s): err '%s' lacks '%s'", i, c->body, err, c->want);
		/* A refused request changes nothing. */
		if (rc && c->res != FILE_) {
			assert_int_equal(cfg.nr_disks, before.nr_disks);
			assert_int_equal(cfg.cpus, before.cpus);
			assert_int_equal(cfg.memory, before.memory);
			assert_null(cfg.kernel);
			assert_null(cfg.image);
			assert_int_equal(cfg.rng, 0);
			assert_false(lg.set);
			assert_false(m.set);
			assert_int_equal(cfg.nr_owned, 0);
		}
		fc_logger_free(&lg);
		fc_metrics_free(&m);
		config_free(&cfg);
	}
}

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &je);

	if (!j)
		fail_msg("bad JSON in test: %s", je.text);
	return j;
}

static int put_drive(struct vm_config *cfg, const char *id, int root)
{
	char body[256];
	json_t *j;
	int rc;

	snprintf(body, sizeof(body),
		 "{\"drive_id\": \"%s\", \"path_on_host\": \"/img/%s\", \"is_root_device\": %s}",
		 id, id, root ? "true" : "false");
	j = J(body);
	rc = fc_put_drive(cfg, id, j, err, sizeof(err));
	json_decref(j);
	return rc;
}

static void drive_order_and_limits(void **state)
{
	struct vm_config cfg;
	char id[16];

	(void)state;
	fc_config_init(&cfg);
	assert_int_equal(put_drive(&cfg, "a", 0), 0);
	assert_int_equal(put_drive(&cfg, "b", 0), 0);
	/* A new root goes first. */
	assert_int_equal(put_drive(&cfg, "root", 1), 0);
	assert_string_equal(cfg.disks[0].id, "root");
	assert_string_equal(cfg.disks[1].id, "a");
	assert_string_equal(cfg.disks[2].id, "b");
	assert_true(cfg.disks[0].root);
	assert_int_equal(put_drive(&cfg, "c", 1), -EINVAL);
	assert_string_equal(err, "A root block device already exists!");
	/* Replacing keeps the position; replacing the root as root is fine. */
	assert_int_equal(put_drive(&cfg, "a", 0), 0);
	assert_string_equal(cfg.disks[1].id, "a");
	assert_int_equal(put_drive(&cfg, "root", 1), 0);
	assert_string_equal(cfg.disks[0].id, "root");
	assert_int_equal(cfg.nr_disks, 3);
	/* Demote the root in place, then promote b: it swaps to the front. */
	assert_int_equal(put_drive(&cfg, "root", 0), 0);
	assert_int_equal(put_drive(&cfg, "b", 1), 0);
	assert_string_equal(cfg.disks[0].id, "b");
	assert_string_equal(cfg.disks[2].id, "root");
	assert_string_equal(cfg.disks[0].path, "/img/b");
	/* Up to CONFIG_MAX_DISKS, then refused; replacing still works. */
	for (int i = cfg.nr_disks; i < CONFIG_MAX_DISKS; i++) {
		snprintf(id, sizeof(id), "x%d", i);
		assert_int_equal(put_drive(&cfg, id, 0), 0);
	}
	assert_int_equal(put_drive(&cfg, "onemore", 0), -EINVAL);
	assert_non_null(strstr(err, "at most 16"));
	assert_int_equal(put_drive(&cfg, "a", 0), 0);
	assert_int_equal(cfg.nr_disks, CONFIG_MAX_DISKS);
	/* Replaced strings are freed, not kept: one path per drive. */
	assert_int_equal(cfg.nr_owned, CONFIG_MAX_DISKS);
	config_free(&cfg);
}

static void machine_put_vs_patch(void **state)
{
	struct vm_config cfg;
	json_t *j;

	(void)state;
	fc_config_init(&cfg);
	assert_int_equal(cfg.cpus, 1);
	assert_int_equal(cfg.memory, 128ull << 20);
	j = J("{\"vcpu_count\": 4, \"mem_size_mib\": 512, \"track_dirty_pages\": true, "
	      "\"huge_pages\": \"2M\"}");
	assert_int_equal(fc_put_machine_config(&cfg, j, false, err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(cfg.cpus, 4);
	assert_int_equal(cfg.memory, 512ull << 20);
	assert_true(cfg.track_dirty_pages);
	assert_int_equal(cfg.huge_pages, HUGE_PAGES_2M);
	/* PATCH changes only what it names. */
	j = J("{\"vcpu_count\": 2}");
	assert_int_equal(fc_put_machine_config(&cfg, j, true, err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.memory, 512ull << 20);
	assert_true(cfg.track_dirty_pages);
	assert_int_equal(cfg.huge_pages, HUGE_PAGES_2M);
	/* PATCH checks the result: odd MiB on 2M pages. */
	j = J("{\"mem_size_mib\": 513}");
	assert_int_equal(fc_put_machine_config(&cfg, j, true, err, sizeof(err)), -EINVAL);
	json_decref(j);
	assert_int_equal(cfg.memory, 512ull << 20);
	/* PUT puts the optional fields back to their defaults. */
	j = J("{\"vcpu_count\": 1, \"mem_size_mib\": 256}");
	assert_int_equal(fc_put_machine_config(&cfg, j, false, err, sizeof(err)), 0);
	json_decref(j);
	assert_false(cfg.track_dirty_pages);
	assert_int_equal(cfg.huge_pages, HUGE_PAGES_NONE);
	j = fc_get_machine_config(&cfg);
	{
		char *s = json_dumps(j, JSON_SORT_KEYS);

		assert_string_equal(s, "{\"huge_pages\": \"None\", \"mem_size_mib\": 256, \"smt\": "
				       "false, \"track_dirty_pages\": false, \"vcpu_count\": 1}");
		free(s);
	}
	json_decref(j);
	config_free(&cfg);
}

static void boot_source_and_prepare(void **state)
{
	struct vm_config cfg;
	json_t *j;

	(void)state;
	fc_config_init(&cfg);
	assert_int_equal(fc_check_startable(&cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Cannot start microvm without kernel configuration.");
	assert_int_equal(fc_config_prepare(&cfg, err, sizeof(err)), -EINVAL);

	j = J("{\"kernel_image_path\": \"vmlinux\"}");
	assert_int_equal(fc_put_boot_source(&cfg, j, err, sizeof(err)), 0);
	json_decref(j);
	assert_string_equal(cfg.kernel, "vmlinux");
	assert_null(cfg.boot_args);
	assert_int_equal(fc_config_prepare(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.cmdline, FC_DEFAULT_BOOT_ARGS);
	assert_int_equal(cfg.irqchip, IRQCHIP_ON);

	/* A read-only root drive: root=/dev/vda ro; with a partuuid, PARTUUID. */
	j = J("{\"drive_id\": \"rootfs\", \"path_on_host\": \"r\", \"is_root_device\": true, "
	      "\"is_read_only\": true}");
	assert_int_equal(fc_put_drive(&cfg, "rootfs", j, err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(fc_config_prepare(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.cmdline, FC_DEFAULT_BOOT_ARGS " root=/dev/vda ro");
	j = J("{\"kernel_image_path\": \"bz\", \"boot_args\": \"console=ttyS0\"}");
	assert_int_equal(fc_put_boot_source(&cfg, j, err, sizeof(err)), 0);
	json_decref(j);
	j = J("{\"drive_id\": \"rootfs\", \"path_on_host\": \"r\", \"is_root_device\": true, "
	      "\"partuuid\": \"1234-01\"}");
	assert_int_equal(fc_put_drive(&cfg, "rootfs", j, err, sizeof(err)), 0);
	json_decref(j);
	assert_int_equal(fc_config_prepare(&cfg, err, sizeof(err)), 0);
	assert_int_equal(fc_config_prepare(&cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.cmdline, "console=ttyS0 root=PARTUUID=1234-01 rw");

	/* The raw-image extension: like --image. */
	j = J("{\"kernel_image_path\": \"demo.bin\", \"kite\": {\"mode\": \"long\", "
	      "\"load_addr\": \"0x200000\", \"regs\": {\"rax\": 2, \"rflags\": \"0x202\"}}}");
	assert_int_equal(fc_put_boot_source(&cfg, j, err, sizeof(err)), 0);
	json_decref(j);
	assert_null(cfg.kernel);
	assert_null(cfg.boot_args);
	assert_string_equal(cfg.image, "demo.bin");
	assert_int_equal(cfg.mode, MODE_LONG);
	assert_int_equal(cfg.load_addr, 0x200000);
	assert_int_equal(cfg.regs[GPR_RAX], 2);
	assert_int_equal(cfg.regs[GPR_RFLAGS], 0x202);
	assert_int_equal(cfg.regs_set, (1u << GPR_RAX) | (1u << GPR_RFLAGS));
	assert_int_equal(fc_config_prepare(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.entry, 0x200000);
	/* Back to a kernel: the extension's fields go back to defaults. */
	j = J("{\"kernel_image_path\": \"vmlinux\"}");
	assert_int_equal(fc_put_boot_source(&cfg, j, err, sizeof(err)), 0);
	json_decref(j);
	assert_null(cfg.image);
	assert_int_equal(cfg.regs_set, 0);
	assert_int_equal(cfg.mode, MODE_REAL);
	config_free(&cfg);
}

static void drive_patch(void **state)
{
	struct vm_config cfg;
	struct fc_drive_update u;
	json_t *j;

	(void)state;
	fc_config_init(&cfg);
	assert_int_equal(put_drive(&cfg, "drive_0", 0), 0);
	j = J("{\"drive_id\": \"drive_0\", \"path_on_host\": \"/new\", \"rate_limiter\": "
	      "{\"ops\": {\"size\": 500, \"refill_time\": 100}}}");
	assert_int_equal(fc_parse_drive_update("drive_0", j, &u, err, sizeof(err)), 0);
	assert_int_equal(fc_apply_drive_update(&cfg, &u, err, sizeof(err)), 0);
	json_decref(j);
	assert_string_equal(cfg.disks[0].path, "/new");
	assert_int_equal(cfg.disks[0].rl.ops.size, 500);
	j = J("{\"drive_id\": \"drive_0\", \"is_read_only\": true}");
	assert_int_equal(fc_parse_drive_update("drive_0", j, &u, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown field `is_read_only`"));
	json_decref(j);
	j = J("{\"drive_id\": \"nope\"}");
	assert_int_equal(fc_parse_drive_update("nope", j, &u, err, sizeof(err)), 0);
	assert_int_equal(fc_apply_drive_update(&cfg, &u, err, sizeof(err)), -ENOENT);
	json_decref(j);
	config_free(&cfg);
}

static void metrics_once(void **state)
{
	struct fc_metrics m = {0};
	json_t *j = J("{\"metrics_path\": \"/tmp/m\"}");

	(void)state;
	assert_int_equal(fc_put_metrics(&m, j, err, sizeof(err)), 0);
	assert_int_equal(fc_put_metrics(&m, j, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "Reinitialization of metrics not allowed.");
	assert_string_equal(m.metrics_path, "/tmp/m");
	json_decref(j);
	fc_metrics_free(&m);
}

/* The same shape as the spec's firecracker-vm-config.example.json. */
static const char example_json[] =
    "{\"boot-source\": {\"kernel_image_path\": \"vmlinux.bin\", \"boot_args\": "
    "\"console=ttyS0 reboot=k panic=1\", \"initrd_path\": null},"
    " \"drives\": [{\"drive_id\": \"rootfs\", \"partuuid\": null, \"is_root_device\": true,"
    " \"cache_type\": \"Unsafe\", \"is_read_only\": false, \"path_on_host\": "
    "\"bionic.rootfs.ext4\", \"io_engine\": \"Sync\", \"rate_limiter\": null, \"socket\": null}],"
    " \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 1024, \"smt\": false,"
    " \"track_dirty_pages\": false, \"huge_pages\": \"None\"},"
    " \"cpu-config\": null, \"balloon\": null, \"network-interfaces\": [], \"vsock\": null,"
    " \"logger\": null, \"metrics\": null, \"mmds-config\": null, \"entropy\": null,"
    " \"pmem\": [], \"memory-hotplug\": null}";

static void check_example(const struct vm_config *cfg)
{
	assert_string_equal(cfg->kernel, "vmlinux.bin");
	assert_string_equal(cfg->boot_args, "console=ttyS0 reboot=k panic=1");
	assert_null(cfg->initrd);
	assert_int_equal(cfg->nr_disks, 1);
	assert_string_equal(cfg->disks[0].id, "rootfs");
	assert_string_equal(cfg->disks[0].path, "bionic.rootfs.ext4");
	assert_true(cfg->disks[0].root);
	assert_false(cfg->disks[0].read_only);
	assert_int_equal(cfg->cpus, 2);
	assert_int_equal(cfg->memory, 1024ull << 20);
	assert_int_equal(cfg->rng, 0);
}

static void example_file(void **state)
{
	static const char spec[] = "/work/shared/specs/firecracker-vm-config.example.json";
	struct vm_config cfg;
	struct fc_logger lg = {0};
	struct fc_metrics m = {0};
	char path[] = "/tmp/test_fc_config_XXXXXX";
	int fd;

	(void)state;
	fc_config_init(&cfg);
	assert_int_equal(
	    fc_config_json(&cfg, &lg, &m, example_json, strlen(example_json), err, sizeof(err)), 0);
	check_example(&cfg);
	config_free(&cfg);

	/* Through a file, as --config-file reads it. */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, example_json, strlen(example_json)),
			 (ssize_t)strlen(example_json));
	close(fd);
	fc_config_init(&cfg);
	assert_int_equal(fc_config_file(&cfg, &lg, &m, path, err, sizeof(err)), 0);
	check_example(&cfg);
	config_free(&cfg);
	unlink(path);
	fc_config_init(&cfg);
	assert_int_equal(fc_config_file(&cfg, &lg, &m, path, err, sizeof(err)), -ENOENT);
	config_free(&cfg);

	/* The spec's own copy, where this machine has it. */
	if (access(spec, R_OK) == 0) {
		fc_config_init(&cfg);
		assert_int_equal(fc_config_file(&cfg, &lg, &m, spec, err, sizeof(err)), 0);
		check_example(&cfg);
		config_free(&cfg);
	}
}

static const char rich_json[] =
    "{\"boot-source\": {\"kernel_image_path\": \"/k/vmlinux\", \"initrd_path\": \"/k/initrd\","
    " \"boot_args\": \"console=ttyS0 quiet\"},"
    " \"drives\": ["
    "  {\"drive_id\": \"rootfs\", \"path_on_host\": \"/img/root\", \"is_root_device\": true,"
    "   \"is_read_only\": true, \"partuuid\": \"abcd-01\", \"cache_type\": \"Writeback\","
    "   \"io_engine\": \"Async\", \"rate_limiter\": {\"bandwidth\": {\"size\": 1048576,"
    "   \"one_time_burst\": 4096, \"refill_time\": 1000}}},"
    "  {\"drive_id\": \"drive_1\", \"path_on_host\": \"/img/d1\", \"is_root_device\": false,"
    "   \"rate_limiter\": {\"ops\": {\"size\": 100, \"refill_time\": 10}}},"
    "  {\"drive_id\": \"drive_2\", \"path_on_host\": \"/img/d2\", \"is_root_device\": false}],"
    " \"machine-config\": {\"vcpu_count\": 4, \"mem_size_mib\": 2048, \"track_dirty_pages\": true,"
    "  \"huge_pages\": \"2M\"},"
    " \"logger\": {\"log_path\": \"/run/fc.log\", \"level\": \"Debug\", \"show_level\": true},"
    " \"metrics\": {\"metrics_path\": \"/run/fc.metrics\", \"emit_id\": true,"
    "  \"properties\": {\"team\": \"kite\"}},"
    " \"entropy\": {\"rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 100}}}}";

static const char raw_json[] =
    "{\"boot-source\": {\"kernel_image_path\": \"demo.bin\", \"kite\": {\"mode\": \"long-user\","
    " \"load_addr\": 1048576, \"entry\": \"0x100010\", \"regs\": {\"rsp\": \"0x8000\","
    " \"r15\": \"0xffffffffffffffff\"}}}}";

static void same_cfg(const struct vm_config *a, const struct vm_config *b)
{
#define SAME_STR(f)                                                                                \
	do {                                                                                       \
		if (a->f || b->f) {                                                                \
			assert_non_null(a->f);                                                     \
			assert_non_null(b->f);                                                     \
			assert_string_equal(a->f, b->f);                                           \
		}                                                                                  \
	} while (0)
	SAME_STR(kernel);
	SAME_STR(image);
	SAME_STR(initrd);
	SAME_STR(boot_args);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->load_addr, b->load_addr);
	assert_int_equal(a->entry, b->entry);
	assert_int_equal(a->entry_set, b->entry_set);
	assert_memory_equal(a->regs, b->regs, sizeof(a->regs));
	assert_int_equal(a->regs_set, b->regs_set);
	assert_int_equal(a->cpus, b->cpus);
	assert_int_equal(a->memory, b->memory);
	assert_int_equal(a->huge_pages, b->huge_pages);
	assert_int_equal(a->track_dirty_pages, b->track_dirty_pages);
	assert_int_equal(a->rng, b->rng);
	assert_memory_equal(&a->rng_rl, &b->rng_rl, sizeof(a->rng_rl));
	assert_int_equal(a->nr_disks, b->nr_disks);
	for (int i = 0; i < a->nr_disks; i++) {
		SAME_STR(disks[i].path);
		SAME_STR(disks[i].partuuid);
		assert_string_equal(a->disks[i].id, b->disks[i].id);
		assert_int_equal(a->disks[i].root, b->disks[i].root);
		assert_int_equal(a->disks[i].read_only, b->disks[i].read_only);
		assert_int_equal(a->disks[i].cache, b->disks[i].cache);
		assert_int_equal(a->disks[i].io_engine, b->disks[i].io_engine);
		assert_memory_equal(&a->disks[i].rl, &b->disks[i].rl, sizeof(a->disks[i].rl));
	}
#undef SAME_STR
}

static void round_trip_one(const char *text)
{
	struct vm_config a, b;
	struct fc_logger la = {0}, lb = {0};
	struct fc_metrics ma = {0}, mb = {0};
	json_t *ja, *jb;
	char *sa, *sb;

	fc_config_init(&a);
	fc_config_init(&b);
	if (fc_config_json(&a, &la, &ma, text, strlen(text), err, sizeof(err)))
		fail_msg("first parse: %s", err);
	ja = fc_get_vm_config(&a, &la, &ma);
	assert_non_null(ja);
	sa = json_dumps(ja, JSON_SORT_KEYS);
	if (fc_config_json(&b, &lb, &mb, sa, strlen(sa), err, sizeof(err)))
		fail_msg("GET output does not parse back: %s\n%s", err, sa);
	same_cfg(&a, &b);
	assert_int_equal(la.set, lb.set);
	assert_int_equal(la.level, lb.level);
	assert_int_equal(la.show_level, lb.show_level);
	assert_int_equal(ma.emit_id, mb.emit_id);
	jb = fc_get_vm_config(&b, &lb, &mb);
	sb = json_dumps(jb, JSON_SORT_KEYS);
	assert_string_equal(sa, sb);
	free(sa);
	free(sb);
	json_decref(ja);
	json_decref(jb);
	fc_logger_free(&la);
	fc_logger_free(&lb);
	fc_metrics_free(&ma);
	fc_metrics_free(&mb);
	config_free(&a);
	config_free(&b);
}

static void get_round_trip(void **state)
{
	(void)state;
	round_trip_one(example_json);
	round_trip_one(rich_json);
	round_trip_one(raw_json);
}

static void get_from_cli_config(void **state)
{
	struct vm_config cfg;
	enum config_cmd cmd;
	char *argv[] = {
	    "kite",   "run",	  "--kernel",	"bz",	    "--cmdline", "console=ttyS0 quiet",
	    "--disk", "d.img,ro", "--rng=4096", "--memory", "4100K",	 NULL};
	json_t *j, *d;

	(void)state;
	assert_int_equal(config_parse(11, argv, &cfg, &cmd, err, sizeof(err)), 0);
	j = fc_get_vm_config(&cfg, NULL, NULL);
	assert_non_null(j);
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(j, "boot-source"), "boot_args")),
	    "console=ttyS0 quiet");
	d = json_array_get(json_object_get(j, "drives"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "drive_id")), "blk0");
	assert_true(json_is_true(json_object_get(d, "is_read_only")));
	assert_int_equal(json_integer_value(
			     json_object_get(json_object_get(j, "machine-config"), "mem_size_mib")),
			 5);
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(json_object_get(j, "entropy"), "rate_limiter"),
				"bandwidth"),
		"size")),
	    4096);
	json_decref(j);
}

static void log_levels(void **state)
{
	enum fc_log_level l;

	(void)state;
	assert_int_equal(fc_log_level_parse("warn", &l), 0);
	assert_int_equal(l, FC_LOG_WARN);
	assert_int_equal(fc_log_level_parse("TRACE", &l), 0);
	assert_int_equal(l, FC_LOG_TRACE);
	assert_int_equal(fc_log_level_parse("Off", &l), 0);
	assert_int_equal(l, FC_LOG_OFF);
	assert_int_equal(fc_log_level_parse("verbose", &l), -EINVAL);
	assert_string_equal(fc_log_level_name(FC_LOG_WARN), "Warning");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(body_table),	    cmocka_unit_test(drive_order_and_limits),
	    cmocka_unit_test(machine_put_vs_patch), cmocka_unit_test(boot_source_and_prepare),
	    cmocka_unit_test(drive_patch),	    cmocka_unit_test(metrics_once),
	    cmocka_unit_test(example_file),	    cmocka_unit_test(get_round_trip),
	    cmocka_unit_test(get_from_cli_config),  cmocka_unit_test(log_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
