/* virtio-vsock's one timer: half-open connections' deadlines, the sweep
 * of connections a driver reset left to the loop thread, and retrying a
 * listener paused for want of descriptors. It ticks only while one of
 * those is pending. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "virtio/vsock_priv.h"

void vsock_timer_set(struct virtio_vsock *v, bool on)
{
	/* A coarse tick: deadlines are seconds, so a scan of at most
	 * VSOCK_MAX_CONNS every quarter of one costs nothing. */
	struct itimerspec its = {0};

	if (on == v->timer_armed)
		return;
	if (on) {
		its.it_value.tv_nsec = 250 * 1000000L;
		its.it_interval = its.it_value;
	}
	if (timerfd_settime(v->timer_fd, 0, &its, NULL) == 0)
		v->timer_armed = on;
	else
		log_err(v->vd.name, "timerfd_settime: %s", strerror(errno));
}

void vsock_conn_half_open(struct vsock_conn *c, bool on)
{
	c->deadline_ns = on ? clock_mono_ns() + c->v->half_open_ms * 1000000ull : 0;
	if (on)
		vsock_timer_set(c->v, true);
}

void vsock_timer_soon(struct virtio_vsock *v)
{
	struct itimerspec its = {.it_value.tv_nsec = 1000000L, .it_interval.tv_nsec = 250000000L};

	if (timerfd_settime(v->timer_fd, 0, &its, NULL) == 0)
		v->timer_armed = true;
}

/* Closes what outstayed its deadline, and what an older epoch left;
 * returns whether a deadline is still pending. */
static bool expire(struct virtio_vsock *v, uint64_t now)
{
	bool left = false;

	for (uint32_t b = 0; b < VSOCK_HASH; b++) {
		struct vsock_conn *c = v->hash[b], *next;

		for (; c; c = next) {
			next = c->hnext;
			if (c->epoch != v->epoch) {
				vsock_conn_free(c);
				continue;
			}
			if (!c->deadline_ns)
				continue;
			if (c->deadline_ns > now) {
				left = true;
				continue;
			}
			v->st.timeouts++;
			if (c->state == CONN_CMD)
				vsock_conn_free(c);
			else
				vsock_conn_reset(c);
		}
	}
	return left;
}

static void timer_ready(void *ctx, uint32_t events)
{
	struct virtio_vsock *v = ctx;
	uint64_t ticks;

	(void)events;
	if (read(v->timer_fd, &ticks, sizeof(ticks)) < 0) {
		/* EAGAIN: a tick raced a disarm; scan anyway. */
	}
	virtio_dev_lock(&v->vd);
	if (v->listen_paused && ev_mod(v->loop, v->listen_fd, EPOLLIN) == 0)
		v->listen_paused = false;
	if (!expire(v, clock_mono_ns()) && !v->listen_paused)
		vsock_timer_set(v, false);
	vsock_rx_process(v);
	virtio_dev_unlock(&v->vd);
}

int vsock_timer_open(struct virtio_vsock *v)
{
	int err;

	v->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (v->timer_fd < 0)
		return -errno;
	err = ev_add(v->loop, v->timer_fd, EPOLLIN, timer_ready, v);
	if (err < 0) {
		close(v->timer_fd);
		v->timer_fd = -1;
	}
	return err;
}

void vsock_timer_close(struct virtio_vsock *v)
{
	if (v->timer_fd < 0)
		return;
	ev_del(v->loop, v->timer_fd);
	close(v->timer_fd);
	v->timer_fd = -1;
}
