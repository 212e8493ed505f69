/* bzImage kernel files (Documentation/arch/x86/boot.rst): validation of the
 * real-mode setup header and loading of the protected-mode part into guest
 * RAM. The zero page itself is built by linux_boot.c. */
#ifndef KITE_X86_BZIMAGE_H
#define KITE_X86_BZIMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "guest_mem.h"

/* Setup header offsets, the same in the file and in struct boot_params. */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_SYSSIZE 0x1f4
#define BZ_VID_MODE 0x1fa
#define BZ_BOOT_FLAG 0x1fe
#define BZ_JUMP 0x200
#define BZ_HEADER 0x202
#define BZ_VERSION 0x206
#define BZ_TYPE_OF_LOADER 0x210
#define BZ_LOADFLAGS 0x211
#define BZ_CODE32_START 0x214
#define BZ_RAMDISK_IMAGE 0x218
#define BZ_RAMDISK_SIZE 0x21c
#define BZ_HEAP_END_PTR 0x224
#define BZ_CMD_LINE_PTR 0x228
#define BZ_INITRD_ADDR_MAX 0x22c
#define BZ_KERNEL_ALIGNMENT 0x230
#define BZ_RELOCATABLE 0x234
#define BZ_MIN_ALIGNMENT 0x235
#define BZ_XLOADFLAGS 0x236
#define BZ_CMDLINE_SIZE 0x238
#define BZ_HW_SUBARCH 0x23c
#define BZ_SETUP_DATA 0x250
#define BZ_PREF_ADDRESS 0x258
#define BZ_INIT_SIZE 0x260
#define BZ_HANDOVER_OFFSET 0x264
/* The setup header lives in [0x1f1, 0x290) of struct boot_params. */
#define BZ_HDR_LIMIT 0x290
/* Every field up to handover_offset exists from protocol 2.11 on. */
#define BZ_HDR_MIN_END 0x268

#define BZ_BOOT_FLAG_MAGIC 0xAA55
#define BZ_HDRS_MAGIC 0x53726448u /* "HdrS" */
#define BZ_MIN_VERSION 0x020c	  /* 2.12: xloadflags, 64-bit entry */

#define BZ_LOADED_HIGH 0x01
#define BZ_XLF_KERNEL_64 0x01
#define BZ_XLF_CAN_BE_LOADED_ABOVE_4G 0x02

/* The 64-bit entry point is this far into the protected-mode part. */
#define BZ_ENTRY64_OFFSET 0x200

struct bzimage_info {
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint32_t hdr_end;	  /* file offset just past the setup header */
	uint64_t payload_off;	  /* file offset of the protected-mode part */
	uint64_t payload_len;	  /* bytes of it to load: syssize * 16 */
	uint32_t cmdline_size;	  /* longest command line, without the NUL */
	uint32_t initrd_addr_max; /* highest byte the initrd may occupy */
	uint32_t kernel_alignment;
	uint8_t relocatable;
	uint64_t pref_address;
	uint32_t init_size;
};

/* Validates the file as a bzImage the 64-bit boot protocol can start.
 * Returns 0, -ENOEXEC (not a usable bzImage) or -EINVAL, with one line in
 * err. */
int bzimage_parse(const uint8_t *img, size_t len, struct bzimage_info *bi, char *err,
		  size_t errlen) MUST_CHECK;

/* The guest-physical range the kernel may touch before it reads the memory
 * map when its protected-mode part is loaded at load_addr: the loaded bytes
 * plus init_size from the address it decompresses to. -EINVAL on overflow. */
int bzimage_extent(const struct bzimage_info *bi, uint64_t load_addr, uint64_t *start,
		   uint64_t *end) MUST_CHECK;

/* Copies the protected-mode part to load_addr. */
int bzimage_load(struct guest_mem *gm, const uint8_t *img, const struct bzimage_info *bi,
		 uint64_t load_addr, char *err, size_t errlen) MUST_CHECK;

/* Copies the file's setup header into a zeroed 4 KiB zero page. */
void bzimage_copy_header(const uint8_t *img, const struct bzimage_info *bi, uint8_t *zero_page);

#endif
