/* KVM's interrupt and notification plumbing for devices: KVM_IRQ_LINE for
 * devices emulated on vCPU threads, irqfds for devices on the event loop,
 * and ioeventfds that turn a guest's doorbell write into an eventfd signal
 * without an exit to kite. */
#ifndef KITE_IRQ_H
#define KITE_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "vm_event.h"

struct irqchip {
	int vm_fd;
	bool enabled; /* in-kernel IOAPIC/PIC/LAPIC present */
};

/* An irq_line that drives GSI gsi through KVM_IRQ_LINE, or a line that does
 * nothing when the VM has no in-kernel irqchip (guests then poll). The
 * chip must outlive the line. */
struct irq_line irq_line_kvm(struct irqchip *chip, unsigned int gsi);

/* Binds a new eventfd to gsi with KVM_IRQFD; returns the fd or -errno. */
int irq_irqfd_create(struct irqchip *chip, unsigned int gsi) MUST_CHECK;

/* KVM_IOEVENTFD for a 4-byte MMIO write of `datamatch` at addr: assign
 * (true) or deassign (false). */
int irq_ioeventfd(struct irqchip *chip, uint64_t addr, uint32_t datamatch, int fd,
		  bool assign) MUST_CHECK;

#endif
