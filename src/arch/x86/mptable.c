/* MP Specification 1.4 tables (chapter 4): built in a host buffer with every
 * entry in ascending type order as the spec requires, checksummed, then
 * written to guest RAM in one piece. ISA IRQ 0 goes to I/O APIC pin 2 as on a
 * PC (the same routing the MADT's interrupt source override states), so the
 * VMM must route GSI 0 to pin 2 too. */
#include "arch/x86/mptable.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/board.h"
#include "arch/x86/boot_util.h"

#define MPC_OFF_LENGTH 4
#define MPC_OFF_CHECKSUM 7
#define MPC_OFF_COUNT 34

/* I/O interrupt flags (MP spec table 4-10): polarity bits 0-1, trigger
 * bits 2-3; 0 means "conforms to the bus" (ISA: edge, active high). */
#define MP_IRQ_HIGH 0x1
#define MP_IRQ_EDGE (0x1 << 2)
#define MP_IRQ_LEVEL (0x3 << 2)

#define ISA_BUS_ID 0
#define SCI_IRQ BOARD_SCI_IRQ

/* Worst case: 16 + 44 + 254 CPUs + bus + I/O APIC + 40 interrupts + 2. */
#define MP_BUF_SIZE 8192

uint8_t x86_table_sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

int x86_irq_valid(uint32_t irq)
{
	return irq >= 1 && irq < X86_IOAPIC_PINS && irq != 2;
}

static uint8_t *put_intsrc(uint8_t *p, uint8_t type, uint16_t flags, uint8_t src_irq,
			   uint8_t ioapic, uint8_t pin)
{
	p[0] = MP_INTSRC;
	p[1] = type;
	le16_put(p + 2, flags);
	p[4] = ISA_BUS_ID;
	p[5] = src_irq;
	p[6] = ioapic;
	p[7] = pin;
	return p + MPC_ENTRY_SIZE;
}

static uint8_t *put_lintsrc(uint8_t *p, uint8_t type, uint8_t lint)
{
	p[0] = MP_LINTSRC;
	p[1] = type;
	le16_put(p + 2, 0);
	p[4] = ISA_BUS_ID;
	p[5] = 0;
	p[6] = 0xFF; /* every local APIC */
	p[7] = lint;
	return p + MPC_ENTRY_SIZE;
}

int mptable_write(struct guest_mem *gm, int nr_cpus, const uint32_t *dev_irqs, int nr_dev_irqs,
		  char *err, size_t errlen)
{
	uint8_t buf[MP_BUF_SIZE] = {0};
	uint8_t *mpf = buf, *mpc = buf + MPF_SIZE, *p;
	uint8_t ioapic_id = (uint8_t)nr_cpus;
	uint32_t listed = 0; /* bitmap of I/O APIC pins with an entry */
	uint16_t count = 0;
	size_t total;

	if (nr_cpus < 1 || nr_cpus > X86_MAX_CPUS) {
		boot_errf(err, errlen, "%d CPUs requested; kite supports 1 to %d", nr_cpus,
			  X86_MAX_CPUS);
		return -EINVAL;
	}
	if (nr_dev_irqs < 0 || (nr_dev_irqs > 0 && !dev_irqs)) {
		boot_errf(err, errlen, "bad device interrupt list");
		return -EINVAL;
	}
	for (int i = 0; i < nr_dev_irqs; i++) {
		if (!x86_irq_valid(dev_irqs[i])) {
			boot_errf(err, errlen, "device IRQ %u is not usable (1, 3..%d)",
				  dev_irqs[i], X86_IOAPIC_PINS - 1);
			return -EINVAL;
		}
	}

	/* Floating pointer (MP spec 4.1). */
	memcpy(mpf, "_MP_", 4);
	le32_put(mpf + 4, (uint32_t)(MPTABLE_ADDR + MPF_SIZE));
	mpf[8] = 1; /* length in 16-byte units */
	mpf[9] = 4; /* spec revision 1.4 */
	/* feature bytes 0: a configuration table is present, no IMCR */

	/* Configuration table header (4.2). */
	memcpy(mpc, "PCMP", 4);
	mpc[6] = 4;
	memcpy(mpc + 8, "KITE    ", 8);
	memcpy(mpc + 16, "KITE-VM     ", 12);
	le32_put(mpc + 36, X86_LAPIC_ADDR);
	p = mpc + MPC_HDR_SIZE;

	for (int i = 0; i < nr_cpus; i++, count++) {
		p[0] = MP_PROCESSOR;
		p[1] = (uint8_t)i;		 /* local APIC id */
		p[2] = 0x14;			 /* local APIC version */
		p[3] = 0x1 | (i == 0 ? 0x2 : 0); /* enabled, BSP */
		le32_put(p + 4, 0x600);		 /* family 6 */
		le32_put(p + 8, 0x201);		 /* FPU, APIC */
		p += MPC_CPU_SIZE;
	}

	p[0] = MP_BUS;
	p[1] = ISA_BUS_ID;
	memcpy(p + 2, "ISA   ", 6);
	p += MPC_ENTRY_SIZE;
	count++;

	p[0] = MP_IOAPIC;
	p[1] = ioapic_id;
	p[2] = 0x11; /* version */
	p[3] = 0x1;  /* enabled */
	le32_put(p + 4, X86_IOAPIC_ADDR);
	p += MPC_ENTRY_SIZE;
	count++;

	/* ISA IRQs: 0 on pin 2, 2 (the cascade) nowhere, the rest 1:1. */
	for (unsigned irq = 0; irq < 16; irq++) {
		unsigned pin = irq == 0 ? 2 : irq;
		uint16_t flags = irq == SCI_IRQ ? MP_IRQ_HIGH | MP_IRQ_LEVEL : 0;

		if (irq == 2)
			continue;
		p = put_intsrc(p, MP_INT, flags, (uint8_t)irq, ioapic_id, (uint8_t)pin);
		listed |= 1u << pin;
		count++;
	}
	for (int i = 0; i < nr_dev_irqs; i++) {
		uint32_t irq = dev_irqs[i]; /* < X86_IOAPIC_PINS: checked above */

		if (listed & (1u << irq))
			continue;
		p = put_intsrc(p, MP_INT, MP_IRQ_HIGH | MP_IRQ_EDGE, (uint8_t)irq, ioapic_id,
			       (uint8_t)irq);
		listed |= 1u << irq;
		count++;
	}
	p = put_lintsrc(p, MP_EXTINT, 0);
	p = put_lintsrc(p, MP_NMI, 1);
	count += 2;

	total = (size_t)(p - buf);
	le16_put(mpc + MPC_OFF_LENGTH, (uint16_t)(p - mpc));
	le16_put(mpc + MPC_OFF_COUNT, count);
	mpc[MPC_OFF_CHECKSUM] = (uint8_t)-x86_table_sum(mpc, (size_t)(p - mpc));
	mpf[10] = (uint8_t)-x86_table_sum(mpf, MPF_SIZE);

	if (MPTABLE_ADDR + total > MPTABLE_LIMIT || gm_write(gm, MPTABLE_ADDR, buf, total) < 0) {
		boot_errf(err, errlen, "guest RAM does not cover the MP table at 0x%llx",
			  MPTABLE_ADDR);
		return -ENOMEM;
	}
	return 0;
}
