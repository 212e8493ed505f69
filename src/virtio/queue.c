/* Split virtqueue, device side: ring validation at enable, chain walking with
 * every guest index/length/address checked, the used ring and notification
 * suppression. The guest writes these rings concurrently: each descriptor and
 * ring entry is copied out of guest memory once and only the copy is used. */
#include "virtio/queue.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "log.h"

#define DESC_SIZE 16u

void virtq_init(struct virtq *q, const struct guest_mem *gm, const char *name)
{
	memset(q, 0, sizeof(*q));
	q->gm = gm;
	q->name = name ? name : "virtq";
}

/* Host pointers of the three rings, or -EINVAL. */
static int layout(const struct guest_mem *gm, uint32_t size, uint32_t max_size, uint64_t desc,
		  uint64_t avail, uint64_t used, uint8_t **d, uint8_t **a, uint8_t **u)
{
	/* GUEST: size, desc, avail, used come from transport registers (or a
	 * snapshot). */
	if (size == 0 || !IS_POW2(size) || size > max_size || size > VIRTQ_MAX_SIZE)
		return -EINVAL;
	if (desc % 16 || avail % 2 || used % 4)
		return -EINVAL;
	/* Sizes include used_event/avail_event: the spec lays them out
	 * whether or not EVENT_IDX is negotiated. size <= 32768 keeps these
	 * products far from overflow. */
	*d = gm_ptr(gm, desc, (uint64_t)DESC_SIZE * size);
	*a = gm_ptr(gm, avail, 6 + 2ull * size);
	*u = gm_ptr(gm, used, 6 + 8ull * size);
	if (!*d || !*a || !*u)
		return -EINVAL;
	/* Host mappings keep guest alignment (page-aligned regions); refuse
	 * anything else rather than do misaligned atomic accesses. */
	if ((uintptr_t)*d % 16 || (uintptr_t)*a % 2 || (uintptr_t)*u % 4)
		return -EINVAL;
	return 0;
}

int virtq_check(const struct guest_mem *gm, uint32_t size, uint32_t max_size, uint64_t desc,
		uint64_t avail, uint64_t used)
{
	uint8_t *d, *a, *u;

	return layout(gm, size, max_size, desc, avail, used, &d, &a, &u);
}

static void set_layout(struct virtq *q, uint32_t size, uint64_t desc, uint64_t avail,
		       uint64_t used, uint8_t *d, uint8_t *a, uint8_t *u, bool event_idx,
		       bool indirect)
{
	q->size = (uint16_t)size; /* 32768 fits; 65536 was refused by layout() */
	q->desc_gpa = desc;
	q->avail_gpa = avail;
	q->used_gpa = used;
	q->desc = (struct virtq_desc *)d;
	q->avail = (uint16_t *)a;
	q->used_hdr = (uint16_t *)u;
	q->used_ring = (struct virtq_used_elem *)(u + 4);
	q->avail_event = (uint16_t *)(u + 4 + 8ull * size);
	q->event_idx = event_idx;
	q->indirect = indirect;
}

/* Dirty tracking (Diff snapshots). Every write kite makes into guest RAM
 * after boot goes through a queue: the used ring (entries, idx, flags,
 * avail_event) written here, and the device-writable buffers of the chains
 * popped here, which devices fill (blk read data from io_uring and status
 * bytes, rng bytes, console input). So the queue marks, and no device has
 * to:
 * - the whole used ring whenever kite writes any of it: a few pages at most
 *   and one call, where precise marking would buy a smaller bitmap for
 *   nothing (the page is dirty either way);
 * - each writable buffer when its chain is popped, before any device can
 *   write into it. Conservative: a buffer the device fills partly or not at
 *   all is marked whole. Marking at pop is enough because a snapshot takes
 *   the marks only while the VM is paused and pausing drains what devices
 *   hold (blk_pause waits for its requests; rng and console fill and push
 *   within the call that popped), so no write lands after the take that
 *   was marked before it. */
static void mark_used(const struct virtq *q)
{
	gm_mark_dirty(q->gm, q->used_gpa, 6 + 8ull * q->size);
}

int virtq_enable(struct virtq *q, uint32_t size, uint32_t max_size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect)
{
	uint8_t *d, *a, *u;

	if (layout(q->gm, size, max_size, desc, avail, used, &d, &a, &u) < 0)
		return -EINVAL;
	set_layout(q, size, desc, avail, used, d, a, u, event_idx, indirect);
	q->last_avail_idx = 0;
	q->used_idx = 0;
	q->signalled_used = 0;
	q->broken = false;
	q->notify_off = false;
	/* The device's own fields start clean, whatever the memory held
	 * before (a driver may reuse rings after a reset that came in the
	 * middle of a poll, with NO_NOTIFY still set). */
	__atomic_store_n(&q->used_hdr[0], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&q->used_hdr[1], 0, __ATOMIC_RELAXED);
	__atomic_store_n(q->avail_event, 0, __ATOMIC_RELAXED);
	mark_used(q);
	q->ready = true;
	return 0;
}

void virtq_get_state(const struct virtq *q, struct virtq_state *s)
{
	s->last_avail_idx = q->last_avail_idx;
	s->used_idx = q->used_idx;
	s->signalled_used = q->signalled_used;
	s->broken = q->broken;
	s->notify_off = q->notify_off;
}

bool virtq_state_ok(uint32_t size, const struct virtq_state *s)
{
	/* GUEST (snapshot): chains taken but not returned fit in the queue;
	 * the last signalled index is one the used index passed, at most
	 * 65535 pushes ago (any u16 distance), so only the first bound says
	 * anything. */
	return (uint16_t)(s->last_avail_idx - s->used_idx) <= size;
}

int virtq_restore(struct virtq *q, uint32_t size, uint32_t max_size, uint64_t desc,
		  uint64_t avail, uint64_t used, bool event_idx, bool indirect,
		  const struct virtq_state *s)
{
	uint8_t *d, *a, *u;

	if (layout(q->gm, size, max_size, desc, avail, used, &d, &a, &u) < 0 ||
	    !virtq_state_ok(size, s))
		return -EINVAL;
	set_layout(q, size, desc, avail, used, d, a, u, event_idx, indirect);
	q->last_avail_idx = s->last_avail_idx;
	q->used_idx = s->used_idx;
	q->signalled_used = s->signalled_used;
	q->broken = s->broken;
	q->notify_off = s->notify_off;
	q->ready = true;
	return 0;
}

void virtq_disable(struct virtq *q)
{
	const struct guest_mem *gm = q->gm;
	const char *name = q->name;
	uint32_t gen = q->gen + 1;

	memset(q, 0, sizeof(*q));
	q->gm = gm;
	q->name = name;
	q->gen = gen;
}

static int fail(struct virtq *q, const char *why)
{
	log_guest(q->name, "queue broken: %s", why);
	q->broken = true;
	return -EINVAL;
}

/* One fetch of a descriptor: the copy is what gets checked and used. The
 * compiler barrier stops the compiler from re-reading guest memory in place
 * of the local copy. `src` may be unaligned (indirect tables). */
static void read_desc(struct virtq_desc *dst, const uint8_t *src)
{
	memcpy(dst, src, sizeof(*dst));
	__asm__ __volatile__("" ::: "memory");
	dst->addr = le64toh(dst->addr);
	dst->len = le32toh(dst->len);
	dst->flags = le16toh(dst->flags);
	dst->next = le16toh(dst->next);
}

static int chain_add(struct virtq *q, struct virtq_chain *c, const struct virtq_desc *d)
{
	bool w = d->flags & VIRTQ_DESC_F_WRITE;
	void *host = NULL;

	if (c->nr >= VIRTQ_CHAIN_MAX)
		return fail(q, "chain has too many buffers");
	/* Readable buffers must all come before writable ones (2.7.4). */
	if (!w && c->nr > c->nr_out)
		return fail(q, "device-readable buffer after a writable one");
	/* GUEST: total length bounded by UINT32_MAX: used.len is 32-bit. */
	if ((uint64_t)c->out_len + c->in_len + d->len > UINT32_MAX)
		return fail(q, "chain longer than 4 GiB");
	if (d->len) {
		/* GUEST: addr/len, whole buffer inside one RAM region
		 * (gm_ptr is overflow-safe). */
		host = gm_ptr(q->gm, d->addr, d->len);
		if (!host)
			return fail(q, "buffer outside guest RAM");
		if (w)
			gm_mark_dirty(q->gm, d->addr, d->len);
	}
	c->buf[c->nr].host = host;
	c->buf[c->nr].len = d->len;
	c->buf[c->nr].write = w;
	c->nr++;
	if (w) {
		c->in_len += d->len;
	} else {
		c->nr_out++;
		c->out_len += d->len;
	}
	return 0;
}

/* avail_event = the index of the next buffer: the driver kicks when it makes
 * that one available. While the device polls, one less: no buffer the driver
 * adds from then on crosses it, so it does not kick. */
static void publish_avail_event(struct virtq *q)
{
	uint16_t ev = q->notify_off ? (uint16_t)(q->last_avail_idx - 1) : q->last_avail_idx;

	__atomic_store_n(q->avail_event, htole16(ev), __ATOMIC_RELAXED);
	mark_used(q);
}

static void set_used_flags(struct virtq *q, uint16_t flags)
{
	__atomic_store_n(&q->used_hdr[0], htole16(flags), __ATOMIC_RELAXED);
	mark_used(q);
}

void virtq_notify_off(struct virtq *q)
{
	if (!q->ready || q->notify_off)
		return;
	q->notify_off = true;
	if (q->event_idx)
		publish_avail_event(q);
	else
		set_used_flags(q, VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq_notify_on(struct virtq *q)
{
	uint16_t avail_idx;

	if (!q->ready)
		return false;
	q->notify_off = false;
	if (q->event_idx)
		publish_avail_event(q);
	else
		set_used_flags(q, 0);
	/* Full barrier: the request for kicks must be visible before we look
	 * at avail.idx, or a buffer added in between gets neither. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	avail_idx = le16toh(__atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE));
	return avail_idx != q->last_avail_idx;
}

int virtq_pop(struct virtq *q, struct virtq_chain *c)
{
	const uint8_t *table;
	uint32_t table_n, budget, idx;
	uint16_t avail_idx, pending, head;
	bool in_indirect = false;

	if (!q->ready)
		return 0;
	if (q->broken)
		return -EIO;

	/* Acquire: ring entries written before idx are visible after it. */
	avail_idx = le16toh(__atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE));
	pending = (uint16_t)(avail_idx - q->last_avail_idx);
	if (pending == 0 && q->event_idx && !q->notify_off) {
		/* Ask for a kick at the next buffer, then look again so that a
		 * buffer added before the driver saw avail_event is not lost. */
		publish_avail_event(q);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		avail_idx = le16toh(__atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE));
		pending = (uint16_t)(avail_idx - q->last_avail_idx);
	}
	if (pending == 0)
		return 0;
	/* GUEST: avail.idx may run at most `size` entries ahead. */
	if (pending > q->size)
		return fail(q, "avail index ran more than the queue size ahead");

	/* GUEST: slot masked by size (a power of two). */
	head = le16toh(__atomic_load_n(&q->avail[2 + (q->last_avail_idx & (q->size - 1))],
				       __ATOMIC_RELAXED));
	/* GUEST: head < size. */
	if (head >= q->size)
		return fail(q, "head index out of range");

	c->head = head;
	c->gen = q->gen;
	c->nr = c->nr_out = 0;
	c->out_len = c->in_len = 0;

	table = (const uint8_t *)q->desc;
	table_n = q->size;
	idx = head;
	/* A chain visits each table entry at most once: more hops than
	 * entries means a loop. */
	budget = table_n;
	for (;;) {
		struct virtq_desc d;

		if (budget-- == 0)
			return fail(q, "descriptor chain loops or exceeds its table");
		/* GUEST: idx < table_n (head and next checked below). */
		read_desc(&d, table + (uint64_t)idx * DESC_SIZE);

		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			uint8_t *t;

			if (!q->indirect)
				return fail(q, "INDIRECT not negotiated");
			if (in_indirect)
				return fail(q, "nested indirect table");
			if (d.flags & VIRTQ_DESC_F_NEXT)
				return fail(q, "INDIRECT combined with NEXT");
			/* GUEST: len nonzero multiple of 16; table in RAM. */
			if (d.len == 0 || d.len % DESC_SIZE)
				return fail(q, "bad indirect table length");
			t = gm_ptr(q->gm, d.addr, d.len);
			if (!t)
				return fail(q, "indirect table outside guest RAM");
			table = t;
			table_n = d.len / DESC_SIZE;
			budget = table_n;
			idx = 0;
			in_indirect = true;
			continue;
		}
		if (chain_add(q, c, &d) < 0)
			return -EINVAL;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		/* GUEST: next < entries of the current table. */
		if (d.next >= table_n)
			return fail(q, "next index out of range");
		idx = d.next;
	}

	q->last_avail_idx++;
	if (q->event_idx)
		publish_avail_event(q);
	return 1;
}

int virtq_chain_iov(const struct virtq_chain *c, struct iovec *iov, int max, int *nr_out,
		    int *nr_in)
{
	if (max < 0 || c->nr > (uint32_t)max)
		return -ENOSPC;
	for (uint32_t i = 0; i < c->nr; i++) {
		iov[i].iov_base = c->buf[i].host;
		iov[i].iov_len = c->buf[i].len;
	}
	*nr_out = (int)c->nr_out;
	*nr_in = (int)(c->nr - c->nr_out);
	return (int)c->nr;
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t len)
{
	struct virtq_used_elem *e;

	if (!q->ready)
		return;
	e = &q->used_ring[q->used_idx & (q->size - 1)];
	__atomic_store_n(&e->id, htole32((uint32_t)head), __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, htole32(len), __ATOMIC_RELAXED);
	q->used_idx++;
	/* Release: the element (and the data and status bytes written into
	 * the buffers before) is visible before the new index. */
	__atomic_store_n(&q->used_hdr[1], htole16(q->used_idx), __ATOMIC_RELEASE);
	mark_used(q);
}

bool virtq_should_notify(struct virtq *q)
{
	uint16_t old, now;

	if (!q->ready || q->used_idx == q->signalled_used)
		return false;
	/* Full barrier: our used.idx store must be visible before we read the
	 * driver's suppression state, or both sides may skip the wake-up. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	old = q->signalled_used;
	now = q->used_idx;
	q->signalled_used = now;
	if (q->event_idx) {
		uint16_t ev = le16toh(__atomic_load_n(&q->avail[2 + q->size], __ATOMIC_RELAXED));

		/* Notify when used_event lies in [old, now). */
		return (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
	}
	return !(le16toh(__atomic_load_n(&q->avail[0], __ATOMIC_RELAXED)) &
		 VIRTQ_AVAIL_F_NO_INTERRUPT);
}
