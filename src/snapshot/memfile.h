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
#include "snapshot/memmap.h"
#include "snapshot/outfile.h"
#include "state.h"

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

/* memfile_save, but a new file is left finished under its temporary name
 * in *pending (outfile_rename or outfile_abort it), so that a snapshot's
 * memory and state files appear together. A Diff whose path is an existing
 * regular file of the RAM's size is merged into it in place (Firecracker's
 * behaviour: the previous snapshot's memory file stays whole); *pending is
 * then an outfile with nothing to rename. */
int memfile_save_pending(const struct guest_mem *gm, const char *path, const uint64_t *dirty,
			 struct state_buf *map_out, struct memfile_stats *st,
			 struct outfile *pending, char *err, size_t errlen) MUST_CHECK;

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
/* The same by the Diff's memory map (its state file's memmap section): only
 * its DATA ranges are copied. Exact on filesystems whose SEEK_DATA does not
 * follow holes (some FUSE, 9p, NFS) or that turn written zeros back into
 * holes (compressing ones), where memfile_merge would copy too much or too
 * little. map NULL: memfile_merge. */
int memfile_merge_map(const char *base, const char *diff, const struct memmap *map,
		      struct memfile_stats *st, char *err, size_t errlen) MUST_CHECK;

#endif
