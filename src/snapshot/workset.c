/* Working sets: record which pages of guest RAM this process has mapped
 * (from /proc/self/pagemap), parse a recorded file as hostile input, and
 * prefetch its ranges from a helper thread. */
#include "snapshot/workset.h"
#include "snapshot/outfile.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sandbox/seccomp.h"
#include "state.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#define PAGE 4096u
#define PM_PRESENT (1ull << 63)
#define PM_SWAPPED (1ull << 62)
/* pagemap entries read per call: 512 KiB of entries for 256 MiB of RAM. */
#define PM_BATCH 65536u
/* The prefetch thread looks at its stop flag at least this often. */
#define PREFETCH_CHUNK (2u << 20)
/* Ranges closer than this are prefetched as one span: populating a small
 * gap too costs less than one madvise per page (measured: 16384 one-page
 * ranges, every 4th page of 64 MiB, took 11-14 ms one call each). */
#define PREFETCH_GAP (64u << 10)
#define WORKSET_FILE_MAX (WORKSET_HEADER_BYTES + (uint64_t)WORKSET_MAX_RANGES * WORKSET_RANGE_BYTES)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct recorder {
	struct state_buf b;
	uint32_t nr;
	uint64_t off, len; /* the pending range */
	uint64_t bytes;	   /* in the ranges written */
};

static void rec_flush(struct recorder *r)
{
	if (r->len && r->nr < WORKSET_MAX_RANGES) {
		state_put_u64(&r->b, r->off);
		state_put_u64(&r->b, r->len);
		r->nr++;
		r->bytes += r->len;
	}
	r->len = 0;
}

static void rec_page(struct recorder *r, uint64_t off)
{
	if (r->len && r->off + r->len == off) {
		r->len += PAGE;
		return;
	}
	rec_flush(r);
	r->off = off, r->len = PAGE;
}

/* Present or swapped: both bits are readable without privileges (only the
 * frame numbers are hidden). */
static int scan_pagemap(const struct guest_mem *gm, struct recorder *r)
{
	uint64_t pages = gm->size / PAGE, first = (uintptr_t)gm->base / PAGE;
	uint64_t *buf = malloc(PM_BATCH * sizeof(*buf));
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), ret = 0;

	if (fd < 0 || !buf) {
		ret = fd < 0 ? -errno : -ENOMEM;
		goto out;
	}
	for (uint64_t i = 0; i < pages;) {
		size_t want = (size_t)MIN(pages - i, PM_BATCH) * sizeof(*buf);
		ssize_t n = pread(fd, buf, want, (off_t)((first + i) * sizeof(*buf)));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < (ssize_t)sizeof(*buf)) {
			ret = n < 0 ? -errno : -EIO;
			goto out;
		}
		for (size_t k = 0; k < (size_t)n / sizeof(*buf); k++, i++)
			if (buf[k] & (PM_PRESENT | PM_SWAPPED))
				rec_page(r, i * PAGE);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static int write_file(const char *path, const struct state_buf *b)
{
	const char *what;
	struct outfile o;
	int ret = outfile_open(&o, path);

	if (ret)
		return ret;
	ret = outfile_write(&o, b->data, b->len);
	if (ret) {
		outfile_abort(&o);
		return ret;
	}
	return outfile_commit(&o, &what);
}

int workset_record(const struct guest_mem *gm, const char *path, struct memfile_stats *st,
		   char *err, size_t errlen)
{
	struct recorder r = {.nr = 0};
	uint64_t t0 = now_ms();
	uint32_t nr;
	int ret;

	if (!gm->base || !gm->size || gm->size % PAGE || (uintptr_t)gm->base % PAGE) {
		snprintf(err, errlen, "working set %s: guest RAM is not page-aligned", path);
		return -EINVAL;
	}
	state_buf_init(&r.b);
	state_put_bytes(&r.b, WORKSET_MAGIC, 8);
	state_put_u32(&r.b, WORKSET_VERSION);
	state_put_u64(&r.b, gm->size);
	state_put_u32(&r.b, 0);
	ret = scan_pagemap(gm, &r);
	if (ret) {
		snprintf(err, errlen, "working set: /proc/self/pagemap: %s", strerror(-ret));
		goto out;
	}
	rec_flush(&r);
	if ((ret = r.b.err)) {
		snprintf(err, errlen, "working set: out of memory");
		goto out;
	}
	nr = htole32(r.nr);
	memcpy(r.b.data + 20, &nr, sizeof(nr));
	ret = write_file(path, &r.b);
	if (ret) {
		snprintf(err, errlen, "working set %s: %s", path, strerror(-ret));
		goto out;
	}
	if (st) {
		memset(st, 0, sizeof(*st));
		st->bytes_written = r.b.len;
		st->data_bytes = r.bytes;
		st->ms = now_ms() - t0;
	}
out:
	state_buf_free(&r.b);
	return ret;
}

static void parse_ranges(struct state_reader *r, struct workset *ws)
{
	uint64_t end = 0;

	for (uint32_t i = 0; !r->err && i < ws->nr_ranges; i++) {
		struct workset_range *g = &ws->ranges[i];

		g->offset = state_get_u64(r);
		g->length = state_get_u64(r);
		if (r->err)
			return;
		if (g->offset < end || g->offset % PAGE || !g->length || g->length % PAGE ||
		    g->offset > ws->ram_size || g->length > ws->ram_size - g->offset)
			state_fail(r, "range %" PRIu32 " (%#" PRIx64 " +%#" PRIx64 ") bad", i,
				   g->offset, g->length);
		end = g->offset + g->length;
	}
}

int workset_parse(const void *p, size_t len, uint64_t ram_size, struct workset *ws, char *err,
		  size_t errlen)
{
	struct state_reader r;
	char magic[8];
	uint32_t version;
	uint64_t max;
	int ret;

	memset(ws, 0, sizeof(*ws));
	state_reader_init(&r, p, len, "working set");
	state_get_bytes(&r, magic, sizeof(magic));
	version = state_get_u32(&r);
	ws->ram_size = state_get_u64(&r);
	ws->nr_ranges = state_get_u32(&r);
	max = MIN(ram_size / PAGE, WORKSET_MAX_RANGES);
	if (r.err)
		goto parsed;
	if (memcmp(magic, WORKSET_MAGIC, sizeof(magic)))
		state_fail(&r, "not a working set file (bad magic)");
	else if (version != WORKSET_VERSION)
		state_fail(&r, "version %" PRIu32 " unknown", version);
	else if (ws->ram_size != ram_size || ram_size % PAGE)
		state_fail(&r, "recorded for %" PRIu64 " bytes of RAM, this VM has %" PRIu64,
			   ws->ram_size, ram_size);
	else if (ws->nr_ranges > max)
		state_fail(&r, "%" PRIu32 " ranges, at most %" PRIu64, ws->nr_ranges, max);
	else if ((uint64_t)ws->nr_ranges * WORKSET_RANGE_BYTES != len - r.off)
		state_fail(&r, "%" PRIu32 " ranges but %zu bytes of them", ws->nr_ranges,
			   len - r.off);
parsed:
	if (!r.err && ws->nr_ranges) {
		ws->ranges = calloc(ws->nr_ranges, sizeof(*ws->ranges));
		if (!ws->ranges)
			state_fail(&r, "out of memory");
	}
	parse_ranges(&r, ws);
	ret = state_end(&r, err, errlen);
	if (ret)
		workset_free(ws);
	return ret;
}

int workset_load(const char *path, uint64_t ram_size, struct workset *ws, char *err, size_t errlen)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t done = 0;
	int fd, ret = 0;

	memset(ws, 0, sizeof(*ws));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb)) {
		ret = -errno;
		snprintf(err, errlen, "working set %s: %s", path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > WORKSET_FILE_MAX) {
		snprintf(err, errlen,
			 "working set %s: not a regular file of at most %" PRIu64 " bytes", path,
			 (uint64_t)WORKSET_FILE_MAX);
		ret = -EINVAL;
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		snprintf(err, errlen, "working set %s: out of memory", path);
		goto out;
	}
	/* Reads one byte more than fstat said, so a file that grew is caught
	 * by the parser's exact length check rather than cut short. */
	while (done <= (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)sb.st_size + 1 - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "working set %s: %s", path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	ret = workset_parse(buf, done, ram_size, ws, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

void workset_free(struct workset *ws)
{
	free(ws->ranges);
	memset(ws, 0, sizeof(*ws));
}

/* Without MADV_POPULATE_READ (before Linux 5.14) a read of one byte per
 * page faults the page in the same way, one fault at a time. */
static void touch(const uint8_t *p, uint64_t len)
{
	for (uint64_t i = 0; i < len; i += PAGE)
		(void)*(const volatile uint8_t *)(p + i);
}

static int prefetch_chunk(uint8_t *p, uint64_t n, bool *populate)
{
	while (*populate && madvise(p, n, MADV_POPULATE_READ)) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (errno != EINVAL)
			return -errno;
		*populate = false;
	}
	if (!*populate)
		touch(p, n);
	return 0;
}

/* The end of a span starting at range i: later ranges join it while the
 * gap before each is small and the span stays within a chunk. */
static uint32_t span(const struct workset *ws, uint32_t i, uint64_t *end, uint64_t *bytes)
{
	uint64_t start = ws->ranges[i].offset;

	*end = start + ws->ranges[i].length;
	*bytes = ws->ranges[i].length;
	for (i++; i < ws->nr_ranges; i++) {
		const struct workset_range *g = &ws->ranges[i];

		if (g->offset - *end > PREFETCH_GAP ||
		    g->offset + g->length - start > PREFETCH_CHUNK)
			break;
		*end = g->offset + g->length;
		*bytes += g->length;
	}
	return i;
}

/* Asks for every span's reads up front, so the disk sees the whole working
 * set queued at once instead of one fault's readahead at a time (only for
 * RAM mapped from a file; the call only starts the I/O). */
static void read_ahead(const struct workset_prefetch *pf)
{
	const struct workset *ws = pf->ws;
	uint64_t end, bytes;

	if (!pf->gm->file_backed || pf->gm->fd < 0)
		return;
	for (uint32_t i = 0, next; i < ws->nr_ranges; i = next) {
		if (atomic_load_explicit(&pf->stop, memory_order_relaxed))
			return;
		next = span(ws, i, &end, &bytes);
		(void)posix_fadvise(pf->gm->fd, (off_t)ws->ranges[i].offset,
				    (off_t)(end - ws->ranges[i].offset), POSIX_FADV_WILLNEED);
	}
}

static void *prefetch_main(void *arg)
{
	struct workset_prefetch *pf = arg;
	const struct workset *ws = pf->ws;
	uint64_t t0 = now_ms(), end, bytes;
	bool populate = true;

	/* Named (a seccomp report names it), then its own filter before it
	 * touches guest RAM. */
	prctl(PR_SET_NAME, "kite-prefetch", 0, 0, 0);
	pf->err = seccomp_enter(SECCOMP_ROLE_PREFETCH);
	if (pf->err)
		goto out;
	read_ahead(pf);
	for (uint32_t i = 0, next; i < ws->nr_ranges && !pf->err; i = next) {
		uint64_t start = ws->ranges[i].offset;

		next = span(ws, i, &end, &bytes);
		for (uint64_t o = start; o < end && !pf->err; o += PREFETCH_CHUNK) {
			if (atomic_load_explicit(&pf->stop, memory_order_relaxed))
				goto out;
			pf->err = prefetch_chunk(pf->gm->base + o, MIN(end - o, PREFETCH_CHUNK),
						 &populate);
		}
		if (!pf->err)
			pf->bytes += bytes;
	}
out:
	pf->ms = now_ms() - t0;
	return NULL;
}

int workset_prefetch_start(struct guest_mem *gm, const struct workset *ws,
			   struct workset_prefetch *pf)
{
	int ret;

	memset(pf, 0, sizeof(*pf));
	if (ws->ram_size != gm->size || !gm->base)
		return -EINVAL;
	for (uint32_t i = 0; i < ws->nr_ranges; i++)
		if (ws->ranges[i].offset > gm->size ||
		    ws->ranges[i].length > gm->size - ws->ranges[i].offset)
			return -EINVAL;
	pf->gm = gm;
	pf->ws = ws;
	atomic_init(&pf->stop, false);
	ret = -pthread_create(&pf->thread, NULL, prefetch_main, pf);
	if (ret)
		return ret;
	pthread_setname_np(pf->thread, "kite-prefetch");
	pf->started = true;
	return 0;
}

void workset_prefetch_wait(struct workset_prefetch *pf)
{
	if (!pf->started)
		return;
	pthread_join(pf->thread, NULL);
	pf->started = false;
}

void workset_prefetch_join(struct workset_prefetch *pf)
{
	atomic_store(&pf->stop, true);
	workset_prefetch_wait(pf);
}
