/* `--kernel`: reads the kernel and initrd files, builds the final command
 * line, and has linux_boot place everything; returns the vCPU entry state. */
#ifndef KITE_X86_KERNEL_H
#define KITE_X86_KERNEL_H

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "compiler.h"

struct vm;
struct vm_virtio;

#define KERNEL_DEFAULT_CMDLINE "console=ttyS0"
#define KERNEL_DEFAULT_CMDLINE_HVC "console=hvc0"

int kernel_load(struct vm *vm, const struct vm_virtio *virtio, struct cpu_entry *entry,
		char *err, size_t errlen) MUST_CHECK;

/* The command line the guest gets: the user's (or the default), plus one
 * virtio_mmio.device= per device when ACPI is off. Exposed for tests. */
int kernel_cmdline(const char *user, const struct vm_virtio *virtio, char *out,
		   size_t outlen) MUST_CHECK;

#endif
