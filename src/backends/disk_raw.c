/* Raw image backend, built on an image disk_image.c opened: runs requests
 * through io_uring (completion eventfd on the event loop; the ring restricted
 * to the disk's operations on its one registered file) or, when the ring
 * cannot be set up, through the worker threads of disk_raw_pool.c.
 * Owns the continuation of transfers the kernel cuts short, cancellation at
 * stop, and the per-instance counters. */
#include "backends/disk_raw.h"
#include "backends/disk_raw_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <limits.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "sandbox/seccomp.h"

#define URING_ENTRIES 256

struct disk_raw {
	int fd;
	bool ro;
	uint64_t size;
	uint64_t max_xfer; /* 0, or DISK_RAW_TEST_XFER */
	int efd;           /* completion eventfd, on the loop */
	struct evloop *loop;
	int inflight; /* event-loop thread only */
	bool cancelling;
	void (*batch_end)(void *ctx);
	void *batch_ctx;
	struct disk_raw_stats stats; /* updated with relaxed atomics */

	bool uring;
	struct io_uring ring;
	bool unsubmitted;
	/* SQEs prepared since the last io_uring_submit: the kernel has not
	 * seen them, so a cancel turns them into NOPs. */
	struct io_uring_sqe *unsub[URING_ENTRIES];
	unsigned nr_unsub;
	bool warned_cancel;

	struct disk_raw_pool pool; /* when !uring */
};

static void stat_add(uint64_t *p, uint64_t v)
{
	__atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

static bool is_rw(enum disk_op op)
{
	return op == DISK_READ || op == DISK_WRITE;
}

static bool is_falloc(enum disk_op op)
{
	return op == DISK_DISCARD || op == DISK_WRITE_ZEROES || op == DISK_WRITE_ZEROES_UNMAP;
}

static struct io_uring_sqe *get_sqe(struct disk_raw *d)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);

	if (!sqe) {
		/* SQ full: push what is queued to the kernel and retry. */
		io_uring_submit(&d->ring);
		d->nr_unsub = 0;
		sqe = io_uring_get_sqe(&d->ring);
	}
	return sqe;
}

#define DISK_RAW_ASYNC_MIN (128u << 10)

/* The disk's fd is the ring's fixed file 0 (uring_open): every SQE names
 * it by index, as the ring's restrictions require, even those that use no
 * file (NOP, cancel). */
#define FIXED_FD 0

static void fixed(struct io_uring_sqe *sqe)
{
	sqe->flags |= IOSQE_FIXED_FILE;
}

static int uring_prep(struct disk_raw *d, struct disk_req *r)
{
	struct io_uring_sqe *sqe = get_sqe(d);
	const struct iovec *iov;
	int cnt, err;

	if (!sqe)
		return -EBUSY;
	switch (r->op) {
	case DISK_READ:
	case DISK_WRITE:
		err = disk_raw_req_iov(r, d->max_xfer, &iov, &cnt);
		if (err < 0) {
			io_uring_prep_nop(sqe); /* an SQE cannot be given back */
			fixed(sqe);
			io_uring_sqe_set_data(sqe, NULL);
			return err;
		}
		if (r->op == DISK_READ)
			io_uring_prep_readv(sqe, FIXED_FD, iov, (unsigned)cnt, r->off + r->xfered);
		else
			io_uring_prep_writev2(sqe, FIXED_FD, iov, (unsigned)cnt, r->off + r->xfered,
					      r->dsync ? RWF_DSYNC : 0);
		/* A transfer that hits the page cache is done inside
		 * io_uring_enter, on the event loop, and cannot be cancelled:
		 * a guest queueing 256 x 160 MiB held the loop (and a stop)
		 * for seconds. Large ones go to io-wq workers instead; small
		 * ones stay inline, where a cache hit costs no thread hop. */
		if (r->len - r->xfered >= DISK_RAW_ASYNC_MIN)
			sqe->flags |= IOSQE_ASYNC;
		break;
	case DISK_FLUSH:
		io_uring_prep_fsync(sqe, FIXED_FD, IORING_FSYNC_DATASYNC);
		break;
	default:
		if (r->synced)
			io_uring_prep_fsync(sqe, FIXED_FD, IORING_FSYNC_DATASYNC);
		else
			io_uring_prep_fallocate(sqe, FIXED_FD, disk_raw_falloc_mode(r->op), r->off,
						r->len);
		break;
	}
	fixed(sqe);
	io_uring_sqe_set_data(sqe, r);
	d->unsub[d->nr_unsub++] = sqe;
	d->unsubmitted = true;
	return 0;
}

int disk_raw_submit(struct disk_raw *d, struct disk_req *r)
{
	int err = 0;

	if (d->ro && r->op != DISK_READ && r->op != DISK_FLUSH)
		return -EROFS;
	if (is_rw(r->op) && (r->iovcnt < 0 || r->iovcnt > IOV_MAX))
		return -EINVAL;
	r->retried = r->synced = r->cancelled = false;
	r->xfered = 0;
	r->rest = NULL;
	if (d->uring)
		err = uring_prep(d, r);
	else
		disk_raw_pool_queue(&d->pool, r);
	if (err == 0)
		d->inflight++;
	return err;
}

void disk_raw_kick(struct disk_raw *d)
{
	if (d->uring && d->unsubmitted) {
		int n = io_uring_submit(&d->ring);

		d->nr_unsub = 0; /* handed to the kernel's ring, even on error */
		if (n < 0)
			log_err("disk", "io_uring_submit: %s", strerror(-n));
		else
			d->unsubmitted = false;
	}
}

static void complete(struct disk_raw *d, struct disk_req *r, int res)
{
	struct disk_raw_stats *s = &d->stats;

	free(r->rest);
	r->rest = NULL;
	switch (r->op) {
	case DISK_READ:
		stat_add(&s->reads, 1);
		stat_add(&s->bytes_read, res == 0 ? r->len : 0);
		break;
	case DISK_WRITE:
		stat_add(&s->writes, 1);
		stat_add(&s->bytes_written, res == 0 ? r->len : 0);
		break;
	case DISK_FLUSH:
		stat_add(&s->flushes, 1);
		break;
	case DISK_DISCARD:
		stat_add(&s->discards, 1);
		break;
	default:
		stat_add(&s->write_zeroes, 1);
		break;
	}
	if (res == -ECANCELED)
		stat_add(&s->cancelled, 1);
	else if (res < 0)
		stat_add(&s->errors, 1);
	r->done(r, res);
}

/* Puts the next step of r on the ring. Returns 0 or -errno. */
static int uring_again(struct disk_raw *d, struct disk_req *r)
{
	int err = uring_prep(d, r);

	if (err == 0)
		d->inflight++;
	return err;
}

/* Turns a CQE result into done()'s, or puts the request's next step on
 * the ring: the rest of a cut transfer, the hole fallback of
 * WRITE_ZEROES, the fdatasync of a dsync DISCARD/WRITE_ZEROES. None of
 * these starts while a cancel runs. */
static void uring_finish(struct disk_raw *d, struct disk_req *r, int res)
{
	if (r->cancelled) {
		res = -ECANCELED;
	} else if (is_rw(r->op)) {
		res = disk_raw_req_progress(r, res);
		if (res > 0)
			res = d->cancelling ? -ECANCELED : uring_again(d, r);
		if (res == 0 && r->xfered < r->len)
			return; /* the rest is on the ring */
	} else if (r->op == DISK_WRITE_ZEROES && res == -EOPNOTSUPP && !r->retried &&
		   !d->cancelling) {
		/* No ZERO_RANGE here (tmpfs, some filesystems): a hole reads
		 * back as zeroes too, which is all the spec asks. */
		r->retried = true;
		r->op = DISK_WRITE_ZEROES_UNMAP;
		if (uring_again(d, r) == 0)
			return;
	} else if (is_falloc(r->op) && r->dsync && !r->synced && res == 0) {
		r->synced = true;
		res = d->cancelling ? -ECANCELED : uring_again(d, r);
		if (res == 0) {
			stat_add(&d->stats.dsync_syncs, 1);
			return;
		}
	}
	complete(d, r, res < 0 ? res : 0);
}

static unsigned process(struct disk_raw *d)
{
	uint64_t n;
	unsigned completed = 0;

	/* Read the eventfd first: a completion posted after this read
	 * signals it again, so none is left unseen. */
	if (read(d->efd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing signalled; still look. */
	}
	if (d->uring) {
		struct io_uring_cqe *cqe;

		while (io_uring_peek_cqe(&d->ring, &cqe) == 0) {
			struct disk_req *r = io_uring_cqe_get_data(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&d->ring, cqe);
			if (!r) {
				/* The cancel itself, or a NOP for an SQE that
				 * could not be used. */
				if (res == -EINVAL && !d->warned_cancel) {
					d->warned_cancel = true;
					log_warn("disk", "kernel cannot cancel I/O in "
						 "flight: waiting for it instead");
				}
				continue;
			}
			d->inflight--;
			uring_finish(d, r, res);
			completed++;
		}
		disk_raw_kick(d); /* next steps */
	} else {
		struct disk_req *list, *r;

		list = disk_raw_pool_take(&d->pool);
		while ((r = list)) {
			list = r->next;
			d->inflight--;
			complete(d, r, r->cancelled ? -ECANCELED : r->res);
			completed++;
		}
	}
	if (completed && d->batch_end)
		d->batch_end(d->batch_ctx);
	return completed;
}

unsigned disk_raw_poll(struct disk_raw *d)
{
	bool ready;

	if (d->inflight <= 0)
		return 0;
	/* Look without a system call (a poll loop asks often): the CQ ring
	 * in shared memory, or the pool's list (a hint; process() locks). */
	if (d->uring)
		ready = io_uring_cq_ready(&d->ring) > 0;
	else
		ready = disk_raw_pool_ready(&d->pool);
	return ready ? process(d) : 0;
}

static void on_event(void *ctx, uint32_t events)
{
	(void)events;
	process(ctx);
}

void disk_raw_drain(struct disk_raw *d)
{
	while (d->inflight > 0) {
		struct pollfd p = {.fd = d->efd, .events = POLLIN};

		disk_raw_kick(d);
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		process(d);
	}
}

/* io_uring: what the kernel has not seen becomes NOPs; one ASYNC_CANCEL
 * ends what waits in io-wq or on poll; then wait for the CQEs, which
 * leaves only requests inside a read/write (at most one per io-wq worker,
 * or waiting for a page already being read). */
static void uring_cancel(struct disk_raw *d)
{
	struct io_uring_sqe *sqe;

	for (unsigned i = 0; i < d->nr_unsub; i++) {
		struct disk_req *r = (void *)(uintptr_t)d->unsub[i]->user_data;

		io_uring_prep_nop(d->unsub[i]);
		fixed(d->unsub[i]);
		io_uring_sqe_set_data(d->unsub[i], r);
		if (r)
			r->cancelled = true;
	}
	d->nr_unsub = 0;
	sqe = get_sqe(d);
	if (sqe) {
		io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY | IORING_ASYNC_CANCEL_ALL);
		fixed(sqe);
		io_uring_sqe_set_data(sqe, NULL);
		d->unsubmitted = true;
	}
	disk_raw_kick(d);
	while (d->inflight > 0) {
		struct io_uring_cqe *cqe;
		int err = io_uring_wait_cqe(&d->ring, &cqe);

		if (err < 0 && err != -EINTR && err != -EAGAIN) {
			log_err("disk", "io_uring_wait_cqe: %s", strerror(-err));
			break;
		}
		process(d);
	}
}

/* Pool: queued requests end at once; workers finish the system call they
 * are in and then stop their request. */
static void pool_cancel(struct disk_raw *d)
{
	disk_raw_pool_cancel(&d->pool);
	while (d->inflight > 0 && process(d))
		;
}

void disk_raw_cancel(struct disk_raw *d)
{
	if (d->inflight <= 0)
		return;
	d->cancelling = true;
	if (d->uring)
		uring_cancel(d);
	else
		pool_cancel(d);
	d->cancelling = false;
}

void disk_raw_get_stats(const struct disk_raw *d, struct disk_raw_stats *s)
{
	const uint64_t *src = (const uint64_t *)&d->stats;
	uint64_t *dst = (uint64_t *)s;

	/* The struct is all uint64_t: copy it field by field, atomically. */
	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* seccomp cannot see a ring's operations, so the ring limits itself: it is
 * created disabled, given the disk's fd (fixed file 0) and the completion
 * eventfd, restricted to the operations above on fixed files, and only then
 * enabled; no register operation is allowed afterwards. */
/* Debian's liburing 2.3 declares io_uring_register_restrictions and
 * io_uring_enable_rings but does not export them: the system call itself. */
static int ring_register(struct disk_raw *d, unsigned op, void *arg, unsigned nr)
{
	return syscall(SYS_io_uring_register, d->ring.ring_fd, op, arg, nr) < 0 ? -errno : 0;
}

/* The ring registers the image's second description (disk_image.h:
 * ring_fd), which does not hold the image's flock, when there is one. */
static int uring_open(struct disk_raw *d, const struct disk_image *img)
{
	struct io_uring_params p = {.flags = IORING_SETUP_R_DISABLED};
	static const uint8_t ops[] = {IORING_OP_READV,	   IORING_OP_WRITEV, IORING_OP_FSYNC,
				      IORING_OP_FALLOCATE, IORING_OP_NOP,    IORING_OP_ASYNC_CANCEL};
	struct io_uring_restriction res[ARRAY_SIZE(ops) + 2];
	int err, rfd;

	memset(res, 0, sizeof(res));
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		res[i].opcode = IORING_RESTRICTION_SQE_OP;
		res[i].sqe_op = ops[i];
	}
	res[ARRAY_SIZE(ops)].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
	res[ARRAY_SIZE(ops)].sqe_flags = IOSQE_ASYNC;
	res[ARRAY_SIZE(ops) + 1].opcode = IORING_RESTRICTION_SQE_FLAGS_REQUIRED;
	res[ARRAY_SIZE(ops) + 1].sqe_flags = IOSQE_FIXED_FILE;
	err = io_uring_queue_init_params(URING_ENTRIES, &d->ring, &p);
	if (err)
		return err;
	/* The ring holds its own reference to the file. */
	rfd = img->has_ring_fd ? img->ring_fd : d->fd;
	err = io_uring_register_files(&d->ring, &rfd, 1);
	if (err || (err = io_uring_register_eventfd(&d->ring, d->efd)) ||
	    (err = ring_register(d, IORING_REGISTER_RESTRICTIONS, res, ARRAY_SIZE(res))) ||
	    (err = ring_register(d, IORING_REGISTER_ENABLE_RINGS, NULL, 0)))
		io_uring_queue_exit(&d->ring);
	return err;
}

int disk_raw_open_image(struct disk_raw **out, const struct disk_image *img, unsigned flags,
			struct evloop *loop)
{
	struct disk_raw *d;
	int err;

	if (img->fd < 0)
		return -EBADF;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->efd = -1;
	d->ro = img->ro;
	d->size = img->size;
	d->loop = loop;
	if (flags & DISK_RAW_TEST_SHORT_XFER)
		d->max_xfer = DISK_RAW_TEST_XFER;
	d->fd = fcntl(img->fd, F_DUPFD_CLOEXEC, 0);
	if (d->fd < 0) {
		err = -errno;
		log_info("disk", "%s: dup: %s", img->path, strerror(errno));
		goto fail;
	}
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0) {
		err = -errno;
		goto fail_fd;
	}
	if (!(flags & DISK_RAW_NO_URING) && !seccomp_test_disk_pool()) {
		err = uring_open(d, img);
		d->uring = err == 0;
		if (!d->uring)
			log_warn("disk", "%s: io_uring unavailable (%s), using worker threads",
				 img->path, strerror(-err));
	}
	if (!d->uring) {
		err = disk_raw_pool_start(&d->pool, d->fd, d->efd, d->max_xfer,
					  &d->stats.dsync_syncs);
		if (err < 0)
			goto fail_efd;
	}
	if (loop) {
		err = ev_add(loop, d->efd, EPOLLIN, on_event, d);
		if (err < 0)
			goto fail_io;
	}
	*out = d;
	return 0;

fail_io:
	if (d->uring)
		io_uring_queue_exit(&d->ring);
	else
		disk_raw_pool_stop(&d->pool);
fail_efd:
	close(d->efd);
fail_fd:
	close(d->fd);
fail:
	free(d);
	return err;
}

int disk_raw_open(struct disk_raw **out, const char *path, bool ro, unsigned flags,
		  struct evloop *loop)
{
	struct disk_image img;
	int err = disk_image_open(&img, path, ro);

	if (err < 0)
		return err;
	err = disk_raw_open_image(out, &img, flags, loop);
	/* The backend's dup keeps the open file description, and the lock. */
	disk_image_close(&img);
	return err;
}

void disk_raw_close(struct disk_raw *d)
{
	if (!d)
		return;
	/* Not drain: teardown must not wait for all the guest queued. */
	disk_raw_cancel(d);
	if (d->loop)
		ev_del(d->loop, d->efd);
	if (d->uring)
		io_uring_queue_exit(&d->ring);
	else
		disk_raw_pool_stop(&d->pool);
	close(d->efd);
	close(d->fd);
	free(d);
}

uint64_t disk_raw_size(const struct disk_raw *d)
{
	return d->size;
}

bool disk_raw_read_only(const struct disk_raw *d)
{
	return d->ro;
}

bool disk_raw_uses_uring(const struct disk_raw *d)
{
	return d->uring;
}

struct io_uring *disk_raw_test_ring(struct disk_raw *d)
{
	return d->uring ? &d->ring : NULL;
}

void disk_raw_set_batch_end(struct disk_raw *d, void (*fn)(void *ctx), void *ctx)
{
	d->batch_end = fn;
	d->batch_ctx = ctx;
}
