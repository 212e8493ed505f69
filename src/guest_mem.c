/* Guest RAM: allocation (memfd, one mapping) and the checked accessors. */
#include "guest_mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MFD_HUGE_2MB
#define MFD_HUGE_2MB (21u << 26) /* log2(2 MiB) << MFD_HUGE_SHIFT */
#endif

static void layout(struct guest_mem *gm)
{
	uint64_t low = MIN(gm->size, GM_MMIO_HOLE_START);

	gm->nr_regions = 1;
	gm->regions[0] = (struct gm_region){0, low, gm->base};
	if (gm->size > low) {
		gm->nr_regions = 2;
		gm->regions[1] = (struct gm_region){GM_HIGH_START, gm->size - low,
						    gm->base + low};
	}
}

int gm_huge_pages_needed(uint64_t size, uint64_t *pages)
{
	if (size == 0 || size % GM_HUGE_2M)
		return -EINVAL;
	*pages = size / GM_HUGE_2M;
	return 0;
}

int gm_huge_pages_free(const char *meminfo, uint64_t *pages)
{
	unsigned long long free_ = 0, rsvd = 0, kib = 0, v;
	int seen = 0;
	char line[128];
	FILE *f = fopen(meminfo, "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "HugePages_Free: %llu", &v) == 1)
			free_ = v, seen |= 1;
		else if (sscanf(line, "HugePages_Rsvd: %llu", &v) == 1)
			rsvd = v, seen |= 2;
		else if (sscanf(line, "Hugepagesize: %llu kB", &v) == 1)
			kib = v, seen |= 4;
	}
	fclose(f);
	if (seen != 7)
		return -ENOENT;
	/* MFD_HUGE_2MB takes 2 MiB pages from their own pool, whatever the
	 * default size; the default pool is the one meminfo counts. */
	if (kib != GM_HUGE_2M >> 10)
		return -ENOTSUP;
	*pages = free_ > rsvd ? free_ - rsvd : 0;
	return 0;
}

int gm_init_backed(struct guest_mem *gm, uint64_t size, enum gm_backing pages)
{
	unsigned int mfd = MFD_CLOEXEC;
	int flags = MAP_SHARED | MAP_NORESERVE;
	uint64_t n;
	void *p;
	int fd;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size == 0 || size % 4096)
		return -EINVAL;
	if (size > (uint64_t)SIZE_MAX / 2)
		return -ENOMEM;
	if (pages == GM_PAGES_HUGE_2M) {
		if (gm_huge_pages_needed(size, &n))
			return -EINVAL;
		mfd |= MFD_HUGETLB | MFD_HUGE_2MB;
		/* Reserve every page now: too few is an error here, not a
		 * SIGBUS when the guest touches the last ones. */
		flags = MAP_SHARED;
	}
	fd = memfd_create("kite-guest-ram", mfd);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	/* MAP_NORESERVE: guest RAM is committed as the guest touches it. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED) {
		int e = -errno;
		close(fd);
		return e;
	}
	/* Keep guest RAM out of core dumps: it may hold the guest's secrets. */
	madvise(p, size, MADV_DONTDUMP);
	if (pages == GM_PAGES_THP)
		(void)madvise(p, size, MADV_HUGEPAGE); /* best effort: THP may be off */
	gm->fd = fd;
	gm->base = p;
	gm->size = size;
	gm->owned = 1;
	layout(gm);
	return 0;
}

int gm_init(struct guest_mem *gm, uint64_t size)
{
	return gm_init_backed(gm, size, GM_PAGES_4K);
}

void gm_init_wrap(struct guest_mem *gm, void *mem, uint64_t size)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	gm->base = mem;
	gm->size = size;
	gm->nr_regions = 1;
	gm->regions[0] = (struct gm_region){0, size, mem};
}

int gm_init_file(struct guest_mem *gm, uint64_t size, int fd)
{
	void *p;

	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size == 0 || size % 4096 || fd < 0)
		return -EINVAL;
	if (size > (uint64_t)SIZE_MAX / 2)
		return -ENOMEM;
	/* MAP_NORESERVE: a restored guest commits memory only for the pages
	 * it writes; the rest stays shared page cache of the file. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise(p, size, MADV_DONTDUMP);
	gm->fd = fd;
	gm->file_backed = 1;
	gm->base = p;
	gm->size = size;
	gm->owned = 1;
	layout(gm);
	return 0;
}

void gm_free(struct guest_mem *gm)
{
	if (gm->owned) {
		if (gm->base)
			munmap(gm->base, gm->size);
		if (gm->fd >= 0)
			close(gm->fd);
	}
	free(gm->dirty);
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];
		uint64_t off = gpa - r->gpa;

		/* Unsigned wrap makes gpa < r->gpa fail the first test. */
		if (gpa < r->gpa || off > r->size || len > r->size - off)
			continue;
		return r->host + off;
	}
	return NULL;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len)
{
	const void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}

/* Large writes (the kernel, the initrd) go to RAM the guest has not touched
 * yet: one MADV_POPULATE_WRITE allocates its pages in a batch instead of one
 * page fault per 4 KiB in memcpy (measured here: 8.2 -> 6.7 ms from main() to
 * a Linux guest's first instruction with a 6 MiB initrd). Best effort: before
 * Linux 5.14, or on memory that is not ours, memcpy faults them in as ever. */
#define GM_POPULATE_MIN (256u << 10)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
static void populate(void *p, size_t len)
{
	uintptr_t start = (uintptr_t)p & ~(uintptr_t)4095;

	(void)madvise((void *)start, (uintptr_t)p + len - start, MADV_POPULATE_WRITE);
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -EFAULT;
	if (len >= GM_POPULATE_MIN)
		populate(p, len);
	memcpy(p, src, len);
	gm_mark_dirty(gm, gpa, len);
	return 0;
}

uint64_t gm_top(const struct guest_mem *gm)
{
	const struct gm_region *r = &gm->regions[gm->nr_regions - 1];

	return r->gpa + r->size;
}

/* The kite-side dirty bitmap. Devices mark from the event loop and vCPU
 * threads (a queue enabled through its register) at once, so bits are set
 * with atomic ORs; the snapshot takes them only while the VM is paused. */
size_t gm_dirty_words(const struct guest_mem *gm)
{
	uint64_t pages = (gm->size + GM_PAGE_SIZE - 1) / GM_PAGE_SIZE;

	return (size_t)((pages + 63) / 64);
}

int gm_dirty_enable(struct guest_mem *gm)
{
	size_t n = gm_dirty_words(gm);
	uint64_t pages = (gm->size + GM_PAGE_SIZE - 1) / GM_PAGE_SIZE;

	if (gm->dirty)
		return 0;
	gm->dirty = malloc(n * sizeof(uint64_t) + !n);
	if (!gm->dirty)
		return -ENOMEM;
	memset(gm->dirty, 0xff, n * sizeof(uint64_t));
	/* No bits past the last page: a caller may count them. */
	if (pages % 64)
		gm->dirty[n - 1] = (1ull << (pages % 64)) - 1;
	return 0;
}

/* Sets bits [first, last] of the bitmap, a word at a time. */
static void mark_pages(uint64_t *bm, uint64_t first, uint64_t last)
{
	for (uint64_t w = first / 64; w <= last / 64; w++) {
		uint64_t lo = w == first / 64 ? first % 64 : 0;
		uint64_t hi = w == last / 64 ? last % 64 : 63;
		uint64_t mask = (~0ull >> (63 - hi)) & (~0ull << lo);

		__atomic_fetch_or(&bm[w], mask, __ATOMIC_RELAXED);
	}
}

void gm_mark_dirty(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	uint64_t *bm = __atomic_load_n(&gm->dirty, __ATOMIC_RELAXED);

	if (!bm || len == 0)
		return;
	/* A range may cross from one region into the hole or past the top:
	 * each region marks its own overlap with it. */
	for (int i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];
		uint64_t start = MAX(gpa, r->gpa), end, off;

		/* end is inclusive so that a range ending at 2^64 fits. */
		if (__builtin_add_overflow(gpa, len - 1, &end))
			end = UINT64_MAX;
		end = MIN(end, r->gpa + r->size - 1);
		if (start > end)
			continue;
		off = (uint64_t)(r->host - gm->base) + (start - r->gpa);
		mark_pages(bm, off / GM_PAGE_SIZE, (off + (end - start)) / GM_PAGE_SIZE);
	}
}

void gm_dirty_take(const struct guest_mem *gm, uint64_t *dst)
{
	size_t n = gm_dirty_words(gm);

	if (!gm->dirty)
		return;
	for (size_t w = 0; w < n; w++)
		dst[w] |= __atomic_exchange_n(&gm->dirty[w], 0, __ATOMIC_RELAXED);
}
