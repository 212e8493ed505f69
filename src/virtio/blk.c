/* virtio-blk device: config space, feature bits, taking requests off the
 * queue (the parser is blk_req.c), completions, polling and state. A request
 * is {header (16 bytes, device-readable), data, status (last
 * device-writable byte)} spread over any arrangement of buffers.
 *
 * Requests complete on the event loop. A reset (or QueueReady=0) with
 * requests in flight stays incomplete until the last one is back: the core
 * keeps Status reading non-zero and refuses new pops, and those completions
 * write nothing into the guest; nobody waits. Pause completes what is in
 * flight itself (disk_raw_drain, on the event-loop thread that runs pause)
 * and gives a request parked by the rate limit back to the ring
 * (blk_limit.c), so a saved state holds no request. Its state section
 * (after the core's): u64 capacity in sectors, which must match the disk it
 * is restored onto, then the rate limiter (rate_limiter_save), whose limits
 * must match this device's. */
#include "virtio/blk_priv.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/disk_raw.h"
#include "clock.h"
#include "log.h"

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void build_config(struct virtio_blk *b)
{
	uint64_t cap = htole64(b->capacity);

	memset(b->config, 0, sizeof(b->config));
	memcpy(b->config + 0, &cap, 8);
	put32(b->config + 12, VIRTIO_BLK_SEG_MAX); /* seg_max */
	put32(b->config + 20, VIRTIO_BLK_SECTOR);
	put32(b->config + 36, VIRTIO_BLK_MAX_DISCARD_SECTORS); /* max_discard_sectors */
	put32(b->config + 40, 1);                              /* max_discard_seg */
	put32(b->config + 44, 8); /* discard alignment: 4 KiB, whole fs blocks */
	put32(b->config + 48, VIRTIO_BLK_MAX_DISCARD_SECTORS); /* max_write_zeroes_sectors */
	put32(b->config + 52, 1);                              /* max_write_zeroes_seg */
	b->config[56] = 1;                                     /* write_zeroes_may_unmap */
}

static uint64_t blk_features(void *dev)
{
	struct virtio_blk *b = dev;
	uint64_t f = VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH);

	if (b->ro)
		f |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		f |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) | VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_blk *b = dev;

	memcpy(data, b->config + off, len);
}


static void complete_now(struct virtio_blk *b, struct blk_req *r, uint8_t status)
{
	/* Popped in this call, or a parked chain blk_limit_unpark just found
	 * live: nothing can have made it stale. */
	*r->status = status;
	if (status != VIRTIO_BLK_S_OK)
		b->errors++;
	virtio_dev_push(&b->vd, r->qidx, r->gen, r->head,
			status == VIRTIO_BLK_S_OK ? r->used_len : 1);
	free(r);
}

static void count_done(struct virtio_blk *b, const struct disk_req *d, int res)
{
	if (res < 0) {
		b->errors++;
		return;
	}
	if (d->op == DISK_READ) {
		b->reads++;
		b->bytes_read += d->len;
	} else if (d->op == DISK_WRITE) {
		b->writes++;
		b->bytes_written += d->len;
	}
}

static void blk_done(struct disk_req *d, int res)
{
	struct blk_req *r = container_of(d, struct blk_req, d);
	struct virtio_blk *b = r->b;

	if (res < 0 && res != -ECANCELED)
		log_guest(b->vd.name, "I/O error at byte %llu: %s", (unsigned long long)d->off,
			  strerror(-res));
	virtio_dev_lock(&b->vd);
	if (res == -ECANCELED) {
		/* Teardown cancelled it: the buffers may hold anything, and
		 * the guest learns nothing more. */
		virtio_dev_drop(&b->vd, r->qidx);
	} else {
		count_done(b, d, res);
		/* A reset or QueueReady=0 since the pop: the driver is about
		 * to own the buffers again, so not even the status byte may be
		 * written (push then writes nothing either). */
		if (virtio_dev_live(&b->vd, r->qidx, r->gen))
			*r->status = res < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		virtio_dev_push(&b->vd, r->qidx, r->gen, r->head, res < 0 ? 1 : r->used_len);
	}
	b->inflight--;
	if (b->throttled && b->inflight <= virtio_dev_queue_size(&b->vd, r->qidx) / 2) {
		/* Room again: the queue runs once more on the event loop (or
		 * at the next kick when there are no eventfds). */
		b->throttled = false;
		virtio_dev_kick_self(&b->vd, r->qidx);
	}
	virtio_dev_unlock(&b->vd);
	free(r);
}

static void blk_batch_end(void *ctx)
{
	struct virtio_blk *b = ctx;

	virtio_dev_lock(&b->vd);
	virtio_dev_notify(&b->vd, 0);
	virtio_dev_unlock(&b->vd);
}


/* Starts a parsed request (r->st): completes it now or hands it to the
 * backend. */
static void dispatch(struct virtio_blk *b, struct blk_req *r)
{
	int err;

	if (r->st != BLK_SUBMIT) {
		complete_now(b, r, r->st);
		return;
	}
	r->d.done = blk_done;
	err = disk_raw_submit(b->disk, &r->d);
	if (err < 0) {
		log_guest(b->vd.name, "cannot queue I/O: %s", strerror(-err));
		complete_now(b, r, VIRTIO_BLK_S_IOERR);
		return;
	}
	if (r->d.dsync)
		b->dsync++;
	b->inflight++;
}

/* False when the rate limit parked the request (blk_limit.c). */
static bool handle(struct virtio_blk *b, uint32_t qidx, const struct virtq_chain *c)
{
	struct blk_req *r;
	uint8_t *status = NULL;
	int nout, nin;

	/* The status byte: last byte of the last non-empty writable buffer. */
	for (uint32_t i = c->nr; i-- > c->nr_out;) {
		if (c->buf[i].len) {
			status = (uint8_t *)c->buf[i].host + c->buf[i].len - 1;
			break;
		}
	}
	if (!status) {
		log_guest(b->vd.name, "request without a status byte");
		b->errors++;
		virtio_dev_push(&b->vd, qidx, c->gen, c->head, 0);
		return true;
	}
	r = calloc(1, sizeof(*r) + c->nr * sizeof(struct iovec));
	if (!r) {
		*status = VIRTIO_BLK_S_IOERR;
		b->errors++;
		virtio_dev_push(&b->vd, qidx, c->gen, c->head, 1);
		return true;
	}
	r->b = b;
	r->qidx = qidx;
	r->gen = c->gen;
	r->head = c->head;
	r->status = status;
	r->used_len = 1;
	if (virtq_chain_iov(c, r->iov, (int)c->nr, &nout, &nin) < 0) {
		complete_now(b, r, VIRTIO_BLK_S_IOERR); /* cannot happen */
		return true;
	}
	/* Hide the status byte from the data: trim it off its buffer. */
	for (int i = nout + nin; i-- > nout;) {
		if (r->iov[i].iov_len) {
			r->iov[i].iov_len--;
			break;
		}
	}
	r->st = blk_parse(b, r, c, nout, nin);
	if (!blk_limit_admit(b, r))
		return false;
	dispatch(b, r);
	return true;
}

/* Takes requests (lock held) until the queue is empty, the core's per-call
 * budget is spent (the core then re-signals the queue), a queue's worth is
 * in flight, or the rate limit parked one. *took says whether any came. */
static void take(struct virtio_blk *b, uint32_t qidx, bool *took)
{
	uint32_t size = virtio_dev_queue_size(&b->vd, qidx);

	while (size) {
		if (b->inflight >= size) {
			b->throttled = true;
			return;
		}
		if (b->parked) {
			/* First in line: nothing passes it. */
			struct blk_req *r = blk_limit_unpark(b);

			if (r) {
				dispatch(b, r);
				*took = true;
			} else if (b->parked) {
				return; /* the timer brings it back */
			}
			continue;
		}
		if (virtio_dev_pop(&b->vd, qidx, &b->chain) != 1)
			return;
		if (!handle(b, qidx, &b->chain))
			return;
		*took = true;
	}
}

static int blk_queue_notify(void *dev, uint32_t qidx)
{
	struct virtio_blk *b = dev;
	bool took = false;

	take(b, qidx, &took);
	disk_raw_kick(b->disk);
	virtio_dev_notify(&b->vd, qidx);
	return 0;
}

/* One call stays at most this long on the event loop, so that other devices
 * and the host's input are served however busy the disk is. */
#define BLK_POLL_MAX_NS 1000000ull

/* Device-side polling (the ops->poll hook, after blk_queue_notify, lock
 * released). Each kick costs the guest a VM exit (35-70 us on the PVM build
 * hosts); a driver that submits its next request soon after a completion
 * need not kick at all if kite is still looking. So: tell the driver kicks
 * are not needed, then take requests and reap completions until poll_ns pass
 * without either, then ask for kicks again and take what came in between.
 * The lock is taken per pass, never across the wait. */
static void blk_poll(void *dev, uint32_t qidx)
{
	struct virtio_blk *b = dev;
	uint64_t start, now, last;

	if (!b->poll_ns)
		return;
	start = last = clock_mono_ns();
	virtio_dev_notify_off(&b->vd, qidx);
	for (;;) {
		bool took = false;

		virtio_dev_lock(&b->vd);
		virtio_dev_begin(&b->vd, qidx); /* each pass: a queue's worth */
		take(b, qidx, &took);
		if (took)
			virtio_dev_notify(&b->vd, qidx); /* requests completed inline */
		virtio_dev_unlock(&b->vd);
		if (took)
			disk_raw_kick(b->disk);
		if (disk_raw_poll(b->disk)) /* interrupts via blk_batch_end */
			took = true;
		now = clock_mono_ns();
		if (took)
			last = now;
		if (now - last >= b->poll_ns || now - start >= BLK_POLL_MAX_NS)
			break;
		__builtin_ia32_pause();
	}
	/* Buffers added after the last look and before the driver saw the
	 * request for kicks were not kicked: take them now (with kicks on,
	 * anything later is kicked as usual). */
	if (virtio_dev_notify_on(&b->vd, qidx)) {
		virtio_dev_lock(&b->vd);
		virtio_dev_begin(&b->vd, qidx);
		blk_queue_notify(b, qidx);
		virtio_dev_unlock(&b->vd);
	}
}

/* Runs once nothing is in flight (the core waits for that, see core.h). */
static void blk_reset(void *dev)
{
	struct virtio_blk *b = dev;

	b->throttled = false;
	blk_limit_reset(b);
}

/* Event-loop thread (or the only thread), lock not held: the core already
 * takes nothing new; complete what is in flight here, since the loop that
 * would deliver the completions is the caller. */
static int blk_pause(void *dev)
{
	struct virtio_blk *b = dev;

	disk_raw_drain(b->disk);
	virtio_dev_lock(&b->vd);
	blk_limit_pause(b);
	virtio_dev_unlock(&b->vd);
	return 0;
}

/* Lock not held. A swap while the VM was paused changed the config: the
 * driver hears of it now. */
static void blk_resume(void *dev)
{
	struct virtio_blk *b = dev;

	virtio_dev_lock(&b->vd);
	if (b->config_pending) {
		b->config_pending = false;
		virtio_dev_config_changed(&b->vd);
	}
	virtio_dev_unlock(&b->vd);
}

static int blk_save(void *dev, struct state_buf *out)
{
	struct virtio_blk *b = dev;

	state_put_u64(out, b->capacity);
	blk_limit_save(b, out);
	return 0;
}

static void blk_load(void *dev, struct state_reader *in, uint32_t version, void *scratch)
{
	struct virtio_blk *b = dev;
	uint64_t cap = state_get_u64(in);

	(void)version;
	if (!in->err && cap != b->capacity)
		state_fail(in, "disk capacity: the snapshot's disk had %llu sectors, its image "
			   "now has %llu (restore with the disks the snapshot was taken with)",
			   (unsigned long long)cap, (unsigned long long)b->capacity);
	blk_limit_load(b, in, scratch);
}

static void blk_apply(void *dev, const void *scratch)
{
	struct virtio_blk *b = dev;

	b->throttled = false;
	blk_limit_apply(b, scratch);
}

static void blk_stats(void *dev, struct device_stats *out)
{
	struct virtio_blk *b = dev;

	device_stat(out, "reads", b->reads);
	device_stat(out, "writes", b->writes);
	device_stat(out, "bytes_read", b->bytes_read);
	device_stat(out, "bytes_written", b->bytes_written);
	device_stat(out, "errors", b->errors);
	device_stat(out, "inflight", b->inflight);
	device_stat(out, "dsync_requests", b->dsync);
	device_stat(out, "throttled", b->limited);
}

static void blk_destroy(void *dev)
{
	virtio_blk_free(dev);
}

static const struct device_ops blk_dops = VIRTIO_DEVICE_OPS("virtio-blk");

static const struct virtio_dev_ops blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK,
	.num_queues = 1,
	.queue_max = VIRTIO_BLK_QUEUE_MAX,
	.config_size = VIRTIO_BLK_CONFIG_SIZE,
	.device_ops = &blk_dops,
	.features = blk_features,
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.poll = blk_poll,
	.reset = blk_reset,
	.pause = blk_pause,
	.resume = blk_resume,
	.save = blk_save,
	.state_size = sizeof(struct rate_limiter),
	.load = blk_load,
	.apply = blk_apply,
	.stats = blk_stats,
	.destroy = blk_destroy,
};

int virtio_blk_new(struct virtio_blk **out, const struct guest_mem *gm, struct evloop *loop,
		   const struct virtio_blk_opts *opts, const char *name)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint64_t size;
	int err;

	if (!b)
		return -ENOMEM;
	b->ro = opts->read_only;
	b->poll_ns = opts->poll_ns;
	b->disk_flags = opts->disk_flags;
	err = blk_limit_init(b, opts, loop);
	if (err < 0)
		goto fail;
	if (opts->image)
		err = disk_raw_open_image(&b->disk, opts->image, opts->disk_flags, loop);
	else
		err = disk_raw_open(&b->disk, opts->path, b->ro, opts->disk_flags, loop);
	if (err < 0)
		goto fail_limit;
	size = disk_raw_size(b->disk);
	b->capacity = size / VIRTIO_BLK_SECTOR;
	/* An image opened by main was warned about once, there. */
	if (size % VIRTIO_BLK_SECTOR && !opts->image)
		log_warn("virtio-blk", "%s: size %llu is not a multiple of 512; the last %llu "
			 "bytes are not visible to the guest", opts->path,
			 (unsigned long long)size, (unsigned long long)(size % VIRTIO_BLK_SECTOR));
	if (opts->serial)
		memcpy(b->id, opts->serial, strnlen(opts->serial, VIRTIO_BLK_ID_BYTES));
	build_config(b);
	err = virtio_dev_init(&b->vd, gm, &blk_ops, b, name ? name : "virtio-blk");
	if (err < 0)
		goto fail_disk;
	disk_raw_set_batch_end(b->disk, blk_batch_end, b);
	*out = b;
	return 0;

fail_disk:
	disk_raw_close(b->disk);
fail_limit:
	blk_limit_free(b);
fail:
	free(b);
	return err;
}

struct virtio_dev *virtio_blk_vdev(struct virtio_blk *b)
{
	return &b->vd;
}

struct device *virtio_blk_device(struct virtio_blk *b)
{
	return &b->vd.dev;
}

struct virtio_blk *virtio_blk_from_device(struct device *d)
{
	return d && d->ops == &blk_dops ? virtio_dev_from_device(d)->priv : NULL;
}

int virtio_blk_swap_disk(struct virtio_blk *b, const struct disk_image *img, char *err,
			 size_t errlen)
{
	struct disk_raw *nd, *old;
	bool own_pause;
	int rc;

	if (img->ro != b->ro) {
		snprintf(err, errlen, "%s: the new image must be %s, as the drive is", b->vd.name,
			 b->ro ? "read-only" : "read-write");
		return -EINVAL;
	}
	rc = disk_raw_open_image(&nd, img, b->disk_flags, b->loop);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot use %s: %s", b->vd.name, img->path,
			 strerror(-rc));
		return rc;
	}
	virtio_dev_lock(&b->vd);
	own_pause = !b->vd.quiesced; /* a paused VM: its devices are drained */
	virtio_dev_unlock(&b->vd);
	if (own_pause) {
		/* Completes what is in flight on the old disk (this is the
		 * loop that delivers its completions) and takes nothing new. */
		rc = virtio_dev_pause_op(&b->vd.dev);
		if (rc < 0) {
			disk_raw_close(nd);
			snprintf(err, errlen, "%s: cannot quiesce the device: %s", b->vd.name,
				 strerror(-rc));
			return rc;
		}
	}
	virtio_dev_lock(&b->vd);
	old = b->disk;
	b->disk = nd;
	b->capacity = disk_raw_size(nd) / VIRTIO_BLK_SECTOR;
	build_config(b);
	disk_raw_set_batch_end(nd, blk_batch_end, b);
	/* The generation moves now, for a driver reading the config while
	 * the device is paused; the interrupt needs a device that is not
	 * quiesced, so blk_resume raises it (and moves the generation again,
	 * which is harmless: the driver only compares). */
	virtio_dev_config_changed(&b->vd);
	b->config_pending = true;
	virtio_dev_unlock(&b->vd);
	disk_raw_close(old); /* nothing in flight: pause drained it */
	if (img->size % VIRTIO_BLK_SECTOR)
		log_warn(b->vd.name, "%s: size %llu is not a multiple of 512; the last %llu "
			 "bytes are not visible to the guest", img->path,
			 (unsigned long long)img->size,
			 (unsigned long long)(img->size % VIRTIO_BLK_SECTOR));
	log_info(b->vd.name, "now backed by %s (%llu sectors)", img->path,
		 (unsigned long long)b->capacity);
	if (own_pause)
		virtio_dev_resume_op(&b->vd.dev);
	return 0;
}

uint64_t virtio_blk_capacity(const struct virtio_blk *b)
{
	return b->capacity;
}

uint32_t virtio_blk_inflight(struct virtio_blk *b)
{
	uint32_t n;

	virtio_dev_lock(&b->vd);
	n = b->inflight;
	virtio_dev_unlock(&b->vd);
	return n;
}

void virtio_blk_drain(struct virtio_blk *b)
{
	disk_raw_drain(b->disk);
}

void virtio_blk_free(struct virtio_blk *b)
{
	if (!b)
		return;
	/* Not a wait for the guest's I/O: the backend cancels what is still
	 * in flight (completions then arrive as -ECANCELED), and whatever
	 * completes anyway writes nothing into the guest any more. */
	virtio_dev_kill(&b->vd);
	disk_raw_close(b->disk);
	blk_limit_free(b);
	virtio_dev_free(&b->vd);
	free(b);
}
