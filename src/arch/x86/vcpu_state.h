/* One vCPU's KVM state as a snapshot section: saved from a vCPU that is
 * outside KVM_RUN with its pending I/O completed (PAUSED, or CREATED and not
 * yet started), restored into a vCPU that has not run yet.
 *
 * Restore is two steps: vcpu_state_parse reads a section into a struct
 * vcpu_state without touching KVM (every count and size bounded, every
 * error one line naming the field; the fuzzer drives it), then
 * vcpu_state_apply issues the ioctls. A section that does not parse
 * changes nothing.
 *
 * Section (little-endian; framed as device sections are, see device.h):
 *   u8 name length (4), "vcpu", u32 version (1), u32 payload length,
 * payload, version 1:
 *   u32 flags            VCPU_STATE_F_*; no other bit may be set
 *   u32 mp_state         KVM_MP_STATE_*, <= VCPU_STATE_MP_MAX
 *   u32 size, regs       size == sizeof(struct kvm_regs)
 *   u32 size, sregs      size == sizeof(struct kvm_sregs)
 *   u32 size, fpu area   XSAVE flag: the KVM_GET_XSAVE(2) area, size equal
 *                        to this host's (KVM_CAP_XSAVE2, else 4096);
 *                        otherwise struct kvm_fpu
 *   u32 size, xcrs       XCRS flag: sizeof(struct kvm_xcrs), nr_xcrs <=
 *                        KVM_MAX_XCRS; otherwise size 0
 *   u32 size, debugregs  sizeof(struct kvm_debugregs)
 *   u32 size, lapic      LAPIC flag: sizeof(struct kvm_lapic_state);
 *                        otherwise 0
 *   u32 nmsrs            <= VCPU_STATE_MAX_MSRS, then per MSR
 *     u32 index, u64 data   strictly ascending indexes (so IA32_TSC comes
 *                        before TSC_DEADLINE, as KVM_SET_MSRS needs)
 *   u32 ncpuid           1..VCPU_STATE_MAX_CPUID, then per entry
 *     u32 function, index, flags, eax, ebx, ecx, edx
 *   u32 tsc_khz          0: unknown
 *   u32 size, events     sizeof(struct kvm_vcpu_events) (saved last)
 * The KVM structs are copied as KVM lays them out on x86-64; their sizes
 * are part of the section so that a layout change is a clear error.
 *
 * Restore order (what KVM needs): CPUID, TSC frequency, MP state, sregs,
 * regs, vCPU events (right after regs: setting regs clears a pending
 * exception), XSAVE/FPU, XCRs, debug registers, LAPIC, MSRs. */
#ifndef KITE_X86_VCPU_STATE_H
#define KITE_X86_VCPU_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "state.h"

#define VCPU_STATE_NAME "vcpu"
#define VCPU_STATE_VERSION 1u

#define VCPU_STATE_F_XSAVE (1u << 0) /* the fpu area is XSAVE, not kvm_fpu */
#define VCPU_STATE_F_XCRS (1u << 1)
#define VCPU_STATE_F_LAPIC (1u << 2)
#define VCPU_STATE_F_ALL (VCPU_STATE_F_XSAVE | VCPU_STATE_F_XCRS | VCPU_STATE_F_LAPIC)

/* KVM_MP_STATE_AP_RESET_HOLD is the highest x86 state KVM defines. */
#define VCPU_STATE_MP_MAX 10u
/* KVM reports ~100-200 MSRs on current hosts; a claim above this is hostile. */
#define VCPU_STATE_MAX_MSRS 1024u
/* KVM_MAX_CPUID_ENTRIES in the kernel. */
#define VCPU_STATE_MAX_CPUID 256u
/* An XSAVE area larger than this is no x86 CPU's (AMX is ~11 KiB). */
#define VCPU_STATE_MAX_XSAVE (64u * 1024)

#define MSR_IA32_TSC_ 0x10u
#define MSR_IA32_TSC_DEADLINE_ 0x6e0u

struct vcpu_state_msr {
	uint32_t index;
	uint64_t data;
};

struct vcpu_state_cpuid {
	uint32_t function, index, flags, eax, ebx, ecx, edx;
};

struct vcpu_kvm_state {
	uint32_t flags;
	uint32_t mp_state;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu; /* without XSAVE */
	uint8_t *xsave;	    /* with XSAVE: xsave_size bytes (malloc'd) */
	uint32_t xsave_size;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs debugregs;
	struct kvm_lapic_state lapic;
	uint32_t nmsrs;
	struct vcpu_state_msr msrs[VCPU_STATE_MAX_MSRS];
	uint32_t ncpuid;
	struct vcpu_state_cpuid cpuid[VCPU_STATE_MAX_CPUID];
	uint32_t tsc_khz;
	struct kvm_vcpu_events events;
};

/* What this host's KVM accepts, for the parser's equality checks. */
struct vcpu_state_host {
	uint32_t xsave_size; /* 0: KVM has no XSAVE (the FPU is saved instead) */
	bool xcrs;
};

/* Asks KVM (the /dev/kvm fd) what vcpu_state_host says. */
void vcpu_state_host_probe(int kvm_fd, struct vcpu_state_host *h);

/* Appends the vCPU's framed section. -errno (the ioctl's) on failure. */
int vcpu_state_save(int vcpu_fd, int kvm_fd, struct state_buf *out) MUST_CHECK;

/* Reads one framed section from `in` into a new struct vcpu_kvm_state (*out,
 * free with vcpu_state_free). Pure. On error the message is in `in`
 * (in->msg) and *out is NULL; returns 0 or -EINVAL (-ENOMEM). */
int vcpu_state_parse(struct state_reader *in, const struct vcpu_state_host *host,
		     struct vcpu_kvm_state **out) MUST_CHECK;
void vcpu_state_free(struct vcpu_kvm_state *s);

/* Sets a parsed state into a vCPU that has not run. err gets one line. */
int vcpu_state_apply(int vcpu_fd, const struct vcpu_kvm_state *s, char *err,
		     size_t errlen) MUST_CHECK;

/* vcpu_state_parse with this host's limits, then vcpu_state_apply. */
int vcpu_state_restore(int vcpu_fd, int kvm_fd, struct state_reader *in, char *err,
		       size_t errlen) MUST_CHECK;

#endif
