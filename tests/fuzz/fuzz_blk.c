/* libFuzzer target for src/virtio/blk.c: fuzz-provided guest memory holds
 * the descriptor table, the avail ring and every request header, segment
 * and buffer; a virtio-blk device backed by a 1 MiB memfd processes it
 * through the mmio transport (io_uring or thread-pool backend, or a
 * rate-limited one on a fake clock whose refill timer is fired by hand),
 * optionally with a reset while I/O is in flight. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backends/disk_raw.h"
#include "log.h"
#include "virtio/blk.h"
#include "virtq_driver.h"

#define MEM_SIZE 65536u
#define DESC 0x0u
#define AVAIL 0x1000u
#define USED 0x2000u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fake_ns = 1000000000ull;

static uint64_t fake_now(void)
{
	return fake_ns;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	static struct guest_mem gm;
	static struct virtio_blk *devs[3];
	struct virtio_blk *b;
	struct virtio_dev *t;
	struct vqd q;
	uint8_t flags;

	if (!mem) {
		log_set_level(LOG_ERROR);
		mem = aligned_alloc(4096, MEM_SIZE);
		gm_init_wrap(&gm, mem, MEM_SIZE);
		for (int i = 0; i < 3; i++) {
			struct virtio_blk_opts o = {.serial = "fuzz"};
			char path[64];
			int fd = memfd_create("kite-fuzz-disk", 0);

			if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
				abort();
			snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
			o.path = path;
			o.disk_flags = i ? DISK_RAW_NO_URING : 0;
			/* The io_uring device polls its queue after kicks (briefly:
			 * each poll ends 2 us after the last progress). */
			o.poll_ns = i ? 0 : 2000;
			if (i == 2) { /* a few requests, then the limit */
				o.bps = 8192;
				o.iops = 4;
				o.burst = 4096;
				o.now = fake_now;
			}
			if (virtio_blk_new(&devs[i], &gm, NULL, &o, "fuzz-blk") < 0)
				abort();
		}
	}
	if (size < 2)
		return 0;
	flags = data[0];
	/* Bits 3 and 7: the device (the limited one when both are set). */
	b = devs[(flags >> 3) & 1 ? ((flags >> 7) ? 2 : 1) : 0];
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data + 1, size - 1 < MEM_SIZE ? size - 1 : MEM_SIZE);
	t = virtio_blk_vdev(b);

	q = (struct vqd){mem, 16u << ((flags >> 2) & 1), DESC, AVAIL, USED};
	vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
	vqd_bring_up(t, VQD_VERSION_1 | (uint32_t)(flags & 3) << 28 | 0x6244, &q, 1);

	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	if (flags & 0x10)
		vqd_wr(t, VIRTIO_MMIO_STATUS, 0); /* reset with I/O in flight */
	if (flags & 0x20) {
		/* The guest moves avail.idx on and kicks again before the
		 * first batch completes. */
		vqd_avail(&q)[1] += (uint16_t)(flags >> 6);
		vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	virtio_blk_drain(b);
	/* Whatever the limit parked: the timer brings it back (or drops it
	 * after a reset). The clock goes on across inputs, so the buckets
	 * are in any state. */
	for (int i = 0; i < 3 && virtio_blk_limit_wait_ns(b); i++) {
		fake_ns += virtio_blk_limit_wait_ns(b);
		virtio_blk_limit_fire(b);
		virtio_blk_drain(b);
	}
	return 0;
}
