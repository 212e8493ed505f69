/* The VM's virtio-mmio devices: where each sits (MMIO window and GSI), its
 * irqfd and per-queue ioeventfds, and how the guest learns of it. */
#ifndef KITE_VM_VIRTIO_H
#define KITE_VM_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#include "machine.h"

struct vm_virtio_slot {
	uint64_t base;
	uint32_t gsi;
	const char *kind;
};

struct vm_virtio;

/* Creates every device the config asks for (disks, then rng). */
int vm_virtio_create(struct machine *m, struct vm_virtio **out, char *err, size_t errlen) MUST_CHECK;
void vm_virtio_destroy(struct vm_virtio *v);
int vm_virtio_count(const struct vm_virtio *v);
const struct vm_virtio_slot *vm_virtio_slot(const struct vm_virtio *v, int i);

#endif
