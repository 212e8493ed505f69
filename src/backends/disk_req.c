/* A disk request's own arithmetic, shared by the io_uring path
 * (disk_raw.c) and the worker threads (disk_raw_pool.c), so that neither
 * calls into the other: the fallocate mode of an op, the iovecs of the next
 * system call of a transfer the kernel cut short, and folding a result in. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>

#include "backends/disk_raw_pool.h"

int disk_raw_falloc_mode(enum disk_op op)
{
	if (op == DISK_WRITE_ZEROES)
		return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
}

/* The iovecs for the next system call of a READ/WRITE: the caller's own
 * at first, then a copy that skips the r->xfered bytes already moved. At
 * most max bytes (0: no cap) so tests can cut transfers without 2 GiB. */
int disk_raw_req_iov(struct disk_req *r, uint64_t max, const struct iovec **iov, int *cnt)
{
	uint64_t skip = r->xfered, left = r->len - r->xfered;
	int n = 0;

	if (max)
		left = MIN(left, max);
	if (skip == 0 && left == r->len) {
		*iov = r->iov;
		*cnt = r->iovcnt;
		return 0;
	}
	if (!r->rest) {
		r->rest = calloc((size_t)MAX(r->iovcnt, 1), sizeof(*r->rest));
		if (!r->rest)
			return -ENOMEM;
	}
	for (int i = 0; i < r->iovcnt && left; i++) {
		uint64_t len = r->iov[i].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		r->rest[n].iov_base = (char *)r->iov[i].iov_base + skip;
		r->rest[n].iov_len = (size_t)MIN(len - skip, left);
		left -= r->rest[n].iov_len;
		skip = 0;
		n++;
	}
	*iov = r->rest;
	*cnt = n;
	return 0;
}

/* Folds one transfer's result into the request. Returns 1 when more is
 * left to move, 0 when done, -errno on failure. */
int disk_raw_req_progress(struct disk_req *r, ssize_t n)
{
	if (n < 0)
		return (int)n;
	if ((uint64_t)n > r->len - r->xfered)
		return -EIO; /* iovecs longer than len: the caller's bug */
	r->xfered += (uint64_t)n;
	if (r->xfered == r->len)
		return 0;
	return n == 0 ? -EIO : 1; /* 0: end of file, image truncated under us? */
}

