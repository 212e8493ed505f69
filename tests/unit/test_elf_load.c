/* ELF vmlinux validation, segment loading and the PVH note, on synthetic
 * files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86/elf_load.h"
#include "guest_mem.h"
#include "x86_test_images.h"

#define RAM_SIZE (64u << 20)
#define MIN_PADDR 0x100000

struct fixture {
	struct guest_mem gm;
	uint8_t *ram;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	fx->ram = malloc(RAM_SIZE);
	memset(fx->ram, 0xaa, RAM_SIZE);
	gm_init_wrap(&fx->gm, fx->ram, RAM_SIZE);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->ram);
	free(fx);
	return 0;
}

static int parse(struct fixture *fx, const uint8_t *f, size_t len, struct elf_kernel *ek, char *err)
{
	err[0] = 0;
	return elf_parse(&fx->gm, f, len, MIN_PADDR, ek, err, 256);
}

static Elf64_Phdr *phdr(uint8_t *f, int i)
{
	return (Elf64_Phdr *)(f + sizeof(Elf64_Ehdr) + (size_t)i * sizeof(Elf64_Phdr));
}

static Elf64_Ehdr *ehdr(uint8_t *f)
{
	return (Elf64_Ehdr *)f;
}

static void expect_fail(struct fixture *fx, uint8_t *f, size_t len, const char *needle)
{
	struct elf_kernel ek;
	char err[256];

	assert_true(parse(fx, f, len, &ek, err) < 0);
	assert_true(strlen(err) > 0);
	if (needle && !strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static void test_load_vmlinux(void **state)
{
	struct fixture *fx = *state;
	struct elf_kernel ek;
	char err[256];
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, 0, &len);

	assert_int_equal(elf_is_elf(f, len), 1);
	assert_int_equal(parse(fx, f, len, &ek, err), 0);
	assert_int_equal(ek.entry64, ELF_TEST_TEXT_PADDR);
	assert_int_equal(ek.start, ELF_TEST_TEXT_PADDR);
	assert_int_equal(ek.end, ELF_TEST_TEXT_PADDR + 0x203000);
	assert_int_equal(ek.has_pvh, 0);
	assert_int_equal(elf_load(&fx->gm, f, len, err, sizeof(err)), 0);
	assert_memory_equal(fx->ram + ELF_TEST_TEXT_PADDR, f + phdr(f, 0)->p_offset, 0x2000);
	/* Data copied, bss zeroed, bytes after the segment untouched. */
	assert_int_equal(fx->ram[ELF_TEST_TEXT_PADDR + 0x200000], 0x5a);
	assert_int_equal(fx->ram[ELF_TEST_TEXT_PADDR + 0x200fff], 0x5a);
	for (int i = 0x201000; i < 0x203000; i++)
		assert_int_equal(fx->ram[ELF_TEST_TEXT_PADDR + i], 0);
	assert_int_equal(fx->ram[ELF_TEST_TEXT_PADDR + 0x203000], 0xaa);
	free(f);
}

static void test_virtual_entry(void **state)
{
	struct fixture *fx = *state;
	struct elf_kernel ek;
	char err[256];
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_VADDR + 0x123, 0, &len);

	assert_int_equal(parse(fx, f, len, &ek, err), 0);
	assert_int_equal(ek.entry64, ELF_TEST_TEXT_PADDR + 0x123);
	free(f);
}

static void test_entry_outside(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	uint8_t *f = elf_build_vmlinux(0x5000000, 0, &len);

	expect_fail(fx, f, len, "entry point");
	free(f);
}

static void test_pvh_note(void **state)
{
	struct fixture *fx = *state;
	struct elf_kernel ek;
	char err[256];
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, ELF_TEST_TEXT_PADDR + 0x40, &len);

	assert_int_equal(parse(fx, f, len, &ek, err), 0);
	assert_int_equal(ek.has_pvh, 1);
	assert_int_equal(ek.pvh_entry, ELF_TEST_TEXT_PADDR + 0x40);
	free(f);
}

static void test_pvh_note_variants(void **state)
{
	struct fixture *fx = *state;
	static uint8_t text[0x1000];
	uint8_t note[64];
	struct elf_seg segs[2] = {
	    {PT_LOAD, 0x200000, 0x200000, sizeof(text), 0x1000, text, sizeof(text)},
	    {PT_NOTE, 0, 0, 0, 4, note, 0},
	};
	struct elf_kernel ek;
	char err[256];
	size_t len;
	uint8_t *f;

	/* 4-byte descriptor, as Xen documents it. */
	segs[1].filesz = elf_pvh_note(note, 0x200010, 4);
	f = elf_build(0x200000, segs, 2, &len);
	assert_int_equal(parse(fx, f, len, &ek, err), 0);
	assert_int_equal(ek.pvh_entry, 0x200010);
	free(f);

	/* 8-aligned note segment: a 4-byte descriptor pads to 8, so the PVH
	 * note starts at 24, not at 20 as 4-byte alignment would have it. */
	memset(note, 0, sizeof(note));
	le32_put(note, 4);
	le32_put(note + 4, 4);
	le32_put(note + 8, 3);
	memcpy(note + 12, "GNU", 4);
	memset(note + 16, 0xee, 4);
	elf_pvh_note(note + 24, 0x200020, 8);
	segs[1].filesz = 48;
	segs[1].align = 8;
	f = elf_build(0x200000, segs, 2, &len);
	assert_int_equal(parse(fx, f, len, &ek, err), 0);
	assert_int_equal(ek.has_pvh, 1);
	assert_int_equal(ek.pvh_entry, 0x200020);
	free(f);

	/* Descriptor too short for an address. */
	segs[1].align = 4;
	segs[1].filesz = elf_pvh_note(note, 0x200010, 2);
	f = elf_build(0x200000, segs, 2, &len);
	expect_fail(fx, f, len, "PVH entry note");
	free(f);

	/* Descriptor size running past the segment. */
	segs[1].filesz = elf_pvh_note(note, 0x200010, 4);
	le32_put(note + 4, 0xfffffff0);
	f = elf_build(0x200000, segs, 2, &len);
	expect_fail(fx, f, len, "truncated");
	free(f);

	/* Name size running past the segment. */
	segs[1].filesz = elf_pvh_note(note, 0x200010, 4);
	le32_put(note, 0xffffffff);
	f = elf_build(0x200000, segs, 2, &len);
	expect_fail(fx, f, len, "truncated");
	free(f);

	/* Entry outside every segment. */
	segs[1].filesz = elf_pvh_note(note, 0x9000000, 4);
	f = elf_build(0x200000, segs, 2, &len);
	expect_fail(fx, f, len, "PVH entry point");
	free(f);

	/* A trailing fragment shorter than a note header is ignored. */
	segs[1].filesz = elf_pvh_note(note, 0x200010, 4) + 8;
	f = elf_build(0x200000, segs, 2, &len);
	assert_int_equal(parse(fx, f, len, &ek, err), 0);
	free(f);
}

static void test_truncated_everywhere(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, ELF_TEST_TEXT_PADDR, &len);

	for (size_t l = 0; l < len; l++) {
		uint8_t *t = malloc(l ? l : 1);
		struct elf_kernel ek;
		char err[256];

		memcpy(t, f, l);
		assert_true(parse(fx, t, l, &ek, err) < 0);
		assert_true(strlen(err) > 0);
		free(t);
	}
	free(f);
}

static void test_bad_headers(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, 0, &len);
	Elf64_Ehdr saved = *ehdr(f);

	ehdr(f)->e_ident[EI_CLASS] = ELFCLASS32;
	expect_fail(fx, f, len, "64-bit");
	*ehdr(f) = saved;
	ehdr(f)->e_ident[EI_DATA] = ELFDATA2MSB;
	expect_fail(fx, f, len, "64-bit");
	*ehdr(f) = saved;
	ehdr(f)->e_machine = EM_AARCH64;
	expect_fail(fx, f, len, "x86-64");
	*ehdr(f) = saved;
	ehdr(f)->e_type = ET_DYN;
	expect_fail(fx, f, len, "not an executable");
	*ehdr(f) = saved;
	ehdr(f)->e_phentsize = 32;
	expect_fail(fx, f, len, "program header size");
	*ehdr(f) = saved;
	ehdr(f)->e_phnum = 0;
	expect_fail(fx, f, len, "program headers");
	*ehdr(f) = saved;
	ehdr(f)->e_phnum = 0xffff;
	expect_fail(fx, f, len, "program headers");
	*ehdr(f) = saved;
	ehdr(f)->e_phoff = len - sizeof(Elf64_Phdr); /* headers run off the end */
	expect_fail(fx, f, len, "outside the file");
	*ehdr(f) = saved;
	ehdr(f)->e_phoff = UINT64_MAX - 8;
	expect_fail(fx, f, len, "outside the file");
	free(f);
}

static void test_bad_segments(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, 0, &len);
	Elf64_Phdr saved = *phdr(f, 1);

	phdr(f, 1)->p_offset = len;
	expect_fail(fx, f, len, "outside the file");
	*phdr(f, 1) = saved;
	phdr(f, 1)->p_offset = UINT64_MAX - 16;
	expect_fail(fx, f, len, "outside the file");
	*phdr(f, 1) = saved;
	phdr(f, 1)->p_filesz = len;
	expect_fail(fx, f, len, NULL);
	*phdr(f, 1) = saved;
	phdr(f, 1)->p_filesz = 0x4000; /* > memsz */
	expect_fail(fx, f, len, "more file bytes");
	*phdr(f, 1) = saved;
	phdr(f, 1)->p_paddr = 0x8000; /* over kite's boot data */
	expect_fail(fx, f, len, "below 0x100000");
	*phdr(f, 1) = saved;
	phdr(f, 1)->p_paddr = RAM_SIZE - 0x1000; /* runs off the end */
	expect_fail(fx, f, len, "outside guest RAM");
	*phdr(f, 1) = saved;
	phdr(f, 1)->p_memsz = UINT64_MAX - 0x1000;
	expect_fail(fx, f, len, "wraps");
	*phdr(f, 1) = saved;
	phdr(f, 1)->p_memsz = 1ull << 40; /* kernel bigger than RAM */
	expect_fail(fx, f, len, "outside guest RAM");
	free(f);
}

static void test_no_load_segments(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, 0, &len);

	phdr(f, 0)->p_type = PT_NULL;
	phdr(f, 1)->p_type = PT_GNU_STACK;
	expect_fail(fx, f, len, "no loadable");
	free(f);
}

static void test_load_rechecks(void **state)
{
	struct fixture *fx = *state;
	char err[256];
	size_t len;
	uint8_t *f = elf_build_vmlinux(ELF_TEST_TEXT_PADDR, 0, &len);

	/* Misuse: loading a file that would not parse still stays in bounds. */
	phdr(f, 1)->p_paddr = RAM_SIZE - 0x1000;
	assert_int_equal(elf_load(&fx->gm, f, len, err, sizeof(err)), -EINVAL);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_load_vmlinux, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_virtual_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entry_outside, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pvh_note, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pvh_note_variants, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_everywhere, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_headers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_load_segments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_rechecks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
