/* Unit tests for src/backends/disk_raw.c: open errors and locking, every
 * request type with io_uring and with the thread pool, short transfers,
 * the ZERO_RANGE fallback on tmpfs, and completion on the event loop. */
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

#define IMG (256u * 1024)

static unsigned uring_mode = 0, pool_mode = DISK_RAW_NO_URING;

struct done_rec {
	struct disk_req req;
	int calls;
	int res;
	pthread_t thread;
	struct evloop *stop;
};

static void on_done(struct disk_req *r, int res)
{
	struct done_rec *d = container_of(r, struct done_rec, req);

	d->calls++;
	d->res = res;
	d->thread = pthread_self();
	if (d->stop)
		ev_stop(d->stop);
}

static void make_file(char *path, const char *dir, size_t size, uint8_t fill)
{
	uint8_t *buf = malloc(size);
	int fd;

	snprintf(path, 64, "%s/kite-test-disk-XXXXXX", dir);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	memset(buf, fill, size);
	assert_int_equal(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
}

static void run(struct disk_raw *d, struct done_rec *rec)
{
	rec->calls = 0;
	rec->req.done = on_done;
	assert_int_equal(disk_raw_submit(d, &rec->req), 0);
	disk_raw_kick(d);
	disk_raw_drain(d);
	assert_int_equal(rec->calls, 1);
}

static void test_open_errors(void **s)
{
	struct disk_raw *d;
	char path[64];

	(void)s;
	assert_int_equal(disk_raw_open(&d, "/nonexistent/x.img", false, 0, NULL), -ENOENT);
	assert_int_equal(disk_raw_open(&d, "/tmp", false, 0, NULL), -EISDIR);
	assert_int_equal(disk_raw_open(&d, "/tmp", true, 0, NULL), -EISDIR);
	assert_int_equal(disk_raw_open(&d, "/dev/null", true, 0, NULL), -EINVAL);
	if (geteuid() != 0) {
		make_file(path, "/tmp", 4096, 0);
		chmod(path, 0);
		assert_int_equal(disk_raw_open(&d, path, true, 0, NULL), -EACCES);
		unlink(path);
	} else {
		print_message("root: permission check skipped (root bypasses modes)\n");
	}
}

static void test_locking(void **s)
{
	struct disk_raw *a, *b;
	char path[64];

	(void)s;
	make_file(path, "/tmp", 4096, 0);
	assert_int_equal(disk_raw_open(&a, path, false, 0, NULL), 0);
	assert_int_equal(disk_raw_open(&b, path, false, 0, NULL), -EBUSY);
	assert_int_equal(disk_raw_open(&b, path, true, 0, NULL), -EBUSY);
	disk_raw_close(a);
	assert_int_equal(disk_raw_open(&a, path, true, 0, NULL), 0);
	assert_int_equal(disk_raw_open(&b, path, true, 0, NULL), 0);
	assert_true(disk_raw_read_only(b));
	disk_raw_close(a);
	disk_raw_close(b);
	unlink(path);
}

static void test_io(void **state)
{
	unsigned flags = *(unsigned *)*state;
	struct disk_raw *d;
	struct done_rec rec = {0};
	char path[64];
	uint8_t a[4096], b[4096];
	struct iovec iov[2] = {{a, 1000}, {b, 24}};
	int fd;

	make_file(path, "/tmp", IMG, 0x11);
	assert_int_equal(disk_raw_open(&d, path, false, flags, NULL), 0);
	assert_int_equal(disk_raw_uses_uring(d), !(flags & DISK_RAW_NO_URING));
	assert_int_equal(disk_raw_size(d), IMG);

	/* Write 1024 bytes from two buffers, read them back. */
	memset(a, 0xaa, sizeof(a));
	memset(b, 0xbb, sizeof(b));
	rec.req = (struct disk_req){.op = DISK_WRITE, .iov = iov, .iovcnt = 2, .off = 4096,
				    .len = 1024};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	rec.req = (struct disk_req){.op = DISK_READ, .iov = iov, .iovcnt = 2, .off = 4096,
				    .len = 1024};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	assert_int_equal(a[999], 0xaa);
	assert_int_equal(b[0], 0xbb);
	assert_int_equal(b[23], 0xbb);
	assert_int_equal(b[24], 0);

	rec.req = (struct disk_req){.op = DISK_FLUSH};
	run(d, &rec);
	assert_int_equal(rec.res, 0);

	/* A read running past the end of the file is short: -EIO. */
	iov[0].iov_len = 4096;
	rec.req = (struct disk_req){.op = DISK_READ, .iov = iov, .iovcnt = 1, .off = IMG - 512,
				    .len = 4096};
	run(d, &rec);
	assert_int_equal(rec.res, -EIO);

	/* Discard punches a hole; write-zeroes zeroes. */
	rec.req = (struct disk_req){.op = DISK_DISCARD, .off = 64 * 1024, .len = 64 * 1024};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	rec.req = (struct disk_req){.op = DISK_WRITE_ZEROES, .off = 8192, .len = 4096};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(lseek(fd, 64 * 1024, SEEK_HOLE), 64 * 1024);
	assert_int_equal(pread(fd, a, 4096, 8192), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(a[i], 0);
	assert_int_equal(pread(fd, a, 1, 12288), 1);
	assert_int_equal(a[0], 0x11);
	close(fd);
	disk_raw_close(d);

	/* Read-only: writes refused before any I/O. */
	assert_int_equal(disk_raw_open(&d, path, true, flags, NULL), 0);
	rec.req = (struct disk_req){.op = DISK_WRITE, .iov = iov, .iovcnt = 1, .len = 512,
				    .done = on_done};
	assert_int_equal(disk_raw_submit(d, &rec.req), -EROFS);
	rec.req.op = DISK_DISCARD;
	assert_int_equal(disk_raw_submit(d, &rec.req), -EROFS);
	iov[0].iov_len = 512;
	rec.req = (struct disk_req){.op = DISK_READ, .iov = iov, .iovcnt = 1, .len = 512};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	disk_raw_close(d);
	unlink(path);
}

static void test_write_zeroes_tmpfs_fallback(void **state)
{
	unsigned flags = *(unsigned *)*state;
	struct disk_raw *d;
	struct done_rec rec = {0};
	char path[64];
	uint8_t a[4096];
	int fd;

	if (access("/dev/shm", W_OK) != 0) {
		print_message("no writable /dev/shm: tmpfs fallback not tested\n");
		return;
	}
	make_file(path, "/dev/shm", IMG, 0x22);
	assert_int_equal(disk_raw_open(&d, path, false, flags, NULL), 0);
	rec.req = (struct disk_req){.op = DISK_WRITE_ZEROES, .off = 4096, .len = 8192};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	fd = open(path, O_RDONLY);
	assert_int_equal(pread(fd, a, 4096, 8192), 4096);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(a[i], 0);
	close(fd);
	disk_raw_close(d);
	unlink(path);
}

static void *loop_thread(void *arg)
{
	assert_int_equal(ev_run(arg), 0);
	return NULL;
}

static void test_event_loop_delivery(void **state)
{
	unsigned flags = *(unsigned *)*state;
	struct disk_raw *d;
	struct done_rec rec = {0};
	struct evloop loop;
	pthread_t th;
	char path[64];
	uint8_t a[512];
	struct iovec iov = {a, 512};

	make_file(path, "/tmp", IMG, 0x33);
	assert_int_equal(ev_init(&loop), 0);
	assert_int_equal(disk_raw_open(&d, path, false, flags, &loop), 0);
	rec.stop = &loop;
	rec.req = (struct disk_req){.op = DISK_READ, .iov = &iov, .iovcnt = 1, .len = 512,
				    .done = on_done};
	assert_int_equal(disk_raw_submit(d, &rec.req), 0);
	disk_raw_kick(d);
	assert_int_equal(pthread_create(&th, NULL, loop_thread, &loop), 0);
	pthread_join(th, NULL); /* the completion stops the loop */
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.res, 0);
	assert_true(pthread_equal(rec.thread, th));
	assert_int_equal(a[100], 0x33);
	disk_raw_close(d);
	ev_free(&loop);
	unlink(path);
}

#define BOTH(fn)                                                          \
	cmocka_unit_test_prestate(fn, &uring_mode), cmocka_unit_test_prestate(fn, &pool_mode)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_locking),
		BOTH(test_io),
		BOTH(test_write_zeroes_tmpfs_fallback),
		BOTH(test_event_loop_delivery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
