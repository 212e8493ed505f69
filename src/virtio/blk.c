/* virtio-blk device: config space, feature bits, and the request parser.
 * A request is {header (16 bytes, device-readable), data, status (last
 * device-writable byte)} spread over any arrangement of buffers. Everything
 * is checked (header length, status byte, sector range with overflow, data
 * length, read-only, segment lists) before the disk backend sees it; the
 * header and discard segments are copied out of guest memory once. */
#include "virtio/blk.h"

#include <endian.h>
#include <pthread.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/disk_raw.h"
#include "clock.h"
#include "log.h"

struct blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
#define DWZ_F_UNMAP 1u

struct virtio_blk {
	struct virtio_mmio t;
	struct disk_raw *disk;
	bool ro;
	uint64_t capacity; /* sectors */
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
	struct virtq_chain chain;
	uint64_t poll_ns;
	/* Requests handed to the backend and not completed (transport lock).
	 * A driver can re-offer buffers without waiting for them, so this is
	 * capped at the queue size: each costs host memory and I/O. */
	uint32_t inflight;
	bool throttled; /* stopped popping at the cap; blk_done resumes */
	/* Signalled (with the transport lock) when inflight drops to 0, for a
	 * reset that waits for the I/O still writing into guest buffers. */
	pthread_cond_t idle;
	bool async;     /* completions run on an event loop, not in drain */
	bool resetting; /* a reset waits for in-flight I/O: take nothing new */
};

struct blk_req {
	struct disk_req d;
	struct virtio_blk *b;
	uint32_t qidx, gen;
	uint16_t head;
	uint8_t *status;
	uint32_t used_len;
	struct iovec iov[]; /* one per chain buffer */
};

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void build_config(struct virtio_blk *b)
{
	uint64_t cap = htole64(b->capacity);

	memset(b->config, 0, sizeof(b->config));
	memcpy(b->config + 0, &cap, 8);
	put32(b->config + 12, VIRTIO_BLK_SEG_MAX);
	put32(b->config + 20, VIRTIO_BLK_SECTOR);
	put32(b->config + 36, VIRTIO_BLK_MAX_DISCARD_SECTORS); /* max_discard_sectors */
	put32(b->config + 40, 1);                              /* max_discard_seg */
	put32(b->config + 44, 8); /* discard alignment: 4 KiB, whole fs blocks */
	put32(b->config + 48, VIRTIO_BLK_MAX_DISCARD_SECTORS); /* max_write_zeroes_sectors */
	put32(b->config + 52, 1);                              /* max_write_zeroes_seg */
	b->config[56] = 1;                                     /* write_zeroes_may_unmap */
}

static uint64_t blk_features(void *dev)
{
	struct virtio_blk *b = dev;
	uint64_t f = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);

	if (b->ro)
		f |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		f |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_blk *b = dev;

	memcpy(data, b->config + off, len);
}

/* Copies `len` bytes out of the front of an iovec array and advances it
 * (the array is our own copy, so trimming the first entry is fine). The
 * caller checked that the array holds at least `len` bytes. */
static void iov_take(struct iovec **iov, int *cnt, void *dst, size_t len)
{
	uint8_t *d = dst;

	while (len && *cnt) {
		size_t n = MIN(len, (*iov)->iov_len);

		if (n) { /* zero-length buffers have no host pointer */
			memcpy(d, (*iov)->iov_base, n);
			d += n;
			len -= n;
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
		}
		if ((*iov)->iov_len == 0) {
			(*iov)++;
			(*cnt)--;
		}
	}
	__asm__ __volatile__("" ::: "memory"); /* use the copy, never re-read */
}

static void iov_give(struct iovec *iov, int cnt, const void *src, size_t len)
{
	const uint8_t *s = src;

	for (int i = 0; i < cnt && len; i++) {
		size_t n = MIN(len, iov[i].iov_len);

		if (!n)
			continue;
		memcpy(iov[i].iov_base, s, n);
		s += n;
		len -= n;
	}
}

/* GUEST: sector and nsec from the guest; true when [sector, sector+nsec)
 * lies inside the disk, overflow-safe. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t nsec)
{
	return sector <= b->capacity && nsec <= b->capacity - sector;
}

static void complete_now(struct virtio_blk *b, struct blk_req *r, uint8_t status)
{
	*r->status = status;
	virtio_mmio_push(&b->t, r->qidx, r->gen, r->head,
			 status == VIRTIO_BLK_S_OK ? r->used_len : 1);
	free(r);
}

static void blk_done(struct disk_req *d, int res)
{
	struct blk_req *r = container_of(d, struct blk_req, d);
	struct virtio_blk *b = r->b;

	if (res < 0)
		log_guest(b->t.name, "I/O error at byte %llu: %s", (unsigned long long)d->off,
			  strerror(-res));
	virtio_mmio_lock(&b->t);
	/* A reset since the pop: the guest may have reused the buffers, so
	 * not even the status byte may be written. */
	if (virtio_mmio_live(&b->t, r->qidx, r->gen)) {
		*r->status = res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		virtio_mmio_push(&b->t, r->qidx, r->gen, r->head, res < 0 ? 1 : r->used_len);
	}
	if (--b->inflight == 0)
		pthread_cond_broadcast(&b->idle);
	if (b->throttled && b->inflight <= virtio_mmio_queue_size(&b->t, r->qidx) / 2) {
		/* Room again: the queue runs once more on the event loop (or
		 * at the next kick when there are no eventfds). */
		b->throttled = false;
		virtio_mmio_kick_self(&b->t, r->qidx);
	}
	virtio_mmio_unlock(&b->t);
	free(r);
}

static void blk_batch_end(void *ctx)
{
	struct virtio_blk *b = ctx;

	virtio_mmio_lock(&b->t);
	virtio_mmio_notify(&b->t, 0);
	virtio_mmio_unlock(&b->t);
}

/* DISCARD / WRITE_ZEROES: exactly one segment (max_*_seg is 1). Returns a
 * status, or OK with r->d filled in for the backend. */
static uint8_t parse_dwz(struct virtio_blk *b, struct blk_req *r, uint32_t type,
			 struct iovec *out, int nout, uint32_t out_bytes)
{
	struct blk_dwz_seg seg;
	uint64_t sector;
	uint32_t num, flags;

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	/* GUEST: out_bytes from the chain; exactly one 16-byte segment. */
	if (out_bytes != sizeof(seg))
		return VIRTIO_BLK_S_IOERR;
	iov_take(&out, &nout, &seg, sizeof(seg));
	sector = le64toh(seg.sector);
	num = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if (flags & ~DWZ_F_UNMAP)
		return VIRTIO_BLK_S_UNSUPP;
	if (type == VIRTIO_BLK_T_DISCARD && (flags & DWZ_F_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	/* GUEST: num bounded by the advertised max, range by capacity. */
	if (num > VIRTIO_BLK_MAX_DISCARD_SECTORS || !range_ok(b, sector, num))
		return VIRTIO_BLK_S_IOERR;
	if (type == VIRTIO_BLK_T_DISCARD)
		r->d.op = DISK_DISCARD;
	else
		r->d.op = (flags & DWZ_F_UNMAP) ? DISK_WRITE_ZEROES_UNMAP : DISK_WRITE_ZEROES;
	r->d.off = sector * VIRTIO_BLK_SECTOR; /* < capacity * 512: no overflow */
	r->d.len = (uint64_t)num * VIRTIO_BLK_SECTOR;
	return VIRTIO_BLK_S_OK;
}

/* Parses one chain. Returns a status to complete with now, or 0xff when
 * r->d is ready for the backend. */
static uint8_t parse(struct virtio_blk *b, struct blk_req *r, const struct virtq_chain *c,
		     int nout, int nin)
{
	struct iovec *out = r->iov, *in = r->iov + nout;
	struct blk_outhdr hdr;
	uint32_t type, data_in, data_out;
	uint64_t sector;

	/* GUEST: out_len >= 16 before the header is read. */
	if (c->out_len < sizeof(hdr)) {
		log_guest(b->t.name, "request header too short (%u bytes)", c->out_len);
		return VIRTIO_BLK_S_IOERR;
	}
	iov_take(&out, &nout, &hdr, sizeof(hdr));
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	data_out = c->out_len - (uint32_t)sizeof(hdr);
	data_in = c->in_len - 1; /* in_len >= 1 checked by the caller */

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		uint32_t len = type == VIRTIO_BLK_T_IN ? data_in : data_out;

		if (type == VIRTIO_BLK_T_OUT && b->ro)
			return VIRTIO_BLK_S_IOERR;
		/* GUEST: len a multiple of 512; range checked in sectors,
		 * so sector * 512 cannot overflow afterwards. */
		if (len % VIRTIO_BLK_SECTOR || !range_ok(b, sector, len / VIRTIO_BLK_SECTOR)) {
			log_guest(b->t.name, "request beyond the disk or unaligned (sector %llu, "
				  "%u bytes)", (unsigned long long)sector, len);
			return VIRTIO_BLK_S_IOERR;
		}
		r->used_len = type == VIRTIO_BLK_T_IN ? data_in + 1 : 1;
		if (len == 0)
			return VIRTIO_BLK_S_OK;
		r->d.op = type == VIRTIO_BLK_T_IN ? DISK_READ : DISK_WRITE;
		r->d.iov = type == VIRTIO_BLK_T_IN ? in : out;
		r->d.iovcnt = type == VIRTIO_BLK_T_IN ? nin : nout;
		r->d.off = sector * VIRTIO_BLK_SECTOR;
		r->d.len = len;
		/* A driver that did not take FLUSH has no way to make data
		 * durable, so each write must be (VIRTIO 1.2, 5.2.6.2).
		 * Discard and write-zeroes are not made so (left open). */
		r->d.dsync = type == VIRTIO_BLK_T_OUT &&
			     !(b->t.negotiated & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
		return 0xff;
	}
	case VIRTIO_BLK_T_FLUSH:
		r->d.op = DISK_FLUSH;
		r->used_len = 1;
		return 0xff;
	case VIRTIO_BLK_T_GET_ID: {
		uint32_t n = MIN(data_in, (uint32_t)VIRTIO_BLK_ID_BYTES);

		iov_give(in, nin, b->id, n);
		r->used_len = n + 1;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		uint8_t st = parse_dwz(b, r, type, out, nout, data_out);

		r->used_len = 1;
		if (st != VIRTIO_BLK_S_OK || r->d.len == 0)
			return st;
		return 0xff;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

static void handle(struct virtio_blk *b, uint32_t qidx, const struct virtq_chain *c)
{
	struct blk_req *r;
	uint8_t *status = NULL;
	uint8_t st;
	int nout, nin, err;

	/* The status byte: last byte of the last non-empty writable buffer. */
	for (uint32_t i = c->nr; i-- > c->nr_out;) {
		if (c->buf[i].len) {
			status = (uint8_t *)c->buf[i].host + c->buf[i].len - 1;
			break;
		}
	}
	if (!status) {
		log_guest(b->t.name, "request without a status byte");
		virtio_mmio_push(&b->t, qidx, c->gen, c->head, 0);
		return;
	}
	r = calloc(1, sizeof(*r) + c->nr * sizeof(struct iovec));
	if (!r) {
		*status = VIRTIO_BLK_S_IOERR;
		virtio_mmio_push(&b->t, qidx, c->gen, c->head, 1);
		return;
	}
	r->b = b;
	r->qidx = qidx;
	r->gen = c->gen;
	r->head = c->head;
	r->status = status;
	r->used_len = 1;
	if (virtq_chain_iov(c, r->iov, (int)c->nr, &nout, &nin) < 0) {
		complete_now(b, r, VIRTIO_BLK_S_IOERR); /* cannot happen */
		return;
	}
	/* Hide the status byte from the data: trim it off its buffer. */
	for (int i = nout + nin; i-- > nout;) {
		if (r->iov[i].iov_len) {
			r->iov[i].iov_len--;
			break;
		}
	}
	st = parse(b, r, c, nout, nin);
	if (st != 0xff) {
		complete_now(b, r, st);
		return;
	}
	r->d.done = blk_done;
	err = disk_raw_submit(b->disk, &r->d);
	if (err < 0) {
		log_guest(b->t.name, "cannot queue I/O: %s", strerror(-err));
		complete_now(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	b->inflight++;
}

/* Takes requests (lock held): at most a queue's worth per call, and none
 * while a queue's worth is in flight. Returns true when it stopped at the
 * per-call budget with more perhaps waiting; *took says whether any came. */
static bool take(struct virtio_blk *b, uint32_t qidx, bool *took)
{
	uint32_t size = virtio_mmio_queue_size(&b->t, qidx);

	if (b->resetting)
		return false;
	for (uint32_t n = 0; n < size; n++) {
		if (b->inflight >= size) {
			b->throttled = true;
			return false;
		}
		if (virtio_mmio_pop(&b->t, qidx, &b->chain) != 1)
			return false;
		handle(b, qidx, &b->chain);
		*took = true;
	}
	return size > 0;
}

static int blk_queue_notify(void *dev, uint32_t qidx)
{
	struct virtio_blk *b = dev;
	bool took = false;

	if (take(b, qidx, &took))
		virtio_mmio_kick_self(&b->t, qidx); /* the rest after other work */
	disk_raw_kick(b->disk);
	virtio_mmio_notify(&b->t, qidx);
	return 0;
}

/* One call stays at most this long on the event loop, so that other devices
 * and the host's input are served however busy the disk is. */
#define BLK_POLL_MAX_NS 1000000ull

/* Device-side polling (the ops->poll hook, after blk_queue_notify, lock
 * released). Each kick costs the guest a VM exit (35-70 us on the PVM build
 * hosts); a driver that submits its next request soon after a completion
 * need not kick at all if kite is still looking. So: tell the driver kicks
 * are not needed, then take requests and reap completions until poll_ns pass
 * without either, then ask for kicks again and take what came in between.
 * The lock is taken per pass, never across the wait. */
static void blk_poll(void *dev, uint32_t qidx)
{
	struct virtio_blk *b = dev;
	uint64_t start, now, last;

	if (!b->poll_ns)
		return;
	start = last = clock_mono_ns();
	virtio_mmio_notify_off(&b->t, qidx);
	for (;;) {
		bool took = false;

		virtio_mmio_lock(&b->t);
		take(b, qidx, &took);
		if (took)
			virtio_mmio_notify(&b->t, qidx); /* requests completed inline */
		virtio_mmio_unlock(&b->t);
		if (took)
			disk_raw_kick(b->disk);
		if (disk_raw_poll(b->disk)) /* interrupts via blk_batch_end */
			took = true;
		now = clock_mono_ns();
		if (took)
			last = now;
		if (now - last >= b->poll_ns || now - start >= BLK_POLL_MAX_NS)
			break;
		__builtin_ia32_pause();
	}
	/* Buffers added after the last look and before the driver saw the
	 * request for kicks were not kicked: take them now (with kicks on,
	 * anything later is kicked as usual). */
	if (virtio_mmio_notify_on(&b->t, qidx)) {
		virtio_mmio_lock(&b->t);
		blk_queue_notify(b, qidx);
		virtio_mmio_unlock(&b->t);
	}
}

/* A reset may not complete while requests still in flight can write into
 * buffers the driver then owns again (VIRTIO 1.2, 2.4.1): a read lands in
 * guest memory whenever the backend gets to it. So the writer of status 0 (a
 * vCPU thread, transport lock held) waits here, the lock released, while the
 * event loop completes them (blk_done sees the new queue generation and
 * writes neither status nor used ring). Bounded: a host disk that hangs for
 * 5 s costs a warning, not a stuck vCPU. Without an event loop (unit tests,
 * fuzzers) completions run only in drain, on this thread: no wait. */
#define BLK_RESET_WAIT_S 5

static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;
	struct timespec until;

	if (!b->async || !b->inflight)
		return;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += BLK_RESET_WAIT_S;
	/* The queues are still enabled while we wait (the transport disables
	 * them after this returns): the event loop must not take more. */
	b->resetting = true;
	while (b->inflight)
		if (pthread_cond_timedwait(&b->idle, &b->t.lock, &until) == ETIMEDOUT)
			break;
	b->resetting = false;
	if (b->inflight)
		log_warn(b->t.name, "reset: %u requests still in flight after %d s; their "
			 "data may still land in guest memory", b->inflight, BLK_RESET_WAIT_S);
}

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_MAX,
	.config_size = VIRTIO_BLK_CONFIG_SIZE,
	.features = blk_features,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.poll = blk_poll,
	.reset = blk_reset,
};

static bool init_idle_cond(pthread_cond_t *c)
{
	pthread_condattr_t a;
	bool ok;

	/* CLOCK_MONOTONIC: the reset's bound must not move with the wall clock. */
	if (pthread_condattr_init(&a))
		return false;
	ok = !pthread_condattr_setclock(&a, CLOCK_MONOTONIC) && !pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	return ok;
}

int virtio_blk_new(struct virtio_blk **out, const struct guest_mem *gm, struct evloop *loop,
		   const struct virtio_blk_opts *opts, const char *name)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint64_t size;
	int err;

	if (!b)
		return -ENOMEM;
	b->ro = opts->read_only;
	b->poll_ns = opts->poll_ns;
	b->async = loop != NULL;
	if (!init_idle_cond(&b->idle)) {
		free(b);
		return -ENOMEM;
	}
	err = disk_raw_open(&b->disk, opts->path, b->ro, opts->disk_flags, loop);
	if (err < 0)
		goto fail;
	size = disk_raw_size(b->disk);
	b->capacity = size / VIRTIO_BLK_SECTOR;
	if (size % VIRTIO_BLK_SECTOR)
		log_warn("virtio-blk", "%s: size %llu is not a multiple of 512; the last %llu "
			 "bytes are not visible to the guest", opts->path,
			 (unsigned long long)size, (unsigned long long)(size % VIRTIO_BLK_SECTOR));
	if (opts->serial)
		memcpy(b->id, opts->serial, strnlen(opts->serial, VIRTIO_BLK_ID_BYTES));
	build_config(b);
	err = virtio_mmio_init(&b->t, gm, &blk_ops, b, name ? name : "virtio-blk");
	if (err < 0)
		goto fail_disk;
	disk_raw_set_batch_end(b->disk, blk_batch_end, b);
	*out = b;
	return 0;

fail_disk:
	disk_raw_close(b->disk);
fail:
	pthread_cond_destroy(&b->idle);
	free(b);
	return err;
}

struct virtio_mmio *virtio_blk_transport(struct virtio_blk *b)
{
	return &b->t;
}

uint64_t virtio_blk_capacity(const struct virtio_blk *b)
{
	return b->capacity;
}

uint32_t virtio_blk_inflight(struct virtio_blk *b)
{
	uint32_t n;

	virtio_mmio_lock(&b->t);
	n = b->inflight;
	virtio_mmio_unlock(&b->t);
	return n;
}

void virtio_blk_drain(struct virtio_blk *b)
{
	disk_raw_drain(b->disk);
}

void virtio_blk_free(struct virtio_blk *b)
{
	if (!b)
		return;
	disk_raw_close(b->disk); /* completions still use the transport */
	virtio_mmio_free(&b->t);
	pthread_cond_destroy(&b->idle);
	free(b);
}
