/* Unit tests for PATCH /drives's device half (src/virtio/blk.c
 * virtio_blk_swap_disk, src/virtio/blk_limit.c virtio_blk_set_rate_limiter):
 * a running device gets a bigger image, sees its capacity, ConfigGeneration
 * and a configuration interrupt; a refused swap keeps the old disk; new
 * limits free a request parked by the old ones. Driven through the
 * virtio-mmio transport on malloc'd guest memory, with a fake clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/disk_image.h"
#include "backends/disk_raw.h"
#include "virtio/blk.h"
#include "virtq_driver.h"

#define MEM_SIZE (4u << 20)
#define QSIZE 16u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define HDR 0x10000u
#define STATUS 0x18000u
#define DATA 0x100000u
#define SMALL (1u << 20)
#define BIG (3u << 20)
#define NS 1000000000ull

static uint64_t fake_ns = 1000 * NS;

static uint64_t fake_now(void)
{
	return fake_ns;
}

struct fx {
	char small[64], big[64];
	uint8_t *mem;
	struct guest_mem gm;
	struct virtio_blk *b;
	struct virtio_dev *t;
	struct vqd vq;
	uint16_t next;
	struct disk_image img;
};

static void make_file(char *path, size_t size, uint8_t fill)
{
	uint8_t *buf = malloc(size);
	int fd;

	strcpy(path, "/tmp/kite-test-swap-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(buf, fill, size);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const struct rate_limiter_config *rl = state && *state ? *state : NULL;
	struct virtio_blk_opts o = {.disk_flags = DISK_RAW_NO_URING, .now = fake_now, .rl = rl};

	make_file(f->small, SMALL, 0xaa);
	make_file(f->big, BIG, 0xbb);
	o.path = f->small;
	f->img.fd = -1;
	f->mem = aligned_alloc(4096, MEM_SIZE);
	memset(f->mem, 0, MEM_SIZE);
	gm_init_wrap(&f->gm, f->mem, MEM_SIZE);
	assert_int_equal(virtio_blk_new(&f->b, &f->gm, NULL, &o, "blk0"), 0);
	f->t = virtio_blk_vdev(f->b);
	f->vq = (struct vqd){f->mem, QSIZE, DESC, AVAIL, USED};
	assert_int_equal(vqd_bring_up(f->t, VQD_VERSION_1, &f->vq, 1), 0xf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_blk_free(f->b);
	disk_image_close(&f->img);
	unlink(f->small);
	unlink(f->big);
	free(f->mem);
	free(f);
	return 0;
}

/* Offers a 512-byte read of `sector` into DATA + slot * 512, kicks. */
static void offer_read(struct fx *f, uint64_t sector, unsigned slot)
{
	uint64_t hdr = HDR + slot * 16, st = STATUS + slot;
	uint32_t type = VIRTIO_BLK_T_IN, zero = 0;
	uint16_t h = f->next;

	memcpy(f->mem + hdr, &type, 4);
	memcpy(f->mem + hdr + 4, &zero, 4);
	memcpy(f->mem + hdr + 8, &sector, 8);
	f->mem[st] = 0xee;
	vqd_set_desc(&f->vq, h, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)((h + 1) % QSIZE));
	vqd_set_desc(&f->vq, (uint16_t)((h + 1) % QSIZE), DATA + slot * 512, 512,
		     VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, (uint16_t)((h + 2) % QSIZE));
	vqd_set_desc(&f->vq, (uint16_t)((h + 2) % QSIZE), st, 1, VIRTQ_DESC_F_WRITE, 0);
	f->next = (uint16_t)((h + 3) % QSIZE);
	vqd_offer(&f->vq, h);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

static uint8_t read_sector(struct fx *f, uint64_t sector)
{
	offer_read(f, sector, 0);
	virtio_blk_drain(f->b);
	return f->mem[STATUS];
}

static uint64_t config_capacity(struct fx *f)
{
	uint64_t cap;

	virtio_mmio_ops.read(f->t, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8);
	return cap;
}

static void test_swap_grows(void **state)
{
	struct fx *f = *state;
	char err[256] = "";
	uint32_t gen = vqd_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION);

	assert_int_equal(config_capacity(f), SMALL / 512);
	assert_int_equal(read_sector(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(f->mem[DATA], 0xaa);
	/* Past the old end: refused before the swap. */
	assert_int_equal(read_sector(f, SMALL / 512), VIRTIO_BLK_S_IOERR);
	vqd_wr(f->t, VIRTIO_MMIO_INTERRUPT_ACK, vqd_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS));

	assert_int_equal(disk_image_open(&f->img, f->big, false), 0);
	assert_int_equal(virtio_blk_swap_disk(f->b, &f->img, err, sizeof(err)), 0);
	assert_int_equal(virtio_blk_capacity(f->b), BIG / 512);
	assert_int_equal(config_capacity(f), BIG / 512);
	assert_int_not_equal(vqd_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_true(vqd_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG);
	/* The device runs on, on the new image. */
	assert_int_equal(read_sector(f, SMALL / 512), VIRTIO_BLK_S_OK);
	assert_int_equal(f->mem[DATA], 0xbb);
	assert_int_equal(read_sector(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(f->mem[DATA], 0xbb);
}

/* A request in flight when the swap comes completes on the old disk. */
static void test_swap_drains(void **state)
{
	struct fx *f = *state;
	char err[256] = "";

	offer_read(f, 1, 1); /* not drained: in flight on the old disk */
	assert_int_equal(disk_image_open(&f->img, f->big, false), 0);
	assert_int_equal(virtio_blk_swap_disk(f->b, &f->img, err, sizeof(err)), 0);
	assert_int_equal(virtio_blk_inflight(f->b), 0);
	assert_int_equal(f->mem[STATUS + 1], VIRTIO_BLK_S_OK);
	assert_int_equal(f->mem[DATA + 512], 0xaa);
	assert_int_equal(vqd_used_idx(&f->vq), 1);
}

/* A read-only image for a read-write drive: refused, the old disk stays. */
static void test_swap_refused(void **state)
{
	struct fx *f = *state;
	char err[256] = "";
	uint32_t gen = vqd_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION);

	assert_int_equal(disk_image_open(&f->img, f->big, true), 0);
	assert_int_equal(virtio_blk_swap_disk(f->b, &f->img, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "read-write"));
	assert_int_equal(config_capacity(f), SMALL / 512);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION), gen);
	assert_int_equal(read_sector(f, 0), VIRTIO_BLK_S_OK);
	assert_int_equal(f->mem[DATA], 0xaa);
}

/* While the device is paused (a paused VM): the swap happens, the
 * interrupt waits for resume. */
static void test_swap_while_paused(void **state)
{
	struct fx *f = *state;
	struct device *d = virtio_blk_device(f->b);
	char err[256] = "";

	vqd_wr(f->t, VIRTIO_MMIO_INTERRUPT_ACK, vqd_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS));
	assert_int_equal(d->ops->pause(d), 0);
	assert_int_equal(disk_image_open(&f->img, f->big, false), 0);
	assert_int_equal(virtio_blk_swap_disk(f->b, &f->img, err, sizeof(err)), 0);
	assert_int_equal(config_capacity(f), BIG / 512);
	assert_false(vqd_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG);
	d->ops->resume(d);
	assert_true(vqd_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_INT_CONFIG);
	assert_int_equal(read_sector(f, SMALL / 512), VIRTIO_BLK_S_OK);
}

static const struct rate_limiter_config one_iops = {.ops = {1, 0, 1000}};

/* New limits: a request parked by the old ones goes once the timer fires;
 * limits init refuses change nothing. */
static void test_set_rate_limiter(void **state)
{
	struct fx *f = *state;
	struct rate_limiter_config none = {0}, bad = {.ops = {1, 0, RATE_LIMIT_MAX_REFILL_MS + 1}};

	assert_int_equal(read_sector(f, 0), VIRTIO_BLK_S_OK); /* the one token */
	offer_read(f, 1, 1);
	virtio_blk_drain(f->b);
	assert_int_equal(f->mem[STATUS + 1], 0xee); /* parked */
	assert_true(virtio_blk_limit_wait_ns(f->b) > 0);
	assert_int_equal(virtio_blk_set_rate_limiter(f->b, &bad), -EINVAL);
	virtio_blk_limit_fire(f->b);
	virtio_blk_drain(f->b);
	assert_int_equal(f->mem[STATUS + 1], 0xee); /* still the old limit */
	assert_int_equal(virtio_blk_set_rate_limiter(f->b, &none), 0);
	assert_int_equal(virtio_blk_limit_wait_ns(f->b), 1); /* look again at once */
	virtio_blk_limit_fire(f->b);
	virtio_blk_drain(f->b);
	assert_int_equal(f->mem[STATUS + 1], VIRTIO_BLK_S_OK);
	assert_int_equal(read_sector(f, 2), VIRTIO_BLK_S_OK); /* unlimited now */
}

/* A limit on a device that had none (no timer yet: tests have no loop). */
static void test_rate_limiter_added(void **state)
{
	struct fx *f = *state;

	assert_int_equal(virtio_blk_set_rate_limiter(f->b, &one_iops), 0);
	assert_int_equal(read_sector(f, 0), VIRTIO_BLK_S_OK);
	offer_read(f, 1, 1);
	virtio_blk_drain(f->b);
	assert_int_equal(f->mem[STATUS + 1], 0xee);
	fake_ns += NS;
	virtio_blk_limit_fire(f->b);
	virtio_blk_drain(f->b);
	assert_int_equal(f->mem[STATUS + 1], VIRTIO_BLK_S_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_swap_grows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_swap_drains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_swap_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_swap_while_paused, setup, teardown),
	    cmocka_unit_test_prestate_setup_teardown(test_set_rate_limiter, setup, teardown,
						     (void *)&one_iops),
	    cmocka_unit_test_setup_teardown(test_rate_limiter_added, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
