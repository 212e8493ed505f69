/* The process side of snapshots, below vmm.c: building the machine a
 * snapshot file describes (its machine section says what to build; the host
 * opens the disks it names; the host signature must match), starting a
 * restored machine's vCPUs at its first resume, writing a snapshot of a
 * paused one, and a restore's working set (recorded after a delay, or
 * prefetched: snapshot/workset.h). vmm.c owns the states and the API. */
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
#include "vm_snapshot.h"
#include "vmm_snapshot.h"

void vmm_snap_init(struct vmm_snap *s, struct evloop *loop)
{
	memset(s, 0, sizeof(*s));
	s->loop = loop;
	s->ws_timer = -1;
}

/* The working-set file of a snapshot: next to it, "<snapshot>.ws". */
static int ws_path(const struct vm_config *cfg, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s.ws", cfg->restore_path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A recorded working set is prefetched while the vCPUs already run. */
static void prefetch_start(struct vmm_snap *s)
{
	char path[4096], err[256];
	int rc;

	if (s->cfg->no_prefetch || ws_path(s->cfg, path, sizeof(path)) || access(path, F_OK))
		return;
	rc = workset_load(path, s->vm->gm.size, &s->ws, err, sizeof(err));
	if (rc) {
		log_warn("snapshot", "working set not used: %s", err);
		return;
	}
	/* The thread reads s->ws until its join (vmm_snap_teardown). */
	rc = workset_prefetch_start(&s->vm->gm, &s->ws, &s->prefetch);
	if (rc) {
		log_warn("snapshot", "cannot start the prefetch: %s", strerror(-rc));
		workset_free(&s->ws);
	} else {
		uint64_t bytes = 0;

		for (uint32_t i = 0; i < s->ws.nr_ranges; i++)
			bytes += s->ws.ranges[i].length;
		log_info("snapshot", "prefetching the working set (%llu KiB in %u ranges)",
			 (unsigned long long)(bytes >> 10), s->ws.nr_ranges);
		s->prefetching = true;
	}
}

static void ws_timer_close(struct vmm_snap *s)
{
	if (s->ws_timer < 0)
		return;
	ev_del(s->loop, s->ws_timer);
	close(s->ws_timer);
	s->ws_timer = -1;
}

void vmm_snap_teardown(struct vmm_snap *s)
{
	if (s->prefetching) {
		workset_prefetch_join(&s->prefetch);
		workset_free(&s->ws);
	}
	s->prefetching = false;
	ws_timer_close(s);
	s->vm = NULL;
}

static void ws_record(void *ctx, uint32_t events)
{
	struct vmm_snap *s = ctx;
	struct memfile_stats st = {0};
	char path[4096], err[256];
	uint64_t n;

	(void)events;
	if (read(s->ws_timer, &n, sizeof(n)) < 0)
		return;
	ws_timer_close(s);
	if (!s->vm || ws_path(s->cfg, path, sizeof(path)))
		return;
	if (workset_record(&s->vm->gm, path, &st, err, sizeof(err)))
		log_warn("snapshot", "cannot record the working set: %s", err);
	else
		log_info("snapshot", "working set recorded in %s: %llu KiB in %llu ms", path,
			 (unsigned long long)(st.bytes_written >> 10), (unsigned long long)st.ms);
}

/* --record-working-set=MS: the pages the guest has touched MS after it
 * resumed are its working set for later restores of this snapshot. */
static void ws_arm(struct vmm_snap *s)
{
	uint32_t ms = s->cfg->record_ws_ms;
	struct itimerspec it = {.it_value = {ms / 1000, (long)(ms % 1000) * 1000000}};

	if (!ms || s->ws_timer >= 0)
		return;
	s->ws_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->ws_timer < 0 || timerfd_settime(s->ws_timer, 0, &it, NULL) < 0 ||
	    ev_add(s->loop, s->ws_timer, EPOLLIN, ws_record, s)) {
		log_warn("snapshot", "cannot arm the working-set timer: %s", strerror(errno));
		if (s->ws_timer >= 0)
			close(s->ws_timer);
		s->ws_timer = -1;
	}
}

int vmm_snap_start(struct vmm_snap *s)
{
	int rc;

	if (!s->vcpus_pending)
		return 0;
	vm_resume(s->vm);
	rc = vm_start(s->vm);
	s->vcpus_pending = false;
	if (!rc)
		ws_arm(s);
	return rc;
}

/* Machine section into cfg, host check, then the machine itself. */
static int build_from(struct vmm_snap *s, const struct snap_file *f, struct vmm_snap_host *h,
		      struct error *e)
{
	struct vm_config *cfg = h->cfg;
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
	/* So is the vsock's socket: a clone, or the original's file still there. */
	if (cfg->restore_vsock_uds && !cfg->vsock_uds)
		return error_set(e, -EINVAL, BLAME_INPUT,
				 "vsock_override: the snapshot's machine has no vsock device");
	if (cfg->restore_vsock_uds)
		cfg->vsock_uds = cfg->restore_vsock_uds;
	rc = vm_host_open(h->host, cfg, h->io, e);
	*h->host_open = true;
	if (rc)
		return rc;
	rc = snap_host_probe(h->host->kvm.fd, 0, &here);
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot read this host's signature: %s",
				 strerror(-rc));
	rc = snap_host_check(&f->host, &here, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_INPUT);
	*h->built = true;
	return vm_snapshot_restore(s->vm, cfg, h->host, s->loop, h->t_start, f, e);
}

int vmm_snap_build(struct vmm_snap *s, struct vm *vm, struct vmm_snap_host *h, struct error *e)
{
	struct snap_file f;
	int rc;

	s->vm = vm;
	s->cfg = h->cfg;
	rc = snap_read(h->cfg->restore_path, &f, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, rc == -EINVAL ? BLAME_INPUT : error_blame_path(rc));
	rc = build_from(s, &f, h, e);
	snap_file_free(&f);
	if (rc) {
		/* No half-built machine stays behind. */
		if (*h->built)
			vm_destroy(vm);
		*h->built = false;
		if (*h->host_open)
			vm_host_close(h->host);
		*h->host_open = false;
		s->vm = NULL;
		return rc;
	}
	s->vcpus_pending = true;
	prefetch_start(s);
	log_info("snapshot", "restored %s (memory %s)", h->cfg->restore_path, h->cfg->restore_mem);
	return 0;
}

int vmm_snap_create(struct vm *vm, const struct vm_snapshot_req *req, char *err, size_t errlen)
{
	struct vm_snapshot_stats st = {0};
	struct error e = {0};
	int rc = vm_snapshot_create(vm, req, &st, &e);

	if (rc) {
		snprintf(err, errlen, "Cannot create a snapshot: %s", e.msg);
		return rc;
	}
	log_info("snapshot", "%s snapshot %s (memory %s: %llu KiB written) in %.1f ms",
		 req->diff ? "Diff" : "Full", req->snapshot_path, req->mem_path,
		 (unsigned long long)(st.mem_written >> 10), st.ms_total);
	return 0;
}
