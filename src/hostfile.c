/* Whole-file read-only mappings for images, kernels and initrds. */
#include "hostfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int host_file_map(struct host_file *f, const char *what, const char *path, uint64_t max,
		  char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd, rc;

	f->p = NULL;
	f->len = 0;
	f->path = path;
	/* O_NONBLOCK: a FIFO must not block the open (refused below). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s %s: %s", what, path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s %s is not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s %s is empty", what, path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(err, errlen, "%s %s is larger than %llu MiB", what, path,
			 (unsigned long long)(max >> 20));
		close(fd);
		return -E2BIG;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "cannot map %s %s: %s", what, path, strerror(-rc));
		return rc;
	}
	f->p = p;
	f->len = (size_t)st.st_size;
	return 0;
}

void host_file_unmap(struct host_file *f)
{
	if (f->p)
		munmap((void *)f->p, f->len);
	f->p = NULL;
	f->len = 0;
}
