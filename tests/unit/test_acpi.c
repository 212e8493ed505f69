/* ACPI tables: RSDP/XSDT/RSDT links and checksums, FADT fields, MADT
 * entries per CPU, the DSDT's devices (the VM generation ID and its event
 * device byte for byte), the AML encoder, and (when iasl is installed) a
 * disassembly of the DSDT by ACPICA's own tools. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "arch/x86/acpi.h"
#include "arch/x86/board.h"
#include "devices/rtc_cmos.h"
#include "arch/x86/acpi_aml.h"
#include "arch/x86/boot_util.h"
#include "arch/x86/mptable.h"
#include "guest_mem.h"

#define RAM_SIZE (2u << 20)

static const struct linux_mmio_dev devs[] = {
    {0xd0000000, 0x1000, 5, NULL},
    {0xd0001000, 0x1000, 6, NULL},
    {0xd0002000, 0x200, 16, "ABCD0001"},
};

static uint8_t *ram;
static struct guest_mem gm;

static int setup(void **state)
{
	(void)state;
	ram = calloc(1, RAM_SIZE);
	gm_init_wrap(&gm, ram, RAM_SIZE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
	const uint8_t *t;

	assert_true(gpa >= ACPI_RSDP_ADDR && gpa < ACPI_TABLES_LIMIT);
	t = ram + gpa;
	assert_memory_equal(t, sig, 4);
	assert_true(gpa + le32_get(t + 4) <= ACPI_TABLES_LIMIT);
	assert_int_equal(x86_table_sum(t, le32_get(t + 4)), 0);
	assert_memory_equal(t + 10, "KITE  ", 6);
	return t;
}

/* Follows RSDP -> XSDT -> sig, checking every checksum on the way. */
static const uint8_t *find(const char *sig)
{
	const uint8_t *rsdp = ram + ACPI_RSDP_ADDR, *xsdt, *rsdt;
	int n;

	assert_memory_equal(rsdp, "RSD PTR ", 8);
	assert_int_equal(x86_table_sum(rsdp, 20), 0);
	assert_int_equal(x86_table_sum(rsdp, 36), 0);
	assert_int_equal(rsdp[15], 2);
	assert_int_equal(le32_get(rsdp + 20), 36);
	xsdt = table_at(le64_get(rsdp + 24), "XSDT");
	rsdt = table_at(le32_get(rsdp + 16), "RSDT");
	n = (int)(le32_get(xsdt + 4) - ACPI_HDR_SIZE) / 8;
	assert_int_equal((le32_get(rsdt + 4) - ACPI_HDR_SIZE) / 4, n);
	for (int i = 0; i < n; i++) {
		uint64_t a = le64_get(xsdt + ACPI_HDR_SIZE + 8 * i);

		assert_int_equal(a, le32_get(rsdt + ACPI_HDR_SIZE + 4 * i));
		if (memcmp(ram + a, sig, 4) == 0)
			return table_at(a, sig);
	}
	return NULL;
}

static const uint8_t *dsdt(void)
{
	const uint8_t *fadt = find("FACP");

	assert_int_equal(le32_get(fadt + 40), le64_get(fadt + ACPI_FADT_X_DSDT));
	return table_at(le64_get(fadt + ACPI_FADT_X_DSDT), "DSDT");
}

static int contains(const uint8_t *t, size_t len, const char *s)
{
	return memmem(t, len, s, strlen(s)) != NULL;
}

static void test_rsdp_and_fadt(void **state)
{
	const uint8_t *fadt;
	char err[128];

	(void)state;
	assert_int_equal(acpi_write_tables(&gm, 2, devs, 3, ACPI_IAPC_8042, err, sizeof(err)), 0);
	assert_int_equal(ACPI_RSDP_ADDR % 16, 0);
	fadt = find("FACP");
	assert_non_null(fadt);
	assert_int_equal(le32_get(fadt + 4), 276);
	assert_int_equal(fadt[8], 6);
	assert_true(le32_get(fadt + ACPI_FADT_FLAGS) & ACPI_FADT_HW_REDUCED);
	assert_true(le32_get(fadt + ACPI_FADT_FLAGS) & ACPI_FADT_RESET_REG_SUP);
	assert_int_equal(le16_get(fadt + 109), ACPI_IAPC_8042);
	assert_int_equal(fadt[108], RTC_CENTURY); /* the RTC's century index */
	/* Reset: SystemIO, 8 bits, byte access, port 0x602, value 1. */
	assert_int_equal(fadt[ACPI_FADT_RESET_REG], 1);
	assert_int_equal(fadt[ACPI_FADT_RESET_REG + 1], 8);
	assert_int_equal(fadt[ACPI_FADT_RESET_REG + 3], 1);
	assert_int_equal(le64_get(fadt + ACPI_FADT_RESET_REG + 4), ACPI_RESET_PORT);
	assert_int_equal(fadt[ACPI_FADT_RESET_VALUE], ACPI_RESET_VALUE);
	assert_int_equal(le64_get(fadt + ACPI_FADT_SLEEP_CONTROL + 4), ACPI_SLEEP_CONTROL_PORT);
	assert_int_equal(le64_get(fadt + ACPI_FADT_SLEEP_STATUS + 4), ACPI_SLEEP_STATUS_PORT);
	assert_int_equal(fadt[ACPI_FADT_SLEEP_CONTROL], 1);
	assert_memory_equal(fadt + ACPI_FADT_HYPERVISOR_ID, "KITE\0\0\0\0", 8);
	/* No FACS, no PM blocks in a hardware-reduced FADT. */
	assert_int_equal(le32_get(fadt + 36), 0);
	assert_int_equal(le32_get(fadt + 56), 0);
	assert_non_null(dsdt());
}

static void test_madt(void **state)
{
	char err[128];

	(void)state;
	for (int n = 1; n <= X86_MAX_CPUS; n += 51) {
		const uint8_t *madt, *p, *end;
		int lapics = 0, ioapics = 0, isos = 0, nmis = 0;

		assert_int_equal(acpi_write_tables(&gm, n, NULL, 0, 0, err, sizeof(err)), 0);
		madt = find("APIC");
		assert_non_null(madt);
		assert_int_equal(le32_get(madt + 36), X86_LAPIC_ADDR);
		end = madt + le32_get(madt + 4);
		for (p = madt + 44; p < end; p += p[1]) {
			assert_true(p[1] >= 2);
			switch (p[0]) {
			case 0:
				assert_int_equal(p[3], lapics); /* APIC id */
				assert_int_equal(le32_get(p + 4), 1);
				lapics++;
				break;
			case 1:
				assert_int_equal(p[2], n);
				assert_int_equal(le32_get(p + 4), X86_IOAPIC_ADDR);
				assert_int_equal(le32_get(p + 8), 0);
				ioapics++;
				break;
			case 2:
				if (p[3] == 0) {
					assert_int_equal(le32_get(p + 4), 2);
				} else {
					assert_int_equal(p[3], 9);
					assert_int_equal(le16_get(p + 8), 0xd);
				}
				isos++;
				break;
			case 4:
				assert_int_equal(p[2], 0xff);
				assert_int_equal(p[5], 1);
				nmis++;
				break;
			default:
				fail_msg("unexpected MADT entry %u", p[0]);
			}
		}
		assert_ptr_equal(p, end);
		assert_int_equal(lapics, n);
		assert_int_equal(ioapics, 1);
		assert_int_equal(isos, 2);
		assert_int_equal(nmis, 1);
	}
}

static void test_dsdt_contents(void **state)
{
	const uint8_t *t;
	size_t len;
	char err[128];
	static const uint8_t hid_pnp0501[] = {0x08, '_',  'H',	'I',  'D',
					      0x0c, 0x41, 0xd0, 0x05, 0x01};
	static const uint8_t mem32[] = {0x86, 0x09, 0x00, 0x01, 0x00, 0x10,
					0x00, 0xd0, 0x00, 0x10, 0x00, 0x00};
	static const uint8_t irq16[] = {0x89, 0x06, 0x00, 0x03, 0x01, 0x10, 0, 0, 0};
	static const uint8_t hid_pnp0b00[] = {0x08, '_',  'H',	'I',  'D',
					      0x0c, 0x41, 0xd0, 0x0b, 0x00};
	/* I/O port descriptor (16-bit decode, 0x70-0x70, align 1, 2 ports),
	 * then the IRQ descriptor with bit 8 set. */
	static const uint8_t io_rtc[] = {0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02};
	static const uint8_t irq8[] = {0x22, 0x00, 0x01};

	(void)state;
	assert_int_equal(acpi_write_tables(&gm, 1, devs, 3, 0, err, sizeof(err)), 0);
	t = dsdt();
	len = le32_get(t + 4);
	assert_int_equal(t[8], 2);
	assert_true(contains(t, len, "_S5_"));
	assert_true(contains(t, len, "_SB_"));
	assert_true(contains(t, len, "COM1"));
	assert_true(memmem(t, len, hid_pnp0501, sizeof(hid_pnp0501)) != NULL);
	assert_true(contains(t, len, "V000"));
	assert_true(contains(t, len, "V002"));
	assert_true(contains(t, len, "LNRO0005"));
	assert_true(contains(t, len, "ABCD0001"));
	assert_true(memmem(t, len, mem32, sizeof(mem32)) != NULL);
	assert_true(memmem(t, len, irq16, sizeof(irq16)) != NULL);
	/* The RTC: PNP0B00 at 0x70-0x71 with IRQ 8 (so that Linux's rtc-cmos
	 * binds through PNP and gets its interrupt mapped). */
	assert_true(contains(t, len, "RTC_"));
	assert_true(memmem(t, len, hid_pnp0b00, sizeof(hid_pnp0b00)) != NULL);
	assert_true(memmem(t, len, io_rtc, sizeof(io_rtc)) != NULL);
	assert_true(memmem(t, len, irq8, sizeof(irq8)) != NULL);

	/* A platform that says it has no CMOS RTC gets no RTC device and no
	 * century register. */
	assert_int_equal(acpi_write_tables(&gm, 1, devs, 3, ACPI_IAPC_NO_CMOS_RTC, err,
					   sizeof(err)),
			 0);
	t = dsdt();
	len = le32_get(t + 4);
	assert_false(contains(t, len, "RTC_"));
	assert_int_equal(find("FACP")[108], 0);
}

/* The VM generation ID and its Generic Event Device, byte for byte where
 * the guest depends on the encoding. */
static void test_dsdt_vmgenid(void **state)
{
	const uint8_t *t;
	size_t len;
	char err[128];
	/* Method (ADDR, 0) { Return (Package (2) { 0xEF000, Zero }) } */
	static const uint8_t addr[] = {0x14, 0x10, 'A', 'D', 'D', 'R', 0x00, 0xa4, 0x12,
				       0x08, 0x02, 0x0c, 0x00, 0xf0, 0x0e, 0x00, 0x00};
	/* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { 13 } */
	static const uint8_t irq13[] = {0x89, 0x06, 0x00, 0x03, 0x01, 13, 0, 0, 0};
	/* Method (_EVT, 1) { If (LEqual (Arg0, 13)) { Notify (\_SB.VGEN, 0x80) } } */
	static const uint8_t evt[] = {0x14, 0x19, '_', 'E', 'V', 'T', 0x01, 0xa0, 0x12, 0x93,
				      0x68, 0x0a, 13,   0x86, 0x5c, 0x2e, '_', 'S', 'B', '_',
				      'V',  'G',  'E',  'N',  0x0a, 0x80};

	(void)state;
	assert_int_equal(BOARD_VMGENID_ADDR % 8, 0);
	assert_true(BOARD_VMGENID_ADDR >= ACPI_TABLES_LIMIT);
	assert_true(BOARD_VMGENID_ADDR + 16 <= MPTABLE_ADDR);
	assert_int_equal(BOARD_VMGENID_GSI, 13);
	for (int i = 0; i < BOARD_VIRTIO_MAX; i++)
		assert_int_not_equal(board_virtio_gsi(i), BOARD_VMGENID_GSI);
	memset(ram + BOARD_VMGENID_ADDR, 0xa5, 16);
	assert_int_equal(acpi_write_tables(&gm, 1, devs, 3, 0, err, sizeof(err)), 0);
	/* The tables leave the ID alone (the device writes it first). */
	for (int i = 0; i < 16; i++)
		assert_int_equal(ram[BOARD_VMGENID_ADDR + i], 0xa5);
	t = dsdt();
	len = le32_get(t + 4);
	assert_true(contains(t, len, "VGEN"));
	assert_true(contains(t, len, "VMGENCTR"));
	assert_true(contains(t, len, "_CID\x0dVM_Gen_Counter"));
	assert_true(contains(t, len, "_DDN\x0dVM_Gen_Counter"));
	assert_true(contains(t, len, "GED0"));
	assert_true(contains(t, len, "_HID\x0d" "ACPI0013"));
	assert_true(memmem(t, len, addr, sizeof(addr)) != NULL);
	assert_true(memmem(t, len, irq13, sizeof(irq13)) != NULL);
	assert_true(memmem(t, len, evt, sizeof(evt)) != NULL);
}

static void test_bad_args(void **state)
{
	struct linux_mmio_dev d[ACPI_MAX_MMIO_DEVS + 1];
	char err[128];

	(void)state;
	memset(d, 0, sizeof(d));
	for (int i = 0; i <= ACPI_MAX_MMIO_DEVS; i++)
		d[i] = (struct linux_mmio_dev){0xd0000000 + i * 0x1000ull, 0x1000, 5, NULL};
	assert_int_equal(acpi_write_tables(&gm, 0, NULL, 0, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(acpi_write_tables(&gm, 255, NULL, 0, 0, err, sizeof(err)), -EINVAL);
	assert_int_equal(acpi_write_tables(&gm, 1, d, ACPI_MAX_MMIO_DEVS + 1, 0, err, sizeof(err)),
			 -EINVAL);
	/* The maximum fits. */
	assert_int_equal(
	    acpi_write_tables(&gm, X86_MAX_CPUS, d, ACPI_MAX_MMIO_DEVS, 0, err, sizeof(err)), 0);
	assert_non_null(dsdt());
	d[0].irq = 2;
	assert_int_equal(acpi_write_tables(&gm, 1, d, 1, 0, err, sizeof(err)), -EINVAL);
	d[0].irq = 24;
	assert_int_equal(acpi_write_tables(&gm, 1, d, 1, 0, err, sizeof(err)), -EINVAL);
	d[0].irq = 5;
	d[0].base = 0xfffff000;
	d[0].size = 0x2000;
	assert_int_equal(acpi_write_tables(&gm, 1, d, 1, 0, err, sizeof(err)), -EINVAL);
	d[0].base = 0xd0000000;
	d[0].size = 0;
	assert_int_equal(acpi_write_tables(&gm, 1, d, 1, 0, err, sizeof(err)), -EINVAL);
	d[0].size = 0x1000;
	d[0].acpi_hid = "bad id";
	assert_int_equal(acpi_write_tables(&gm, 1, d, 1, 0, err, sizeof(err)), -EINVAL);
	assert_true(strlen(err) > 0);
	gm_init_wrap(&gm, ram, 0xE8000);
	assert_int_equal(acpi_write_tables(&gm, 1, NULL, 0, 0, err, sizeof(err)), -ENOMEM);
	gm_init_wrap(&gm, ram, RAM_SIZE);
}

static void test_aml_pkglength(void **state)
{
	uint8_t buf[20000];
	struct aml a;
	size_t m;

	(void)state;
	/* Body 10 bytes: one length byte, total 11. */
	aml_init(&a, buf, sizeof(buf));
	m = aml_package_open(&a, 9);
	for (int i = 0; i < 9; i++)
		aml_byte(&a, 0);
	aml_close(&a, m);
	assert_int_equal(a.len, 12);
	assert_int_equal(buf[0], 0x12);
	assert_int_equal(buf[1], 11);
	/* Body 100 bytes: two bytes, total 102 = 0x66 -> 0x46 0x06. */
	aml_init(&a, buf, sizeof(buf));
	m = aml_package_open(&a, 0);
	for (int i = 0; i < 99; i++)
		aml_byte(&a, 0xee);
	aml_close(&a, m);
	assert_int_equal(a.len, 1 + 2 + 100);
	assert_int_equal(buf[1], 0x46);
	assert_int_equal(buf[2], 0x06);
	assert_int_equal(buf[4], 0xee);
	/* Body 5000 bytes: three bytes, total 5003 = 0x138b. */
	aml_init(&a, buf, sizeof(buf));
	m = aml_package_open(&a, 0);
	for (int i = 0; i < 4999; i++)
		aml_byte(&a, 0xee);
	aml_close(&a, m);
	assert_int_equal(a.len, 1 + 3 + 5000);
	assert_int_equal(buf[1], 0x80 | 0xb);
	assert_int_equal(buf[2], 0x38);
	assert_int_equal(buf[3], 0x01);
	/* Boundary: body 62 still fits one byte (63), 63 does not. */
	aml_init(&a, buf, sizeof(buf));
	m = aml_package_open(&a, 0);
	for (int i = 0; i < 61; i++)
		aml_byte(&a, 0);
	aml_close(&a, m);
	assert_int_equal(buf[1], 63);
	aml_init(&a, buf, sizeof(buf));
	m = aml_package_open(&a, 0);
	for (int i = 0; i < 62; i++)
		aml_byte(&a, 0);
	aml_close(&a, m);
	assert_int_equal(buf[1], 0x40 | (65 & 0xf));
	assert_int_equal(buf[2], 65 >> 4);
}

static void test_aml_integers_and_overflow(void **state)
{
	uint8_t buf[64];
	struct aml a;
	static const uint8_t want[] = {0x00, 0x01, 0x0a, 0x05, 0x0b, 0x34, 0x12,
				       0x0c, 0x78, 0x56, 0x34, 0x12, 0x0e, 1,
				       0,    0,	   0,	 1,    0,    0,	   0};

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_integer(&a, 0);
	aml_integer(&a, 1);
	aml_integer(&a, 5);
	aml_integer(&a, 0x1234);
	aml_integer(&a, 0x12345678);
	aml_integer(&a, 0x100000001ull);
	assert_int_equal(a.overflow, 0);
	assert_int_equal(a.len, sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(aml_eisaid("PNP0501"), 0x0105d041);
	assert_int_equal(aml_eisaid("pnp0501"), 0);
	assert_int_equal(aml_eisaid("PNP05G1"), 0);
	assert_int_equal(aml_eisaid("PNP050"), 0);
	/* Running out of room is sticky and never writes past cap. */
	aml_init(&a, buf, 4);
	aml_string(&a, "LNRO0005");
	assert_int_equal(a.overflow, 1);
	assert_int_equal(a.len, 1); /* the prefix fitted, the text did not */
	aml_byte(&a, 0);
	aml_close(&a, 0);
	assert_int_equal(a.len, 1);
}

static void test_aml_paths_and_methods(void **state)
{
	uint8_t buf[64];
	struct aml a;
	size_t m, c;
	static const uint8_t paths[] = {'V',  'G',  'E', 'N', 0x5c, 0x2e, '_', 'S', 'B', '_',
					'V',  'G',  'E', 'N', 0x2f, 0x03, 'A', 'B', 'C', 'D',
					'E',  'F',  'G', 'H', 'I',  'J',  'K', 'L'};
	static const uint8_t method[] = {0x14, 0x0d, 'M', 'T', 'H', 'D', 0x02,
					 0xa0, 0x06, 0x93, 0x69, 0x01, 0xa4, 0x00};
	static const char *const bad[] = {"ABC", "ABCDE", "ABCD.EFG", "ABCD_EFGH", ""};

	(void)state;
	aml_init(&a, buf, sizeof(buf));
	aml_name_path(&a, "VGEN");
	aml_name_path(&a, "\\_SB_.VGEN");
	aml_name_path(&a, "ABCD.EFGH.IJKL");
	assert_int_equal(a.overflow, 0);
	assert_int_equal(a.len, sizeof(paths));
	assert_memory_equal(buf, paths, sizeof(paths));
	/* Malformed paths fail the whole table. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		aml_init(&a, buf, sizeof(buf));
		aml_name_path(&a, bad[i]);
		assert_int_equal(a.overflow, 1);
	}
	/* Method (MTHD, 2) { If (LEqual (Arg1, One)) { Return (Zero) } } */
	aml_init(&a, buf, sizeof(buf));
	m = aml_method_open(&a, "MTHD", 2);
	c = aml_if_open(&a);
	aml_lequal(&a);
	aml_arg(&a, 1);
	aml_integer(&a, 1);
	aml_return(&a);
	aml_integer(&a, 0);
	aml_close(&a, c);
	aml_close(&a, m);
	assert_int_equal(a.overflow, 0);
	assert_int_equal(a.len, sizeof(method));
	assert_memory_equal(buf, method, sizeof(method));
	/* At most seven arguments. */
	aml_init(&a, buf, sizeof(buf));
	aml_method_open(&a, "MTHD", 8);
	assert_int_equal(a.overflow, 1);
	aml_init(&a, buf, sizeof(buf));
	aml_arg(&a, 7);
	assert_int_equal(a.overflow, 1);
}

/* Optional: ACPICA's disassembler must parse the DSDT without errors. */
static void test_dsdt_iasl(void **state)
{
	char dir[] = "/tmp/kite-acpi-XXXXXX", path[128], cmd[512], line[512];
	const uint8_t *t;
	int found_hid = 0, found_com = 0, found_rtc = 0, found_s5 = 0, found_int = 0;
	int found_gen = 0, found_ged = 0, found_addr = 0, found_evt = 0, found_notify = 0;
	char err[128];
	FILE *f;

	(void)state;
	if (access("/usr/bin/iasl", X_OK) != 0) {
		skip(); /* acpica-tools not installed */
		return;
	}
	assert_int_equal(acpi_write_tables(&gm, 2, devs, 3, 0, err, sizeof(err)), 0);
	t = dsdt();
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dsdt.aml", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(t, 1, le32_get(t + 4), f), le32_get(t + 4));
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd %s && iasl -d dsdt.aml >iasl.log 2>&1", dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/dsdt.dsl", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		found_hid += strstr(line, "\"LNRO0005\"") != NULL;
		found_com += strstr(line, "EisaId (\"PNP0501\")") != NULL;
		found_rtc += strstr(line, "EisaId (\"PNP0B00\")") != NULL;
		found_s5 += strstr(line, "_S5_") != NULL;
		found_int +=
		    strstr(line, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive") !=
		    NULL;
		found_gen += strstr(line, "Name (_HID, \"VMGENCTR\")") != NULL;
		found_gen += strstr(line, "Name (_CID, \"VM_Gen_Counter\")") != NULL;
		found_ged += strstr(line, "Name (_HID, \"ACPI0013\"") != NULL;
		found_addr += strstr(line, "0x000EF000") != NULL;
		found_evt += strstr(line, "If ((Arg0 == 0x0D))") != NULL;
		found_notify += strstr(line, "Notify (\\_SB.VGEN, 0x80)") != NULL;
	}
	fclose(f);
	assert_int_equal(found_hid, 2);
	assert_int_equal(found_com, 1);
	assert_int_equal(found_rtc, 1);
	assert_true(found_s5 >= 1);
	assert_int_equal(found_int, 4); /* 3 virtio-mmio, the GED */
	assert_int_equal(found_gen, 2);
	assert_int_equal(found_ged, 1);
	assert_int_equal(found_addr, 1);
	assert_int_equal(found_evt, 1);
	assert_int_equal(found_notify, 1);
	/* The disassembly must compile back with one error only: iasl wants a
	 * _HID string to end in four hex digits, and "VMGENCTR" (the id
	 * Linux's vmgenid driver matches) does not; ACPICA at run time takes
	 * it as it is. */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && { iasl -p re dsdt.dsl >re.log 2>&1; "
		 "test \"$(grep -c '^Error' re.log)\" = 1 && grep -q 'NCTR' re.log; } && rm -rf %s",
		 dir, dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rsdp_and_fadt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_madt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dsdt_contents, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
	    cmocka_unit_test(test_aml_pkglength),
	    cmocka_unit_test(test_aml_integers_and_overflow),
	    cmocka_unit_test(test_aml_paths_and_methods),
	    cmocka_unit_test_setup_teardown(test_dsdt_vmgenid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dsdt_iasl, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
