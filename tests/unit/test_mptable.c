/* MP table: floating pointer, checksums, entry counts and routing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/boot_util.h"
#include "arch/x86/mptable.h"
#include "guest_mem.h"

#define RAM_SIZE (2u << 20)

struct counts {
	int cpus, bsp, bus, ioapic, intsrc, lint;
	int pin_of_irq[32]; /* -1: no entry */
	uint16_t flags_of_irq[32];
	uint8_t ioapic_id;
};

/* Checks the structure and checksums, and tallies the entries. */
static void walk(const uint8_t *ram, struct counts *c)
{
	const uint8_t *mpf = ram + MPTABLE_ADDR, *mpc, *p, *end;
	int last_type = -1;
	uint16_t count;

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 32; i++)
		c->pin_of_irq[i] = -1;
	assert_memory_equal(mpf, "_MP_", 4);
	assert_int_equal(mpf[8], 1);
	assert_int_equal(mpf[9], 4);
	assert_int_equal(x86_table_sum(mpf, 16), 0);
	assert_int_equal(MPTABLE_ADDR % 16, 0);
	mpc = ram + le32_get(mpf + 4);
	assert_memory_equal(mpc, "PCMP", 4);
	assert_int_equal(mpc[6], 4);
	assert_int_equal(x86_table_sum(mpc, le16_get(mpc + 4)), 0);
	assert_int_equal(le32_get(mpc + 36), X86_LAPIC_ADDR);
	count = le16_get(mpc + 34);
	end = mpc + le16_get(mpc + 4);
	p = mpc + MPC_HDR_SIZE;
	for (int i = 0; i < count; i++) {
		assert_true(p < end);
		assert_true(p[0] >= last_type); /* ascending type order */
		last_type = p[0];
		switch (p[0]) {
		case MP_PROCESSOR:
			assert_int_equal(p[1], c->cpus);
			assert_true(p[3] & 1);
			if (p[3] & 2)
				c->bsp++;
			c->cpus++;
			p += MPC_CPU_SIZE;
			continue;
		case MP_BUS:
			assert_memory_equal(p + 2, "ISA   ", 6);
			c->bus++;
			break;
		case MP_IOAPIC:
			assert_int_equal(le32_get(p + 4), X86_IOAPIC_ADDR);
			assert_int_equal(p[3], 1);
			c->ioapic_id = p[1];
			c->ioapic++;
			break;
		case MP_INTSRC:
			assert_int_equal(p[1], MP_INT);
			assert_int_equal(p[6], c->ioapic_id);
			assert_true(p[5] < 32);
			assert_int_equal(c->pin_of_irq[p[5]], -1); /* no duplicates */
			c->pin_of_irq[p[5]] = p[7];
			c->flags_of_irq[p[5]] = le16_get(p + 2);
			c->intsrc++;
			break;
		case MP_LINTSRC:
			assert_int_equal(p[6], 0xff);
			assert_int_equal(p[7], p[1] == MP_EXTINT ? 0 : 1);
			assert_true(p[1] == MP_EXTINT || p[1] == MP_NMI);
			c->lint++;
			break;
		default:
			fail_msg("unknown entry type %u", p[0]);
		}
		p += MPC_ENTRY_SIZE;
	}
	assert_ptr_equal(p, end);
}

static void test_one_cpu(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct guest_mem gm;
	struct counts c;
	char err[128];

	(void)state;
	gm_init_wrap(&gm, ram, RAM_SIZE);
	assert_int_equal(mptable_write(&gm, 1, NULL, 0, err, sizeof(err)), 0);
	walk(ram, &c);
	assert_int_equal(c.cpus, 1);
	assert_int_equal(c.bsp, 1);
	assert_int_equal(c.bus, 1);
	assert_int_equal(c.ioapic, 1);
	assert_int_equal(c.ioapic_id, 1);
	assert_int_equal(c.intsrc, 15);
	assert_int_equal(c.lint, 2);
	assert_int_equal(c.pin_of_irq[0], 2);
	assert_int_equal(c.pin_of_irq[2], -1);
	assert_int_equal(c.pin_of_irq[1], 1);
	assert_int_equal(c.pin_of_irq[4], 4);
	assert_int_equal(c.pin_of_irq[15], 15);
	assert_int_equal(c.flags_of_irq[9], 0xd); /* level, active high */
	assert_int_equal(c.flags_of_irq[4], 0);
	free(ram);
}

static void test_many_cpus_and_dev_irqs(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	uint32_t irqs[] = {5, 16, 17, 16, 23};
	struct guest_mem gm;
	struct counts c;
	char err[128];

	(void)state;
	gm_init_wrap(&gm, ram, RAM_SIZE);
	for (int n = 2; n <= X86_MAX_CPUS; n += 63) {
		assert_int_equal(mptable_write(&gm, n, irqs, 5, err, sizeof(err)), 0);
		walk(ram, &c);
		assert_int_equal(c.cpus, n);
		assert_int_equal(c.bsp, 1);
		assert_int_equal(c.ioapic_id, n);
		assert_int_equal(c.intsrc, 15 + 3); /* 5 is ISA already; 16 once */
		assert_int_equal(c.pin_of_irq[16], 16);
		assert_int_equal(c.pin_of_irq[23], 23);
		assert_int_equal(c.flags_of_irq[17], 0x5); /* edge, active high */
	}
	assert_int_equal(mptable_write(&gm, X86_MAX_CPUS, irqs, 5, err, sizeof(err)), 0);
	walk(ram, &c);
	assert_int_equal(c.cpus, X86_MAX_CPUS);
	free(ram);
}

static void test_bad_args(void **state)
{
	uint8_t *ram = calloc(1, RAM_SIZE);
	struct guest_mem gm;
	char err[128];
	uint32_t bad[] = {0, 2, 24, 1000};

	(void)state;
	gm_init_wrap(&gm, ram, RAM_SIZE);
	err[0] = 0;
	assert_int_equal(mptable_write(&gm, 0, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	assert_int_equal(mptable_write(&gm, X86_MAX_CPUS + 1, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(mptable_write(&gm, 1, NULL, 1, err, sizeof(err)), -EINVAL);
	assert_int_equal(mptable_write(&gm, 1, NULL, -1, err, sizeof(err)), -EINVAL);
	for (size_t i = 0; i < 4; i++) {
		err[0] = 0;
		assert_int_equal(mptable_write(&gm, 1, &bad[i], 1, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "IRQ"));
	}
	/* RAM that stops short of the table. */
	gm_init_wrap(&gm, ram, 0xF0000);
	assert_int_equal(mptable_write(&gm, 1, NULL, 0, err, sizeof(err)), -ENOMEM);
	free(ram);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_cpu),
	    cmocka_unit_test(test_many_cpus_and_dev_irqs),
	    cmocka_unit_test(test_bad_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
