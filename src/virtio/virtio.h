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

struct device_ops;
struct device_stats;
struct state_buf;
struct state_reader;

/* A device type as the virtio core drives it (core.h). The vtable is const
 * and shared by all instances; per-instance data is the `dev` pointer passed
 * to every call. Unless said otherwise a callback runs with the core's lock
 * held, so a device's state is never touched by two threads at once. */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	uint16_t num_queues;
	uint16_t queue_max;   /* power of two, <= VIRTQ_MAX_SIZE */
	uint32_t config_size; /* bytes of device config space, <= 256 */
	/* The struct device ops (VIRTIO_DEVICE_OPS(kind)); NULL for a test
	 * device: kind "virtio". */
	const struct device_ops *device_ops;
	/* Device feature bits (bits 0..23; others are masked off). Per
	 * instance, e.g. VIRTIO_BLK_F_RO depends on how the disk was opened. */
	uint64_t (*features)(void *dev);
	/* off + len <= config_size is guaranteed by the transport. */
	void (*config_read)(void *dev, uint32_t off, uint8_t *data, uint32_t len);
	/* May be NULL (read-only config). Same bound guarantee. */
	void (*config_write)(void *dev, uint32_t off, const uint8_t *data, uint32_t len);
	/* Called on the event-loop thread when queue `qidx` (< num_queues,
	 * ready, DRIVER_OK set) was kicked, with a fresh work budget. Returns
	 * 0 or -errno for a host failure (guest errors are handled through
	 * virtio_dev_pop). */
	int (*queue_notify)(void *dev, uint32_t qidx);
	/* May be NULL. Called on the event-loop thread right after
	 * queue_notify, with the lock released, for a device that then polls
	 * the queue for a while (see virtio_dev_notify_off). */
	void (*poll)(void *dev, uint32_t qidx);
	/* May be NULL. The driver set DRIVER_OK (vd->negotiated is final);
	 * runs on the vCPU thread of the Status write, so it must not block. */
	void (*driver_ok)(void *dev);
	/* Device reset, once nothing is in flight any more (the core waits for
	 * that without blocking anyone). Must not block. */
	void (*reset)(void *dev);

	/* The device's part of struct device; all may be NULL. */
	/* Lock NOT held, event-loop thread, after the core stopped calling
	 * queue_notify: finish what is in flight (complete it, writing into
	 * the guest as usual) and stop timers. 0 or -errno. */
	int (*pause)(void *dev);
	/* Lock NOT held, before the core re-kicks every ready queue. */
	void (*resume)(void *dev);
	/* The device's own fields, written after the core's. */
	int (*save)(void *dev, struct state_buf *out);
	/* Restore in two steps so that a bad section changes nothing: load
	 * reads and checks the device's fields into `scratch` (state_size
	 * bytes, zeroed, max-aligned) without touching the device, reporting
	 * problems through the reader; apply installs them once the core's
	 * part and the whole section were found good. */
	size_t state_size;
	void (*load)(void *dev, struct state_reader *in, uint32_t version, void *scratch);
	void (*apply)(void *dev, const void *scratch);
	/* Appends the device's counters after the core's. */
	void (*stats)(void *dev, struct device_stats *out);
	/* Frees the device (it calls virtio_dev_free itself). Required for a
	 * device in a device list. */
	void (*destroy)(void *dev);
};

#endif
