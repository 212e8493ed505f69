// SPDX-License-Identifier: MIT
/*
 * bench/guest/blkjob.c: one block-device job inside the Linux guest of the
 * nested lab's virtio-blk benchmark (bench/lab-boot.sh runs it through
 * tests/lab/guest/blk_bench.sh, under kite and under QEMU, on the same image).
 *
 *   blkjob JOB DEVICE [-n IOS] [-q QD] [-s SPAN_MIB] [-S SEED]
 *
 * JOB is seqread or seqwrite (1 MiB blocks, QD 8 by default) or randread or
 * randwrite (4 KiB blocks, QD 32). The device is opened with O_DIRECT, so every
 * request reaches the virtio-blk device, and QD requests are kept in flight
 * with Linux native AIO (io_setup/io_submit/io_getevents as raw syscalls: no
 * libaio in the guest). Sequential jobs walk the first SPAN_MIB (default 256)
 * MiB of the device from offset 0, wrapping; random jobs pick block-aligned
 * offsets in that span from a fixed-seed PRNG (xorshift64*), the same sequence
 * under every VMM. The job ends after IOS requests (default: one pass of the
 * span for sequential jobs, 16,384 for random ones).
 *
 * Prints one line on stdout and exits 0:
 *   KITE-BLKJOB job=<job> bs=<bytes> qd=<n> ios=<n> bytes=<n> ns=<n>
 *     mbps=<10^6 bytes/s> iops=<ios/s>
 * ns is CLOCK_MONOTONIC from the first submission to the last completion.
 * Any failed or short request ends the job with a message on stderr and
 * exit status 1 (2: usage).
 *
 * Built with `cc -static -O2` by tests/lab/run --bench-boot (the guest has no
 * shared libraries).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/aio_abi.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_QD 256

struct job {
	const char *name;
	int write;
	int random;
	uint64_t bs;
	unsigned int qd;
};

static const struct job jobs[] = {
	{ "seqread", 0, 0, 1 << 20, 8 },
	{ "seqwrite", 1, 0, 1 << 20, 8 },
	{ "randread", 0, 1, 4096, 32 },
	{ "randwrite", 1, 1, 4096, 32 },
};

static void usage(void)
{
	fprintf(stderr, "usage: blkjob seqread|seqwrite|randread|randwrite DEVICE "
			"[-n IOS] [-q QD] [-s SPAN_MIB] [-S SEED]\n");
	exit(2);
}

static uint64_t parse_u64(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || v == 0) {
		fprintf(stderr, "blkjob: bad %s '%s' (a positive number)\n", what, s);
		exit(2);
	}
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: a fixed sequence of offsets for a given seed. */
static uint64_t prng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

static long aio_setup(unsigned int nr, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, nr, ctx);
}

static long aio_submit(aio_context_t ctx, long nr, struct iocb **iocbs)
{
	return syscall(SYS_io_submit, ctx, nr, iocbs);
}

static long aio_getevents(aio_context_t ctx, long min_nr, long nr, struct io_event *events)
{
	return syscall(SYS_io_getevents, ctx, min_nr, nr, events, NULL);
}

/* Submits all n iocbs; io_submit may take fewer than asked at a time. */
static int submit_all(aio_context_t ctx, struct iocb **list, long n)
{
	while (n > 0) {
		long done = aio_submit(ctx, n, list);

		if (done < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (done == 0)
			return -EAGAIN;
		list += done;
		n -= done;
	}
	return 0;
}

struct state {
	const struct job *job;
	uint64_t span_blocks;
	uint64_t next; /* requests handed out so far */
	uint64_t seed;
};

static void iocb_fill(struct iocb *cb, struct state *st)
{
	uint64_t block;

	if (st->job->random)
		block = prng_next(&st->seed) % st->span_blocks;
	else
		block = st->next % st->span_blocks;
	cb->aio_offset = (int64_t)(block * st->job->bs);
	st->next++;
}

int main(int argc, char **argv)
{
	static struct iocb cbs[MAX_QD];
	static struct iocb *list[MAX_QD];
	static struct io_event events[MAX_QD];
	struct state st = { .seed = 0x4b495445424c4b31ull };
	uint64_t ios = 0, span = 256ull << 20, size, done = 0, t0, ns;
	unsigned int qd, i;
	aio_context_t ctx = 0;
	const char *dev;
	struct job job;
	char *buf;
	struct stat sb;
	long n, r, again;
	int fd, opt;

	if (argc < 3)
		usage();
	for (i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++)
		if (!strcmp(argv[1], jobs[i].name))
			break;
	if (i == sizeof(jobs) / sizeof(jobs[0]))
		usage();
	job = jobs[i];
	dev = argv[2];
	optind = 3;
	while ((opt = getopt(argc, argv, "n:q:s:S:")) != -1) {
		switch (opt) {
		case 'n':
			ios = parse_u64(optarg, "request count");
			break;
		case 'q':
			job.qd = (unsigned int)parse_u64(optarg, "queue depth");
			if (job.qd > MAX_QD) {
				fprintf(stderr, "blkjob: queue depth above %d\n", MAX_QD);
				return 2;
			}
			break;
		case 's':
			span = parse_u64(optarg, "span") << 20;
			break;
		case 'S':
			st.seed = parse_u64(optarg, "seed");
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	qd = job.qd;
	st.job = &job;

	fd = open(dev, (job.write ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "blkjob: open %s (O_DIRECT): %s\n", dev, strerror(errno));
		return 1;
	}
	/* A regular file works too (for trying the job out on a host). */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		size = (uint64_t)sb.st_size;
	} else if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
		fprintf(stderr, "blkjob: BLKGETSIZE64 on %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (size < span)
		span = size;
	st.span_blocks = span / job.bs;
	if (st.span_blocks < qd) {
		fprintf(stderr, "blkjob: %s has %" PRIu64 " bytes, too small for %u blocks of %" PRIu64 "\n",
			dev, size, qd, job.bs);
		return 1;
	}
	if (!ios)
		ios = job.random ? 16384 : st.span_blocks;
	if (ios < qd)
		qd = (unsigned int)ios;

	/* One buffer per request slot; written data is a non-zero pattern. */
	if (posix_memalign((void **)&buf, 4096, qd * job.bs)) {
		fprintf(stderr, "blkjob: cannot allocate %u x %" PRIu64 " bytes\n", qd, job.bs);
		return 1;
	}
	memset(buf, 0x5a, qd * job.bs);

	if (aio_setup(qd, &ctx) < 0) {
		fprintf(stderr, "blkjob: io_setup(%u): %s\n", qd, strerror(errno));
		return 1;
	}
	for (i = 0; i < qd; i++) {
		memset(&cbs[i], 0, sizeof(cbs[i]));
		cbs[i].aio_fildes = (uint32_t)fd;
		cbs[i].aio_lio_opcode = job.write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
		cbs[i].aio_buf = (uint64_t)(uintptr_t)(buf + i * job.bs);
		cbs[i].aio_nbytes = job.bs;
		cbs[i].aio_data = i;
		iocb_fill(&cbs[i], &st);
		list[i] = &cbs[i];
	}

	t0 = now_ns();
	r = submit_all(ctx, list, qd);
	if (r) {
		fprintf(stderr, "blkjob: io_submit: %s\n", strerror((int)-r));
		return 1;
	}
	while (done < ios) {
		n = aio_getevents(ctx, 1, qd, events);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "blkjob: io_getevents: %s\n", strerror(errno));
			return 1;
		}
		again = 0;
		for (long e = 0; e < n; e++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)events[e].obj;

			if (events[e].res != (int64_t)job.bs) {
				if (events[e].res < 0)
					fprintf(stderr, "blkjob: %s at offset %lld: %s\n", job.name,
						(long long)cb->aio_offset, strerror((int)-events[e].res));
				else
					fprintf(stderr, "blkjob: %s at offset %lld: %lld of %" PRIu64 " bytes\n",
						job.name, (long long)cb->aio_offset,
						(long long)events[e].res, job.bs);
				return 1;
			}
			done++;
			if (st.next < ios) {
				iocb_fill(cb, &st);
				list[again++] = cb;
			}
		}
		r = submit_all(ctx, list, again);
		if (r) {
			fprintf(stderr, "blkjob: io_submit: %s\n", strerror((int)-r));
			return 1;
		}
	}
	ns = now_ns() - t0;
	if (ns == 0)
		ns = 1;

	printf("KITE-BLKJOB job=%s bs=%" PRIu64 " qd=%u ios=%" PRIu64 " bytes=%" PRIu64 " ns=%" PRIu64
	       " mbps=%.1f iops=%.0f\n",
	       job.name, job.bs, qd, done, done * job.bs, ns,
	       (double)(done * job.bs) * 1e3 / (double)ns, (double)done * 1e9 / (double)ns);
	fflush(stdout);
	syscall(SYS_io_destroy, ctx);
	close(fd);
	free(buf);
	return 0;
}
