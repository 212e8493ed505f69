/* A host file kite reads whole (raw image, kernel, initrd), mapped read-only
 * once: the page cache backs it, nothing is copied twice, and a machine
 * restart reads the bytes again without opening the path again. */
#ifndef KITE_HOSTFILE_H
#define KITE_HOSTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

struct host_file {
	const uint8_t *p;
	size_t len;
	const char *path;
};

/* Maps a whole regular file. `what` names it in err ("kernel", "image").
 * Refused: a path that is not a regular file (-EINVAL; a FIFO never blocks
 * the open), an empty file (-EINVAL), one larger than max (-E2BIG). */
int host_file_map(struct host_file *f, const char *what, const char *path, uint64_t max,
		  char *err, size_t errlen) MUST_CHECK;
void host_file_unmap(struct host_file *f);

#endif
