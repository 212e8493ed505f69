/* A file written whole or not at all, for the snapshot's files (state,
 * memory, working set): written under a unique temporary name in the
 * target's directory (PATH.XXXXXX, so that an interrupted save or a
 * concurrent one neither blocks nor clobbers this one), fsynced, renamed
 * over PATH, and the directory fsynced. On any failure the temporary file
 * is removed and PATH is left as it was. Mode 0600: snapshots hold the
 * guest's memory and registers, its secrets with them. */
#ifndef KITE_SNAPSHOT_OUTFILE_H
#define KITE_SNAPSHOT_OUTFILE_H

#include <limits.h>
#include <stddef.h>

#include "compiler.h"

struct outfile {
	int fd;
	const char *path;
	char tmp[PATH_MAX];
};

/* -errno; -ENAMETOOLONG when PATH leaves no room for the suffix. */
int outfile_open(struct outfile *o, const char *path) MUST_CHECK;
/* All of it, retrying short writes and EINTR. */
int outfile_write(struct outfile *o, const void *p, size_t n) MUST_CHECK;
/* fsync, close, rename over the target, fsync the directory. On failure
 * (-errno) the temporary file is gone; *what names the step that failed. */
int outfile_commit(struct outfile *o, const char **what) MUST_CHECK;
/* The same in two steps, for files that must appear together (a snapshot's
 * memory file, then its state file): finish (fsync, close; the temporary
 * file stays), then rename. Either removes the temporary file on failure. */
int outfile_finish(struct outfile *o, const char **what) MUST_CHECK;
int outfile_rename(struct outfile *o) MUST_CHECK;
/* Closes and removes the temporary file (also after outfile_finish). An
 * outfile written in place (memfile's Diff into its base: tmp empty) has
 * none: a no-op. */
void outfile_abort(struct outfile *o);

#endif
