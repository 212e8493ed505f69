/* Whole-or-nothing output files for snapshots (see outfile.h). */
#include "snapshot/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"

int outfile_open(struct outfile *o, const char *path)
{
	int n = snprintf(o->tmp, sizeof(o->tmp), "%s.XXXXXX", path);

	o->fd = -1;
	o->path = path;
	if (n < 0 || (size_t)n >= sizeof(o->tmp))
		return -ENAMETOOLONG;
	/* mkostemp makes it 0600 and O_EXCL: never someone else's file. */
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	return o->fd < 0 ? -errno : 0;
}

int outfile_write(struct outfile *o, const void *p, size_t n)
{
	return fd_write_all(o->fd, p, n);
}

/* Makes the rename itself durable; best effort, the file is synced. */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path + 1), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int outfile_finish(struct outfile *o, const char **what)
{
	int rc = 0;

	*what = "fsync";
	if (fsync(o->fd) < 0)
		rc = -errno;
	if (close(o->fd) < 0 && !rc) {
		rc = -errno;
		*what = "close";
	}
	o->fd = -1;
	if (rc && o->tmp[0])
		unlink(o->tmp);
	return rc;
}

int outfile_rename(struct outfile *o)
{
	if (!o->tmp[0])
		return 0; /* written in place */
	if (rename(o->tmp, o->path) < 0) {
		int rc = -errno;

		unlink(o->tmp);
		return rc;
	}
	o->tmp[0] = '\0';
	sync_dir(o->path);
	return 0;
}

int outfile_commit(struct outfile *o, const char **what)
{
	int rc = outfile_finish(o, what);

	if (rc)
		return rc;
	*what = "rename";
	return outfile_rename(o);
}

void outfile_abort(struct outfile *o)
{
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp[0])
		unlink(o->tmp);
	o->tmp[0] = '\0';
}
