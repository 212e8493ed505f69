/* libFuzzer: arbitrary bytes as an ELF kernel into linux_boot_load() with
 * 64 MiB of guest RAM. The ELF identification and a plausible header are
 * patched in when the first byte's low bit is set, so the program header and
 * note parsers see most inputs. */
#include <elf.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/linux_boot.h"
#include "guest_mem.h"

#define RAM_SIZE (64u << 20)

static uint8_t *ram;
static uint8_t initrd[1 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct linux_boot_cfg cfg = {0};
	struct linux_boot_entry e;
	struct guest_mem gm;
	char err[256];
	uint8_t opt, *k;

	if (size < 2)
		return 0;
	if (!ram)
		ram = calloc(1, RAM_SIZE);
	opt = data[0];
	data++;
	size--;
	k = malloc(size);
	memcpy(k, data, size);
	if ((opt & 1) && size >= sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr eh;

		memcpy(&eh, k, sizeof(eh));
		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_type = ET_EXEC;
		eh.e_machine = EM_X86_64;
		eh.e_phentsize = sizeof(Elf64_Phdr);
		eh.e_phoff %= size;
		eh.e_phnum %= 16;
		memcpy(k, &eh, sizeof(eh));
	}
	gm_init_wrap(&gm, ram, RAM_SIZE);
	cfg.kernel = k;
	cfg.kernel_len = size;
	cfg.initrd = (opt & 2) ? initrd : NULL;
	cfg.initrd_len = (opt & 2) ? ((size_t)(opt >> 4) << 16) : 0;
	cfg.cmdline = "console=ttyS0";
	cfg.nr_cpus = 1 + (opt >> 6);
	cfg.prefer_pvh = (opt >> 2) & 1;
	err[0] = 0;
	if (linux_boot_load(&gm, &cfg, &e, err, sizeof(err)) < 0) {
		if (!err[0])
			abort(); /* every failure must say why */
	} else if (e.rip < LINUX_KERNEL_MIN || e.rip >= RAM_SIZE) {
		abort();
	}
	free(k);
	return 0;
}
