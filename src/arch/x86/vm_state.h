/* The VM-wide KVM state as a snapshot section: the KVM clock and, with the
 * in-kernel irqchip, the PIT and the PIC master, PIC slave and IOAPIC.
 * Saved while every vCPU is outside KVM_RUN; restored into a VM whose
 * vCPUs have not run. Parse (pure, bounded, for the fuzzer) and apply
 * (the ioctls) are separate, as in vcpu_state.h.
 *
 * Section (little-endian; framed as device sections are, see device.h):
 *   u8 name length (2), "vm", u32 version (1), u32 payload length,
 * payload, version 1:
 *   u32 flags           VM_STATE_F_IRQCHIP or 0; no other bit
 *   u32 size, clock     sizeof(struct kvm_clock_data)
 * with VM_STATE_F_IRQCHIP:
 *   u32 size, pit       sizeof(struct kvm_pit_state2)
 *   3 x u32 size, chip  sizeof(struct kvm_irqchip), chip_id 0, 1, 2 in order
 * The KVM structs are copied as KVM lays them out on x86-64. A section
 * with an irqchip restores only into a VM with one, and the other way. */
#ifndef KITE_X86_VM_STATE_H
#define KITE_X86_VM_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "state.h"

#define VM_STATE_NAME "vm"
#define VM_STATE_VERSION 1u
#define VM_STATE_F_IRQCHIP (1u << 0)
#define VM_STATE_NR_CHIPS 3

struct vm_state {
	uint32_t flags;
	struct kvm_clock_data clock;
	struct kvm_pit_state2 pit;
	struct kvm_irqchip chips[VM_STATE_NR_CHIPS];
};

/* Appends the VM's framed section. -errno (the ioctl's) on failure. */
int vm_state_save(int vm_fd, bool irqchip, struct state_buf *out) MUST_CHECK;
/* Reads one framed section into *s. Pure; the message is in in->msg. */
int vm_state_parse(struct state_reader *in, struct vm_state *s) MUST_CHECK;
/* Sets a parsed state into a VM (irqchip: whether it has one). realtime:
 * advance the KVM clock by the wall-clock time since the save, when the
 * saving host recorded it (KVM_CLOCK_REALTIME). */
int vm_state_apply(int vm_fd, bool irqchip, const struct vm_state *s, bool realtime, char *err,
		   size_t errlen) MUST_CHECK;
/* vm_state_parse, then vm_state_apply. */
int vm_state_restore(int vm_fd, bool irqchip, struct state_reader *in, char *err,
		     size_t errlen) MUST_CHECK;

#endif
