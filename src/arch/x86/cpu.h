/* x86 vCPU state for each entry mode: the GDT and TSS kite writes into guest
 * memory, identity-mapped page tables, segment/control registers, CPUID. */
#ifndef KITE_X86_CPU_H
#define KITE_X86_CPU_H

#include <stdint.h>

#include "compiler.h"
#include "config.h"
#include "guest_mem.h"

/* Guest-physical areas kite owns when a mode needs them. */
#define CPU_GDT_ADDR 0x500
#define CPU_GDT_END 0x600
#define CPU_PT_ADDR 0x9000      /* PML4; PDPT at +0x1000; PDs follow */
#define CPU_PT_MAX_PDS 16       /* identity map up to 16 GiB with 2 MiB pages */
#define CPU_PT_END (CPU_PT_ADDR + 0x2000 + CPU_PT_MAX_PDS * 0x1000)
/* The TSS carries a full I/O permission bitmap that allows every port: on
 * hosts that virtualise CPL 3 without hardware IOPL (PVM), the bitmap is how
 * a CPL-3 guest gets port I/O. 0x68 bytes + 8 KiB bitmap + the 0xff end byte. */
#define CPU_TSS_ADDR CPU_PT_END
#define CPU_TSS_IOMAP_OFF 0x68
#define CPU_TSS_LIMIT (CPU_TSS_IOMAP_OFF + 8192)
#define CPU_TSS_END (CPU_TSS_ADDR + 0x2100)

/* GDT selectors. 0x10/0x18 are the Linux boot protocol's __BOOT_CS/__BOOT_DS. */
#define SEL_CODE64 0x10
#define SEL_DATA 0x18
#define SEL_CODE32 0x20
#define SEL_UDATA 0x28
#define SEL_UCODE64 0x30
#define SEL_TSS 0x38

#define RFLAGS_RESERVED 0x2ull
#define RFLAGS_IOPL3 0x3000ull

/* Writes the GDT and TSS, and for the long modes the page tables (user-
 * accessible for MODE_LONG_USER). Once per VM, before any vCPU runs. */
int cpu_write_tables(struct guest_mem *gm, enum cpu_mode mode) MUST_CHECK;

struct cpu_entry {
	enum cpu_mode mode;
	uint64_t rip;
	uint64_t regs[GPR_COUNT];
	uint32_t regs_set;
};

/* Loads segment, control and general registers for the entry mode. */
int cpu_set_entry(int vcpu_fd, const struct cpu_entry *e) MUST_CHECK;

/* CPUID from KVM_GET_SUPPORTED_CPUID with this vCPU's APIC ID and topology,
 * the TSC frequency leaf, and XSAVE hidden where KVM cannot track XCR0. */
int cpu_set_cpuid(int kvm_fd, int vcpu_fd, int vcpu_id, int nr_cpus) MUST_CHECK;

/* The pure steps of cpu_set_cpuid, on a KVM_GET_SUPPORTED_CPUID table. */
struct kvm_cpuid2;
/* Leaves 1, 0xb and 0x1f: APIC ID vcpu_id, nr_cpus cores in one package. */
void cpu_cpuid_set_topology(struct kvm_cpuid2 *c, int vcpu_id, int nr_cpus);
/* Clears XSAVE, the features whose state only XSAVE manages, and leaf 0xd. */
void cpu_cpuid_hide_xsave(struct kvm_cpuid2 *c);
/* Appends leaf 0x40000010 (EAX TSC kHz, EBX APIC timer kHz) and raises the
 * KVM leaf's maximum to it; room = free entries after c->nent. -ENOENT
 * without the KVM signature leaf or room, -EEXIST if already there. */
int cpu_cpuid_add_tsc_khz(struct kvm_cpuid2 *c, uint32_t room, uint32_t tsc_khz) MUST_CHECK;

/* LAPIC LVT LINT0 as ExtINT and LINT1 as NMI, as a PC's firmware leaves
 * them (needs the in-kernel irqchip). */
int cpu_set_lapic(int vcpu_fd) MUST_CHECK;
/* Marks an application processor runnable without INIT/SIPI. */
int cpu_set_runnable(int vcpu_fd) MUST_CHECK;

/* The kvm_run register dump printed on fatal exits, plus the bytes at the
 * instruction pointer, read through the guest's own translation. */
void cpu_dump(int vcpu_fd, const struct guest_mem *gm, const char *prefix);

#endif
