/* The struct device of every virtio device: pause, resume, save, restore,
 * stats and destroy, written once here for the virtio part of the state,
 * with the device type's own fields (virtio_dev_ops save/load/apply) after
 * the core's.
 *
 * Section layout (version 1, little-endian):
 *   u64 offered, driver_features, negotiated
 *   u32 status, int_status, config_gen, dev_feat_sel, drv_feat_sel, queue_sel
 *   u32 nr_queues, then per queue:
 *     u32 num; u64 desc, driver, device; u8 ready;
 *     u16 last_avail_idx, used_idx, signalled_used; u8 broken, notify_off
 *   the device's fields.
 * A restored ready queue passes the checks of a queue the guest enables
 * (virtq_restore), and a restored status must be reachable through the
 * transition table. */
#include "virtio/core.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void virtio_dev_destroy_op(struct device *d)
{
	struct virtio_dev *vd = virtio_dev_from_device(d);

	if (vd->ops->destroy)
		vd->ops->destroy(vd->priv);
	else
		virtio_dev_free(vd);
}

int virtio_dev_pause_op(struct device *d)
{
	struct virtio_dev *vd = virtio_dev_from_device(d);
	int rc = 0;

	/* First stop taking work (kicks that come now are looked at again on
	 * resume), then let the device finish what is in flight, unlocked:
	 * its completions take the lock. */
	pthread_mutex_lock(&vd->lock);
	vd->paused = true;
	pthread_mutex_unlock(&vd->lock);
	if (vd->ops->pause)
		rc = vd->ops->pause(vd->priv);
	pthread_mutex_lock(&vd->lock);
	if (!rc && virtio_dev_inflight(vd))
		rc = -EBUSY;
	if (rc) {
		vd->paused = false;
	} else {
		/* A device that was polling a queue asks for kicks again, so
		 * that the state saved is one a fresh device can continue. */
		for (uint32_t i = 0; i < vd->nr_queues; i++)
			if (vd->queues[i].vq.notify_off)
				(void)virtq_notify_on(&vd->queues[i].vq);
		vd->quiesced = true;
	}
	pthread_mutex_unlock(&vd->lock);
	return rc;
}

void virtio_dev_resume_op(struct device *d)
{
	struct virtio_dev *vd = virtio_dev_from_device(d);

	pthread_mutex_lock(&vd->lock);
	vd->paused = vd->quiesced = false;
	/* A line that was asserted (bits still unacknowledged) is asserted
	 * again: the edge may have been lost with the old machine. */
	if (vd->int_status && !vd->dead) {
		vd->interrupts++;
		irq_line_set(&vd->irq, 1);
		irq_line_set(&vd->irq, 0);
	}
	pthread_mutex_unlock(&vd->lock);
	if (vd->ops->resume)
		vd->ops->resume(vd->priv);
	/* Kicks that arrived while paused were not served: look at every
	 * ready queue once (on the loop when there are eventfds). */
	for (uint32_t i = 0; i < vd->nr_queues; i++)
		if (virtio_dev_queue_size(vd, i) && !virtio_dev_kick_self(vd, i))
			virtio_dev_queue_notify(vd, i);
}

int virtio_dev_save_op(const struct device *d, struct state_buf *out)
{
	struct virtio_dev *vd = virtio_dev_from_device((struct device *)d);
	int rc = 0;

	pthread_mutex_lock(&vd->lock);
	if (!vd->quiesced || vd->reset_pending || virtio_dev_inflight(vd)) {
		rc = -EBUSY;
		goto out;
	}
	state_put_u64(out, vd->offered);
	state_put_u64(out, vd->driver_features);
	state_put_u64(out, vd->negotiated);
	state_put_u32(out, vd->status);
	state_put_u32(out, vd->int_status);
	state_put_u32(out, vd->config_gen);
	state_put_u32(out, vd->dev_feat_sel);
	state_put_u32(out, vd->drv_feat_sel);
	state_put_u32(out, vd->queue_sel);
	state_put_u32(out, vd->nr_queues);
	for (uint32_t i = 0; i < vd->nr_queues; i++) {
		const struct virtio_queue *q = &vd->queues[i];
		struct virtq_state st;

		virtq_get_state(&q->vq, &st);
		state_put_u32(out, q->num);
		state_put_u64(out, q->desc);
		state_put_u64(out, q->driver);
		state_put_u64(out, q->device);
		state_put_u8(out, q->vq.ready);
		state_put_u16(out, st.last_avail_idx);
		state_put_u16(out, st.used_idx);
		state_put_u16(out, st.signalled_used);
		state_put_u8(out, st.broken);
		state_put_u8(out, st.notify_off);
	}
	if (vd->ops->save)
		rc = vd->ops->save(vd->priv, out);
out:
	pthread_mutex_unlock(&vd->lock);
	return rc;
}

struct saved_queue {
	uint32_t num;
	uint64_t desc, driver, device;
	bool ready;
	struct virtq_state st;
};

struct saved_core {
	uint64_t offered, driver_features, negotiated;
	uint32_t status, int_status, config_gen, dev_feat_sel, drv_feat_sel, queue_sel;
	struct saved_queue *q;
};

static bool get_bool(struct state_reader *in, const char *field)
{
	uint8_t v = state_get_u8(in);

	state_check(in, v <= 1, field, v);
	return v;
}

/* Reads and checks the core's part; changes nothing. */
static void load_core(struct virtio_dev *vd, struct state_reader *in, struct saved_core *s)
{
	uint32_t nq;
	bool fok;

	s->offered = state_get_u64(in);
	s->driver_features = state_get_u64(in);
	s->negotiated = state_get_u64(in);
	s->status = state_get_u32(in);
	s->int_status = state_get_u32(in);
	s->config_gen = state_get_u32(in);
	s->dev_feat_sel = state_get_u32(in);
	s->drv_feat_sel = state_get_u32(in);
	s->queue_sel = state_get_u32(in);
	nq = state_get_u32(in);
	if (in->err)
		return;
	/* GUEST (snapshot): every value below is checked before use. */
	if (s->offered != vd->offered) {
		state_fail(in, "offered features 0x%llx differ from this device's 0x%llx",
			   (unsigned long long)s->offered, (unsigned long long)vd->offered);
		return;
	}
	if (!state_check(in, nq == vd->nr_queues, "queue count", nq) ||
	    !state_check(in, virtio_status_reachable(s->status), "status", s->status) ||
	    !state_check(in, !(s->int_status & ~(VIRTIO_INT_VRING | VIRTIO_INT_CONFIG)),
			 "interrupt status", s->int_status))
		return;
	fok = s->status & VIRTIO_STATUS_FEATURES_OK;
	if (fok && (s->driver_features != s->negotiated || (s->negotiated & ~s->offered) ||
		    !(s->negotiated & VIRTIO_BIT(VIRTIO_F_VERSION_1)))) {
		state_fail(in, "negotiated features 0x%llx not acceptable (offered 0x%llx)",
			   (unsigned long long)s->negotiated, (unsigned long long)s->offered);
		return;
	}
	if (!state_check(in, fok || !s->negotiated, "negotiated features before FEATURES_OK",
			 s->negotiated) ||
	    !state_check(in, (s->status & VIRTIO_STATUS_DRIVER) || !s->driver_features,
			 "driver features before DRIVER", s->driver_features))
		return;
	for (uint32_t i = 0; i < nq && !in->err; i++) {
		struct saved_queue *q = &s->q[i];

		q->num = state_get_u32(in);
		q->desc = state_get_u64(in);
		q->driver = state_get_u64(in);
		q->device = state_get_u64(in);
		q->ready = get_bool(in, "queue ready");
		q->st.last_avail_idx = state_get_u16(in);
		q->st.used_idx = state_get_u16(in);
		q->st.signalled_used = state_get_u16(in);
		q->st.broken = get_bool(in, "queue broken");
		q->st.notify_off = get_bool(in, "queue notify_off");
		if (in->err)
			return;
		if (!q->ready) {
			/* Only the registers of a queue that is not ready
			 * count (checked when the guest enables it). */
			if (q->st.last_avail_idx || q->st.used_idx || q->st.signalled_used ||
			    q->st.broken || q->st.notify_off)
				state_fail(in, "queue %u: indices on a queue that is not ready", i);
			continue;
		}
		if (!fok) {
			state_fail(in, "queue %u: ready before FEATURES_OK", i);
			return;
		}
		/* The checks a guest's QueueReady=1 goes through. */
		if (virtq_check(vd->gm, q->num, vd->ops->queue_max, q->desc, q->driver,
				q->device) < 0) {
			state_fail(in, "queue %u: bad layout (size %u desc 0x%llx driver 0x%llx "
				   "device 0x%llx)", i, q->num, (unsigned long long)q->desc,
				   (unsigned long long)q->driver, (unsigned long long)q->device);
			return;
		}
		if (!virtq_state_ok(q->num, &q->st))
			state_fail(in, "queue %u: indices out of range (last_avail %u used %u, "
				   "size %u)", i, q->st.last_avail_idx, q->st.used_idx, q->num);
	}
}

static void apply_core(struct virtio_dev *vd, const struct saved_core *s)
{
	bool event_idx = s->negotiated & VIRTIO_BIT(VIRTIO_F_EVENT_IDX);
	bool indirect = s->negotiated & VIRTIO_BIT(VIRTIO_F_INDIRECT_DESC);

	vd->driver_features = s->driver_features;
	vd->negotiated = s->negotiated;
	vd->status = s->status;
	vd->int_status = s->int_status;
	vd->config_gen = s->config_gen;
	vd->dev_feat_sel = s->dev_feat_sel;
	vd->drv_feat_sel = s->drv_feat_sel;
	vd->queue_sel = s->queue_sel;
	vd->reset_pending = false;
	for (uint32_t i = 0; i < vd->nr_queues; i++) {
		struct virtio_queue *q = &vd->queues[i];
		const struct saved_queue *sq = &s->q[i];

		/* A new generation: nothing popped before can complete. */
		virtq_disable(&q->vq);
		q->disabling = false;
		q->inflight = 0;
		q->taken = 0;
		q->num = sq->num;
		q->desc = sq->desc;
		q->driver = sq->driver;
		q->device = sq->device;
		if (sq->ready &&
		    virtq_restore(&q->vq, sq->num, vd->ops->queue_max, sq->desc, sq->driver,
				  sq->device, event_idx, indirect, &sq->st) < 0) {
			/* Checked by load_core: cannot happen. Leave the
			 * queue off and ask the driver for a reset. */
			vd->status |= VIRTIO_STATUS_NEEDS_RESET;
		}
	}
}

int virtio_dev_restore_op(struct device *d, struct state_reader *in, uint32_t version)
{
	struct virtio_dev *vd = virtio_dev_from_device(d);
	alignas(max_align_t) uint8_t scratch[256];
	struct saved_core s = {0};

	(void)version; /* 1 is the only one */
	s.q = calloc(vd->nr_queues, sizeof(*s.q));
	if (!s.q)
		return -ENOMEM;
	memset(scratch, 0, sizeof(scratch));
	pthread_mutex_lock(&vd->lock);
	load_core(vd, in, &s);
	if (!in->err && vd->ops->load)
		vd->ops->load(vd->priv, in, version, scratch);
	/* Leftover bytes are refused here, before anything changes (the
	 * registry's check comes after restore returns). */
	if (!in->err && in->off != in->len)
		state_fail(in, "section oversized (%zu bytes left over of %zu)", in->len - in->off,
			   in->len);
	if (!in->err) {
		apply_core(vd, &s);
		if (vd->ops->apply)
			vd->ops->apply(vd->priv, scratch);
	}
	pthread_mutex_unlock(&vd->lock);
	free(s.q);
	return in->err ? -EINVAL : 0;
}

void virtio_dev_stats_op(struct device *d, struct device_stats *out)
{
	struct virtio_dev *vd = virtio_dev_from_device(d);

	pthread_mutex_lock(&vd->lock);
	device_stat(out, "kicks", vd->kicks);
	device_stat(out, "interrupts", vd->interrupts);
	device_stat(out, "illegal_accesses", vd->illegal_accesses);
	device_stat(out, "broken_queues", vd->broken_queues);
	if (vd->ops->stats)
		vd->ops->stats(vd->priv, out);
	pthread_mutex_unlock(&vd->lock);
}
