/* Snapshot create and restore for one machine. The order is KVM's and the
 * device model's: devices are quiesced (paused) before anything is saved,
 * their sections come before the KVM state, and on restore the memory is in
 * place before any device checks its rings against it. */
#include "vm_snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "snapshot/machine.h"
#include "snapshot/memfile.h"
#include "snapshot/outfile.h"
#include "vm.h"
#include "vm_dirty.h"

#define SEC_VERSION 1u /* of the memmap, devices and cpu sections' framing */

static double ms_since(uint64_t t0)
{
	return (double)(clock_mono_ns() - t0) / 1e6;
}

/* This host's TSC frequency as the saving vCPU sees it (0: unknown). */
static uint32_t tsc_khz(const struct vm *vm)
{
	int r = vm->nr_vcpus ? ioctl(vm->vcpus[0].fd, KVM_GET_TSC_KHZ, 0) : -1;

	return r > 0 ? (uint32_t)r : 0;
}

static void info_text(char *buf, size_t len, const struct vm_snapshot_req *req)
{
	time_t now = time(NULL);
	struct tm tm;
	char when[32] = "";

	if (gmtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, len, "kite %s snapshot, %s, memory file %s", req->diff ? "Diff" : "Full",
		 when, req->mem_path);
}

/* The pages a Diff snapshot writes; NULL (all of memory) for Full. */
static int dirty_pages(struct vm *vm, const struct vm_snapshot_req *req, uint64_t **bitmap,
		       struct error *e)
{
	size_t nwords;
	int rc;

	*bitmap = NULL;
	if (!req->diff)
		return 0;
	rc = vm_dirty_collect(vm, bitmap, &nwords, e->msg, sizeof(e->msg));
	return rc ? error_blame(e, rc, rc == -ENOTSUP ? BLAME_INPUT : BLAME_HOST) : 0;
}

struct sections {
	struct state_buf machine, memmap, devices, cpu;
};

static void sections_free(struct sections *s)
{
	state_buf_free(&s->machine);
	state_buf_free(&s->memmap);
	state_buf_free(&s->devices);
	state_buf_free(&s->cpu);
}

/* Machine, devices and vCPUs into memory buffers (nothing written yet). */
static int save_state(struct vm *vm, struct sections *s, struct error *e)
{
	int rc;

	snap_machine_save(vm->cfg, &s->machine);
	if (s->machine.err)
		return error_set(e, s->machine.err, BLAME_HOST, "machine section: %s",
				 strerror(-s->machine.err));
	rc = device_list_save(&vm->devices, &s->devices);
	if (rc)
		return error_set(e, rc, rc == -EBUSY ? BLAME_INPUT : BLAME_HOST,
				 "cannot save the devices: %s", strerror(-rc));
	rc = vm_save_cpu_state(vm, &s->cpu);
	if (rc)
		return error_set(e, rc, rc == -EBUSY ? BLAME_INPUT : BLAME_HOST,
				 "cannot save the vCPUs: %s", strerror(-rc));
	return 0;
}

/* The state file's bytes into its (already open) temporary file. */
static int write_state(struct vm *vm, const struct vm_snapshot_req *req, struct sections *s,
		       struct outfile *o, struct error *e)
{
	struct snap_host host;
	const char *what = "write";
	char info[256];
	size_t len;
	void *buf;
	int rc;

	info_text(info, sizeof(info), req);
	const struct snap_section secs[] = {
		{SNAP_SEC_MACHINE, SNAP_MACHINE_VERSION, SNAP_SEC_REQUIRED, s->machine.data,
		 s->machine.len},
		{SNAP_SEC_MEMMAP, SEC_VERSION, SNAP_SEC_REQUIRED, s->memmap.data, s->memmap.len},
		{SNAP_SEC_DEVICES, SEC_VERSION, SNAP_SEC_REQUIRED, s->devices.data,
		 s->devices.len},
		{SNAP_SEC_CPU, SEC_VERSION, SNAP_SEC_REQUIRED, s->cpu.data, s->cpu.len},
		{SNAP_SEC_INFO, 1, 0, info, strlen(info)},
	};

	rc = snap_host_probe(vm->host->kvm.fd, tsc_khz(vm), &host);
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot read this host's signature: %s",
				 strerror(-rc));
	rc = snap_encode(&host, secs, (int)ARRAY_SIZE(secs), &buf, &len, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_HOST);
	rc = outfile_write(o, buf, len);
	free(buf);
	if (!rc)
		rc = outfile_finish(o, &what);
	return rc ? error_set(e, rc, error_blame_path(rc), "%s: %s: %s", req->snapshot_path,
			      what, strerror(-rc))
		  : 0;
}

/* The same file given twice would end as the state file alone. */
static int distinct_paths(const struct vm_snapshot_req *req, struct error *e)
{
	struct stat a, b;

	if (!strcmp(req->snapshot_path, req->mem_path) ||
	    (!stat(req->snapshot_path, &a) && !stat(req->mem_path, &b) && a.st_dev == b.st_dev &&
	     a.st_ino == b.st_ino))
		return error_set(e, -EINVAL, BLAME_INPUT,
				 "snapshot_path and mem_file_path name the same file: %s",
				 req->snapshot_path);
	return 0;
}

/* Files appear together or not at all: the state file's temporary file is
 * opened first (a bad snapshot_path fails before any memory is written),
 * the memory file is written and finished under its temporary name (or a
 * Diff merged into its base in place), then the state file; only then are
 * both renamed into place, memory first. */
static int write_files(struct vm *vm, const struct vm_snapshot_req *req, const uint64_t *dirty,
		       struct sections *s, struct memfile_stats *ms, struct error *e)
{
	struct outfile so, mo;
	int rc = outfile_open(&so, req->snapshot_path);

	if (rc)
		return error_set(e, rc, error_blame_path(rc), "%s: %s", req->snapshot_path,
				 strerror(-rc));
	rc = memfile_save_pending(&vm->gm, req->mem_path, dirty, &s->memmap, ms, &mo, e->msg,
				  sizeof(e->msg));
	if (rc) {
		outfile_abort(&so);
		return error_blame(e, rc, error_blame_path(rc));
	}
	rc = write_state(vm, req, s, &so, e);
	if (rc) {
		outfile_abort(&so);
		outfile_abort(&mo);
		return rc;
	}
	rc = outfile_rename(&mo);
	if (rc) {
		outfile_abort(&so);
		return error_set(e, rc, error_blame_path(rc), "%s: rename: %s", req->mem_path,
				 strerror(-rc));
	}
	rc = outfile_rename(&so);
	return rc ? error_set(e, rc, error_blame_path(rc), "%s: rename: %s", req->snapshot_path,
			      strerror(-rc))
		  : 0;
}

int vm_snapshot_create(struct vm *vm, const struct vm_snapshot_req *req,
		       struct vm_snapshot_stats *st, struct error *e)
{
	struct sections s = {0};
	struct memfile_stats ms = {0};
	uint64_t *dirty = NULL, t0 = clock_mono_ns();
	int rc;

	if (!vm->paused)
		return error_set(e, -EBUSY, BLAME_INPUT, "the microVM must be paused first");
	rc = distinct_paths(req, e);
	if (!rc)
		rc = save_state(vm, &s, e);
	if (!rc)
		rc = dirty_pages(vm, req, &dirty, e);
	if (!rc)
		rc = write_files(vm, req, dirty, &s, &ms, e);
	/* The next Diff is relative to this snapshot, Full or not. */
	if (!rc && !req->diff && vm->cfg->track_dirty_pages && vm_dirty_reset(vm))
		log_warn("snapshot", "cannot reset the dirty-page log");
	/* A Diff that failed after taking the dirty log: those pages must be
	 * in the next one, so all of RAM is dirty again. */
	if (rc && dirty)
		for (int i = 0; i < vm->gm.nr_regions; i++)
			gm_mark_dirty(&vm->gm, vm->gm.regions[i].gpa, vm->gm.regions[i].size);
	free(dirty);
	sections_free(&s);
	st->mem_written = ms.bytes_written;
	st->ms_memory = (double)ms.ms;
	st->ms_total = ms_since(t0);
	return rc;
}

/* Guest RAM from the memory file as the snapshot's map says. */
static int map_memory(struct guest_mem *gm, const struct vm_config *cfg,
		      const struct snap_file *snap, struct error *e)
{
	const struct snap_section *sec = snap_find(snap, SNAP_SEC_MEMMAP);
	struct memmap map;
	int rc;

	if (!sec)
		return error_set(e, -EINVAL, BLAME_INPUT, "the snapshot has no memory map");
	rc = memmap_parse(sec->data, sec->len, &map, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_INPUT);
	if (map.ram_size != cfg->memory) {
		rc = error_set(e, -EINVAL, BLAME_INPUT,
			       "the memory map covers %llu bytes, the machine has %llu",
			       (unsigned long long)map.ram_size, (unsigned long long)cfg->memory);
	} else {
		rc = memfile_map(gm, cfg->restore_mem, &map, e->msg, sizeof(e->msg));
		if (rc)
			error_blame(e, rc, error_blame_path(rc));
	}
	memmap_free(&map);
	return rc;
}

static const struct snap_section *need(const struct snap_file *snap, uint32_t type,
				       struct error *e)
{
	const struct snap_section *s = snap_find(snap, type);

	if (!s)
		error_set(e, -EINVAL, BLAME_INPUT, "the snapshot has no %s section",
			  snap_sec_name(type));
	else if (s->version != SEC_VERSION)
		error_set(e, -EINVAL, BLAME_INPUT, "%s section version %u, this kite reads %u",
			  snap_sec_name(type), s->version, SEC_VERSION);
	else
		return s;
	return NULL;
}

static int restore_state(struct vm *vm, const struct snap_file *snap, struct error *e)
{
	const struct snap_section *dev = need(snap, SNAP_SEC_DEVICES, e);
	const struct snap_section *cpu = dev ? need(snap, SNAP_SEC_CPU, e) : NULL;
	int rc;

	if (!cpu)
		return e->code ? e->code : -EINVAL;
	rc = device_list_restore(&vm->devices, dev->data, dev->len, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, rc == -EINVAL ? BLAME_INPUT : BLAME_HOST);
	/* With clock_realtime the guest's clocks move on by the time the
	 * snapshot spent on disk, as across a pause; without, they resume
	 * where they stopped (Firecracker's default). */
	vm->clock_realtime = vm->cfg->restore_clock_realtime;
	rc = vm_restore_cpu_state(vm, cpu->data, cpu->len, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, rc == -EINVAL ? BLAME_INPUT : BLAME_HOST);
	vm_kvmclock_paused(vm);
	vm->paused = 1; /* devices stay paused until the machine is resumed */
	/* A Diff taken later is relative to this snapshot's memory. */
	if (vm->cfg->track_dirty_pages && vm_dirty_reset(vm))
		return error_set(e, -EIO, BLAME_HOST, "cannot reset the dirty-page log");
	return 0;
}

int vm_snapshot_restore(struct vm *vm, const struct vm_config *cfg, const struct vm_host *host,
			struct evloop *ev, const struct timespec *t_start,
			const struct snap_file *snap, struct error *e)
{
	struct guest_mem gm = {.fd = -1};
	int rc = map_memory(&gm, cfg, snap, e);

	if (rc) {
		memset(vm, 0, sizeof(*vm)); /* nothing to destroy but this */
		vm->vm_fd = -1;
		vm->gm.fd = -1;
		return rc;
	}
	rc = vm_create_restored(vm, cfg, host, ev, t_start, &gm, e);
	return rc ? rc : restore_state(vm, snap, e);
}
