/* Unit tests for src/api/router.c: every route before and after
 * InstanceStart from one table (status and the body or error text each
 * must give), with fake api_ops that record what the router asked of the
 * VMM; the paused state; failing ops passing their text through; bodies
 * that are missing, not JSON, not objects or with duplicate keys; path ids;
 * and the config the PUTs leave behind. Error bodies here are the plain
 * message: the server wraps it in {"fault_message": ...}. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "router_fixture.h"

struct route_case {
	const char *method, *path, *body;
	int pre; /* status before InstanceStart, and what the body holds */
	const char *pre_text;
	int post; /* the same once the machine runs */
	const char *post_text;
};

static const struct route_case cases[] = {
    /* GETs answer in every state. */
    {"GET", "/", NULL, 200, "\"state\":\"Not started\"", 200, "\"state\":\"Running\""},
    {"GET", "/", NULL, 200, "\"id\":\"vm_1\"", 200, "\"app_name\":\"Firecracker\""},
    {"GET", "/?a=b", "ignored", 200, "\"vmm_version\":\"" API_FIRECRACKER_VERSION "\"", 200, NULL},
    {"GET", "/version", NULL, 200, "{\"firecracker_version\":\"" API_FIRECRACKER_VERSION "\"}", 200,
     "firecracker_version"},
    {"GET", "/machine-config", NULL, 200, "\"vcpu_count\":1", 200, "\"mem_size_mib\":128"},
    {"GET", "/vm/config", NULL, 200, "\"machine-config\"", 200, "\"machine-config\""},
    /* Pre-boot resources: 204, then Firecracker's text. */
    {"PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256}", 204, NULL, 400,
     API_NOT_AFTER_BOOT},
    {"PATCH", "/machine-config", "{\"vcpu_count\": 2}", 204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PATCH", "/machine-config", "{}", 400, "Empty PATCH request.", 400, API_NOT_AFTER_BOOT},
    {"PUT", "/machine-config", "{\"vcpu_count\": 0, \"mem_size_mib\": 256}", 400,
     "The number of vCPUs must be greater than 0", 400, API_NOT_AFTER_BOOT},
    {"PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}", 204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/boot-source",
     "{\"kernel_image_path\": \"/k\", \"kite\": {\"mode\": \"long-user\", \"load_addr\": "
     "\"0x100000\", \"regs\": {\"rdi\": 7}}}",
     204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/drives/rootfs", DRIVE, 204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/entropy", "{}", 204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/logger", "{\"log_path\": \"/l\", \"level\": \"Debug\"}", 204, NULL, 400,
     API_NOT_AFTER_BOOT},
    {"PUT", "/metrics", "{\"metrics_path\": \"/m\"}", 204, NULL, 400, API_NOT_AFTER_BOOT},
    /* Actions. */
    {"PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", 204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", 400, API_NOT_BEFORE_BOOT, 204,
     NULL},
    {"PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", 204, NULL, 204, NULL},
    {"PUT", "/actions", "{\"action_type\": \"Reboot\"}", 400, "unknown action_type Reboot", 400,
     "unknown action_type Reboot"},
    {"PUT", "/actions", "{\"action_type\": 1}", 400, DESER, 400, DESER},
    {"PUT", "/actions", "{\"action_type\": \"FlushMetrics\", \"x\": 1}", 400, DESER, 400, DESER},
    {"PUT", "/actions", "{}", 400, DESER, 400, DESER},
    {"PUT", "/actions", NULL, 400, "Empty request body: PUT /actions needs a JSON body", 400,
     "Empty request body"},
    /* Pause and resume: post-boot only. */
    {"PATCH", "/vm", "{\"state\": \"Paused\"}", 400, API_NOT_BEFORE_BOOT, 204, NULL},
    {"PATCH", "/vm", "{\"state\": \"Resumed\"}", 400, API_NOT_BEFORE_BOOT, 204, NULL},
    {"PATCH", "/vm", "{\"state\": \"Frozen\"}", 400, API_NOT_BEFORE_BOOT, 400,
     "unknown state Frozen"},
    {"PATCH", "/vm", "{\"state\": \"Paused\", \"x\": 1}", 400, API_NOT_BEFORE_BOOT, 400, DESER},
    {"PATCH", "/vm", NULL, 400, API_NOT_BEFORE_BOOT, 400, "Empty request body"},
    /* PATCH /drives/{id}: post-boot only, through the update_drive op. */
    {"PATCH", "/drives/rootfs", "{\"drive_id\": \"rootfs\"}", 400, API_NOT_BEFORE_BOOT, 204, NULL},
    /* Network interfaces: PUT before boot, PATCH (the limiters) after. */
    {"PUT", "/network-interfaces/eth0", NET0, 204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/network-interfaces/eth0", "{}", 400, DESER ": missing field `iface_id`", 400,
     API_NOT_AFTER_BOOT},
    {"PUT", "/network-interfaces/eth1", NET0, 400,
     "The id from the path does not match the id from the body!", 400, API_NOT_AFTER_BOOT},
    {"PUT", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\", \"x\": 1}",
     400, "unknown field `x`", 400, API_NOT_AFTER_BOOT},
    {"PUT", "/network-interfaces/bad-id", NET0, 400, "Invalid ID", 400, "Invalid ID"},
    {"PUT", "/network-interfaces/", NET0, 400, "Invalid ID", 400, "Invalid ID"},
    {"PUT", "/network-interfaces", NET0, 400, BAD_PATH, 400, BAD_PATH},
    {"GET", "/network-interfaces/eth0", NULL, 400, "(the path takes other methods)", 400,
     "(the path takes other methods)"},
    {"PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\"}", 400, API_NOT_BEFORE_BOOT,
     204, NULL},
    {"PATCH", "/network-interfaces/eth0", NET_PATCH, 400, API_NOT_BEFORE_BOOT, 204, NULL},
    {"PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth1\"}", 400, API_NOT_BEFORE_BOOT,
     400, "does not match"},
    {"PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"host_dev_name\": \"t\"}",
     400, API_NOT_BEFORE_BOOT, 400, "unknown field `host_dev_name`"},
    {"PATCH", "/network-interfaces/eth0",
     "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1}}}", 400,
     API_NOT_BEFORE_BOOT, 400, "missing field `refill_time`"},
    {"PATCH", "/network-interfaces/eth0", NULL, 400, API_NOT_BEFORE_BOOT, 400,
     "Empty request body"},
    /* vsock: pre-boot only. */
    {"PUT", "/vsock", VSOCK, 204, NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"/v\", \"vsock_id\": \"vsock0\"}", 204,
     NULL, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/vsock", "{\"guest_cid\": 2, \"uds_path\": \"/v\"}", 400, "Invalid guest_cid 2", 400,
     API_NOT_AFTER_BOOT},
    {"PUT", "/vsock", "{}", 400, "missing field `guest_cid`", 400, API_NOT_AFTER_BOOT},
    {"PATCH", "/vsock", VSOCK, 400, "(the path takes other methods)", 400,
     "(the path takes other methods)"},
    /* PATCH /entropy: kite's extension, after boot. */
    {"PATCH", "/entropy", ENTROPY_PATCH, 400, API_NOT_BEFORE_BOOT, 204, NULL},
    {"PATCH", "/entropy", "{}", 400, API_NOT_BEFORE_BOOT, 400, "missing field `rate_limiter`"},
    {"PATCH", "/entropy", "{\"rate_limiter\": {\"x\": {}}}", 400, API_NOT_BEFORE_BOOT, 400,
     "unknown field `x`"},
    /* Snapshots: create after boot (on a paused machine), load before it. */
    {"PUT", "/snapshot/create", "{}", 400, API_NOT_BEFORE_BOOT, 400,
     "missing field `snapshot_path`"},
    {"PUT", "/snapshot/load", "{}", 400, "missing field `snapshot_path`", 400,
     API_NOT_AFTER_BOOT},
    {"GET", "/balloon", NULL, 400, "GET /balloon " UNSUPPORTED, 400, UNSUPPORTED},
    {"GET", "/balloon/statistics", NULL, 400, UNSUPPORTED, 400, UNSUPPORTED},
    {"PUT", "/mmds", "{}", 400, UNSUPPORTED, 400, UNSUPPORTED},
    {"GET", "/mmds", NULL, 400, UNSUPPORTED, 400, UNSUPPORTED},
    {"PUT", "/mmds/config", "{}", 400, UNSUPPORTED, 400, UNSUPPORTED},
    {"PUT", "/cpu-config", "{}", 400, UNSUPPORTED, 400, UNSUPPORTED},
    {"PUT", "/serial", "{}", 400, UNSUPPORTED, 400, UNSUPPORTED},
    {"GET", "/hotplug/memory", NULL, 400, UNSUPPORTED, 400, UNSUPPORTED},
    /* Unknown paths and methods: named, and whether the path exists. */
    {"GET", "/nope", NULL, 400, BAD_PATH ": GET /nope", 400, BAD_PATH ": GET /nope"},
    {"DELETE", "/", NULL, 400, BAD_PATH ": DELETE / (the path takes other methods)", 400,
     "(the path takes other methods)"},
    {"POST", "/actions", "{}", 400, "POST /actions (the path takes other methods)", 400,
     "(the path takes other methods)"},
    {"GET", "/drives/rootfs", NULL, 400, "(the path takes other methods)", 400, BAD_PATH},
    {"PUT", "/drives", DRIVE, 400, BAD_PATH ": PUT /drives", 400, BAD_PATH},
    {"PUT", "/drives/a/b", DRIVE, 400, BAD_PATH, 400, BAD_PATH},
    {"PUT", "/machine-config/", "{}", 400, BAD_PATH, 400, BAD_PATH},
    {"PUT", "//machine-config", "{}", 400, BAD_PATH, 400, BAD_PATH},
    {"get", "/", NULL, 400, BAD_PATH ": get /", 400, BAD_PATH},
    /* Path ids: alphanumeric or '_', checked before the boot state. */
    {"PUT", "/drives/bad-id", DRIVE, 400, "Invalid ID", 400, "Invalid ID"},
    {"PUT", "/drives/", DRIVE, 400, "Invalid ID", 400, "Invalid ID"},
    {"PUT", "/drives/%72ootfs", DRIVE, 400, "Invalid ID", 400, "Invalid ID"},
    {"PUT", "/drives/other", DRIVE, 400, NULL, 400, API_NOT_AFTER_BOOT},
    /* Bodies that are not JSON objects. */
    {"PUT", "/machine-config", "{", 400, DESER, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/machine-config", "[1, 2]", 400, DESER ": not an object", 400, API_NOT_AFTER_BOOT},
    {"PUT", "/machine-config", "\"x\"", 400, DESER, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64} trailing", 400, DESER,
     400, API_NOT_AFTER_BOOT},
    {"PUT", "/machine-config", "{\"vcpu_count\": 1, \"vcpu_count\": 2, \"mem_size_mib\": 64}", 400,
     DESER, 400, API_NOT_AFTER_BOOT},
    {"PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64, \"bogus\": 1}", 400,
     "bogus", 400, API_NOT_AFTER_BOOT},
    {"PUT", "/logger", "\xff\xfe", 400, DESER, 400, API_NOT_AFTER_BOOT},
};

static void route_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct route_case *c = &cases[i];

		reset();
		expect(c->method, c->path, c->body, c->pre, c->pre_text, "before boot");
		reset();
		fk.state = API_RUNNING;
		expect(c->method, c->path, c->body, c->post, c->post_text, "after boot");
		reset();
		fk.state = API_PAUSED;
		/* Paused counts as started: the post-boot answers hold, except
		 * GET /, which says Paused. */
		if (strcmp(c->path, "/") && strcmp(c->path, "/?a=b"))
			expect(c->method, c->path, c->body, c->post, c->post_text, "paused");
	}
}

static void state_machine(void **state)
{
	(void)state;
	reset();
	expect("PUT", "/boot-source", "{\"kernel_image_path\": \"/k\"}", 204, NULL, "pre");
	expect("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", 204, NULL, "start");
	assert_int_equal(fk.starts, 1);
	expect("GET", "/", NULL, 200, "\"state\":\"Running\"", "running");
	expect("PATCH", "/vm", "{\"state\": \"Paused\"}", 204, NULL, "pause");
	expect("GET", "/", NULL, 200, "\"state\":\"Paused\"", "paused");
	/* Repeating a state is not an error; the VMM decides it is a no-op. */
	expect("PATCH", "/vm", "{\"state\": \"Paused\"}", 204, NULL, "pause again");
	assert_int_equal(fk.pauses, 2);
	expect("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}", 400,
	       API_NOT_AFTER_BOOT, "paused");
	expect("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", 400, API_NOT_AFTER_BOOT,
	       "paused");
	assert_int_equal(fk.starts, 1);
	expect("PATCH", "/vm", "{\"state\": \"Resumed\"}", 204, NULL, "resume");
	expect("PATCH", "/vm", "{\"state\": \"Resumed\"}", 204, NULL, "resume again");
	assert_int_equal(fk.resumes, 2);
	expect("GET", "/", NULL, 200, "\"state\":\"Running\"", "resumed");
	expect("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", 204, NULL, "cad");
	expect("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", 204, NULL, "flush");
	assert_int_equal(fk.cads, 1);
	assert_int_equal(fk.flushes, 1);
}

/* The VMM's error text reaches the client; the state is what it was. */
static void ops_failures(void **state)
{
	(void)state;
	reset();
	fk.start_rc = -EINVAL;
	expect("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", 400, "fake start failed",
	       "start fails");
	expect("GET", "/", NULL, 200, "\"state\":\"Not started\"", "after a failed start");
	/* A failed start may be retried (the client fixes the config). */
	fk.start_rc = 0;
	expect("PUT", "/machine-config", "{\"vcpu_count\": 1, \"mem_size_mib\": 64}", 204, NULL,
	       "fix");
	expect("PUT", "/actions", "{\"action_type\": \"InstanceStart\"}", 204, NULL, "retry");
	fk.pause_rc = -EIO;
	expect("PATCH", "/vm", "{\"state\": \"Paused\"}", 400, "fake pause failed", "pause fails");
	expect("GET", "/", NULL, 200, "\"state\":\"Running\"", "after a failed pause");
	fk.state = API_PAUSED;
	fk.resume_rc = -EIO;
	expect("PATCH", "/vm", "{\"state\": \"Resumed\"}", 400, "fake resume failed",
	       "resume fails");
	fk.state = API_RUNNING;
	fk.cad_rc = -EBUSY;
	expect("PUT", "/actions", "{\"action_type\": \"SendCtrlAltDel\"}", 400,
	       "fake ctrl-alt-del failed", "cad fails");
	fk.flush_rc = -EINVAL;
	expect("PUT", "/actions", "{\"action_type\": \"FlushMetrics\"}", 400, "fake flush failed",
	       "flush fails");
}

/* What the PUTs leave in the config, and what a refused one does not. */
static void config_effects(void **state)
{
	char *out;

	(void)state;
	reset();
	expect("PUT", "/machine-config", "{\"vcpu_count\": 2, \"mem_size_mib\": 256}", 204, NULL,
	       "mc");
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.memory, 256ull << 20);
	expect("PATCH", "/machine-config", "{\"mem_size_mib\": 64}", 204, NULL, "patch");
	assert_int_equal(cfg.cpus, 2);
	assert_int_equal(cfg.memory, 64ull << 20);
	expect("PUT", "/machine-config", "{\"vcpu_count\": 4, \"mem_size_mib\": 0}", 400, NULL,
	       "refused");
	assert_int_equal(cfg.cpus, 2);
	expect("GET", "/machine-config", NULL, 200, "\"vcpu_count\":2,\"mem_size_mib\":64", "get");
	expect("PUT", "/drives/rootfs", DRIVE, 204, NULL, "drive");
	expect("PUT", "/drives/data_1",
	       "{\"drive_id\": \"data_1\", \"path_on_host\": \"/d\", \"is_root_device\": false, "
	       "\"is_read_only\": true}",
	       204, NULL, "drive 2");
	assert_int_equal(cfg.nr_disks, 2);
	expect("PUT", "/drives/data_1",
	       "{\"drive_id\": \"data_2\", \"path_on_host\": \"/d\", \"is_root_device\": false}",
	       400, NULL, "id mismatch");
	assert_int_equal(cfg.nr_disks, 2);
	expect("PUT", "/boot-source",
	       "{\"kernel_image_path\": \"/img\", \"kite\": {\"mode\": \"long-user\", "
	       "\"load_addr\": \"0x100000\"}}",
	       204, NULL, "boot");
	assert_non_null(cfg.image);
	assert_string_equal(cfg.image, "/img");
	assert_int_equal(cfg.load_addr, 0x100000);
	expect("PUT", "/metrics", "{\"metrics_path\": \"/m\"}", 204, NULL, "metrics");
	expect("PUT", "/metrics", "{\"metrics_path\": \"/m2\"}", 400,
	       "Reinitialization of metrics not allowed.", "metrics again");
	expect("PUT", "/logger", "{\"log_path\": \"/l\"}", 204, NULL, "logger");
	assert_true(rt.logger.set);
	assert_true(rt.metrics.set);
	assert_int_equal(call("GET", "/vm/config", NULL, &out), 200);
	assert_non_null(out);
	assert_non_null(strstr(out, "\"drive_id\":\"rootfs\""));
	assert_non_null(strstr(out, "\"drive_id\":\"data_1\""));
	assert_non_null(strstr(out, "\"metrics_path\":\"/m\""));
	assert_non_null(strstr(out, "\"log_path\":\"/l\""));
	assert_non_null(strstr(out, "\"kernel_image_path\":\"/img\""));
	free(out);
}

/* Paths at the parser's limit, with every byte a request-target may hold,
 * quoted back in the error without overflowing it. */
static void long_paths(void **state)
{
	char path[HTTP_LINE_MAX], *out;

	(void)state;
	reset();
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(call("GET", path, NULL, &out), 400);
	assert_non_null(strstr(out, BAD_PATH));
	free(out);
	memcpy(path, "/drives/", 8);
	assert_int_equal(call("PUT", path, DRIVE, &out), 400);
	assert_non_null(strstr(out, "Invalid ID"));
	free(out);
	/* A 64-character id is the longest taken. */
	memset(path + 8, 'd', 64);
	path[8 + 64] = '\0';
	assert_int_equal(call("PUT", path, DRIVE, &out), 400);
	assert_null(strstr(out, "Invalid ID"));
	free(out);
	path[8 + 65] = '\0';
	path[8 + 64] = 'd';
	assert_int_equal(call("PUT", path, DRIVE, &out), 400);
	assert_non_null(strstr(out, "Invalid ID"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(route_table),  cmocka_unit_test(state_machine),
	    cmocka_unit_test(ops_failures), cmocka_unit_test(config_effects),
	    cmocka_unit_test(long_paths),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
