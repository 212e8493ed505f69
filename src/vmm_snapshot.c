/* The process side of snapshots: `kite run --restore` and PUT
 * /snapshot/load build the machine from a snapshot file (its machine
 * section says what to build; the host opens the disks it names), PUT
 * /snapshot/create writes one, and a restore's working set is recorded or
 * prefetched (snapshot/workset.h). A failed load leaves no machine. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "log.h"
#include "snapshot/machine.h"
#include "snapshot/workset.h"
#include "vm_snapshot.h"
#include "vmm.h"
#include "vmm_snapshot.h"

/* The working-set file of a snapshot: next to it, "<snapshot>.ws". */
static int ws_path(const struct vmm *v, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.ws", v->cfg->restore_path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static void prefetch_start(struct vmm *v)
{
	char path[4096], err[256];
	struct workset ws;
	int rc;

	if (v->cfg->no_prefetch || ws_path(v, path, sizeof(path)) || access(path, F_OK))
		return;
	rc = workset_load(path, v->vm.gm.size, &ws, err, sizeof(err));
	if (rc) {
		log_warn("snapshot", "working set not used: %s", err);
		return;
	}
	rc = workset_prefetch_start(&v->vm.gm, &ws, &v->prefetch);
	workset_free(&ws);
	if (rc)
		log_warn("snapshot", "cannot start the prefetch: %s", strerror(-rc));
	else
		v->prefetching = true;
}

void vmm_snapshot_teardown(struct vmm *v)
{
	if (v->prefetching)
		workset_prefetch_join(&v->prefetch);
	v->prefetching = false;
	if (v->ws_timer >= 0) {
		ev_del(&v->loop, v->ws_timer);
		close(v->ws_timer);
	}
	v->ws_timer = -1;
}

static void ws_record(void *ctx, uint32_t events)
{
	struct vmm *v = ctx;
	struct memfile_stats st = {0};
	char path[4096], err[256];
	uint64_t n;

	(void)events;
	if (read(v->ws_timer, &n, sizeof(n)) < 0)
		return;
	ev_del(&v->loop, v->ws_timer);
	close(v->ws_timer);
	v->ws_timer = -1;
	if (!v->built || ws_path(v, path, sizeof(path)))
		return;
	if (workset_record(&v->vm.gm, path, &st, err, sizeof(err)))
		log_warn("snapshot", "cannot record the working set: %s", err);
	else
		log_info("snapshot", "working set recorded in %s: %llu KiB in %llu ms", path,
			 (unsigned long long)(st.bytes_written >> 10), (unsigned long long)st.ms);
}

/* --record-working-set=MS: the pages the guest has touched MS after it
 * resumed are its working set for later restores of this snapshot. */
static void ws_arm(struct vmm *v)
{
	uint32_t ms = v->cfg->record_ws_ms;
	struct itimerspec it = {.it_value = {ms / 1000, (long)(ms % 1000) * 1000000}};

	if (!ms || v->ws_timer >= 0)
		return;
	v->ws_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (v->ws_timer < 0 || timerfd_settime(v->ws_timer, 0, &it, NULL) < 0 ||
	    ev_add(&v->loop, v->ws_timer, EPOLLIN, ws_record, v)) {
		log_warn("snapshot", "cannot arm the working-set timer: %s", strerror(errno));
		if (v->ws_timer >= 0)
			close(v->ws_timer);
		v->ws_timer = -1;
	}
}

int vmm_snapshot_started(struct vmm *v)
{
	int rc;

	if (!v->vcpus_pending)
		return 0;
	vm_resume(&v->vm);
	rc = vm_start(&v->vm, v->vcpu_name);
	v->vcpus_pending = false;
	if (rc)
		return rc;
	ws_arm(v);
	return 0;
}

/* Machine section into cfg, host check, then the machine itself. */
static int build_from(struct vmm *v, const struct snap_file *f, struct error *e)
{
	struct vm_config *cfg = v->cfg;
	const struct snap_section *m = snap_find(f, SNAP_SEC_MACHINE);
	struct snap_host here;
	int track = cfg->track_dirty_pages, rc;

	if (!m)
		return error_set(e, -EINVAL, BLAME_INPUT, "%s: no machine section",
				 cfg->restore_path);
	rc = snap_machine_parse(m->data, m->len, m->version, cfg, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_INPUT);
	/* Dirty tracking is the loader's choice, not the snapshot's. */
	cfg->track_dirty_pages = track;
	rc = vm_host_open(&v->host, cfg, v->io, e);
	v->host_open = true;
	if (rc)
		return rc;
	rc = snap_host_probe(v->host.kvm.fd, 0, &here);
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot read this host's signature: %s",
				 strerror(-rc));
	rc = snap_host_check(&f->host, &here, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_INPUT);
	rc = vm_create_restored(&v->vm, cfg, &v->host, &v->loop, &v->t_start, f, e);
	v->built = true;
	return rc;
}

int vmm_restore(struct vmm *v, struct error *e)
{
	struct snap_file f;
	int rc;

	if (v->state != VMM_NOT_STARTED || v->built)
		return error_set(e, -EALREADY, BLAME_INPUT, "the machine was started already");
	rc = snap_read(v->cfg->restore_path, &f, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, rc == -EINVAL ? BLAME_INPUT : error_blame_path(rc));
	ev_clear_stop(&v->loop);
	rc = build_from(v, &f, e);
	snap_file_free(&f);
	if (rc) {
		/* No half-built machine stays behind. */
		if (v->built)
			vm_destroy(&v->vm);
		v->built = false;
		if (v->host_open)
			vm_host_close(&v->host);
		v->host_open = false;
		return rc;
	}
	v->state = VMM_PAUSED;
	v->vcpus_pending = true;
	prefetch_start(v);
	log_info("snapshot", "restored %s (memory %s)", v->cfg->restore_path,
		 v->cfg->restore_mem);
	if (v->cfg->restore_paused)
		return 0;
	rc = vmm_resume(v);
	return rc ? error_set(e, rc, BLAME_HOST, "cannot start the vCPUs: %s", strerror(-rc)) : 0;
}

int vmm_snapshot_create(struct vmm *v, const struct vm_snapshot_req *req, char *err,
			size_t errlen)
{
	struct vm_snapshot_stats st = {0};
	struct error e = {0};
	int rc;

	if (v->state != VMM_PAUSED || !v->built) {
		snprintf(err, errlen, "Cannot create a snapshot: the microVM is %s (PATCH /vm "
			 "{\"state\": \"Paused\"} first)",
			 v->state == VMM_RUNNING ? "running" : "not started");
		return -EBUSY;
	}
	rc = vm_snapshot_create(&v->vm, req, &st, &e);
	if (rc) {
		snprintf(err, errlen, "Cannot create a snapshot: %s", e.msg);
		return rc;
	}
	log_info("snapshot", "%s snapshot %s (memory %s: %llu KiB written) in %.1f ms",
		 req->diff ? "Diff" : "Full", req->snapshot_path, req->mem_path,
		 (unsigned long long)(st.mem_written >> 10), st.ms_total);
	return 0;
}

int vmm_snapshot_load(struct vmm *v, const char *snapshot, const char *mem, bool resume,
		      bool track_dirty, bool clock_realtime, struct error *e)
{
	struct vm_config *cfg = v->cfg;
	int rc;

	if (config_strdup(cfg, snapshot, &cfg->restore_path) ||
	    config_strdup(cfg, mem, &cfg->restore_mem))
		return error_set(e, -ENOMEM, BLAME_HOST, "out of memory");
	cfg->restore_paused = !resume;
	cfg->track_dirty_pages = track_dirty;
	cfg->restore_clock_realtime = clock_realtime;
	rc = vmm_restore(v, e);
	if (rc) {
		/* As Firecracker: the process is not usable after a failed
		 * load; it ends (status 2 or 1) once the reply is out. */
		v->stopped = true;
		v->exit_code = vmm_blame_status(e);
		ev_stop(&v->loop);
	}
	return rc;
}

static int api_snapshot_create(void *ctx, const struct fc_snapshot_create *s, char *err,
			       size_t errlen)
{
	struct vm_snapshot_req req = {s->snapshot_path, s->mem_file_path, s->diff};

	return vmm_snapshot_create(ctx, &req, err, errlen);
}

static int api_snapshot_load(void *ctx, const struct fc_snapshot_load *s, char *err,
			     size_t errlen)
{
	struct error e = {0};
	int rc = vmm_snapshot_load(ctx, s->snapshot_path, s->mem_path, s->resume_vm,
				   s->track_dirty_pages, s->clock_realtime, &e);

	if (rc)
		snprintf(err, errlen, "Loading a microVM snapshot failed: %s", e.msg);
	return rc;
}

void vmm_snapshot_ops(struct vmm *v)
{
	v->router.ops.snapshot_create = api_snapshot_create;
	v->router.ops.snapshot_load = api_snapshot_load;
}
