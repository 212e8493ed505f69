/* Private to src/backends/: the worker-thread fallback of disk_raw (used
 * when io_uring cannot be set up), and the request helpers both paths
 * share. Not for devices: they see only disk_raw.h. */
#ifndef KITE_BACKENDS_DISK_RAW_POOL_H
#define KITE_BACKENDS_DISK_RAW_POOL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/disk_raw.h"
#include "compiler.h"

#define DISK_RAW_POOL_THREADS 2

/* Embedded in struct disk_raw; the fields are the pool's own. */
struct disk_raw_pool {
	int fd;		       /* the backend's image fd */
	int efd;	       /* signalled after each finished request */
	uint64_t max_xfer;     /* 0, or DISK_RAW_TEST_XFER */
	uint64_t *dsync_syncs; /* the backend's counter, relaxed atomics */

	pthread_mutex_t lock;
	pthread_cond_t cond, idle;
	struct disk_req *todo_head, **todo_tail;
	struct disk_req *done_list;
	bool stop;
	bool cancel; /* workers read it between system calls */
	int busy;    /* workers holding a request */
	int nr_threads;
	pthread_t threads[DISK_RAW_POOL_THREADS];
};

/* Starts the workers; on failure nothing is left running. */
int disk_raw_pool_start(struct disk_raw_pool *p, int fd, int efd, uint64_t max_xfer,
			uint64_t *dsync_syncs) MUST_CHECK;
/* Joins the workers once they finish the request they hold; requests still
 * queued are forgotten (cancel first). */
void disk_raw_pool_stop(struct disk_raw_pool *p);
void disk_raw_pool_queue(struct disk_raw_pool *p, struct disk_req *r);
/* The finished requests (r->res set, r->cancelled for those that never
 * ran), linked through r->next, in no particular order; NULL if none. */
struct disk_req *disk_raw_pool_take(struct disk_raw_pool *p);
/* Without the lock: whether disk_raw_pool_take would likely find some. */
bool disk_raw_pool_ready(struct disk_raw_pool *p);
/* Queued requests move to the finished list marked cancelled; returns once
 * no worker holds a request (a worker stops its request between system
 * calls). The caller completes what disk_raw_pool_take then returns. */
void disk_raw_pool_cancel(struct disk_raw_pool *p);

/* disk_req.c: shared by the io_uring path and the pool. */
int disk_raw_req_iov(struct disk_req *r, uint64_t max, const struct iovec **iov,
		     int *cnt) MUST_CHECK;
int disk_raw_req_progress(struct disk_req *r, ssize_t n) MUST_CHECK;
int disk_raw_falloc_mode(enum disk_op op);

#endif
