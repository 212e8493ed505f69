/* virtio-console: transmit to the host sink, receive with backpressure,
 * and a broken transmit chain that must not take the device host down. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/console.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 8u
/* queue q's rings at 0x1000 * (1 + 3q) */
#define DESC(q) (0x1000u + 0x3000u * (q))
#define AVAIL(q) (DESC(q) + 0x1000u)
#define USED(q) (DESC(q) + 0x2000u)
#define DATA 0x10000u

static uint8_t *mem;
static struct guest_mem gm;
static uint8_t sink[256];
static size_t sink_len;
static int rx_space_calls;

static void out(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	assert_true(sink_len + n <= sizeof(sink));
	memcpy(sink + sink_len, buf, n);
	sink_len += n;
}

static void rx_space(void *ctx)
{
	(void)ctx;
	rx_space_calls++;
}

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(t, off, (const uint8_t *)&v, 4);
}

static uint32_t rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(t, off, (uint8_t *)&v, 4);
	return v;
}

static void bring_up(struct virtio_mmio *t)
{
	wr(t, VIRTIO_MMIO_STATUS, 1);
	wr(t, VIRTIO_MMIO_STATUS, 3);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, 0xb);
	for (uint32_t q = 0; q < 2; q++) {
		wr(t, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(t, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC(q));
		wr(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL(q));
		wr(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED(q));
		wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(t, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(rd(t, VIRTIO_MMIO_STATUS), 0xf);
}

static void set_desc(uint32_t q, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	uint8_t *d = mem + DESC(q) + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(uint32_t q, uint16_t head)
{
	uint16_t *av = (uint16_t *)(mem + AVAIL(q));

	av[2 + av[1] % QSIZE] = head;
	av[1]++;
}

static uint16_t used_idx(uint32_t q)
{
	return ((uint16_t *)(mem + USED(q)))[1];
}

static uint32_t used_len(uint32_t q, uint32_t i)
{
	uint32_t v;

	memcpy(&v, mem + USED(q) + 4 + 8 * (i % QSIZE) + 4, 4);
	return v;
}

static struct virtio_console *make(void)
{
	struct virtio_console_host h = {out, rx_space, NULL};
	struct virtio_console *c;

	memset(mem, 0, MEM_SIZE);
	sink_len = 0;
	rx_space_calls = 0;
	assert_int_equal(virtio_console_new(&c, &gm, &h, NULL), 0);
	return c;
}

static void identity(void **s)
{
	struct virtio_console *c = make();
	struct virtio_mmio *t = virtio_console_transport(c);

	(void)s;
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_true(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	virtio_console_free(c);
}

static void transmit(void **s)
{
	struct virtio_console *c = make();
	struct virtio_mmio *t = virtio_console_transport(c);

	(void)s;
	bring_up(t);
	memcpy(mem + DATA, "hello ", 6);
	memcpy(mem + DATA + 0x100, "hvc0\n", 5);
	set_desc(1, 0, DATA, 6, 1 /* NEXT */, 1);
	set_desc(1, 1, DATA + 0x100, 5, 0, 0);
	offer(1, 0);
	virtio_mmio_queue_notify(t, 1);
	assert_int_equal(sink_len, 11);
	assert_memory_equal(sink, "hello hvc0\n", 11);
	assert_int_equal(used_idx(1), 1);
	virtio_console_free(c);
}

static void receive_backpressure(void **s)
{
	struct virtio_console *c = make();
	struct virtio_mmio *t = virtio_console_transport(c);

	(void)s;
	/* Before DRIVER_OK nothing is taken. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"abc", 3), 0);
	bring_up(t);
	/* No receive buffers yet: nothing taken, host keeps its input. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"abc", 3), 0);
	/* The guest posts two 4-byte buffers; the host is told to resume. */
	set_desc(0, 0, DATA, 4, 2 /* WRITE */, 0);
	set_desc(0, 1, DATA + 0x100, 4, 2, 0);
	offer(0, 0);
	offer(0, 1);
	virtio_mmio_queue_notify(t, 0);
	assert_int_equal(rx_space_calls, 1);
	/* 10 bytes offered, 8 fit. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"0123456789", 10), 8);
	assert_memory_equal(mem + DATA, "0123", 4);
	assert_memory_equal(mem + DATA + 0x100, "4567", 4);
	assert_int_equal(used_idx(0), 2);
	assert_int_equal(used_len(0, 0), 4);
	assert_int_equal(used_len(0, 1), 4);
	/* Out of buffers again: the next post wakes the host again. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"89", 2), 0);
	offer(0, 0);
	virtio_mmio_queue_notify(t, 0);
	assert_int_equal(rx_space_calls, 2);
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"89", 2), 2);
	assert_int_equal(used_len(0, 2), 2);
	virtio_console_free(c);
}

static void broken_transmit_chain(void **s)
{
	struct virtio_console *c = make();
	struct virtio_mmio *t = virtio_console_transport(c);

	(void)s;
	bring_up(t);
	/* A descriptor that points at itself. */
	set_desc(1, 0, DATA, 4, 1, 0);
	offer(1, 0);
	virtio_mmio_queue_notify(t, 1);
	assert_true(rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* Output from outside RAM never reaches the sink. */
	assert_true(sink_len <= 4 * QSIZE);
	/* After a reset the device works again. */
	wr(t, VIRTIO_MMIO_STATUS, 0);
	memset(mem + DESC(1), 0, 0x3000);
	bring_up(t);
	sink_len = 0;
	memcpy(mem + DATA, "ok", 2);
	set_desc(1, 0, DATA, 2, 0, 0);
	offer(1, 0);
	virtio_mmio_queue_notify(t, 1);
	assert_int_equal(sink_len, 2);
	virtio_console_free(c);
}

/* Zero-length buffers are legal and carry nothing (found by fuzz_console). */
static void zero_length_buffers(void **s)
{
	struct virtio_console *c = make();
	struct virtio_mmio *t = virtio_console_transport(c);

	(void)s;
	bring_up(t);
	set_desc(0, 0, DATA, 0, 2 | 1, 1);
	set_desc(0, 1, DATA + 0x100, 4, 2, 0);
	offer(0, 0);
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"ab", 2), 2);
	assert_memory_equal(mem + DATA + 0x100, "ab", 2);
	assert_int_equal(used_len(0, 0), 2);
	set_desc(1, 0, DATA, 0, 1, 1);
	set_desc(1, 1, DATA + 0x200, 0, 0, 0);
	offer(1, 0);
	virtio_mmio_queue_notify(t, 1);
	assert_int_equal(sink_len, 0);
	assert_int_equal(used_idx(1), 1);
	virtio_console_free(c);
}

static void needs_sink(void **s)
{
	struct virtio_console_host h = {NULL, NULL, NULL};
	struct virtio_console *c;

	(void)s;
	assert_int_equal(virtio_console_new(&c, &gm, &h, NULL), -EINVAL);
	assert_int_equal(virtio_console_new(&c, &gm, NULL, NULL), -EINVAL);
}

static int setup(void **s)
{
	(void)s;
	mem = aligned_alloc(4096, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	free(mem);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(identity),
		cmocka_unit_test(transmit),
		cmocka_unit_test(receive_backpressure),
		cmocka_unit_test(broken_transmit_chain),
		cmocka_unit_test(zero_length_buffers),
		cmocka_unit_test(needs_sink),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
