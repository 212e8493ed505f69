/* virtio-net rate limiters, one each way, Firecracker's model: a bytes
 * bucket (frame bytes, without the vnet header) and an ops bucket (one op
 * per frame). RX peeks before a read, TX takes per frame; a queue the
 * limiter holds back waits on its timerfd, whose expiry (or a test, by
 * hand) notifies the queue again. virtio_net_set_rate_limiter changes
 * them while the device runs (PATCH /network-interfaces/{id}). */
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
	if (peek ? !rate_limiter_wait_ns(&l->rl, bytes, 1, now)
		 : rate_limiter_consume(&l->rl, bytes, 1, now))
		return true;
	arm(l, rate_limiter_wait_ns(&l->rl, bytes, 1, now));
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

/* The refill timer on the loop, once a limit exists (none in tests
 * without a loop: they fire it by hand). */
static int timer_open(struct net_limit *l)
{
	struct virtio_net *n = l->n;
	int err;

	if (l->timer_fd >= 0 || !n->loop)
		return 0;
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

static bool limits_anything(const struct rate_limiter_config *c)
{
	return c && ((c->bandwidth.size && c->bandwidth.refill_time_ms) ||
		     (c->ops.size && c->ops.refill_time_ms));
}

int net_limit_init(struct virtio_net *n, uint32_t q, uint64_t bps,
		   const struct rate_limiter_config *cfg)
{
	struct net_limit *l = &n->lim[q];
	int err;

	l->n = n;
	l->qidx = q;
	l->timer_fd = -1;
	memset(&l->cfg, 0, sizeof(l->cfg));
	if (limits_anything(cfg))
		l->cfg = *cfg;
	else /* One second's worth, refilled evenly over 1000 ms, as --disk bps=. */
		l->cfg.bandwidth = (struct token_bucket_config){bps, 0, bps ? 1000 : 0};
	err = rate_limiter_init(&l->rl, &l->cfg, n->now());
	if (err < 0 || !rate_limiter_enabled(&l->rl))
		return err;
	return timer_open(l);
}

int virtio_net_set_rate_limiter(struct virtio_net *n, const struct rate_limiter_config *rx,
				const struct rate_limiter_config *tx)
{
	const struct rate_limiter_config *want[2] = {rx, tx};
	bool kick[2] = {false, false};
	struct rate_limiter check;
	int err;

	/* Refused limits change nothing, not even a timer. */
	for (int q = 0; q < 2; q++) {
		if (!want[q])
			continue;
		err = rate_limiter_init(&check, want[q], n->now());
		if (err < 0)
			return err;
		if (rate_limiter_enabled(&check) && (err = timer_open(&n->lim[q])) < 0)
			return err;
	}
	virtio_dev_lock(&n->vd);
	for (int q = 0; q < 2; q++) {
		struct net_limit *l = &n->lim[q];

		if (!want[q])
			continue;
		/* Checked above: update takes what init took. */
		if (rate_limiter_update(&l->rl, want[q], n->now()) < 0)
			continue;
		l->cfg = *want[q];
		/* Waiting for the old limits: look again now. */
		kick[q] = l->armed;
		net_limit_disarm(l);
	}
	virtio_dev_unlock(&n->vd);
	for (int q = 0; q < 2; q++)
		if (kick[q]) /* takes the lock; nothing runs while paused */
			virtio_dev_queue_notify(&n->vd, (uint32_t)q);
	return 0;
}

void virtio_net_rate_limiter(struct virtio_net *n, struct rate_limiter_config *rx,
			     struct rate_limiter_config *tx)
{
	virtio_dev_lock(&n->vd);
	*rx = n->lim[0].cfg;
	*tx = n->lim[1].cfg;
	virtio_dev_unlock(&n->vd);
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
