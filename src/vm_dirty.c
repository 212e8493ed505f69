/* Dirty pages for Diff snapshots: KVM's per-slot dirty logs and kite's own
 * marks (guest_mem) merged into one bitmap over RAM offsets.
 *
 * KVM_GET_DIRTY_LOG returns a slot's log and clears it, in one call, as long
 * as KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 is not enabled on the VM: kite never
 * enables it (nor the dirty ring, which replaces the log). Were it ever
 * enabled, each collect would also need KVM_CLEAR_DIRTY_LOG, or the guest's
 * later writes to a page already reported would go unlogged. */
#include "vm_dirty.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vm.h"

static bool vcpus_all(struct vm *vm, enum vcpu_state want)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vcpu_get_state(&vm->vcpus[i]) != want)
			return false;
	return true;
}

static uint64_t pages_of(uint64_t bytes)
{
	return (bytes + GM_PAGE_SIZE - 1) / GM_PAGE_SIZE;
}

/* ORs a slot's log (bit j: the slot's page j) into the RAM bitmap, whose
 * page `first` is the slot's page 0. Regions start on 4 KiB boundaries but
 * not necessarily on 64-page ones, hence the shift. */
static void merge_slot(uint64_t *dst, size_t nwords, const uint64_t *log, size_t log_words,
		       uint64_t first)
{
	size_t base = (size_t)(first / 64);
	unsigned int sh = (unsigned int)(first % 64);

	for (size_t j = 0; j < log_words && base + j < nwords; j++) {
		dst[base + j] |= log[j] << sh;
		if (sh && base + j + 1 < nwords)
			dst[base + j + 1] |= log[j] >> (64 - sh);
	}
}

/* A log lost half way: mark all of RAM, so that the next collect returns
 * every page instead of missing the ones taken here. */
static void mark_all(struct vm *vm)
{
	for (int i = 0; i < vm->gm.nr_regions; i++)
		gm_mark_dirty(&vm->gm, vm->gm.regions[i].gpa, vm->gm.regions[i].size);
}

static int get_logs(struct vm *vm, uint64_t *dst, size_t nwords, char *err, size_t errlen)
{
	size_t most = 0;
	uint64_t *log;

	for (int i = 0; i < vm->gm.nr_regions; i++)
		most = MAX(most, (size_t)((pages_of(vm->gm.regions[i].size) + 63) / 64));
	log = malloc(most * sizeof(*log));
	if (!log)
		return -ENOMEM;
	/* Slot i is region i (setup_memory registers them so). */
	for (int i = 0; i < vm->gm.nr_regions; i++) {
		const struct gm_region *r = &vm->gm.regions[i];
		size_t words = (size_t)((pages_of(r->size) + 63) / 64);
		struct kvm_dirty_log dl = {.slot = (uint32_t)i, .dirty_bitmap = log};

		memset(log, 0, words * sizeof(*log));
		if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &dl) < 0) {
			int rc = -errno;

			snprintf(err, errlen, "KVM_GET_DIRTY_LOG (slot %d): %s", i, strerror(-rc));
			free(log);
			return rc;
		}
		merge_slot(dst, nwords, log, words,
			   (uint64_t)(r->host - vm->gm.base) / GM_PAGE_SIZE);
	}
	free(log);
	return 0;
}

int vm_dirty_collect(struct vm *vm, uint64_t **bitmap, size_t *nwords, char *err, size_t errlen)
{
	size_t n = gm_dirty_words(&vm->gm);
	uint64_t *bm;
	int rc;

	*bitmap = NULL;
	*nwords = 0;
	if (!vm->cfg->track_dirty_pages || !vm->gm.dirty) {
		snprintf(err, errlen, "Diff snapshots need track_dirty_pages");
		return -ENOTSUP;
	}
	/* A running guest or device would dirty pages between the two logs'
	 * takes, and after: the result would be stale as it is returned. */
	if (!(vm->paused && vcpus_all(vm, VCPU_PAUSED)) && !vcpus_all(vm, VCPU_CREATED)) {
		snprintf(err, errlen, "dirty pages: the machine is running (pause it first)");
		return -EBUSY;
	}
	bm = calloc(n, sizeof(*bm));
	if (!bm) {
		snprintf(err, errlen, "dirty pages: out of memory");
		return -ENOMEM;
	}
	rc = get_logs(vm, bm, n, err, errlen);
	if (rc) {
		/* KVM's logs of the slots before the failing one are gone:
		 * keep them as kite's marks, plus everything else. */
		if (rc != -ENOMEM)
			mark_all(vm);
		else
			snprintf(err, errlen, "dirty pages: out of memory");
		free(bm);
		return rc;
	}
	gm_dirty_take(&vm->gm, bm);
	*bitmap = bm;
	*nwords = n;
	return 0;
}

int vm_dirty_reset(struct vm *vm)
{
	char err[128];
	uint64_t *bm;
	size_t n;
	int rc = vm_dirty_collect(vm, &bm, &n, err, sizeof(err));

	free(bm);
	return rc;
}
