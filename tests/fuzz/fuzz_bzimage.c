/* libFuzzer: arbitrary bytes as a kernel file into linux_boot_load() with
 * 64 MiB of guest RAM. The first input byte picks options; when its low bit
 * is set the magic numbers of a 2.12+ bzImage are patched in so that most
 * inputs get past the first checks and exercise the header arithmetic. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot_util.h"
#include "arch/x86/bzimage.h"
#include "arch/x86/linux_boot.h"
#include "guest_mem.h"

#define RAM_SIZE (64u << 20)

static uint8_t *ram;
static uint8_t initrd[1 << 20];
static char cmdline[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linux_mmio_dev dev = {0xd0000000, 0x1000, 5, NULL};
	struct linux_boot_cfg cfg = {0};
	struct linux_boot_entry e;
	struct guest_mem gm;
	char err[256];
	uint8_t opt, *k;
	size_t cl;

	if (size < 3)
		return 0;
	if (!ram)
		ram = calloc(1, RAM_SIZE);
	opt = data[0];
	cl = (size_t)data[1] * 16; /* up to 4080 characters */
	data += 2;
	size -= 2;
	k = malloc(size);
	memcpy(k, data, size);
	if ((opt & 1) && size >= BZ_VERSION + 2) {
		le16_put(k + BZ_BOOT_FLAG, BZ_BOOT_FLAG_MAGIC);
		le32_put(k + BZ_HEADER, BZ_HDRS_MAGIC);
		if (le16_get(k + BZ_VERSION) < BZ_MIN_VERSION)
			le16_put(k + BZ_VERSION, BZ_MIN_VERSION);
		if (size > BZ_XLOADFLAGS + 1) {
			k[BZ_LOADFLAGS] |= BZ_LOADED_HIGH;
			k[BZ_XLOADFLAGS] |= BZ_XLF_KERNEL_64;
		}
	}
	memset(cmdline, 'a', cl);
	cmdline[cl] = 0;
	gm_init_wrap(&gm, ram, RAM_SIZE);
	cfg.kernel = k;
	cfg.kernel_len = size;
	cfg.initrd = (opt & 2) ? initrd : NULL;
	cfg.initrd_len = (opt & 2) ? ((size_t)(opt >> 4) << 16) : 0;
	cfg.cmdline = cmdline;
	cfg.nr_cpus = 1 + (opt >> 5);
	cfg.mmio_devs = (opt & 4) ? &dev : NULL;
	cfg.nr_mmio_devs = (opt & 4) ? 1 : 0;
	cfg.prefer_pvh = (opt >> 3) & 1;
	err[0] = 0;
	if (linux_boot_load(&gm, &cfg, &e, err, sizeof(err)) < 0) {
		if (!err[0])
			abort(); /* every failure must say why */
	} else if (e.rsi != LINUX_ZERO_PAGE_ADDR || e.rip < LINUX_KERNEL_MIN) {
		abort();
	}
	free(k);
	return 0;
}
