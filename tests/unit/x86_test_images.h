/* Synthetic kernel files for the x86 boot tests and fuzzers: a bzImage with
 * a protocol 2.12+ setup header and a vmlinux-shaped ELF file with optional
 * PVH note. No real kernel is needed to exercise the loaders. */
#ifndef KITE_TEST_X86_IMAGES_H
#define KITE_TEST_X86_IMAGES_H

#include <elf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot_util.h"
#include "arch/x86/bzimage.h"

struct bz_opts {
	unsigned setup_sects; /* as stored: 0 means 4 */
	uint16_t version;
	uint8_t loadflags;
	uint16_t xloadflags;
	uint8_t hdr_len;      /* byte at 0x201 */
	uint32_t payload_len; /* a multiple of 16 */
	uint32_t syssize;     /* 0: payload_len / 16 */
	uint32_t init_size;
	uint64_t pref_address;
	uint32_t kernel_alignment;
	uint8_t relocatable;
	uint32_t cmdline_size;
	uint32_t initrd_addr_max;
};

static inline struct bz_opts bz_default(void)
{
	return (struct bz_opts){
	    .setup_sects = 4,
	    .version = 0x020f,
	    .loadflags = BZ_LOADED_HIGH,
	    .xloadflags = BZ_XLF_KERNEL_64 | BZ_XLF_CAN_BE_LOADED_ABOVE_4G,
	    .hdr_len = 0x6a, /* header ends at 0x26c, as in 2.15 kernels */
	    .payload_len = 8192,
	    .init_size = 0x400000,
	    .pref_address = 0x1000000,
	    .kernel_alignment = 0x200000,
	    .relocatable = 1,
	    .cmdline_size = 2047,
	    .initrd_addr_max = 0x7fffffff,
	};
}

static inline uint8_t *bz_build(const struct bz_opts *o, size_t *len)
{
	unsigned sects = o->setup_sects ? o->setup_sects : 4;
	size_t setup = (size_t)(sects + 1) * 512;
	uint8_t *f;

	*len = setup + o->payload_len;
	f = calloc(1, *len);
	if (!f)
		return NULL;
	f[BZ_SETUP_SECTS] = (uint8_t)o->setup_sects;
	le32_put(f + BZ_SYSSIZE, o->syssize ? o->syssize : o->payload_len / 16);
	le16_put(f + BZ_BOOT_FLAG, BZ_BOOT_FLAG_MAGIC);
	f[BZ_JUMP] = 0xeb;
	f[BZ_JUMP + 1] = o->hdr_len;
	le32_put(f + BZ_HEADER, BZ_HDRS_MAGIC);
	le16_put(f + BZ_VERSION, o->version);
	f[BZ_LOADFLAGS] = o->loadflags;
	le32_put(f + BZ_CODE32_START, 0x100000);
	le32_put(f + BZ_INITRD_ADDR_MAX, o->initrd_addr_max);
	le32_put(f + BZ_KERNEL_ALIGNMENT, o->kernel_alignment);
	f[BZ_RELOCATABLE] = o->relocatable;
	f[BZ_MIN_ALIGNMENT] = 21;
	le16_put(f + BZ_XLOADFLAGS, o->xloadflags);
	le32_put(f + BZ_CMDLINE_SIZE, o->cmdline_size);
	le64_put(f + BZ_PREF_ADDRESS, o->pref_address);
	le32_put(f + BZ_INIT_SIZE, o->init_size);
	/* A recognisable payload: byte i is (i * 7 + 1). */
	for (size_t i = 0; i < o->payload_len; i++)
		f[setup + i] = (uint8_t)(i * 7 + 1);
	return f;
}

struct elf_seg {
	uint32_t type;
	uint64_t vaddr, paddr, memsz, align;
	const void *data;
	uint64_t filesz;
};

#define ELF_TEST_TEXT_PADDR 0x1000000ull
#define ELF_TEST_TEXT_VADDR 0xffffffff81000000ull

/* ehdr, then the program headers, then each segment's bytes (16-aligned).
 * Offsets in the headers point at those bytes. */
static inline uint8_t *elf_build(uint64_t entry, const struct elf_seg *segs, int n, size_t *len)
{
	size_t off = sizeof(Elf64_Ehdr) + (size_t)n * sizeof(Elf64_Phdr);
	size_t total = off;
	Elf64_Ehdr eh = {0};
	uint8_t *f;

	for (int i = 0; i < n; i++)
		total = ALIGN_UP(total, (size_t)16) + segs[i].filesz;
	f = calloc(1, total);
	if (!f)
		return NULL;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_entry = entry;
	eh.e_phoff = sizeof(Elf64_Ehdr);
	eh.e_ehsize = sizeof(Elf64_Ehdr);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)n;
	memcpy(f, &eh, sizeof(eh));
	for (int i = 0; i < n; i++) {
		Elf64_Phdr ph = {0};

		off = ALIGN_UP(off, (size_t)16);
		ph.p_type = segs[i].type;
		ph.p_flags = PF_R | PF_X;
		ph.p_offset = off;
		ph.p_vaddr = segs[i].vaddr;
		ph.p_paddr = segs[i].paddr;
		ph.p_filesz = segs[i].filesz;
		ph.p_memsz = segs[i].memsz;
		ph.p_align = segs[i].align;
		memcpy(f + sizeof(eh) + (size_t)i * sizeof(ph), &ph, sizeof(ph));
		if (segs[i].filesz)
			memcpy(f + off, segs[i].data, segs[i].filesz);
		off += segs[i].filesz;
	}
	*len = total;
	return f;
}

/* A Xen note: namesz 4 "Xen\0", type 18, desc of desc_len (4 or 8) bytes. */
static inline size_t elf_pvh_note(uint8_t *buf, uint32_t entry, uint32_t desc_len)
{
	le32_put(buf, 4);
	le32_put(buf + 4, desc_len);
	le32_put(buf + 8, 18);
	memcpy(buf + 12, "Xen", 4);
	memset(buf + 16, 0, 8);
	le32_put(buf + 16, entry);
	return 16 + ALIGN_UP((size_t)desc_len, (size_t)4);
}

/* A vmlinux-like file: text at 16 MiB (virtual 0xffffffff81000000), a data
 * segment with bss, and (when pvh_entry != 0) a PT_NOTE with the PVH
 * note preceded by an unrelated note. */
static inline uint8_t *elf_build_vmlinux(uint64_t entry, uint32_t pvh_entry, size_t *len)
{
	static uint8_t text[0x2000], data[0x1000], notes[64];
	struct elf_seg segs[3] = {
	    {PT_LOAD, ELF_TEST_TEXT_VADDR, ELF_TEST_TEXT_PADDR, sizeof(text), 0x200000, text,
	     sizeof(text)},
	    {PT_LOAD, ELF_TEST_TEXT_VADDR + 0x200000, ELF_TEST_TEXT_PADDR + 0x200000, 0x3000,
	     0x200000, data, sizeof(data)},
	    {PT_NOTE, 0, 0, 0, 4, notes, 0},
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = (uint8_t)(i * 3 + 5);
	memset(data, 0x5a, sizeof(data));
	if (pvh_entry) {
		/* "GNU" build-id-like note first: namesz 4, descsz 3. */
		le32_put(notes, 4);
		le32_put(notes + 4, 3);
		le32_put(notes + 8, 3);
		memcpy(notes + 12, "GNU", 4);
		memcpy(notes + 16, "abc", 3);
		n = 20;
		n += elf_pvh_note(notes + n, pvh_entry, 8);
		segs[2].filesz = n;
		segs[2].memsz = n;
	}
	return elf_build(entry, segs, pvh_entry ? 3 : 2, len);
}

#endif
