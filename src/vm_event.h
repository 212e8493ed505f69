/* Why a VM stops, and how a device asks for it. Devices never reach into
 * struct vm: they get a struct vm_stopper and call vm_stopper_fire(). */
#ifndef KITE_VM_EVENT_H
#define KITE_VM_EVENT_H

enum vm_stop_reason {
	VM_STOP_NONE = 0,
	VM_STOP_HALT,          /* every vCPU halted (no irqchip) */
	VM_STOP_POWEROFF,      /* ACPI S5, KVM_SYSTEM_EVENT_SHUTDOWN */
	VM_STOP_RESET,         /* i8042 0xFE, ACPI reset register, KVM reset event */
	VM_STOP_TRIPLE_FAULT,  /* KVM_EXIT_SHUTDOWN */
	VM_STOP_INTERNAL,      /* emulation failure, failed entry, unknown exit */
	VM_STOP_DEBUG_EXIT,    /* debug-exit port; status is the guest's byte */
	VM_STOP_PANIC,         /* guest panic (pvpanic / panic=-1 reboot) */
	VM_STOP_HOST_ERROR,    /* a host-side failure */
	VM_STOP_USER,          /* Ctrl-A x, SIGTERM, API stop */
};

struct vm_stopper {
	void (*fn)(void *ctx, enum vm_stop_reason reason, int status);
	void *ctx;
};

static inline void vm_stopper_fire(const struct vm_stopper *s, enum vm_stop_reason r, int status)
{
	if (s && s->fn)
		s->fn(s->ctx, r, status);
}

/* Raises or lowers an interrupt line (GSI). Level is 0 or 1. Edge-triggered
 * users raise then lower. Callable from any thread. */
struct irq_line {
	void (*set)(void *ctx, unsigned int gsi, int level);
	void *ctx;
	unsigned int gsi;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l && l->set)
		l->set(l->ctx, l->gsi, level);
}

#endif
