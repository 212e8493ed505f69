/* Errors with blame. */
#include "error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int error_blame(struct error *e, int rc, enum blame b)
{
	e->blame = b;
	e->code = rc;
	return rc;
}

int error_set(struct error *e, int rc, enum blame b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return error_blame(e, rc, b);
}

enum blame error_blame_path(int rc)
{
	switch (rc) {
	case -ENOENT: case -EACCES: case -EPERM: case -EISDIR: case -ENOTDIR:
	case -ELOOP: case -ENAMETOOLONG: case -EBUSY: case -EINVAL: case -E2BIG:
	case -ENOEXEC: case -ENODEV: case -ENXIO: case -ENOTSUP: case -EADDRINUSE:
	case -EROFS: case -ETXTBSY:
		return BLAME_INPUT;
	default:
		return BLAME_HOST;
	}
}
