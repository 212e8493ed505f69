/* Unit tests for src/backends/disk_raw.c: open errors and locking, every
 * request type with io_uring and with the thread pool, short transfers
 * and their continuation (forced small, and real > 2 GiB), what the ring's
 * restrictions refuse, the ZERO_RANGE
 * fallback on tmpfs, dsync discards, counters, cancellation, and
 * completion on the event loop. */
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
#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
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

static void test_continue_short(void **state)
{
	unsigned flags = *(unsigned *)*state | DISK_RAW_TEST_SHORT_XFER;
	struct disk_raw *d;
	struct disk_raw_stats st;
	struct done_rec rec = {0};
	char path[64];
	static uint8_t a[3000], b[5000], c[77];
	struct iovec iov[3] = {{a, sizeof(a)}, {b, sizeof(b)}, {c, sizeof(c)}};
	uint64_t len = sizeof(a) + sizeof(b) + sizeof(c);

	/* Each system call moves at most 1000 bytes: 9 calls, cut inside
	 * iovecs, must add up to the request. */
	make_file(path, "/tmp", IMG, 0x44);
	assert_int_equal(disk_raw_open(&d, path, false, flags, NULL), 0);
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	memset(b, 0x55, sizeof(b));
	memset(c, 0x66, sizeof(c));
	rec.req = (struct disk_req){.op = DISK_WRITE, .iov = iov, .iovcnt = 3, .off = 512,
				    .len = len};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(c, 0, sizeof(c));
	rec.req = (struct disk_req){.op = DISK_READ, .iov = iov, .iovcnt = 3, .off = 512,
				    .len = len};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	for (size_t i = 0; i < sizeof(a); i++)
		assert_int_equal(a[i], (uint8_t)i);
	assert_int_equal(b[0], 0x55);
	assert_int_equal(b[4999], 0x55);
	assert_int_equal(c[76], 0x66);

	/* Running into the end of the file still fails, after progress. */
	rec.req = (struct disk_req){.op = DISK_READ, .iov = iov, .iovcnt = 3,
				    .off = IMG - 4000, .len = len};
	run(d, &rec);
	assert_int_equal(rec.res, -EIO);
	assert_int_equal(b[999], 0x44); /* what existed was read */

	disk_raw_get_stats(d, &st);
	assert_int_equal(st.reads, 2);
	assert_int_equal(st.writes, 1);
	assert_int_equal(st.bytes_read, len);
	assert_int_equal(st.bytes_written, len);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.cancelled, 0);
	disk_raw_close(d);
	unlink(path);
}

static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	unsigned long long kb = 0;
	char line[128];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kb * 1024;
}

/* One READ and one WRITE over 2 GiB (Linux moves at most 0x7ffff000 bytes
 * per call): a sparse file on tmpfs (holes read as the zero page) and
 * MAP_NORESERVE memory for the buffer; marks on both sides of the cut. */
static void test_over_2g(void **state)
{
	unsigned flags = *(unsigned *)*state;
	const uint64_t len = (2ull << 30) + (8u << 20), cut = 0x7ffff000;
	const uint64_t marks[] = {0, cut - 1, cut, len - 1};
	struct disk_raw *d;
	struct done_rec rec = {0};
	char path[64];
	uint8_t *buf;
	struct iovec iov[2];
	int fd;

	if (access("/dev/shm", W_OK) != 0 || mem_available() < (8ull << 30)) {
		print_message("no /dev/shm or < 8 GiB available: > 2 GiB test skipped\n");
		return;
	}
	snprintf(path, sizeof(path), "/dev/shm/kite-test-big-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3ll << 30), 0);
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++)
		assert_int_equal(pwrite(fd, "\x5a", 1, (off_t)(4096 + marks[i])), 1);
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		   -1, 0);
	assert_true(buf != MAP_FAILED);
	iov[0] = (struct iovec){buf, 1u << 20};
	iov[1] = (struct iovec){buf + (1u << 20), len - (1u << 20)};
	assert_int_equal(disk_raw_open(&d, path, false, flags, NULL), 0);
	rec.req = (struct disk_req){.op = DISK_READ, .iov = iov, .iovcnt = 2, .off = 4096,
				    .len = len};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++)
		assert_int_equal(buf[marks[i]], 0x5a);
	assert_int_equal(buf[cut + 1], 0);

	/* Write it back one page further on: marks move with it. */
	rec.req = (struct disk_req){.op = DISK_WRITE, .iov = iov, .iovcnt = 2, .off = 8192,
				    .len = len};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	disk_raw_close(d);
	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		uint8_t v = 0;

		assert_int_equal(pread(fd, &v, 1, (off_t)(8192 + marks[i])), 1);
		assert_int_equal(v, 0x5a);
	}
	munmap(buf, len);
	close(fd);
	unlink(path);
}

static void test_dsync_discard(void **state)
{
	unsigned flags = *(unsigned *)*state;
	struct disk_raw *d;
	struct disk_raw_stats st;
	struct done_rec rec = {0};
	char path[64];

	make_file(path, "/tmp", IMG, 0x77);
	assert_int_equal(disk_raw_open(&d, path, false, flags, NULL), 0);
	rec.req = (struct disk_req){.op = DISK_DISCARD, .off = 4096, .len = 4096};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	disk_raw_get_stats(d, &st);
	assert_int_equal(st.dsync_syncs, 0);

	rec.req = (struct disk_req){.op = DISK_DISCARD, .off = 8192, .len = 4096, .dsync = true};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	rec.req = (struct disk_req){.op = DISK_WRITE_ZEROES, .off = 16384, .len = 4096,
				    .dsync = true};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	rec.req = (struct disk_req){.op = DISK_WRITE_ZEROES_UNMAP, .off = 32768, .len = 4096,
				    .dsync = true};
	run(d, &rec);
	assert_int_equal(rec.res, 0);
	rec.req = (struct disk_req){.op = DISK_FLUSH};
	run(d, &rec);
	disk_raw_get_stats(d, &st);
	assert_int_equal(st.dsync_syncs, 3);
	assert_int_equal(st.discards, 2);
	assert_int_equal(st.write_zeroes, 2);
	assert_int_equal(st.flushes, 1);
	assert_int_equal(st.errors, 0);
	disk_raw_close(d);
	unlink(path);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#define SLOW_REQS 256
#define SLOW_IOVS 1024 /* x 2 MiB: 2 GiB a request (cut once), 512 GiB in all */

/* 256 reads of 2 GiB from tmpfs holes: over 10 s of copying when waited
 * for (16 such reads of a quarter the size took 0.2 s here). Cancel must
 * end them, waiting only for those already inside a read. The 2 s limit
 * is a generous bound on that, not a benchmark. */
static void test_cancel_slow(void **state)
{
	unsigned flags = *(unsigned *)*state;
	static struct done_rec recs[SLOW_REQS];
	struct iovec *iov = calloc(SLOW_IOVS, sizeof(*iov));
	struct disk_raw *d;
	struct disk_raw_stats st;
	uint8_t *buf = malloc(2u << 20);
	char path[64];
	uint64_t t0, ms;
	int fd, cancelled = 0;

	if (access("/dev/shm", W_OK) != 0) {
		print_message("no writable /dev/shm: cancel test skipped\n");
		goto out;
	}
	snprintf(path, sizeof(path), "/dev/shm/kite-test-slow-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3ll << 30), 0);
	close(fd);
	for (int i = 0; i < SLOW_IOVS; i++)
		iov[i] = (struct iovec){buf, 2u << 20};
	assert_int_equal(disk_raw_open(&d, path, false, flags, NULL), 0);
	for (int i = 0; i < SLOW_REQS; i++) {
		recs[i] = (struct done_rec){0};
		recs[i].req = (struct disk_req){.op = DISK_READ, .iov = iov, .iovcnt = SLOW_IOVS,
						.len = (uint64_t)SLOW_IOVS << 21, .done = on_done};
		assert_int_equal(disk_raw_submit(d, &recs[i].req), 0);
		if (i == SLOW_REQS / 2)
			disk_raw_kick(d); /* half on the ring, half not yet */
	}
	t0 = now_ns();
	disk_raw_cancel(d);
	ms = (now_ns() - t0) / 1000000;
	print_message("cancel of %d queued reads: %llu ms\n", SLOW_REQS, (unsigned long long)ms);
	assert_true(ms < 2000);
	for (int i = 0; i < SLOW_REQS; i++) {
		assert_int_equal(recs[i].calls, 1);
		assert_true(recs[i].res == 0 || recs[i].res == -ECANCELED);
		cancelled += recs[i].res == -ECANCELED;
	}
	assert_true(cancelled > SLOW_REQS / 2);
	disk_raw_get_stats(d, &st);
	assert_int_equal(st.cancelled, cancelled);
	assert_int_equal(st.reads, SLOW_REQS);

	/* Nothing writes into the buffers any more. */
	memset(buf, 0xab, 2u << 20);
	usleep(50 * 1000);
	for (int i = 0; i < (2 << 20); i += 4096)
		assert_int_equal(buf[i], 0xab);

	/* Still usable after a cancel; then close with everything queued. */
	run(d, &recs[0]);
	assert_int_equal(recs[0].res, 0);
	for (int i = 0; i < SLOW_REQS; i++)
		assert_int_equal(disk_raw_submit(d, &recs[i].req), 0);
	disk_raw_kick(d);
	t0 = now_ns();
	disk_raw_close(d);
	ms = (now_ns() - t0) / 1000000;
	print_message("close with %d queued reads: %llu ms\n", SLOW_REQS, (unsigned long long)ms);
	assert_true(ms < 2000);
	unlink(path);
out:
	free(buf);
	free(iov);
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

/* One SQE straight on the disk's ring: its CQE result. */
static int ring_one(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	int res;

	assert_int_equal(io_uring_submit(ring), 1);
	assert_int_equal(io_uring_wait_cqe(ring, &cqe), 0);
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

/* The ring's restrictions (seccomp cannot see a ring's operations): only
 * the disk's operations, only on its fixed file, no register operation;
 * the disk still works. */
static void test_ring_restricted(void **state)
{
	struct io_uring *ring;
	struct io_uring_sqe *sqe;
	struct disk_raw *d;
	struct iovec iov;
	char path[64], buf[512];
	int efd;

	(void)state;
	make_file(path, "/tmp", IMG, 0);
	assert_int_equal(disk_raw_open(&d, path, false, 0, NULL), 0);
	ring = disk_raw_test_ring(d);
	if (!ring) {
		disk_raw_close(d);
		unlink(path);
		skip(); /* no io_uring here: the pool has no ring to restrict */
	}
	iov = (struct iovec){buf, sizeof(buf)};
	/* Allowed: READV on fixed file 0. */
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_readv(sqe, 0, &iov, 1, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	assert_int_equal(ring_one(ring), sizeof(buf));
	/* The same without IOSQE_FIXED_FILE: refused. */
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_readv(sqe, 0, &iov, 1, 0);
	assert_int_equal(ring_one(ring), -EACCES);
	/* An operation the disk never uses: refused. */
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_openat(sqe, AT_FDCWD, "/etc/passwd", O_RDONLY, 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	assert_int_equal(ring_one(ring), -EACCES);
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_read(sqe, 0, buf, sizeof(buf), 0);
	sqe->flags |= IOSQE_FIXED_FILE;
	assert_int_equal(ring_one(ring), -EACCES);
	/* No register operation: another file, another eventfd. */
	efd = eventfd(0, EFD_CLOEXEC);
	assert_true(efd >= 0);
	assert_int_equal(io_uring_register_eventfd(ring, efd), -EACCES);
	assert_int_equal(io_uring_register_files(ring, &efd, 1), -EACCES);
	close(efd);
	disk_raw_close(d);
	unlink(path);
}

#define BOTH(fn)                                                          \
	cmocka_unit_test_prestate(fn, &uring_mode), cmocka_unit_test_prestate(fn, &pool_mode)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_locking),
		cmocka_unit_test(test_ring_restricted),
		BOTH(test_io),
		BOTH(test_write_zeroes_tmpfs_fallback),
		BOTH(test_continue_short),
		BOTH(test_over_2g),
		BOTH(test_dsync_discard),
		BOTH(test_cancel_slow),
		BOTH(test_event_loop_delivery),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
