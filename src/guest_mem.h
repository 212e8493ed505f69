/* Guest physical memory: one memfd, mapped once, split into RAM regions around
 * the 32-bit MMIO hole. gm_ptr() and friends are the only way kite code reaches
 * guest memory; each checks that the whole range lies inside one RAM region. */
#ifndef KITE_GUEST_MEM_H
#define KITE_GUEST_MEM_H

#include <stdint.h>
#include <stddef.h>

#include "compiler.h"

/* RAM above this address is placed at 4 GiB; [GM_MMIO_HOLE_START, 4 GiB) is
 * left for device MMIO (IOAPIC, LAPIC, virtio-mmio, PCI). */
#define GM_MMIO_HOLE_START 0xC0000000ull
#define GM_HIGH_START 0x100000000ull
#define GM_MAX_REGIONS 2

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host; /* inside the single mapping */
};

struct guest_mem {
	int fd;            /* memfd, -1 for memory supplied by the caller */
	int file_backed;   /* 1: fd is a snapshot memory file mapped MAP_PRIVATE */
	uint8_t *base;     /* the one host mapping */
	uint64_t size;     /* bytes of RAM in total */
	int nr_regions;
	struct gm_region regions[GM_MAX_REGIONS];
	int owned;         /* 1 when gm_free must unmap/close */
	/* Pages kite wrote since the last gm_dirty_take, or NULL when dirty
	 * tracking is off (see gm_dirty_enable at the end of this file). */
	uint64_t *dirty;
};

/* What backs guest RAM. HUGE_2M: a hugetlbfs memfd of 2 MiB pages, all
 * reserved when mapped (never MAP_NORESERVE: a page missing later would be
 * a SIGBUS inside the guest). THP: ordinary memory with MADV_HUGEPAGE
 * (best effort). */
enum gm_backing { GM_PAGES_4K, GM_PAGES_HUGE_2M, GM_PAGES_THP };
#define GM_HUGE_2M (2ull << 20)

/* Allocates `size` bytes of RAM from a memfd (rounded up to 4 KiB by the
 * caller's validation; size must be a multiple of 4 KiB and nonzero). */
int gm_init(struct guest_mem *gm, uint64_t size) MUST_CHECK;
/* The same on the given pages. HUGE_2M: size must be a multiple of 2 MiB
 * (-EINVAL); -ENOMEM when the host has too few huge pages free (see
 * gm_huge_pages_needed and gm_huge_pages_free for the message). */
int gm_init_backed(struct guest_mem *gm, uint64_t size, enum gm_backing pages) MUST_CHECK;
/* 2 MiB pages for `size` bytes; -EINVAL unless size is a nonzero multiple
 * of 2 MiB. */
int gm_huge_pages_needed(uint64_t size, uint64_t *pages) MUST_CHECK;
/* 2 MiB pages free and not reserved (HugePages_Free - HugePages_Rsvd)
 * according to a meminfo file (normally /proc/meminfo); -ENOENT when it
 * does not say, -ENOTSUP when its huge page size is not 2 MiB. */
int gm_huge_pages_free(const char *meminfo, uint64_t *pages) MUST_CHECK;
/* Wraps caller-owned memory (unit tests and fuzzers: plain malloc'd memory
 * at guest address 0). No hole is made. */
void gm_init_wrap(struct guest_mem *gm, void *mem, uint64_t size);

/* RAM restored from a snapshot memory file: `size` bytes of the open file fd
 * mapped MAP_PRIVATE from offset 0, so clones share the file's page cache and
 * their writes are copy-on-write. On success gm owns fd (closed at gm_free);
 * on failure the caller still does. The caller checks the file is at least
 * `size` bytes: a page past its end would be a SIGBUS. */
int gm_init_file(struct guest_mem *gm, uint64_t size, int fd) MUST_CHECK;
void gm_free(struct guest_mem *gm);

/* Host pointer for [gpa, gpa+len) or NULL unless the whole range is RAM in
 * one region. len 0 is allowed and still needs gpa inside (or at the end of) a
 * region. Overflow-safe for any gpa/len. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len) MUST_CHECK;
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len) MUST_CHECK;

/* Highest guest-physical address + 1 that is RAM. */
uint64_t gm_top(const struct guest_mem *gm);

/* Kite-side dirty pages, for Diff snapshots. KVM's dirty log sees only what
 * the guest writes; what kite writes into guest RAM (virtio rings and the
 * buffers devices fill) is recorded here. One bit per 4 KiB page of RAM,
 * indexed by RAM offset (host pointer - base), not by guest address: bit i
 * of word w is the page at offset (w * 64 + i) * 4096. */
#define GM_PAGE_SIZE 4096ull

/* Words in the bitmap: one bit per page of gm->size, rounded up. */
size_t gm_dirty_words(const struct guest_mem *gm);
/* Turns tracking on with every page marked: nothing has been saved yet, so
 * the first Diff, relative to nothing, must carry all of RAM (a restore
 * that loads RAM from a snapshot takes and drops the marks afterwards).
 * 0 when already on; -ENOMEM. */
int gm_dirty_enable(struct guest_mem *gm) MUST_CHECK;
/* Marks the pages of [gpa, gpa+len) that are RAM; the rest (the hole, past
 * the top, a wrapping range) is ignored, since nothing there is saved.
 * No-op while tracking is off. Safe from any thread (atomic OR). */
void gm_mark_dirty(const struct guest_mem *gm, uint64_t gpa, uint64_t len);
/* ORs the marks into dst (gm_dirty_words(gm) words) and clears them, word
 * by word atomically: a page marked meanwhile is either in dst or still
 * marked, never lost. No-op while tracking is off. */
void gm_dirty_take(const struct guest_mem *gm, uint64_t *dst);

#endif
