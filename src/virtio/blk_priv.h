/* virtio-blk internals shared by blk.c (the device: queues, completions,
 * state) and blk_req.c (the request parser). */
#ifndef KITE_VIRTIO_BLK_PRIV_H
#define KITE_VIRTIO_BLK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/disk_raw.h"
#include "virtio/blk.h"

struct virtio_blk {
	struct virtio_dev vd;
	struct disk_raw *disk;
	bool ro;
	uint64_t capacity; /* sectors */
	uint8_t id[VIRTIO_BLK_ID_BYTES];
	uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
	struct virtq_chain chain;
	uint64_t poll_ns;
	/* Requests handed to the backend and not completed (core lock).
	 * A driver can re-offer buffers without waiting for them, so this is
	 * capped at the queue size: each costs host memory and I/O. */
	uint32_t inflight;
	bool throttled; /* stopped popping at the cap; blk_done resumes */
	/* Counters (core lock). */
	uint64_t reads, writes, bytes_read, bytes_written, errors, dsync;
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

/* Parses one chain (r->iov holds its buffers, the status byte trimmed off;
 * nout device-readable ones first). Returns a status to complete with now,
 * or BLK_SUBMIT when r->d is ready for the backend. */
#define BLK_SUBMIT 0xffu
uint8_t blk_parse(struct virtio_blk *b, struct blk_req *r, const struct virtq_chain *c, int nout,
		  int nin);

#endif
