/* Raw flat images: read a file and place it in guest RAM for `--image`. */
#ifndef KITE_X86_BOOT_RAW_H
#define KITE_X86_BOOT_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"
#include "guest_mem.h"
#include "hostfile.h"

/* Checks that [load, load+len) is RAM and, for modes that need kite's GDT,
 * TSS and page tables, does not overlap them. err gets one line. */
int boot_raw_check(const struct guest_mem *gm, enum cpu_mode mode, uint64_t load, uint64_t len,
		   char *err, size_t errlen) MUST_CHECK;

/* Places a mapped image in RAM at load after boot_raw_check(). */
int boot_raw_place(struct guest_mem *gm, enum cpu_mode mode, const struct host_file *img,
		   uint64_t load, char *err, size_t errlen) MUST_CHECK;
/* Reads the whole of path into RAM at load after boot_raw_check(). Returns
 * 0, -ENOENT/-EACCES/... for file errors, -EINVAL/-E2BIG for bad images. */
int boot_raw_load(struct guest_mem *gm, enum cpu_mode mode, const char *path, uint64_t load,
		  char *err, size_t errlen) MUST_CHECK;

#endif
