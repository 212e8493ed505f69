/* Landlock for the jail: once kite sits in its new root, file access is
 * limited to that root without exec, device nodes, FIFOs or symlinks, and
 * TCP is denied; skipped cleanly where the kernel has no Landlock. */
#ifndef KITE_SANDBOX_JAIL_LANDLOCK_H
#define KITE_SANDBOX_JAIL_LANDLOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"

/* The kernel's Landlock ABI version, or 0 when it has none (or it is off). */
int jail_landlock_abi(void);
/* Restricts the calling process (no_new_privs must be set). Returns the
 * ABI version applied, 0 when unsupported (nothing done), -errno with one
 * line in err on failure. allow_exec: the jailer execs the VMM inside. */
int jail_landlock_apply(bool allow_exec, char *err, size_t errlen) MUST_CHECK;

#endif
