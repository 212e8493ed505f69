/* bzImage kernel files: the setup header checks of boot.rst ("The Real-Mode
 * Kernel Header", "64-bit Boot Protocol") and the copy of the protected-mode
 * part into guest RAM. The kernel file comes from the user, not the guest,
 * but it is still untrusted input: every offset and size read from it is
 * bounded against the file length with overflow-checked arithmetic. */
#include "arch/x86/bzimage.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/boot_util.h"

int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *bi, char *err, size_t errlen)
{
	uint64_t setup_size, avail, sys_bytes;
	uint32_t syssize;
	unsigned setup_sects;

	memset(bi, 0, sizeof(*bi));
	if (len < BZ_HEADER + 4 || le16_get(img + BZ_BOOT_FLAG) != BZ_BOOT_FLAG_MAGIC ||
	    le32_get(img + BZ_HEADER) != BZ_HDRS_MAGIC) {
		boot_errf(err, errlen,
			  "kernel: not a bzImage (no 0xAA55 boot flag and \"HdrS\" header)");
		return -ENOEXEC;
	}
	if (len < BZ_VERSION + 2) {
		boot_errf(err, errlen, "kernel: bzImage is truncated inside its setup header");
		return -ENOEXEC;
	}
	bi->version = le16_get(img + BZ_VERSION);
	if (bi->version < BZ_MIN_VERSION) {
		boot_errf(
		    err, errlen,
		    "kernel: bzImage protocol %u.%02u is older than 2.12, which 64-bit boot needs",
		    bi->version >> 8, bi->version & 0xff);
		return -ENOEXEC;
	}
	/* The byte after the 0xEB jump is the header length past 0x202. The
	 * header cannot grow past its hole in boot_params, and protocol 2.12
	 * has every field up to handover_offset. */
	bi->hdr_end = MIN(BZ_HEADER + (uint32_t)img[BZ_JUMP + 1], BZ_HDR_LIMIT);
	if (bi->hdr_end < BZ_HDR_MIN_END) {
		boot_errf(err, errlen,
			  "kernel: bzImage setup header is %u bytes, too short for protocol 2.12",
			  bi->hdr_end - BZ_SETUP_SECTS);
		return -ENOEXEC;
	}
	if (len < bi->hdr_end) {
		boot_errf(err, errlen, "kernel: bzImage is truncated inside its setup header");
		return -ENOEXEC;
	}
	bi->loadflags = img[BZ_LOADFLAGS];
	bi->xloadflags = le16_get(img + BZ_XLOADFLAGS);
	if (!(bi->loadflags & BZ_LOADED_HIGH)) {
		boot_errf(err, errlen,
			  "kernel: zImage kernels (not loaded high) are not supported");
		return -ENOEXEC;
	}
	if (!(bi->xloadflags & BZ_XLF_KERNEL_64)) {
		boot_errf(err, errlen,
			  "kernel: bzImage has no 64-bit entry point (XLF_KERNEL_64 clear); is it "
			  "a 32-bit kernel?");
		return -ENOEXEC;
	}

	setup_sects = img[BZ_SETUP_SECTS];
	if (setup_sects == 0)
		setup_sects = 4; /* boot.rst: 0 means 4, for old kernels */
	/* At most 256 * 512 bytes: no overflow possible. */
	setup_size = (uint64_t)(setup_sects + 1) * 512;
	if (setup_size >= len) {
		boot_errf(
		    err, errlen,
		    "kernel: bzImage is truncated: %llu bytes of setup code, file is %zu bytes",
		    (unsigned long long)setup_size, len);
		return -ENOEXEC;
	}
	avail = len - setup_size;
	syssize = le32_get(img + BZ_SYSSIZE);
	sys_bytes = (uint64_t)syssize * 16; /* < 2^36: no overflow */
	if (syssize == 0) {
		boot_errf(err, errlen, "kernel: bzImage header gives a kernel size (syssize) of 0");
		return -ENOEXEC;
	}
	/* The build pads the file to exactly syssize paragraphs; anything
	 * after them (a signature) is not loaded. */
	if (sys_bytes > avail) {
		boot_errf(err, errlen,
			  "kernel: bzImage is truncated: its header says %llu bytes of kernel, the "
			  "file holds %llu",
			  (unsigned long long)sys_bytes, (unsigned long long)avail);
		return -ENOEXEC;
	}
	bi->payload_off = setup_size;
	bi->payload_len = sys_bytes;

	bi->cmdline_size = le32_get(img + BZ_CMDLINE_SIZE);
	bi->initrd_addr_max = le32_get(img + BZ_INITRD_ADDR_MAX);
	bi->kernel_alignment = le32_get(img + BZ_KERNEL_ALIGNMENT);
	bi->relocatable = img[BZ_RELOCATABLE];
	bi->pref_address = le64_get(img + BZ_PREF_ADDRESS);
	bi->init_size = le32_get(img + BZ_INIT_SIZE);
	if (bi->relocatable && !IS_POW2(bi->kernel_alignment)) {
		boot_errf(err, errlen,
			  "kernel: bzImage kernel_alignment 0x%x is not a power of two",
			  bi->kernel_alignment);
		return -EINVAL;
	}
	return 0;
}

int bzimage_extent(const struct bzimage_info *bi, uint64_t load_addr, uint64_t *start,
		   uint64_t *end)
{
	uint64_t run, run_end, load_end;

	/* Where the decompressor runs (boot.rst, init_size): a relocatable
	 * kernel aligns its load address up but, as head_64.S does, never
	 * below LOAD_PHYSICAL_ADDR, which pref_address holds; a fixed one
	 * moves to pref_address. */
	if (bi->relocatable) {
		uint64_t mask = (uint64_t)bi->kernel_alignment - 1;

		if (__builtin_add_overflow(load_addr, mask, &run))
			return -EINVAL;
		run &= ~mask;
		run = MAX(run, bi->pref_address);
	} else {
		run = bi->pref_address ? bi->pref_address : load_addr;
	}
	if (__builtin_add_overflow(run, (uint64_t)bi->init_size, &run_end) ||
	    __builtin_add_overflow(load_addr, bi->payload_len, &load_end))
		return -EINVAL;
	*start = MIN(load_addr, run);
	*end = MAX(load_end, run_end);
	return 0;
}

int bzimage_load(struct guest_mem *gm, const uint8_t *img, const struct bzimage_info *bi,
		 uint64_t load_addr, char *err, size_t errlen)
{
	/* payload_off + payload_len <= file length: bzimage_parse. */
	if (gm_write(gm, load_addr, img + bi->payload_off, bi->payload_len) < 0) {
		boot_errf(err, errlen,
			  "kernel: %llu MiB bzImage does not fit in guest RAM at 0x%llx",
			  MIB(bi->payload_len), (unsigned long long)load_addr);
		return -ENOMEM;
	}
	return 0;
}

void bzimage_copy_header(const uint8_t *img, const struct bzimage_info *bi, uint8_t *zero_page)
{
	/* hdr_end <= min(file length, BZ_HDR_LIMIT): bzimage_parse. */
	memcpy(zero_page + BZ_SETUP_SECTS, img + BZ_SETUP_SECTS, bi->hdr_end - BZ_SETUP_SECTS);
}
