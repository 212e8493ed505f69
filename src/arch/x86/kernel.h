/* `--kernel`: builds the final command line and has linux_boot place the
 * kernel and initrd (already mapped by main) and describe the virtio-mmio
 * windows; returns the vCPU entry state. Takes what it needs, not the VM. */
#ifndef KITE_X86_KERNEL_H
#define KITE_X86_KERNEL_H

#include <stddef.h>

#include "arch/x86/cpu.h"
#include "compiler.h"
#include "guest_mem.h"
#include "hostfile.h"
#include "machine.h"

#define KERNEL_DEFAULT_CMDLINE "console=ttyS0"
#define KERNEL_DEFAULT_CMDLINE_HVC "console=hvc0"
#define KERNEL_FILE_MAX (1ull << 31) /* no kernel or initrd is 2 GiB */

struct kernel_boot {
	const struct host_file *kernel;
	const struct host_file *initrd; /* len 0: none */
	const char *cmdline;            /* the user's, or NULL for the default */
	int nr_cpus;
	const struct machine_slot *slots; /* virtio-mmio windows */
	int nr_slots;
};

int kernel_load(struct guest_mem *gm, const struct kernel_boot *kb, struct cpu_entry *entry,
		char *err, size_t errlen) MUST_CHECK;

/* The command line the guest gets: the user's (or the default), plus one
 * virtio_mmio.device= per window when ACPI is off. Exposed for tests. */
int kernel_cmdline(const char *user, const struct machine_slot *slots, int nr_slots, char *out,
		   size_t outlen) MUST_CHECK;

#endif
