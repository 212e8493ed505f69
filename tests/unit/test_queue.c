/* Unit tests for src/virtio/queue.c: a split virtqueue on malloc'd guest
 * memory, driven by a hostile "driver" that writes the rings directly. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "virtio/queue.h"
#include "virtq_driver.h"

#define MEM_SIZE (1u << 20)
#define QSIZE 16u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define DATA 0x10000u
#define ITABLE 0x8000u

struct fx {
	uint8_t *mem;
	struct guest_mem gm;
	struct virtq q;
	struct vqd vq; /* the driver side of q */
	struct virtq_chain *c;
};

static struct fx *fx_new(bool event_idx, bool indirect)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->mem = aligned_alloc(4096, MEM_SIZE);
	assert_non_null(f->mem);
	memset(f->mem, 0, MEM_SIZE);
	f->c = malloc(sizeof(*f->c));
	assert_non_null(f->c);
	gm_init_wrap(&f->gm, f->mem, MEM_SIZE);
	f->vq = (struct vqd){f->mem, QSIZE, DESC, AVAIL, USED};
	virtq_init(&f->q, &f->gm, NULL);
	assert_int_equal(virtq_enable(&f->q, QSIZE, 256, DESC, AVAIL, USED, event_idx, indirect),
			 0);
	return f;
}

static void fx_free(struct fx *f)
{
	free(f->c);
	free(f->mem);
	free(f);
}

/* Asserts that the next pop is a guest error and that the queue stays broken. */
static void expect_broken(struct fx *f)
{
	assert_true(virtq_pop(&f->q, f->c) < 0);
	assert_true(f->q.broken);
	assert_int_equal(virtq_pop(&f->q, f->c), -EIO);
}

static void test_empty(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	assert_int_equal(virtq_pop(&f->q, f->c), 0);
	fx_free(f);
}

static void test_simple_chain(void **s)
{
	struct fx *f = fx_new(false, false);
	struct iovec iov[8];
	int no, ni;

	(void)s;
	vqd_set_desc(&f->vq, 3, DATA, 16, VIRTQ_DESC_F_NEXT, 7);
	vqd_set_desc(&f->vq, 7, DATA + 0x100, 512, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&f->vq, 1, DATA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 3);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(f->c->head, 3);
	assert_int_equal(f->c->nr, 3);
	assert_int_equal(f->c->nr_out, 2);
	assert_int_equal(f->c->out_len, 528);
	assert_int_equal(f->c->in_len, 1);
	assert_int_equal(virtq_chain_iov(f->c, iov, 8, &no, &ni), 3);
	assert_int_equal(no, 2);
	assert_int_equal(ni, 1);
	assert_ptr_equal(iov[0].iov_base, f->mem + DATA);
	assert_ptr_equal(iov[1].iov_base, f->mem + DATA + 0x100);
	assert_int_equal(iov[1].iov_len, 512);
	assert_ptr_equal(iov[2].iov_base, f->mem + DATA + 0x400);
	assert_int_equal(virtq_chain_iov(f->c, iov, 2, &no, &ni), -ENOSPC);
	assert_int_equal(virtq_pop(&f->q, f->c), 0);

	virtq_push(&f->q, 3, 1);
	assert_int_equal(vqd_used_idx(&f->vq), 1);
	assert_int_equal(vqd_used_elem(&f->vq, 0).id, 3);
	assert_int_equal(vqd_used_elem(&f->vq, 0).len, 1);
	fx_free(f);
}

static void test_many_and_wrap(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	/* Start near the 16-bit wrap of the ring indices. */
	f->q.last_avail_idx = 65530;
	f->q.used_idx = 65530;
	vqd_avail(&f->vq)[1] = 65530;
	for (int round = 0; round < 4; round++) {
		for (uint16_t i = 0; i < QSIZE; i++) {
			vqd_set_desc(&f->vq, i, DATA + 64u * i, 64, VIRTQ_DESC_F_WRITE, 0);
			vqd_offer(&f->vq, i);
		}
		for (uint16_t i = 0; i < QSIZE; i++) {
			assert_int_equal(virtq_pop(&f->q, f->c), 1);
			assert_int_equal(f->c->head, i);
			virtq_push(&f->q, i, 64);
		}
		assert_int_equal(virtq_pop(&f->q, f->c), 0);
	}
	assert_int_equal(vqd_used_idx(&f->vq), (uint16_t)(65530 + 4 * QSIZE));
	fx_free(f);
}

static void test_full_length_chain_ok(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	for (uint16_t i = 0; i < QSIZE; i++)
		vqd_set_desc(&f->vq, i, DATA, 8, (uint16_t)(i + 1u < QSIZE ? VIRTQ_DESC_F_NEXT : 0),
			     (uint16_t)(i + 1));
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(f->c->nr, QSIZE);
	fx_free(f);
}

static void test_zero_length_buffers(void **s)
{
	struct fx *f = fx_new(false, false);
	struct iovec iov[4];
	int no, ni;

	(void)s;
	/* Zero-length buffers, even at silly addresses, are empty ranges. */
	vqd_set_desc(&f->vq, 0, 0xffffffffffffffffull, 0, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&f->vq, 1, DATA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
	vqd_set_desc(&f->vq, 2, DATA, 0, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(f->c->nr, 3);
	assert_int_equal(f->c->out_len + f->c->in_len, 0);
	assert_int_equal(virtq_chain_iov(f->c, iov, 4, &no, &ni), 3);
	assert_null(iov[0].iov_base);
	assert_int_equal(iov[0].iov_len, 0);
	fx_free(f);
}

/* Chains a hostile driver builds from direct descriptors, each a guest
 * error that breaks the queue. */
struct bad_chain {
	const char *what;
	uint16_t head;
	uint32_t nr;
	struct {
		uint16_t i;
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;
	} d[2];
};

static const struct bad_chain bad_chains[] = {
	{"loop", 0, 2, {{0, DATA, 8, VIRTQ_DESC_F_NEXT, 1}, {1, DATA, 8, VIRTQ_DESC_F_NEXT, 0}}},
	{"self loop", 5, 1, {{5, DATA, 0, VIRTQ_DESC_F_NEXT, 5}}},
	{"head out of range", QSIZE, 0, {{0}}},
	{"next out of range", 0, 1, {{0, DATA, 8, VIRTQ_DESC_F_NEXT, 0xffff}}},
	{"addr + len overflows", 0, 1, {{0, 0xfffffffffffffff0ull, 0x100, 0, 0}}},
	/* Starts inside, ends one byte past the end. */
	{"outside RAM", 0, 1, {{0, MEM_SIZE - 16, 17, 0, 0}}},
	{"readable after writable", 0, 2,
	 {{0, DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1}, {1, DATA, 8, 0, 0}}},
};

static void test_bad_chains(void **s)
{
	(void)s;
	for (size_t k = 0; k < ARRAY_SIZE(bad_chains); k++) {
		const struct bad_chain *b = &bad_chains[k];
		struct fx *f = fx_new(false, false);

		print_message("%s\n", b->what);
		for (uint32_t i = 0; i < b->nr; i++)
			vqd_set_desc(&f->vq, b->d[i].i, b->d[i].addr, b->d[i].len, b->d[i].flags,
				     b->d[i].next);
		vqd_offer(&f->vq, b->head);
		expect_broken(f);
		fx_free(f);
	}
}

/* A restored queue keeps its indices and writes nothing into the rings;
 * indices more than a queue apart and bad layouts are refused. */
static void test_restore(void **s)
{
	struct fx *f = fx_new(true, false);
	struct virtq_state st;
	struct virtq q;
	uint16_t *used = (uint16_t *)(f->mem + USED);

	(void)s;
	vqd_set_desc(&f->vq, 0, DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	virtq_push(&f->q, 0, 8);
	virtq_get_state(&f->q, &st);
	assert_int_equal(st.last_avail_idx, 1);
	assert_int_equal(st.used_idx, 1);
	virtq_init(&q, &f->gm, "test");
	assert_int_equal(virtq_restore(&q, QSIZE, 256, DESC, AVAIL, USED, true, false, &st), 0);
	assert_int_equal(used[1], 1); /* not cleaned as enable would */
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&q, f->c), 1);
	virtq_push(&q, 0, 8);
	assert_int_equal(vqd_used_idx(&f->vq), 2);
	/* Refused, q unchanged. */
	st.last_avail_idx = (uint16_t)(st.used_idx + QSIZE + 1);
	assert_false(virtq_state_ok(QSIZE, &st));
	assert_int_equal(virtq_restore(&q, QSIZE, 256, DESC, AVAIL, USED, true, false, &st),
			 -EINVAL);
	st.last_avail_idx = st.used_idx;
	assert_int_equal(virtq_restore(&q, QSIZE, 256, DESC + 8, AVAIL, USED, true, false, &st),
			 -EINVAL);
	assert_int_equal(virtq_restore(&q, 24, 256, DESC, AVAIL, USED, true, false, &st), -EINVAL);
	assert_int_equal(q.used_idx, 2);
	assert_int_equal(virtq_check(&f->gm, QSIZE, 256, DESC, AVAIL, MEM_SIZE - 8), -EINVAL);
	assert_int_equal(virtq_check(&f->gm, QSIZE, 256, DESC, AVAIL, USED), 0);
	fx_free(f);
}

static void test_avail_flood(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	vqd_set_desc(&f->vq, 0, DATA, 8, 0, 0);
	vqd_avail(&f->vq)[1] = QSIZE + 1;
	expect_broken(f);
	fx_free(f);
}

static void test_avail_exactly_full_ok(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	vqd_set_desc(&f->vq, 0, DATA, 8, 0, 0);
	vqd_avail(&f->vq)[1] = QSIZE; /* all slots hold head 0: legal to pop */
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	fx_free(f);
}

static void test_indirect_ok(void **s)
{
	struct fx *f = fx_new(false, true);
	uint8_t *t = f->mem + ITABLE;

	(void)s;
	/* One direct readable buffer, then an indirect table of three. */
	vqd_set_desc(&f->vq, 2, DATA, 16, VIRTQ_DESC_F_NEXT, 4);
	vqd_set_desc(&f->vq, 4, ITABLE, 48, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_put_desc(t, 0, DATA + 0x100, 100, VIRTQ_DESC_F_NEXT, 2);
	vqd_put_desc(t, 2, DATA + 0x200, 200, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	vqd_put_desc(t, 1, DATA + 0x300, 1, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 2);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(f->c->head, 2);
	assert_int_equal(f->c->nr, 4);
	assert_int_equal(f->c->nr_out, 2);
	assert_int_equal(f->c->out_len, 116);
	assert_int_equal(f->c->in_len, 201);
	assert_ptr_equal(f->c->buf[3].host, f->mem + DATA + 0x300);
	fx_free(f);
}

static void test_indirect_unaligned_table_ok(void **s)
{
	struct fx *f = fx_new(false, true);

	(void)s;
	vqd_set_desc(&f->vq, 0, ITABLE + 3, 16, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_put_desc(f->mem + ITABLE + 3, 0, DATA, 10, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(f->c->in_len, 10);
	fx_free(f);
}

static void indirect_bad(uint64_t addr, uint32_t len, uint16_t flags, bool negotiated)
{
	struct fx *f = fx_new(false, negotiated);

	vqd_put_desc(f->mem + ITABLE, 0, DATA, 8, 0, 0);
	vqd_set_desc(&f->vq, 0, addr, len, flags, 1);
	vqd_set_desc(&f->vq, 1, DATA, 8, 0, 0);
	vqd_offer(&f->vq, 0);
	expect_broken(f);
	fx_free(f);
}

static void test_indirect_zero_len(void **s)
{
	(void)s;
	indirect_bad(ITABLE, 0, VIRTQ_DESC_F_INDIRECT, true);
}

static void test_indirect_len_not_multiple(void **s)
{
	(void)s;
	indirect_bad(ITABLE, 24, VIRTQ_DESC_F_INDIRECT, true);
}

static void test_indirect_with_next(void **s)
{
	(void)s;
	indirect_bad(ITABLE, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, true);
}

static void test_indirect_outside_ram(void **s)
{
	(void)s;
	indirect_bad(MEM_SIZE - 16, 32, VIRTQ_DESC_F_INDIRECT, true);
	indirect_bad(0xfffffffffffffff0ull, 32, VIRTQ_DESC_F_INDIRECT, true);
}

static void test_indirect_not_negotiated(void **s)
{
	(void)s;
	indirect_bad(ITABLE, 16, VIRTQ_DESC_F_INDIRECT, false);
}

static void test_indirect_nested(void **s)
{
	struct fx *f = fx_new(false, true);
	uint8_t *t = f->mem + ITABLE;

	(void)s;
	vqd_set_desc(&f->vq, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_put_desc(t, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	vqd_put_desc(t, 1, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_offer(&f->vq, 0);
	expect_broken(f);
	fx_free(f);
}

static void test_indirect_next_beyond_table(void **s)
{
	struct fx *f = fx_new(false, true);
	uint8_t *t = f->mem + ITABLE;

	(void)s;
	/* Entry 2 exists in memory but the table is only two entries long. */
	vqd_set_desc(&f->vq, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_put_desc(t, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 2);
	vqd_put_desc(t, 2, DATA, 8, 0, 0);
	vqd_offer(&f->vq, 0);
	expect_broken(f);
	fx_free(f);
}

static void test_indirect_loop(void **s)
{
	struct fx *f = fx_new(false, true);
	uint8_t *t = f->mem + ITABLE;

	(void)s;
	vqd_set_desc(&f->vq, 0, ITABLE, 32, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_put_desc(t, 0, DATA, 8, VIRTQ_DESC_F_NEXT, 1);
	vqd_put_desc(t, 1, DATA, 8, VIRTQ_DESC_F_NEXT, 0);
	vqd_offer(&f->vq, 0);
	expect_broken(f);
	fx_free(f);
}

static void test_oversize_chain(void **s)
{
	struct fx *f = fx_new(false, true);
	uint32_t n = VIRTQ_CHAIN_MAX + 1;
	uint8_t *t = f->mem + 0x20000;

	(void)s;
	for (uint32_t i = 0; i < n; i++)
		vqd_put_desc(t, i, DATA, 1, i + 1 < n ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	vqd_set_desc(&f->vq, 0, 0x20000, n * 16, VIRTQ_DESC_F_INDIRECT, 0);
	vqd_offer(&f->vq, 0);
	expect_broken(f);
	fx_free(f);
}

static void test_total_len_over_4g(void **s)
{
	/* Sparse 5 GiB "RAM" so buffers can be huge; only touched pages are
	 * allocated. */
	uint64_t size = 5ull << 30;
	uint8_t *mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct guest_mem gm;
	struct virtq q;
	struct virtq_chain *c = malloc(sizeof(*c));
	struct vqd vq = {mem, QSIZE, DESC, AVAIL, USED};

	(void)s;
	assert_true(mem != MAP_FAILED);
	gm_init_wrap(&gm, mem, size);
	virtq_init(&q, &gm, NULL);
	assert_int_equal(virtq_enable(&q, QSIZE, QSIZE, DESC, AVAIL, USED, false, false), 0);
	vqd_set_desc(&vq, 0, 0, 0x80000000u, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&vq, 1, 0, 0x80000000u, VIRTQ_DESC_F_NEXT, 2);
	vqd_set_desc(&vq, 2, 0, 1, 0, 0);
	vqd_offer(&vq, 0);
	assert_true(virtq_pop(&q, c) < 0);
	/* Exactly UINT32_MAX is still fine. */
	virtq_disable(&q);
	assert_int_equal(virtq_enable(&q, QSIZE, QSIZE, DESC, AVAIL, USED, false, false), 0);
	vqd_set_desc(&vq, 1, 0, 0x7fffffffu, 0, 0);
	assert_int_equal(virtq_pop(&q, c), 1);
	assert_int_equal(c->out_len, UINT32_MAX);
	free(c);
	munmap(mem, size);
}

static void test_enable_validation(void **s)
{
	uint8_t *mem = aligned_alloc(4096, MEM_SIZE);
	struct guest_mem gm;
	struct virtq q;

	(void)s;
	memset(mem, 0, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	virtq_init(&q, &gm, NULL);
	assert_int_equal(virtq_enable(&q, 0, 256, DESC, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 24, 256, DESC, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 512, 256, DESC, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 65536, 65536, DESC, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 16, 256, DESC + 8, AVAIL, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 16, 256, DESC, AVAIL + 1, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 16, 256, DESC, AVAIL, USED + 2, 0, 0), -EINVAL);
	/* Rings that start inside RAM but end outside. */
	assert_int_equal(virtq_enable(&q, 16, 256, MEM_SIZE - 16 * 15, AVAIL, USED, 0, 0),
			 -EINVAL);
	assert_int_equal(virtq_enable(&q, 16, 256, DESC, MEM_SIZE - 36, USED, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 16, 256, DESC, AVAIL, MEM_SIZE - 132, 0, 0), -EINVAL);
	assert_int_equal(virtq_enable(&q, 16, 256, DESC, AVAIL, 0xfffffffffffffff0ull, 0, 0),
			 -EINVAL);
	assert_false(q.ready);
	/* The exact fit at the end of RAM is fine. */
	assert_int_equal(virtq_enable(&q, 16, 256, DESC, AVAIL, MEM_SIZE - 136, 0, 0), 0);
	assert_true(q.ready);
	assert_int_equal(virtq_pop(&q, NULL), 0);
	virtq_disable(&q);
	assert_false(q.ready);
	assert_int_equal(q.gen, 1);
	free(mem);
}

static void test_disable_makes_stale(void **s)
{
	struct fx *f = fx_new(false, false);
	uint32_t gen;

	(void)s;
	vqd_set_desc(&f->vq, 0, DATA, 8, 0, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	gen = f->c->gen;
	virtq_disable(&f->q);
	assert_int_not_equal(f->q.gen, gen);
	/* A push to a disabled queue touches nothing. */
	virtq_push(&f->q, 0, 8);
	assert_int_equal(vqd_used_idx(&f->vq), 0);
	fx_free(f);
}

static void test_no_interrupt_flag(void **s)
{
	struct fx *f = fx_new(false, false);

	(void)s;
	assert_false(virtq_should_notify(&f->q)); /* nothing pushed */
	virtq_push(&f->q, 0, 0);
	assert_true(virtq_should_notify(&f->q));
	assert_false(virtq_should_notify(&f->q));
	vqd_avail(&f->vq)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	virtq_push(&f->q, 0, 0);
	assert_false(virtq_should_notify(&f->q));
	fx_free(f);
}

static void test_event_idx(void **s)
{
	struct fx *f = fx_new(true, false);
	uint16_t *used_event = &vqd_avail(&f->vq)[2 + QSIZE];
	uint16_t *avail_event = (uint16_t *)(f->mem + USED + 4 + 8 * QSIZE);

	(void)s;
	/* An empty pop publishes avail_event = last_avail_idx. */
	*avail_event = 0xdead;
	assert_int_equal(virtq_pop(&f->q, f->c), 0);
	assert_int_equal(*avail_event, 0);
	vqd_set_desc(&f->vq, 0, DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(*avail_event, 1);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(*avail_event, 2);

	/* Driver wants an interrupt once used idx passes 2. */
	*used_event = 2;
	virtq_push(&f->q, 0, 8); /* used idx 1 */
	assert_false(virtq_should_notify(&f->q));
	virtq_push(&f->q, 0, 8); /* 2 */
	assert_false(virtq_should_notify(&f->q));
	virtq_push(&f->q, 0, 8); /* 3: crossed used_event 2 */
	assert_true(virtq_should_notify(&f->q));
	/* A batch crossing used_event notifies once. */
	*used_event = 4;
	virtq_push(&f->q, 0, 8);
	virtq_push(&f->q, 0, 8);
	virtq_push(&f->q, 0, 8);
	assert_true(virtq_should_notify(&f->q));
	assert_false(virtq_should_notify(&f->q));
	/* With event idx the NO_INTERRUPT flag is ignored. */
	vqd_avail(&f->vq)[0] = VIRTQ_AVAIL_F_NO_INTERRUPT;
	*used_event = 6;
	virtq_push(&f->q, 0, 8);
	assert_true(virtq_should_notify(&f->q));
	fx_free(f);
}

/* The driver's side of EVENT_IDX: kick when avail_event lies in [old, new). */
static bool driver_would_kick(uint16_t avail_event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - avail_event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Device-side polling with EVENT_IDX: while notifications are off, no buffer
 * the driver adds makes it kick, and pops do not turn them back on; turning
 * them on publishes the next index and reports buffers that came meanwhile. */
static void test_notify_off_event_idx(void **s)
{
	struct fx *f = fx_new(true, false);
	uint16_t *avail_event = (uint16_t *)(f->mem + USED + 4 + 8 * QSIZE);
	uint16_t idx;

	(void)s;
	vqd_set_desc(&f->vq, 0, DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(*avail_event, 1);
	assert_true(driver_would_kick(*avail_event, 2, 1));

	virtq_notify_off(&f->q);
	assert_false(driver_would_kick(*avail_event, 2, 1));
	/* Several buffers in a row, and pops in between: never a kick. */
	for (int i = 0; i < 40; i++) {
		idx = vqd_avail(&f->vq)[1];
		vqd_offer(&f->vq, 0);
		assert_false(driver_would_kick(*avail_event, (uint16_t)(idx + 1), idx));
		assert_int_equal(virtq_pop(&f->q, f->c), 1);
		/* An empty pop while polling must not ask for kicks either. */
		assert_int_equal(virtq_pop(&f->q, f->c), 0);
		assert_false(driver_would_kick(*avail_event, (uint16_t)(idx + 2),
					       (uint16_t)(idx + 1)));
	}
	/* Nothing pending: on again, the next buffer kicks. */
	assert_false(virtq_notify_on(&f->q));
	idx = vqd_avail(&f->vq)[1];
	assert_int_equal(*avail_event, idx);
	assert_true(driver_would_kick(*avail_event, (uint16_t)(idx + 1), idx));

	/* A buffer added while off (not kicked) is reported by notify_on. */
	virtq_notify_off(&f->q);
	vqd_offer(&f->vq, 0);
	assert_true(virtq_notify_on(&f->q));
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_false(virtq_notify_on(&f->q));

	/* A reset turns polling off with the queue. */
	virtq_notify_off(&f->q);
	virtq_disable(&f->q);
	assert_false(f->q.notify_off);
	assert_false(virtq_notify_on(&f->q));
	fx_free(f);
}

/* A driver that reuses ring memory after a reset finds the device's fields
 * (used flags and idx, avail_event) clean once the queue is enabled again. */
static void test_enable_cleans_device_fields(void **s)
{
	struct fx *f = fx_new(false, false);
	uint16_t *used = (uint16_t *)(f->mem + USED);
	uint16_t *avail_event = (uint16_t *)(f->mem + USED + 4 + 8 * QSIZE);

	(void)s;
	virtq_notify_off(&f->q);
	assert_int_equal(used[0], VIRTQ_USED_F_NO_NOTIFY);
	used[1] = 7;
	*avail_event = 9;
	virtq_disable(&f->q);
	assert_int_equal(virtq_enable(&f->q, QSIZE, 256, DESC, AVAIL, USED, true, false), 0);
	assert_int_equal(used[0], 0);
	assert_int_equal(used[1], 0);
	assert_int_equal(*avail_event, 0);
	fx_free(f);
}

/* Without EVENT_IDX the used ring's NO_NOTIFY flag says the same. */
static void test_notify_off_flag(void **s)
{
	struct fx *f = fx_new(false, false);
	uint16_t *used_flags = (uint16_t *)(f->mem + USED);

	(void)s;
	assert_int_equal(*used_flags, 0);
	virtq_notify_off(&f->q);
	assert_int_equal(*used_flags, VIRTQ_USED_F_NO_NOTIFY);
	vqd_set_desc(&f->vq, 0, DATA, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, 0);
	assert_int_equal(virtq_pop(&f->q, f->c), 1);
	assert_int_equal(*used_flags, VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_notify_on(&f->q));
	assert_int_equal(*used_flags, 0);
	virtq_notify_off(&f->q);
	vqd_offer(&f->vq, 0);
	assert_true(virtq_notify_on(&f->q));
	assert_int_equal(*used_flags, 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_simple_chain),
		cmocka_unit_test(test_many_and_wrap),
		cmocka_unit_test(test_full_length_chain_ok),
		cmocka_unit_test(test_zero_length_buffers),
		cmocka_unit_test(test_bad_chains),
		cmocka_unit_test(test_restore),
		cmocka_unit_test(test_avail_flood),
		cmocka_unit_test(test_avail_exactly_full_ok),
		cmocka_unit_test(test_indirect_ok),
		cmocka_unit_test(test_indirect_unaligned_table_ok),
		cmocka_unit_test(test_indirect_zero_len),
		cmocka_unit_test(test_indirect_len_not_multiple),
		cmocka_unit_test(test_indirect_with_next),
		cmocka_unit_test(test_indirect_outside_ram),
		cmocka_unit_test(test_indirect_not_negotiated),
		cmocka_unit_test(test_indirect_nested),
		cmocka_unit_test(test_indirect_next_beyond_table),
		cmocka_unit_test(test_indirect_loop),
		cmocka_unit_test(test_oversize_chain),
		cmocka_unit_test(test_total_len_over_4g),
		cmocka_unit_test(test_enable_validation),
		cmocka_unit_test(test_disable_makes_stale),
		cmocka_unit_test(test_no_interrupt_flag),
		cmocka_unit_test(test_event_idx),
		cmocka_unit_test(test_notify_off_event_idx),
		cmocka_unit_test(test_notify_off_flag),
		cmocka_unit_test(test_enable_cleans_device_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
