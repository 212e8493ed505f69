/* The guest driver's side of virtio, for unit tests and fuzzers: register
 * accesses to kite's virtio-mmio transport made the way a vCPU makes them
 * (through virtio_mmio_ops, opaque = the device's struct virtio_dev), the status/feature/queue bring-up sequence, and
 * split-virtqueue rings written straight into malloc'd guest memory (set up
 * with gm_init_wrap, so guest address 0 is mem[0]).
 *
 * Header-only and free of cmocka so that fuzzers can use it too: nothing here
 * asserts; the bring-up helpers return what the device reports and tests
 * assert on that. "vqd" stands for virtqueue driver.
 *
 * Registers (t is the device's struct virtio_dev):
 *   vqd_wr(t, off, v), vqd_rd(t, off)  one aligned 32-bit register access.
 *   vqd_set_features(t, f)             DriverFeatures, both 32-bit words.
 *   vqd_features_ok(t, f)              ACKNOWLEDGE, DRIVER, features f,
 *                                      FEATURES_OK; returns Status (0xb when
 *                                      the device accepted f).
 *   vqd_queue_setup(t, qidx, q)        QueueSel = qidx, QueueNum = q->size,
 *                                      the three ring addresses (low and high
 *                                      halves), QueueReady = 1.
 *   vqd_bring_up(t, f, qs, n)          vqd_features_ok, queue i from qs[i] for
 *                                      i < n, DRIVER_OK; returns Status (0xf
 *                                      when the device is live).
 *   None of them resets first: write Status 0 with vqd_wr to start over.
 *
 * Rings (struct vqd: where one queue's rings are in guest memory):
 *   vqd_put_desc(table, i, ...)        entry i of a descriptor table at host
 *                                      address table (for indirect tables).
 *   vqd_set_desc(q, i, ...)            entry i of q's descriptor table.
 *   vqd_avail(q)                       the avail ring as uint16_t[]: [0]
 *                                      flags, [1] idx, [2 + n] ring[n],
 *                                      [2 + size] used_event; for tests that
 *                                      poke it directly.
 *   vqd_offer(q, head)                 puts head in the next avail slot and
 *                                      publishes it (release store of idx: a
 *                                      device thread may be polling).
 *   vqd_used_idx(q)                    the used idx (acquire load).
 *   vqd_used_elem(q, i), vqd_used_len  used ring entry i (taken mod size).
 *
 * Fuzzers:
 *   vqd_fuzz_ram(gm, size, data, n)    guest RAM of size bytes holding the
 *                                      fuzz input (zero past it), wrapped in
 *                                      gm; returns its host address. */
#ifndef KITE_TESTS_VIRTQ_DRIVER_H
#define KITE_TESTS_VIRTQ_DRIVER_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virtio/mmio.h"
#include "virtio/queue.h"
#include "virtio/virtio.h"

#define VQD_VERSION_1 VIRTIO_BIT(VIRTIO_F_VERSION_1)

struct vqd {
	uint8_t *mem;  /* host address of guest address 0; unused by the register helpers */
	uint32_t size; /* QueueNum; nonzero for the ring helpers */
	uint64_t desc, avail, used; /* guest addresses of the rings */
};

static inline void vqd_wr(struct virtio_dev *t, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(t, off, (const uint8_t *)&v, 4);
}

static inline uint32_t vqd_rd(struct virtio_dev *t, uint64_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(t, off, (uint8_t *)&v, 4);
	return v;
}

static inline void vqd_set_features(struct virtio_dev *t, uint64_t f)
{
	vqd_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vqd_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)f);
	vqd_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vqd_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(f >> 32));
}

static inline uint32_t vqd_features_ok(struct virtio_dev *t, uint64_t f)
{
	vqd_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	vqd_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	vqd_set_features(t, f);
	vqd_wr(t, VIRTIO_MMIO_STATUS,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return vqd_rd(t, VIRTIO_MMIO_STATUS);
}

static inline void vqd_queue_setup(struct virtio_dev *t, uint32_t qidx, const struct vqd *q)
{
	vqd_wr(t, VIRTIO_MMIO_QUEUE_SEL, qidx);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NUM, q->size);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
	vqd_wr(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)q->avail);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(q->avail >> 32));
	vqd_wr(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)q->used);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(q->used >> 32));
	vqd_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
}

static inline uint32_t vqd_bring_up(struct virtio_dev *t, uint64_t f, const struct vqd *qs,
				    uint32_t n)
{
	vqd_features_ok(t, f);
	for (uint32_t i = 0; i < n; i++)
		vqd_queue_setup(t, i, &qs[i]);
	vqd_wr(t, VIRTIO_MMIO_STATUS,
	       VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
	return vqd_rd(t, VIRTIO_MMIO_STATUS);
}

static inline void vqd_put_desc(uint8_t *table, uint32_t i, uint64_t addr, uint32_t len,
				uint16_t flags, uint16_t next)
{
	struct virtq_desc d = {addr, len, flags, next};

	memcpy(table + 16ull * i, &d, sizeof(d));
}

static inline void vqd_set_desc(const struct vqd *q, uint32_t i, uint64_t addr, uint32_t len,
				uint16_t flags, uint16_t next)
{
	vqd_put_desc(q->mem + q->desc, i, addr, len, flags, next);
}

static inline uint16_t *vqd_avail(const struct vqd *q)
{
	return (uint16_t *)(q->mem + q->avail);
}

static inline void vqd_offer(const struct vqd *q, uint16_t head)
{
	uint16_t *av = vqd_avail(q);
	uint16_t idx = av[1];

	av[2 + idx % q->size] = head;
	__atomic_store_n(&av[1], (uint16_t)(idx + 1), __ATOMIC_RELEASE);
}

static inline uint16_t vqd_used_idx(const struct vqd *q)
{
	return __atomic_load_n((uint16_t *)(q->mem + q->used) + 1, __ATOMIC_ACQUIRE);
}

static inline struct virtq_used_elem vqd_used_elem(const struct vqd *q, uint32_t i)
{
	struct virtq_used_elem e;

	memcpy(&e, q->mem + q->used + 4 + 8 * (i % q->size), sizeof(e));
	return e;
}

static inline uint32_t vqd_used_len(const struct vqd *q, uint32_t i)
{
	return vqd_used_elem(q, i).len;
}

/* The buffer is allocated on the first call and reused after, so size must
 * not change between calls; the first call also lowers logging to errors,
 * since guest misbehaviour is all a fuzzer feeds the devices. */
static inline uint8_t *vqd_fuzz_ram(struct guest_mem *gm, uint32_t size, const uint8_t *data,
				    size_t n)
{
	static uint8_t *mem;

	if (!mem) {
		mem = aligned_alloc(4096, size);
		log_set_level(LOG_ERROR);
	}
	memset(mem, 0, size);
	memcpy(mem, data, n < size ? n : size);
	gm_init_wrap(gm, mem, size);
	return mem;
}

#endif
