/* Unit tests for src/virtio/blk.c: the request parser and its bounds against
 * a temporary image file, driven through the virtio-mmio transport on
 * malloc'd guest memory. Data-path tests run with io_uring and with the
 * thread-pool backend. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/disk_raw.h"
#include "evloop.h"
#include "virtio/blk.h"
#include "virtq_driver.h"
#include "virtio_state.h"

#define MEM_SIZE (4u << 20)
#define QSIZE 64u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define HDR 0x10000u
#define STATUS 0x18000u
#define DATA 0x100000u
#define IMG_SIZE (1u << 20)
#define CAP (IMG_SIZE / 512)

struct fx {
	unsigned flags; /* disk flags: the backend under test */
	uint64_t poll_ns;
	bool ro;
	char path[64];
	uint8_t *mem;
	struct guest_mem gm;
	struct virtio_blk *b;
	struct virtio_dev *t;
	struct vqd vq;
	uint16_t next_desc;
};

static unsigned uring_mode = 0, pool_mode = DISK_RAW_NO_URING;

static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + off / 512 + 1);
}

static void make_image(struct fx *f, size_t size)
{
	uint8_t *buf = malloc(size);
	int fd;

	strcpy(f->path, "/tmp/kite-test-blk-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < size; i++)
		buf[i] = pattern(i);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

static void open_dev(struct fx *f)
{
	struct virtio_blk_opts o = {.path = f->path, .read_only = f->ro,
				    .serial = "kite-serial-0001", .disk_flags = f->flags,
				    .poll_ns = f->poll_ns};

	f->mem = aligned_alloc(4096, MEM_SIZE);
	memset(f->mem, 0, MEM_SIZE);
	gm_init_wrap(&f->gm, f->mem, MEM_SIZE);
	assert_int_equal(virtio_blk_new(&f->b, &f->gm, NULL, &o, NULL), 0);
	f->t = virtio_blk_vdev(f->b);
	f->vq = (struct vqd){f->mem, QSIZE, DESC, AVAIL, USED};
	assert_int_equal(vqd_bring_up(f->t, VQD_VERSION_1, &f->vq, 1), 0xf);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->flags = *(unsigned *)*state;
	make_image(f, IMG_SIZE);
	open_dev(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	virtio_blk_free(f->b);
	unlink(f->path);
	free(f->mem);
	free(f);
	return 0;
}

struct seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/* Builds a chain from segs in the next free descriptors and offers it. */
static void offer_chain(struct fx *f, const struct seg *s, int n)
{
	uint16_t head = f->next_desc;

	for (int i = 0; i < n; i++) {
		uint16_t d = (uint16_t)((head + i) % QSIZE);
		uint16_t flags = (uint16_t)((s[i].write ? VIRTQ_DESC_F_WRITE : 0) |
					    (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));

		vqd_set_desc(&f->vq, d, s[i].addr, s[i].len, flags, (uint16_t)((d + 1) % QSIZE));
	}
	f->next_desc = (uint16_t)((head + n) % QSIZE);
	vqd_offer(&f->vq, head);
}

/* Offers a chain built from segs, kicks, completes all I/O. */
static void submit(struct fx *f, const struct seg *s, int n)
{
	offer_chain(f, s, n);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_blk_drain(f->b);
}

static void put_hdr(struct fx *f, uint64_t at, uint32_t type, uint64_t sector)
{
	uint32_t zero = 0;

	memcpy(f->mem + at, &type, 4);
	memcpy(f->mem + at + 4, &zero, 4);
	memcpy(f->mem + at + 8, &sector, 8);
}

static uint32_t last_used_len(struct fx *f)
{
	return vqd_used_len(&f->vq, (uint16_t)(vqd_used_idx(&f->vq) - 1));
}

/* A request: header, optional data, 1-byte status. Returns the status. */
static uint8_t simple(struct fx *f, uint32_t type, uint64_t sector, uint32_t len, bool data_in)
{
	struct seg s[3];
	int n = 0;
	uint16_t before = vqd_used_idx(&f->vq);

	put_hdr(f, HDR, type, sector);
	f->mem[STATUS] = 0xee;
	s[n++] = (struct seg){HDR, 16, false};
	if (len)
		s[n++] = (struct seg){DATA, len, data_in};
	s[n++] = (struct seg){STATUS, 1, true};
	submit(f, s, n);
	assert_int_equal(vqd_used_idx(&f->vq), (uint16_t)(before + 1));
	return f->mem[STATUS];
}

static void file_read(struct fx *f, uint64_t off, void *buf, size_t len)
{
	int fd = open(f->path, O_RDONLY);

	assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static uint64_t file_sum(struct fx *f)
{
	uint8_t *buf = malloc(IMG_SIZE);
	uint64_t h = 1469598103934665603ull;

	file_read(f, 0, buf, IMG_SIZE);
	for (size_t i = 0; i < IMG_SIZE; i++)
		h = (h ^ buf[i]) * 1099511628211ull;
	free(buf);
	return h;
}

static void test_config(void **state)
{
	struct fx *f = *state;
	uint64_t cap;
	uint32_t v;

	virtio_mmio_ops.read(f->t, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8);
	assert_int_equal(cap, CAP);
	virtio_mmio_ops.read(f->t, VIRTIO_MMIO_CONFIG + 20, (uint8_t *)&v, 4);
	assert_int_equal(v, 512);
	virtio_mmio_ops.read(f->t, VIRTIO_MMIO_CONFIG + 12, (uint8_t *)&v, 4);
	assert_int_equal(v, VIRTIO_BLK_SEG_MAX);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_DEVICE_ID), 2);
	vqd_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	v = vqd_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(v & (1u << VIRTIO_BLK_F_FLUSH));
	assert_true(v & (1u << VIRTIO_BLK_F_DISCARD));
	assert_true(v & (1u << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_true(v & (1u << VIRTIO_BLK_F_SEG_MAX));
	assert_true(v & (1u << VIRTIO_BLK_F_BLK_SIZE));
	assert_false(v & (1u << VIRTIO_BLK_F_RO));
}

static void test_read(void **state)
{
	struct fx *f = *state;
	struct seg s[4] = {
		{HDR, 16, false}, {DATA, 512, true}, {DATA + 0x1000, 512, true}, {STATUS, 1, true}};

	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 3);
	submit(f, s, 4);
	assert_int_equal(vqd_used_idx(&f->vq), 1);
	assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), 1025);
	for (int i = 0; i < 512; i++) {
		assert_int_equal(f->mem[DATA + i], pattern(3 * 512 + i));
		assert_int_equal(f->mem[DATA + 0x1000 + i], pattern(4 * 512 + i));
	}
}

static void test_read_status_in_data_buffer(void **state)
{
	struct fx *f = *state;
	/* Header split 8+8, data and status in one writable buffer. */
	struct seg s[3] = {{HDR, 8, false}, {HDR + 8, 8, false}, {DATA, 513, true}};

	put_hdr(f, HDR, VIRTIO_BLK_T_IN, CAP - 1);
	submit(f, s, 3);
	assert_int_equal(f->mem[DATA + 512], VIRTIO_BLK_S_OK);
	assert_int_equal(f->mem[DATA], pattern((CAP - 1) * 512));
	assert_int_equal(last_used_len(f), 513);
}

static void test_zero_length_buffers(void **state)
{
	struct fx *f = *state;
	/* Empty buffers around and inside the header, data and id. */
	struct seg s[7] = {{HDR, 0, false}, {HDR, 8, false},   {HDR + 8, 0, false},
			   {HDR + 8, 8, false}, {DATA, 0, true}, {DATA, 20, true},
			   {STATUS, 1, true}};

	put_hdr(f, HDR, VIRTIO_BLK_T_GET_ID, 0);
	submit(f, s, 7);
	assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_OK);
	assert_memory_equal(f->mem + DATA, "kite-serial-0001", 16);
	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 1);
	s[5].len = 512;
	submit(f, s, 7);
	assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_OK);
	assert_int_equal(f->mem[DATA + 7], pattern(512 + 7));
}

static void test_write(void **state)
{
	struct fx *f = *state;
	uint8_t back[1024];
	/* Header and data in one readable buffer. */
	struct seg s[2] = {{HDR, 16 + 1024, false}, {STATUS, 1, true}};

	put_hdr(f, HDR, VIRTIO_BLK_T_OUT, 10);
	memset(f->mem + HDR + 16, 0x5a, 1024);
	f->mem[STATUS] = 0xee;
	submit(f, s, 2);
	assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_OK);
	file_read(f, 10 * 512, back, sizeof(back));
	for (int i = 0; i < 1024; i++)
		assert_int_equal(back[i], 0x5a);
	file_read(f, 12 * 512, back, 1);
	assert_int_equal(back[0], pattern(12 * 512));
}

static void test_many_in_flight(void **state)
{
	struct fx *f = *state;

	/* 20 reads offered at once, completed in whatever order. */
	for (uint16_t i = 0; i < 20; i++) {
		struct seg s[3] = {{HDR + 32u * i, 16, false},
				   {DATA + 4096u * i, 512, true},
				   {STATUS + i, 1, true}};

		put_hdr(f, s[0].addr, VIRTIO_BLK_T_IN, i);
		f->mem[s[2].addr] = 0xee;
		offer_chain(f, s, 3);
	}
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_blk_drain(f->b);
	assert_int_equal(vqd_used_idx(&f->vq), 20);
	for (uint16_t i = 0; i < 20; i++) {
		assert_int_equal(f->mem[STATUS + i], VIRTIO_BLK_S_OK);
		assert_int_equal(f->mem[DATA + 4096u * i + 5], pattern(i * 512u + 5));
	}
	/* One interrupt at least, and the status says why. */
	assert_true(vqd_rd(f->t, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
}

static void test_short_header(void **state)
{
	struct fx *f = *state;
	struct seg s[3] = {{HDR, 10, false}, {DATA, 512, true}, {STATUS, 1, true}};

	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 0);
	f->mem[STATUS] = 0xee;
	memset(f->mem + DATA, 0xcc, 512);
	submit(f, s, 3);
	assert_int_equal(vqd_used_idx(&f->vq), 1);
	assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_IOERR);
	assert_int_equal(f->mem[DATA], 0xcc); /* nothing read */
}

static void test_no_status_byte(void **state)
{
	struct fx *f = *state;
	struct seg s[2] = {{HDR, 16, false}, {DATA, 0, true}};

	put_hdr(f, HDR, VIRTIO_BLK_T_FLUSH, 0);
	submit(f, s, 2);
	assert_int_equal(vqd_used_idx(&f->vq), 1);
	assert_int_equal(last_used_len(f), 0);
	/* The device is still usable. */
	assert_int_equal(simple(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
}

static void test_bounds(void **state)
{
	struct fx *f = *state;
	uint64_t sum = file_sum(f);

	/* Last sector: fine. One past: error. Straddling the end: error. */
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, CAP - 1, 512, true), VIRTIO_BLK_S_OK);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, CAP, 512, true), VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, CAP - 1, 1024, true), VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, CAP, 512, false), VIRTIO_BLK_S_IOERR);
	/* sector * 512 overflows 64 bits. */
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 1ull << 55, 512, true), VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, (1ull << 55) + 1, 512, false),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, UINT64_MAX, 512, true), VIRTIO_BLK_S_IOERR);
	/* Not a multiple of 512. */
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 0, 100, true), VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, 0, 513, false), VIRTIO_BLK_S_IOERR);
	/* Zero-length read at the very end: OK, no I/O. */
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, CAP, 0, true), VIRTIO_BLK_S_OK);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, CAP + 1, 0, true), VIRTIO_BLK_S_IOERR);
	assert_int_equal(file_sum(f), sum);
}

static void test_unknown_type(void **state)
{
	struct fx *f = *state;

	assert_int_equal(simple(f, 2, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(simple(f, 0xdeadbeef, 0, 512, true), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(last_used_len(f), 1);
}

static void test_get_id(void **state)
{
	struct fx *f = *state;

	memset(f->mem + DATA, 0xcc, 64);
	assert_int_equal(simple(f, VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);
	assert_memory_equal(f->mem + DATA, "kite-serial-0001\0\0\0\0", 20);
	assert_int_equal(last_used_len(f), 21);
	/* A short buffer gets a truncated id, nothing past it. */
	memset(f->mem + DATA, 0xcc, 64);
	assert_int_equal(simple(f, VIRTIO_BLK_T_GET_ID, 0, 4, true), VIRTIO_BLK_S_OK);
	assert_memory_equal(f->mem + DATA, "kite", 4);
	assert_int_equal(f->mem[DATA + 4], 0xcc);
}

static void test_flush(void **state)
{
	struct fx *f = *state;

	assert_int_equal(simple(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	assert_int_equal(last_used_len(f), 1);
}

static uint8_t dwz(struct fx *f, uint32_t type, uint64_t sector, uint32_t num, uint32_t flags,
		   int nseg)
{
	struct seg s[2] = {{HDR, 16 + 16u * (uint32_t)nseg, false}, {STATUS, 1, true}};

	put_hdr(f, HDR, type, 0);
	for (int i = 0; i < nseg; i++) {
		memcpy(f->mem + HDR + 16 + 16 * i, &sector, 8);
		memcpy(f->mem + HDR + 24 + 16 * i, &num, 4);
		memcpy(f->mem + HDR + 28 + 16 * i, &flags, 4);
	}
	f->mem[STATUS] = 0xee;
	submit(f, s, 2);
	return f->mem[STATUS];
}

static bool is_hole(struct fx *f, off_t off)
{
	int fd = open(f->path, O_RDONLY);
	off_t h = lseek(fd, off, SEEK_HOLE);

	close(fd);
	return h == off;
}

static bool all_zero_in_file(struct fx *f, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	bool z = true;

	file_read(f, off, buf, len);
	for (size_t i = 0; i < len; i++)
		z = z && !buf[i];
	free(buf);
	return z;
}

static void test_discard(void **state)
{
	struct fx *f = *state;

	assert_false(is_hole(f, 128 * 1024));
	/* 128 KiB at 128 KiB. */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 256, 256, 0, 1), VIRTIO_BLK_S_OK);
	assert_true(is_hole(f, 128 * 1024));
	assert_true(all_zero_in_file(f, 128 * 1024, 128 * 1024));
	assert_false(is_hole(f, 0));
	/* Unmap is not allowed on discard; unknown flags; bad segments. */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 1, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 2, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 2), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, CAP - 4, 8, 0, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, UINT64_MAX - 2, 8, 0, 1),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, VIRTIO_BLK_MAX_DISCARD_SECTORS + 1, 0, 1),
			 VIRTIO_BLK_S_IOERR);
	assert_false(is_hole(f, 0));
	/* Zero sectors: nothing to do. */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 0, 0, 1), VIRTIO_BLK_S_OK);
	/* Segment not a multiple of 16 bytes. */
	{
		struct seg s[2] = {{HDR, 16 + 8, false}, {STATUS, 1, true}};

		put_hdr(f, HDR, VIRTIO_BLK_T_DISCARD, 0);
		submit(f, s, 2);
		assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_IOERR);
	}
}

static void test_write_zeroes(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0, 1), VIRTIO_BLK_S_OK);
	assert_true(all_zero_in_file(f, 8 * 512, 8 * 512));
	assert_false(all_zero_in_file(f, 16 * 512, 512));
	/* With unmap: a hole. */
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 512, 128, 1, 1), VIRTIO_BLK_S_OK);
	assert_true(is_hole(f, 512 * 512));
	assert_true(all_zero_in_file(f, 512 * 512, 128 * 512));
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 4, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, CAP, 1, 0, 1), VIRTIO_BLK_S_IOERR);
}

static void test_read_only(void **state)
{
	struct fx *f = *state;
	uint64_t sum;
	uint32_t v;

	virtio_blk_free(f->b);
	free(f->mem);
	f->ro = true;
	open_dev(f);
	sum = file_sum(f);
	vqd_wr(f->t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	v = vqd_rd(f->t, VIRTIO_MMIO_DEVICE_FEATURES);
	assert_true(v & (1u << VIRTIO_BLK_F_RO));
	assert_false(v & (1u << VIRTIO_BLK_F_DISCARD));
	memset(f->mem + DATA, 0x77, 4096);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, 0, 4096, false), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 1, 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
	assert_int_equal(simple(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	assert_int_equal(file_sum(f), sum);
	assert_false(is_hole(f, 0));
}

static void test_reset_in_flight(void **state)
{
	struct fx *f = *state;
	struct seg s[3] = {{HDR, 16, false}, {DATA, 4096, true}, {STATUS, 1, true}};

	/* Offer and kick, but reset before the I/O is reaped. */
	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 0);
	f->mem[STATUS] = 0xee;
	offer_chain(f, s, 3);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vqd_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	virtio_blk_drain(f->b);
	assert_int_equal(vqd_used_idx(&f->vq), 0);
	assert_int_equal(f->mem[STATUS], 0xee); /* stale: not written */
}

static void test_odd_size_image(void **state)
{
	struct fx *f = *state;

	virtio_blk_free(f->b);
	free(f->mem);
	unlink(f->path);
	make_image(f, 512 * 3 + 100);
	open_dev(f);
	assert_int_equal(virtio_blk_capacity(f->b), 3);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 2, 512, true), VIRTIO_BLK_S_OK);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 3, 512, true), VIRTIO_BLK_S_IOERR);
}

static void test_open_errors(void **state)
{
	struct virtio_blk_opts o = {.path = "/nonexistent/kite.img"};
	struct virtio_blk *b;
	struct guest_mem gm;
	uint8_t m[64];

	(void)state;
	gm_init_wrap(&gm, m, sizeof(m));
	assert_int_equal(virtio_blk_new(&b, &gm, NULL, &o, NULL), -ENOENT);
	o.path = "/tmp";
	o.read_only = true;
	assert_int_equal(virtio_blk_new(&b, &gm, NULL, &o, NULL), -EISDIR);
}

/* A driver that re-offers buffers without waiting for them: kite keeps at
 * most a queue's worth of requests in flight (host memory and I/O are
 * bounded), takes the rest once completions make room, and loses none. */
static void test_inflight_cap(void **state)
{
	struct fx *f = *state;
	struct seg s[3] = {{HDR, 16, false}, {DATA, 512, true}, {STATUS, 1, true}};

	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 1);
	/* The same 3-descriptor chain offered QSIZE times: all taken. */
	offer_chain(f, s, 3);
	for (uint32_t i = 1; i < QSIZE; i++)
		vqd_offer(&f->vq, 0);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* And QSIZE more before any completes: none taken yet. */
	for (uint32_t i = 0; i < QSIZE; i++)
		vqd_offer(&f->vq, 0);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_blk_drain(f->b);
	assert_int_equal(vqd_used_idx(&f->vq), QSIZE);
	/* Room again: the next kick takes the second batch. */
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_blk_drain(f->b);
	assert_int_equal(vqd_used_idx(&f->vq), 2 * QSIZE);
	assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_OK);
}

static void *loop_thread(void *arg)
{
	if (ev_run(arg) < 0)
		abort();
	return NULL;
}

/* A reset with reads in flight: once Status reads 0, none of them can still
 * land in guest memory (VIRTIO 1.2, 2.4.1). Completions run on a real
 * event-loop thread, as in kite; the reset completes with the last one. */
static void test_reset_waits_for_io(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = {.path = f->path, .disk_flags = f->flags};
	struct evloop loop;
	pthread_t th;
	const uint32_t n = 32, len = 16384;

	virtio_blk_free(f->b);
	assert_int_equal(ev_init(&loop), 0);
	assert_int_equal(virtio_blk_new(&f->b, &f->gm, &loop, &o, NULL), 0);
	f->t = virtio_blk_vdev(f->b);
	memset(f->mem, 0, MEM_SIZE);
	assert_int_equal(vqd_bring_up(f->t, VQD_VERSION_1, &f->vq, 1), 0xf);
	assert_int_equal(pthread_create(&th, NULL, loop_thread, &loop), 0);
	for (uint32_t i = 0; i < n; i++) {
		struct seg s[3] = {{HDR + 16 * i, 16, false},
				   {DATA + (uint64_t)i * len, len, true},
				   {STATUS + i, 1, true}};

		put_hdr(f, HDR + 16 * i, VIRTIO_BLK_T_IN, (uint64_t)i * (len / 512));
		offer_chain(f, s, 3);
	}
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vqd_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	/* As a driver must (VIRTIO 1.2, 4.2.3.1): wait for Status to read 0;
	 * the reset completes when the loop has the last request back. */
	for (int i = 0; i < 5000 && vqd_rd(f->t, VIRTIO_MMIO_STATUS) != 0; i++)
		usleep(1000);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(virtio_blk_inflight(f->b), 0);
	/* The driver owns its buffers again: nothing may write them now. */
	memset(f->mem + DATA, 0xaa, (size_t)n * len);
	usleep(50 * 1000);
	for (uint32_t i = 0; i < n * len; i += 509)
		assert_int_equal(f->mem[DATA + i], 0xaa);
	ev_stop(&loop);
	pthread_join(th, NULL);
	virtio_blk_free(f->b);
	f->b = NULL;
	ev_free(&loop);
	free(f->mem);
	open_dev(f); /* for teardown */
}

/* Device-side polling: after the kick, kite keeps taking requests and reaping
 * completions itself. With io_uring a page-cached read completes at submit,
 * so the request is done when the kick returns, with no drain; the pool's
 * thread may take longer than a poll lasts (1 ms at most), so there the
 * test drains, and checks that nothing was lost or completed twice. When the
 * poll ends the driver is asked for kicks again. */
static void test_poll(void **state)
{
	struct fx *f = *state;
	struct seg s[3] = {{HDR, 16, false}, {DATA, 4096, true}, {STATUS, 1, true}};
	uint16_t *used_flags;

	virtio_blk_free(f->b);
	free(f->mem);
	f->poll_ns = 1000 * 1000;
	open_dev(f);
	used_flags = (uint16_t *)(f->mem + USED);
	for (int i = 0; i < 3; i++) {
		put_hdr(f, HDR, VIRTIO_BLK_T_IN, (uint64_t)i * 8);
		f->mem[STATUS] = 0xee;
		offer_chain(f, s, 3);
		vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
		if (f->flags & DISK_RAW_NO_URING)
			virtio_blk_drain(f->b);
		assert_int_equal(vqd_used_idx(&f->vq), i + 1);
		assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_OK);
		for (int j = 0; j < 4096; j += 511)
			assert_int_equal(f->mem[DATA + j], pattern((uint64_t)i * 4096 + j));
		assert_int_equal(*used_flags, 0); /* kicks wanted again */
	}
}

static uint64_t blk_stat(struct fx *f, const char *key)
{
	struct device *d = virtio_blk_device(f->b);
	struct device_stats st = {0};

	d->ops->stats(d, &st);
	for (int i = 0; i < st.nr; i++)
		if (!strcmp(st.v[i].key, key))
			return st.v[i].value;
	fail_msg("no stat %s", key);
	return 0;
}

/* seg_max 254: a 1 MiB read in 254 data buffers (header and status make
 * 256, a whole queue) is one request, and it works. */
static void test_seg_max_1mib(void **state)
{
	struct fx *f = *state;
	struct vqd q = {f->mem, 256, DESC, AVAIL, USED};
	uint32_t v;
	uint64_t at = DATA;

	virtio_mmio_ops.read(f->t, VIRTIO_MMIO_CONFIG + 12, (uint8_t *)&v, 4);
	assert_int_equal(v, 254);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_true(vqd_rd(f->t, VIRTIO_MMIO_QUEUE_NUM_MAX) >= 256);
	vqd_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	memset(f->mem, 0, DATA);
	assert_int_equal(vqd_bring_up(f->t, VQD_VERSION_1, &q, 1), 0xf);
	put_hdr(f, HDR, VIRTIO_BLK_T_IN, 0);
	f->mem[STATUS] = 0xee;
	vqd_set_desc(&q, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	for (uint16_t i = 0; i < 254; i++) {
		uint32_t len = i < 2 ? 8192 : 4096; /* 2 x 8 KiB + 252 x 4 KiB = 1 MiB */

		vqd_set_desc(&q, 1 + i, at, len, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
			     (uint16_t)(2 + i));
		at += len;
	}
	assert_int_equal(at - DATA, 1u << 20);
	vqd_set_desc(&q, 255, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&q, 0);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_blk_drain(f->b);
	assert_int_equal(vqd_used_idx(&q), 1);
	assert_int_equal(f->mem[STATUS], VIRTIO_BLK_S_OK);
	assert_int_equal(vqd_used_len(&q, 0), (1u << 20) + 1);
	for (uint32_t i = 0; i < (1u << 20); i += 4093)
		assert_int_equal(f->mem[DATA + i], pattern(i));
	assert_int_equal(blk_stat(f, "reads"), 1);
	assert_int_equal(blk_stat(f, "bytes_read"), 1u << 20);
}

static void offer_reads(struct fx *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct seg s[3] = {{HDR + 16 * i, 16, false},
				   {DATA + 4096ull * i, 4096, true},
				   {STATUS + i, 1, true}};

		put_hdr(f, HDR + 16 * i, VIRTIO_BLK_T_IN, 8ull * i);
		f->mem[STATUS + i] = 0xee;
		memset(f->mem + DATA + 4096ull * i, 0xcc, 4096);
		offer_chain(f, s, 3);
	}
}

/* The completions wrote nothing: no status byte, and (checked by the
 * callers through the used index) no used-ring entry. The data itself may
 * land while the reset is incomplete: the driver does not own the buffers
 * until Status reads 0. */
static bool untouched(struct fx *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (f->mem[STATUS + i] != 0xee)
			return false;
	return true;
}

/* Once the driver owns its buffers again nothing writes them any more. */
static bool stays_untouched(struct fx *f, uint32_t n)
{
	memset(f->mem + DATA, 0xcc, 4096ull * n);
	usleep(20 * 1000);
	for (uint32_t i = 0; i < 4096 * n; i += 511)
		if (f->mem[DATA + i] != 0xcc)
			return false;
	return untouched(f, n);
}

/* A reset with reads in flight stays incomplete (Status reads non-zero, the
 * device takes nothing) until they are back; they write nothing into the
 * guest, and then the reset completes. No thread waits for it. */
static void test_reset_incomplete_until_idle(void **state)
{
	struct fx *f = *state;

	offer_reads(f, 4);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(virtio_blk_inflight(f->b), 4);
	vqd_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_STATUS), 0xf);
	/* Taking nothing new meanwhile, and refusing re-initialisation. */
	offer_reads(f, 1);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vqd_wr(f->t, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(virtio_blk_inflight(f->b), 4);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_STATUS), 0xf);
	/* The backend delivers the completions (in kite: the event loop). */
	virtio_blk_drain(f->b);
	assert_int_equal(virtio_blk_inflight(f->b), 0);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vqd_used_idx(&f->vq), 0);
	assert_true(untouched(f, 4));
	assert_true(stays_untouched(f, 4));
	/* And the device works after a fresh bring-up. */
	memset(f->mem, 0, DATA);
	f->next_desc = 0;
	assert_int_equal(vqd_bring_up(f->t, VQD_VERSION_1, &f->vq, 1), 0xf);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 1, 512, true), VIRTIO_BLK_S_OK);
}

/* QueueReady=0 on a queue with reads in flight: it reads 1 until they are
 * back, they write nothing, then it reads 0. */
static void test_queue_ready_0_waits(void **state)
{
	struct fx *f = *state;

	offer_reads(f, 3);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_SEL, 0);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_READY, 0);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 1);
	offer_reads(f, 1);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(virtio_blk_inflight(f->b), 3);
	virtio_blk_drain(f->b);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(vqd_used_idx(&f->vq), 0);
	assert_true(untouched(f, 3));
	assert_true(stays_untouched(f, 3));
}

/* Without FLUSH, discard and write-zeroes are durable on completion like
 * writes (dsync); with FLUSH negotiated they are not forced to be. */
static void test_dwz_dsync(void **state)
{
	struct fx *f = *state;

	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_stat(f, "dsync_requests"), 1);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_stat(f, "dsync_requests"), 2);
	assert_int_equal(simple(f, VIRTIO_BLK_T_OUT, 16, 512, false), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_stat(f, "dsync_requests"), 3);
	vqd_wr(f->t, VIRTIO_MMIO_STATUS, 0);
	memset(f->mem, 0, DATA);
	f->next_desc = 0;
	assert_int_equal(vqd_bring_up(f->t, VQD_VERSION_1 | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH),
				      &f->vq, 1), 0xf);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(dwz(f, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 1, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(blk_stat(f, "dsync_requests"), 3);
}

/* Destroying the device with reads in flight waits for nothing the guest
 * queued and lets none of them write into guest memory. */
static void test_destroy_writes_nothing(void **state)
{
	struct fx *f = *state;

	offer_reads(f, 8);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_blk_free(f->b);
	f->b = NULL;
	assert_int_equal(vqd_used_idx(&f->vq), 0);
	assert_true(untouched(f, 8));
	assert_true(stays_untouched(f, 8));
	free(f->mem);
	open_dev(f); /* for teardown */
}

/* Requests done and some in flight, pause (which completes those), save,
 * restore into a fresh device on the same image and guest memory: the next
 * request lands in the right used slot with the same features. */
static void test_save_restore(void **state)
{
	struct fx *f = *state;
	struct virtio_blk_opts o = {.path = f->path, .disk_flags = f->flags,
				    .serial = "kite-serial-0001"};
	struct state_buf buf;
	char err[200] = "";

	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 3, 512, true), VIRTIO_BLK_S_OK);
	assert_int_equal(simple(f, VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	offer_reads(f, 2);
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_blk_device(f->b), &buf), 0); /* drains */
	assert_int_equal(vqd_used_idx(&f->vq), 4);
	assert_int_equal(f->mem[STATUS + 1], VIRTIO_BLK_S_OK);
	virtio_blk_free(f->b);

	assert_int_equal(virtio_blk_new(&f->b, &f->gm, NULL, &o, NULL), 0);
	f->t = virtio_blk_vdev(f->b);
	assert_int_equal(device_restore_one(virtio_blk_device(f->b), buf.data, buf.len, err,
					    sizeof(err)), 0);
	vst_resume(virtio_blk_device(f->b));
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_STATUS), 0xf);
	assert_int_equal(f->t->negotiated, VQD_VERSION_1);
	assert_int_equal(vqd_rd(f->t, VIRTIO_MMIO_CONFIG_GENERATION), 0);
	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 5, 512, true), VIRTIO_BLK_S_OK);
	assert_int_equal(vqd_used_idx(&f->vq), 5);
	assert_int_equal(vqd_used_elem(&f->vq, 4).id, (uint16_t)(f->next_desc - 3));
	assert_int_equal(f->mem[DATA], pattern(5 * 512));
	state_buf_free(&buf);
}

static void test_bad_sections(void **state)
{
	struct fx *f = *state;
	struct state_buf buf;
	uint8_t *bad;
	size_t p;

	assert_int_equal(simple(f, VIRTIO_BLK_T_IN, 3, 512, true), VIRTIO_BLK_S_OK);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_blk_device(f->b), &buf), 0);
	virtio_blk_free(f->b);
	free(f->mem);
	f->b = NULL;
	open_dev(f);
	vqd_wr(f->t, VIRTIO_MMIO_STATUS, 0); /* the victim: a device as new */
	assert_int_equal(vst_bad_sections(virtio_blk_device(f->b), buf.data, buf.len, MEM_SIZE),
			 0);
	/* A disk of another size. */
	p = vst_payload(buf.data) + VST_Q0 + VST_Q_SIZE;
	bad = malloc(buf.len);
	memcpy(bad, buf.data, buf.len);
	vst_put(bad + p, 8, CAP + 1);
	assert_int_equal(vst_refused(virtio_blk_device(f->b), bad, buf.len, "capacity"), 0);
	free(bad);
	state_buf_free(&buf);
}

#define BOTH(fn)                                                                  \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &uring_mode), \
	cmocka_unit_test_prestate_setup_teardown(fn, setup, teardown, &pool_mode)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_config),
		BOTH(test_read),
		BOTH(test_read_status_in_data_buffer),
		BOTH(test_zero_length_buffers),
		BOTH(test_write),
		BOTH(test_many_in_flight),
		BOTH(test_short_header),
		BOTH(test_no_status_byte),
		BOTH(test_bounds),
		BOTH(test_unknown_type),
		BOTH(test_get_id),
		BOTH(test_flush),
		BOTH(test_discard),
		BOTH(test_write_zeroes),
		BOTH(test_read_only),
		BOTH(test_reset_in_flight),
		BOTH(test_odd_size_image),
		BOTH(test_poll),
		BOTH(test_inflight_cap),
		BOTH(test_reset_waits_for_io),
		BOTH(test_seg_max_1mib),
		BOTH(test_reset_incomplete_until_idle),
		BOTH(test_queue_ready_0_waits),
		BOTH(test_dwz_dsync),
		BOTH(test_destroy_writes_nothing),
		BOTH(test_save_restore),
		BOTH(test_bad_sections),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
