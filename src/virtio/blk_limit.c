/* virtio-blk rate limit: a token bucket (ratelimit.h) with a bytes bucket
 * (bps, one-time burst) and an operations bucket (iops), each holding one
 * second's worth and refilled in 1000 ms.
 *
 * Costs. Every request that reaches the parser costs 1 operation, whatever
 * its type and whether it turns out valid. A read or write costs its data
 * bytes too; FLUSH, GET_ID, DISCARD and WRITE_ZEROES cost no bytes (the
 * length of a discard is not data moved through the guest's buffers).
 *
 * A request is only known after it was popped, so one the limiter refuses
 * is parked: it stays in flight for the core, nothing else is taken (the
 * guest's order is kept), and a timerfd armed for rate_limiter_wait_ns
 * brings the queue back. Pause gives a parked request back to the ring
 * (last_avail_idx one back: it was the last chain popped, since a blocked
 * device pops nothing), so a saved state holds none and the restored device
 * takes it again. A reset waits for the parked request like for any in
 * flight; the timer drops it (at most one refill time, 1 s, later). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "virtio/blk_priv.h"

#define NS_PER_SEC 1000000000ull

static uint64_t cost_bytes(const struct blk_req *r)
{
	if (r->st != BLK_SUBMIT || (r->d.op != DISK_READ && r->d.op != DISK_WRITE))
		return 0;
	return r->d.len;
}

static void arm(struct virtio_blk *b, uint64_t ns)
{
	struct itimerspec its = {0};

	if (b->timer_armed)
		return;
	if (ns == 0)
		ns = 1; /* 0 would disarm: look again at once */
	b->timer_ns = ns;
	b->timer_armed = true;
	if (b->timer_fd < 0)
		return; /* tests fire it by hand */
	its.it_value.tv_sec = (time_t)(ns / NS_PER_SEC);
	its.it_value.tv_nsec = (long)(ns % NS_PER_SEC);
	if (timerfd_settime(b->timer_fd, 0, &its, NULL) < 0) {
		log_err(b->vd.name, "timerfd_settime: %s", strerror(errno));
		b->timer_armed = false;
	}
}

static void disarm(struct virtio_blk *b)
{
	struct itimerspec its = {0};

	if (b->timer_armed && b->timer_fd >= 0 && timerfd_settime(b->timer_fd, 0, &its, NULL) < 0)
		log_err(b->vd.name, "timerfd_settime: %s", strerror(errno));
	b->timer_armed = false;
}

/* True when r may start now; else arms the timer for it. */
static bool try_consume(struct virtio_blk *b, const struct blk_req *r)
{
	uint64_t now = b->now(), bytes = cost_bytes(r);

	if (rate_limiter_consume(&b->rl, bytes, 1, now))
		return true;
	arm(b, rate_limiter_wait_ns(&b->rl, bytes, 1, now));
	return false;
}

bool blk_limit_admit(struct virtio_blk *b, struct blk_req *r)
{
	if (!rate_limiter_enabled(&b->rl) || try_consume(b, r))
		return true;
	b->parked = r;
	b->limited++;
	return false;
}

/* A parked request whose queue was reset or disabled since: the driver
 * gets nothing back (the core writes nothing for a stale chain), and a
 * reset waiting for it can finish. */
static void drop_parked(struct virtio_blk *b)
{
	struct blk_req *r = b->parked;

	b->parked = NULL;
	virtio_dev_drop(&b->vd, r->qidx);
	free(r);
}

struct blk_req *blk_limit_unpark(struct virtio_blk *b)
{
	struct blk_req *r = b->parked;

	if (!virtio_dev_live(&b->vd, r->qidx, r->gen)) {
		drop_parked(b);
		return NULL;
	}
	if (!try_consume(b, r))
		return NULL;
	b->parked = NULL;
	return r;
}

void virtio_blk_limit_fire(struct virtio_blk *b)
{
	virtio_dev_lock(&b->vd);
	b->timer_armed = false;
	if (b->parked && !virtio_dev_live(&b->vd, b->parked->qidx, b->parked->gen))
		drop_parked(b); /* queue_notify will not run on a resetting queue */
	virtio_dev_unlock(&b->vd);
	/* Takes the lock; runs nothing while paused (resume looks again). */
	virtio_dev_queue_notify(&b->vd, 0);
}

uint64_t virtio_blk_limit_wait_ns(struct virtio_blk *b)
{
	uint64_t ns;

	virtio_dev_lock(&b->vd);
	ns = b->timer_armed ? b->timer_ns : 0;
	virtio_dev_unlock(&b->vd);
	return ns;
}

static void on_timer(void *ctx, uint32_t events)
{
	struct virtio_blk *b = ctx;
	uint64_t expirations;

	(void)events;
	if (read(b->timer_fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: a timer re-armed meanwhile; look at the queue anyway. */
	}
	virtio_blk_limit_fire(b);
}

void blk_limit_pause(struct virtio_blk *b)
{
	struct blk_req *r = b->parked;

	disarm(b);
	if (!r)
		return;
	b->parked = NULL;
	/* The last chain popped (a blocked device pops nothing), so the core
	 * can put the guest's request back in the ring; resume (or a restored
	 * device) re-kicks the queue and pops it afresh. The guest saw nothing
	 * of it: the status byte and the used ring are written only at
	 * completion (GET_ID's id may be in its buffer already, which the
	 * device owns). */
	virtio_dev_unpop(&b->vd, r->qidx, r->gen);
	free(r);
}

void blk_limit_reset(struct virtio_blk *b)
{
	disarm(b); /* nothing is parked: it would still be in flight */
}

void blk_limit_save(struct virtio_blk *b, struct state_buf *out)
{
	rate_limiter_save(&b->rl, out);
}

static bool bucket_is(const struct token_bucket *t, const struct token_bucket_config *c)
{
	return t->size == c->size && t->one_time_burst == c->one_time_burst &&
	       t->refill_time_ms == c->refill_time_ms;
}

void blk_limit_load(struct virtio_blk *b, struct state_reader *in, struct rate_limiter *out)
{
	/* GUEST (snapshot): the limiter checks its fields against each other;
	 * the limits themselves are this device's configuration. */
	if (in->err || rate_limiter_restore(out, in, b->now()) < 0)
		return;
	if (!bucket_is(&out->bytes, &b->rl_cfg.bandwidth) || !bucket_is(&out->ops, &b->rl_cfg.ops))
		state_fail(in,
			   "rate limit (%llu B/s burst %llu, %llu op/s) differs from this "
			   "device's (%llu B/s burst %llu, %llu op/s)",
			   (unsigned long long)out->bytes.size,
			   (unsigned long long)out->bytes.one_time_burst,
			   (unsigned long long)out->ops.size,
			   (unsigned long long)b->rl_cfg.bandwidth.size,
			   (unsigned long long)b->rl_cfg.bandwidth.one_time_burst,
			   (unsigned long long)b->rl_cfg.ops.size);
}

void blk_limit_apply(struct virtio_blk *b, const struct rate_limiter *rl)
{
	disarm(b);
	/* A restore replaces the queues: a chain parked before is gone with
	 * them (the core forgot it), only its memory is ours to free. */
	free(b->parked);
	b->parked = NULL;
	b->rl = *rl;
}

/* The refill timer on the loop, once a limit exists (none in tests
 * without a loop: they fire it by hand). */
static int timer_open(struct virtio_blk *b)
{
	int err;

	if (b->timer_fd >= 0 || !b->loop)
		return 0;
	b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (b->timer_fd < 0)
		return -errno;
	err = ev_add(b->loop, b->timer_fd, EPOLLIN, on_timer, b);
	if (err < 0) {
		close(b->timer_fd);
		b->timer_fd = -1;
	}
	return err;
}

int blk_limit_init(struct virtio_blk *b, const struct virtio_blk_opts *o, struct evloop *loop)
{
	struct rate_limiter_config *c = &b->rl_cfg;
	int err;

	b->timer_fd = -1;
	b->loop = loop;
	b->now = o->now ? o->now : clock_mono_ns;
	if (o->burst && !o->bps)
		return -EINVAL; /* a burst for a bucket that does not exist */
	memset(c, 0, sizeof(*c));
	c->bandwidth = (struct token_bucket_config){o->bps, o->burst, o->bps ? 1000 : 0};
	c->ops = (struct token_bucket_config){o->iops, 0, o->iops ? 1000 : 0};
	if (o->rl && (o->rl->bandwidth.size || o->rl->ops.size))
		*c = *o->rl;
	err = rate_limiter_init(&b->rl, c, b->now());
	if (err < 0 || !rate_limiter_enabled(&b->rl))
		return err;
	return timer_open(b);
}

int virtio_blk_set_rate_limiter(struct virtio_blk *b, const struct rate_limiter_config *rl)
{
	struct rate_limiter check;
	int err;

	/* Refused limits change nothing, not even the timer. */
	err = rate_limiter_init(&check, rl, b->now());
	if (err < 0)
		return err;
	if (rate_limiter_enabled(&check) && (err = timer_open(b)) < 0)
		return err;
	virtio_dev_lock(&b->vd);
	err = rate_limiter_update(&b->rl, rl, b->now());
	if (!err) {
		b->rl_cfg = *rl;
		if (b->parked) {
			/* Waiting for the old limits: look again now. */
			disarm(b);
			arm(b, 1);
		}
	}
	virtio_dev_unlock(&b->vd);
	return err;
}

void blk_limit_free(struct virtio_blk *b)
{
	if (b->timer_fd >= 0) {
		ev_del(b->loop, b->timer_fd);
		close(b->timer_fd);
		b->timer_fd = -1;
	}
	free(b->parked); /* the device is dying: the core forgets its chains */
	b->parked = NULL;
}
