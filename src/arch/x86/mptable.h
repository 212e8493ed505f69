/* Intel MultiProcessor Specification 1.4 tables: the floating pointer and the
 * configuration table that tell a guest without ACPI its CPUs, its I/O APIC
 * and how ISA and device interrupts reach it. */
#ifndef KITE_X86_MPTABLE_H
#define KITE_X86_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "guest_mem.h"

/* Linux looks for the floating pointer in 0xF0000-0xFFFFF (and the EBDA). */
#define MPTABLE_ADDR 0xF0000ull
#define MPTABLE_LIMIT 0x100000ull

#define X86_IOAPIC_ADDR 0xFEC00000u
#define X86_LAPIC_ADDR 0xFEE00000u
#define X86_IOAPIC_PINS 24 /* KVM's in-kernel I/O APIC */
#define X86_MAX_CPUS 254   /* APIC ids 0..253, the I/O APIC takes nr_cpus */

/* MP floating pointer and configuration table header, offsets. */
#define MPF_SIZE 16
#define MPC_HDR_SIZE 44
#define MPC_CPU_SIZE 20
#define MPC_ENTRY_SIZE 8

enum mp_entry_type { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum mp_irq_type { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

/* Checks that irq can name a device interrupt: an I/O APIC pin other than
 * 0 and 2, where the PIT (ISA IRQ 0) is routed. */
int x86_irq_valid(uint32_t irq);

/* Writes the floating pointer at MPTABLE_ADDR and the configuration table
 * right after it: one processor per CPU (APIC id = index, CPU 0 the BSP),
 * the ISA bus, the I/O APIC (id nr_cpus), ISA IRQs 0-15 (0 on pin 2) and
 * dev_irqs, ExtINT on LINT0 and NMI on LINT1. */
int mptable_write(struct guest_mem *gm, int nr_cpus, const uint32_t *dev_irqs, int nr_dev_irqs,
		  char *err, size_t errlen) MUST_CHECK;

/* Byte sum, for checksums (a valid table sums to 0). */
uint8_t x86_table_sum(const uint8_t *p, size_t len);

#endif
