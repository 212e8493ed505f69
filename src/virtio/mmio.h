/* virtio-mmio transport, version 2 (modern only; VIRTIO 1.2 section 4.2):
 * the register window, the status state machine, feature negotiation, queue
 * set-up, InterruptStatus and the interrupt line. One instance per device.
 *
 * Threads. vCPU threads call the bus handlers (virtio_mmio_ops); the event
 * loop thread processes queues (virtio_mmio_queue_notify, device completion
 * handlers). One mutex per transport serialises both: the register handlers
 * and virtio_mmio_queue_notify take it, and the device callbacks of struct
 * virtio_dev_ops run with it held. A device that completes requests later
 * (an I/O completion on the event loop, a timer) takes it with
 * virtio_mmio_lock() before calling virtio_mmio_pop/push/notify.
 *
 * Interrupts. Each interrupt is one edge: the transport calls
 * irq_line_set(line, 1) immediately followed by irq_line_set(line, 0), with
 * the InterruptStatus bit already set. Wired to a KVM irqfd, level 1 is the
 * eventfd write and level 0 can be ignored.
 *
 * Kicks. A QueueNotify write that reaches the bus handler (no ioeventfd
 * matched) is passed to the kick hook, never processed on the vCPU thread:
 * the default hook (virtio_mmio_setup_eventfds) writes the queue's eventfd,
 * the same fd the lead registers with KVM_IOEVENTFD, so both paths end in
 * virtio_mmio_queue_notify on the event loop. Without a hook (unit tests,
 * fuzzers) the write handler calls virtio_mmio_queue_notify directly. */
#ifndef KITE_VIRTIO_MMIO_H
#define KITE_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "compiler.h"
#include "evloop.h"
#include "guest_mem.h"
#include "vm_event.h"
#include "virtio/queue.h"
#include "virtio/virtio.h"

#define VIRTIO_MMIO_SIZE 0x200u
#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */
#define VIRTIO_MMIO_VENDOR 0x4554494bu /* "KITE" */

/* Register offsets. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_INT_VRING 1u
#define VIRTIO_MMIO_INT_CONFIG 2u

struct virtio_mmio_queue {
	/* What the driver wrote; checked only when it sets QueueReady. */
	uint32_t num;
	uint64_t desc, driver, device;
	struct virtq vq;
	int notify_fd; /* eventfd, -1 until virtio_mmio_setup_eventfds */
	struct virtio_mmio *t; /* back pointer for the eventfd callback */
	uint32_t idx;
};

struct virtio_mmio {
	pthread_mutex_t lock;
	const struct guest_mem *gm;
	const struct virtio_dev_ops *ops;
	void *dev;
	const char *name;
	struct irq_line irq;
	void (*kick)(void *ctx, uint32_t qidx);
	void *kick_ctx;
	struct evloop *loop; /* set by virtio_mmio_setup_eventfds */

	uint32_t status;
	uint32_t int_status;
	uint32_t config_gen;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint64_t offered;         /* device features | transport features */
	uint64_t driver_features; /* as written so far */
	uint64_t negotiated;      /* fixed when FEATURES_OK was accepted */
	uint32_t nr_queues;
	struct virtio_mmio_queue *queues;

	/* Guest misbehaviour, for metrics and tests. */
	uint64_t illegal_accesses;
	uint64_t broken_queues;
};

/* Register handlers for a VIRTIO_MMIO_SIZE window; opaque = struct virtio_mmio *. */
extern const struct bus_ops virtio_mmio_ops;

/* Set-up (before any vCPU runs). ops and dev must outlive the transport.
 * -EINVAL for a bad vtable (queue_max not a power of two, config > 256). */
int virtio_mmio_init(struct virtio_mmio *t, const struct guest_mem *gm,
		     const struct virtio_dev_ops *ops, void *dev, const char *name) MUST_CHECK;
/* Unregisters the eventfds from the loop, closes them, frees the queues. */
void virtio_mmio_free(struct virtio_mmio *t);
/* NULL means no line: interrupts are then only recorded in InterruptStatus. */
void virtio_mmio_set_irq(struct virtio_mmio *t, const struct irq_line *irq);
void virtio_mmio_set_kick(struct virtio_mmio *t, void (*kick)(void *ctx, uint32_t qidx),
			  void *ctx);
/* Creates one eventfd per queue, registers each on `loop` (a readable fd
 * runs virtio_mmio_queue_notify for that queue) and installs a kick hook that
 * writes them. The lead passes virtio_mmio_queue_eventfd(t, q) to
 * KVM_IOEVENTFD (addr = base + VIRTIO_MMIO_QUEUE_NOTIFY, len 4,
 * datamatch = q). */
int virtio_mmio_setup_eventfds(struct virtio_mmio *t, struct evloop *loop) MUST_CHECK;
int virtio_mmio_queue_eventfd(const struct virtio_mmio *t, uint32_t qidx);

/* Event-loop thread: queue `qidx` was kicked. Ignored unless DRIVER_OK is
 * set, the queue is ready and not broken. Takes the lock. */
void virtio_mmio_queue_notify(struct virtio_mmio *t, uint32_t qidx);

/* Device-side polling, event-loop thread, lock NOT held: the driver is told
 * that kicks are not needed while the device watches queue qidx itself
 * (virtq_notify_off), then asked for them again; notify_on returns whether
 * buffers arrived in between that the device must still take. */
void virtio_mmio_notify_off(struct virtio_mmio *t, uint32_t qidx);
bool virtio_mmio_notify_on(struct virtio_mmio *t, uint32_t qidx);

/* Fairness: a device takes at most one queue's worth of chains per call
 * (virtio_mmio_queue_size, 0 when not ready), so that a guest that keeps
 * adding buffers cannot hold the event loop; with more left it asks to be
 * called again after the other ready fds: kick_self signals the queue's own
 * eventfd (false without eventfds: unit tests, fuzzers). Any thread. */
bool virtio_mmio_kick_self(struct virtio_mmio *t, uint32_t qidx);
uint32_t virtio_mmio_queue_size(const struct virtio_mmio *t, uint32_t qidx);

/* --- For devices; all need the lock held. --- */
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);
/* virtq_pop on queue qidx. A guest error sets DEVICE_NEEDS_RESET and sends a
 * configuration-change interrupt; the return value is then < 0. */
int virtio_mmio_pop(struct virtio_mmio *t, uint32_t qidx, struct virtq_chain *c) MUST_CHECK;
/* Whether a chain popped under `gen` may still be completed: false once the
 * queue was disabled or the device reset since (its buffers may be reused
 * by the guest, so nothing may be written into them any more). */
bool virtio_mmio_live(struct virtio_mmio *t, uint32_t qidx, uint32_t gen);
/* Pushes head/len when the chain is still live; returns whether it was. */
bool virtio_mmio_push(struct virtio_mmio *t, uint32_t qidx, uint32_t gen, uint16_t head,
		      uint32_t len);
/* Raises a used-buffer interrupt if the driver wants one for what was pushed. */
void virtio_mmio_notify(struct virtio_mmio *t, uint32_t qidx);
/* Device config changed: bumps ConfigGeneration, interrupts if DRIVER_OK. */
void virtio_mmio_config_changed(struct virtio_mmio *t);

#endif
