/* Unit tests of the snapshot writers: whether a save into DIR/NAME left its
 * temporary file (NAME.XXXXXX, snapshot/outfile.h) behind. */
#ifndef KITE_TESTS_LEFTOVER_H
#define KITE_TESTS_LEFTOVER_H

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static inline bool leftover_in(const char *dir, const char *name)
{
	char pat[128];
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	snprintf(pat, sizeof(pat), "%s.", name);
	while ((e = readdir(d)))
		found |= !strncmp(e->d_name, pat, strlen(pat)) &&
			 strlen(e->d_name) == strlen(pat) + 6;
	closedir(d);
	return found;
}

#endif
