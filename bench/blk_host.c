/* bench/blk_host.c: the host-side limit for bench/run's virtio-blk group.
 * The same job as tests/guest/bench_blk.c (the same offsets, the same
 * xorshift64* sequence, the same 4 KiB stamps, written and checked the same
 * way) done with plain pread/pwrite on the same image file, opened the way
 * kite's raw backend opens it (src/backends/disk_raw.c: O_RDWR, no O_DIRECT,
 * so both go through the host page cache; no fsync at the end in either).
 * One thread, one request at a time: a buffered pread/pwrite is a copy to or
 * from the page cache, which no queue depth makes faster on one thread.
 *
 * usage: blk_host seq-read|seq-write|rand-read|rand-write FILE SIZE COUNT
 * prints: "elapsed_ns=N bytes=B" on stdout; exit 0, or 1 with a reason.
 * `blk_host seq-write FILE 1048576 N` also prepares an image for the guest
 * (every 4 KiB block stamped with its offset). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096ul
#define BLK_SEED 0x9e3779b97f4a7c15ull

static uint64_t rng_state = BLK_SEED;

/* xorshift64*, the same as tests/guest/bench_blk.c. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = {"seq-read", "seq-write", "rand-read", "rand-write"};
	int mode = 0, fd;
	uint64_t size, count, nblocks;
	struct stat st;
	uint64_t *buf;
	double t0, t1;

	if (argc != 5) {
		fprintf(stderr, "usage: blk_host seq-read|seq-write|rand-read|rand-write FILE SIZE COUNT\n");
		return 1;
	}
	for (int i = 0; i < 4; i++)
		if (strcmp(argv[1], modes[i]) == 0)
			mode = i + 1;
	size = strtoull(argv[3], NULL, 0);
	count = strtoull(argv[4], NULL, 0);
	if (!mode || size == 0 || size % BLOCK) {
		fprintf(stderr, "blk_host: bad mode or size (a multiple of 4096)\n");
		return 1;
	}
	fd = open(argv[2], O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "blk_host: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	nblocks = (uint64_t)st.st_size / size;
	if (nblocks == 0) {
		fprintf(stderr, "blk_host: %s is smaller than one request\n", argv[2]);
		return 1;
	}
	buf = aligned_alloc(BLOCK, size);
	if (!buf)
		return 1;
	for (uint64_t i = 0; i < size / 8; i++)
		buf[i] = 0x6b6974652d626c6bull; /* the guest's pattern */

	t0 = now_ns();
	for (uint64_t i = 0; i < count; i++) {
		uint64_t off = mode <= 2 ? (i % nblocks) * size : (rng_next() >> 11) % nblocks * size;
		int write = mode == 2 || mode == 4;
		ssize_t n;

		if (write)
			for (uint64_t b = 0; b < size / BLOCK; b++)
				buf[b * (BLOCK / 8)] = off + b * BLOCK;
		n = write ? pwrite(fd, buf, size, (off_t)off) : pread(fd, buf, size, (off_t)off);
		if (n != (ssize_t)size) {
			fprintf(stderr, "blk_host: %s at %" PRIu64 ": %s\n", argv[1], off,
				n < 0 ? strerror(errno) : "short transfer");
			return 1;
		}
		if (!write)
			for (uint64_t b = 0; b < size / BLOCK; b++)
				if (buf[b * (BLOCK / 8)] != off + b * BLOCK) {
					fprintf(stderr, "blk_host: wrong stamp at %" PRIu64
						" (image not prepared by seq-write?)\n", off + b * BLOCK);
					return 1;
				}
	}
	t1 = now_ns();
	printf("elapsed_ns=%.0f bytes=%" PRIu64 "\n", t1 - t0, count * size);
	close(fd);
	free(buf);
	return 0;
}
