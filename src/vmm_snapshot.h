/* Snapshots at the process level (src/vmm_snapshot.c): restore from
 * --restore or PUT /snapshot/load, PUT /snapshot/create, the working set. */
#ifndef KITE_VMM_SNAPSHOT_H
#define KITE_VMM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "error.h"
#include "vm_snapshot.h"

struct vmm;

/* Builds the machine from cfg->restore_path and cfg->restore_mem, paused
 * with its vCPUs not started; resumes it unless cfg->restore_paused. */
int vmm_restore(struct vmm *v, struct error *e) MUST_CHECK;
/* PUT /snapshot/load: vmm_restore with the request's choices. A failure
 * also ends the process (after the reply), as Firecracker does. */
int vmm_snapshot_load(struct vmm *v, const char *snapshot, const char *mem, bool resume,
		      bool track_dirty, bool clock_realtime, struct error *e) MUST_CHECK;
int vmm_snapshot_create(struct vmm *v, const struct vm_snapshot_req *req, char *err,
			size_t errlen) MUST_CHECK;
/* The first resume of a restored machine starts its vCPUs (and the
 * working-set timer); 0 when there was nothing to start. */
int vmm_snapshot_started(struct vmm *v) MUST_CHECK;
/* The API's snapshot routes (struct api_ops). */
void vmm_snapshot_ops(struct vmm *v);
/* Stops the prefetch thread and the timer: before the machine goes. */
void vmm_snapshot_teardown(struct vmm *v);

#endif
