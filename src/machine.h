/* What the machine wiring gets from the VM: the buses, guest memory, the
 * event loop, interrupts, the host console, the device list and a way to
 * stop. vm.c fills it; the wiring (arch/x86/board.c, machine_virtio.c) and
 * the loaders below it never see struct vm, so the layers stay one-way:
 *   main -> vm -> {vcpu, wiring, loaders} -> {devices, virtio}
 *        -> {bus, guest memory, event loop, irq, device list} */
#ifndef KITE_MACHINE_H
#define KITE_MACHINE_H

#include <time.h>

#include "backends/disk_image.h"
#include "bus.h"
#include "config.h"
#include "device.h"
#include "evloop.h"
#include "guest_mem.h"
#include "hostio.h"
#include "irq.h"
#include "vm_event.h"

#define MACHINE_MMIO_SLOTS 16

/* A virtio-mmio window the loaders must tell the guest about. */
struct machine_slot {
	uint64_t base, size;
	uint32_t gsi;
};

struct machine {
	const struct vm_config *cfg;
	struct guest_mem *gm;
	struct bus *pio, *mmio;
	struct evloop *ev;
	struct irqchip *irq;
	struct hostio *io;
	struct device_list *devices;
	struct vm_stopper stopper;
	struct timespec t_start; /* main() entry, for timestamps */
	const struct disk_image *disks; /* one per cfg->disks[], opened once */
	struct machine_slot slots[MACHINE_MMIO_SLOTS];
	int nr_slots;
};

#endif
