/* The snapshot memory file: save guest RAM into a sparse raw image (full, or
 * only the dirty pages of a diff), map it back as copy-on-write guest RAM,
 * and merge a diff onto its base. The file has no header so that it can be
 * mapped at offset 0 by kite and by anything else; what each range holds is
 * in the map section (memmap.c). */
#include "snapshot/memfile.h"
#include "snapshot/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE MEMMAP_PAGE
/* One write or copy call at a time: well below Linux's 2 GiB cap per call. */
#define IO_CHUNK (1ull << 30)
/* Holes smaller than this stay mapped from the file (they read as zeros
 * there too): replacing each by anonymous memory costs two mappings, and a
 * process has only ~65530. */
#define ANON_MIN (64u << 10)
#define ANON_MAX_RANGES 4096u

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int write_all(int fd, const uint8_t *p, uint64_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, MIN(len, IO_CHUNK), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n, off += (uint64_t)n, len -= (uint64_t)n;
	}
	return 0;
}

/* Reads 64 bytes per test: a zero page is read to its end anyway, and a
 * data page usually differs in its first line. */
static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)p;

	for (size_t i = 0; i < PAGE / 8; i += 8)
		if (w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		    w[i + 7])
			return false;
	return true;
}

struct saver {
	const struct guest_mem *gm;
	int fd;
	struct memmap_writer w;
	uint32_t max_ranges;
	bool spill;		   /* the map is full: everything left is DATA */
	uint64_t run_off, run_len; /* DATA not written yet */
	struct memfile_stats *st;
};

static int flush_run(struct saver *s)
{
	int ret;

	if (!s->run_len)
		return 0;
	ret = write_all(s->fd, s->gm->base + s->run_off, s->run_len, s->run_off);
	if (!ret)
		s->st->bytes_written += s->run_len;
	s->run_len = 0;
	return ret;
}

/* Writing a page as DATA is always right (its bytes are RAM's bytes), so
 * when a guest's pattern of pages would need more ranges than a map may
 * hold, the rest of RAM goes into the file as it is. */
static int put(struct saver *s, uint64_t off, uint64_t len, uint32_t kind)
{
	int ret = 0;

	if (!len)
		return 0;
	if (!s->spill && s->w.kind != kind && memmap_writer_count(&s->w) >= s->max_ranges - 1)
		s->spill = true;
	if (s->spill)
		kind = MEMMAP_DATA;
	if (kind == MEMMAP_DATA) {
		if (s->run_len && s->run_off + s->run_len == off) {
			s->run_len += len;
		} else {
			ret = flush_run(s);
			s->run_off = off, s->run_len = len;
		}
	} else {
		ret = flush_run(s);
	}
	memmap_writer_add(&s->w, off, len, kind);
	if (kind == MEMMAP_DATA)
		s->st->data_bytes += len;
	else if (kind == MEMMAP_ZERO)
		s->st->zero_bytes += len;
	else
		s->st->base_bytes += len;
	return ret;
}

static int scan(struct saver *s, uint64_t off, uint64_t end)
{
	int ret = 0;

	for (; !ret && off < end; off += PAGE)
		ret =
		    put(s, off, PAGE, page_is_zero(s->gm->base + off) ? MEMMAP_ZERO : MEMMAP_DATA);
	return ret;
}

/* A memfd knows which of its pages were ever written: SEEK_DATA skips the
 * rest without reading (reading a shmem hole through the mapping would
 * allocate it). Only the extents are scanned for zero pages. */
static int save_memfd(struct saver *s)
{
	uint64_t off = 0, size = s->gm->size;
	int ret = 0;

	while (!ret && off < size) {
		off_t data = lseek(s->gm->fd, (off_t)off, SEEK_DATA), hole;

		if (data < 0 && errno == ENXIO)
			data = (off_t)size;
		if (data < 0)
			return -errno;
		hole = lseek(s->gm->fd, data, SEEK_HOLE);
		if ((uint64_t)data >= size)
			hole = data;
		else if (hole < 0)
			return -errno;
		/* Extents come in shmem pages; keep them inside RAM and pages. */
		data = (off_t)MIN((uint64_t)data & ~(uint64_t)(PAGE - 1), size);
		hole = (off_t)MIN(ALIGN_UP((uint64_t)hole, PAGE), size);
		if ((uint64_t)data < off)
			data = (off_t)off;
		ret = put(s, off, (uint64_t)data - off, MEMMAP_ZERO);
		if (!ret)
			ret = scan(s, (uint64_t)data, (uint64_t)hole);
		off = MAX((uint64_t)hole, (uint64_t)data);
	}
	return ret;
}

static int save_dirty(struct saver *s, const uint64_t *dirty)
{
	uint64_t pages = s->gm->size / PAGE;
	int ret = 0;

	for (uint64_t w = 0; !ret && w * 64 < pages; w++) {
		uint64_t n = MIN(64, pages - w * 64), bits = dirty[w], off = w * 64 * PAGE;

		if (n == 64 && (bits == 0 || bits == UINT64_MAX)) {
			ret = put(s, off, 64 * PAGE, bits ? MEMMAP_DATA : MEMMAP_BASE);
			continue;
		}
		for (uint64_t i = 0; !ret && i < n; i++)
			ret =
			    put(s, off + i * PAGE, PAGE, bits >> i & 1 ? MEMMAP_DATA : MEMMAP_BASE);
	}
	return ret;
}

static int fill(struct saver *s, const uint64_t *dirty, struct state_buf *map_out)
{
	int ret;

	memmap_writer_begin(&s->w, map_out, s->gm->size, dirty ? MEMMAP_DIFF : 0);
	if (dirty)
		ret = save_dirty(s, dirty);
	else if (s->gm->fd >= 0 && !s->gm->file_backed)
		ret = save_memfd(s);
	else
		ret = scan(s, 0, s->gm->size);
	if (!ret)
		ret = flush_run(s);
	if (!ret)
		ret = memmap_writer_end(&s->w);
	return ret;
}

/* The new contents go to a new inode renamed over `path`, never into the
 * file itself: a VM restored from `path` maps that file MAP_PRIVATE, and its
 * pages not yet written would change under it (and the map being written
 * would describe a file changing while it is read). After the rename the
 * old inode lives on for as long as the mapping holds it. */
/* A Diff into an existing memory file of this RAM's size is merged into it
 * in place, as Firecracker does: the file is the previous snapshot's and
 * stays whole. The pages written are ones the VM has written itself (or
 * kite for it), so a VM restored from this very file, whose private
 * mapping already holds its own copy of each, sees no change. */
static int open_in_place(const struct guest_mem *gm, const char *path, const uint64_t *dirty,
			 struct outfile *o)
{
	struct stat sb;
	int fd;

	if (!dirty || stat(path, &sb) || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != gm->size)
		return 0;
	fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*o = (struct outfile){.fd = fd, .path = path};
	return 1;
}

int memfile_save_pending(const struct guest_mem *gm, const char *path, const uint64_t *dirty,
			 struct state_buf *map_out, struct memfile_stats *st,
			 struct outfile *pending, char *err, size_t errlen)
{
	struct memfile_stats local;
	struct saver s = {.gm = gm, .fd = -1, .st = st ? st : &local};
	size_t map_len = map_out->len;
	uint64_t t0 = now_ms();
	struct outfile o;
	const char *what = "write";
	int ret, in_place;

	memset(s.st, 0, sizeof(*s.st));
	if (!gm->base || !gm->size || gm->size % PAGE || gm->size > MEMMAP_RAM_MAX) {
		snprintf(err, errlen,
			 "memory file %s: guest RAM of %" PRIu64 " bytes cannot be saved", path,
			 gm->size);
		return -EINVAL;
	}
	s.max_ranges = MEMMAP_MAX_RANGES(gm->size);
	in_place = open_in_place(gm, path, dirty, &o);
	ret = in_place < 0 ? in_place : in_place ? 0 : outfile_open(&o, path);
	if (ret) {
		snprintf(err, errlen, "memory file %s: %s", path, strerror(-ret));
		return ret;
	}
	s.fd = o.fd;
	/* A new file: every page not written stays a hole (zero, or BASE). */
	ret = !in_place && ftruncate(s.fd, (off_t)gm->size) ? -errno : 0;
	if (ret)
		what = "truncate";
	if (!ret)
		ret = fill(&s, dirty, map_out);
	if (ret)
		outfile_abort(&o);
	else
		ret = outfile_finish(&o, &what);
	if (!ret && !pending) {
		what = "rename";
		ret = outfile_rename(&o);
	}
	if (ret) {
		snprintf(err, errlen, "memory file %s: %s: %s", path, what, strerror(-ret));
		map_out->len = map_len; /* no half-written map */
		return ret;
	}
	if (pending)
		*pending = o;
	s.st->ms = now_ms() - t0;
	return 0;
}

int memfile_save(const struct guest_mem *gm, const char *path, const uint64_t *dirty,
		 struct state_buf *map_out, struct memfile_stats *st, char *err, size_t errlen)
{
	return memfile_save_pending(gm, path, dirty, map_out, st, NULL, err, errlen);
}

static int open_checked(const char *path, int flags, struct stat *sb, char *err, size_t errlen)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		int e = -errno;

		snprintf(err, errlen, "memory file %s: %s", path, strerror(-e));
		return e;
	}
	if (fstat(fd, sb)) {
		int e = -errno;

		snprintf(err, errlen, "memory file %s: %s", path, strerror(-e));
		close(fd);
		return e;
	}
	if (!S_ISREG(sb->st_mode)) {
		snprintf(err, errlen, "memory file %s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	return fd;
}

/* Anonymous memory over the larger holes: reading a file's hole through a
 * mapping puts a page of zeros in the page cache, anonymous memory maps the
 * shared zero page instead. */
static int map_zero_ranges(struct guest_mem *gm, const struct memmap *map)
{
	uint32_t done = 0;

	for (uint32_t i = 0; i < map->nr_ranges && done < ANON_MAX_RANGES; i++) {
		const struct memmap_range *g = &map->ranges[i];
		void *p;

		if (g->kind != MEMMAP_ZERO || g->length < ANON_MIN)
			continue;
		p = mmap(gm->base + g->offset, g->length, PROT_READ | PROT_WRITE,
			 MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED)
			return -errno;
		madvise(p, g->length, MADV_DONTDUMP);
		done++;
	}
	return 0;
}

static bool map_fits(const struct memmap *map)
{
	uint64_t end = 0;

	if (!map->ram_size || map->ram_size % PAGE || map->ram_size > MEMMAP_RAM_MAX)
		return false;
	for (uint32_t i = 0; i < map->nr_ranges; i++) {
		const struct memmap_range *g = &map->ranges[i];

		if (g->offset != end || g->length > map->ram_size - end || g->length % PAGE)
			return false;
		end += g->length;
	}
	return end == map->ram_size;
}

int memfile_map(struct guest_mem *gm, const char *path, const struct memmap *map, char *err,
		size_t errlen)
{
	struct stat sb;
	int fd, ret;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (!map_fits(map)) {
		snprintf(err, errlen, "memory file %s: the memory map does not tile RAM", path);
		return -EINVAL;
	}
	fd = open_checked(path, O_RDONLY, &sb, err, errlen);
	if (fd < 0)
		return fd;
	if ((uint64_t)sb.st_size < map->ram_size) {
		snprintf(err, errlen,
			 "memory file %s is %" PRIu64 " bytes, the snapshot's RAM is %" PRIu64
			 " bytes",
			 path, (uint64_t)sb.st_size, map->ram_size);
		close(fd);
		return -EINVAL;
	}
	ret = gm_init_file(gm, map->ram_size, fd);
	if (ret) {
		snprintf(err, errlen, "memory file %s: mmap: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	ret = map_zero_ranges(gm, map);
	if (ret) {
		snprintf(err, errlen, "memory file %s: mapping holes: %s", path, strerror(-ret));
		gm_free(gm);
	}
	return ret;
}

static int copy_rw(int in, int out, uint64_t off, uint64_t len)
{
	size_t cap = 1u << 20;
	uint8_t *buf = malloc(cap);
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (!ret && len) {
		ssize_t n = pread(in, buf, MIN(len, cap), (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			break;
		}
		ret = write_all(out, buf, (uint64_t)n, off);
		off += (uint64_t)n, len -= (uint64_t)n;
	}
	free(buf);
	return ret;
}

/* copy_file_range lets the kernel (or the filesystem, by sharing blocks)
 * move the bytes; across filesystems or on old kernels it refuses, and a
 * plain read/write loop does the rest. */
static int copy_extent(int in, int out, uint64_t off, uint64_t len)
{
	while (len) {
		loff_t oi = (loff_t)off, oo = (loff_t)off;
		ssize_t n = copy_file_range(in, &oi, out, &oo, MIN(len, IO_CHUNK), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
			return copy_rw(in, out, off, len);
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (uint64_t)n, len -= (uint64_t)n;
	}
	return 0;
}

static int merge_extents(int in, int out, uint64_t size, struct memfile_stats *st)
{
	uint64_t off = 0;
	int ret = 0;

	while (!ret && off < size) {
		off_t data = lseek(in, (off_t)off, SEEK_DATA), hole;

		if (data < 0)
			return errno == ENXIO ? 0 : -errno;
		hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		if ((uint64_t)hole > size)
			hole = (off_t)size;
		if (hole <= data)
			break;
		ret = copy_extent(in, out, (uint64_t)data, (uint64_t)(hole - data));
		st->bytes_written += (uint64_t)(hole - data);
		off = (uint64_t)hole;
	}
	return ret;
}

/* The Diff's pages by its map's DATA ranges (exact on any filesystem). */
static int merge_ranges(int dfd, int bfd, const struct memmap *map, struct memfile_stats *st)
{
	for (uint32_t i = 0; i < map->nr_ranges; i++) {
		const struct memmap_range *r = &map->ranges[i];
		int ret;

		if (r->kind != MEMMAP_DATA)
			continue;
		ret = copy_extent(dfd, bfd, r->offset, r->length);
		if (ret)
			return ret;
		st->bytes_written += r->length;
	}
	return 0;
}

int memfile_merge_map(const char *base, const char *diff, const struct memmap *map,
		      struct memfile_stats *st, char *err, size_t errlen)
{
	struct memfile_stats local;
	struct stat bs, ds;
	uint64_t t0 = now_ms();
	int bfd, dfd, ret;

	st = st ? st : &local;
	memset(st, 0, sizeof(*st));
	dfd = open_checked(diff, O_RDONLY, &ds, err, errlen);
	if (dfd < 0)
		return dfd;
	bfd = open_checked(base, O_RDWR, &bs, err, errlen);
	if (bfd < 0) {
		close(dfd);
		return bfd;
	}
	ret = -EINVAL;
	if (bs.st_dev == ds.st_dev && bs.st_ino == ds.st_ino)
		snprintf(err, errlen, "memory files %s and %s are the same file", base, diff);
	else if (bs.st_size != ds.st_size)
		snprintf(err, errlen,
			 "memory files differ in size: base %s is %" PRIu64
			 " bytes, diff %s is %" PRIu64 " bytes",
			 base, (uint64_t)bs.st_size, diff, (uint64_t)ds.st_size);
	else if (map && map->ram_size != (uint64_t)ds.st_size)
		snprintf(err, errlen, "the Diff's map covers %" PRIu64 " bytes, %s has %" PRIu64,
			 map->ram_size, diff, (uint64_t)ds.st_size);
	else if ((ret = map ? merge_ranges(dfd, bfd, map, st)
			    : merge_extents(dfd, bfd, (uint64_t)ds.st_size, st)))
		snprintf(err, errlen, "merging %s onto %s: %s", diff, base, strerror(-ret));
	else if (fsync(bfd) && (ret = -errno))
		snprintf(err, errlen, "memory file %s: fsync: %s", base, strerror(-ret));
	close(bfd);
	close(dfd);
	st->ms = now_ms() - t0;
	return ret;
}

int memfile_merge(const char *base, const char *diff, struct memfile_stats *st, char *err,
		  size_t errlen)
{
	return memfile_merge_map(base, diff, NULL, st, err, errlen);
}
