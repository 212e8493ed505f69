/* The VM's virtio-mmio devices: where each sits (MMIO window and GSI), its
 * irqfd and per-queue ioeventfds, and how the guest learns of it. */
#ifndef KITE_VM_VIRTIO_H
#define KITE_VM_VIRTIO_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define VM_VIRTIO_BASE 0xd0000000ull
#define VM_VIRTIO_STRIDE 0x1000ull
#define VM_VIRTIO_MAX 16

struct vm;

struct vm_virtio_slot {
	uint64_t base;
	uint32_t gsi;
	const char *kind;
};

struct vm_virtio;

/* Creates every device the config asks for (disks, then rng). */
int vm_virtio_create(struct vm *vm, struct vm_virtio **out, char *err, size_t errlen) MUST_CHECK;
void vm_virtio_destroy(struct vm_virtio *v);
int vm_virtio_count(const struct vm_virtio *v);
const struct vm_virtio_slot *vm_virtio_slot(const struct vm_virtio *v, int i);

/* GSI for the i-th virtio device: the ISA lines a PC leaves free, then the
 * IOAPIC's PCI lines. Exposed for tests and the table builders. */
uint32_t vm_virtio_gsi(int i);

#endif
