/* Raw disk image backend: a regular file (or block device) accessed with
 * asynchronous I/O through io_uring, or through a small thread pool when
 * io_uring is unavailable. Completions are delivered on the event-loop
 * thread, in whatever order the I/O finishes. */
#ifndef KITE_BACKENDS_DISK_RAW_H
#define KITE_BACKENDS_DISK_RAW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

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
	bool dsync;              /* WRITE: durable on completion (RWF_DSYNC) */
	/* res is 0 when the whole request was done, -errno otherwise (a short
	 * transfer is -EIO). Runs on the event-loop thread (or inside
	 * disk_raw_drain). */
	void (*done)(struct disk_req *req, int res);

	/* Private to the backend. */
	bool retried;
	int res;
	struct disk_req *next;
};

struct disk_raw;

/* Set DISK_RAW_NO_URING to force the thread pool (tests). */
#define DISK_RAW_NO_URING 1u

/* Opens `path` read-write, or read-only when `ro`, and takes a lock on it
 * (exclusive for read-write, shared for read-only) so that two VMs cannot
 * write one image. The completion eventfd is registered on `loop`; loop may
 * be NULL when the caller drives completions with disk_raw_drain (tests,
 * fuzzers). Errors are logged with the path: -ENOENT, -EACCES, -EISDIR,
 * -EBUSY (locked), -EINVAL (not a file or block device). */
int disk_raw_open(struct disk_raw **out, const char *path, bool ro, unsigned flags,
		  struct evloop *loop) MUST_CHECK;
/* Drains in-flight requests (their done() runs), then closes. */
void disk_raw_close(struct disk_raw *d);

uint64_t disk_raw_size(const struct disk_raw *d);
bool disk_raw_read_only(const struct disk_raw *d);
bool disk_raw_uses_uring(const struct disk_raw *d);

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
/* Event-loop thread: completes the requests that have finished, without
 * waiting (device-side polling). Returns how many. */
unsigned disk_raw_poll(struct disk_raw *d);

#endif
