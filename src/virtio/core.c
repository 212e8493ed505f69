/* The virtio core: status transitions (a table), feature negotiation, queue
 * enable/disable, chains in flight and the resets that wait for them,
 * interrupts. Every value a transport hands in comes from the guest;
 * anything the spec says a driver "MUST NOT" do is ignored, counted and
 * logged (rate-limited), never fatal. Kicks and the work budget are in
 * core_notify.c, pause/save/restore/stats in core_state.c. */
#include "virtio/core.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define TRANSPORT_FEATURES                                                  \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |  \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

#define S_ACK VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRV VIRTIO_STATUS_DRIVER
#define S_FOK VIRTIO_STATUS_FEATURES_OK
#define S_DOK VIRTIO_STATUS_DRIVER_OK
#define STATUS_PROGRESS (S_ACK | S_DRV | S_FOK | S_DOK)

/* The driver's progress through initialisation (VIRTIO 1.2, 3.1.1): one bit
 * at a time, in this order. A write of 0 (reset), FAILED (any time, and
 * nothing progresses after it) and rewriting the current value are the only
 * other legal writes; DEVICE_NEEDS_RESET is the device's to set, ignored in
 * writes and cleared only by reset. */
static const struct {
	uint8_t from, to;
} status_table[] = {
	{0, S_ACK},
	{S_ACK, S_ACK | S_DRV},
	{S_ACK | S_DRV, S_ACK | S_DRV | S_FOK}, /* if the features are acceptable */
	{S_ACK | S_DRV | S_FOK, S_ACK | S_DRV | S_FOK | S_DOK},
};

static bool status_step(uint32_t from, uint32_t to)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_table); i++)
		if (status_table[i].from == from && status_table[i].to == to)
			return true;
	return false;
}

bool virtio_status_reachable(uint32_t status)
{
	uint32_t base = status & STATUS_PROGRESS;
	bool known = base == 0;

	if (status & ~(STATUS_PROGRESS | VIRTIO_STATUS_FAILED | VIRTIO_STATUS_NEEDS_RESET))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(status_table); i++)
		known = known || status_table[i].to == base;
	/* The device flags NEEDS_RESET for a bad queue layout (needs
	 * FEATURES_OK) or a bad chain (needs DRIVER_OK). */
	if ((status & VIRTIO_STATUS_NEEDS_RESET) && !(base & S_FOK))
		return false;
	return known;
}

void virtio_dev_illegal(struct virtio_dev *vd, const char *what, uint64_t off, uint64_t val)
{
	vd->illegal_accesses++;
	log_guest(vd->name, "ignored %s (offset 0x%llx, value 0x%llx)", what,
		  (unsigned long long)off, (unsigned long long)val);
}

static void raise_irq(struct virtio_dev *vd, uint32_t bits)
{
	if (vd->dead || vd->quiesced)
		return;
	vd->int_status |= bits;
	vd->interrupts++;
	irq_line_set(&vd->irq, 1);
	irq_line_set(&vd->irq, 0);
}

static void needs_reset(struct virtio_dev *vd)
{
	vd->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* The spec asks for a config-change notification once DRIVER_OK. */
	if (vd->status & S_DOK)
		raise_irq(vd, VIRTIO_INT_CONFIG);
}

static const struct device_ops generic_dops = VIRTIO_DEVICE_OPS("virtio");

int virtio_dev_init(struct virtio_dev *vd, const struct guest_mem *gm,
		    const struct virtio_dev_ops *ops, void *priv, const char *name)
{
	memset(vd, 0, sizeof(*vd));
	if (!ops->num_queues || !IS_POW2(ops->queue_max) || ops->queue_max > VIRTQ_MAX_SIZE ||
	    ops->config_size > 256 || !ops->features || !ops->queue_notify || !ops->reset ||
	    (ops->config_size && !ops->config_read) || ops->state_size > 256 ||
	    (ops->state_size && (!ops->load || !ops->apply)))
		return -EINVAL;
	vd->queues = calloc(ops->num_queues, sizeof(*vd->queues));
	if (!vd->queues)
		return -ENOMEM;
	if (pthread_mutex_init(&vd->lock, NULL)) {
		free(vd->queues);
		vd->queues = NULL;
		return -ENOMEM;
	}
	device_init(&vd->dev, ops->device_ops ? ops->device_ops : &generic_dops,
		    name ? name : ops->name);
	vd->gm = gm;
	vd->ops = ops;
	vd->priv = priv;
	vd->name = vd->dev.name;
	vd->nr_queues = ops->num_queues;
	vd->offered = (ops->features(priv) & VIRTIO_DEV_FEATURE_MASK) | TRANSPORT_FEATURES;
	for (uint32_t i = 0; i < vd->nr_queues; i++) {
		struct virtio_queue *q = &vd->queues[i];

		virtq_init(&q->vq, gm, vd->name);
		q->num = ops->queue_max;
		q->notify_fd = -1;
		q->vd = vd;
		q->idx = i;
	}
	return 0;
}

struct device *virtio_dev_device(struct virtio_dev *vd)
{
	return &vd->dev;
}

struct virtio_dev *virtio_dev_from_device(struct device *d)
{
	return container_of(d, struct virtio_dev, dev);
}

void virtio_dev_set_irq(struct virtio_dev *vd, const struct irq_line *irq)
{
	/* NULL: no interrupt line (a VM without an irqchip; guests poll). */
	if (irq)
		vd->irq = *irq;
	else
		memset(&vd->irq, 0, sizeof(vd->irq));
}

void virtio_dev_lock(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
}

void virtio_dev_unlock(struct virtio_dev *vd)
{
	pthread_mutex_unlock(&vd->lock);
}

void virtio_dev_kill(struct virtio_dev *vd)
{
	pthread_mutex_lock(&vd->lock);
	vd->dead = true;
	pthread_mutex_unlock(&vd->lock);
}

uint32_t virtio_dev_inflight(const struct virtio_dev *vd)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < vd->nr_queues; i++)
		n += vd->queues[i].inflight;
	return n;
}

/* Everything a reset clears, now that nothing can write into the guest. */
static void finish_reset(struct virtio_dev *vd)
{
	vd->ops->reset(vd->priv);
	for (uint32_t i = 0; i < vd->nr_queues; i++) {
		struct virtio_queue *q = &vd->queues[i];

		virtq_disable(&q->vq);
		q->disabling = false;
		q->num = vd->ops->queue_max;
		q->desc = q->driver = q->device = 0;
	}
	vd->reset_pending = false;
	vd->status = 0;
	vd->int_status = 0;
	vd->dev_feat_sel = vd->drv_feat_sel = vd->queue_sel = 0;
	vd->driver_features = 0;
	vd->negotiated = 0;
}

static bool features_acceptable(uint64_t driver, uint64_t offered)
{
	return !(driver & ~offered) && (driver & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

uint32_t virtio_dev_read_status(const struct virtio_dev *vd)
{
	return vd->status;
}

void virtio_dev_write_status(struct virtio_dev *vd, uint32_t v)
{
	uint32_t cur = vd->status & ~VIRTIO_STATUS_NEEDS_RESET;
	uint32_t want = v & ~VIRTIO_STATUS_NEEDS_RESET;
	uint32_t added;

	if (v == 0) {
		/* Take nothing new; the reset completes when the last chain
		 * in flight does (virtio_dev_push), Status reading the old
		 * value until then. */
		vd->reset_pending = true;
		if (!virtio_dev_inflight(vd))
			finish_reset(vd);
		return;
	}
	if (vd->reset_pending) {
		virtio_dev_illegal(vd, "status write before the reset completed", 0, v);
		return;
	}
	if (want & ~(STATUS_PROGRESS | VIRTIO_STATUS_FAILED)) {
		virtio_dev_illegal(vd, "status with unknown bits", 0, v);
		return;
	}
	if ((want & cur) != cur) {
		virtio_dev_illegal(vd, "status clearing bits without reset", 0, v);
		return;
	}
	added = want & ~cur;
	if (!added)
		return;
	if (added & VIRTIO_STATUS_FAILED) {
		/* The driver gave up; nothing else in the write counts. */
		vd->status |= VIRTIO_STATUS_FAILED;
		return;
	}
	if (cur & VIRTIO_STATUS_FAILED) {
		virtio_dev_illegal(vd, "status progress after FAILED", 0, v);
		return;
	}
	if (!status_step(cur, want)) {
		virtio_dev_illegal(vd, "status transition out of order", 0, v);
		return;
	}
	if (added == S_FOK) {
		if (!features_acceptable(vd->driver_features, vd->offered)) {
			/* Left clear: the driver reads it back and gives up. */
			log_guest(vd->name, "features 0x%llx refused (offered 0x%llx)",
				  (unsigned long long)vd->driver_features,
				  (unsigned long long)vd->offered);
			return;
		}
		vd->negotiated = vd->driver_features;
	}
	vd->status |= added;
	if (added == S_DOK && vd->ops->driver_ok)
		vd->ops->driver_ok(vd->priv);
}

uint32_t virtio_dev_read_device_features(const struct virtio_dev *vd)
{
	/* GUEST: selectors above 1 read as zero. */
	if (vd->dev_feat_sel == 0)
		return (uint32_t)vd->offered;
	if (vd->dev_feat_sel == 1)
		return (uint32_t)(vd->offered >> 32);
	return 0;
}

void virtio_dev_write_driver_features(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	if (!(vd->status & S_DRV) || (vd->status & (S_FOK | VIRTIO_STATUS_FAILED))) {
		virtio_dev_illegal(vd, "driver features write in this state", off, v);
		return;
	}
	/* GUEST: selectors other than 0 and 1 name no bits. */
	if (vd->drv_feat_sel == 0)
		vd->driver_features = (vd->driver_features & 0xffffffff00000000ull) | v;
	else if (vd->drv_feat_sel == 1)
		vd->driver_features = (vd->driver_features & 0xffffffffull) | (uint64_t)v << 32;
	else if (v)
		virtio_dev_illegal(vd, "driver features beyond bit 63", off, v);
}

struct virtio_queue *virtio_dev_sel_queue(struct virtio_dev *vd)
{
	/* GUEST: queue_sel < nr_queues. */
	return vd->queue_sel < vd->nr_queues ? &vd->queues[vd->queue_sel] : NULL;
}

/* Queue layout registers: only between FEATURES_OK and DRIVER_OK, for an
 * existing queue that is not ready (4.2.2.2, 3.1.1). */
struct virtio_queue *virtio_dev_cfg_queue(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	struct virtio_queue *q = virtio_dev_sel_queue(vd);

	if (!q || !(vd->status & S_FOK) || (vd->status & (S_DOK | VIRTIO_STATUS_FAILED)) ||
	    q->vq.ready || vd->reset_pending) {
		virtio_dev_illegal(vd, "queue register write in this state", off, v);
		return NULL;
	}
	return q;
}

bool virtio_dev_read_queue_ready(struct virtio_dev *vd)
{
	struct virtio_queue *q = virtio_dev_sel_queue(vd);

	/* A queue being stopped reads ready until its chains are back. */
	return q && q->vq.ready;
}

void virtio_dev_write_queue_ready(struct virtio_dev *vd, uint32_t v)
{
	struct virtio_queue *q;
	int err;

	if (v == 0) {
		/* Stopping a queue is always allowed; with chains in flight it
		 * completes when the last one does. */
		q = virtio_dev_sel_queue(vd);
		if (q && q->vq.ready) {
			if (q->inflight)
				q->disabling = true;
			else
				virtq_disable(&q->vq);
		}
		return;
	}
	q = virtio_dev_cfg_queue(vd, 0, v);
	if (!q)
		return;
	/* GUEST: num/desc/driver/device all checked by virtq_enable. */
	err = virtq_enable(&q->vq, q->num, vd->ops->queue_max, q->desc, q->driver, q->device,
			   vd->negotiated & VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
			   vd->negotiated & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	if (err < 0) {
		log_guest(vd->name, "queue %u: bad layout (num %u desc 0x%llx driver 0x%llx "
			  "device 0x%llx)", q->idx, q->num, (unsigned long long)q->desc,
			  (unsigned long long)q->driver, (unsigned long long)q->device);
		vd->illegal_accesses++;
		needs_reset(vd);
	}
}

int64_t virtio_dev_check_notify(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	/* GUEST: v is a queue index (no NOTIFICATION_DATA). */
	if (v >= vd->nr_queues || !(vd->status & S_DOK)) {
		virtio_dev_illegal(vd, "notify", off, v);
		return -1;
	}
	return v;
}

void virtio_dev_ack_interrupt(struct virtio_dev *vd, uint32_t v)
{
	vd->int_status &= ~v;
}

void virtio_dev_begin(struct virtio_dev *vd, uint32_t qidx)
{
	if (qidx < vd->nr_queues)
		vd->queues[qidx].taken = 0;
}

int virtio_dev_pop(struct virtio_dev *vd, uint32_t qidx, struct virtq_chain *c)
{
	struct virtio_queue *q;
	int r;

	if (qidx >= vd->nr_queues)
		return -EINVAL;
	q = &vd->queues[qidx];
	if (!(vd->status & S_DOK) || !q->vq.ready || vd->reset_pending || q->disabling ||
	    vd->paused || vd->dead)
		return 0;
	if (q->taken >= q->vq.size) {
		/* A queue's worth taken: the rest after other work. */
		virtio_dev_kick_self(vd, qidx);
		return VIRTIO_POP_BUDGET;
	}
	r = virtq_pop(&q->vq, c);
	if (r == 1) {
		q->taken++;
		q->inflight++;
	} else if (r < 0 && r != -EIO) {
		/* First failure on this queue (later pops give -EIO). */
		vd->broken_queues++;
		needs_reset(vd);
	}
	return r;
}

bool virtio_dev_live(const struct virtio_dev *vd, uint32_t qidx, uint32_t gen)
{
	const struct virtio_queue *q;

	if (qidx >= vd->nr_queues)
		return false;
	q = &vd->queues[qidx];
	return q->vq.ready && q->vq.gen == gen && !q->disabling && !vd->reset_pending &&
	       !vd->dead && !vd->quiesced;
}

/* One chain fewer in flight; finishes what waited for it. */
static void chain_done(struct virtio_dev *vd, struct virtio_queue *q)
{
	if (q->inflight)
		q->inflight--;
	if (q->inflight)
		return;
	if (q->disabling) {
		virtq_disable(&q->vq);
		q->disabling = false;
	}
	if (vd->reset_pending && !virtio_dev_inflight(vd))
		finish_reset(vd);
}

bool virtio_dev_push(struct virtio_dev *vd, uint32_t qidx, uint32_t gen, uint16_t head,
		     uint32_t len)
{
	bool live = virtio_dev_live(vd, qidx, gen);

	if (qidx >= vd->nr_queues)
		return false;
	if (live)
		virtq_push(&vd->queues[qidx].vq, head, len);
	chain_done(vd, &vd->queues[qidx]);
	return live;
}

void virtio_dev_drop(struct virtio_dev *vd, uint32_t qidx)
{
	if (qidx < vd->nr_queues)
		chain_done(vd, &vd->queues[qidx]);
}

void virtio_dev_unpop(struct virtio_dev *vd, uint32_t qidx, uint32_t gen)
{
	if (qidx >= vd->nr_queues)
		return;
	/* Only a chain of the queue's current life goes back: after a reset
	 * or QueueReady=0 the ring is the driver's again. */
	if (virtio_dev_live(vd, qidx, gen))
		vd->queues[qidx].vq.last_avail_idx--;
	chain_done(vd, &vd->queues[qidx]);
}

void virtio_dev_notify(struct virtio_dev *vd, uint32_t qidx)
{
	if (qidx < vd->nr_queues && !vd->dead && !vd->quiesced &&
	    virtq_should_notify(&vd->queues[qidx].vq))
		raise_irq(vd, VIRTIO_INT_VRING);
}

void virtio_dev_config_changed(struct virtio_dev *vd)
{
	vd->config_gen++;
	if (vd->status & S_DOK)
		raise_irq(vd, VIRTIO_INT_CONFIG);
}
