/* The pure CPUID steps of cpu_set_cpuid: topology, hiding XSAVE, the TSC leaf. */
#include <errno.h>
#include <linux/kvm.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/cpu.h"

#define MAX_ENTRIES 16

static struct kvm_cpuid2 *table(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + MAX_ENTRIES * sizeof(c->entries[0]));
	static const struct kvm_cpuid_entry2 e[] = {
		{.function = 1, .ecx = 0xffffffffu, .edx = 0xffffffffu, .ebx = 0x00000800},
		{.function = 7, .index = 0, .ebx = 0xffffffffu, .ecx = 0xffffffffu,
		 .edx = 0xffffffffu},
		{.function = 7, .index = 1, .eax = 0xffffffffu},
		{.function = 0xd, .index = 0, .eax = 0x207, .ebx = 0x240, .ecx = 0xa88},
		{.function = 0xd, .index = 1, .eax = 0x5},
		{.function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b},
		{.function = 0x80000001, .ecx = 0xffffffffu},
	};

	assert_non_null(c);
	memcpy(c->entries, e, sizeof(e));
	c->nent = (uint32_t)(sizeof(e) / sizeof(e[0]));
	return c;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void test_hide_xsave(void **state)
{
	struct kvm_cpuid2 *c = table();

	(void)state;
	cpu_cpuid_hide_xsave(c);
	/* XSAVE, OSXSAVE, AVX, FMA, F16C gone; SSE3 (bit 0) and the
	 * hypervisor bit stay. */
	assert_int_equal(find(c, 1, 0)->ecx & ((1u << 26) | (1u << 27) | (1u << 28) | (1u << 12) |
					       (1u << 29)),
			 0);
	assert_true(find(c, 1, 0)->ecx & 1u);
	assert_true(find(c, 1, 0)->ecx & (1u << 31));
	assert_int_equal(find(c, 1, 0)->edx, 0xffffffffu);
	/* AVX2 and AVX-512 gone, BMI1 (bit 3) stays; PKU gone. */
	assert_int_equal(find(c, 7, 0)->ebx & ((1u << 5) | (1u << 16)), 0);
	assert_true(find(c, 7, 0)->ebx & (1u << 3));
	assert_int_equal(find(c, 7, 0)->ecx & (1u << 3), 0);
	assert_int_equal(find(c, 7, 1)->eax & (1u << 4), 0);
	/* Leaf 0xd says nothing any more. */
	assert_int_equal(find(c, 0xd, 0)->eax, 0);
	assert_int_equal(find(c, 0xd, 0)->ecx, 0);
	assert_int_equal(find(c, 0xd, 1)->eax, 0);
	assert_int_equal(find(c, 0x80000001, 0)->ecx & ((1u << 11) | (1u << 16)), 0);
	free(c);
}

static void test_tsc_leaf(void **state)
{
	struct kvm_cpuid2 *c = table();
	uint32_t n = c->nent;
	struct kvm_cpuid_entry2 *t;

	(void)state;
	assert_int_equal(cpu_cpuid_add_tsc_khz(c, 0, 2600000), -ENOENT);
	assert_int_equal(c->nent, n);
	assert_int_equal(cpu_cpuid_add_tsc_khz(c, MAX_ENTRIES - n, 2600000), 0);
	assert_int_equal(c->nent, n + 1);
	assert_int_equal(find(c, 0x40000000, 0)->eax, 0x40000010);
	t = find(c, 0x40000010, 0);
	assert_non_null(t);
	assert_int_equal(t->eax, 2600000);
	assert_int_equal(t->ebx, 1000000);
	/* Once only. */
	assert_int_equal(cpu_cpuid_add_tsc_khz(c, MAX_ENTRIES - c->nent, 1), -EEXIST);
	free(c);
}

static void test_tsc_leaf_needs_kvm_leaf(void **state)
{
	struct kvm_cpuid2 *c = table();

	(void)state;
	find(c, 0x40000000, 0)->function = 0x40000100; /* no KVM leaf at the base */
	assert_int_equal(cpu_cpuid_add_tsc_khz(c, 4, 1000), -ENOENT);
	free(c);
}

static void test_topology(void **state)
{
	struct kvm_cpuid2 *c = table();

	(void)state;
	cpu_cpuid_set_topology(c, 3, 4);
	assert_int_equal(find(c, 1, 0)->ebx >> 24, 3);
	assert_int_equal((find(c, 1, 0)->ebx >> 16) & 0xff, 4);
	assert_int_equal(find(c, 1, 0)->ebx & 0xffff, 0x0800);
	assert_true(find(c, 1, 0)->edx & (1u << 28));
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hide_xsave),
		cmocka_unit_test(test_tsc_leaf),
		cmocka_unit_test(test_tsc_leaf_needs_kvm_leaf),
		cmocka_unit_test(test_topology),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
