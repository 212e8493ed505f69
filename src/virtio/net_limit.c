/* virtio-net rate limits, one token bucket each way (a second's worth of
 * bytes, refilled over 1000 ms, as --disk bps=): RX peeks before a read,
 * TX takes per frame; a queue the limit holds back waits on its timerfd,
 * whose expiry (or a test, by hand) notifies the queue again. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "virtio/net_priv.h"

#define NS_PER_SEC 1000000000ull

static void arm(struct net_limit *l, uint64_t ns)
{
	struct itimerspec its = {0};

	l->events++;
	if (l->armed)
		return;
	if (ns == 0)
		ns = 1; /* 0 would disarm */
	l->wait_ns = ns;
	l->armed = true;
	if (l->timer_fd < 0)
		return; /* tests fire it by hand */
	its.it_value.tv_sec = (time_t)(ns / NS_PER_SEC);
	its.it_value.tv_nsec = (long)(ns % NS_PER_SEC);
	if (timerfd_settime(l->timer_fd, 0, &its, NULL) < 0) {
		log_err(l->n->vd.name, "timerfd_settime: %s", strerror(errno));
		l->armed = false;
	}
}

void net_limit_disarm(struct net_limit *l)
{
	struct itimerspec its = {0};

	if (l->armed && l->timer_fd >= 0 && timerfd_settime(l->timer_fd, 0, &its, NULL) < 0)
		log_err(l->n->vd.name, "timerfd_settime: %s", strerror(errno));
	l->armed = false;
}

bool net_limit_take(struct virtio_net *n, uint32_t qidx, uint64_t bytes, bool peek)
{
	struct net_limit *l = &n->lim[qidx];
	uint64_t now;

	if (!rate_limiter_enabled(&l->rl))
		return true;
	now = n->now();
	if (peek ? !rate_limiter_wait_ns(&l->rl, bytes, 0, now)
		 : rate_limiter_consume(&l->rl, bytes, 0, now))
		return true;
	arm(l, rate_limiter_wait_ns(&l->rl, bytes, 0, now));
	return false;
}

void virtio_net_limit_fire(struct virtio_net *n, uint32_t qidx)
{
	if (qidx > VIRTIO_NET_TXQ)
		return;
	virtio_dev_lock(&n->vd);
	n->lim[qidx].armed = false;
	virtio_dev_unlock(&n->vd);
	/* Takes the lock; runs nothing while paused (resume kicks again). */
	virtio_dev_queue_notify(&n->vd, qidx);
}

static void on_timer(void *ctx, uint32_t events)
{
	struct net_limit *l = ctx;
	uint64_t expirations;

	(void)events;
	if (read(l->timer_fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: re-armed meanwhile; look at the queue anyway. */
	}
	virtio_net_limit_fire(l->n, l->qidx);
}

int net_limit_init(struct virtio_net *n, uint32_t q, uint64_t bps)
{
	struct net_limit *l = &n->lim[q];
	int err;

	l->n = n;
	l->qidx = q;
	l->timer_fd = -1;
	memset(&l->cfg, 0, sizeof(l->cfg));
	/* One second's worth, refilled evenly over 1000 ms, as --disk bps=. */
	l->cfg.bandwidth = (struct token_bucket_config){bps, 0, bps ? 1000 : 0};
	err = rate_limiter_init(&l->rl, &l->cfg, n->now());
	if (err < 0 || !bps || !n->loop)
		return err;
	l->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->timer_fd < 0)
		return -errno;
	err = ev_add(n->loop, l->timer_fd, EPOLLIN, on_timer, l);
	if (err < 0) {
		close(l->timer_fd);
		l->timer_fd = -1;
	}
	return err;
}

void net_limit_free(struct virtio_net *n, uint32_t q)
{
	struct net_limit *l = &n->lim[q];

	if (l->timer_fd < 0)
		return;
	ev_del(n->loop, l->timer_fd);
	close(l->timer_fd);
	l->timer_fd = -1;
}
