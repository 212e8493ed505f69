/* Unit tests for src/virtio/mmio.c: register map, access widths, the status
 * state machine, feature negotiation, queue set-up, kicks, interrupts and
 * config space, with a dummy device on malloc'd guest memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio/mmio.h"
#include "virtq_driver.h"

#define MEM_SIZE (1u << 20)
#define QMAX 64u
#define CFG_SIZE 10u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u

struct dummy {
	struct virtio_dev t;
	uint8_t cfg[CFG_SIZE];
	int notifies, resets, last_q, popped;
	struct virtq_chain chain;
	int irq_edges, irq_level;
	int kicks;
	uint32_t kicked_q;
};

static uint64_t dummy_features(void *dev)
{
	(void)dev;
	/* Bit 34 (RING_PACKED) must be masked by the transport. */
	return (1ull << 3) | (1ull << 34);
}

static void dummy_cfg_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct dummy *d = dev;

	assert_true(off + len <= CFG_SIZE);
	memcpy(data, d->cfg + off, len);
}

static void dummy_cfg_write(void *dev, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct dummy *d = dev;

	assert_true(off + len <= CFG_SIZE);
	memcpy(d->cfg + off, data, len);
}

static int dummy_notify(void *dev, uint32_t q)
{
	struct dummy *d = dev;
	int r;

	d->notifies++;
	d->last_q = (int)q;
	while ((r = virtio_dev_pop(&d->t, q, &d->chain)) == 1) {
		d->popped++;
		assert_true(virtio_dev_push(&d->t, q, d->chain.gen, d->chain.head, 0));
	}
	virtio_dev_notify(&d->t, q);
	return 0;
}

static void dummy_reset(void *dev)
{
	((struct dummy *)dev)->resets++;
}

static const struct virtio_dev_ops dummy_ops = {
	.name = "dummy",
	.device_id = 42,
	.num_queues = 2,
	.queue_max = QMAX,
	.config_size = CFG_SIZE,
	.features = dummy_features,
	.config_read = dummy_cfg_read,
	.config_write = dummy_cfg_write,
	.queue_notify = dummy_notify,
	.reset = dummy_reset,
};

static void irq_set(void *ctx, unsigned int gsi, int level)
{
	struct dummy *d = ctx;

	assert_int_equal(gsi, 5);
	if (level && !d->irq_level)
		d->irq_edges++;
	d->irq_level = level;
}

static uint8_t *mem;
static struct guest_mem gm;
static struct vqd vq; /* the driver side of queue 0, size 16 */

static struct dummy *dev_new(void)
{
	struct dummy *d = calloc(1, sizeof(*d));
	struct irq_line irq = {irq_set, d, 5};

	assert_non_null(d);
	for (unsigned i = 0; i < CFG_SIZE; i++)
		d->cfg[i] = (uint8_t)(0xa0 + i);
	mem = aligned_alloc(4096, MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	vq = (struct vqd){mem, 16, DESC, AVAIL, USED};
	assert_int_equal(virtio_dev_init(&d->t, &gm, &dummy_ops, d, "dummy"), 0);
	virtio_dev_set_irq(&d->t, &irq);
	return d;
}

static void dev_free(struct dummy *d)
{
	virtio_dev_free(&d->t);
	free(d);
	free(mem);
}

/* Queue q of size num on the rings at DESC/AVAIL/USED, made ready. */
static void setup_queue(struct dummy *d, uint32_t q, uint32_t num)
{
	struct vqd rings = {mem, num, DESC, AVAIL, USED};

	vqd_queue_setup(&d->t, q, &rings);
}

#define VER1 VIRTIO_BIT(VIRTIO_F_VERSION_1)

static struct dummy *running(uint64_t f)
{
	struct dummy *d = dev_new();

	assert_int_equal(vqd_features_ok(&d->t, f), 0xb);
	setup_queue(d, 0, 16);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xf);
	return d;
}

/* One writable descriptor offered on queue 0. */
static void offer_one(uint16_t head)
{
	vqd_set_desc(&vq, head, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&vq, head);
}

static void test_identity(void **s)
{
	struct dummy *d = dev_new();

	(void)s;
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_DEVICE_ID), 42);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_SHM_BASE_HIGH), 0xffffffffu);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_RESET), 0);
	dev_free(d);
}

static void test_widths(void **s)
{
	struct dummy *d = dev_new();
	uint8_t b[8];
	uint64_t illegal;

	(void)s;
	memset(b, 0xee, sizeof(b));
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_MAGIC_VALUE, b, 1);
	assert_int_equal(b[0], 0);
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_MAGIC_VALUE, b, 2);
	assert_int_equal(b[0] | b[1], 0);
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_MAGIC_VALUE, b, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(b[i], 0);
	/* Misaligned 32-bit read. */
	memset(b, 0xee, sizeof(b));
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_MAGIC_VALUE + 1, b, 4);
	assert_int_equal(b[0] | b[1] | b[2] | b[3], 0);
	/* A byte write to Status is ignored. */
	illegal = d->t.illegal_accesses;
	b[0] = 1;
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_STATUS, b, 1);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_STATUS, b, 2);
	memset(b, 0, 8);
	b[0] = 1;
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_STATUS, b, 8);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	assert_true(d->t.illegal_accesses >= illegal + 3);
	dev_free(d);
}

static void test_wrong_direction(void **s)
{
	struct dummy *d = dev_new();
	uint64_t illegal = d->t.illegal_accesses;

	(void)s;
	/* Reads of write-only registers return 0; writes to read-only ones
	 * change nothing. */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY), 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_DRIVER_FEATURES), 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_DESC_LOW), 0);
	assert_int_equal(vqd_rd(&d->t, 0x0f0), 0); /* unused hole */
	vqd_wr(&d->t, VIRTIO_MMIO_MAGIC_VALUE, 0);
	vqd_wr(&d->t, VIRTIO_MMIO_DEVICE_ID, 7);
	vqd_wr(&d->t, VIRTIO_MMIO_INTERRUPT_STATUS, 3);
	vqd_wr(&d->t, VIRTIO_MMIO_CONFIG_GENERATION, 3);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_DEVICE_ID), 42);
	assert_int_equal(d->t.illegal_accesses, illegal + 8);
	dev_free(d);
}

static void test_device_features(void **s)
{
	struct dummy *d = dev_new();

	(void)s;
	vqd_wr(&d->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_DEVICE_FEATURES),
			 (1u << 3) | (1u << VIRTIO_F_INDIRECT_DESC) | (1u << VIRTIO_F_EVENT_IDX));
	vqd_wr(&d->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_DEVICE_FEATURES), 1); /* VERSION_1, no bit 34 */
	vqd_wr(&d->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	vqd_wr(&d->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0xffffffff);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_DEVICE_FEATURES), 0);
	dev_free(d);
}

static void test_status_happy_path(void **s)
{
	struct dummy *d = dev_new();

	(void)s;
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 1);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 3);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 3);
	vqd_set_features(&d->t, VER1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | 8);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xb);
	assert_int_equal(d->t.negotiated, VER1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) | 8);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb); /* rewriting the same value is fine */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xf);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(d->resets, 1);
	assert_int_equal(d->t.negotiated, 0);
	dev_free(d);
}

static void test_status_illegal(void **s)
{
	struct dummy *d = dev_new();

	(void)s;
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 2); /* DRIVER before ACK */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 3); /* two steps at once */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0x101); /* unknown bit */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 1 | 8); /* FEATURES_OK before DRIVER */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 1 | 4); /* DRIVER_OK before DRIVER */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 3);
	vqd_set_features(&d->t, VER1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 3 | 4); /* DRIVER_OK before FEATURES_OK */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 3);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 2); /* clearing ACK */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 3);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xf);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0x7); /* clearing FEATURES_OK */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xf);
	/* FAILED any time; nothing progresses after it. */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0x8f);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0x8f);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0x80);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0x80);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0x81);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0x80);
	/* FAILED with other bits: only FAILED counts. */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0x81);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0x80);
	assert_true(d->t.illegal_accesses >= 9);
	dev_free(d);
}

static void test_features_negotiation(void **s)
{
	struct dummy *d = dev_new();

	(void)s;
	/* Driver features before DRIVER: ignored. */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 1);
	vqd_set_features(&d->t, VER1);
	assert_int_equal(d->t.driver_features, 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 3);
	/* Without VERSION_1: FEATURES_OK stays clear. */
	vqd_set_features(&d->t, 8);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 3);
	/* Not a subset (bit 4 and RING_PACKED never offered). */
	vqd_set_features(&d->t, VER1 | (1u << 4));
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 3);
	vqd_set_features(&d->t, VER1 | (1ull << 34));
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 3);
	/* Selector 2 names no bits: a nonzero write is ignored. */
	vqd_wr(&d->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 2);
	vqd_wr(&d->t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	vqd_set_features(&d->t, VER1 | 8);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xb);
	/* After FEATURES_OK the features are frozen. */
	vqd_set_features(&d->t, VER1);
	assert_int_equal(d->t.negotiated, VER1 | 8);
	assert_int_equal(d->t.driver_features, VER1 | 8);
	dev_free(d);
}

static void test_queue_registers(void **s)
{
	struct dummy *d = dev_new();

	(void)s;
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_NUM_MAX), QMAX);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	/* Before FEATURES_OK: queue set-up is ignored. */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 3);
	setup_queue(d, 0, 16);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(d->t.queues[0].desc, 0);
	vqd_set_features(&d->t, VER1);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xb);
	/* Nonexistent queue. */
	setup_queue(d, 7, 16);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_SEL, 7);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	/* 64-bit addresses are assembled from both halves. */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_SEL, 1);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x12);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x3400);
	assert_int_equal(d->t.queues[1].desc, 0x1200003400ull);
	/* Bad layout: not ready, and the device asks for a reset. */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NUM, 16);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_true(vqd_rd(&d->t, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vqd_features_ok(&d->t, VER1), 0xb);
	/* Too big, not a power of two. */
	setup_queue(d, 0, QMAX * 2);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_features_ok(&d->t, VER1), 0xb);
	setup_queue(d, 0, 24);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_features_ok(&d->t, VER1), 0xb);
	setup_queue(d, 0, 16);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(d->t.queues[0].vq.size, 16);
	/* Ready queue: layout registers are frozen. */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NUM, 32);
	assert_int_equal(d->t.queues[0].desc, DESC);
	assert_int_equal(d->t.queues[0].num, 16);
	/* After DRIVER_OK also for a queue that is not ready. */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xf);
	setup_queue(d, 1, 16);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	/* Stopping a queue. */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	/* Reset clears ready bits. */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_features_ok(&d->t, VER1), 0xb);
	setup_queue(d, 0, 16);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_QUEUE_READY), 0);
	dev_free(d);
}

static void test_notify_and_interrupt(void **s)
{
	struct dummy *d = dev_new();

	(void)s;
	assert_int_equal(vqd_features_ok(&d->t, VER1), 0xb);
	setup_queue(d, 0, 16);
	offer_one(0);
	/* Kick before DRIVER_OK: ignored. */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(d->notifies, 0);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xf);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 5); /* no such queue */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* not ready */
	assert_int_equal(d->notifies, 0);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(d->notifies, 1);
	assert_int_equal(d->popped, 1);
	assert_int_equal(vqd_used_idx(&vq), 1);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	assert_int_equal(d->irq_edges, 1);
	assert_int_equal(d->irq_level, 0); /* raised then lowered: an edge */
	vqd_wr(&d->t, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	/* NO_INTERRUPT: pushed but no interrupt. */
	vqd_avail(&vq)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	offer_one(1);
	virtio_dev_queue_notify(&d->t, 0);
	assert_int_equal(d->popped, 2);
	assert_int_equal(d->irq_edges, 1);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	dev_free(d);
}

static void kick_hook(void *ctx, uint32_t q)
{
	struct dummy *d = ctx;

	d->kicks++;
	d->kicked_q = q;
}

static void test_kick_hook(void **s)
{
	struct dummy *d = running(VER1);

	(void)s;
	virtio_dev_set_kick(&d->t, kick_hook, d);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(d->kicks, 1);
	assert_int_equal(d->kicked_q, 0);
	assert_int_equal(d->notifies, 0); /* deferred, not run on the "vCPU" */
	dev_free(d);
}

static void test_eventfds(void **s)
{
	struct dummy *d = running(VER1);
	struct evloop loop;
	uint64_t n = 0;
	int fd;

	(void)s;
	assert_int_equal(ev_init(&loop), 0);
	assert_int_equal(virtio_dev_setup_eventfds(&d->t, &loop), 0);
	fd = virtio_dev_queue_eventfd(&d->t, 0);
	assert_true(fd >= 0);
	assert_true(virtio_dev_queue_eventfd(&d->t, 1) >= 0);
	assert_int_equal(virtio_dev_queue_eventfd(&d->t, 2), -1);
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(d->notifies, 0);
	assert_int_equal(read(fd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 1);
	dev_free(d);
	ev_free(&loop);
}

static void test_broken_queue(void **s)
{
	struct dummy *d = running(VER1);

	(void)s;
	vqd_offer(&vq, 99); /* head out of range */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xf | VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_CONFIG);
	assert_int_equal(d->irq_edges, 1);
	assert_int_equal(d->t.broken_queues, 1);
	/* Further kicks on the broken queue do nothing. */
	vqd_wr(&d->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(d->notifies, 1);
	/* The driver echoing NEEDS_RESET back is harmless; FAILED sticks. */
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xf | 0x40 | 0x80);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xcf);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
	dev_free(d);
}

static void test_stale_push(void **s)
{
	struct dummy *d = running(VER1);
	uint32_t gen;

	(void)s;
	offer_one(0);
	virtio_dev_lock(&d->t);
	assert_int_equal(virtio_dev_pop(&d->t, 0, &d->chain), 1);
	gen = d->chain.gen;
	virtio_dev_unlock(&d->t);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0); /* reset with the chain in flight */
	/* The reset waits for the chain (Status still reads non-zero); the
	 * chain's completion writes nothing and completes the reset. */
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0xf);
	virtio_dev_lock(&d->t);
	assert_false(virtio_dev_live(&d->t, 0, gen));
	assert_false(virtio_dev_push(&d->t, 0, gen, 0, 8));
	virtio_dev_unlock(&d->t);
	assert_int_equal(vqd_rd(&d->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vqd_features_ok(&d->t, VER1), 0xb);
	setup_queue(d, 0, 16);
	vqd_wr(&d->t, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(vqd_used_idx(&vq), 0);
	dev_free(d);
}

static void test_config_space(void **s)
{
	struct dummy *d = dev_new();
	uint8_t b[8];
	uint64_t q;
	uint32_t gen;

	(void)s;
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_CONFIG, b, 1);
	assert_int_equal(b[0], 0xa0);
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_CONFIG + 1, b, 2);
	assert_int_equal(b[0], 0xa1);
	assert_int_equal(b[1], 0xa2);
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_CONFIG + 4, b, 4);
	assert_int_equal(b[3], 0xa7);
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_CONFIG, (uint8_t *)&q, 8);
	assert_int_equal(q, 0xa7a6a5a4a3a2a1a0ull);
	/* Straddling the end: the tail reads zero. */
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_CONFIG + 8, (uint8_t *)&q, 8);
	assert_int_equal(q, 0xa9a8ull);
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_CONFIG + 0xf8, (uint8_t *)&q, 8);
	assert_int_equal(q, 0);
	/* Writes inside go to the device, writes reaching past are dropped. */
	b[0] = 0x11;
	b[1] = 0x22;
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_CONFIG + 8, b, 2);
	assert_int_equal(d->cfg[8], 0x11);
	assert_int_equal(d->cfg[9], 0x22);
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_CONFIG + 8, b, 4);
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_CONFIG + 0x80, b, 4);
	assert_int_equal(d->cfg[8], 0x11);
	/* Out-of-window accesses (a confused bus) are dropped. */
	virtio_mmio_ops.read(&d->t, VIRTIO_MMIO_SIZE - 4, (uint8_t *)&q, 8);
	virtio_mmio_ops.write(&d->t, VIRTIO_MMIO_SIZE, b, 4);
	gen = vqd_rd(&d->t, VIRTIO_MMIO_CONFIG_GENERATION);
	virtio_dev_lock(&d->t);
	virtio_dev_config_changed(&d->t);
	virtio_dev_unlock(&d->t);
	assert_int_not_equal(vqd_rd(&d->t, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_int_equal(d->irq_edges, 0); /* not DRIVER_OK yet */
	dev_free(d);
}

static void test_bad_vtable(void **s)
{
	struct virtio_dev_ops ops = dummy_ops;
	struct virtio_dev t;

	(void)s;
	ops.queue_max = 48;
	assert_int_equal(virtio_dev_init(&t, &gm, &ops, NULL, "x"), -EINVAL);
	ops = dummy_ops;
	ops.config_size = 0x101;
	assert_int_equal(virtio_dev_init(&t, &gm, &ops, NULL, "x"), -EINVAL);
	ops = dummy_ops;
	ops.num_queues = 0;
	assert_int_equal(virtio_dev_init(&t, &gm, &ops, NULL, "x"), -EINVAL);
	virtio_dev_free(&t); /* safe on a failed init */
}

/* Restore accepts exactly the statuses the transition table reaches. */
static void test_status_reachable(void **s)
{
	static const struct {
		uint32_t status;
		bool ok;
	} cases[] = {
		{0, true},     {1, true},     {3, true},     {0xb, true},   {0xf, true},
		{0x80, true},  {0x83, true},  {0x8f, true},  {0x4b, true},  {0x4f, true},
		{0xcf, true},  {2, false},    {0x7, false},  {0x9, false},  {0xd, false},
		{0x40, false}, {0x43, false}, {0x10f, false}, {0x2f, false},
	};

	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("status 0x%x\n", cases[i].status);
		assert_int_equal(virtio_status_reachable(cases[i].status), cases[i].ok);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_widths),
		cmocka_unit_test(test_wrong_direction),
		cmocka_unit_test(test_device_features),
		cmocka_unit_test(test_status_happy_path),
		cmocka_unit_test(test_status_illegal),
		cmocka_unit_test(test_features_negotiation),
		cmocka_unit_test(test_queue_registers),
		cmocka_unit_test(test_notify_and_interrupt),
		cmocka_unit_test(test_kick_hook),
		cmocka_unit_test(test_eventfds),
		cmocka_unit_test(test_broken_queue),
		cmocka_unit_test(test_stale_push),
		cmocka_unit_test(test_config_space),
		cmocka_unit_test(test_bad_vtable),
		cmocka_unit_test(test_status_reachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
