/* How a queue kick reaches its device. One eventfd per queue (KVM's
 * ioeventfd writes it, so a kick costs no exit to kite) runs
 * virtio_dev_queue_notify on the event loop with a fresh work budget;
 * devices may then poll a queue with the driver's kicks turned off
 * (notify_off/notify_on), and a queue re-signals its own eventfd to be
 * served again later (kick_self). */
#include "virtio/core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

void virtio_dev_set_kick(struct virtio_dev *vd, void (*kick)(void *ctx, uint32_t qidx),
			 void *ctx)
{
	vd->kick = kick;
	vd->kick_ctx = ctx;
}

static void eventfd_kick(void *ctx, uint32_t qidx)
{
	struct virtio_dev *vd = ctx;
	uint64_t one = 1;

	/* qidx < nr_queues was checked by the caller. A full counter
	 * (EAGAIN) already means "kicked". */
	if (write(vd->queues[qidx].notify_fd, &one, sizeof(one)) < 0) {
	}
}

static void eventfd_ready(void *ctx, uint32_t events)
{
	struct virtio_queue *q = ctx;
	uint64_t n;

	(void)events;
	if (read(q->notify_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wake-up already drained it; still harmless
		 * to look at the queue. */
	}
	virtio_dev_queue_notify(q->vd, q->idx);
}

int virtio_dev_setup_eventfds(struct virtio_dev *vd, struct evloop *loop)
{
	int err;

	vd->loop = loop;
	for (uint32_t i = 0; i < vd->nr_queues; i++) {
		struct virtio_queue *q = &vd->queues[i];

		q->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->notify_fd < 0)
			return -errno;
		err = ev_add(loop, q->notify_fd, EPOLLIN, eventfd_ready, q);
		if (err < 0) {
			close(q->notify_fd);
			q->notify_fd = -1;
			return err;
		}
	}
	virtio_dev_set_kick(vd, eventfd_kick, vd);
	return 0;
}

void virtio_dev_free(struct virtio_dev *vd)
{
	if (!vd->queues)
		return;
	for (uint32_t i = 0; i < vd->nr_queues; i++) {
		int fd = vd->queues[i].notify_fd;

		if (fd < 0)
			continue;
		if (vd->loop)
			ev_del(vd->loop, fd);
		close(fd);
	}
	free(vd->queues);
	vd->queues = NULL;
	pthread_mutex_destroy(&vd->lock);
}

int virtio_dev_queue_eventfd(const struct virtio_dev *vd, uint32_t qidx)
{
	return qidx < vd->nr_queues ? vd->queues[qidx].notify_fd : -1;
}

void virtio_dev_kick(struct virtio_dev *vd, uint32_t qidx)
{
	if (qidx >= vd->nr_queues)
		return;
	if (vd->kick)
		vd->kick(vd->kick_ctx, qidx);
	else
		virtio_dev_queue_notify(vd, qidx);
}

void virtio_dev_queue_notify(struct virtio_dev *vd, uint32_t qidx)
{
	void (*poll)(void *dev, uint32_t qidx) = NULL;
	struct virtio_queue *q;
	int err;

	if (qidx >= vd->nr_queues)
		return;
	pthread_mutex_lock(&vd->lock);
	q = &vd->queues[qidx];
	/* A kick can arrive late (eventfd) after a reset, or while paused
	 * (resume kicks every ready queue again): check the state now. */
	if ((vd->status & VIRTIO_STATUS_DRIVER_OK) && !(vd->status & VIRTIO_STATUS_FAILED) &&
	    q->vq.ready && !q->vq.broken && !q->disabling && !vd->reset_pending &&
	    !vd->paused && !vd->dead) {
		vd->kicks++;
		q->taken = 0;
		err = vd->ops->queue_notify(vd->priv, qidx);
		if (err < 0)
			log_err(vd->name, "queue %u: %s", qidx, strerror(-err));
		else
			poll = vd->ops->poll;
	}
	pthread_mutex_unlock(&vd->lock);
	if (poll)
		poll(vd->priv, qidx);
}

void virtio_dev_notify_off(struct virtio_dev *vd, uint32_t qidx)
{
	pthread_mutex_lock(&vd->lock);
	if (qidx < vd->nr_queues && (vd->status & VIRTIO_STATUS_DRIVER_OK) && !vd->paused)
		virtq_notify_off(&vd->queues[qidx].vq);
	pthread_mutex_unlock(&vd->lock);
}

bool virtio_dev_kick_self(struct virtio_dev *vd, uint32_t qidx)
{
	if (qidx >= vd->nr_queues || vd->queues[qidx].notify_fd < 0)
		return false;
	eventfd_kick(vd, qidx);
	return true;
}

uint32_t virtio_dev_queue_size(const struct virtio_dev *vd, uint32_t qidx)
{
	return qidx < vd->nr_queues && vd->queues[qidx].vq.ready ? vd->queues[qidx].vq.size : 0;
}

bool virtio_dev_notify_on(struct virtio_dev *vd, uint32_t qidx)
{
	bool pending = false;

	pthread_mutex_lock(&vd->lock);
	if (qidx < vd->nr_queues)
		pending = virtq_notify_on(&vd->queues[qidx].vq) &&
			  (vd->status & VIRTIO_STATUS_DRIVER_OK) && !vd->queues[qidx].vq.broken;
	pthread_mutex_unlock(&vd->lock);
	return pending;
}
