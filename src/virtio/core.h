/* The virtio core: everything about a virtio device that is neither its
 * transport nor its device type. It owns the device status and its legal
 * transitions (a table), feature negotiation, the queues (registers, split
 * virtqueues, chains in flight), config generation, InterruptStatus and the
 * interrupt line, the lock, how kicks reach the device (one eventfd per
 * queue, served on the event loop), the per-call work budget, the device's
 * struct device (pause, resume, save, restore, stats) and its guest-error
 * counters. A transport (mmio.c today, PCI later) only decodes its registers
 * into calls of this API; a device type (blk, rng, console) only uses the
 * device half of it.
 *
 * Threads. vCPU threads reach the core through the transport's register
 * handlers; the event-loop thread runs queue notifications, device
 * completions and timers. One mutex per device serialises both: transport
 * handlers take it (virtio_dev_lock) around the "transport side" calls, the
 * core holds it around every struct virtio_dev_ops callback except pause,
 * resume and poll, and a device that completes work later (an I/O
 * completion, a timer, host input) takes it before the "device side" calls.
 *
 * Work budget. Each call of ops->queue_notify may take at most one queue's
 * worth of chains (the queue size); virtio_dev_pop then answers
 * VIRTIO_POP_BUDGET and re-signals the queue's eventfd, so the rest is taken
 * after the event loop served everything else that was ready. Work that
 * does not start from a kick (host input, a poll pass) starts a budget of
 * its own with virtio_dev_begin.
 *
 * Resets never let data land in guest memory after the driver got its
 * buffers back: while chains are in flight, a Status write of 0 (or a
 * QueueReady write of 0 for that queue) only stops the device taking more;
 * Status (QueueReady) keeps reading its old value, the completions write
 * nothing into the guest, and the last one finishes the reset. A driver
 * waits for Status to read 0 (VIRTIO 1.2, 2.4.1 and 4.2.3.1). No thread
 * ever waits for a reset. */
#ifndef KITE_VIRTIO_CORE_H
#define KITE_VIRTIO_CORE_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "evloop.h"
#include "guest_mem.h"
#include "vm_event.h"
#include "virtio/queue.h"
#include "virtio/virtio.h"

/* InterruptStatus bits (the same meaning in every transport). */
#define VIRTIO_INT_VRING 1u
#define VIRTIO_INT_CONFIG 2u

/* virtio_dev_pop: a queue's worth was taken in this call; the queue was
 * re-signalled to be served again later. */
#define VIRTIO_POP_BUDGET (-EAGAIN)

struct virtio_dev;

struct virtio_queue {
	/* What the driver wrote; checked only when it sets QueueReady. */
	uint32_t num;
	uint64_t desc, driver, device;
	struct virtq vq;
	uint32_t inflight; /* chains popped and not yet pushed or dropped */
	uint32_t taken;    /* chains popped in the current call (the budget) */
	bool disabling;    /* QueueReady=0 waits for inflight to reach 0 */
	int notify_fd;     /* eventfd, -1 until virtio_dev_setup_eventfds */
	struct virtio_dev *vd; /* back pointer for the eventfd callback */
	uint32_t idx;
};

struct virtio_dev {
	struct device dev; /* name = log prefix; ops from virtio_dev_ops */
	pthread_mutex_t lock;
	const struct guest_mem *gm;
	const struct virtio_dev_ops *ops;
	void *priv;       /* the device type's instance, passed to ops */
	const char *name; /* dev.name */
	struct irq_line irq;
	void (*kick)(void *ctx, uint32_t qidx);
	void *kick_ctx;
	struct evloop *loop; /* set by virtio_dev_setup_eventfds */

	uint32_t status;
	uint32_t int_status;
	uint32_t config_gen;
	/* Register selectors of the transport, kept here so that every
	 * transport saves them the same way; bounded where used. */
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint64_t offered;         /* device features | transport features */
	uint64_t driver_features; /* as written so far */
	uint64_t negotiated;      /* fixed when FEATURES_OK was accepted */
	uint32_t nr_queues;
	struct virtio_queue *queues;
	bool reset_pending; /* Status 0 written, chains still in flight */
	bool paused;        /* device pause: take nothing, run no notify */
	bool quiesced;      /* paused and drained: no guest memory, no irq */
	bool dead;          /* being destroyed: completions write nothing */

	/* Counters for stats and tests. */
	uint64_t kicks, interrupts;
	uint64_t illegal_accesses; /* guest misbehaviour at the registers */
	uint64_t broken_queues;
};

/* Set-up (before any vCPU runs). ops and priv must outlive vd; name is
 * copied (truncated to DEVICE_NAME_MAX - 1). -EINVAL for a bad vtable
 * (queue_max not a power of two, config > 256, missing callbacks). */
int virtio_dev_init(struct virtio_dev *vd, const struct guest_mem *gm,
		    const struct virtio_dev_ops *ops, void *priv, const char *name) MUST_CHECK;
/* Unregisters and closes the eventfds, frees the queues. Safe after a
 * failed init. */
void virtio_dev_free(struct virtio_dev *vd);
/* From now on completions and notifications write nothing into the guest
 * and raise nothing: for a destroy that cancels the I/O still in flight. */
void virtio_dev_kill(struct virtio_dev *vd);

/* The registry's view: a virtio device's struct device, and back. */
struct device *virtio_dev_device(struct virtio_dev *vd);
struct virtio_dev *virtio_dev_from_device(struct device *d);

/* NULL means no line: interrupts are then only recorded in InterruptStatus. */
void virtio_dev_set_irq(struct virtio_dev *vd, const struct irq_line *irq);

/* --- Kicks (core_notify.c) --- */
/* What a guest notification does: without a hook (unit tests, fuzzers) it
 * runs virtio_dev_queue_notify on the calling thread; the hook installed
 * by virtio_dev_setup_eventfds writes the queue's eventfd instead. */
void virtio_dev_set_kick(struct virtio_dev *vd, void (*kick)(void *ctx, uint32_t qidx),
			 void *ctx);
/* One eventfd per queue, each registered on `loop` (readable: run
 * virtio_dev_queue_notify for its queue). The wiring passes
 * virtio_dev_queue_eventfd(vd, q) to KVM_IOEVENTFD so that a guest kick
 * costs no exit to kite. */
int virtio_dev_setup_eventfds(struct virtio_dev *vd, struct evloop *loop) MUST_CHECK;
int virtio_dev_queue_eventfd(const struct virtio_dev *vd, uint32_t qidx);
/* Transport: the guest notified queue qidx (lock NOT held). */
void virtio_dev_kick(struct virtio_dev *vd, uint32_t qidx);
/* Event-loop thread: queue qidx was kicked. Does nothing unless DRIVER_OK
 * is set, the queue is ready and not broken, and the device is neither
 * paused nor resetting. Takes the lock. */
void virtio_dev_queue_notify(struct virtio_dev *vd, uint32_t qidx);
/* Signals the queue's own eventfd (any thread); false without eventfds. */
bool virtio_dev_kick_self(struct virtio_dev *vd, uint32_t qidx);
/* The ready queue's size, 0 when not ready. */
uint32_t virtio_dev_queue_size(const struct virtio_dev *vd, uint32_t qidx);
/* Device-side polling, event-loop thread, lock NOT held (see
 * virtq_notify_off): notify_on returns whether buffers arrived meanwhile
 * that the device must still take. */
void virtio_dev_notify_off(struct virtio_dev *vd, uint32_t qidx);
bool virtio_dev_notify_on(struct virtio_dev *vd, uint32_t qidx);

/* --- Device side; all need the lock held. --- */
void virtio_dev_lock(struct virtio_dev *vd);
void virtio_dev_unlock(struct virtio_dev *vd);
/* Starts a new per-call budget for work that is not a queue_notify. */
void virtio_dev_begin(struct virtio_dev *vd, uint32_t qidx);
/* 1: a chain in *c (it is now in flight until pushed or dropped); 0:
 * nothing to take (empty, not ready, paused, resetting); VIRTIO_POP_BUDGET;
 * or another negative value for a guest error, after which the device has
 * set NEEDS_RESET and sent a configuration interrupt. */
int virtio_dev_pop(struct virtio_dev *vd, uint32_t qidx, struct virtq_chain *c) MUST_CHECK;
/* Whether a chain popped under gen may still be written into: false once
 * a reset or QueueReady=0 started, or the device is dying. */
bool virtio_dev_live(const struct virtio_dev *vd, uint32_t qidx, uint32_t gen);
/* Ends a chain in flight: returns head/len to the driver when the chain is
 * still live (true), else writes nothing. Either way the chain no longer
 * counts as in flight, and a reset waiting for it may complete. */
bool virtio_dev_push(struct virtio_dev *vd, uint32_t qidx, uint32_t gen, uint16_t head,
		     uint32_t len);
/* Ends a chain in flight without writing anything (a cancelled request). */
void virtio_dev_drop(struct virtio_dev *vd, uint32_t qidx);
/* Gives the LAST chain popped from qidx back to the ring (the next pop
 * takes it again), e.g. a request a paused device had not started; it
 * no longer counts as in flight. Only valid when nothing was popped from
 * that queue since; a stale chain (gen) is just dropped. */
void virtio_dev_unpop(struct virtio_dev *vd, uint32_t qidx, uint32_t gen);
/* Raises a used-buffer interrupt if the driver wants one for what was pushed. */
void virtio_dev_notify(struct virtio_dev *vd, uint32_t qidx);
/* Device config changed: bumps ConfigGeneration, interrupts if DRIVER_OK. */
void virtio_dev_config_changed(struct virtio_dev *vd);
/* Chains in flight on all queues. */
uint32_t virtio_dev_inflight(const struct virtio_dev *vd);

/* --- Transport side; all need the lock held. --- */
/* Counts and logs (rate-limited) a register access the spec forbids. */
void virtio_dev_illegal(struct virtio_dev *vd, const char *what, uint64_t off, uint64_t val);
uint32_t virtio_dev_read_status(const struct virtio_dev *vd);
void virtio_dev_write_status(struct virtio_dev *vd, uint32_t v);
uint32_t virtio_dev_read_device_features(const struct virtio_dev *vd);
void virtio_dev_write_driver_features(struct virtio_dev *vd, uint64_t off, uint32_t v);
/* The queue QueueSel names, or NULL. */
struct virtio_queue *virtio_dev_sel_queue(struct virtio_dev *vd);
/* The selected queue when its layout registers may be written now (between
 * FEATURES_OK and DRIVER_OK, queue not ready), else NULL (counted). */
struct virtio_queue *virtio_dev_cfg_queue(struct virtio_dev *vd, uint64_t off, uint32_t v);
bool virtio_dev_read_queue_ready(struct virtio_dev *vd);
void virtio_dev_write_queue_ready(struct virtio_dev *vd, uint32_t v);
/* A notification for queue v: the queue index to kick, or -1 (counted). */
int64_t virtio_dev_check_notify(struct virtio_dev *vd, uint64_t off, uint32_t v);
void virtio_dev_ack_interrupt(struct virtio_dev *vd, uint32_t v);

/* Whether a Status value can be reached through the legal transitions
 * (restore refuses any other). */
bool virtio_status_reachable(uint32_t status);

/* The struct device ops of every virtio device (core_state.c); a device
 * type names them in its own table:
 *   static const struct device_ops x_dops = VIRTIO_DEVICE_OPS("virtio-x");
 * and points virtio_dev_ops.device_ops at it. */
void virtio_dev_destroy_op(struct device *d);
int virtio_dev_pause_op(struct device *d) MUST_CHECK;
void virtio_dev_resume_op(struct device *d);
int virtio_dev_save_op(const struct device *d, struct state_buf *out) MUST_CHECK;
int virtio_dev_restore_op(struct device *d, struct state_reader *in, uint32_t version) MUST_CHECK;
void virtio_dev_stats_op(struct device *d, struct device_stats *out);

#define VIRTIO_DEVICE_STATE_VERSION 1u
#define VIRTIO_DEVICE_OPS(kind_)                                            \
	{                                                                   \
		.kind = (kind_), .state_version = VIRTIO_DEVICE_STATE_VERSION, \
		.destroy = virtio_dev_destroy_op, .pause = virtio_dev_pause_op, \
		.resume = virtio_dev_resume_op, .save = virtio_dev_save_op,  \
		.restore = virtio_dev_restore_op, .stats = virtio_dev_stats_op, \
	}

#endif
