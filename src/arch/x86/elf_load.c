/* ELF vmlinux kernels: header and program header validation against the file
 * and guest RAM, the PT_LOAD copy, the physical entry point, and the PVH
 * entry note. A vmlinux links at 0xffffffff81000000 but its p_paddr fields
 * and e_entry (phys_startup_64) are physical; both are handled. The file is
 * untrusted input: every offset and size is checked against its length with
 * overflow-checked arithmetic before use. kite only runs on x86-64 hosts, so
 * the ELF structs are read with memcpy in host (little-endian) order. */
#include "arch/x86/elf_load.h"

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "arch/x86/boot_util.h"

int elf_is_elf(const uint8_t *img, size_t len)
{
	return len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

static int read_ehdr(const uint8_t *img, size_t len, Elf64_Ehdr *eh, char *err, size_t errlen)
{
	uint64_t ph_bytes, ph_end;

	if (len < sizeof(*eh)) {
		boot_errf(err, errlen, "kernel: ELF file is truncated inside its header");
		return -ENOEXEC;
	}
	memcpy(eh, img, sizeof(*eh));
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64) {
		boot_errf(err, errlen, "kernel: ELF file is not a 64-bit x86-64 executable");
		return -ENOEXEC;
	}
	if (eh->e_type != ET_EXEC) {
		boot_errf(err, errlen,
			  "kernel: ELF file is not an executable (type %u); use vmlinux",
			  eh->e_type);
		return -ENOEXEC;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr)) {
		boot_errf(err, errlen, "kernel: ELF program header size is %u, not %zu",
			  eh->e_phentsize, sizeof(Elf64_Phdr));
		return -ENOEXEC;
	}
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS) {
		boot_errf(err, errlen, "kernel: ELF file has %u program headers (1..%d supported)",
			  eh->e_phnum, ELF_MAX_PHDRS);
		return -ENOEXEC;
	}
	ph_bytes = (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr); /* small */
	if (__builtin_add_overflow(eh->e_phoff, ph_bytes, &ph_end) || ph_end > len) {
		boot_errf(err, errlen, "kernel: ELF program headers lie outside the file");
		return -ENOEXEC;
	}
	return 0;
}

static void read_phdr(const uint8_t *img, const Elf64_Ehdr *eh, int i, Elf64_Phdr *ph)
{
	/* e_phoff + e_phnum * e_phentsize <= len: read_ehdr. */
	memcpy(ph, img + eh->e_phoff + (uint64_t)i * sizeof(*ph), sizeof(*ph));
}

/* Walks the notes of one PT_NOTE segment looking for the PVH entry. */
static int scan_notes(const uint8_t *img, const Elf64_Phdr *ph, int idx, struct elf_kernel *ek,
		      char *err, size_t errlen)
{
	const uint8_t *notes = img + ph->p_offset; /* bounded by the caller */
	uint64_t size = ph->p_filesz, pos = 0;
	/* Notes are 4-byte aligned in practice even in 64-bit files; honour
	 * an explicit 8-byte segment alignment. */
	uint64_t align = ph->p_align == 8 ? 8 : 4;

	while (size - pos >= 12) {
		uint32_t namesz = le32_get(notes + pos);
		uint32_t descsz = le32_get(notes + pos + 4);
		uint32_t type = le32_get(notes + pos + 8);
		uint64_t name_off = pos + 12, desc_off, next;

		/* Name and descriptor each start on an `align` boundary of
		 * the segment. 32-bit sizes added to offsets below the file
		 * size cannot overflow 64 bits; the segment bound is below. */
		desc_off = ALIGN_UP(name_off + namesz, align);
		next = ALIGN_UP(desc_off + descsz, align);
		if (desc_off > size || descsz > size - desc_off) {
			boot_errf(err, errlen, "kernel: ELF note in program header %d is truncated",
				  idx);
			return -ENOEXEC;
		}
		if (type == ELF_XEN_NOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(notes + name_off, "Xen", 4) == 0) {
			/* Linux widens the value to 64 bits, Xen documents
			 * 32; the low 32 bits are the entry either way. */
			if (descsz < 4) {
				boot_errf(err, errlen,
					  "kernel: PVH entry note has %u bytes, needs 4", descsz);
				return -ENOEXEC;
			}
			ek->has_pvh = 1;
			ek->pvh_entry = le32_get(notes + desc_off);
		}
		if (next >= size)
			break;
		pos = next;
	}
	return 0;
}

static int check_load(const struct guest_mem *gm, const Elf64_Phdr *ph, int idx, size_t len,
		      uint64_t min_paddr, char *err, size_t errlen)
{
	uint64_t file_end, mem_end;

	if (ph->p_filesz > ph->p_memsz) {
		boot_errf(err, errlen,
			  "kernel: ELF segment %d has more file bytes than memory bytes", idx);
		return -ENOEXEC;
	}
	if (__builtin_add_overflow(ph->p_offset, ph->p_filesz, &file_end) || file_end > len) {
		boot_errf(err, errlen, "kernel: ELF segment %d lies outside the file (truncated?)",
			  idx);
		return -ENOEXEC;
	}
	if (__builtin_add_overflow(ph->p_paddr, ph->p_memsz, &mem_end)) {
		boot_errf(err, errlen, "kernel: ELF segment %d has an address that wraps", idx);
		return -ENOEXEC;
	}
	if (ph->p_paddr < min_paddr) {
		boot_errf(
		    err, errlen,
		    "kernel: ELF segment %d at 0x%llx is below 0x%llx, where kite keeps boot data",
		    idx, (unsigned long long)ph->p_paddr, (unsigned long long)min_paddr);
		return -EINVAL;
	}
	if (!gm_ptr(gm, ph->p_paddr, ph->p_memsz)) {
		boot_errf(err, errlen,
			  "kernel: ELF segment %d [0x%llx, 0x%llx) is outside guest RAM (%llu MiB)",
			  idx, (unsigned long long)ph->p_paddr, (unsigned long long)mem_end,
			  MIB(gm->size));
		return -ENOMEM;
	}
	return 0;
}

static int in_range(uint64_t x, uint64_t base, uint64_t size)
{
	return x >= base && x - base < size;
}

int elf_parse(const struct guest_mem *gm, const uint8_t *img, size_t len, uint64_t min_paddr,
	      struct elf_kernel *ek, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	int r, nr_load = 0, entry_found = 0;

	memset(ek, 0, sizeof(*ek));
	r = read_ehdr(img, len, &eh, err, errlen);
	if (r < 0)
		return r;
	ek->start = UINT64_MAX;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		read_phdr(img, &eh, i, &ph);
		if (ph.p_type == PT_NOTE) {
			uint64_t end;

			if (__builtin_add_overflow(ph.p_offset, ph.p_filesz, &end) || end > len) {
				boot_errf(err, errlen,
					  "kernel: ELF note segment %d lies outside the file", i);
				return -ENOEXEC;
			}
			r = scan_notes(img, &ph, i, ek, err, errlen);
			if (r < 0)
				return r;
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		r = check_load(gm, &ph, i, len, min_paddr, err, errlen);
		if (r < 0)
			return r;
		nr_load++;
		ek->start = MIN(ek->start, ph.p_paddr);
		ek->end = MAX(ek->end, ph.p_paddr + ph.p_memsz); /* checked */
		/* vmlinux's e_entry is already physical; other kernels give
		 * a virtual one, translated through its segment. */
		if (in_range(eh.e_entry, ph.p_paddr, ph.p_memsz)) {
			ek->entry64 = eh.e_entry;
			entry_found = 2;
		} else if (entry_found < 2 && in_range(eh.e_entry, ph.p_vaddr, ph.p_memsz)) {
			ek->entry64 = eh.e_entry - ph.p_vaddr + ph.p_paddr;
			entry_found = 1;
		}
	}
	if (nr_load == 0) {
		boot_errf(err, errlen, "kernel: ELF file has no loadable segments");
		return -ENOEXEC;
	}
	if (!entry_found) {
		boot_errf(err, errlen, "kernel: ELF entry point 0x%llx is in no loadable segment",
			  (unsigned long long)eh.e_entry);
		return -ENOEXEC;
	}
	if (ek->has_pvh && !in_range(ek->pvh_entry, ek->start, ek->end - ek->start)) {
		boot_errf(err, errlen, "kernel: PVH entry point 0x%x is in no loadable segment",
			  ek->pvh_entry);
		return -ENOEXEC;
	}
	return 0;
}

int elf_load(struct guest_mem *gm, const uint8_t *img, size_t len, char *err, size_t errlen)
{
	Elf64_Ehdr eh;
	int r;

	r = read_ehdr(img, len, &eh, err, errlen);
	if (r < 0)
		return r;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		read_phdr(img, &eh, i, &ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		/* Ranges in file and RAM, filesz <= memsz: elf_parse. Look
		 * them up again so a misuse fails safe instead of writing
		 * out of bounds. */
		dst = gm_ptr(gm, ph.p_paddr, ph.p_memsz);
		if (!dst || ph.p_filesz > ph.p_memsz || ph.p_offset > len ||
		    ph.p_filesz > len - ph.p_offset) {
			boot_errf(err, errlen, "kernel: ELF segment %d cannot be loaded", i);
			return -EINVAL;
		}
		memcpy(dst, img + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}
