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

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/router.h"

struct fake {
	enum api_state state;
	int start_rc, pause_rc, resume_rc, cad_rc, flush_rc;
	int starts, pauses, resumes, cads, flushes, drive_updates;
	int net_rc, entropy_rc, net_updates, entropy_updates;
	struct fc_net_update net; /* the last update_net asked for */
	struct fc_rl_update entropy;
};

static struct vm_config cfg;
static struct fake fk;
static struct api_router rt;

static enum api_state fk_state(void *ctx)
{
	return ((struct fake *)ctx)->state;
}

static int fk_result(int rc, const char *what, char *err, size_t errlen)
{
	if (rc)
		snprintf(err, errlen, "fake %s failed", what);
	return rc;
}

static int fk_start(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->starts++;
	if (!f->start_rc)
		f->state = API_RUNNING;
	return fk_result(f->start_rc, "start", err, errlen);
}

static int fk_pause(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->pauses++;
	if (!f->pause_rc)
		f->state = API_PAUSED;
	return fk_result(f->pause_rc, "pause", err, errlen);
}

static int fk_resume(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->resumes++;
	if (!f->resume_rc)
		f->state = API_RUNNING;
	return fk_result(f->resume_rc, "resume", err, errlen);
}

static int fk_cad(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->cads++;
	return fk_result(f->cad_rc, "ctrl-alt-del", err, errlen);
}

static int fk_update_drive(void *ctx, const struct fc_drive_update *u, char *err, size_t errlen)
{
	struct fake *f = ctx;

	(void)u;
	f->drive_updates++;
	return fk_result(0, "update-drive", err, errlen);
}

static int fk_update_net(void *ctx, const struct fc_net_update *u, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->net_updates++;
	f->net = *u;
	return fk_result(f->net_rc, "update-net", err, errlen);
}

static int fk_update_entropy(void *ctx, const struct fc_rl_update *u, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->entropy_updates++;
	f->entropy = *u;
	return fk_result(f->entropy_rc, "update-entropy", err, errlen);
}

static int fk_flush(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;

	f->flushes++;
	return fk_result(f->flush_rc, "flush", err, errlen);
}

static void reset(void)
{
	config_free(&cfg);
	fc_logger_free(&rt.logger);
	fc_metrics_free(&rt.metrics);
	fc_config_init(&cfg);
	memset(&fk, 0, sizeof(fk));
	rt = (struct api_router){
	    .cfg = &cfg,
	    .id = "vm_1",
	    .ops = {&fk, fk_state, fk_start, fk_pause, fk_resume, fk_cad, fk_flush, fk_update_drive},
	};
	rt.ops.dev = (struct api_dev_ops){&fk, fk_update_net, fk_update_entropy};
}

static int setup(void **state)
{
	(void)state;
	fc_config_init(&cfg);
	reset();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	config_free(&cfg);
	fc_logger_free(&rt.logger);
	fc_metrics_free(&rt.metrics);
	return 0;
}

/* One request through api_route; *out gets the reply body (free it). The
 * body is copied to a buffer of its exact size, with no NUL after it, as
 * the server hands it over, so that ASan sees a read past it. */
static int call(const char *method, const char *path, const char *body, char **out)
{
	struct http_request req = {0};
	struct api_reply reply = {0};
	size_t n = body ? strlen(body) : 0;
	uint8_t *copy = malloc(n ? n : 1);

	assert_non_null(copy);
	memcpy(copy, body ? body : "", n);
	snprintf(req.method, sizeof(req.method), "%s", method);
	snprintf(req.path, sizeof(req.path), "%s", path);
	if (strchr(req.path, '?')) { /* split as http_parse does */
		snprintf(req.query, sizeof(req.query), "%s", strchr(req.path, '?') + 1);
		*strchr(req.path, '?') = '\0';
		req.has_query = true;
	}
	req.minor = 1;
	req.keep_alive = true;
	req.headers_done = true;
	req.content_length = n;
	req.body = copy;
	api_route(&rt, &req, &reply);
	free(copy);
	*out = reply.body;
	return reply.status;
}

/* Status and body: for 200 a JSON object containing `want` as text; for
 * 204 no body; for 400 a message containing `want` (NULL: any). */
static void expect(const char *method, const char *path, const char *body, int status,
		   const char *want, const char *when)
{
	char *out = NULL;
	int st = call(method, path, body, &out);

	if (st != status)
		fail_msg("%s %s %s (%s): status %d, expected %d; body %s", method, path,
			 body ? body : "", when, st, status, out ? out : "(none)");
	if (status == 204 && out)
		fail_msg("%s %s (%s): 204 with a body %s", method, path, when, out);
	if (status == 200) {
		json_t *j = out ? json_loads(out, 0, NULL) : NULL;

		if (!json_is_object(j))
			fail_msg("%s %s (%s): 200 body is not a JSON object: %s", method, path,
				 when, out ? out : "(none)");
		json_decref(j);
	}
	if (status >= 400 && (!out || !*out))
		fail_msg("%s %s (%s): %d without a message", method, path, when, status);
	if (want && (!out || !strstr(out, want)))
		fail_msg("%s %s %s (%s): body %s lacks \"%s\"", method, path, body ? body : "",
			 when, out ? out : "(none)", want);
	free(out);
}

#define DRIVE "{\"drive_id\": \"rootfs\", \"path_on_host\": \"/r\", \"is_root_device\": true}"
#define UNSUPPORTED "is not supported by this kite"
#define BAD_PATH "Invalid request method and/or path"
#define DESER "An error occurred when deserializing the json body of a request"
#define NET0 "{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\"}"
#define NET_PATCH                                                                                  \
	"{\"iface_id\": \"eth0\", \"tx_rate_limiter\": {\"ops\": {\"size\": 10, \"refill_time\": "    \
	"100}}, \"rx_rate_limiter\": null}"
#define VSOCK "{\"guest_cid\": 3, \"uds_path\": \"/tmp/v.sock\"}"
#define ENTROPY_PATCH "{\"rate_limiter\": {\"bandwidth\": {\"size\": 64, \"refill_time\": 10}}}"

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

static void put_net(const char *id, const char *tap, const char *mac, int status,
		    const char *want)
{
	char path[64], body[256];

	snprintf(path, sizeof(path), "/network-interfaces/%s", id);
	snprintf(body, sizeof(body),
		 "{\"iface_id\": \"%s\", \"host_dev_name\": \"%s\"%s%s%s}", id, tap,
		 mac ? ", \"guest_mac\": \"" : "", mac ? mac : "", mac ? "\"" : "");
	expect("PUT", path, body, status, want, id);
}

/* Network interfaces and vsock before boot: what the PUTs leave in the
 * config, the refusals (one tap or one MAC twice, too many), a re-PUT
 * replacing, GET /vm/config showing them; no snapshot load after. */
static void net_and_vsock_effects(void **state)
{
	char *out, id[8], tap[8];

	(void)state;
	reset();
	put_net("eth0", "tap0", "06:00:ac:10:00:02", 204, NULL);
	put_net("eth1", "tap1", NULL, 204, NULL);
	assert_int_equal(cfg.nr_nets, 2);
	assert_string_equal(cfg.nets[0].id, "eth0");
	assert_string_equal(cfg.nets[0].tap, "tap0");
	assert_true(cfg.nets[0].has_mac);
	assert_false(cfg.nets[1].has_mac);
	put_net("eth2", "tap0", NULL, 400, "tap tap0: given twice");
	put_net("eth2", "tap2", "06:00:AC:10:00:02", 400, "cannot share a MAC");
	put_net("eth2", "tap2", "07:00:ac:10:00:02", 400, "multicast");
	put_net("eth2", "tap2", "06:00:ac:10:00", 400, "six hex octets");
	put_net("eth2", "a_name_too_long_", NULL, 400, "1 to 15 characters");
	put_net("iface_id_too_long", "tap2", NULL, 400, "at most 15 characters");
	assert_int_equal(cfg.nr_nets, 2);
	/* A re-PUT replaces in place; its own tap and MAC are no conflict. */
	put_net("eth0", "tap0", "06:00:ac:10:00:03", 204, NULL);
	put_net("eth0", "tap9", NULL, 204, NULL);
	assert_int_equal(cfg.nr_nets, 2);
	assert_string_equal(cfg.nets[0].tap, "tap9");
	assert_false(cfg.nets[0].has_mac);
	expect("PUT", "/network-interfaces/eth1",
	       "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 9000, "
	       "\"rx_rate_limiter\": {\"bandwidth\": {\"size\": 1000, \"refill_time\": 100}}, "
	       "\"tx_rate_limiter\": {\"ops\": {\"size\": 5, \"one_time_burst\": 2, "
	       "\"refill_time\": 50}}}",
	       204, NULL, "limits");
	assert_int_equal(cfg.nets[1].mtu, 9000);
	assert_int_equal(cfg.nets[1].rx_rl.bandwidth.size, 1000);
	assert_int_equal(cfg.nets[1].tx_rl.ops.one_time_burst, 2);
	expect("PUT", "/network-interfaces/eth1",
	       "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 67}", 400,
	       "Invalid mtu 67", "mtu");
	expect("PUT", "/network-interfaces/eth1",
	       "{\"iface_id\": \"eth1\", \"host_dev_name\": \"tap1\", \"mtu\": 65536}", 400,
	       "expected u16", "mtu");
	assert_int_equal(cfg.nets[1].mtu, 9000); /* refused: unchanged */
	for (int i = 2; i < CONFIG_MAX_NETS; i++) {
		snprintf(id, sizeof(id), "e%d", i);
		snprintf(tap, sizeof(tap), "t%d", i);
		put_net(id, tap, NULL, 204, NULL);
	}
	put_net("one_more", "tap_more", NULL, 400, "at most 8");
	assert_int_equal(cfg.nr_nets, CONFIG_MAX_NETS);
	expect("PUT", "/vsock", VSOCK, 204, NULL, "vsock");
	expect("PUT", "/vsock", "{\"guest_cid\": 4294967295, \"uds_path\": \"/v\"}", 400,
	       "Invalid guest_cid", "cid any");
	expect("PUT", "/vsock", "{\"guest_cid\": 4294967296, \"uds_path\": \"/v\"}", 400,
	       "expected u32", "cid big");
	expect("PUT", "/vsock", "{\"guest_cid\": 3, \"uds_path\": \"\"}", 400, "Invalid uds_path",
	       "empty uds");
	assert_string_equal(cfg.vsock_uds, "/tmp/v.sock");
	expect("PUT", "/vsock", "{\"guest_cid\": 77, \"uds_path\": \"/run/w.sock\"}", 204, NULL,
	       "vsock again");
	assert_int_equal(cfg.vsock_cid, 77);
	assert_string_equal(cfg.vsock_uds, "/run/w.sock");
	assert_int_equal(call("GET", "/vm/config", NULL, &out), 200);
	assert_non_null(strstr(out, "\"vsock\":{\"guest_cid\":77,\"uds_path\":\"/run/w.sock\"}"));
	assert_non_null(strstr(out, "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap9\","
				    "\"guest_mac\":null,\"rx_rate_limiter\":null,"
				    "\"tx_rate_limiter\":null}"));
	assert_non_null(strstr(out, "\"rx_rate_limiter\":{\"bandwidth\":{\"size\":1000,"
				    "\"one_time_burst\":0,\"refill_time\":100}}"));
	assert_non_null(strstr(out, "\"mtu\":9000"));
	free(out);
	/* Boot-specific resources: a snapshot can no longer be loaded. */
	expect("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
	       400, "not allowed after configuring boot-specific resources", "load");
	reset();
	expect("PUT", "/vsock", VSOCK, 204, NULL, "vsock only");
	expect("PUT", "/snapshot/load", "{\"snapshot_path\": \"/s\", \"mem_file_path\": \"/m\"}",
	       400, "not allowed after configuring boot-specific resources", "load");
}

/* PATCH /network-interfaces/{id} and /entropy reach the ops with what
 * the body gave (which limiter, which buckets); the op's text comes
 * back; a router without the ops says so. */
static void patches_reach_ops(void **state)
{
	(void)state;
	reset();
	fk.state = API_RUNNING;
	expect("PATCH", "/network-interfaces/eth0", NET_PATCH, 204, NULL, "patch");
	assert_int_equal(fk.net_updates, 1);
	assert_string_equal(fk.net.id, "eth0");
	assert_false(fk.net.rx.given); /* null: keep */
	assert_true(fk.net.tx.given);
	assert_true(fk.net.tx.ops);
	assert_false(fk.net.tx.bandwidth);
	assert_int_equal(fk.net.tx.rl.ops.size, 10);
	assert_int_equal(fk.net.tx.rl.ops.refill_time_ms, 100);
	/* A bucket given with size 0 disables it (given, all zero). */
	expect("PATCH", "/network-interfaces/eth0",
	       "{\"iface_id\": \"eth0\", \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 0, "
	       "\"refill_time\": 0}}}",
	       204, NULL, "disable");
	assert_true(fk.net.rx.given);
	assert_true(fk.net.rx.bandwidth);
	assert_int_equal(fk.net.rx.rl.bandwidth.size, 0);
	fk.net_rc = -ENOENT;
	expect("PATCH", "/network-interfaces/nope", "{\"iface_id\": \"nope\"}", 400,
	       "fake update-net failed", "op fails");
	/* A bad body never reaches the op. */
	expect("PATCH", "/network-interfaces/eth0", "{\"iface_id\": \"eth0\", \"x\": 1}", 400,
	       "unknown field", "bad body");
	assert_int_equal(fk.net_updates, 3);
	expect("PATCH", "/entropy", ENTROPY_PATCH, 204, NULL, "entropy");
	assert_int_equal(fk.entropy_updates, 1);
	assert_true(fk.entropy.bandwidth);
	assert_false(fk.entropy.ops);
	assert_int_equal(fk.entropy.rl.bandwidth.size, 64);
	fk.entropy_rc = -ENODEV;
	expect("PATCH", "/entropy", ENTROPY_PATCH, 400, "fake update-entropy failed", "fails");
	rt.ops.dev = (struct api_dev_ops){0};
	expect("PATCH", "/network-interfaces/eth0", NET_PATCH, 400, "not available here", "no op");
	expect("PATCH", "/entropy", ENTROPY_PATCH, 400, "not available here", "no op");
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
	    cmocka_unit_test(long_paths),   cmocka_unit_test(net_and_vsock_effects),
	    cmocka_unit_test(patches_reach_ops),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
