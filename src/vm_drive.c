/* PATCH /drives/{id} after boot: the running drive gets a new backing file
 * and/or new rate limits. The new image is opened and locked here, kept in
 * struct vm_host (so that a restarted machine uses it, and it stays open
 * until kite ends) and recorded in the config (GET /vm/config, restarts).
 * Everything that can fail is done before anything changes: on error the
 * old disk and the old limits stay. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "virtio/blk.h"
#include "vm.h"
#include "vm_drive.h"

/* The same file as the one open now: flock on a second open file
 * description would refuse it, so share the old one (and its lock) and
 * measure it again, for a file that grew. */
static int reuse_same_file(const struct disk_image *old, const char *path, struct disk_image *img)
{
	struct stat a, b;
	off_t end;

	if (old->fd < 0 || stat(path, &a) < 0 || fstat(old->fd, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)
		return 1;
	*img = (struct disk_image){
	    .fd = fcntl(old->fd, F_DUPFD_CLOEXEC, 0), .ro = old->ro, .path = path};
	if (img->fd < 0)
		return -errno;
	if (old->has_ring_fd) {
		img->ring_fd = fcntl(old->ring_fd, F_DUPFD_CLOEXEC, 0);
		img->has_ring_fd = img->ring_fd >= 0;
	}
	end = lseek(img->fd, 0, SEEK_END);
	if (end < 0) {
		int rc = -errno;

		disk_image_close(img);
		return rc;
	}
	img->size = (uint64_t)end;
	return 0;
}

static int swap_path(struct vm_config *cfg, struct vm_host *host, int pos, struct virtio_blk *b,
		     const char *path, char *err, size_t errlen)
{
	struct disk_image img, *slot = &host->disks[pos];
	const char *p;
	int rc;

	if (config_strdup(cfg, path, &p)) {
		snprintf(err, errlen, "Out of memory.");
		return -ENOMEM;
	}
	rc = reuse_same_file(slot, p, &img);
	if (rc > 0)
		rc = disk_image_open(&img, p, cfg->disks[pos].read_only);
	if (rc) {
		snprintf(err, errlen, "Unable to patch the block device: %s: %s", p,
			 rc == -EBUSY ? "the image is in use by another process (locked)"
				      : strerror(-rc));
		config_release(cfg, p);
		return rc;
	}
	rc = virtio_blk_swap_disk(b, &img, err, errlen);
	if (rc) {
		disk_image_close(&img);
		config_release(cfg, p);
		return rc;
	}
	/* The old backend is closed: this was the image's last holder. */
	disk_image_close(slot);
	*slot = img;
	config_release(cfg, cfg->disks[pos].path);
	cfg->disks[pos].path = p;
	return 0;
}

int vm_update_drive(struct vm *vm, struct vm_config *cfg, struct vm_host *host,
		    const struct fc_drive_update *u, char *err, size_t errlen)
{
	struct fc_drive_update rec = *u;
	struct rate_limiter_config rl;
	struct rate_limiter check;
	struct virtio_blk *b;
	char name[DEVICE_NAME_MAX];
	int pos, rc;

	for (pos = 0; pos < cfg->nr_disks; pos++)
		if (!strcmp(cfg->disks[pos].id, u->id))
			break;
	if (pos == cfg->nr_disks) {
		snprintf(err, errlen, "Invalid block device ID: %s", u->id);
		return -ENOENT;
	}
	if (!vm || vm_stopping(vm)) {
		snprintf(err, errlen,
			 "Unable to patch the block device: the microVM is not running");
		return -EAGAIN;
	}
	snprintf(name, sizeof(name), "blk%d", pos);
	b = virtio_blk_from_device(device_list_find(&vm->devices, name));
	if (!b) {
		snprintf(err, errlen, "Unable to patch the block device: no device %s", name);
		return -ENODEV;
	}
	fc_rl_update_limits(&u->rl, &cfg->disks[pos].rl, &rl);
	/* Limits are checked before the disk changes: one call, one outcome. */
	if (u->rl.given && rate_limiter_init(&check, &rl, 0) < 0) {
		snprintf(err, errlen,
			 "Unable to patch the block device: invalid rate limiter "
			 "(refill_time above %llu ms)",
			 (unsigned long long)RATE_LIMIT_MAX_REFILL_MS);
		return -EINVAL;
	}
	if (u->path && (rc = swap_path(cfg, host, pos, b, u->path, err, errlen)))
		return rc;
	if (u->rl.given && (rc = virtio_blk_set_rate_limiter(b, &rl))) {
		snprintf(err, errlen, "Unable to patch the block device: rate limiter: %s%s",
			 strerror(-rc), u->path ? " (the new backing file is in use)" : "");
		return rc;
	}
	rec.path = NULL; /* recorded by swap_path */
	rc = fc_apply_drive_update(cfg, &rec, err, errlen);
	if (!rc)
		log_info(name, "drive %s updated%s%s", u->id, u->path ? ": backing file " : "",
			 u->path ? u->path : "");
	return rc;
}
