/* Snapshots at the process level, below vmm.c (src/vmm_snapshot.c): the
 * machine built from a snapshot file, its vCPUs started at the first resume,
 * a snapshot written, the working set recorded or prefetched. vmm.c keeps
 * the process's states and the API routes. */
#ifndef KITE_VMM_SNAPSHOT_H
#define KITE_VMM_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "compiler.h"
#include "error.h"
#include "evloop.h"
#include "hostio.h"
#include "snapshot/workset.h"
#include "vm.h"
#include "vm_snapshot.h"

struct vmm_snap {
	struct evloop *loop;
	struct vm *vm;		     /* the restored machine, while it exists */
	const struct vm_config *cfg; /* its config (restore_path, working set options) */
	bool vcpus_pending;	     /* restored, vCPU threads not started yet */
	bool prefetching;
	struct workset ws; /* what the prefetch thread reads, freed after its join */
	struct workset_prefetch prefetch;
	int ws_timer; /* timerfd of --record-working-set, or -1 */
};

/* The process's resources a restore fills in (vmm.c's). */
struct vmm_snap_host {
	struct vm_config *cfg; /* restore_path, restore_mem; the rest from the snapshot */
	struct vm_host *host;
	bool *host_open;
	bool *built;
	struct hostio *io;
	const struct timespec *t_start;
};

void vmm_snap_init(struct vmm_snap *s, struct evloop *loop);
/* Reads cfg->restore_path, fills cfg from its machine section, opens the
 * host resources, checks the host signature and builds vm, paused with its
 * vCPUs not started; prefetches a recorded working set. A failure leaves no
 * machine and the host closed. */
int vmm_snap_build(struct vmm_snap *s, struct vm *vm, struct vmm_snap_host *h,
		   struct error *e) MUST_CHECK;
/* The first resume of a restored machine: devices resumed, vCPUs started,
 * the working-set timer armed. 0 and nothing done when not pending. */
int vmm_snap_start(struct vmm_snap *s) MUST_CHECK;
/* PUT /snapshot/create on a paused machine; err gets the API's message. */
int vmm_snap_create(struct vm *vm, const struct vm_snapshot_req *req, char *err,
		    size_t errlen) MUST_CHECK;
/* Joins the prefetch thread, drops the timer: before the machine goes. */
void vmm_snap_teardown(struct vmm_snap *s);

#endif
