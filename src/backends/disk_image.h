/* A disk image opened, sized and locked once, on which backends are built
 * (disk_raw_open_image) as often as machines are. */
#ifndef KITE_BACKENDS_DISK_IMAGE_H
#define KITE_BACKENDS_DISK_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

struct disk_image {
	int fd; /* -1 when closed */
	bool ro;
	uint64_t size;	  /* bytes, as of disk_image_open */
	const char *path; /* for messages; not copied, must outlive the image */
	/* A second open of the same file, made while /proc is reachable (before
	 * a jail): its own description, which does not hold the lock, for an
	 * io_uring ring to register (the kernel frees a ring late, after kill -9
	 * too, and the next kite must not find the image locked meanwhile). */
	bool has_ring_fd;
	int ring_fd;
};

/* Opens `path` read-write, or read-only when `ro`, and takes a lock on it
 * (exclusive for read-write, shared for read-only) so that two VMs cannot
 * write one image. A FIFO never blocks the open. Errors are logged with the
 * path: -ENOENT, -EACCES, -EISDIR, -EBUSY (locked), -EINVAL (not a regular
 * file or block device). On error img->fd is -1. */
int disk_image_open(struct disk_image *img, const char *path, bool ro) MUST_CHECK;
/* Closes the image's own fd; the lock goes when the last backend built on
 * the image is closed too. Idempotent. */
void disk_image_close(struct disk_image *img);
/* The machine is gone for good: the lock is dropped now, then the image
 * closed. A ring the kernel frees late may still share the locked
 * description (a jailed kite's ring cannot reopen the image: no /proc),
 * and the next kite on the image must not find it locked. Idempotent. */
void disk_image_release(struct disk_image *img);

#endif
