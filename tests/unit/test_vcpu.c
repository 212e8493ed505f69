/* vcpu_handle_exit: the pure exit dispatch, driven with hand-made kvm_run. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vcpu.h"

#define RUN_SIZE 4096

struct rec {
	int n;
	uint64_t off[16];
	uint8_t data[16][8];
	uint32_t len[16];
	int write[16];
};

static void rec_read(void *o, uint64_t off, uint8_t *d, uint32_t len)
{
	struct rec *r = o;
	if (r->n < 16) {
		r->off[r->n] = off;
		r->len[r->n] = len;
		r->write[r->n] = 0;
		r->n++;
	}
	memset(d, 0x42, len);
}

static void rec_write(void *o, uint64_t off, const uint8_t *d, uint32_t len)
{
	struct rec *r = o;
	if (r->n < 16) {
		r->off[r->n] = off;
		r->len[r->n] = len;
		r->write[r->n] = 1;
		memcpy(r->data[r->n], d, len);
		r->n++;
	}
}

static const struct bus_ops rec_ops = {rec_read, rec_write};

struct fixture {
	struct bus pio, mmio;
	struct rec dev;
	struct kvm_run *run;
	struct exit_env env;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	bus_init(&f->pio, "pio");
	bus_init(&f->mmio, "mmio");
	assert_int_equal(bus_add(&f->pio, 0x3f8, 8, &rec_ops, &f->dev, "com1"), 0);
	assert_int_equal(bus_add(&f->mmio, 0xd0000000, 0x200, &rec_ops, &f->dev, "virtio"), 0);
	f->run = calloc(1, RUN_SIZE);
	f->env = (struct exit_env){&f->pio, &f->mmio, RUN_SIZE};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	bus_free(&f->pio);
	bus_free(&f->mmio);
	free(f->run);
	free(f);
	return 0;
}

static void io_out(void **state)
{
	struct fixture *f = *state;
	struct exit_outcome o;

	f->run->exit_reason = KVM_EXIT_IO;
	f->run->io.direction = KVM_EXIT_IO_OUT;
	f->run->io.port = 0x3f8;
	f->run->io.size = 1;
	f->run->io.count = 1;
	f->run->io.data_offset = 1024;
	((uint8_t *)f->run)[1024] = '4';
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_CONTINUE);
	assert_int_equal(f->dev.n, 1);
	assert_int_equal(f->dev.write[0], 1);
	assert_int_equal(f->dev.data[0][0], '4');
	assert_int_equal(f->dev.off[0], 0);
}

static void io_rep_in(void **state)
{
	struct fixture *f = *state;
	struct exit_outcome o;
	uint8_t *d = (uint8_t *)f->run + 2048;

	f->run->exit_reason = KVM_EXIT_IO;
	f->run->io.direction = KVM_EXIT_IO_IN;
	f->run->io.port = 0x3fd;
	f->run->io.size = 2;
	f->run->io.count = 3;
	f->run->io.data_offset = 2048;
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_CONTINUE);
	assert_int_equal(f->dev.n, 3);
	assert_int_equal(f->dev.off[2], 5);
	assert_int_equal(f->dev.len[2], 2);
	for (int i = 0; i < 6; i++)
		assert_int_equal(d[i], 0x42);
}

static void io_unclaimed(void **state)
{
	struct fixture *f = *state;
	struct exit_outcome o;
	uint8_t *d = (uint8_t *)f->run + 1024;

	f->run->exit_reason = KVM_EXIT_IO;
	f->run->io.direction = KVM_EXIT_IO_IN;
	f->run->io.port = 0x80;
	f->run->io.size = 4;
	f->run->io.count = 1;
	f->run->io.data_offset = 1024;
	memset(d, 0, 4);
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_CONTINUE);
	assert_int_equal(f->dev.n, 0);
	assert_int_equal(d[0] & d[1] & d[2] & d[3], 0xff);
	assert_int_equal(f->pio.unclaimed_reads, 1);
}

static void io_malformed(void **state)
{
	struct fixture *f = *state;
	struct exit_outcome o;

	f->run->exit_reason = KVM_EXIT_IO;
	f->run->io.direction = KVM_EXIT_IO_OUT;
	f->run->io.port = 0x3f8;
	f->run->io.size = 4;
	f->run->io.count = 0xffffffff;
	f->run->io.data_offset = 1024;
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_STOP);
	assert_int_equal(o.reason, VM_STOP_INTERNAL);
	assert_int_equal(f->dev.n, 0);
	f->run->io.count = 1;
	f->run->io.size = 3;
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_STOP);
	f->run->io.size = 1;
	f->run->io.data_offset = RUN_SIZE;
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_STOP);
}

static void mmio(void **state)
{
	struct fixture *f = *state;
	struct exit_outcome o;

	f->run->exit_reason = KVM_EXIT_MMIO;
	f->run->mmio.phys_addr = 0xd0000070;
	f->run->mmio.len = 4;
	f->run->mmio.is_write = 1;
	memcpy(f->run->mmio.data, "\x0f\0\0\0", 4);
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_CONTINUE);
	assert_int_equal(f->dev.n, 1);
	assert_int_equal(f->dev.off[0], 0x70);
	assert_int_equal(f->dev.data[0][0], 0x0f);
	f->run->mmio.is_write = 0;
	f->run->mmio.phys_addr = 0xfee00000; /* unclaimed */
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_CONTINUE);
	assert_int_equal(f->run->mmio.data[0], 0xff);
	f->run->mmio.len = 9;
	o = vcpu_handle_exit(&f->env, f->run);
	assert_int_equal(o.action, EXIT_STOP);
}

static void terminal_exits(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint32_t reason;
		uint32_t sub;
		enum exit_action action;
		enum vm_stop_reason stop;
	} cases[] = {
		{KVM_EXIT_HLT, 0, EXIT_HALTED, VM_STOP_HALT},
		{KVM_EXIT_SHUTDOWN, 0, EXIT_STOP, VM_STOP_TRIPLE_FAULT},
		{KVM_EXIT_FAIL_ENTRY, 0, EXIT_STOP, VM_STOP_INTERNAL},
		{KVM_EXIT_INTERNAL_ERROR, KVM_INTERNAL_ERROR_EMULATION, EXIT_STOP, VM_STOP_INTERNAL},
		{KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_SHUTDOWN, EXIT_STOP, VM_STOP_POWEROFF},
		{KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_RESET, EXIT_STOP, VM_STOP_RESET},
		{KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_CRASH, EXIT_STOP, VM_STOP_PANIC},
		{KVM_EXIT_SYSTEM_EVENT, 999, EXIT_STOP, VM_STOP_INTERNAL},
		{KVM_EXIT_INTR, 0, EXIT_CONTINUE, VM_STOP_NONE},
		{KVM_EXIT_IRQ_WINDOW_OPEN, 0, EXIT_CONTINUE, VM_STOP_NONE},
		{KVM_EXIT_UNKNOWN, 0, EXIT_STOP, VM_STOP_INTERNAL},
		{12345, 0, EXIT_STOP, VM_STOP_INTERNAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct exit_outcome o;

		memset(f->run, 0, RUN_SIZE);
		f->run->exit_reason = cases[i].reason;
		if (cases[i].reason == KVM_EXIT_INTERNAL_ERROR)
			f->run->internal.suberror = cases[i].sub;
		if (cases[i].reason == KVM_EXIT_SYSTEM_EVENT)
			f->run->system_event.type = cases[i].sub;
		o = vcpu_handle_exit(&f->env, f->run);
		assert_int_equal(o.action, cases[i].action);
		assert_int_equal(o.reason, cases[i].stop);
		if (o.action == EXIT_STOP && o.reason != VM_STOP_POWEROFF &&
		    o.reason != VM_STOP_RESET)
			assert_non_null(o.what);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(io_out, setup, teardown),
		cmocka_unit_test_setup_teardown(io_rep_in, setup, teardown),
		cmocka_unit_test_setup_teardown(io_unclaimed, setup, teardown),
		cmocka_unit_test_setup_teardown(io_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(mmio, setup, teardown),
		cmocka_unit_test_setup_teardown(terminal_exits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
