/* ELF vmlinux kernels: validation, loading of PT_LOAD segments at their
 * physical addresses, the 64-bit entry point and the PVH entry note
 * (XEN_ELFNOTE_PHYS32_ENTRY). */
#ifndef KITE_X86_ELF_LOAD_H
#define KITE_X86_ELF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "guest_mem.h"

#define ELF_XEN_NOTE_PHYS32_ENTRY 18
/* More program headers than any kernel has; bounds the work per file. */
#define ELF_MAX_PHDRS 128

struct elf_kernel {
	uint64_t entry64;    /* physical address of the 64-bit entry */
	uint64_t start, end; /* physical extent of all PT_LOAD segments */
	int has_pvh;
	uint32_t pvh_entry; /* 32-bit physical PVH entry when has_pvh */
};

/* Nonzero when the file starts with the ELF magic. */
int elf_is_elf(const uint8_t *img, size_t len);

/* Validates a 64-bit little-endian x86-64 ET_EXEC and fills ek without
 * touching guest memory. Every PT_LOAD must lie in RAM at or above
 * min_paddr. Returns 0, -ENOEXEC or -EINVAL with one line in err. */
int elf_parse(const struct guest_mem *gm, const uint8_t *img, size_t len, uint64_t min_paddr,
	      struct elf_kernel *ek, char *err, size_t errlen) MUST_CHECK;

/* Copies every PT_LOAD to its p_paddr and zeroes its bss tail. Call only
 * after elf_parse succeeded on the same file and memory. */
int elf_load(struct guest_mem *gm, const uint8_t *img, size_t len, char *err,
	     size_t errlen) MUST_CHECK;

#endif
