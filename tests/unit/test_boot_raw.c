/* boot_raw: loading flat images and every way an image can be bad. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "arch/x86/boot_raw.h"
#include "arch/x86/cpu.h"

#define RAM (2u << 20)

static char err[512];

static char *tmpfile_with(const void *data, size_t len)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/kite-test-raw-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	if (len)
		assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void load_ok(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, RAM);
	static const uint8_t demo[12] = {0xba, 0xf8, 0x03, 0x00, 0xd8, 0x04,
					 0x30, 0xee, 0xb0, 0x0a, 0xee, 0xf4};
	char *p = tmpfile_with(demo, sizeof(demo));

	(void)state;
	gm_init_wrap(&gm, mem, RAM);
	assert_int_equal(boot_raw_load(&gm, MODE_REAL, p, 0x1000, err, sizeof(err)), 0);
	assert_memory_equal(mem + 0x1000, demo, sizeof(demo));
	unlink(p);
	free(mem);
}

static void bad_files(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, RAM);
	uint8_t *big = calloc(1, RAM + 1);
	char *p;

	(void)state;
	gm_init_wrap(&gm, mem, RAM);
	assert_int_equal(boot_raw_load(&gm, MODE_REAL, "/nonexistent/x.bin", 0x1000, err,
				       sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/x.bin"));
	assert_int_equal(boot_raw_load(&gm, MODE_REAL, "/tmp", 0x1000, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));

	p = tmpfile_with(NULL, 0);
	assert_int_equal(boot_raw_load(&gm, MODE_REAL, p, 0x1000, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "empty"));
	unlink(p);

	p = tmpfile_with(big, RAM + 1);
	assert_int_equal(boot_raw_load(&gm, MODE_LONG, p, 0x100000, err, sizeof(err)), -E2BIG);
	assert_non_null(strstr(err, "does not fit"));
	unlink(p);

	if (geteuid() != 0) {
		p = tmpfile_with("x", 1);
		chmod(p, 0);
		assert_int_equal(boot_raw_load(&gm, MODE_REAL, p, 0x1000, err, sizeof(err)),
				 -EACCES);
		unlink(p);
	}
	free(big);
	free(mem);
}

static void bounds(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, RAM);

	(void)state;
	gm_init_wrap(&gm, mem, RAM);
	/* end exactly at the top of RAM is fine, one past is not */
	assert_int_equal(boot_raw_check(&gm, MODE_LONG, RAM - 16, 16, err, sizeof(err)), 0);
	assert_int_equal(boot_raw_check(&gm, MODE_LONG, RAM - 15, 16, err, sizeof(err)), -E2BIG);
	assert_int_equal(boot_raw_check(&gm, MODE_LONG, UINT64_MAX - 4, 16, err, sizeof(err)),
			 -E2BIG);
	assert_int_equal(boot_raw_check(&gm, MODE_REAL, 0xff000, 0x2000, err, sizeof(err)),
			 -E2BIG);
	assert_non_null(strstr(err, "1 MiB"));
	/* kite's own structures */
	assert_int_equal(boot_raw_check(&gm, MODE_PROTECTED, 0x400, 0x200, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "GDT"));
	assert_int_equal(boot_raw_check(&gm, MODE_LONG_USER, 0x8000, 0x2000, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "page tables"));
	assert_int_equal(boot_raw_check(&gm, MODE_PROTECTED, 0x1e000, 0x2000, err, sizeof(err)), 0);
	assert_int_equal(boot_raw_check(&gm, MODE_REAL, 0x400, 0x200, err, sizeof(err)), 0);
	free(mem);
}

static void tables(void **state)
{
	struct guest_mem gm;
	uint8_t *mem = calloc(1, 64 << 20);
	uint64_t pml4e, pdpte, pde;

	(void)state;
	gm_init_wrap(&gm, mem, 64 << 20);
	assert_int_equal(cpu_write_tables(&gm, MODE_LONG_USER), 0);
	memcpy(&pml4e, mem + CPU_PT_ADDR, 8);
	assert_int_equal(pml4e, (CPU_PT_ADDR + 0x1000) | 7);
	memcpy(&pdpte, mem + CPU_PT_ADDR + 0x1000 + 3 * 8, 8);
	assert_int_equal(pdpte, (CPU_PT_ADDR + 0x2000 + 3 * 0x1000) | 7);
	/* 4 GiB - 2 MiB maps to itself, user-accessible, 2 MiB page */
	memcpy(&pde, mem + CPU_PT_ADDR + 0x2000 + 3 * 0x1000 + 511 * 8, 8);
	assert_int_equal(pde, (0xffe00000ull) | 0x87);
	/* Supervisor-only in plain long mode. */
	assert_int_equal(cpu_write_tables(&gm, MODE_LONG), 0);
	memcpy(&pde, mem + CPU_PT_ADDR + 0x2000, 8);
	assert_int_equal(pde, 0x83);
	free(mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(load_ok),
		cmocka_unit_test(bad_files),
		cmocka_unit_test(bounds),
		cmocka_unit_test(tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
