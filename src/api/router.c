/* Routes: method and path to a handler, with Firecracker's pre-/post-boot
 * rules and error texts. */
#include "api/router.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum when { ANY, PRE_BOOT, POST_BOOT };

#define ERR_MAX 600 /* a message plus two paths */

/* A router without the operation (unit tests): say so. */
static int no_snapshots(char *err, size_t errlen)
{
	snprintf(err, errlen, "snapshots are not available here");
	return -ENOTSUP;
}

struct ctx {
	struct api_router *r;
	const struct http_request *req;
	const char *id;   /* the {id} of the path, or NULL */
	json_t *body;     /* parsed request body, or NULL */
	struct api_reply *reply;
};

static void reply_json(struct ctx *c, int status, json_t *j)
{
	c->reply->status = status;
	c->reply->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
}

static void fault(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fault(struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->reply->status = 400;
	c->reply->body = strdup(msg); /* the server wraps it in fault_message */
}

static void done(struct ctx *c, int rc, const char *err)
{
	if (rc)
		fault(c, "%s", err);
	else
		c->reply->status = 204;
}

/* done() for the PUTs that configure the machine to boot. */
static void configured(struct ctx *c, int rc, const char *err)
{
	if (!rc)
		c->r->configured = true;
	done(c, rc, err);
}

static bool booted(struct ctx *c)
{
	return c->r->ops.state(c->r->ops.ctx) != API_NOT_STARTED;
}

static const char *state_name(enum api_state s)
{
	return s == API_NOT_STARTED ? "Not started" : s == API_PAUSED ? "Paused" : "Running";
}

static void get_instance(struct ctx *c)
{
	reply_json(c, 200, json_pack("{s:s, s:s, s:s, s:s}", "id", c->r->id, "state",
				     state_name(c->r->ops.state(c->r->ops.ctx)), "vmm_version",
				     API_FIRECRACKER_VERSION, "app_name", "Firecracker"));
}

static void get_version(struct ctx *c)
{
	reply_json(c, 200, json_pack("{s:s}", "firecracker_version", API_FIRECRACKER_VERSION));
}

static void get_machine_config(struct ctx *c)
{
	reply_json(c, 200, fc_get_machine_config(c->r->cfg));
}

static void get_vm_config(struct ctx *c)
{
	reply_json(c, 200, fc_get_vm_config(c->r->cfg, &c->r->logger, &c->r->metrics));
}

static void put_machine_config(struct ctx *c)
{
	char err[256];

	configured(c, fc_put_machine_config(c->r->cfg, c->body, false, err, sizeof(err)), err);
}

static void patch_machine_config(struct ctx *c)
{
	char err[256];

	configured(c, fc_put_machine_config(c->r->cfg, c->body, true, err, sizeof(err)), err);
}

static void put_boot_source(struct ctx *c)
{
	char err[256];

	configured(c, fc_put_boot_source(c->r->cfg, c->body, err, sizeof(err)), err);
}

static void put_drive(struct ctx *c)
{
	char err[256];

	configured(c, fc_put_drive(c->r->cfg, c->id, c->body, err, sizeof(err)), err);
}

static void patch_drive(struct ctx *c)
{
	const struct api_ops *o = &c->r->ops;
	struct fc_drive_update u;
	char err[256] = "";
	int rc = fc_parse_drive_update(c->id, c->body, &u, err, sizeof(err));

	if (!rc)
		rc = o->update_drive(o->ctx, &u, err, sizeof(err));
	done(c, rc, err);
}

static void put_net(struct ctx *c)
{
	char err[256];

	configured(c, fc_put_net(c->r->cfg, c->id, c->body, err, sizeof(err)), err);
}

/* A router without the operation (unit tests): say so. */
static int no_op(const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s is not available here", what);
	return -ENOTSUP;
}

static void patch_net(struct ctx *c)
{
	const struct api_dev_ops *o = &c->r->ops.dev;
	struct fc_net_update u;
	char err[256] = "";
	int rc = fc_parse_net_update(c->id, c->body, &u, err, sizeof(err));

	if (!rc)
		rc = o->update_net ? o->update_net(o->ctx, &u, err, sizeof(err))
				   : no_op("updating a network interface", err, sizeof(err));
	done(c, rc, err);
}

static void put_vsock(struct ctx *c)
{
	char err[256];

	configured(c, fc_put_vsock(c->r->cfg, c->body, err, sizeof(err)), err);
}

/* kite's extension: Firecracker cannot change the entropy device's limiter. */
static void patch_entropy(struct ctx *c)
{
	const struct api_dev_ops *o = &c->r->ops.dev;
	struct fc_rl_update u;
	char err[256] = "";
	int rc = fc_parse_entropy_update(c->body, &u, err, sizeof(err));

	if (!rc)
		rc = o->update_entropy ? o->update_entropy(o->ctx, &u, err, sizeof(err))
				       : no_op("updating the entropy device", err, sizeof(err));
	done(c, rc, err);
}

static void put_entropy(struct ctx *c)
{
	char err[256];

	configured(c, fc_put_entropy(c->r->cfg, c->body, err, sizeof(err)), err);
}

static void put_logger(struct ctx *c)
{
	char err[256];

	const struct api_ops *o = &c->r->ops;
	int rc = fc_put_logger(&c->r->logger, c->body, err, sizeof(err));

	if (!rc && o->observability_changed)
		rc = o->observability_changed(o->ctx, err, sizeof(err));
	done(c, rc, err);
}

static void put_metrics(struct ctx *c)
{
	char err[256];

	const struct api_ops *o = &c->r->ops;
	int rc = fc_put_metrics(&c->r->metrics, c->body, err, sizeof(err));

	if (!rc && o->observability_changed)
		rc = o->observability_changed(o->ctx, err, sizeof(err));
	done(c, rc, err);
}

static void put_actions(struct ctx *c)
{
	const struct api_ops *o = &c->r->ops;
	const char *type = NULL;
	char err[256] = "";
	int rc;

	if (json_unpack(c->body, "{s:s !}", "action_type", &type)) {
		fault(c, "An error occurred when deserializing the json body of a request: "
			 "expected one field action_type");
		return;
	}
	if (!strcmp(type, "InstanceStart")) {
		if (booted(c)) {
			fault(c, "%s", API_NOT_AFTER_BOOT);
			return;
		}
		rc = o->start(o->ctx, err, sizeof(err));
	} else if (!strcmp(type, "SendCtrlAltDel")) {
		if (!booted(c)) {
			fault(c, "%s", API_NOT_BEFORE_BOOT);
			return;
		}
		rc = o->ctrl_alt_del(o->ctx, err, sizeof(err));
	} else if (!strcmp(type, "FlushMetrics")) {
		rc = o->flush_metrics(o->ctx, err, sizeof(err));
	} else {
		fault(c, "unknown action_type %s", type);
		return;
	}
	done(c, rc, err);
}

static void patch_vm(struct ctx *c)
{
	const struct api_ops *o = &c->r->ops;
	const char *state = NULL;
	char err[256] = "";

	if (json_unpack(c->body, "{s:s !}", "state", &state)) {
		fault(c, "An error occurred when deserializing the json body of a request: "
			 "expected one field state");
		return;
	}
	if (!strcmp(state, "Paused"))
		done(c, o->pause(o->ctx, err, sizeof(err)), err);
	else if (!strcmp(state, "Resumed"))
		done(c, o->resume(o->ctx, err, sizeof(err)), err);
	else
		fault(c, "unknown state %s: expected Paused or Resumed", state);
}

/* kite's own: the counters in Prometheus's text format. */
static void get_kite_metrics(struct ctx *c)
{
	const struct api_ops *o = &c->r->ops;
	char err[256] = "", *text = NULL;
	int rc = o->kite_metrics ? o->kite_metrics(o->ctx, &text, err, sizeof(err)) : -ENOTSUP;

	if (rc) {
		fault(c, "%s", *err ? err : "metrics are not available");
		return;
	}
	c->reply->status = 200;
	c->reply->body = text;
	/* What a Prometheus server expects of a scrape. */
	c->reply->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static void put_snapshot_create(struct ctx *c)
{
	const struct api_ops *o = &c->r->ops;
	struct fc_snapshot_create s;
	char err[ERR_MAX] = "";
	int rc = fc_parse_snapshot_create(c->body, &s, err, sizeof(err));

	if (!rc)
		rc = o->snapshot_create ? o->snapshot_create(o->ctx, &s, err, sizeof(err))
					: no_snapshots(err, sizeof(err));
	done(c, rc, err);
}

static void put_snapshot_load(struct ctx *c)
{
	const struct api_ops *o = &c->r->ops;
	struct fc_snapshot_load s;
	char err[ERR_MAX] = "";
	int rc;

	if (c->r->configured) {
		fault(c, "Loading a microVM snapshot not allowed after configuring boot-specific "
			 "resources.");
		return;
	}
	rc = fc_parse_snapshot_load(c->body, &s, err, sizeof(err));
	if (!rc)
		rc = o->snapshot_load ? o->snapshot_load(o->ctx, &s, err, sizeof(err))
				      : no_snapshots(err, sizeof(err));
	done(c, rc, err);
}

static void unsupported(struct ctx *c)
{
	fault(c, "%s %s is not supported by this kite", c->req->method, c->req->path);
}

struct route {
	const char *method;
	const char *path;   /* a trailing "/" takes an {id} after it */
	enum when when;
	bool body;          /* a JSON body is required */
	void (*fn)(struct ctx *c);
};

static const struct route routes[] = {
	{"GET", "/", ANY, false, get_instance},
	{"GET", "/version", ANY, false, get_version},
	{"GET", "/machine-config", ANY, false, get_machine_config},
	{"PUT", "/machine-config", PRE_BOOT, true, put_machine_config},
	{"PATCH", "/machine-config", PRE_BOOT, true, patch_machine_config},
	{"GET", "/vm/config", ANY, false, get_vm_config},
	{"PUT", "/boot-source", PRE_BOOT, true, put_boot_source},
	{"PUT", "/drives/", PRE_BOOT, true, put_drive},
	{"PATCH", "/drives/", POST_BOOT, true, patch_drive},
	{"PUT", "/entropy", PRE_BOOT, true, put_entropy},
	{"PATCH", "/entropy", POST_BOOT, true, patch_entropy},
	{"PUT", "/network-interfaces/", PRE_BOOT, true, put_net},
	{"PATCH", "/network-interfaces/", POST_BOOT, true, patch_net},
	{"PUT", "/vsock", PRE_BOOT, true, put_vsock},
	{"PUT", "/logger", PRE_BOOT, true, put_logger},
	{"PUT", "/metrics", PRE_BOOT, true, put_metrics},
	{"PUT", "/actions", ANY, true, put_actions},
	{"PATCH", "/vm", POST_BOOT, true, patch_vm},
	{"GET", "/kite/metrics", ANY, false, get_kite_metrics},
	{"PUT", "/snapshot/create", POST_BOOT, true, put_snapshot_create},
	{"PUT", "/snapshot/load", PRE_BOOT, true, put_snapshot_load},
	/* Later issues: answered clearly until then. */
	{NULL, "/balloon", ANY, false, unsupported},
	{NULL, "/balloon/statistics", ANY, false, unsupported},
	{NULL, "/mmds", ANY, false, unsupported},
	{NULL, "/mmds/config", ANY, false, unsupported},
	{NULL, "/cpu-config", ANY, false, unsupported},
	{NULL, "/serial", ANY, false, unsupported},
	{NULL, "/hotplug/memory", ANY, false, unsupported},
};

/* Path ids: alphanumeric or '_', as Firecracker's. */
static bool valid_id(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Whether path matches route path p; *id gets the {id} part. */
static bool match(const char *p, const char *path, const char **id)
{
	size_t n = strlen(p);

	*id = NULL;
	if (n > 1 && p[n - 1] == '/') {
		if (strncmp(path, p, n) || strchr(path + n, '/'))
			return false;
		*id = path + n;
		return true;
	}
	return !strcmp(p, path);
}

void api_route(void *rctx, const struct http_request *req, struct api_reply *reply)
{
	struct ctx c = {rctx, req, NULL, NULL, reply};
	const struct route *hit = NULL;
	bool path_known = false;

	for (size_t i = 0; i < ARRAY_SIZE(routes) && !hit; i++) {
		const char *id;

		if (!match(routes[i].path, req->path, &id))
			continue;
		path_known = true;
		if (!routes[i].method || !strcmp(routes[i].method, req->method)) {
			hit = &routes[i];
			c.id = id;
		}
	}
	if (!hit) {
		/* Firecracker's words; kite also says whether the path exists. */
		fault(&c, "Invalid request method and/or path: %s %s%s", req->method, req->path,
		      path_known ? " (the path takes other methods)" : "");
		return;
	}
	if (c.id && !valid_id(c.id)) {
		fault(&c, "Invalid ID: the ID in the path must be alphanumeric or '_' (%.64s)", c.id);
		return;
	}
	if (hit->when == PRE_BOOT && booted(&c)) {
		fault(&c, "%s", API_NOT_AFTER_BOOT);
		return;
	}
	if (hit->when == POST_BOOT && !booted(&c)) {
		fault(&c, "%s", API_NOT_BEFORE_BOOT);
		return;
	}
	if (hit->body) {
		json_error_t je;

		if (!req->content_length) {
			fault(&c, "Empty request body: %s %s needs a JSON body", req->method,
			      req->path);
			return;
		}
		c.body = json_loadb((const char *)req->body, req->content_length,
				    JSON_REJECT_DUPLICATES, &je);
		if (!c.body || !json_is_object(c.body)) {
			fault(&c, "An error occurred when deserializing the json body of a "
				  "request: %s", c.body ? "not an object" : je.text);
			json_decref(c.body);
			return;
		}
	}
	hit->fn(&c);
	json_decref(c.body);
}
