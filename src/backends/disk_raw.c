/* Raw image backend: open/lock/size the image, run requests through io_uring
 * (completion eventfd on the event loop) or, when io_uring_queue_init fails
 * (old kernel, seccomp, RLIMIT_MEMLOCK), through two worker threads that do
 * plain preadv/pwritev/fdatasync/fallocate and signal an eventfd. */
#include "backends/disk_raw.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <limits.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define URING_ENTRIES 256
#define POOL_THREADS 2

struct disk_raw {
	int fd;
	bool ro;
	uint64_t size;
	int efd; /* completion eventfd, on the loop */
	struct evloop *loop;
	int inflight; /* event-loop thread only */
	void (*batch_end)(void *ctx);
	void *batch_ctx;

	bool uring;
	struct io_uring ring;
	bool unsubmitted;

	/* Thread pool fallback. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct disk_req *todo_head, **todo_tail;
	struct disk_req *done_list;
	bool stop;
	int nr_threads;
	pthread_t threads[POOL_THREADS];
};

static int falloc_mode(enum disk_op op)
{
	if (op == DISK_WRITE_ZEROES)
		return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
}

/* Synchronous version of one request, for the pool. Returns like a CQE. */
static int do_sync(struct disk_raw *d, struct disk_req *r)
{
	ssize_t n;

	switch (r->op) {
	case DISK_READ:
		n = preadv(d->fd, r->iov, r->iovcnt, (off_t)r->off);
		return n < 0 ? -errno : (int)MIN(n, (ssize_t)INT32_MAX);
	case DISK_WRITE:
		n = pwritev2(d->fd, r->iov, r->iovcnt, (off_t)r->off, r->dsync ? RWF_DSYNC : 0);
		return n < 0 ? -errno : (int)MIN(n, (ssize_t)INT32_MAX);
	case DISK_FLUSH:
		return fdatasync(d->fd) < 0 ? -errno : 0;
	default:
		return fallocate(d->fd, falloc_mode(r->op), (off_t)r->off, (off_t)r->len) < 0
			       ? -errno
			       : 0;
	}
}

static int uring_prep(struct disk_raw *d, struct disk_req *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);

	if (!sqe) {
		/* SQ full: push what is queued to the kernel and retry. */
		io_uring_submit(&d->ring);
		sqe = io_uring_get_sqe(&d->ring);
		if (!sqe)
			return -EBUSY;
	}
	switch (r->op) {
	case DISK_READ:
		io_uring_prep_readv(sqe, d->fd, r->iov, (unsigned)r->iovcnt, r->off);
		break;
	case DISK_WRITE:
		io_uring_prep_writev2(sqe, d->fd, r->iov, (unsigned)r->iovcnt, r->off,
				      r->dsync ? RWF_DSYNC : 0);
		break;
	case DISK_FLUSH:
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		io_uring_prep_fallocate(sqe, d->fd, falloc_mode(r->op), r->off, r->len);
		break;
	}
	io_uring_sqe_set_data(sqe, r);
	d->unsubmitted = true;
	return 0;
}

static void pool_queue(struct disk_raw *d, struct disk_req *r)
{
	pthread_mutex_lock(&d->lock);
	r->next = NULL;
	*d->todo_tail = r;
	d->todo_tail = &r->next;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

int disk_raw_submit(struct disk_raw *d, struct disk_req *r)
{
	int err = 0;

	if (d->ro && r->op != DISK_READ && r->op != DISK_FLUSH)
		return -EROFS;
	if ((r->op == DISK_READ || r->op == DISK_WRITE) && (r->iovcnt < 0 || r->iovcnt > IOV_MAX))
		return -EINVAL;
	r->retried = false;
	if (d->uring)
		err = uring_prep(d, r);
	else
		pool_queue(d, r);
	if (err == 0)
		d->inflight++;
	return err;
}

void disk_raw_kick(struct disk_raw *d)
{
	if (d->uring && d->unsubmitted) {
		int n = io_uring_submit(&d->ring);

		if (n < 0)
			log_err("disk", "io_uring_submit: %s", strerror(-n));
		else
			d->unsubmitted = false;
	}
}

/* Turns a raw result into done()'s, or resubmits. Returns true when the
 * request was resubmitted rather than completed. */
static bool finish(struct disk_raw *d, struct disk_req *r, int res)
{
	if (r->op == DISK_WRITE_ZEROES && res == -EOPNOTSUPP && !r->retried) {
		/* No ZERO_RANGE here (tmpfs, some filesystems): a hole reads
		 * back as zeroes too, which is all the spec asks. */
		r->retried = true;
		r->op = DISK_WRITE_ZEROES_UNMAP;
		if (d->uring) {
			if (uring_prep(d, r) == 0) {
				d->inflight++;
				return true;
			}
		} else {
			res = do_sync(d, r);
		}
	}
	if (res >= 0 && (r->op == DISK_READ || r->op == DISK_WRITE) && (uint64_t)res != r->len)
		res = -EIO; /* short transfer: image truncated under us? */
	r->done(r, res < 0 ? res : 0);
	return false;
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
			d->inflight--;
			finish(d, r, res);
			completed++;
		}
		disk_raw_kick(d); /* resubmissions */
	} else {
		struct disk_req *list, *r;

		pthread_mutex_lock(&d->lock);
		list = d->done_list;
		__atomic_store_n(&d->done_list, NULL, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&d->lock);
		while ((r = list)) {
			list = r->next;
			d->inflight--;
			finish(d, r, r->res);
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
		ready = __atomic_load_n(&d->done_list, __ATOMIC_ACQUIRE) != NULL;
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

static void *worker(void *arg)
{
	struct disk_raw *d = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&d->lock);
	for (;;) {
		struct disk_req *r;

		while (!d->todo_head && !d->stop)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop)
			break;
		r = d->todo_head;
		d->todo_head = r->next;
		if (!d->todo_head)
			d->todo_tail = &d->todo_head;
		pthread_mutex_unlock(&d->lock);

		r->res = do_sync(d, r);

		pthread_mutex_lock(&d->lock);
		r->next = d->done_list;
		__atomic_store_n(&d->done_list, r, __ATOMIC_RELEASE);
		if (write(d->efd, &one, sizeof(one)) < 0) {
			/* Counter full: already signalled. */
		}
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

static int pool_start(struct disk_raw *d)
{
	d->todo_tail = &d->todo_head;
	for (int i = 0; i < POOL_THREADS; i++) {
		int err = pthread_create(&d->threads[i], NULL, worker, d);

		if (err)
			return -err;
		d->nr_threads++;
	}
	return 0;
}

static void pool_stop(struct disk_raw *d)
{
	pthread_mutex_lock(&d->lock);
	d->stop = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	for (int i = 0; i < d->nr_threads; i++)
		pthread_join(d->threads[i], NULL);
	d->nr_threads = 0;
}

static int image_size(struct disk_raw *d, const char *path)
{
	struct stat st;

	if (fstat(d->fd, &st) < 0) {
		log_info("disk", "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		log_info("disk", "%s: is a directory, not a disk image", path);
		return -EISDIR;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0) {
			log_info("disk", "%s: BLKGETSIZE64: %s", path, strerror(errno));
			return -errno;
		}
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		log_info("disk", "%s: not a regular file or block device", path);
		return -EINVAL;
	}
	d->size = (uint64_t)st.st_size;
	return 0;
}

int disk_raw_open(struct disk_raw **out, const char *path, bool ro, unsigned flags,
		  struct evloop *loop)
{
	struct disk_raw *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->efd = -1;
	d->ro = ro;
	d->loop = loop;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	/* O_NONBLOCK: a FIFO given as the image must not block the open
	 * (image_size refuses it); cleared below, io_uring must not see it. */
	d->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (d->fd < 0) {
		err = -errno;
		log_info("disk", "cannot open %s %s: %s", path, ro ? "read-only" : "read-write",
			strerror(errno));
		goto fail;
	}
	err = image_size(d, path);
	if (err < 0)
		goto fail_fd;
	if (fcntl(d->fd, F_SETFL, fcntl(d->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err = -errno;
		goto fail_fd;
	}
	if (flock(d->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_info("disk", "%s: image is in use by another process (lock: %s)", path,
			strerror(errno));
		goto fail_fd;
	}
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0) {
		err = -errno;
		goto fail_fd;
	}
	if (!(flags & DISK_RAW_NO_URING)) {
		err = io_uring_queue_init(URING_ENTRIES, &d->ring, 0);
		if (err == 0) {
			err = io_uring_register_eventfd(&d->ring, d->efd);
			if (err < 0)
				io_uring_queue_exit(&d->ring);
			else
				d->uring = true;
		}
		if (!d->uring)
			log_warn("disk", "%s: io_uring unavailable (%s), using worker threads",
				 path, strerror(-err));
	}
	if (!d->uring) {
		err = pool_start(d);
		if (err < 0)
			goto fail_pool;
	}
	if (loop) {
		err = ev_add(loop, d->efd, EPOLLIN, on_event, d);
		if (err < 0)
			goto fail_pool;
	}
	*out = d;
	return 0;

fail_pool:
	if (d->uring)
		io_uring_queue_exit(&d->ring);
	else
		pool_stop(d);
	close(d->efd);
fail_fd:
	close(d->fd);
fail:
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
	return err;
}

void disk_raw_close(struct disk_raw *d)
{
	if (!d)
		return;
	disk_raw_drain(d);
	if (d->loop)
		ev_del(d->loop, d->efd);
	if (d->uring)
		io_uring_queue_exit(&d->ring);
	else
		pool_stop(d);
	close(d->efd);
	close(d->fd);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
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

void disk_raw_set_batch_end(struct disk_raw *d, void (*fn)(void *ctx), void *ctx)
{
	d->batch_end = fn;
	d->batch_ctx = ctx;
}
