/* Interrupt delivery into the in-kernel irqchip: KVM_IRQ_LINE for devices
 * emulated on vCPU threads, irqfd for devices on the event loop. */
#ifndef KITE_IRQ_H
#define KITE_IRQ_H

#include "compiler.h"
#include "vm_event.h"

struct vm;

/* An irq_line that drives GSI gsi through KVM_IRQ_LINE, or a line that does
 * nothing when the VM has no in-kernel irqchip (guests then poll). */
struct irq_line irq_line_kvm(struct vm *vm, unsigned int gsi);

/* Binds a new eventfd to gsi with KVM_IRQFD; returns the fd or -errno. */
int irq_irqfd_create(struct vm *vm, unsigned int gsi) MUST_CHECK;

#endif
