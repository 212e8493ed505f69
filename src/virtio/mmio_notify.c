/* virtio-mmio notifications: how a queue kick reaches its device. One
 * eventfd per queue (KVM's ioeventfd writes it, so a kick costs no exit to
 * kite) runs virtio_mmio_queue_notify on the event loop; devices may then
 * poll a queue with the driver's kicks turned off (notify_off/notify_on), and
 * re-signal a queue's eventfd to be called again later (kick_self). The
 * register window and state machine are in mmio.c. */
#include "virtio/mmio.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"

void virtio_mmio_set_kick(struct virtio_mmio *t, void (*kick)(void *ctx, uint32_t qidx),
			  void *ctx)
{
	t->kick = kick;
	t->kick_ctx = ctx;
}

static void eventfd_kick(void *ctx, uint32_t qidx)
{
	struct virtio_mmio *t = ctx;
	uint64_t one = 1;

	/* qidx < nr_queues was checked by the write handler. A full counter
	 * (EAGAIN) already means "kicked". */
	if (write(t->queues[qidx].notify_fd, &one, sizeof(one)) < 0) {
	}
}

static void eventfd_ready(void *ctx, uint32_t events)
{
	struct virtio_mmio_queue *q = ctx;
	uint64_t n;

	(void)events;
	if (read(q->notify_fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: another wake-up already drained it; still harmless
		 * to look at the queue. */
	}
	virtio_mmio_queue_notify(q->t, q->idx);
}

int virtio_mmio_setup_eventfds(struct virtio_mmio *t, struct evloop *loop)
{
	int err;

	t->loop = loop;
	for (uint32_t i = 0; i < t->nr_queues; i++) {
		struct virtio_mmio_queue *q = &t->queues[i];

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
	virtio_mmio_set_kick(t, eventfd_kick, t);
	return 0;
}

int virtio_mmio_queue_eventfd(const struct virtio_mmio *t, uint32_t qidx)
{
	return qidx < t->nr_queues ? t->queues[qidx].notify_fd : -1;
}

void virtio_mmio_queue_notify(struct virtio_mmio *t, uint32_t qidx)
{
	void (*poll)(void *dev, uint32_t qidx) = NULL;
	struct virtio_mmio_queue *q;
	int err;

	if (qidx >= t->nr_queues)
		return;
	pthread_mutex_lock(&t->lock);
	q = &t->queues[qidx];
	/* A kick can arrive late (eventfd) after a reset: check state now. */
	if ((t->status & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_FAILED) &&
	    q->vq.ready && !q->vq.broken) {
		err = t->ops->queue_notify(t->dev, qidx);
		if (err < 0)
			log_err(t->name, "queue %u: %s", qidx, strerror(-err));
		else
			poll = t->ops->poll;
	}
	pthread_mutex_unlock(&t->lock);
	if (poll)
		poll(t->dev, qidx);
}

void virtio_mmio_notify_off(struct virtio_mmio *t, uint32_t qidx)
{
	pthread_mutex_lock(&t->lock);
	if (qidx < t->nr_queues && (t->status & VIRTIO_STATUS_DRIVER_OK))
		virtq_notify_off(&t->queues[qidx].vq);
	pthread_mutex_unlock(&t->lock);
}

bool virtio_mmio_kick_self(struct virtio_mmio *t, uint32_t qidx)
{
	if (qidx >= t->nr_queues || t->queues[qidx].notify_fd < 0)
		return false;
	eventfd_kick(t, qidx);
	return true;
}

uint32_t virtio_mmio_queue_size(const struct virtio_mmio *t, uint32_t qidx)
{
	return qidx < t->nr_queues && t->queues[qidx].vq.ready ? t->queues[qidx].vq.size : 0;
}

bool virtio_mmio_notify_on(struct virtio_mmio *t, uint32_t qidx)
{
	bool pending = false;

	pthread_mutex_lock(&t->lock);
	if (qidx < t->nr_queues)
		pending = virtq_notify_on(&t->queues[qidx].vq) &&
			  (t->status & VIRTIO_STATUS_DRIVER_OK) && !t->queues[qidx].vq.broken;
	pthread_mutex_unlock(&t->lock);
	return pending;
}
