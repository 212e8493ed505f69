/* The API's routes: Firecracker's paths and methods (the contract is
 * Firecracker's swagger description), which of them are allowed before and
 * after InstanceStart, and Firecracker's error texts. Resource bodies are
 * parsed by fc_config.c into the pending struct vm_config; everything that
 * acts on the machine goes through struct api_ops, so this layer never
 * reaches into the VMM. */
#ifndef KITE_API_ROUTER_H
#define KITE_API_ROUTER_H

#include <stdbool.h>

#include "api/fc_config.h"
#include "api/fc_net.h"
#include "api/fc_snapshot.h"
#include "api/http.h"
#include "api/server.h"
#include "config.h"

#define API_NOT_AFTER_BOOT "The requested operation is not supported after starting the microVM."
#define API_NOT_BEFORE_BOOT "The requested operation is not supported before starting the microVM."
/* The version of Firecracker's API kite implements. */
#define API_FIRECRACKER_VERSION "1.16.0"

enum api_state { API_NOT_STARTED, API_RUNNING, API_PAUSED };

/* PATCH /network-interfaces/{id} and PATCH /entropy (kite's extension)
 * after boot: new limiters for the running device (vmm_net.c); on error
 * nothing changed. Each returns 0 or -errno with err set. */
struct api_dev_ops {
	void *ctx;
	int (*update_net)(void *ctx, const struct fc_net_update *u, char *err, size_t errlen);
	int (*update_entropy)(void *ctx, const struct fc_rl_update *u, char *err, size_t errlen);
};

/* What the API may do to the VMM; each returns 0 or -errno with err set. */
struct api_ops {
	void *ctx;
	enum api_state (*state)(void *ctx);
	int (*start)(void *ctx, char *err, size_t errlen);
	int (*pause)(void *ctx, char *err, size_t errlen);
	int (*resume)(void *ctx, char *err, size_t errlen);
	int (*ctrl_alt_del)(void *ctx, char *err, size_t errlen);
	int (*flush_metrics)(void *ctx, char *err, size_t errlen);
	/* PATCH /drives/{id} after boot: a checked update (new backing file
	 * and/or rate limiter) for the running drive; on error nothing of it
	 * took effect. */
	int (*update_drive)(void *ctx, const struct fc_drive_update *u, char *err, size_t errlen);
	/* PUT /logger and PUT /metrics stored a new configuration: make it
	 * take effect now, so that a bad path is this request's 400. */
	int (*observability_changed)(void *ctx, char *err, size_t errlen);
	/* GET /kite/metrics: *text gets malloc'd Prometheus text. */
	int (*kite_metrics)(void *ctx, char **text, char *err, size_t errlen);
	/* PUT /snapshot/create on a paused machine. */
	int (*snapshot_create)(void *ctx, const struct fc_snapshot_create *s, char *err,
			       size_t errlen);
	/* PUT /snapshot/load into a kite with no machine: builds it from the
	 * snapshot (paused unless resume_vm). A failure leaves no machine. */
	int (*snapshot_load)(void *ctx, const struct fc_snapshot_load *s, char *err,
			     size_t errlen);
	/* The running devices' limiter updates, with their own context. */
	struct api_dev_ops dev;
};

struct api_router {
	struct vm_config *cfg; /* the configuration InstanceStart will use */
	struct fc_logger logger;
	struct fc_metrics metrics;
	const char *id;        /* --id, "anonymous-instance" by default */
	/* A boot-specific resource was configured (machine, boot source,
	 * drives, network interfaces, vsock, entropy): a snapshot can no longer be loaded, as in
	 * Firecracker. */
	bool configured;
	struct api_ops ops;
};

/* The server's handler: ctx is a struct api_router. */
void api_route(void *ctx, const struct http_request *req, struct api_reply *reply);

#endif
