/* The guest-memory half of a snapshot: the memory file and its map.
 *
 * The memory file is a raw image of guest RAM by RAM offset (host pointer -
 * gm->base, 0..gm->size), with no header, so it can be mapped at offset 0 and
 * merged by simple tools. It is sparse: zero pages are holes. The map (a
 * section the snapshot file stores) says, per page-aligned range, where the
 * bytes of RAM come from: a hole (ZERO, anonymous memory on restore), this
 * file (DATA), or, in a diff snapshot, the previous snapshot's memory file
 * (BASE) once the diff has been merged onto it.
 *
 * A diff snapshot's state file plus its base memory file after
 * `memfile_merge(base, diff)` is a full snapshot: every BASE range of the map
 * then reads the base's bytes, every DATA range the diff's. */
#ifndef KITE_SNAPSHOT_MEMFILE_H
#define KITE_SNAPSHOT_MEMFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler.h"
#include "guest_mem.h"
#include "state.h"

#define MEMMAP_PAGE 4096u
#define MEMMAP_DIFF 1u /* flags bit 0: a diff snapshot; BASE ranges allowed */

enum memmap_kind { MEMMAP_ZERO = 0, MEMMAP_DATA = 1, MEMMAP_BASE = 2 };

/* Bounds on a map read from a file: at most one range per page, and never
 * more than 1 << 22 (96 MiB of ranges in memory); RAM of at most 1 TiB. */
#define MEMMAP_RANGES_CAP (1u << 22)
#define MEMMAP_MAX_RANGES(ram_size)                                                                \
	((ram_size) / MEMMAP_PAGE < MEMMAP_RANGES_CAP ? (ram_size) / MEMMAP_PAGE                   \
						      : MEMMAP_RANGES_CAP)
#define MEMMAP_RAM_MAX (1ull << 40)

/* Section layout (little-endian): u64 ram_size, u32 page size, u32 flags,
 * u32 nr_ranges, then nr_ranges of (u64 offset, u64 length, u32 kind). */
#define MEMMAP_HEADER_BYTES 20u
#define MEMMAP_RANGE_BYTES 20u

struct memmap_range {
	uint64_t offset, length;
	uint32_t kind;
};

/* Ranges sorted, contiguous, covering exactly [0, ram_size), adjacent
 * ranges of different kinds. */
struct memmap {
	uint64_t ram_size;
	uint32_t page_size, flags;
	uint32_t nr_ranges;
	struct memmap_range *ranges;
};

int memmap_parse(const void *p, size_t len, struct memmap *out, char *err,
		 size_t errlen) MUST_CHECK;
void memmap_free(struct memmap *m);
void memmap_totals(const struct memmap *m, uint64_t *data, uint64_t *zero, uint64_t *base);
/* A summary line and the first ranges, for `kite snapshot inspect`. */
void memmap_print(const struct memmap *m, FILE *out);

/* Encodes a map range by range as it is found, coalescing a range with the
 * one before it when both are of the same kind; nothing is kept but the
 * pending range, so a save never holds the map twice. */
struct memmap_writer {
	struct state_buf *b;
	size_t nr_at; /* where nr_ranges sits in b, patched at the end */
	uint32_t nr;
	uint64_t off, len; /* the pending range */
	uint32_t kind;
	uint64_t ram_size;
};

void memmap_writer_begin(struct memmap_writer *w, struct state_buf *b, uint64_t ram_size,
			 uint32_t flags);
void memmap_writer_add(struct memmap_writer *w, uint64_t off, uint64_t len, uint32_t kind);
/* Ranges the writer holds counting the pending one: a saver that reaches
 * MEMMAP_MAX_RANGES - 1 writes everything after as DATA. */
uint32_t memmap_writer_count(const struct memmap_writer *w);
/* -ENOMEM if the buffer failed, -EINVAL if the ranges did not cover RAM. */
int memmap_writer_end(struct memmap_writer *w) MUST_CHECK;

struct memfile_stats {
	uint64_t bytes_written; /* bytes written to the file */
	uint64_t data_bytes;	/* RAM in DATA ranges */
	uint64_t zero_bytes;	/* RAM in ZERO ranges (holes) */
	uint64_t base_bytes;	/* RAM in BASE ranges (diff snapshots) */
	uint64_t ms;		/* wall-clock time of the call */
};

/* Writes gm's RAM to `path` (via path.tmp, fsync, rename; mode 0600) and
 * the map section to map_out (appended to it). dirty NULL: a full snapshot,
 * zero pages left as holes. dirty non-NULL: one bit per 4 KiB page of RAM
 * offset (bit i of word w is page w*64+i; (size / 4096 + 63) / 64 words):
 * only those pages are written, even zero ones (a merge must apply them),
 * the rest are BASE. Large RAM whose pages alternate more often than a map
 * may record (MEMMAP_RANGES_CAP) is saved as DATA from that point on. */
int memfile_save(const struct guest_mem *gm, const char *path, const uint64_t *dirty,
		 struct state_buf *map_out, struct memfile_stats *st, char *err,
		 size_t errlen) MUST_CHECK;

/* Restores guest RAM from `path` as the map describes: the file mapped
 * MAP_PRIVATE (gm_init_file), ZERO ranges replaced by anonymous memory.
 * Nothing is copied or read here. */
int memfile_map(struct guest_mem *gm, const char *path, const struct memmap *map, char *err,
		size_t errlen) MUST_CHECK;

/* Copies every data extent of `diff` onto `base` at the same offset, then
 * fsyncs base. Both regular files of the same size. Do not merge into a
 * base file that a running VM maps: the pages it has not written yet would
 * change under it. */
int memfile_merge(const char *base, const char *diff, struct memfile_stats *st, char *err,
		  size_t errlen) MUST_CHECK;

#endif
