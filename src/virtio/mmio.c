/* virtio-mmio v2 transport: register window, status state machine, feature
 * negotiation, queue set-up and interrupts. Every register value comes from
 * the guest; anything the spec says a driver "MUST NOT" do is ignored,
 * counted and logged (rate-limited), never fatal. How kicks reach the device
 * (eventfds, device polling) is in mmio_notify.c. */
#include "virtio/mmio.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define TRANSPORT_FEATURES                                                  \
	(VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |  \
	 VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC))

#define STATUS_PROGRESS                                                     \
	(VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |                 \
	 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK)

static void illegal(struct virtio_mmio *t, const char *what, uint64_t off, uint64_t val)
{
	t->illegal_accesses++;
	log_guest(t->name, "ignored %s (offset 0x%llx, value 0x%llx)", what,
		  (unsigned long long)off, (unsigned long long)val);
}

static void raise_irq(struct virtio_mmio *t, uint32_t bits)
{
	t->int_status |= bits;
	irq_line_set(&t->irq, 1);
	irq_line_set(&t->irq, 0);
}

static void needs_reset(struct virtio_mmio *t)
{
	t->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* The spec asks for a config-change notification once DRIVER_OK. */
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}

int virtio_mmio_init(struct virtio_mmio *t, const struct guest_mem *gm,
		     const struct virtio_dev_ops *ops, void *dev, const char *name)
{
	memset(t, 0, sizeof(*t));
	if (!ops->num_queues || !IS_POW2(ops->queue_max) || ops->queue_max > VIRTQ_MAX_SIZE ||
	    ops->config_size > VIRTIO_MMIO_SIZE - VIRTIO_MMIO_CONFIG || !ops->features ||
	    !ops->queue_notify || !ops->reset || (ops->config_size && !ops->config_read))
		return -EINVAL;
	t->queues = calloc(ops->num_queues, sizeof(*t->queues));
	if (!t->queues)
		return -ENOMEM;
	if (pthread_mutex_init(&t->lock, NULL)) {
		free(t->queues);
		t->queues = NULL;
		return -ENOMEM;
	}
	t->gm = gm;
	t->ops = ops;
	t->dev = dev;
	t->name = name ? name : ops->name;
	t->nr_queues = ops->num_queues;
	t->offered = (ops->features(dev) & VIRTIO_DEV_FEATURE_MASK) | TRANSPORT_FEATURES;
	for (uint32_t i = 0; i < t->nr_queues; i++) {
		struct virtio_mmio_queue *q = &t->queues[i];

		virtq_init(&q->vq, gm);
		q->num = ops->queue_max;
		q->notify_fd = -1;
		q->t = t;
		q->idx = i;
	}
	return 0;
}

void virtio_mmio_free(struct virtio_mmio *t)
{
	if (!t->queues)
		return;
	for (uint32_t i = 0; i < t->nr_queues; i++) {
		int fd = t->queues[i].notify_fd;

		if (fd < 0)
			continue;
		if (t->loop)
			ev_del(t->loop, fd);
		close(fd);
	}
	free(t->queues);
	t->queues = NULL;
	pthread_mutex_destroy(&t->lock);
}

void virtio_mmio_set_irq(struct virtio_mmio *t, const struct irq_line *irq)
{
	/* NULL: no interrupt line (a VM without an irqchip; guests poll). */
	if (irq)
		t->irq = *irq;
	else
		memset(&t->irq, 0, sizeof(t->irq));
}

void virtio_mmio_lock(struct virtio_mmio *t)
{
	pthread_mutex_lock(&t->lock);
}

void virtio_mmio_unlock(struct virtio_mmio *t)
{
	pthread_mutex_unlock(&t->lock);
}

static void reset_locked(struct virtio_mmio *t)
{
	t->ops->reset(t->dev);
	for (uint32_t i = 0; i < t->nr_queues; i++) {
		struct virtio_mmio_queue *q = &t->queues[i];

		virtq_disable(&q->vq);
		q->num = t->ops->queue_max;
		q->desc = q->driver = q->device = 0;
	}
	t->status = 0;
	t->int_status = 0;
	t->dev_feat_sel = t->drv_feat_sel = t->queue_sel = 0;
	t->driver_features = 0;
	t->negotiated = 0;
}

static bool features_acceptable(const struct virtio_mmio *t)
{
	return !(t->driver_features & ~t->offered) &&
	       (t->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
}

/* Legal writes: 0 (reset); the next bit of ACKNOWLEDGE -> DRIVER ->
 * FEATURES_OK -> DRIVER_OK, one at a time; FAILED at any time; rewriting
 * the current value. DEVICE_NEEDS_RESET is the device's: a driver echoing
 * it back is not an error, and it cannot clear it except by reset. */
static void status_write(struct virtio_mmio *t, uint32_t v)
{
	uint32_t cur = t->status & ~VIRTIO_STATUS_NEEDS_RESET;
	uint32_t want = v & ~VIRTIO_STATUS_NEEDS_RESET;
	uint32_t added, next;

	if (v == 0) {
		reset_locked(t);
		return;
	}
	if (want & ~(STATUS_PROGRESS | VIRTIO_STATUS_FAILED)) {
		illegal(t, "status with unknown bits", VIRTIO_MMIO_STATUS, v);
		return;
	}
	if ((want & cur) != cur) {
		illegal(t, "status clearing bits without reset", VIRTIO_MMIO_STATUS, v);
		return;
	}
	added = want & ~cur;
	if (!added)
		return;
	if (added & VIRTIO_STATUS_FAILED) {
		/* The driver gave up; nothing else in the write counts. */
		t->status |= VIRTIO_STATUS_FAILED;
		return;
	}
	if (cur & VIRTIO_STATUS_FAILED) {
		illegal(t, "status progress after FAILED", VIRTIO_MMIO_STATUS, v);
		return;
	}
	switch (cur) {
	case 0:
		next = VIRTIO_STATUS_ACKNOWLEDGE;
		break;
	case VIRTIO_STATUS_ACKNOWLEDGE:
		next = VIRTIO_STATUS_DRIVER;
		break;
	case VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER:
		next = VIRTIO_STATUS_FEATURES_OK;
		break;
	case VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK:
		next = VIRTIO_STATUS_DRIVER_OK;
		break;
	default:
		next = 0;
	}
	if (added != next) {
		illegal(t, "status transition out of order", VIRTIO_MMIO_STATUS, v);
		return;
	}
	if (next == VIRTIO_STATUS_FEATURES_OK) {
		if (!features_acceptable(t)) {
			/* Left clear: the driver reads it back and gives up. */
			log_guest(t->name, "features 0x%llx refused (offered 0x%llx)",
				  (unsigned long long)t->driver_features,
				  (unsigned long long)t->offered);
			return;
		}
		t->negotiated = t->driver_features;
	}
	t->status |= next;
}

static struct virtio_mmio_queue *sel_queue(struct virtio_mmio *t)
{
	/* GUEST: queue_sel < nr_queues. */
	return t->queue_sel < t->nr_queues ? &t->queues[t->queue_sel] : NULL;
}

/* Queue layout registers: only between FEATURES_OK and DRIVER_OK, for an
 * existing queue that is not ready (4.2.2.2, 3.1.1). */
static struct virtio_mmio_queue *cfg_queue(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct virtio_mmio_queue *q = sel_queue(t);

	if (!q || !(t->status & VIRTIO_STATUS_FEATURES_OK) ||
	    (t->status & (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FAILED)) || q->vq.ready) {
		illegal(t, "queue register write in this state", off, v);
		return NULL;
	}
	return q;
}

static void set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffff00000000ull) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffull) | (uint64_t)v << 32;
}

static void queue_ready_write(struct virtio_mmio *t, uint32_t v)
{
	struct virtio_mmio_queue *q;
	int err;

	if (v == 0) {
		/* Stopping a queue is always allowed; in-flight chains
		 * become stale through the generation bump. */
		q = sel_queue(t);
		if (q)
			virtq_disable(&q->vq);
		return;
	}
	q = cfg_queue(t, VIRTIO_MMIO_QUEUE_READY, v);
	if (!q)
		return;
	/* GUEST: num/desc/driver/device all checked by virtq_enable. */
	err = virtq_enable(&q->vq, q->num, t->ops->queue_max, q->desc, q->driver, q->device,
			   t->negotiated & VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
			   t->negotiated & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC));
	if (err < 0) {
		log_guest(t->name, "queue %u: bad layout (num %u desc 0x%llx driver 0x%llx "
			  "device 0x%llx)", q->idx, q->num, (unsigned long long)q->desc,
			  (unsigned long long)q->driver, (unsigned long long)q->device);
		t->illegal_accesses++;
		needs_reset(t);
	}
}

/* Returns the queue to kick (>= 0) or -1. Lock held. */
static int64_t reg_write(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	struct virtio_mmio_queue *q;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		t->dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (!(t->status & VIRTIO_STATUS_DRIVER) ||
		    (t->status & (VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_FAILED))) {
			illegal(t, "driver features write in this state", off, v);
			break;
		}
		/* GUEST: selectors other than 0 and 1 name no bits. */
		if (t->drv_feat_sel == 0)
			set_lo(&t->driver_features, v);
		else if (t->drv_feat_sel == 1)
			set_hi(&t->driver_features, v);
		else if (v)
			illegal(t, "driver features beyond bit 63", off, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		t->drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		t->queue_sel = v; /* bounded where used, by sel_queue */
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		q = cfg_queue(t, off, v);
		if (q)
			q->num = v; /* checked at QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		queue_ready_write(t, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* GUEST: v is a queue index (no NOTIFICATION_DATA). */
		if (v >= t->nr_queues || !(t->status & VIRTIO_STATUS_DRIVER_OK)) {
			illegal(t, "notify", off, v);
			break;
		}
		return v;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		t->int_status &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		status_write(t, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: {
		uint64_t *r;

		q = cfg_queue(t, off, v);
		if (!q)
			break;
		r = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW   ? &q->desc
		    : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->driver
							 : &q->device;
		if (off & 4)
			set_hi(r, v);
		else
			set_lo(r, v);
		break;
	}
	case VIRTIO_MMIO_SHM_SEL:
	case VIRTIO_MMIO_QUEUE_RESET:
		/* No shared memory regions, RING_RESET not offered. */
		break;
	default:
		illegal(t, "write to a read-only or unknown register", off, v);
	}
	return -1;
}

static uint32_t reg_read(struct virtio_mmio *t, uint64_t off)
{
	struct virtio_mmio_queue *q;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return t->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		/* GUEST: selectors above 1 read as zero. */
		if (t->dev_feat_sel == 0)
			return (uint32_t)t->offered;
		if (t->dev_feat_sel == 1)
			return (uint32_t)(t->offered >> 32);
		return 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return sel_queue(t) ? t->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		q = sel_queue(t);
		return q && q->vq.ready;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return t->int_status;
	case VIRTIO_MMIO_STATUS:
		return t->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffu; /* no such region */
	case VIRTIO_MMIO_QUEUE_RESET:
		return 0;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return t->config_gen;
	default:
		illegal(t, "read of a write-only or unknown register", off, 0);
		return 0;
	}
}

/* Config space: any width the bus delivers (1/2/4/8), any alignment. Bytes
 * past the device's config end read as zero; a write reaching past it is
 * dropped whole. */
static void config_access(struct virtio_mmio *t, uint64_t off, uint8_t *data, uint32_t len,
			  bool write)
{
	uint64_t coff = off - VIRTIO_MMIO_CONFIG;
	uint32_t size = t->ops->config_size;

	/* GUEST: coff < 0x100 (bus window), len <= 8. */
	if (write) {
		if (coff + len > size || !t->ops->config_write) {
			illegal(t, "config write outside the writable config", off, len);
			return;
		}
		t->ops->config_write(t->dev, (uint32_t)coff, data, len);
		return;
	}
	memset(data, 0, len);
	if (coff < size)
		t->ops->config_read(t->dev, (uint32_t)coff, data,
				    (uint32_t)MIN((uint64_t)len, size - coff));
}

static void mmio_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = opaque;
	uint32_t v;

	if (off >= VIRTIO_MMIO_SIZE || len > 8 || off + len > VIRTIO_MMIO_SIZE) {
		memset(data, 0, MIN(len, 8u));
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_access(t, off, data, len, false);
	} else if (len != 4 || off % 4) {
		memset(data, 0, len);
		illegal(t, "register read that is not 32-bit aligned", off, len);
	} else {
		v = htole32(reg_read(t, off));
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&t->lock);
}

static void mmio_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_mmio *t = opaque;
	int64_t kick = -1;
	uint8_t buf[8];
	uint32_t v;

	if (off >= VIRTIO_MMIO_SIZE || len > 8 || off + len > VIRTIO_MMIO_SIZE)
		return;
	pthread_mutex_lock(&t->lock);
	if (off >= VIRTIO_MMIO_CONFIG) {
		memcpy(buf, data, len);
		config_access(t, off, buf, len, true);
	} else if (len != 4 || off % 4) {
		illegal(t, "register write that is not 32-bit aligned", off, len);
	} else {
		memcpy(&v, data, 4);
		kick = reg_write(t, off, le32toh(v));
	}
	pthread_mutex_unlock(&t->lock);

	/* Outside the lock: the default (test) path takes it again. */
	if (kick >= 0) {
		if (t->kick)
			t->kick(t->kick_ctx, (uint32_t)kick);
		else
			virtio_mmio_queue_notify(t, (uint32_t)kick);
	}
}

const struct bus_ops virtio_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};

int virtio_mmio_pop(struct virtio_mmio *t, uint32_t qidx, struct virtq_chain *c)
{
	struct virtio_mmio_queue *q;
	int r;

	if (qidx >= t->nr_queues)
		return -EINVAL;
	q = &t->queues[qidx];
	if (!(t->status & VIRTIO_STATUS_DRIVER_OK))
		return 0;
	r = virtq_pop(&q->vq, c);
	if (r < 0 && r != -EIO) {
		/* First failure on this queue (later pops give -EIO). */
		t->broken_queues++;
		needs_reset(t);
	}
	return r;
}

bool virtio_mmio_live(struct virtio_mmio *t, uint32_t qidx, uint32_t gen)
{
	return qidx < t->nr_queues && t->queues[qidx].vq.ready && t->queues[qidx].vq.gen == gen;
}

bool virtio_mmio_push(struct virtio_mmio *t, uint32_t qidx, uint32_t gen, uint16_t head,
		      uint32_t len)
{
	if (!virtio_mmio_live(t, qidx, gen))
		return false;
	virtq_push(&t->queues[qidx].vq, head, len);
	return true;
}

void virtio_mmio_notify(struct virtio_mmio *t, uint32_t qidx)
{
	if (qidx < t->nr_queues && virtq_should_notify(&t->queues[qidx].vq))
		raise_irq(t, VIRTIO_MMIO_INT_VRING);
}

void virtio_mmio_config_changed(struct virtio_mmio *t)
{
	t->config_gen++;
	if (t->status & VIRTIO_STATUS_DRIVER_OK)
		raise_irq(t, VIRTIO_MMIO_INT_CONFIG);
}
