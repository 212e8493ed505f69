/* Whole writes to a file descriptor. */
#ifndef KITE_FDIO_H
#define KITE_FDIO_H

#include <stddef.h>

#include "compiler.h"

/* Writes all n bytes, going on after a short write or EINTR: 0, or -errno
 * (-EIO for a write that wrote nothing). */
int fd_write_all(int fd, const void *p, size_t n) MUST_CHECK;

#endif
