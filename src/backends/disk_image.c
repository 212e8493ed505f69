/* A disk image opened once: the file, its size and its lock, for as long
 * as the VM lives. Backends (disk_raw) are built and torn down on it, once
 * per machine, without opening the path again: a restart keeps working
 * after the path is gone, and no other process can take the image between
 * two machines. */
#include "backends/disk_image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static int image_size(struct disk_image *img)
{
	struct stat st;

	if (fstat(img->fd, &st) < 0) {
		log_info("disk", "%s: %s", img->path, strerror(errno));
		return -errno;
	}
	if (S_ISDIR(st.st_mode)) {
		log_info("disk", "%s: is a directory, not a disk image", img->path);
		return -EISDIR;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(img->fd, BLKGETSIZE64, &img->size) < 0) {
			log_info("disk", "%s: BLKGETSIZE64: %s", img->path, strerror(errno));
			return -errno;
		}
		return 0;
	}
	if (!S_ISREG(st.st_mode)) {
		log_info("disk", "%s: not a regular file or block device", img->path);
		return -EINVAL;
	}
	img->size = (uint64_t)st.st_size;
	return 0;
}

/* Through /proc/self/fd: the file kite opened, not whatever the path names
 * now. Without /proc (an image opened in a jail) there is none, and a ring
 * shares the locked description. */
static void open_ring_fd(struct disk_image *img, bool ro)
{
	int fl = fcntl(img->fd, F_GETFL);
	char path[32];

	if (fl < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", img->fd);
	img->ring_fd =
	    open(path, (ro ? O_RDONLY : O_RDWR) | (fl & (O_DIRECT | O_DSYNC | O_SYNC)) | O_CLOEXEC);
	img->has_ring_fd = img->ring_fd >= 0;
}

int disk_image_open(struct disk_image *img, const char *path, bool ro)
{
	int err;

	*img = (struct disk_image){.fd = -1, .ro = ro, .path = path};
	/* O_NONBLOCK: a FIFO given as the image must not block the open
	 * (image_size refuses it); cleared below, io_uring must not see it. */
	img->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
	if (img->fd < 0) {
		err = -errno;
		log_info("disk", "cannot open %s %s: %s", path, ro ? "read-only" : "read-write",
			 strerror(errno));
		return err;
	}
	err = image_size(img);
	if (err < 0)
		goto fail;
	if (fcntl(img->fd, F_SETFL, fcntl(img->fd, F_GETFL) & ~O_NONBLOCK) < 0) {
		err = -errno;
		goto fail;
	}
	/* flock belongs to the open file description: the dups backends take
	 * share it, so it lasts until the image and every backend are closed. */
	if (flock(img->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		log_info("disk", "%s: image is in use by another process (lock: %s)", path,
			 strerror(errno));
		goto fail;
	}
	open_ring_fd(img, ro);
	return 0;

fail:
	disk_image_close(img);
	return err;
}

void disk_image_close(struct disk_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	if (img->has_ring_fd)
		close(img->ring_fd);
	img->has_ring_fd = false;
}

void disk_image_release(struct disk_image *img)
{
	if (img->fd >= 0)
		(void)flock(img->fd, LOCK_UN); /* failing, the close below still frees it */
	disk_image_close(img);
}
