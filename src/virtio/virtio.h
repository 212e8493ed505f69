/* Virtio constants shared by the transport and the devices, and the device
 * vtable that a transport drives (VIRTIO 1.2, modern devices only). */
#ifndef KITE_VIRTIO_H
#define KITE_VIRTIO_H

#include <stdint.h>

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4

/* Device status bits (VIRTIO 1.2 section 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01u
#define VIRTIO_STATUS_DRIVER 0x02u
#define VIRTIO_STATUS_DRIVER_OK 0x04u
#define VIRTIO_STATUS_FEATURES_OK 0x08u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* Transport feature bits (section 6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

#define VIRTIO_BIT(b) (1ull << (b))

/* Feature bits a device may offer by itself; transport bits (24..) are the
 * transport's business and masked out of a device's offer. */
#define VIRTIO_DEV_FEATURE_MASK ((1ull << 24) - 1)

/* Spec maximum for a split queue. */
#define VIRTQ_MAX_SIZE 32768u

/* A device as seen by its transport. The vtable is const and shared by all
 * instances; per-instance data is the `dev` pointer passed to every call.
 * Every callback runs with the transport's lock held (see mmio.h), so a
 * device's state is never touched by two threads at once. */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint16_t num_queues;
	uint16_t queue_max;   /* power of two, <= VIRTQ_MAX_SIZE */
	uint32_t config_size; /* bytes of device config space, <= 256 */
	/* Device feature bits (bits 0..23; others are masked off). Per
	 * instance, e.g. VIRTIO_BLK_F_RO depends on how the disk was opened. */
	uint64_t (*features)(void *dev);
	/* off + len <= config_size is guaranteed by the transport. */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, uint32_t len);
	/* May be NULL (read-only config). Same bound guarantee. */
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data, uint32_t len);
	/* Called on the event-loop thread when queue `qidx` (< num_queues,
	 * ready, DRIVER_OK set) was kicked. Returns 0 or -errno for a host
	 * failure (guest errors are handled through virtio_mmio_pop). */
	int (*queue_notify)(void *dev, uint32_t qidx);
	/* May be NULL. Called on the event-loop thread right after
	 * queue_notify, with the lock released, for a device that then polls
	 * the queue for a while (see virtio_mmio_notify_off). */
	void (*poll)(void *dev, uint32_t qidx);
	/* Device reset (status 0 written). Must not block: requests in
	 * flight are recognised as stale by their queue generation. */
	void (*reset)(void *dev);
};

#endif
