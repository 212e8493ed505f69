/* The guest side of virtio-mmio that the C test guests and the benchmark
 * guest share: the steps of device set-up, config reads and the driver side
 * of a split virtqueue, polled (no interrupts). Each guest keeps its own
 * failure numbers and messages, so the helpers return what they found and
 * leave the verdict to the caller. Register access and the descriptor
 * layout come from guest_rt.h, which the hostile guests use on their own.
 *
 * A queue's rings sit in one 12 KiB block: descriptors at +0, the avail
 * ring at +0x1000, the used ring at +0x2000 (room for 256 entries each).
 * Queue sizes are powers of two, as a split queue's must be. */
#ifndef KITE_VIRTQ_GUEST_H
#define KITE_VIRTQ_GUEST_H

#include <stdint.h>

#include "guest_rt.h"

#define VIRTIO_MAGIC 0x74726976u /* "virt" */
#define F_EVENT_IDX 29
#define F_VERSION_1 32

#define VQ_AVAIL 0x1000ul
#define VQ_USED 0x2000ul
#define VQ_RING_BYTES 0x3000ul

/* virtio-blk request header and the types the guests send. */
#define BLK_T_IN 0u
#define BLK_T_OUT 1u

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* virtio-vsock packet header and operations (VIRTIO 1.2, 5.10.6). */
enum {
	OP_REQUEST = 1,
	OP_RESPONSE,
	OP_RST,
	OP_SHUTDOWN,
	OP_RW,
	OP_CREDIT_UPDATE,
	OP_CREDIT_REQUEST
};

struct vsock_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

/* --- device set-up (VIRTIO 1.2, 3.1.1) --- */

static __attribute__((unused)) uint64_t virtio_features(uint64_t dev)
{
	uint64_t f;

	mmio_wr(dev, R_DEV_FEATURES_SEL, 1);
	f = (uint64_t)mmio_rd(dev, R_DEV_FEATURES) << 32;
	mmio_wr(dev, R_DEV_FEATURES_SEL, 0);
	return f | mmio_rd(dev, R_DEV_FEATURES);
}

/* Status ACKNOWLEDGE, then DRIVER. */
static __attribute__((unused)) void virtio_ack(uint64_t dev)
{
	mmio_wr(dev, R_STATUS, S_ACK);
	mmio_wr(dev, R_STATUS, S_ACK | S_DRIVER);
}

/* Writes the driver features and sets FEATURES_OK; returns whether the
 * device kept it. */
static __attribute__((unused)) int virtio_set_features(uint64_t dev, uint64_t want)
{
	mmio_wr(dev, R_DRV_FEATURES_SEL, 0);
	mmio_wr(dev, R_DRV_FEATURES, (uint32_t)want);
	mmio_wr(dev, R_DRV_FEATURES_SEL, 1);
	mmio_wr(dev, R_DRV_FEATURES, (uint32_t)(want >> 32));
	mmio_wr(dev, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	return (mmio_rd(dev, R_STATUS) & S_FEATURES_OK) != 0;
}

/* Sets DRIVER_OK; returns whether Status reads back exactly the four bits. */
static __attribute__((unused)) int virtio_driver_ok(uint64_t dev)
{
	const uint32_t all = S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;

	mmio_wr(dev, R_STATUS, all);
	return mmio_rd(dev, R_STATUS) == all;
}

/* A reset with requests in flight completes when they are back: waits up
 * to `spin` reads for Status to read 0, as a driver must (VIRTIO 1.2,
 * 4.2.3.1). Returns whether it did. */
static __attribute__((unused)) int virtio_reset(uint64_t dev, uint64_t spin)
{
	mmio_wr(dev, R_STATUS, 0);
	for (uint64_t i = 0; i < spin && mmio_rd(dev, R_STATUS) != 0; i++)
		cpu_relax();
	return mmio_rd(dev, R_STATUS) == 0;
}

/* A 64-bit config field, read again until ConfigGeneration holds still. */
static __attribute__((unused)) uint64_t virtio_config64(uint64_t dev, uint32_t off)
{
	uint32_t gen, lo, hi;

	do {
		gen = mmio_rd(dev, R_CONFIG_GEN);
		lo = mmio_rd(dev, R_CONFIG + off);
		hi = mmio_rd(dev, R_CONFIG + off + 4);
	} while (mmio_rd(dev, R_CONFIG_GEN) != gen);
	return (uint64_t)hi << 32 | lo;
}

/* --- split virtqueue, driver side --- */

struct vq {
	uint64_t dev;	    /* the device's register window */
	uint32_t index;	    /* queue number, for QueueNotify */
	uint16_t size;	    /* a power of two, at most 256 */
	uint64_t ring;	    /* guest-physical (identity-mapped) ring block */
	uint16_t avail_idx; /* the driver's avail index (published or not) */
	uint16_t used_seen; /* used entries consumed */
	uint16_t next_desc; /* the descriptor vq_add fills next */
};

/* Clears the ring block, programs the queue and sets QueueReady; returns
 * whether QueueReady reads back 1. */
static __attribute__((unused)) int vq_setup(struct vq *q, uint64_t dev, uint32_t index,
					    uint16_t size, uint64_t ring)
{
	q->dev = dev;
	q->index = index;
	q->size = size;
	q->ring = ring;
	q->avail_idx = q->used_seen = q->next_desc = 0;
	memset((void *)ring, 0, VQ_RING_BYTES);
	return vq_program(dev, index, size, ring, ring + VQ_AVAIL, ring + VQ_USED);
}

static inline volatile struct desc *vq_desc(const struct vq *q, uint16_t i)
{
	return (volatile struct desc *)(q->ring + 16ul * (i & (q->size - 1u)));
}

/* flags, idx, ring[size], used_event */
static inline volatile uint16_t *vq_avail(const struct vq *q)
{
	return (volatile uint16_t *)(q->ring + VQ_AVAIL);
}

static inline volatile uint16_t *vq_used_event(const struct vq *q)
{
	return vq_avail(q) + 2 + q->size;
}

/* After used flags, idx and elems[size]. */
static inline volatile uint16_t *vq_avail_event(const struct vq *q)
{
	return (volatile uint16_t *)(q->ring + VQ_USED + 4 + 8ul * q->size);
}

static inline uint16_t vq_used_idx(const struct vq *q)
{
	barrier();
	return ((volatile uint16_t *)(q->ring + VQ_USED))[1];
}

static inline uint32_t vq_used_id(const struct vq *q, uint16_t slot)
{
	return *(volatile uint32_t *)(q->ring + VQ_USED + 4 + 8ul * (slot & (q->size - 1u)));
}

static inline uint32_t vq_used_len(const struct vq *q, uint16_t slot)
{
	return *(volatile uint32_t *)(q->ring + VQ_USED + 8 + 8ul * (slot & (q->size - 1u)));
}

/* Fills the next free descriptor, linked to the one after it, and returns
 * its index: a chain is consecutive calls, the last without D_NEXT. */
static __attribute__((unused)) uint16_t vq_add(struct vq *q, uint64_t addr, uint32_t len,
					       uint16_t flags)
{
	uint16_t i = q->next_desc++ & (q->size - 1u);
	volatile struct desc *d = vq_desc(q, i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = (uint16_t)((i + 1u) & (q->size - 1u));
	return i;
}

/* Puts a head in the avail ring without publishing the index. */
static inline void vq_push(struct vq *q, uint16_t head)
{
	vq_avail(q)[2 + (q->avail_idx & (q->size - 1u))] = head;
	barrier(); /* ring entry before index (x86 is TSO) */
	q->avail_idx++;
}

/* Descriptor i as one device-writable buffer, pushed (not yet published):
 * how the guests post receive buffers. */
static inline void vq_post_write(struct vq *q, uint16_t i, uint64_t addr, uint32_t len)
{
	volatile struct desc *d = vq_desc(q, i);

	d->addr = addr;
	d->len = len;
	d->flags = D_WRITE;
	vq_push(q, i);
}

static inline void vq_publish(struct vq *q)
{
	vq_avail(q)[1] = q->avail_idx;
	barrier();
}

static __attribute__((unused)) void vq_offer(struct vq *q, uint16_t head)
{
	vq_push(q, head);
	vq_publish(q);
}

static inline void vq_kick(const struct vq *q)
{
	mmio_wr(q->dev, R_QUEUE_NOTIFY, q->index);
}

/* With F_EVENT_IDX: publishes the heads pushed since avail index `old` and
 * kicks only if the device's avail_event lies among them (the spec's
 * vring_need_event). */
static __attribute__((unused)) void vq_kick_if_needed(struct vq *q, uint16_t old)
{
	uint16_t ev;

	if (old == q->avail_idx)
		return;
	vq_avail(q)[1] = q->avail_idx;
	__asm__ __volatile__("mfence" ::: "memory"); /* our idx store before the event read */
	ev = *vq_avail_event(q);
	if ((uint16_t)(q->avail_idx - ev - 1) < (uint16_t)(q->avail_idx - old))
		vq_kick(q);
}

/* Waits up to `spin` polls until `n` more used entries appeared and
 * consumes them; returns 0 or -1 on timeout. */
static __attribute__((unused)) int vq_wait(struct vq *q, uint16_t n, uint64_t spin)
{
	for (uint64_t i = 0; i < spin; i++) {
		if ((uint16_t)(vq_used_idx(q) - q->used_seen) >= n) {
			barrier(); /* read elements and buffers after the index */
			q->used_seen = (uint16_t)(q->used_seen + n);
			return 0;
		}
		cpu_relax();
	}
	return -1;
}

#endif
