/* Glue between the CLI's --kernel/--initrd/--cmdline and linux_boot. */
#include "arch/x86/kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/linux_boot.h"
#include "log.h"
#include "vm.h"
#include "vm_virtio.h"

#define KERNEL_FILE_MAX (1ull << 31) /* no kernel or initrd is 2 GiB */

struct mapped {
	const uint8_t *p;
	size_t len;
};

/* Maps a whole file read-only; the page cache backs it, nothing is copied
 * twice. */
static int map_file(const char *what, const char *path, struct mapped *m, char *err,
		    size_t errlen)
{
	struct stat st;
	int fd, rc;

	m->p = NULL;
	m->len = 0;
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
	if (st.st_size == 0 || (uint64_t)st.st_size > KERNEL_FILE_MAX) {
		snprintf(err, errlen, "%s %s is %s", what, path,
			 st.st_size == 0 ? "empty" : "larger than 2 GiB");
		close(fd);
		return -EINVAL;
	}
	m->p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m->p == MAP_FAILED) {
		rc = -errno;
		m->p = NULL;
		snprintf(err, errlen, "cannot map %s %s: %s", what, path, strerror(-rc));
		return rc;
	}
	m->len = (size_t)st.st_size;
	return 0;
}

static void unmap_file(struct mapped *m)
{
	if (m->p)
		munmap((void *)m->p, m->len);
	m->p = NULL;
}

static int has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = s; (p = strstr(p, w)); p += n)
		if ((p == s || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return 1;
	return 0;
}

int kernel_cmdline(const char *user, const struct vm_virtio *virtio, char *out, size_t outlen)
{
	size_t len;
	int acpi_off;

	if (!user)
		user = KERNEL_DEFAULT_CMDLINE;
	acpi_off = has_word(user, "acpi=off");
	len = (size_t)snprintf(out, outlen, "%s", user);
	if (len >= outlen)
		return -E2BIG;
	for (int i = 0; acpi_off && i < vm_virtio_count(virtio); i++) {
		const struct vm_virtio_slot *s = vm_virtio_slot(virtio, i);
		int n = snprintf(out + len, outlen - len, " virtio_mmio.device=0x%x@0x%llx:%u",
				 0x1000u, (unsigned long long)s->base, s->gsi);

		if (n < 0 || (size_t)n >= outlen - len)
			return -E2BIG;
		len += (size_t)n;
	}
	return 0;
}

int kernel_load(struct vm *vm, const struct vm_virtio *virtio, struct cpu_entry *entry,
		char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	struct linux_mmio_dev devs[VM_VIRTIO_MAX];
	struct linux_boot_cfg bc = {.nr_cpus = cfg->cpus, .prefer_pvh = 1};
	struct linux_boot_entry le;
	struct mapped k = {0}, i = {0};
	static char cmdline[8192];
	int rc;

	rc = map_file("kernel", cfg->kernel, &k, err, errlen);
	if (!rc && cfg->initrd)
		rc = map_file("initrd", cfg->initrd, &i, err, errlen);
	if (rc)
		goto out;
	if (kernel_cmdline(cfg->cmdline ? cfg->cmdline
			   : cfg->console == CONSOLE_VIRTIO ? KERNEL_DEFAULT_CMDLINE_HVC : NULL,
			   virtio, cmdline, sizeof(cmdline))) {
		snprintf(err, errlen, "--cmdline: longer than %zu bytes", sizeof(cmdline) - 1);
		rc = -E2BIG;
		goto out;
	}
	for (int d = 0; d < vm_virtio_count(virtio); d++) {
		const struct vm_virtio_slot *s = vm_virtio_slot(virtio, d);

		devs[d] = (struct linux_mmio_dev){s->base, 0x1000, s->gsi, NULL};
	}
	bc.kernel = k.p;
	bc.kernel_len = k.len;
	bc.initrd = i.p;
	bc.initrd_len = i.len;
	bc.cmdline = cmdline;
	bc.mmio_devs = devs;
	bc.nr_mmio_devs = vm_virtio_count(virtio);
	rc = linux_boot_load(&vm->gm, &bc, &le, err, errlen);
	if (rc)
		goto out;
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
	rc = cpu_write_tables(&vm->gm, entry->mode);
	if (rc)
		snprintf(err, errlen, "cannot write GDT/page tables: %s", strerror(-rc));
out:
	unmap_file(&i);
	unmap_file(&k);
	return rc;
}
