/* Dirty marking by the virtqueue (src/virtio/queue.c), for Diff snapshots:
 * what kite writes into guest RAM through a queue is marked in guest_mem's
 * bitmap (each device-writable buffer when popped, the used ring when
 * written), what it only reads is not; and a device (virtio-rng, driven
 * through the MMIO transport) gets its buffers marked without doing
 * anything itself. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "virtio/queue.h"
#include "virtio/rng.h"
#include "virtq_driver.h"

#define MEM_SIZE (1u << 20)
#define PAGES (MEM_SIZE / 4096)
#define QSIZE 16u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define ITABLE 0x8000u
#define DATA 0x10000u

#define PG(a) ((a) / 4096u)

struct fx {
	uint8_t *mem;
	struct guest_mem gm;
	struct virtq q;
	struct vqd vq;
	struct virtq_chain *c;
};

/* Tracking on, then taken so that only what the test does is marked. */
static void drop(struct guest_mem *gm)
{
	uint64_t bm[PAGES / 64];

	gm_dirty_take(gm, bm);
}

static struct fx *fx_new(bool event_idx, bool indirect)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = aligned_alloc(4096, MEM_SIZE);
	f->c = malloc(sizeof(*f->c));
	assert_non_null(f->mem);
	assert_non_null(f->c);
	memset(f->mem, 0, MEM_SIZE);
	gm_init_wrap(&f->gm, f->mem, MEM_SIZE);
	assert_int_equal(gm_dirty_enable(&f->gm), 0);
	drop(&f->gm);
	f->vq = (struct vqd){f->mem, QSIZE, DESC, AVAIL, USED};
	virtq_init(&f->q, &f->gm, NULL);
	assert_int_equal(virtq_enable(&f->q, QSIZE, 256, DESC, AVAIL, USED, event_idx, indirect),
			 0);
	return f;
}

static void fx_free(struct fx *f)
{
	gm_free(&f->gm);
	free(f->c);
	free(f->mem);
	free(f);
}

/* Takes the marks and checks they are exactly the pages listed (ascending). */
static void expect(struct guest_mem *gm, const uint32_t *want, int nr)
{
	uint64_t bm[PAGES / 64] = {0};
	int k = 0;

	assert_int_equal(gm_dirty_words(gm), PAGES / 64);
	gm_dirty_take(gm, bm);
	for (uint32_t p = 0; p < PAGES; p++) {
		if (!(bm[p / 64] >> (p % 64) & 1))
			continue;
		assert_true(k < nr);
		assert_int_equal(p, want[k]);
		k++;
	}
	assert_int_equal(k, nr);
}

/* Enable writes the used ring's flags, idx and avail_event. */
static void test_enable_marks_used_ring(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	fx_free(f);
}

static void test_pop_marks_writable_buffers(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	drop(&f->gm);
	/* Readable, then writable over two pages, then writable straddling
	 * a page boundary with 8 bytes. */
	vqd_set_desc(&f->vq, 0, DATA, 32, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&f->vq, 1, 0x20000, 0x1800, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	vqd_set_desc(&f->vq, 2, 0x30ffc, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	/* Not the rings it read, nor the readable buffer. */
	expect(&f->gm, (uint32_t[]){0x20, 0x21, 0x30, 0x31}, 4);
	virtq_push(&f->q, 0, 8);
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	fx_free(f);
}

static void test_readable_chain_marks_nothing(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	drop(&f->gm);
	vqd_set_desc(&f->vq, 0, DATA, 4096, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&f->vq, 1, DATA + 0x5000, 1, 0, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	expect(&f->gm, NULL, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 0);
	expect(&f->gm, NULL, 0);
	fx_free(f);
}

static void test_indirect_writable_marked(void **s)
{
	struct fx *f = fx_new(false, true);
	uint8_t *t = f->mem + ITABLE;

	(void)s;
	drop(&f->gm);
	vqd_set_desc(&f->vq, 5, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_put_desc(t, 0, DATA, 16, VIRTQ_DESC_F_NEXT, 1);
	vqd_put_desc(t, 1, 0x40000, 1, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 5);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(f->c->in_len, 1);
	/* The table itself is only read. */
	expect(&f->gm, (uint32_t[]){0x40}, 1);
	fx_free(f);
}

/* EVENT_IDX: avail_event (in the used ring's page) is written by a pop,
 * found empty or not, and by the polling switches. */
static void test_event_idx_marks_avail_event(void **s)
{
	struct fx *f = fx_new(true, false);

	(void)s;
	drop(&f->gm);
	assert_int_equal(virtq_pop(&f->q, f->c), 0);
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	vqd_set_desc(&f->vq, 0, DATA, 16, 0, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	virtq_notify_off(&f->q);
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	assert_false(virtq_notify_on(&f->q));
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	fx_free(f);
}

/* Without EVENT_IDX the polling switches write the used ring's flags. */
static void test_notify_flags_marked(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	drop(&f->gm);
	virtq_notify_off(&f->q);
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	assert_false(virtq_notify_on(&f->q));
	expect(&f->gm, (uint32_t[]){PG(USED)}, 1);
	fx_free(f);
}

/* A used ring across a page boundary: both pages marked on a push. */
static void test_used_ring_across_pages(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	virtq_disable(&f->q);
	assert_int_equal(virtq_enable(&f->q, QSIZE, 256, DESC, AVAIL, 0x4ffc, false, false), 0);
	f->vq.used = 0x4ffc;
	drop(&f->gm);
	vqd_set_desc(&f->vq, 0, DATA, 16, 0, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	virtq_push(&f->q, 0, 0);
	expect(&f->gm, (uint32_t[]){4, 5}, 2);
	assert_int_equal(vqd_used_idx(&f->vq), 1);
	fx_free(f);
}

/* A whole device: virtio-rng fills two writable buffers through the MMIO
 * transport; its pages and the used ring's are marked, nothing else. */
static void test_rng_buffers_marked(void **s)
{
	static const uint8_t zero[32];
	struct virtio_rng *r;
	struct virtio_dev *t;
	struct fx *f = fx_new(false, false);

	(void)s;
	assert_int_equal(virtio_rng_new(&r, &f->gm, NULL, 0, NULL), 0);
	t = virtio_rng_vdev(r);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, &f->vq, 1), 0xf);
	drop(&f->gm);
	vqd_set_desc(&f->vq, 0, DATA, 32, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&f->vq, 1, 0x50000, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	vqd_set_desc(&f->vq, 2, 0x60ff0, 32, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&f->vq), 1);
	assert_int_equal(vqd_used_len(&f->vq, 0), 96);
	assert_memory_not_equal(f->mem + 0x60ff0, zero, sizeof(zero));
	expect(&f->gm, (uint32_t[]){PG(USED), 0x50, 0x60, 0x61}, 4);
	virtio_rng_free(r);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enable_marks_used_ring),
		cmocka_unit_test(test_pop_marks_writable_buffers),
		cmocka_unit_test(test_readable_chain_marks_nothing),
		cmocka_unit_test(test_indirect_writable_marked),
		cmocka_unit_test(test_event_idx_marks_avail_event),
		cmocka_unit_test(test_notify_flags_marked),
		cmocka_unit_test(test_used_ring_across_pages),
		cmocka_unit_test(test_rng_buffers_marked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
