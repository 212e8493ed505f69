/* The machine's virtio-mmio devices: which the config asks for (a table of
 * kinds), where each sits (window and GSI from the board), and how its
 * notifications are wired: guest kicks through KVM ioeventfds (no exit to
 * kite), interrupts through KVM irqfds, both served on the event loop. Each
 * device is registered in the machine's device list; this module owns only
 * the wiring, which it undoes before the list destroys the devices. */
#ifndef KITE_MACHINE_VIRTIO_H
#define KITE_MACHINE_VIRTIO_H

#include <stddef.h>

#include "compiler.h"
#include "machine.h"

struct machine_virtio;

/* Creates every virtio device the config asks for, in table order (disks,
 * rng, console, nets), and fills m->slots for the loaders. */
int machine_virtio_create(struct machine *m, struct machine_virtio **out, char *err,
			  size_t errlen) MUST_CHECK;
/* Deassigns the ioeventfds and closes the irqfds; the devices themselves
 * go with the device list. */
void machine_virtio_destroy(struct machine_virtio *mv);

#endif
