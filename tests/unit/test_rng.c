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

#define MEM_SIZE (1u << 20)
#define QSIZE 16u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define DATA 0x10000u

static uint8_t *mem;
static struct guest_mem gm;

static void wr(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(t, off, (const uint8_t *)&v, 4);
}

static uint32_t rd(struct virtio_mmio *t, uint64_t off)
{
	uint32_t v;

	virtio_mmio_ops.read(t, off, (uint8_t *)&v, 4);
	return v;
}

static void bring_up(struct virtio_mmio *t)
{
	wr(t, VIRTIO_MMIO_STATUS, 1);
	wr(t, VIRTIO_MMIO_STATUS, 3);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr(t, VIRTIO_MMIO_STATUS, 0xb);
	wr(t, VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(t, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
	wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, DESC);
	wr(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, AVAIL);
	wr(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, USED);
	wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	wr(t, VIRTIO_MMIO_STATUS, 0xf);
	assert_int_equal(rd(t, VIRTIO_MMIO_STATUS), 0xf);
}

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = mem + DESC + 16 * i;

	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

static void offer(uint16_t head)
{
	uint16_t *av = (uint16_t *)(mem + AVAIL);

	av[2 + av[1] % QSIZE] = head;
	__atomic_store_n(&av[1], (uint16_t)(av[1] + 1), __ATOMIC_RELEASE);
}

static uint16_t used_idx(void)
{
	return __atomic_load_n(&((uint16_t *)(mem + USED))[1], __ATOMIC_ACQUIRE);
}

static uint32_t used_len(uint32_t i)
{
	uint32_t v;

	memcpy(&v, mem + USED + 4 + 8 * (i % QSIZE) + 4, 4);
	return v;
}

static int setup(void **s)
{
	(void)s;
	mem = aligned_alloc(4096, MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
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
	struct virtio_mmio *t;

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &gm, NULL, 0, NULL), 0);
	t = virtio_rng_transport(r);
	assert_int_equal(rd(t, VIRTIO_MMIO_DEVICE_ID), 4);
	bring_up(t);
	/* readable 32 bytes (ignored), then 2 writable buffers. */
	memset(mem + DATA, 0, 0x1000);
	set_desc(0, DATA, 32, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA + 0x100, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA + 0x200, 64, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	/* And one chain with nothing writable. */
	set_desc(3, DATA + 0x300, 16, 0, 0);
	offer(3);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(used_len(0), 128);
	assert_int_equal(used_len(1), 0);
	assert_true(all_zero(mem + DATA, 32));
	assert_false(all_zero(mem + DATA + 0x100, 64));
	assert_false(all_zero(mem + DATA + 0x200, 64));
	assert_true(all_zero(mem + DATA + 0x300, 16));
	assert_int_equal(rd(t, VIRTIO_MMIO_INTERRUPT_STATUS), 1);
	virtio_rng_free(r);
}

static void test_large_buffer_capped(void **s)
{
	struct virtio_rng *r;
	struct virtio_mmio *t;

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &gm, NULL, 0, NULL), 0);
	t = virtio_rng_transport(r);
	bring_up(t);
	set_desc(0, 0x20000, 0x80000, VIRTQ_DESC_F_WRITE, 0);
	offer(0);
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(), 1);
	assert_int_equal(used_len(0), VIRTIO_RNG_MAX_REQ);
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
	struct virtio_mmio *t;
	struct evloop loop;
	pthread_t th;
	struct timespec t0, t1;
	double waited;

	(void)s;
	assert_int_equal(ev_init(&loop), 0);
	/* 100 B/s: the bucket starts with 100 bytes. */
	assert_int_equal(virtio_rng_new(&r, &gm, &loop, 100, NULL), 0);
	t = virtio_rng_transport(r);
	bring_up(t);
	for (uint16_t i = 0; i < 3; i++) {
		set_desc(i, DATA + 0x100u * i, 64, VIRTQ_DESC_F_WRITE, 0);
		offer(i);
	}
	/* Direct kick (no hook): runs on this thread. */
	wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(used_idx(), 2);
	assert_int_equal(used_len(0), 64);
	assert_int_equal(used_len(1), 36);
	/* The third waits for tokens: the timer on the loop delivers it. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(pthread_create(&th, NULL, loop_thread, &loop), 0);
	for (int i = 0; i < 300 && used_idx() < 3; i++)
		usleep(10000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ev_stop(&loop);
	pthread_join(th, NULL);
	assert_int_equal(used_idx(), 3);
	assert_true(used_len(2) >= 1 && used_len(2) <= 64);
	waited = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(waited > 0.3); /* ~0.64 s for 64 bytes at 100 B/s */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
