/* The process controller: the loop, restarts, and the exit status. */
#include "vmm.h"

#include <errno.h>
#include <string.h>

#include "api/fc_config.h"
#include "vm_drive.h"
#include "log.h"
#include "sandbox/seccomp.h"

static int exit_status(enum vm_stop_reason r, int status)
{
	switch (r) {
	case VM_STOP_HALT:
	case VM_STOP_POWEROFF:
		return EXIT_OK;
	case VM_STOP_RESET:
		return EXIT_GUEST_RESET;
	case VM_STOP_TRIPLE_FAULT:
		return EXIT_TRIPLE_FAULT;
	case VM_STOP_INTERNAL:
		return EXIT_INTERNAL;
	case VM_STOP_PANIC:
		return EXIT_GUEST_PANIC;
	case VM_STOP_DEBUG_EXIT:
		return status & 0xff;
	case VM_STOP_USER:
		return status ? 128 + status : EXIT_OK;
	case VM_STOP_HOST_ERROR:
	case VM_STOP_NONE:
	default:
		return EXIT_HOST_FAILURE;
	}
}

int vmm_blame_status(const struct error *e)
{
	return e->blame == BLAME_INPUT ? EXIT_BAD_INPUT : EXIT_HOST_FAILURE;
}

static const char *reason_text(enum vm_stop_reason r)
{
	static const char *const t[] = {
		[VM_STOP_NONE] = "no reason",
		[VM_STOP_HALT] = "guest halted",
		[VM_STOP_POWEROFF] = "guest powered off",
		[VM_STOP_RESET] = "guest reset",
		[VM_STOP_TRIPLE_FAULT] = "guest triple fault",
		[VM_STOP_INTERNAL] = "KVM could not run the guest",
		[VM_STOP_DEBUG_EXIT] = "guest wrote the debug-exit port",
		[VM_STOP_PANIC] = "guest panic",
		[VM_STOP_HOST_ERROR] = "host failure",
		[VM_STOP_USER] = "stopped by the user",
	};
	return (unsigned)r < ARRAY_SIZE(t) ? t[r] : "unknown";
}

/* Signals and Ctrl-A x: stop the machine, or the process when none runs. */
static void stop_cb(void *ctx, enum vm_stop_reason reason, int status)
{
	struct vmm *v = ctx;

	if (v->state != VMM_NOT_STARTED && v->built) {
		vm_request_stop(&v->vm, reason, status);
		return;
	}
	v->stopped = true;
	v->stop_status = status;
	ev_stop(&v->loop);
}

static enum api_state api_state(void *ctx)
{
	struct vmm *v = ctx;

	return v->state == VMM_PAUSED ? API_PAUSED : v->state == VMM_RUNNING ? API_RUNNING
									   : API_NOT_STARTED;
}

static int api_start(void *ctx, char *err, size_t errlen)
{
	struct vmm *v = ctx;
	struct error e = {0};
	int rc = vmm_start(v, &e);

	if (rc)
		snprintf(err, errlen, "%s", e.msg);
	return rc;
}

static int api_pause(void *ctx, char *err, size_t errlen)
{
	int rc = vmm_pause(ctx);

	if (rc)
		snprintf(err, errlen, "cannot pause the microVM: %s", strerror(-rc));
	return rc;
}

static int api_resume(void *ctx, char *err, size_t errlen)
{
	int rc = vmm_resume(ctx);

	if (rc)
		snprintf(err, errlen, "cannot resume the microVM: %s", strerror(-rc));
	return rc;
}

static int api_ctrl_alt_del(void *ctx, char *err, size_t errlen)
{
	struct vmm *v = ctx;
	int rc = v->built ? vm_ctrl_alt_del(&v->vm) : -ENODEV;

	if (rc)
		snprintf(err, errlen, "cannot send Ctrl+Alt+Del: %s",
			 rc == -EBUSY ? "the guest has not read the keys sent before"
				      : strerror(-rc));
	return rc;
}

static int api_update_drive(void *ctx, const struct fc_drive_update *u, char *err, size_t errlen)
{
	struct vmm *v = ctx;

	return vm_update_drive(v->built ? &v->vm : NULL, v->cfg, &v->host, u, err, errlen);
}

/* The router's metrics (PUT /metrics, the config file, --metrics-path)
 * take effect: the path is opened once. */
static int apply_metrics(struct vmm *v, char *err, size_t errlen)
{
	const struct fc_metrics *m = &v->router.metrics;
	int rc;

	if (!m->set || v->metrics_applied || !m->metrics_path)
		return 0;
	rc = metrics_open(&v->metrics, m->metrics_path);
	if (rc) {
		snprintf(err, errlen, "Failed to open the metrics path %s: %s", m->metrics_path,
			 strerror(-rc));
		return rc;
	}
	v->metrics_applied = true;
	return 0;
}

/* The router's logger (PUT /logger, the config file, --log-path): lines in
 * Firecracker's format to its path from now on, at its level. */
static int apply_logger(struct vmm *v, char *err, size_t errlen)
{
	const struct fc_logger *lg = &v->router.logger;
	int fd;

	if (!lg->set || v->logger_applied)
		return 0;
	if (lg->log_path) {
		fd = log_open_path(lg->log_path);
		if (fd < 0) {
			snprintf(err, errlen, "Failed to open the log path %s: %s", lg->log_path,
				 strerror(-fd));
			return fd;
		}
		log_set_target(fd, &(struct log_target){v->router.id, lg->show_level,
							 lg->show_log_origin});
	}
	log_set_level(fc_log_level_kite((int)lg->level));
	v->logger_applied = true;
	log_info(NULL, "Running Firecracker v%s (kite %s)", API_FIRECRACKER_VERSION,
		 KITE_VERSION);
	return 0;
}

/* PUT /logger or PUT /metrics: the new settings take effect at once. */
static int api_observability_changed(void *ctx, char *err, size_t errlen)
{
	struct vmm *v = ctx;
	int rc = apply_logger(v, err, errlen);

	/* A refused request leaves nothing behind: the next PUT starts over. */
	if (rc) {
		fc_logger_free(&v->router.logger);
		memset(&v->router.logger, 0, sizeof(v->router.logger));
		return rc;
	}
	rc = apply_metrics(v, err, errlen);
	if (rc) {
		fc_metrics_free(&v->router.metrics);
		memset(&v->router.metrics, 0, sizeof(v->router.metrics));
	}
	return rc;
}

static int api_flush_metrics(void *ctx, char *err, size_t errlen)
{
	struct vmm *v = ctx;
	int rc;

	if (!v->router.metrics.set) {
		snprintf(err, errlen, "The metrics system was not initialized.");
		return -EINVAL;
	}
	rc = apply_metrics(v, err, errlen);
	if (rc)
		return rc;
	rc = metrics_flush(&v->metrics);
	if (rc)
		snprintf(err, errlen, "Failed to write metrics: %s",
			 rc == -EAGAIN ? "the metrics FIFO is full" : strerror(-rc));
	return rc;
}

static void metrics_source(void *ctx, struct metrics_source *out)
{
	struct vmm *v = ctx;

	out->missed_log = log_missed();
	if (!v->built)
		return;
	out->devices = &v->vm.devices;
	out->vcpus = v->vm.vcpus;
	out->nr_vcpus = v->vm.nr_vcpus;
}

static int api_kite_metrics(void *ctx, char **text, char *err, size_t errlen)
{
	struct vmm *v = ctx;
	struct metrics_source src = {0};

	metrics_source(v, &src);
	src.missed_metrics = v->metrics.missed;
	*text = metrics_prometheus(&src);
	if (!*text) {
		snprintf(err, errlen, "Out of memory.");
		return -ENOMEM;
	}
	return 0;
}

int vmm_restore(struct vmm *v, struct error *e)
{
	struct vmm_snap_host h = {v->cfg, &v->host, &v->host_open, &v->built, v->io, &v->t_start};
	int rc;

	if (v->state != VMM_NOT_STARTED || v->built)
		return error_set(e, -EALREADY, BLAME_INPUT, "the machine was started already");
	ev_clear_stop(&v->loop);
	rc = vmm_snap_build(&v->snap, &v->vm, &h, e);
	if (rc)
		return rc;
	v->state = VMM_PAUSED;
	if (v->cfg->restore_paused)
		return 0;
	rc = vmm_resume(v);
	return rc ? error_set(e, rc, BLAME_HOST, "cannot start the vCPUs: %s", strerror(-rc)) : 0;
}

static int api_snapshot_create(void *ctx, const struct fc_snapshot_create *s, char *err,
			       size_t errlen)
{
	struct vmm *v = ctx;
	struct vm_snapshot_req req = {s->snapshot_path, s->mem_file_path, s->diff};

	if (v->state != VMM_PAUSED || !v->built) {
		snprintf(err, errlen, "Cannot create a snapshot: the microVM is not paused "
			 "(PATCH /vm {\"state\": \"Paused\"} first)");
		return -EBUSY;
	}
	return vmm_snap_create(&v->vm, &req, err, errlen);
}

/* As Firecracker: the process is not usable after a failed load; it ends
 * (status 2 or 1) once the reply is out. */
static int api_snapshot_load(void *ctx, const struct fc_snapshot_load *s, char *err,
			     size_t errlen)
{
	struct vmm *v = ctx;
	struct vm_config *cfg = v->cfg;
	struct error e = {0};
	int rc = -ENOMEM;

	if (!config_strdup(cfg, s->snapshot_path, &cfg->restore_path) &&
	    !config_strdup(cfg, s->mem_path, &cfg->restore_mem)) {
		cfg->restore_paused = !s->resume_vm;
		cfg->track_dirty_pages = s->track_dirty_pages;
		cfg->restore_clock_realtime = s->clock_realtime;
		cfg->restore_vsock_uds = NULL;
		if (s->vsock_uds && config_strdup(cfg, s->vsock_uds, &cfg->restore_vsock_uds))
			rc = error_set(&e, -ENOMEM, BLAME_HOST, "out of memory");
		else
			rc = vmm_restore(v, &e);
	} else {
		error_set(&e, rc, BLAME_HOST, "out of memory");
	}
	if (rc) {
		snprintf(err, errlen, "Loading a microVM snapshot failed: %s", e.msg);
		v->stopped = true;
		v->exit_code = vmm_blame_status(&e);
		ev_stop(&v->loop);
	}
	return rc;
}

/* Firecracker's --log-path, --level and --metrics-path, unless the config
 * file configured the same; then the logger and metrics take effect. */
static int open_observability(struct vmm *v, struct error *e)
{
	struct vm_config *cfg = v->cfg;
	struct fc_logger *lg = &v->router.logger;
	struct fc_metrics *m = &v->router.metrics;
	int rc;

	v->router.ops.kite_metrics = api_kite_metrics;
	v->router.ops.observability_changed = api_observability_changed;
	v->router.ops.snapshot_create = api_snapshot_create;
	v->router.ops.snapshot_load = api_snapshot_load;
	rc = metrics_init(&v->metrics, &v->loop, metrics_source, v);
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot start the metrics timer: %s",
				 strerror(-rc));
	if (cfg->fc_log_path && !lg->set) {
		lg->log_path = strdup(cfg->fc_log_path);
		lg->level = cfg->fc_log_level ? (enum fc_log_level)(cfg->fc_log_level - 1)
					      : FC_LOG_INFO;
		lg->show_level = cfg->fc_show_level;
		lg->show_log_origin = cfg->fc_show_origin;
		lg->set = true;
		if (!lg->log_path)
			return error_set(e, -ENOMEM, BLAME_HOST, "out of memory");
	} else if (cfg->fc_log_level && !lg->set) {
		log_set_level(fc_log_level_kite(cfg->fc_log_level - 1));
	}
	if (cfg->fc_metrics_path && !m->set) {
		m->metrics_path = strdup(cfg->fc_metrics_path);
		m->set = true;
		if (!m->metrics_path)
			return error_set(e, -ENOMEM, BLAME_HOST, "out of memory");
	}
	if ((rc = apply_logger(v, e->msg, sizeof(e->msg))) ||
	    (rc = apply_metrics(v, e->msg, sizeof(e->msg))))
		return error_blame(e, rc, error_blame_path(rc));
	return 0;
}

/* --config-file and --api-sock. */
static int open_control(struct vmm *v, struct error *e)
{
	struct vm_config *cfg = v->cfg;
	int rc;

	v->router = (struct api_router){
		.cfg = cfg,
		.id = cfg->instance_id ? cfg->instance_id : "anonymous-instance",
		.ops = {v, api_state, api_start, api_pause, api_resume, api_ctrl_alt_del,
			api_flush_metrics, api_update_drive},
	};
	vmm_net_ops(&v->net, cfg, &v->vm, &v->built, &v->router.ops.dev);
	if (!cfg->guest_opts && (cfg->config_file || cfg->api_socket)) {
		/* Configured the Firecracker way: its defaults and command line. */
		cfg->fc = 1;
		cfg->memory = FC_DEFAULT_MEM_MIB << 20;
	}
	if (cfg->config_file) {
		rc = fc_config_file(cfg, &v->router.logger, &v->router.metrics, cfg->config_file,
				    e->msg, sizeof(e->msg));
		if (rc)
			return error_blame(e, rc, BLAME_INPUT);
	}
	if (!cfg->api_socket || cfg->no_api)
		return 0;
	rc = api_server_open(&v->api, cfg->api_socket,
			     cfg->api_max_payload ? cfg->api_max_payload : HTTP_MAX_PAYLOAD_DEFAULT,
			     e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, error_blame_path(rc));
	rc = api_server_attach(v->api, &v->loop, &(struct api_handler){api_route, &v->router});
	return rc ? error_set(e, rc, BLAME_HOST, "cannot serve the API: %s", strerror(-rc)) : 0;
}

bool vmm_guest_given(const struct vmm *v)
{
	return v->cfg->image || v->cfg->kernel || v->cfg->config_file;
}

int vmm_open(struct vmm *v, struct vm_config *cfg, const struct timespec *t_start,
	     struct error *e)
{
	int rc;

	memset(v, 0, sizeof(*v));
	v->cfg = cfg;
	v->t_start = *t_start;
	v->exit_code = -1;
	vmm_snap_init(&v->snap, &v->loop); /* before anything can fail: vmm_close tears it down */
	rc = hostio_open(&v->io, &(struct hostio_opts){cfg->serial_out, cfg->console_socket},
			 e->msg, sizeof(e->msg));
	if (rc) /* --serial-out and --console-socket are paths the user gave. */
		return error_blame(e, rc, error_blame_path(rc));
	rc = ev_init(&v->loop);
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot create the event loop: %s",
				 strerror(-rc));
	v->loop_ready = true;
	rc = hostio_attach(v->io, &v->loop, &(struct vm_stopper){stop_cb, v}, e->msg,
			   sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_HOST);
	rc = open_control(v, e);
	return rc ? rc : open_observability(v, e);
}

static int build(struct vmm *v, struct error *e)
{
	int rc;

	ev_clear_stop(&v->loop);
	rc = vm_create(&v->vm, v->cfg, &v->host, &v->loop, &v->t_start, e);
	v->built = true;
	if (rc)
		return rc;
	rc = vm_start(&v->vm) ?: seccomp_enter_main();
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot start the vCPUs: %s", strerror(-rc));
	v->state = VMM_RUNNING;
	return 0;
}

int vmm_start(struct vmm *v, struct error *e)
{
	int rc;

	if (v->state != VMM_NOT_STARTED || v->built)
		return error_set(e, -EALREADY, BLAME_INPUT, "the machine was started already");
	/* An API or config-file guest: Firecracker's checks and command line. */
	rc = v->cfg->fc ? fc_config_prepare(v->cfg, e->msg, sizeof(e->msg)) : 0;
	if (rc)
		return error_blame(e, rc, BLAME_INPUT);
	if (!v->host_open) {
		rc = vm_host_open(&v->host, v->cfg, v->io, e);
		v->host_open = true;
		if (rc)
			goto close_host;
	}
	rc = build(v, e);
	if (rc) {
		/* No half-built machine stays behind. */
		vm_destroy(&v->vm);
		v->built = false;
		v->state = VMM_NOT_STARTED;
		goto close_host;
	}
	return 0;
close_host:
	/* The API may change the boot source or drives and start again: the
	 * host side must be opened afresh from them (it points into cfg). */
	vm_host_close(&v->host);
	v->host_open = false;
	return rc;
}

int vmm_pause(struct vmm *v)
{
	int rc;

	if (v->state == VMM_NOT_STARTED)
		return -EAGAIN;
	if (v->state == VMM_PAUSED)
		return 0;
	rc = vm_pause(&v->vm);
	if (!rc)
		v->state = VMM_PAUSED;
	return rc;
}

int vmm_resume(struct vmm *v)
{
	if (v->state == VMM_NOT_STARTED)
		return -EAGAIN;
	if (v->state == VMM_RUNNING)
		return 0;
	if (v->snap.vcpus_pending) {
		int rc = vmm_snap_start(&v->snap) ?: seccomp_enter_main();

		if (rc) {
			vm_request_stop(&v->vm, VM_STOP_HOST_ERROR, 0);
			return rc;
		}
	} else {
		vm_resume(&v->vm);
	}
	v->state = VMM_RUNNING;
	return 0;
}

/* The machine stopped: its exit status, or -1 when it was rebuilt to run on. */
static int machine_stopped(struct vmm *v)
{
	struct vm *vm = &v->vm;
	struct error e = {0};
	int code;

	vm_join(vm);
	code = exit_status(vm->stop_reason, vm->stop_status);
	if (vm->stop_reason == VM_STOP_RESET && vm->user_stop) {
		vm->stop_reason = VM_STOP_USER;
		vm->stop_status = vm->user_stop_status;
		code = exit_status(vm->stop_reason, vm->stop_status);
	}
	if (vm->stop_reason == VM_STOP_RESET && v->cfg->on_reboot == REBOOT_RESTART &&
	    v->cfg->restore_path)
		log_warn(NULL, "a machine restored from a snapshot has no kernel to boot again: "
			 "not restarting");
	else if (vm->stop_reason == VM_STOP_RESET && v->cfg->on_reboot == REBOOT_RESTART) {
		/* A fresh machine from the same resources: new RAM, vCPUs and
		 * devices, the kernel loaded again. Only what the host holds
		 * (stdout, the disk files, queued input) carries over. */
		log_info(NULL, "guest reset: restarting the machine (boot %u)", v->cfg->boot + 2);
		vmm_snap_teardown(&v->snap);
		vm_destroy(vm);
		v->built = false;
		v->cfg->boot++;
		if (build(v, &e) == 0)
			return -1;
		log_msg(LOG_ERROR, NULL, "%s", e.msg);
		return vmm_blame_status(&e);
	}
	if (vm->stop_reason == VM_STOP_DEBUG_EXIT)
		log_info(NULL, "guest wrote %d to the debug-exit port", vm->stop_status);
	else if (code != EXIT_OK)
		log_msg(LOG_ERROR, NULL, "%s (exit status %d)", reason_text(vm->stop_reason), code);
	else
		log_info(NULL, "%s", reason_text(vm->stop_reason));
	if (v->cfg->timestamps)
		log_report("timestamp", "guest stopped at %.3f ms", vm_elapsed_ms(vm));
	return code;
}

int vmm_run(struct vmm *v)
{
	for (;;) {
		int rc = ev_run(&v->loop);
		int code;

		if (rc) {
			log_err(NULL, "event loop failed: %s", strerror(-rc));
			if (v->built)
				vm_request_stop(&v->vm, VM_STOP_HOST_ERROR, 0);
			if (v->built)
				vm_join(&v->vm);
			return EXIT_HOST_FAILURE;
		}
		if (v->built && vm_stopping(&v->vm)) {
			code = machine_stopped(v);
			if (code >= 0)
				return code;
			continue;
		}
		if (v->stopped && v->exit_code >= 0)
			return v->exit_code;
		if (v->stopped) {
			log_info(NULL, "stopped by the user");
			return v->stop_status ? 128 + v->stop_status : EXIT_OK;
		}
		ev_clear_stop(&v->loop); /* a stop for nothing: serve on */
	}
}

void vmm_close(struct vmm *v)
{
	bool user = v->stopped || (v->built && v->vm.user_stop);

	/* The last line counts the machine's final counters, before it goes. */
	if (v->metrics_applied && metrics_flush(&v->metrics))
		log_warn(NULL, "cannot write the last metrics line");
	vmm_snap_teardown(&v->snap);
	if (v->built)
		vm_destroy(&v->vm);
	v->built = false;
	if (v->host_open)
		vm_host_close(&v->host);
	if (v->io) {
		hostio_detach(v->io);
		/* Output still buffered: the reader gets a moment, unless the
		 * user stopped kite (a stuck reader must not hold up a SIGTERM). */
		hostio_flush(v->io, user ? 0 : 2000);
	}
	api_server_close(v->api);
	v->api = NULL;
	metrics_close(&v->metrics);
	fc_logger_free(&v->router.logger);
	fc_metrics_free(&v->router.metrics);
	if (v->loop_ready)
		ev_free(&v->loop);
	hostio_close(v->io);
	log_close_target();
	config_free(v->cfg);
}
