/* Glue between the CLI's --kernel/--initrd/--cmdline and linux_boot. */
#include "arch/x86/kernel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/linux_boot.h"
#include "log.h"

static int has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = s; (p = strstr(p, w)); p += n)
		if ((p == s || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return 1;
	return 0;
}

int kernel_cmdline(const char *user, const struct machine_slot *slots, int nr_slots, char *out,
		   size_t outlen)
{
	size_t len;
	int acpi_off;

	if (!user)
		user = KERNEL_DEFAULT_CMDLINE;
	acpi_off = has_word(user, "acpi=off");
	len = (size_t)snprintf(out, outlen, "%s", user);
	if (len >= outlen)
		return -E2BIG;
	for (int i = 0; acpi_off && i < nr_slots; i++) {
		int n = snprintf(out + len, outlen - len, " virtio_mmio.device=0x%llx@0x%llx:%u",
				 (unsigned long long)slots[i].size,
				 (unsigned long long)slots[i].base, slots[i].gsi);

		if (n < 0 || (size_t)n >= outlen - len)
			return -E2BIG;
		len += (size_t)n;
	}
	return 0;
}

int kernel_load(struct guest_mem *gm, const struct kernel_boot *kb, struct cpu_entry *entry,
		char *err, size_t errlen)
{
	struct linux_mmio_dev devs[MACHINE_MMIO_SLOTS];
	struct linux_boot_cfg bc = {.nr_cpus = kb->nr_cpus, .prefer_pvh = 1};
	struct linux_boot_entry le;
	static char cmdline[8192];
	int rc;

	if (kb->nr_slots < 0 || kb->nr_slots > MACHINE_MMIO_SLOTS)
		return -EINVAL;
	if (kernel_cmdline(kb->cmdline, kb->slots, kb->nr_slots, cmdline, sizeof(cmdline))) {
		snprintf(err, errlen, "--cmdline: longer than %zu bytes", sizeof(cmdline) - 1);
		return -E2BIG;
	}
	for (int d = 0; d < kb->nr_slots; d++)
		devs[d] = (struct linux_mmio_dev){kb->slots[d].base, kb->slots[d].size,
						  kb->slots[d].gsi, NULL};
	bc.kernel = kb->kernel->p;
	bc.kernel_len = kb->kernel->len;
	bc.initrd = kb->initrd ? kb->initrd->p : NULL;
	bc.initrd_len = kb->initrd ? kb->initrd->len : 0;
	bc.cmdline = cmdline;
	bc.mmio_devs = devs;
	bc.nr_mmio_devs = kb->nr_slots;
	rc = linux_boot_load(gm, &bc, &le, err, errlen);
	if (rc)
		return rc;
	log_info("boot", "%s kernel entered at 0x%llx; command line: %s", le.format,
		 (unsigned long long)le.rip, cmdline);
	memset(entry, 0, sizeof(*entry));
	entry->rip = le.rip;
	if (le.mode == LINUX_ENTRY_PVH) {
		entry->mode = MODE_PROTECTED;
		entry->regs[GPR_RBX] = le.rbx;
		entry->regs_set = 1u << GPR_RBX;
	} else {
		entry->mode = MODE_LONG;
		entry->regs[GPR_RSI] = le.rsi;
		entry->regs_set = 1u << GPR_RSI;
	}
	rc = cpu_write_tables(gm, entry->mode);
	if (rc)
		snprintf(err, errlen, "cannot write GDT/page tables: %s", strerror(-rc));
	return rc;
}
