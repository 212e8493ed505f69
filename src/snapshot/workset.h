/* A restored VM's working set: the pages of guest RAM a run touched,
 * recorded once (after a restore, when the guest has done its first work)
 * and prefetched on later restores from the same memory file by a helper
 * thread while the vCPUs already run, so the guest takes fewer page faults
 * into the file's page cache (the REAP idea).
 *
 * File (little-endian): "KITEWSET", u32 version 1, u64 ram_size, u32
 * nr_ranges, then nr_ranges of (u64 offset, u64 length): sorted, disjoint,
 * page-aligned, non-empty, inside RAM. */
#ifndef KITE_SNAPSHOT_WORKSET_H
#define KITE_SNAPSHOT_WORKSET_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "guest_mem.h"
#include "snapshot/memfile.h"

#define WORKSET_MAGIC "KITEWSET"
#define WORKSET_VERSION 1u
#define WORKSET_HEADER_BYTES 24u
#define WORKSET_RANGE_BYTES 16u
/* A working set is a hint: past this many ranges the rest is dropped when
 * recording and the file refused when loading (64 MiB of ranges). */
#define WORKSET_MAX_RANGES (1u << 22)

struct workset_range {
	uint64_t offset, length;
};

struct workset {
	uint64_t ram_size;
	uint32_t nr_ranges;
	struct workset_range *ranges;
};

int workset_record(const struct guest_mem *gm, const char *path, struct memfile_stats *st,
		   char *err, size_t errlen) MUST_CHECK;
/* The file's RAM size must equal ram_size. */
int workset_load(const char *path, uint64_t ram_size, struct workset *ws, char *err,
		 size_t errlen) MUST_CHECK;
/* The parser behind workset_load, over bytes in memory (fuzzed). */
int workset_parse(const void *p, size_t len, uint64_t ram_size, struct workset *ws, char *err,
		  size_t errlen) MUST_CHECK;
void workset_free(struct workset *ws);

struct workset_prefetch {
	pthread_t thread;
	bool started;
	atomic_bool stop;
	struct guest_mem *gm;
	const struct workset *ws;
	/* Written by the thread, read after the join. */
	uint64_t bytes; /* RAM prefetched */
	uint64_t ms;
	int err; /* 0, or the -errno that ended the prefetch early */
};

/* Starts the prefetch thread over ws (which must outlive the join). */
int workset_prefetch_start(struct guest_mem *gm, const struct workset *ws,
			   struct workset_prefetch *pf) MUST_CHECK;
/* Stops the thread at its next range (or chunk) and waits for it: call it
 * before gm_free. A no-op if the thread never started. */
void workset_prefetch_join(struct workset_prefetch *pf);
/* Waits for the thread to finish every range (tests, benchmarks). */
void workset_prefetch_wait(struct workset_prefetch *pf);

#endif
