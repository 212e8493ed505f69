/* Snapshots of one machine: a paused struct vm to a snapshot file (its
 * sections: machine, memory map, devices, cpu) and a memory file, and the
 * other way, a fresh machine built from them. The file container is
 * snapshot/snapfile.h, the memory file snapshot/memfile.h, the machine
 * section snapshot/machine.h; docs/SNAPSHOT-FORMAT.md describes them. */
#ifndef KITE_VM_SNAPSHOT_H
#define KITE_VM_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "error.h"
#include "config.h"
#include "snapshot/snapfile.h"
#include "vm.h"

struct vm_snapshot_req {
	const char *snapshot_path;
	const char *mem_path;
	bool diff; /* only the pages dirtied since the last snapshot */
};

struct vm_snapshot_stats {
	double ms_total, ms_memory;
	uint64_t mem_written; /* bytes written to the memory file */
};

/* Writes the snapshot of a paused machine (-EBUSY if it is not). The
 * memory file is written first, then the state file, each to a temporary
 * name renamed into place: a failure leaves no state file naming a bad
 * memory file. e->msg gets one line. */
int vm_snapshot_create(struct vm *vm, const struct vm_snapshot_req *req,
		       struct vm_snapshot_stats *st, struct error *e) MUST_CHECK;

/* A fresh machine from a snapshot whose machine section built cfg
 * (cfg->restore_mem names the memory file): RAM mapped from the file
 * (copy-on-write, see memfile_map), the machine built around it
 * (vm_create_restored), then device and vCPU state restored, everything
 * checked before it is applied. Left paused with its vCPUs not started. On
 * failure the caller destroys vm (vm_destroy), as after vm_create. */
int vm_snapshot_restore(struct vm *vm, const struct vm_config *cfg, const struct vm_host *host,
			struct evloop *ev, const struct timespec *t_start,
			const struct snap_file *snap, struct error *e) MUST_CHECK;

#endif
