/* virtio-rng: one request queue; each chain's writable buffers are filled
 * from getrandom(). With a byte-rate limit, the bytes bucket of a token
 * bucket (ratelimit.h) decides how many bytes the guest gets now; when it is
 * empty the queue is left alone and a timerfd on the event loop brings the
 * device back once tokens accrue. Its state section (after the core's):
 * u64 rate, the limiter (rate_limiter_save), u8 blocked (the refill timer
 * was armed). virtio_rng_set_rate_limiter changes the limiter while the
 * device runs (kite's PATCH /entropy); the rate is then 0, the limiter
 * being the configuration from then on. */
#include "virtio/rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "ratelimit.h"

#define RNG_QUEUE_MAX 256
#define RNG_MIN_BURST 64u

struct virtio_rng {
	struct virtio_dev vd;
	struct evloop *loop;
	uint64_t rate; /* bytes per second (virtio_rng_new), 0 otherwise */
	bool limited;  /* cfg limits something: rate, or a Firecracker limiter */
	struct rate_limiter_config cfg;
	struct rate_limiter rl;
	int timer_fd;
	bool timer_armed;
	bool blocked; /* pause found the timer armed: re-armed on resume */
	uint64_t bytes; /* given to the guest */
	struct virtq_chain chain;
};

/* One second's worth, but at least RNG_MIN_BURST so that a small rate still
 * fills a typical request in one go; the refill time then stretches so that
 * the long-run rate stays `rate` (rounded up: never faster). */
static void rng_limit_config(uint64_t rate, struct rate_limiter_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!rate)
		return;
	cfg->bandwidth.size = MAX(rate, (uint64_t)RNG_MIN_BURST);
	cfg->bandwidth.refill_time_ms = rate >= RNG_MIN_BURST ? 1000 :
					(RNG_MIN_BURST * 1000ull + rate - 1) / rate;
}

static bool bucket_on(const struct token_bucket_config *c)
{
	return c->size && c->refill_time_ms;
}

/* Each request costs one operation when the ops bucket is on. */
static uint64_t ops_cost(const struct virtio_rng *r)
{
	return bucket_on(&r->cfg.ops) ? 1 : 0;
}

/* Bytes the limiter lets through now (at most `max`); 0 when a request
 * must wait, for bytes or for an operation. A consume of nothing refills
 * the buckets to now. */
static uint64_t available(struct virtio_rng *r, uint64_t now, uint64_t max)
{
	(void)rate_limiter_consume(&r->rl, 0, 0, now);
	if (rate_limiter_wait_ns(&r->rl, 0, ops_cost(r), now))
		return 0;
	if (!bucket_on(&r->cfg.bandwidth))
		return max;
	/* <= size: no overflow */
	return MIN(max, r->rl.bytes.budget + r->rl.bytes.burst_left);
}

static void arm_timer(struct virtio_rng *r)
{
	uint64_t need = MIN((uint64_t)RNG_MIN_BURST, r->cfg.bandwidth.size);
	uint64_t ns = rate_limiter_wait_ns(&r->rl, need, ops_cost(r), clock_mono_ns());
	struct itimerspec its = {0};

	if (r->timer_armed)
		return;
	if (ns == 0)
		ns = 1; /* 0 would disarm: look again at once */
	its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(ns % 1000000000ull);
	if (timerfd_settime(r->timer_fd, 0, &its, NULL) == 0)
		r->timer_armed = true;
	else
		log_err(r->vd.name, "timerfd_settime: %s", strerror(errno));
}

/* Fills up to `max` bytes into the chain's writable buffers. Returns the
 * number written; a getrandom failure (a host problem) ends the fill. */
static uint32_t fill(struct virtio_rng *r, const struct virtq_chain *c, uint32_t max)
{
	uint32_t done = 0;

	/* Device-readable buffers carry nothing for this device: skipped. */
	for (uint32_t i = c->nr_out; i < c->nr && done < max; i++) {
		/* GUEST: buffer bounds checked by virtq_pop; we write at
		 * most len bytes of it. */
		uint8_t *p = c->buf[i].host;
		uint32_t want = MIN(c->buf[i].len, max - done);
		uint32_t got = 0;

		while (got < want) {
			ssize_t n = getrandom(p + got, want - got, 0);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				log_err(r->vd.name, "getrandom: %s", strerror(errno));
				return done + got;
			}
			got += (uint32_t)n;
		}
		done += got;
	}
	return done;
}

static int rng_queue_notify(void *dev, uint32_t qidx)
{
	struct virtio_rng *r = dev;
	uint64_t now = clock_mono_ns();

	for (;;) {
		uint64_t max = VIRTIO_RNG_MAX_REQ;
		uint32_t n;

		if (r->limited) {
			max = available(r, now, max);
			if (!max) {
				/* Leave the rest queued until tokens accrue. */
				arm_timer(r);
				break;
			}
		}
		/* A queue's worth per call: the core re-signals the queue. */
		if (virtio_dev_pop(&r->vd, qidx, &r->chain) <= 0)
			break;
		n = fill(r, &r->chain, (uint32_t)max);
		/* n <= what was available at the same instant: always passes. */
		if (r->limited)
			(void)rate_limiter_consume(&r->rl, n, ops_cost(r), now);
		r->bytes += n;
		virtio_dev_push(&r->vd, qidx, r->chain.gen, r->chain.head, n);
	}
	virtio_dev_notify(&r->vd, qidx);
	return 0;
}

static void rng_timer(void *ctx, uint32_t events)
{
	struct virtio_rng *r = ctx;
	uint64_t expirations;

	(void)events;
	if (read(r->timer_fd, &expirations, sizeof(expirations)) < 0) {
		/* EAGAIN: spurious wake-up; look at the queue anyway. */
	}
	virtio_dev_lock(&r->vd);
	r->timer_armed = false;
	virtio_dev_unlock(&r->vd);
	/* Takes the lock and checks the queue is still live (and the device
	 * not paused: resume looks at the queue again). */
	virtio_dev_queue_notify(&r->vd, 0);
}

static uint64_t rng_features(void *dev)
{
	(void)dev;
	return 0;
}

static void rng_reset(void *dev)
{
	(void)dev;
	/* Nothing in flight: requests complete inside queue_notify. A timer
	 * still armed finds the queue not ready and does nothing. */
}

static void disarm_timer(struct virtio_rng *r)
{
	struct itimerspec its = {0};

	if (r->timer_armed && timerfd_settime(r->timer_fd, 0, &its, NULL) < 0)
		log_err(r->vd.name, "timerfd_settime: %s", strerror(errno));
	r->timer_armed = false;
}

/* Nothing is in flight (requests complete inside queue_notify); only the
 * refill timer is stopped, and started again on resume. */
static int rng_pause(void *dev)
{
	struct virtio_rng *r = dev;

	virtio_dev_lock(&r->vd);
	r->blocked = r->timer_armed;
	disarm_timer(r);
	virtio_dev_unlock(&r->vd);
	return 0;
}

static void rng_resume(void *dev)
{
	struct virtio_rng *r = dev;

	virtio_dev_lock(&r->vd);
	if (r->blocked && r->limited)
		arm_timer(r);
	r->blocked = false;
	virtio_dev_unlock(&r->vd);
}

static int rng_save(void *dev, struct state_buf *out)
{
	struct virtio_rng *r = dev;

	state_put_u64(out, r->rate);
	rate_limiter_save(&r->rl, out);
	state_put_u8(out, r->blocked);
	return 0;
}

struct rng_saved {
	struct rate_limiter rl;
	bool blocked;
};

static bool bucket_is(const struct token_bucket *b, const struct token_bucket_config *c)
{
	return b->size == c->size && b->one_time_burst == c->one_time_burst &&
	       b->refill_time_ms == c->refill_time_ms;
}

static void rng_load(void *dev, struct state_reader *in, uint32_t version, void *scratch)
{
	struct virtio_rng *r = dev;
	struct rng_saved *s = scratch;
	uint64_t rate = state_get_u64(in);
	uint8_t blocked;

	(void)version;
	if (!in->err && rate != r->rate) {
		/* GUEST (snapshot): the limit is this device's configuration. */
		state_fail(in, "rate limit %llu B/s differs from this device's %llu B/s",
			   (unsigned long long)rate, (unsigned long long)r->rate);
		return;
	}
	/* The limiter checks its own fields against each other (the bucket
	 * cannot hold more than its size, ...); its buckets must also be the
	 * ones this rate makes. */
	if (!in->err && rate_limiter_restore(&s->rl, in, clock_mono_ns()) < 0)
		return;
	if (!in->err && (!bucket_is(&s->rl.bytes, &r->cfg.bandwidth) ||
			 !bucket_is(&s->rl.ops, &r->cfg.ops))) {
		state_fail(in, "token bucket (size %llu, refill %llu ms) is not the one of "
			   "%llu B/s", (unsigned long long)s->rl.bytes.size,
			   (unsigned long long)s->rl.bytes.refill_time_ms,
			   (unsigned long long)r->rate);
		return;
	}
	blocked = state_get_u8(in);
	if (!in->err && state_check(in, blocked <= (r->limited ? 1 : 0), "blocked", blocked))
		s->blocked = blocked;
}

static void rng_apply(void *dev, const void *scratch)
{
	struct virtio_rng *r = dev;
	const struct rng_saved *s = scratch;

	r->rl = s->rl;
	disarm_timer(r);
	r->blocked = s->blocked;
}

static void rng_stats(void *dev, struct device_stats *out)
{
	struct virtio_rng *r = dev;

	device_stat(out, "bytes", r->bytes);
}

static void rng_destroy(void *dev)
{
	virtio_rng_free(dev);
}

static const struct device_ops rng_dops = VIRTIO_DEVICE_OPS("virtio-rng");

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max = RNG_QUEUE_MAX,
	.config_size = 0,
	.device_ops = &rng_dops,
	.features = rng_features,
	.queue_notify = rng_queue_notify,
	.reset = rng_reset,
	.pause = rng_pause,
	.resume = rng_resume,
	.save = rng_save,
	.state_size = sizeof(struct rng_saved),
	.load = rng_load,
	.apply = rng_apply,
	.stats = rng_stats,
	.destroy = rng_destroy,
};

/* The refill timer on the loop, once a limit exists. */
static int timer_open(struct virtio_rng *r)
{
	int err;

	if (r->timer_fd >= 0)
		return 0;
	if (!r->loop)
		return -EINVAL;
	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->timer_fd < 0)
		return -errno;
	err = ev_add(r->loop, r->timer_fd, EPOLLIN, rng_timer, r);
	if (err < 0) {
		close(r->timer_fd);
		r->timer_fd = -1;
	}
	return err;
}

static int rng_create(struct virtio_rng **out, const struct guest_mem *gm, struct evloop *loop,
		      uint64_t rate, const struct rate_limiter_config *cfg, const char *name)
{
	struct virtio_rng *r;
	int err;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->timer_fd = -1;
	r->loop = loop;
	r->rate = rate;
	r->cfg = *cfg;
	err = rate_limiter_init(&r->rl, &r->cfg, clock_mono_ns());
	if (err < 0)
		goto fail_free;
	r->limited = rate_limiter_enabled(&r->rl);
	if (r->limited && !loop) {
		err = -EINVAL;
		goto fail_free;
	}
	err = virtio_dev_init(&r->vd, gm, &rng_ops, r, name ? name : "virtio-rng");
	if (err < 0)
		goto fail_free;
	if (r->limited && (err = timer_open(r)) < 0)
		goto fail_core;
	*out = r;
	return 0;

fail_core:
	virtio_dev_free(&r->vd);
fail_free:
	free(r);
	return err;
}

int virtio_rng_new(struct virtio_rng **out, const struct guest_mem *gm, struct evloop *loop,
		   uint64_t bytes_per_sec, const char *name)
{
	struct rate_limiter_config cfg;

	rng_limit_config(bytes_per_sec, &cfg);
	/* A refill time of at most 64 s: init cannot refuse it. */
	return rng_create(out, gm, loop, bytes_per_sec, &cfg, name);
}

int virtio_rng_new_limited(struct virtio_rng **out, const struct guest_mem *gm,
			   struct evloop *loop, const struct rate_limiter_config *rl,
			   const char *name)
{
	return rng_create(out, gm, loop, 0, rl, name);
}

int virtio_rng_set_rate_limiter(struct virtio_rng *r, const struct rate_limiter_config *rl)
{
	struct rate_limiter check;
	bool kick;
	int err;

	/* Refused limits change nothing, not even the timer. */
	err = rate_limiter_init(&check, rl, clock_mono_ns());
	if (err < 0)
		return err;
	if (rate_limiter_enabled(&check) && (err = timer_open(r)) < 0)
		return err;
	virtio_dev_lock(&r->vd);
	err = rate_limiter_update(&r->rl, rl, clock_mono_ns());
	if (!err) {
		r->cfg = *rl;
		r->rate = 0;
		r->limited = rate_limiter_enabled(&r->rl);
	}
	/* Waiting for the old limits: look again now. */
	kick = !err && r->timer_armed;
	if (kick)
		disarm_timer(r);
	virtio_dev_unlock(&r->vd);
	if (kick) /* takes the lock; nothing runs while paused */
		virtio_dev_queue_notify(&r->vd, 0);
	return err;
}

void virtio_rng_rate_limiter(struct virtio_rng *r, struct rate_limiter_config *rl)
{
	virtio_dev_lock(&r->vd);
	*rl = r->cfg;
	virtio_dev_unlock(&r->vd);
}

struct virtio_rng *virtio_rng_from_device(struct device *d)
{
	return d && d->ops == &rng_dops ? virtio_dev_from_device(d)->priv : NULL;
}

struct virtio_dev *virtio_rng_vdev(struct virtio_rng *r)
{
	return &r->vd;
}

struct device *virtio_rng_device(struct virtio_rng *r)
{
	return &r->vd.dev;
}

void virtio_rng_free(struct virtio_rng *r)
{
	if (!r)
		return;
	if (r->timer_fd >= 0) {
		ev_del(r->loop, r->timer_fd);
		close(r->timer_fd);
	}
	virtio_dev_free(&r->vd);
	free(r);
}
