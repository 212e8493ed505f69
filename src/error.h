/* An error for the user: one line of text and whose fault it is. The code
 * that knows what failed says so where it fails (an option or file the
 * user gave, versus the host refusing kite something), so that main maps
 * blame to an exit status without guessing from errno values. */
#ifndef KITE_ERROR_H
#define KITE_ERROR_H

#include <stddef.h>

enum blame {
	BLAME_NONE,
	BLAME_INPUT, /* options, files, /dev/kvm missing or not permitted: exit 2 */
	BLAME_HOST,  /* a system call kite needs failed: exit 1 */
};

#define ERROR_MSG_MAX 512

struct error {
	enum blame blame;
	int code; /* -errno */
	char msg[ERROR_MSG_MAX];
};

/* Records blame for rc (msg already written by the callee) and returns rc. */
int error_blame(struct error *e, int rc, enum blame b);
/* Formats msg too. */
int error_set(struct error *e, int rc, enum blame b, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* For a failure to open or use a path the user named: their input unless
 * the host ran out of something (ENOMEM, EMFILE, EIO...). */
enum blame error_blame_path(int rc);

#endif
