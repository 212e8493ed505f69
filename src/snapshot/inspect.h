/* `kite snapshot inspect`: a snapshot file shown for a person, damaged or
 * not, and whether it could be restored on this host. */
#ifndef KITE_SNAPSHOT_INSPECT_H
#define KITE_SNAPSHOT_INSPECT_H

#include <stddef.h>
#include <stdio.h>

#include "compiler.h"

/* Prints path's header, host signature and sections, then compares the
 * signature with this host's /dev/kvm if it opens. -EINVAL (message in
 * err) when the file is damaged, after printing what it could. */
int snap_inspect(const char *path, FILE *out, char *err, size_t errlen) MUST_CHECK;
/* The same for bytes already read, with no I/O but to out. */
int snap_inspect_buf(const void *buf, size_t len, FILE *out, char *err, size_t errlen) MUST_CHECK;

/* `kite snapshot ARGS...`, argv[0] being the subcommand ("inspect"); returns
 * the exit status: 0, 2 for a bad file or usage, 1 when the host failed. */
int snapshot_cmd(int argc, char **argv);

#endif
