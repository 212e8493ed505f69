/* Unit tests for src/virtio/rng.c: buffers filled through the transport,
 * readable buffers skipped, and the token-bucket limit with its timerfd
 * refill driven by a real event loop. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "virtio/rng.h"
#include "virtq_driver.h"
#include "virtio_state.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 16u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define DATA 0x10000u

static uint8_t *mem;
static struct guest_mem gm;
static struct vqd vq;

static int setup(void **s)
{
	(void)s;
	mem = aligned_alloc(4096, MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	vq = (struct vqd){mem, QSIZE, DESC, AVAIL, USED};
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	free(mem);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_fill(void **s)
{
	struct virtio_rng *r;
	struct virtio_dev *t;

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &gm, NULL, 0, NULL), 0);
	t = virtio_rng_vdev(r);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_DEVICE_ID), 4);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &vq, 1), 0xf);
	/* readable 32 bytes (ignored), then 2 writable buffers. */
	memset(mem + DATA, 0, 0x1000);
	vqd_set_desc(&vq, 0, DATA, 32, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&vq, 1, DATA + 0x100, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	vqd_set_desc(&vq, 2, DATA + 0x200, 64, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&vq, 0);
	/* And one chain with nothing writable. */
	vqd_set_desc(&vq, 3, DATA + 0x300, 16, 0, 0);
	vqd_offer(&vq, 3);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 2);
	assert_int_equal(vqd_used_len(&vq, 0), 128);
	assert_int_equal(vqd_used_len(&vq, 1), 0);
	assert_true(all_zero(mem + DATA, 32));
	assert_false(all_zero(mem + DATA + 0x100, 64));
	assert_false(all_zero(mem + DATA + 0x200, 64));
	assert_true(all_zero(mem + DATA + 0x300, 16));
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	virtio_rng_free(r);
}

static void test_large_buffer_capped(void **s)
{
	struct virtio_rng *r;
	struct virtio_dev *t;

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &gm, NULL, 0, NULL), 0);
	t = virtio_rng_vdev(r);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &vq, 1), 0xf);
	vqd_set_desc(&vq, 0, 0x20000, 0x80000, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&vq, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 1);
	assert_int_equal(vqd_used_len(&vq, 0), VIRTIO_RNG_MAX_REQ);
	virtio_rng_free(r);
}

static void test_rate_limit_needs_loop(void **s)
{
	struct virtio_rng *r;

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &gm, NULL, 100, NULL), -EINVAL);
}

static void *loop_thread(void *arg)
{
	struct evloop *l = arg;

	assert_int_equal(ev_run(l), 0);
	return NULL;
}

static void test_rate_limit(void **s)
{
	struct virtio_rng *r;
	struct virtio_dev *t;
	struct evloop loop;
	pthread_t th;
	struct timespec t0, t1;
	double waited;

	(void)s;
	assert_int_equal(ev_init(&loop), 0);
	/* 100 B/s: the bucket starts with 100 bytes. */
	assert_int_equal(virtio_rng_new(&r, &gm, &loop, 100, NULL), 0);
	t = virtio_rng_vdev(r);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &vq, 1), 0xf);
	for (uint16_t i = 0; i < 3; i++) {
		vqd_set_desc(&vq, i, DATA + 0x100u * i, 64, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq, i);
	}
	/* Direct kick (no hook): runs on this thread. */
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 2);
	assert_int_equal(vqd_used_len(&vq, 0), 64);
	assert_int_equal(vqd_used_len(&vq, 1), 36);
	/* The third waits for tokens: the timer on the loop delivers it. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, loop_thread, &loop), 0);
	for (int i = 0; i < 300 && vqd_used_idx(&vq) < 3; i++)
		usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ev_stop(&loop);
	pthread_join(th, NULL);
	assert_int_equal(vqd_used_idx(&vq), 3);
	assert_true(vqd_used_len(&vq, 2) >= 1 && vqd_used_len(&vq, 2) <= 64);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(waited > 0.3); /* ~0.64 s for 64 bytes at 100 B/s */
	virtio_rng_free(r);
	ev_free(&loop);
}

/* Two requests done, pause, save, restore into a fresh device on the same
 * guest memory: the next request lands in used slot 2, with the same
 * features and config generation, and the old device is gone. */
static void test_save_restore(void **s)
{
	struct virtio_rng *a, *b;
	struct virtio_dev *t;
	struct state_buf buf;
	char err[200] = "";

	(void)s;
	assert_int_equal(virtio_rng_new(&a, &gm, NULL, 0, "rng0"), 0);
	t = virtio_rng_vdev(a);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX), &vq, 1),
			 0xf);
	for (uint16_t i = 0; i < 2; i++) {
		vqd_set_desc(&vq, i, DATA + 0x100u * i, 16, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq, i);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 2);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_rng_device(a), &buf), 0);
	virtio_rng_free(a);

	assert_int_equal(virtio_rng_new(&b, &gm, NULL, 0, "rng0"), 0);
	t = virtio_rng_vdev(b);
	assert_int_equal(device_restore_one(virtio_rng_device(b), buf.data, buf.len, err,
					    sizeof(err)), 0);
	vst_resume(virtio_rng_device(b));
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_STATUS), 0xf);
	assert_int_equal(t->negotiated, VQD_VERSION_1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX));
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	vqd_set_desc(&vq, 2, DATA + 0x200, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&vq, 2);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 3);
	assert_int_equal(vqd_used_elem(&vq, 2).id, 2);
	assert_int_equal(vqd_used_len(&vq, 2), 8);
	virtio_rng_free(b);
	state_buf_free(&buf);
}

static void test_bad_sections(void **s)
{
	struct virtio_rng *a, *victim;
	struct state_buf buf;
	size_t p;
	uint8_t *bad;

	(void)s;
	assert_int_equal(virtio_rng_new(&a, &gm, NULL, 0, "rng0"), 0);
	assert_int_equal(vqd_bring_up(virtio_rng_vdev(a), VQD_VERSION_1, &vq, 1), 0xf);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_rng_device(a), &buf), 0);
	virtio_rng_free(a);
	assert_int_equal(virtio_rng_new(&victim, &gm, NULL, 0, "rng0"), 0);
	assert_int_equal(vst_bad_sections(virtio_rng_device(victim), buf.data, buf.len,
					  MEM_SIZE), 0);
	/* The device's own fields: tokens above the bucket, a rate that is
	 * not this device's, blocked without a limit. Layout: u64 rate, the
	 * limiter (u32 version, per bucket six u64 of which budget is the
	 * fourth, u64 throttled: 108 bytes), u8 blocked. */
	p = vst_payload(buf.data) + VST_Q0 + VST_Q_SIZE;
	bad = malloc(buf.len);
	memcpy(bad, buf.data, buf.len);
	vst_put(bad + p, 8, 100);
	assert_int_equal(vst_refused(virtio_rng_device(victim), bad, buf.len, "rate"), 0);
	memcpy(bad, buf.data, buf.len);
	vst_put(bad + p + 8 + 4 + 3 * 8, 8, 1000); /* bytes budget */
	assert_int_equal(vst_refused(virtio_rng_device(victim), bad, buf.len, "tokens"), 0);
	memcpy(bad, buf.data, buf.len);
	bad[p + 8 + 108] = 1;
	assert_int_equal(vst_refused(virtio_rng_device(victim), bad, buf.len, "blocked"), 0);
	free(bad);
	virtio_rng_free(victim);
	state_buf_free(&buf);
}

/* The rate limiter's state travels: an empty bucket stays empty after a
 * restore (the next request waits for the timer, re-armed on resume). */
static void test_save_restore_rate_limited(void **s)
{
	struct virtio_rng *a, *b;
	struct evloop loop;
	struct state_buf buf;
	struct virtio_dev *t;
	pthread_t th;
	char err[200] = "";

	(void)s;
	assert_int_equal(ev_init(&loop), 0);
	assert_int_equal(virtio_rng_new(&a, &gm, &loop, 100, "rng0"), 0);
	t = virtio_rng_vdev(a);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &vq, 1), 0xf);
	for (uint16_t i = 0; i < 3; i++) {
		vqd_set_desc(&vq, i, DATA + 0x100u * i, 64, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq, i);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 2); /* bucket empty, third waits */
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_rng_device(a), &buf), 0);
	virtio_rng_free(a);
	assert_int_equal(virtio_rng_new(&b, &gm, &loop, 100, "rng0"), 0);
	assert_int_equal(device_restore_one(virtio_rng_device(b), buf.data, buf.len, err,
					    sizeof(err)), 0);
	vst_resume(virtio_rng_device(b));
	assert_int_equal(vqd_used_idx(&vq), 2); /* still no tokens */
	assert_int_equal(pthread_create(&th, NULL, loop_thread, &loop), 0);
	for (int i = 0; i < 300 && vqd_used_idx(&vq) < 3; i++)
		usleep(10000);
	ev_stop(&loop);
	pthread_join(th, NULL);
	assert_int_equal(vqd_used_idx(&vq), 3);
	virtio_rng_free(b);
	ev_free(&loop);
	state_buf_free(&buf);
}

static void test_stats(void **s)
{
	struct virtio_rng *r;
	struct device_stats st = {0};
	struct device *d;

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &gm, NULL, 0, "rng7"), 0);
	d = virtio_rng_device(r);
	assert_string_equal(d->name, "rng7");
	assert_string_equal(d->ops->kind, "virtio-rng");
	assert_int_equal(vqd_bring_up(virtio_rng_vdev(r), VQD_VERSION_1, &vq, 1), 0xf);
	vqd_set_desc(&vq, 0, DATA, 32, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&vq, 0);
	vqd_wr(virtio_rng_vdev(r), VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	d->ops->stats(d, &st);
	assert_int_equal(st.nr, 5);
	assert_string_equal(st.v[0].key, "kicks");
	assert_int_equal(st.v[0].value, 1);
	assert_string_equal(st.v[4].key, "bytes");
	assert_int_equal(st.v[4].value, 32);
	d->ops->destroy(d); /* frees r */
}

/* PUT /entropy's limiter: a bandwidth bucket (bytes, with a one-time
 * burst) and an ops bucket (one per request), from a config. */
static void test_limiter_from_config(void **s)
{
	const struct rate_limiter_config bw = {.bandwidth = {100, 28, 1000}};
	const struct rate_limiter_config ops = {.ops = {2, 0, 1000}};
	const struct rate_limiter_config bad = {.ops = {1, 0, RATE_LIMIT_MAX_REFILL_MS + 1}};
	struct virtio_rng *r;
	struct virtio_dev *t;
	struct evloop loop;

	(void)s;
	assert_int_equal(virtio_rng_new_limited(&r, &gm, NULL, &bw, NULL), -EINVAL);
	assert_int_equal(ev_init(&loop), 0);
	assert_int_equal(virtio_rng_new_limited(&r, &gm, &loop, &bad, NULL), -EINVAL);
	/* Bytes: 100 + a burst of 28, then nothing until a refill. */
	assert_int_equal(virtio_rng_new_limited(&r, &gm, &loop, &bw, NULL), 0);
	t = virtio_rng_vdev(r);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &vq, 1), 0xf);
	for (uint16_t i = 0; i < 3; i++) {
		vqd_set_desc(&vq, i, DATA + 0x100u * i, 64, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq, i);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 2);
	assert_int_equal(vqd_used_len(&vq, 0), 64);
	assert_int_equal(vqd_used_len(&vq, 1), 64);
	virtio_rng_free(r);
	/* Ops: two requests of any size, the third waits. */
	memset(mem, 0, MEM_SIZE);
	vq = (struct vqd){mem, QSIZE, DESC, AVAIL, USED};
	assert_int_equal(virtio_rng_new_limited(&r, &gm, &loop, &ops, NULL), 0);
	t = virtio_rng_vdev(r);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &vq, 1), 0xf);
	for (uint16_t i = 0; i < 3; i++) {
		vqd_set_desc(&vq, i, DATA + 0x1000u * i, 4096, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq, i);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 2);
	assert_int_equal(vqd_used_len(&vq, 0), 4096);
	assert_int_equal(vqd_used_len(&vq, 1), 4096);
	virtio_rng_free(r);
	ev_free(&loop);
}

/* PATCH /entropy's path: an ops limit holding the queue is lifted and
 * the held request is served at once; a --rng rate is replaced; refused
 * limits change nothing; a limit needs a loop. */
static void test_set_rate_limiter(void **s)
{
	const struct rate_limiter_config ops = {.ops = {1, 0, 1000}}, off = {0};
	const struct rate_limiter_config bad = {.ops = {1, 0, RATE_LIMIT_MAX_REFILL_MS + 1}};
	struct rate_limiter_config got;
	struct virtio_rng *r;
	struct virtio_dev *t;
	struct evloop loop;

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &gm, NULL, 0, NULL), 0);
	assert_int_equal(virtio_rng_set_rate_limiter(r, &ops), -EINVAL); /* no loop */
	virtio_rng_rate_limiter(r, &got);
	assert_memory_equal(&got, &off, sizeof(off));
	virtio_rng_free(r);
	assert_int_equal(ev_init(&loop), 0);
	assert_int_equal(virtio_rng_new(&r, &gm, &loop, 4096, NULL), 0);
	assert_int_equal(virtio_rng_set_rate_limiter(r, &ops), 0);
	virtio_rng_rate_limiter(r, &got);
	assert_memory_equal(&got, &ops, sizeof(ops)); /* the rate's bucket is gone */
	t = virtio_rng_vdev(r);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &vq, 1), 0xf);
	for (uint16_t i = 0; i < 3; i++) {
		vqd_set_desc(&vq, i, DATA + 0x1000u * i, 4096, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq, i);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&vq), 1);
	assert_int_equal(virtio_rng_set_rate_limiter(r, &bad), -EINVAL);
	virtio_rng_rate_limiter(r, &got);
	assert_memory_equal(&got, &ops, sizeof(ops));
	assert_int_equal(vqd_used_idx(&vq), 1);
	/* Lifted: the waiting requests go now, no timer needed. */
	assert_int_equal(virtio_rng_set_rate_limiter(r, &off), 0);
	assert_int_equal(vqd_used_idx(&vq), 3);
	assert_int_equal(vqd_used_len(&vq, 2), 4096);
	virtio_rng_free(r);
	ev_free(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_buffer_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit_needs_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limiter_from_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_sections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_restore_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_rate_limiter, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
