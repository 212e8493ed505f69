/* Raw disk image backend: a regular file (or block device), opened once as
 * a struct disk_image, accessed with asynchronous I/O through io_uring, or
 * through a small thread pool when io_uring is unavailable. Completions are
 * delivered on the event-loop thread, in whatever order the I/O finishes. */
#ifndef KITE_BACKENDS_DISK_RAW_H
#define KITE_BACKENDS_DISK_RAW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/disk_image.h"
#include "compiler.h"
#include "evloop.h"

enum disk_op {
	DISK_READ,
	DISK_WRITE,
	DISK_FLUSH,             /* fdatasync */
	DISK_DISCARD,           /* punch a hole, keep the size */
	DISK_WRITE_ZEROES,      /* zero range (allocated), hole as fallback */
	DISK_WRITE_ZEROES_UNMAP /* punch a hole: reads return zeroes */
};

struct disk_req {
	/* Filled by the caller; must stay valid until done() runs. */
	enum disk_op op;
	const struct iovec *iov; /* READ/WRITE; at most IOV_MAX entries */
	int iovcnt;
	uint64_t off;            /* bytes */
	uint64_t len;            /* READ/WRITE: sum of iov lengths; others: range */
	/* Durable on completion: WRITE with RWF_DSYNC; DISCARD and
	 * WRITE_ZEROES(_UNMAP) followed by an fdatasync. Ignored otherwise. */
	bool dsync;
	/* res is 0 when the whole request was done, -errno otherwise: -EIO
	 * when the image ended before the request did, -ECANCELED when
	 * disk_raw_cancel ended it. A transfer the kernel cut short (Linux
	 * moves at most 2 GiB - 4 KiB per call) is continued, not failed.
	 * Runs on the event-loop thread (or inside disk_raw_drain/cancel). */
	void (*done)(struct disk_req *req, int res);

	/* Private to the backend. */
	bool retried;   /* WRITE_ZEROES fell back to punching a hole */
	bool synced;    /* dsync DISCARD/WRITE_ZEROES: the fdatasync step */
	bool cancelled; /* ended by disk_raw_cancel before it ran */
	int res;
	uint64_t xfered;    /* READ/WRITE: bytes moved so far */
	struct iovec *rest; /* the remainder's iovecs once a transfer was cut */
	struct disk_req *next;
};

/* Per-instance counters, for metrics. A request counts once, when done()
 * runs; a request refused by disk_raw_submit does not count. */
struct disk_raw_stats {
	uint64_t reads, writes, flushes, discards, write_zeroes;
	uint64_t bytes_read, bytes_written; /* of requests that succeeded */
	uint64_t errors;    /* ended with an error other than -ECANCELED */
	uint64_t cancelled; /* ended with -ECANCELED */
	uint64_t dsync_syncs; /* fdatasyncs run for dsync DISCARD/WRITE_ZEROES */
};

struct disk_raw;

/* Set DISK_RAW_NO_URING to force the thread pool (tests). */
#define DISK_RAW_NO_URING 1u
/* Tests: each read or write system call moves at most DISK_RAW_TEST_XFER
 * bytes, so that the continuation of cut transfers runs without a 2 GiB
 * request. */
#define DISK_RAW_TEST_SHORT_XFER 2u
#define DISK_RAW_TEST_XFER 1000u

/* Builds a backend on an image opened by disk_image_open, read-only if the
 * image is. The backend dups the fd: the lock, held by the open file
 * description, stays with the image (and with every backend) until all are
 * closed, and the path is never looked up again, so a VM that restarts
 * builds a new backend on the same image while nobody else can take it.
 * The completion eventfd is registered on `loop`; loop may be NULL when the
 * caller drives completions with disk_raw_drain (tests, fuzzers). */
int disk_raw_open_image(struct disk_raw **out, const struct disk_image *img, unsigned flags,
			struct evloop *loop) MUST_CHECK;
/* disk_image_open, disk_raw_open_image, disk_image_close in one call (the
 * backend alone then holds the lock); errors as disk_image_open's. */
int disk_raw_open(struct disk_raw **out, const char *path, bool ro, unsigned flags,
		  struct evloop *loop) MUST_CHECK;
/* Cancels in-flight requests (disk_raw_cancel; their done() runs), then
 * closes. */
void disk_raw_close(struct disk_raw *d);

uint64_t disk_raw_size(const struct disk_raw *d);
bool disk_raw_read_only(const struct disk_raw *d);
bool disk_raw_uses_uring(const struct disk_raw *d);
/* Tests only: the ring (NULL with the thread pool), to check what its
 * restrictions refuse. */
struct io_uring *disk_raw_test_ring(struct disk_raw *d);

/* Called after each batch of completions, e.g. to raise one interrupt per
 * batch rather than one per request. */
void disk_raw_set_batch_end(struct disk_raw *d, void (*fn)(void *ctx), void *ctx);

/* Event-loop thread. Queues a request; 0, or -errno and done() will not
 * run. Requests beyond the file size are the caller's to refuse. */
int disk_raw_submit(struct disk_raw *d, struct disk_req *req) MUST_CHECK;
/* Starts every request queued since the last kick (one io_uring_submit for
 * a batch). The pool starts requests at once; kicking it is harmless. */
void disk_raw_kick(struct disk_raw *d);
/* Waits for and completes every request in flight. Event-loop thread, or
 * any thread while the loop is not running (tests, shutdown). */
void disk_raw_drain(struct disk_raw *d);
/* Ends every request in flight, each done() running with its real result
 * if it finished first or -ECANCELED, and returns once none can touch its
 * buffers any more. Queued requests are dropped without running; only
 * those already inside a system call are waited for, so the time taken
 * does not grow with what the guest queued. With io_uring on kernels
 * older than 5.19 (no IORING_ASYNC_CANCEL_ANY) it waits like drain. The
 * instance stays usable. Same threads as disk_raw_drain. */
void disk_raw_cancel(struct disk_raw *d);
/* Any thread; counters are read one by one (not a consistent snapshot). */
void disk_raw_get_stats(const struct disk_raw *d, struct disk_raw_stats *s);
/* Event-loop thread: completes the requests that have finished, without
 * waiting (device-side polling). Returns how many. */
unsigned disk_raw_poll(struct disk_raw *d);

#endif
