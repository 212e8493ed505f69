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
#include "virtq_driver.h"
#include "virtio_state.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 8u
/* queue q's rings at 0x1000 * (1 + 3q) */
#define DESC(q) (0x1000u + 0x3000u * (q))
#define AVAIL(q) (DESC(q) + 0x1000u)
#define USED(q) (DESC(q) + 0x2000u)
#define DATA 0x10000u

static uint8_t *mem;
static struct guest_mem gm;
static struct vqd vq[2];
static uint8_t sink[256];
static size_t sink_len;
static int rx_space_calls;
static size_t sink_hwm = SIZE_MAX; /* out() says "full" at this many bytes */

static bool out(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	assert_true(sink_len + n <= sizeof(sink));
	memcpy(sink + sink_len, buf, n);
	sink_len += n;
	return sink_len < sink_hwm;
}

static void rx_space(void *ctx)
{
	(void)ctx;
	rx_space_calls++;
}

static struct virtio_console *make(void)
{
	struct virtio_console_host h = {out, rx_space, NULL};
	struct virtio_console *c;

	memset(mem, 0, MEM_SIZE);
	sink_len = 0;
	sink_hwm = SIZE_MAX;
	rx_space_calls = 0;
	assert_int_equal(virtio_console_new(&c, &gm, &h, NULL), 0);
	return c;
}

static void identity(void **s)
{
	struct virtio_console *c = make();
	struct virtio_dev *t = virtio_console_vdev(c);

	(void)s;
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_true(vqd_rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX) >= QSIZE);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	virtio_console_free(c);
}

static void transmit(void **s)
{
	struct virtio_console *c = make();
	struct virtio_dev *t = virtio_console_vdev(c);

	(void)s;
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 2), 0xf);
	memcpy(mem + DATA, "hello ", 6);
	memcpy(mem + DATA + 0x100, "hvc0\n", 5);
	vqd_set_desc(&vq[1], 0, DATA, 6, 1 /* NEXT */, 1);
	vqd_set_desc(&vq[1], 1, DATA + 0x100, 5, 0, 0);
	vqd_offer(&vq[1], 0);
	virtio_dev_queue_notify(t, 1);
	assert_int_equal(sink_len, 11);
	assert_memory_equal(sink, "hello hvc0\n", 11);
	assert_int_equal(vqd_used_idx(&vq[1]), 1);
	virtio_console_free(c);
}

static void receive_backpressure(void **s)
{
	struct virtio_console *c = make();
	struct virtio_dev *t = virtio_console_vdev(c);

	(void)s;
	/* Before DRIVER_OK nothing is taken. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"abc", 3), 0);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 2), 0xf);
	/* No receive buffers yet: nothing taken, host keeps its input. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"abc", 3), 0);
	/* The guest posts two 4-byte buffers; the host is told to resume. */
	vqd_set_desc(&vq[0], 0, DATA, 4, 2 /* WRITE */, 0);
	vqd_set_desc(&vq[0], 1, DATA + 0x100, 4, 2, 0);
	vqd_offer(&vq[0], 0);
	vqd_offer(&vq[0], 1);
	virtio_dev_queue_notify(t, 0);
	assert_int_equal(rx_space_calls, 1);
	/* 10 bytes offered, 8 fit. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"0123456789", 10), 8);
	assert_memory_equal(mem + DATA, "0123", 4);
	assert_memory_equal(mem + DATA + 0x100, "4567", 4);
	assert_int_equal(vqd_used_idx(&vq[0]), 2);
	assert_int_equal(vqd_used_len(&vq[0], 0), 4);
	assert_int_equal(vqd_used_len(&vq[0], 1), 4);
	/* Out of buffers again: the next post wakes the host again. */
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"89", 2), 0);
	vqd_offer(&vq[0], 0);
	virtio_dev_queue_notify(t, 0);
	assert_int_equal(rx_space_calls, 2);
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"89", 2), 2);
	assert_int_equal(vqd_used_len(&vq[0], 2), 2);
	virtio_console_free(c);
}

static void broken_transmit_chain(void **s)
{
	struct virtio_console *c = make();
	struct virtio_dev *t = virtio_console_vdev(c);

	(void)s;
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 2), 0xf);
	/* A descriptor that points at itself. */
	vqd_set_desc(&vq[1], 0, DATA, 4, 1, 0);
	vqd_offer(&vq[1], 0);
	virtio_dev_queue_notify(t, 1);
	assert_true(vqd_rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	/* Output from outside RAM never reaches the sink. */
	assert_true(sink_len <= 4 * QSIZE);
	/* After a reset the device works again. */
	vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
	memset(mem + DESC(1), 0, 0x3000);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 2), 0xf);
	sink_len = 0;
	memcpy(mem + DATA, "ok", 2);
	vqd_set_desc(&vq[1], 0, DATA, 2, 0, 0);
	vqd_offer(&vq[1], 0);
	virtio_dev_queue_notify(t, 1);
	assert_int_equal(sink_len, 2);
	virtio_console_free(c);
}

/* Zero-length buffers are legal and carry nothing (found by fuzz_console). */
static void zero_length_buffers(void **s)
{
	struct virtio_console *c = make();
	struct virtio_dev *t = virtio_console_vdev(c);

	(void)s;
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 2), 0xf);
	vqd_set_desc(&vq[0], 0, DATA, 0, 2 | 1, 1);
	vqd_set_desc(&vq[0], 1, DATA + 0x100, 4, 2, 0);
	vqd_offer(&vq[0], 0);
	assert_int_equal(virtio_console_receive(c, (const uint8_t *)"ab", 2), 2);
	assert_memory_equal(mem + DATA + 0x100, "ab", 2);
	assert_int_equal(vqd_used_len(&vq[0], 0), 2);
	vqd_set_desc(&vq[1], 0, DATA, 0, 1, 1);
	vqd_set_desc(&vq[1], 1, DATA + 0x200, 0, 0, 0);
	vqd_offer(&vq[1], 0);
	virtio_dev_queue_notify(t, 1);
	assert_int_equal(sink_len, 0);
	assert_int_equal(vqd_used_idx(&vq[1]), 1);
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

/* TX chain i (one 2-byte buffer "a"+i) offered on the transmit queue. */
static void offer_tx(uint16_t i)
{
	mem[DATA + 0x400 + 2u * i] = (uint8_t)('a' + i);
	mem[DATA + 0x401 + 2u * i] = (uint8_t)('A' + i);
	vqd_set_desc(&vq[1], i, DATA + 0x400 + 2u * i, 2, 0, 0);
	vqd_offer(&vq[1], i);
}

/* A host that stops reading: once out() says full, no further chain is
 * taken (they stay in the ring, nothing lost, no thread blocked) until
 * tx_space(), which resumes transmit where it stopped. */
static void transmit_backpressure(void **s)
{
	struct virtio_console *c = make();
	struct virtio_dev *t = virtio_console_vdev(c);

	(void)s;
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 2), 0xf);
	sink_hwm = 4;
	for (uint16_t i = 0; i < 5; i++)
		offer_tx(i);
	virtio_dev_queue_notify(t, 1);
	/* The chain that crossed the mark is taken whole, then it stops. */
	assert_int_equal(sink_len, 4);
	assert_memory_equal(sink, "aAbB", 4);
	assert_int_equal(vqd_used_idx(&vq[1]), 2);
	/* Kicks change nothing while the host is full. */
	virtio_dev_queue_notify(t, 1);
	assert_int_equal(vqd_used_idx(&vq[1]), 2);
	sink_hwm = SIZE_MAX;
	virtio_console_tx_space(c);
	assert_int_equal(sink_len, 10);
	assert_memory_equal(sink, "aAbBcCdDeE", 10);
	assert_int_equal(vqd_used_idx(&vq[1]), 5);
	virtio_console_free(c);
}

/* Input and output done, paused, saved, restored into a fresh device: the
 * next output chain lands in used slot 2 of the transmit queue, the next
 * input in slot 1 of the receive queue, and the host of a blocked receive
 * side is asked for input again on resume. */
static void save_restore(void **s)
{
	struct virtio_console *a = make(), *b;
	struct virtio_console_host h = {out, rx_space, NULL};
	struct virtio_dev *t = virtio_console_vdev(a);
	struct state_buf buf;
	char err[200] = "";

	(void)s;
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX), vq, 2),
			 0xf);
	offer_tx(0);
	offer_tx(1);
	virtio_dev_queue_notify(t, 1);
	vqd_set_desc(&vq[0], 0, DATA, 4, 2 /* WRITE */, 0);
	vqd_offer(&vq[0], 0);
	assert_int_equal(virtio_console_receive(a, (const uint8_t *)"xyz!!", 5), 4);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_console_device(a), &buf), 0);
	virtio_console_free(a);

	assert_int_equal(virtio_console_new(&b, &gm, &h, NULL), 0);
	t = virtio_console_vdev(b);
	assert_int_equal(device_restore_one(virtio_console_device(b), buf.data, buf.len, err,
					    sizeof(err)), 0);
	rx_space_calls = 0;
	vst_resume(virtio_console_device(b));
	/* The receive side was blocked: the host (maybe a new one) is asked
	 * for its input again. */
	assert_int_equal(rx_space_calls, 1);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_STATUS), 0xf);
	assert_int_equal(t->negotiated, VQD_VERSION_1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	sink_len = 0;
	offer_tx(2);
	virtio_dev_queue_notify(t, 1);
	assert_int_equal(sink_len, 2);
	assert_memory_equal(sink, "cC", 2);
	assert_int_equal(vqd_used_idx(&vq[1]), 3);
	assert_int_equal(vqd_used_elem(&vq[1], 2).id, 2);
	vqd_set_desc(&vq[0], 1, DATA + 0x100, 4, 2, 0);
	vqd_offer(&vq[0], 1);
	assert_int_equal(virtio_console_receive(b, (const uint8_t *)"!", 1), 1);
	assert_int_equal(vqd_used_idx(&vq[0]), 2);
	assert_int_equal(vqd_used_elem(&vq[0], 1).id, 1);
	virtio_console_free(b);
	state_buf_free(&buf);
}

static void bad_sections(void **s)
{
	struct virtio_console *a = make(), *victim;
	struct virtio_console_host h = {out, rx_space, NULL};
	struct state_buf buf;
	uint8_t *bad;
	size_t p;

	(void)s;
	assert_int_equal(vqd_bring_up(virtio_console_vdev(a), VQD_VERSION_1, vq, 2), 0xf);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_console_device(a), &buf), 0);
	virtio_console_free(a);
	assert_int_equal(virtio_console_new(&victim, &gm, &h, NULL), 0);
	assert_int_equal(vst_bad_sections(virtio_console_device(victim), buf.data, buf.len,
					  MEM_SIZE), 0);
	p = vst_payload(buf.data) + VST_Q0 + 2 * VST_Q_SIZE;
	bad = malloc(buf.len);
	memcpy(bad, buf.data, buf.len);
	bad[p] = 2;
	assert_int_equal(vst_refused(virtio_console_device(victim), bad, buf.len, "rx_blocked"), 0);
	memcpy(bad, buf.data, buf.len);
	bad[p + 1] = 7;
	assert_int_equal(vst_refused(virtio_console_device(victim), bad, buf.len, "tx_blocked"), 0);
	free(bad);
	virtio_console_free(victim);
	state_buf_free(&buf);
}

static int setup(void **s)
{
	(void)s;
	mem = aligned_alloc(4096, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	for (uint32_t q = 0; q < 2; q++)
		vq[q] = (struct vqd){mem, QSIZE, DESC(q), AVAIL(q), USED(q)};
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
		cmocka_unit_test(transmit_backpressure),
		cmocka_unit_test(save_restore),
		cmocka_unit_test(bad_sections),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
