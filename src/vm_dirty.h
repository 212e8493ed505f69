/* Dirty pages of a machine, for Diff snapshots: the pages written since the
 * last collect, by the guest (KVM's dirty log on every memory slot) or by
 * kite (guest_mem's bitmap: virtio rings and the buffers devices fill).
 * On only when the config asks (track_dirty_pages). */
#ifndef KITE_VM_DIRTY_H
#define KITE_VM_DIRTY_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct vm;

/* The pages dirtied since the previous collect (or reset), or since the
 * machine was built: then every page, as nothing was saved yet. *bitmap is
 * malloc'd, the caller frees it: *nwords words (gm_dirty_words), indexed by
 * RAM offset as guest_mem.h describes (bit i of word w: the page at offset
 * (w * 64 + i) * 4096 of the RAM mapping, so a memory file written in RAM
 * order seeks to that offset). Both logs are cleared: the next collect
 * starts from here.
 * Only while paused or before the vCPUs started (-EBUSY); -ENOTSUP when
 * tracking is off. When KVM_GET_DIRTY_LOG fails (-errno), every page is
 * marked again, so the next collect returns all of RAM and no write is
 * lost. err gets one line. */
int vm_dirty_collect(struct vm *vm, uint64_t **bitmap, size_t *nwords, char *err,
		     size_t errlen) MUST_CHECK;
/* After a Full snapshot (or loading RAM from one): collect and discard, so
 * that the next Diff is relative to it. The errors of vm_dirty_collect. */
int vm_dirty_reset(struct vm *vm) MUST_CHECK;

#endif
