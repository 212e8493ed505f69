/* Loading flat binaries, with every bound checked before a byte is copied. */
#include "arch/x86/boot_raw.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/cpu.h"

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int boot_raw_check(const struct guest_mem *gm, enum cpu_mode mode, uint64_t load, uint64_t len,
		   char *err, size_t errlen)
{
	uint64_t end;

	if (len == 0) {
		snprintf(err, errlen, "image is empty");
		return -EINVAL;
	}
	if (__builtin_add_overflow(load, len, &end) || !gm_ptr(gm, load, len)) {
		snprintf(err, errlen,
			 "image of %llu bytes at 0x%llx does not fit in guest RAM (RAM is %llu MiB%s)",
			 (unsigned long long)len, (unsigned long long)load,
			 (unsigned long long)(gm->size >> 20),
			 gm->nr_regions > 1 ? ", with a hole at 3-4 GiB" : "");
		return -E2BIG;
	}
	if (mode == MODE_REAL && end > 0x100000) {
		snprintf(err, errlen, "real-mode image must end below 1 MiB (ends at 0x%llx)",
			 (unsigned long long)end);
		return -E2BIG;
	}
	if (mode != MODE_REAL && (overlaps(load, len, CPU_GDT_ADDR, CPU_GDT_END - CPU_GDT_ADDR) ||
				  overlaps(load, len, CPU_TSS_ADDR, CPU_TSS_END - CPU_TSS_ADDR))) {
		snprintf(err, errlen,
			 "image at 0x%llx-0x%llx overlaps kite's GDT at 0x%x-0x%x or TSS at 0x%x-0x%x",
			 (unsigned long long)load, (unsigned long long)end, CPU_GDT_ADDR, CPU_GDT_END,
			 CPU_TSS_ADDR, CPU_TSS_END);
		return -EINVAL;
	}
	if ((mode == MODE_LONG || mode == MODE_LONG_USER) &&
	    overlaps(load, len, CPU_PT_ADDR, CPU_PT_END - CPU_PT_ADDR)) {
		snprintf(err, errlen,
			 "image at 0x%llx-0x%llx overlaps kite's page tables at 0x%x-0x%x",
			 (unsigned long long)load, (unsigned long long)end, CPU_PT_ADDR, CPU_PT_END);
		return -EINVAL;
	}
	return 0;
}

int boot_raw_place(struct guest_mem *gm, enum cpu_mode mode, const struct host_file *img,
		   uint64_t load, char *err, size_t errlen)
{
	int rc = boot_raw_check(gm, mode, load, img->len, err, errlen);

	if (rc) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errlen, "image %s: %s", img->path, msg);
		return rc;
	}
	return gm_write(gm, load, img->p, img->len);
}

int boot_raw_load(struct guest_mem *gm, enum cpu_mode mode, const char *path, uint64_t load,
		  char *err, size_t errlen)
{
	struct host_file img;
	int rc;

	/* Larger than any RAM: boot_raw_check says "does not fit". */
	rc = host_file_map(&img, "image", path, UINT64_MAX, err, errlen);
	if (rc)
		return rc;
	rc = boot_raw_place(gm, mode, &img, load, err, errlen);
	host_file_unmap(&img);
	return rc;
}
