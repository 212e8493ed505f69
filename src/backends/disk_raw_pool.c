/* disk_raw's fallback when io_uring_queue_init fails (old kernel, seccomp,
 * RLIMIT_MEMLOCK): worker threads run each request with plain
 * preadv/pwritev2/fdatasync/fallocate, put it on a finished list and
 * signal the backend's eventfd; disk_raw.c completes it on the event-loop
 * thread. Owns the workers, their queues and their cancellation. */
#include "backends/disk_raw_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"
#include "sandbox/seccomp.h"

/* The whole request, 0 or -errno, as io_uring would run it step by step.
 * Between system calls it stops when a cancel is pending. */
static int do_sync(struct disk_raw_pool *p, struct disk_req *r)
{
	const struct iovec *iov;
	int cnt, err;
	ssize_t n;

	switch (r->op) {
	case DISK_READ:
	case DISK_WRITE:
		do {
			if (__atomic_load_n(&p->cancel, __ATOMIC_RELAXED))
				return -ECANCELED;
			err = disk_raw_req_iov(r, p->max_xfer, &iov, &cnt);
			if (err < 0)
				return err;
			if (r->op == DISK_READ)
				n = preadv(p->fd, iov, cnt, (off_t)(r->off + r->xfered));
			else
				n = pwritev2(p->fd, iov, cnt, (off_t)(r->off + r->xfered),
					     r->dsync ? RWF_DSYNC : 0);
			if (n < 0 && errno == EINTR)
				err = 1;
			else
				err = disk_raw_req_progress(r, n < 0 ? -errno : n);
		} while (err > 0);
		return err;
	case DISK_FLUSH:
		return fdatasync(p->fd) < 0 ? -errno : 0;
	default:
		err =
		    fallocate(p->fd, disk_raw_falloc_mode(r->op), (off_t)r->off, (off_t)r->len) < 0
			? -errno
			: 0;
		if (err == -EOPNOTSUPP && r->op == DISK_WRITE_ZEROES) {
			/* No ZERO_RANGE here (tmpfs, some filesystems): a hole
			 * reads back as zeroes too, which is all the spec asks. */
			r->retried = true;
			r->op = DISK_WRITE_ZEROES_UNMAP;
			return do_sync(p, r);
		}
		if (err == 0 && r->dsync) {
			__atomic_fetch_add(p->dsync_syncs, 1, __ATOMIC_RELAXED);
			err = fdatasync(p->fd) < 0 ? -errno : 0;
		}
		return err;
	}
}

static void *worker(void *arg)
{
	struct disk_raw_pool *p = arg;
	uint64_t one = 1;

	int rc;

	/* Named (for a seccomp report and /proc), then its own filter before
	 * the first request (a failure: no worker). */
	prctl(PR_SET_NAME, "kite-disk", 0, 0, 0);
	rc = seccomp_enter(SECCOMP_ROLE_DISK);

	if (rc) {
		log_err("disk", "worker: cannot load its seccomp filter: %s", strerror(-rc));
		return NULL;
	}
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct disk_req *r;

		while (!p->todo_head && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		r = p->todo_head;
		p->todo_head = r->next;
		if (!p->todo_head)
			p->todo_tail = &p->todo_head;
		p->busy++;
		pthread_mutex_unlock(&p->lock);

		r->res = do_sync(p, r);

		pthread_mutex_lock(&p->lock);
		r->next = p->done_list;
		__atomic_store_n(&p->done_list, r, __ATOMIC_RELEASE);
		if (--p->busy == 0)
			pthread_cond_broadcast(&p->idle);
		if (write(p->efd, &one, sizeof(one)) < 0) {
			/* Counter full: already signalled. */
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void join_all(struct disk_raw_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nr_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->nr_threads = 0;
}

int disk_raw_pool_start(struct disk_raw_pool *p, int fd, int efd, uint64_t max_xfer,
			uint64_t *dsync_syncs)
{
	*p = (struct disk_raw_pool){
	    .fd = fd, .efd = efd, .max_xfer = max_xfer, .dsync_syncs = dsync_syncs};
	p->todo_tail = &p->todo_head;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->idle, NULL);
	for (int i = 0; i < DISK_RAW_POOL_THREADS; i++) {
		int err = pthread_create(&p->threads[i], NULL, worker, p);

		if (err) {
			disk_raw_pool_stop(p);
			return -err;
		}
		p->nr_threads++;
	}
	return 0;
}

void disk_raw_pool_stop(struct disk_raw_pool *p)
{
	join_all(p);
	pthread_cond_destroy(&p->idle);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
}

void disk_raw_pool_queue(struct disk_raw_pool *p, struct disk_req *r)
{
	pthread_mutex_lock(&p->lock);
	r->next = NULL;
	*p->todo_tail = r;
	p->todo_tail = &r->next;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

struct disk_req *disk_raw_pool_take(struct disk_raw_pool *p)
{
	struct disk_req *list;

	pthread_mutex_lock(&p->lock);
	list = p->done_list;
	__atomic_store_n(&p->done_list, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
	return list;
}

bool disk_raw_pool_ready(struct disk_raw_pool *p)
{
	return __atomic_load_n(&p->done_list, __ATOMIC_ACQUIRE) != NULL;
}

void disk_raw_pool_cancel(struct disk_raw_pool *p)
{
	struct disk_req *r;

	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->cancel, true, __ATOMIC_RELAXED);
	while ((r = p->todo_head)) {
		p->todo_head = r->next;
		r->cancelled = true;
		r->next = p->done_list;
		__atomic_store_n(&p->done_list, r, __ATOMIC_RELEASE);
	}
	p->todo_tail = &p->todo_head;
	while (p->busy)
		pthread_cond_wait(&p->idle, &p->lock);
	__atomic_store_n(&p->cancel, false, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
}
