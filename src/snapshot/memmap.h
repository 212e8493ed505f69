/* The memory map section of a snapshot: per page-aligned range of guest
 * RAM, where its bytes come from on restore (a hole, the memory file, or a
 * diff's base). Encoded while memfile_save walks RAM, parsed as hostile
 * input on restore and by `kite snapshot inspect`. See memfile.h for the
 * memory file itself. */
#ifndef KITE_SNAPSHOT_MEMMAP_H
#define KITE_SNAPSHOT_MEMMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler.h"
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

#endif
