/* The bench of the router's unit tests (test_router.c, test_router_net.c):
 * a router over a Firecracker config with fake api_ops that record what
 * it asked of the VMM, call() to send one request as the server hands it
 * over, expect() to check status and body. */
#ifndef TEST_ROUTER_FIXTURE_H
#define TEST_ROUTER_FIXTURE_H

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
	    .ops = {&fk, fk_state, fk_start, fk_pause, fk_resume, fk_cad, fk_flush,
		    fk_update_drive},
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
	"{\"iface_id\": \"eth0\", \"tx_rate_limiter\": {\"ops\": {\"size\": 10, \"refill_time\": " \
	"100}}, \"rx_rate_limiter\": null}"
#define VSOCK "{\"guest_cid\": 3, \"uds_path\": \"/tmp/v.sock\"}"
#define ENTROPY_PATCH "{\"rate_limiter\": {\"bandwidth\": {\"size\": 64, \"refill_time\": 10}}}"

#endif
