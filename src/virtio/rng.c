/* virtio-rng: one request queue; each chain's writable buffers are filled
 * from getrandom(). With a byte-rate limit, a token bucket decides how many
 * bytes the guest gets now; when it is empty the queue is left alone and a
 * timerfd on the event loop brings the device back once tokens accrue. */
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

#define RNG_QUEUE_MAX 256
#define RNG_MIN_BURST 64u

struct virtio_rng {
	struct virtio_mmio t;
	struct evloop *loop;
	uint64_t rate;     /* bytes per second, 0 = unlimited */
	uint64_t burst;
	uint64_t tokens;
	uint64_t last_ns;
	int timer_fd;
	bool timer_armed;
	struct virtq_chain chain;
};

static void refill(struct virtio_rng *r)
{
	uint64_t now = clock_mono_ns();
	uint64_t dt = now - r->last_ns;
	uint64_t add;

	if (!r->rate)
		return;
	/* Past 10 s the bucket is full for any sane rate; the multiplication
	 * saturates for absurd ones. */
	if (dt > 10000000000ull)
		dt = 10000000000ull;
	if (__builtin_mul_overflow(dt, r->rate, &add))
		add = UINT64_MAX;
	add /= 1000000000ull;
	if (!add)
		return; /* keep last_ns so fractions accumulate */
	r->last_ns = now;
	r->tokens = add > r->burst - r->tokens ? r->burst : r->tokens + add;
}

static void arm_timer(struct virtio_rng *r)
{
	uint64_t need = MIN((uint64_t)RNG_MIN_BURST, r->burst);
	uint64_t ns = (need * 1000000000ull + r->rate - 1) / r->rate;
	struct itimerspec its = {0};

	if (r->timer_armed)
		return;
	if (ns == 0)
		ns = 1;
	its.it_value.tv_sec = (time_t)(ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(ns % 1000000000ull);
	if (timerfd_settime(r->timer_fd, 0, &its, NULL) == 0)
		r->timer_armed = true;
	else
		log_err(r->t.name, "timerfd_settime: %s", strerror(errno));
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
				log_err(r->t.name, "getrandom: %s", strerror(errno));
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
	uint32_t budget = virtio_mmio_queue_size(&r->t, qidx);
	int ret;

	refill(r);
	for (;;) {
		uint32_t max = VIRTIO_RNG_MAX_REQ;
		uint32_t n;

		if (budget-- == 0) {
			/* A queue's worth served: the rest after other work. */
			virtio_mmio_kick_self(&r->t, qidx);
			break;
		}

		if (r->rate) {
			if (!r->tokens) {
				/* Leave the rest queued until tokens accrue. */
				arm_timer(r);
				break;
			}
			max = (uint32_t)MIN((uint64_t)max, r->tokens);
		}
		ret = virtio_mmio_pop(&r->t, qidx, &r->chain);
		if (ret <= 0)
			break;
		n = fill(r, &r->chain, max);
		if (r->rate)
			r->tokens -= n;
		virtio_mmio_push(&r->t, qidx, r->chain.gen, r->chain.head, n);
	}
	virtio_mmio_notify(&r->t, qidx);
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
	virtio_mmio_lock(&r->t);
	r->timer_armed = false;
	virtio_mmio_unlock(&r->t);
	/* Takes the lock and checks the queue is still live. */
	virtio_mmio_queue_notify(&r->t, 0);
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

static const struct virtio_dev_ops rng_ops = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.num_queues = 1,
	.queue_max = RNG_QUEUE_MAX,
	.config_size = 0,
	.features = rng_features,
	.queue_notify = rng_queue_notify,
	.reset = rng_reset,
};

int virtio_rng_new(struct virtio_rng **out, const struct guest_mem *gm, struct evloop *loop,
		   uint64_t bytes_per_sec, const char *name)
{
	struct virtio_rng *r;
	int err;

	if (bytes_per_sec && !loop)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->timer_fd = -1;
	r->loop = loop;
	r->rate = bytes_per_sec;
	r->burst = MAX(bytes_per_sec, (uint64_t)RNG_MIN_BURST);
	r->tokens = r->burst;
	r->last_ns = clock_mono_ns();
	err = virtio_mmio_init(&r->t, gm, &rng_ops, r, name ? name : "virtio-rng");
	if (err < 0)
		goto fail_free;
	if (r->rate) {
		r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (r->timer_fd < 0) {
			err = -errno;
			goto fail_mmio;
		}
		err = ev_add(loop, r->timer_fd, EPOLLIN, rng_timer, r);
		if (err < 0)
			goto fail_timer;
	}
	*out = r;
	return 0;

fail_timer:
	close(r->timer_fd);
fail_mmio:
	virtio_mmio_free(&r->t);
fail_free:
	free(r);
	return err;
}

struct virtio_mmio *virtio_rng_transport(struct virtio_rng *r)
{
	return &r->t;
}

void virtio_rng_free(struct virtio_rng *r)
{
	if (!r)
		return;
	if (r->timer_fd >= 0) {
		ev_del(r->loop, r->timer_fd);
		close(r->timer_fd);
	}
	virtio_mmio_free(&r->t);
	free(r);
}
