/* Shared by the whole-VM tests written in C against libkite (vm_pause.c,
 * vm_state.c): ok/FAIL lines, running a machine on a thread, and the
 * counting CPL-3 guest (tests/guest/count_user.s) whose qword at
 * VM_TEST_COUNTER_GPA the tests watch. Each test includes it once. */
#ifndef KITE_TESTS_VM_TEST_H
#define KITE_TESTS_VM_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "vm.h"

#define VM_TEST_COUNTER_GPA 0x200000ull

static int failures;

#define CHECK(cond, ...)                                                    \
	do {                                                                \
		if (cond) {                                                 \
			printf("ok: ");                                     \
		} else {                                                    \
			printf("FAIL: ");                                   \
			failures++;                                         \
		}                                                           \
		printf(__VA_ARGS__);                                        \
		printf("\n");                                               \
	} while (0)

static void *runner(void *arg)
{
	struct vm *vm = arg;

	if (vm_run(vm))
		fprintf(stderr, "vm_run failed\n");
	return NULL;
}

static uint64_t count(struct vm *vm)
{
	volatile uint64_t *p = gm_ptr(&vm->gm, VM_TEST_COUNTER_GPA, 8);

	return p ? *p : 0;
}

static void ms(int n)
{
	struct timespec t = {n / 1000, (long)(n % 1000) * 1000000L};

	nanosleep(&t, NULL);
}

/* Waits up to 5 s for the count to pass `than`. */
static int moves(struct vm *vm, uint64_t than)
{
	for (int i = 0; i < 500; i++) {
		if (count(vm) > than)
			return 1;
		ms(10);
	}
	return 0;
}

#endif
