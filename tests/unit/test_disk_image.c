/* Unit tests for src/backends/disk_image.c: open errors (a FIFO must not
 * block), the lock an image keeps for its whole life, and backends built
 * on one image again and again as a restarting VM does, with the path
 * gone or taken by nobody else in between. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/disk_raw.h"

#define IMG (64u * 1024)

static unsigned uring_mode = 0, pool_mode = DISK_RAW_NO_URING;

struct done_rec {
	struct disk_req req;
	int calls, res;
};

static void on_done(struct disk_req *r, int res)
{
	struct done_rec *d = container_of(r, struct done_rec, req);

	d->calls++;
	d->res = res;
}

static void make_file(char *path, size_t size, uint8_t fill)
{
	uint8_t *buf = malloc(size);
	int fd;

	snprintf(path, 64, "/tmp/kite-test-image-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(buf, fill, size);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

/* One request of 512 bytes at off, run to completion; its result. */
static int rw(struct disk_raw *d, enum disk_op op, uint64_t off, uint8_t *buf)
{
	struct iovec iov = {buf, 512};
	struct done_rec rec = {
	    .req = {.op = op, .iov = &iov, .iovcnt = 1, .off = off, .len = 512, .done = on_done}};
	int err = disk_raw_submit(d, &rec.req);

	if (err < 0)
		return err;
	disk_raw_kick(d);
	disk_raw_drain(d);
	assert_int_equal(rec.calls, 1);
	return rec.res;
}

/* Whether anyone could take the image now, read-write or read-only. */
static void assert_locked(const char *path)
{
	struct disk_image other;
	struct disk_raw *d;

	assert_int_equal(disk_image_open(&other, path, false), -EBUSY);
	assert_int_equal(other.fd, -1);
	assert_int_equal(disk_image_open(&other, path, true), -EBUSY);
	assert_int_equal(disk_raw_open(&d, path, false, 0, NULL), -EBUSY);
}

static void test_open_errors(void **s)
{
	struct disk_image img;
	struct disk_raw *d;
	char fifo[64] = "/tmp/kite-test-fifo-XXXXXX";

	(void)s;
	assert_int_equal(disk_image_open(&img, "/nonexistent/x.img", false), -ENOENT);
	assert_int_equal(img.fd, -1);
	disk_image_close(&img); /* harmless on a failed open */
	assert_int_equal(disk_image_open(&img, "/tmp", true), -EISDIR);
	assert_int_equal(disk_image_open(&img, "/dev/null", true), -EINVAL);
	/* Nobody writes this FIFO: a blocking open would hang here. */
	assert_non_null(mkdtemp(fifo));
	strcat(fifo, "/p");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(disk_image_open(&img, fifo, true), -EINVAL);
	assert_int_equal(disk_image_open(&img, fifo, false), -EINVAL);
	unlink(fifo);
	*strrchr(fifo, '/') = '\0';
	rmdir(fifo);
	/* A closed image cannot carry a backend. */
	img = (struct disk_image){.fd = -1, .path = "x"};
	assert_int_equal(disk_raw_open_image(&d, &img, 0, NULL), -EBADF);
}

static void test_image_lock(void **s)
{
	struct disk_image a, b;
	char path[64];

	(void)s;
	make_file(path, IMG, 0);
	assert_int_equal(disk_image_open(&a, path, false), 0);
	assert_true(a.fd >= 0);
	assert_false(a.ro);
	assert_int_equal(a.size, IMG);
	assert_string_equal(a.path, path);
	assert_int_equal(disk_image_open(&b, path, false), -EBUSY);
	assert_locked(path);
	disk_image_close(&a);
	disk_image_close(&a); /* idempotent */
	/* Read-only images share their lock, and keep writers out. */
	assert_int_equal(disk_image_open(&a, path, true), 0);
	assert_int_equal(disk_image_open(&b, path, true), 0);
	assert_true(b.ro);
	assert_int_equal(disk_image_open(&(struct disk_image){0}, path, false), -EBUSY);
	disk_image_close(&a);
	disk_image_close(&b);
	assert_int_equal(disk_image_open(&a, path, false), 0);
	disk_image_close(&a);
	unlink(path);
}

/* Two machines, one after the other, on one image: the second sees what
 * the first wrote, and between them the image stays locked. */
static void test_restart(void **state)
{
	unsigned flags = *(unsigned *)*state;
	struct disk_image img;
	struct disk_raw *d;
	uint8_t buf[512];
	char path[64];

	make_file(path, IMG, 0x11);
	assert_int_equal(disk_image_open(&img, path, false), 0);

	assert_int_equal(disk_raw_open_image(&d, &img, flags, NULL), 0);
	assert_int_equal(disk_raw_uses_uring(d), !(flags & DISK_RAW_NO_URING));
	assert_int_equal(disk_raw_size(d), IMG);
	assert_false(disk_raw_read_only(d));
	memset(buf, 0xa1, sizeof(buf));
	assert_int_equal(rw(d, DISK_WRITE, 4096, buf), 0);
	assert_locked(path); /* the image and the backend both hold it */
	disk_raw_close(d);
	assert_locked(path); /* the image alone */

	assert_int_equal(disk_raw_open_image(&d, &img, flags, NULL), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(rw(d, DISK_READ, 4096, buf), 0);
	assert_int_equal(buf[0], 0xa1);
	assert_int_equal(buf[511], 0xa1);
	memset(buf, 0xb2, sizeof(buf));
	assert_int_equal(rw(d, DISK_WRITE, 0, buf), 0);
	/* The image may go before its last backend: the backend keeps the
	 * lock (the open file description is shared). */
	disk_image_close(&img);
	assert_locked(path);
	disk_raw_close(d);

	assert_int_equal(disk_image_open(&img, path, true), 0);
	assert_int_equal(disk_raw_open_image(&d, &img, flags, NULL), 0);
	assert_true(disk_raw_read_only(d));
	assert_int_equal(rw(d, DISK_READ, 0, buf), 0);
	assert_int_equal(buf[0], 0xb2);
	assert_int_equal(rw(d, DISK_WRITE, 0, buf), -EROFS);
	disk_raw_close(d);
	disk_image_close(&img);
	unlink(path);
}

/* The path is looked up once: backends are built after it is gone. */
static void test_path_deleted(void **state)
{
	unsigned flags = *(unsigned *)*state;
	struct disk_image img;
	struct disk_raw *d;
	uint8_t buf[512];
	char path[64];

	make_file(path, IMG, 0x22);
	assert_int_equal(disk_image_open(&img, path, false), 0);
	assert_int_equal(unlink(path), 0);
	for (int boot = 0; boot < 2; boot++) {
		assert_int_equal(disk_raw_open_image(&d, &img, flags, NULL), 0);
		assert_int_equal(disk_raw_size(d), IMG);
		assert_int_equal(rw(d, DISK_READ, IMG - 512, buf), 0);
		assert_int_equal(buf[0], boot ? 0x33 : 0x22);
		memset(buf, 0x33, sizeof(buf));
		assert_int_equal(rw(d, DISK_WRITE, IMG - 512, buf), 0);
		disk_raw_close(d);
	}
	disk_image_close(&img);
}

/* disk_raw_open keeps its old contract: the backend alone holds the lock. */
static void test_open_wrapper(void **s)
{
	struct disk_image img;
	struct disk_raw *d;
	char path[64];

	(void)s;
	make_file(path, IMG, 0);
	assert_int_equal(disk_raw_open(&d, path, false, 0, NULL), 0);
	assert_locked(path);
	disk_raw_close(d);
	assert_int_equal(disk_image_open(&img, path, false), 0);
	disk_image_close(&img);
	unlink(path);
}

#define BOTH(fn)                                                                                   \
	cmocka_unit_test_prestate(fn, &uring_mode), cmocka_unit_test_prestate(fn, &pool_mode)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_errors),
	    cmocka_unit_test(test_image_lock),
	    BOTH(test_restart),
	    BOTH(test_path_deleted),
	    cmocka_unit_test(test_open_wrapper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
