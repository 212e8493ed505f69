/* ACPI tables (ACPI 6.x, 5.2): built in place in the reserved area at
 * 0xE0000 (Linux scans 0xE0000-0xFFFFF for the RSDP on 16-byte boundaries,
 * and also gets its address from the zero page or PVH start_info). The
 * platform is hardware-reduced: no PM1 blocks, no SCI, no FACS; sleep and
 * reset go through three I/O ports named in acpi.h. */
#include "arch/x86/acpi.h"

#include <errno.h>
#include <string.h>

#include "arch/x86/acpi_aml.h"
#include "arch/x86/board.h"
#include "arch/x86/boot_util.h"
#include "arch/x86/mptable.h"
#include "devices/rtc_cmos.h"

#define AREA_SIZE (ACPI_TABLES_LIMIT - ACPI_RSDP_ADDR)

_Static_assert(ACPI_TABLES_LIMIT <= BOARD_VMGENID_ADDR,
	       "the ACPI area's memset must not reach the VM generation ID");
_Static_assert(BOARD_VMGENID_GSI > 0 && BOARD_VMGENID_GSI < 24 &&
		       BOARD_VMGENID_GSI != BOARD_SCI_IRQ && BOARD_VMGENID_GSI != 2,
	       "the VM generation ID's GSI must be an I/O APIC device pin");
#define RSDP_SIZE 36

/* MADT structure types and flags (5.2.12). */
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_PCAT_COMPAT 1u
#define MPS_HIGH 0x1 /* polarity active high */
#define MPS_EDGE (0x1 << 2)
#define MPS_LEVEL (0x3 << 2)

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1

#define SCI_IRQ BOARD_SCI_IRQ
#define COM1_PORT BOARD_COM1_PORT
#define COM1_IRQ BOARD_COM1_IRQ
#define RTC_PORT BOARD_RTC_PORT
#define RTC_IRQ BOARD_RTC_IRQ

struct area {
	uint8_t *base; /* host view of [ACPI_RSDP_ADDR, ACPI_TABLES_LIMIT) */
	size_t off;
};

/* Room for a table of len bytes, 16-byte aligned; NULL when full. */
static uint8_t *area_alloc(struct area *ar, size_t len, uint32_t *gpa)
{
	size_t off = ALIGN_UP(ar->off, (size_t)16);

	if (off > AREA_SIZE || len > AREA_SIZE - off)
		return NULL;
	ar->off = off + len;
	*gpa = (uint32_t)(ACPI_RSDP_ADDR + off);
	return ar->base + off;
}

static void put_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	le32_put(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, "KITE  ", 6);
	memcpy(t + 16, "KITEVM  ", 8);
	le32_put(t + 24, 1);
	memcpy(t + 28, "KITE", 4);
	le32_put(t + 32, 1);
}

static void finish(uint8_t *t, size_t len)
{
	t[9] = 0;
	t[9] = (uint8_t)-x86_table_sum(t, len);
}

static void put_gas(uint8_t *p, uint16_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = 8; /* bit width */
	p[2] = 0; /* bit offset */
	p[3] = GAS_ACCESS_BYTE;
	le64_put(p + 4, port);
}

static int hid_valid(const char *hid)
{
	size_t n = strlen(hid);

	if (n < 7 || n > 8)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = hid[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return 0;
	}
	return 1;
}

static int check_devs(const struct linux_mmio_dev *devs, int nr_devs, char *err, size_t errlen)
{
	if (nr_devs < 0 || nr_devs > ACPI_MAX_MMIO_DEVS || (nr_devs > 0 && !devs)) {
		boot_errf(err, errlen, "%d MMIO devices; kite describes at most %d", nr_devs,
			  ACPI_MAX_MMIO_DEVS);
		return -EINVAL;
	}
	for (int i = 0; i < nr_devs; i++) {
		const struct linux_mmio_dev *d = &devs[i];

		if (d->size == 0 || d->base > 0xffffffffull || d->size > 0x100000000ull - d->base) {
			boot_errf(err, errlen, "MMIO device %d [0x%llx +0x%llx) is not below 4 GiB",
				  i, (unsigned long long)d->base, (unsigned long long)d->size);
			return -EINVAL;
		}
		if (!x86_irq_valid(d->irq)) {
			boot_errf(err, errlen, "MMIO device %d has IRQ %u; usable are 1, 3..%d", i,
				  d->irq, X86_IOAPIC_PINS - 1);
			return -EINVAL;
		}
		if (d->acpi_hid && !hid_valid(d->acpi_hid)) {
			boot_errf(err, errlen, "MMIO device %d has a malformed ACPI _HID", i);
			return -EINVAL;
		}
	}
	return 0;
}

/* The VM generation ID (Microsoft's "Virtual Machine Generation ID"
 * paper; Linux's drivers/virt/vmgenid.c): a device the guest matches by
 * _HID VMGENCTR or _CID VM_Gen_Counter, whose ADDR method gives the guest-
 * physical address of the 16-byte ID as Package {low 32 bits, high 32
 * bits}. kite changes the ID on every restore and then notifies the device
 * (0x80): hardware-reduced ACPI has no GPE block, so the notification comes
 * from a Generic Event Device (ACPI0013) whose one edge interrupt runs its
 * _EVT method (Linux's drivers/acpi/evged.c). */
static void dsdt_vmgenid(struct aml *a)
{
	uint8_t crs[16];
	size_t n, dev, m, pkg, cond;

	dev = aml_device_open(a, "VGEN");
	aml_name_str(a, "_HID", "VMGENCTR");
	aml_name_str(a, "_CID", "VM_Gen_Counter");
	aml_name_str(a, "_DDN", "VM_Gen_Counter");
	m = aml_method_open(a, "ADDR", 0);
	aml_return(a);
	pkg = aml_package_open(a, 2);
	aml_integer(a, BOARD_VMGENID_ADDR & 0xffffffffu);
	aml_integer(a, BOARD_VMGENID_ADDR >> 32);
	aml_close(a, pkg);
	aml_close(a, m);
	aml_close(a, dev);

	dev = aml_device_open(a, "GED0");
	aml_name_str(a, "_HID", "ACPI0013");
	aml_name_int(a, "_UID", 0);
	/* Consumer, edge, active high, exclusive: what evged requests. */
	n = aml_res_interrupt(crs, BOARD_VMGENID_GSI);
	n += aml_res_end(crs + n);
	aml_name_buffer(a, "_CRS", crs, n);
	/* _EVT gets the GSI that fired. */
	m = aml_method_open(a, "_EVT", 1);
	cond = aml_if_open(a);
	aml_lequal(a);
	aml_arg(a, 0);
	aml_integer(a, BOARD_VMGENID_GSI);
	aml_notify(a);
	aml_name_path(a, "\\_SB_.VGEN");
	aml_integer(a, 0x80);
	aml_close(a, cond);
	aml_close(a, m);
	aml_close(a, dev);
}

static void dsdt_body(struct aml *a, const struct linux_mmio_dev *devs, int nr_devs, int rtc)
{
	uint8_t crs[32];
	size_t n, pkg, sb, dev;

	/* \_S5_: SLP_TYPa for poweroff through SLEEP_CONTROL. */
	aml_byte(a, 0x08); /* NameOp */
	aml_name_string(a, "\\_S5_");
	pkg = aml_package_open(a, 4);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, ACPI_SLP_TYP_S5);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_close(a, pkg);

	sb = aml_scope_open(a, "\\_SB_");

	dev = aml_device_open(a, "COM1");
	aml_name_eisaid(a, "_HID", "PNP0501");
	aml_name_int(a, "_UID", 0);
	n = aml_res_io(crs, COM1_PORT, BOARD_COM1_NR_PORTS);
	n += aml_res_irq_noflags(crs + n, COM1_IRQ);
	n += aml_res_end(crs + n);
	aml_name_buffer(a, "_CRS", crs, n);
	aml_close(a, dev);

	/* The CMOS RTC as a PNP device with its IRQ: Linux's rtc-cmos binds
	 * it through PNP, which maps GSI 8; the legacy platform device it
	 * would create otherwise names IRQ 8 without mapping it, and on a
	 * hardware-reduced platform (no legacy PIC, no preallocated ISA
	 * IRQs) its request_irq fails with -EINVAL. */
	if (rtc) {
		dev = aml_device_open(a, "RTC_");
		aml_name_eisaid(a, "_HID", "PNP0B00");
		n = aml_res_io(crs, RTC_PORT, BOARD_RTC_NR_PORTS);
		n += aml_res_irq_noflags(crs + n, RTC_IRQ);
		n += aml_res_end(crs + n);
		aml_name_buffer(a, "_CRS", crs, n);
		aml_close(a, dev);
	}

	/* The i8042's keyboard port, for the same reason as the RTC: on a
	 * hardware-reduced platform IRQ 1 is mapped only for a PNP device
	 * that names it, so without this Linux's i8042 probe fails with
	 * -EINVAL and Ctrl+Alt+Del (the API's SendCtrlAltDel) reaches no
	 * driver. The data port comes first, as the PNP driver expects. */
	dev = aml_device_open(a, "KBD_");
	aml_name_eisaid(a, "_HID", "PNP0303");
	n = aml_res_io(crs, BOARD_I8042_DATA_PORT, 1);
	n += aml_res_io(crs + n, BOARD_I8042_CMD_PORT, 1);
	n += aml_res_irq_noflags(crs + n, BOARD_I8042_KBD_IRQ);
	n += aml_res_end(crs + n);
	aml_name_buffer(a, "_CRS", crs, n);
	aml_close(a, dev);

	for (int i = 0; i < nr_devs; i++) {
		const struct linux_mmio_dev *d = &devs[i];
		static const char hex[] = "0123456789ABCDEF";
		/* i < ACPI_MAX_MMIO_DEVS <= 0xfff: three hex digits. */
		char name[5] = {'V', hex[(i >> 8) & 15], hex[(i >> 4) & 15], hex[i & 15], 0};

		dev = aml_device_open(a, name);
		aml_name_str(a, "_HID", d->acpi_hid ? d->acpi_hid : "LNRO0005");
		aml_name_int(a, "_UID", (uint64_t)i);
		/* base and size below 4 GiB: check_devs. */
		n = aml_res_mem32_fixed(crs, (uint32_t)d->base, (uint32_t)d->size);
		n += aml_res_interrupt(crs + n, d->irq);
		n += aml_res_end(crs + n);
		aml_name_buffer(a, "_CRS", crs, n);
		aml_close(a, dev);
	}
	dsdt_vmgenid(a);
	aml_close(a, sb);
}

static uint8_t *build_dsdt(struct area *ar, const struct linux_mmio_dev *devs, int nr_devs,
			   int rtc, uint32_t *gpa)
{
	uint8_t *t = area_alloc(ar, ACPI_HDR_SIZE, gpa);
	struct aml a;
	size_t len;

	if (!t)
		return NULL;
	aml_init(&a, t + ACPI_HDR_SIZE, AREA_SIZE - ar->off);
	dsdt_body(&a, devs, nr_devs, rtc);
	if (a.overflow)
		return NULL;
	len = ACPI_HDR_SIZE + a.len;
	ar->off += a.len;
	/* Revision 2: integers are 64 bits wide. */
	put_header(t, "DSDT", (uint32_t)len, 2);
	finish(t, len);
	return t;
}

static uint8_t *build_fadt(struct area *ar, uint32_t dsdt, uint16_t iapc, uint32_t *gpa)
{
	uint8_t *t = area_alloc(ar, ACPI_FADT_SIZE, gpa);

	if (!t)
		return NULL;
	put_header(t, "FACP", ACPI_FADT_SIZE, 6);
	le32_put(t + 40, dsdt);
	le16_put(t + 46, SCI_IRQ); /* unused: hardware-reduced has no SCI */
	le16_put(t + 109, iapc);
	/* CENTURY: the CMOS index kite's RTC keeps the century in, so that the
	 * guest reads and sets all four digits of the year. */
	if (!(iapc & ACPI_IAPC_NO_CMOS_RTC))
		t[108] = RTC_CENTURY;
	/* Hardware-reduced, reset register valid, and no fixed-feature
	 * power or sleep buttons. */
	le32_put(t + ACPI_FADT_FLAGS,
		 ACPI_FADT_HW_REDUCED | ACPI_FADT_RESET_REG_SUP | (1u << 4) | (1u << 5));
	put_gas(t + ACPI_FADT_RESET_REG, ACPI_RESET_PORT);
	t[ACPI_FADT_RESET_VALUE] = ACPI_RESET_VALUE;
	t[131] = 0; /* FADT minor version: 6.0 */
	le64_put(t + ACPI_FADT_X_DSDT, dsdt);
	put_gas(t + ACPI_FADT_SLEEP_CONTROL, ACPI_SLEEP_CONTROL_PORT);
	put_gas(t + ACPI_FADT_SLEEP_STATUS, ACPI_SLEEP_STATUS_PORT);
	memcpy(t + ACPI_FADT_HYPERVISOR_ID, "KITE\0\0\0\0", 8);
	finish(t, ACPI_FADT_SIZE);
	return t;
}

static uint8_t *put_iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	p[0] = MADT_ISO;
	p[1] = 10;
	p[2] = 0; /* ISA */
	p[3] = irq;
	le32_put(p + 4, gsi);
	le16_put(p + 8, flags);
	return p + 10;
}

static uint8_t *build_madt(struct area *ar, int nr_cpus, uint32_t *gpa)
{
	size_t len = 44 + (size_t)nr_cpus * 8 + 12 + 2 * 10 + 6;
	uint8_t *t = area_alloc(ar, len, gpa), *p;

	if (!t)
		return NULL;
	put_header(t, "APIC", (uint32_t)len, 5);
	le32_put(t + 36, X86_LAPIC_ADDR);
	/* KVM's in-kernel irqchip has the dual 8259s too. */
	le32_put(t + 40, MADT_PCAT_COMPAT);
	p = t + 44;
	for (int i = 0; i < nr_cpus; i++) {
		p[0] = MADT_LAPIC;
		p[1] = 8;
		p[2] = (uint8_t)i;  /* ACPI processor UID */
		p[3] = (uint8_t)i;  /* APIC id */
		le32_put(p + 4, 1); /* enabled */
		p += 8;
	}
	p[0] = MADT_IOAPIC;
	p[1] = 12;
	p[2] = (uint8_t)nr_cpus; /* the id the MP table gives it */
	p[3] = 0;
	le32_put(p + 4, X86_IOAPIC_ADDR);
	le32_put(p + 8, 0); /* GSI base */
	p += 12;
	p = put_iso(p, 0, 2, 0);
	p = put_iso(p, SCI_IRQ, SCI_IRQ, MPS_HIGH | MPS_LEVEL);
	p[0] = MADT_LAPIC_NMI;
	p[1] = 6;
	p[2] = 0xff; /* all processors */
	le16_put(p + 3, MPS_HIGH | MPS_EDGE);
	p[5] = 1; /* LINT1 */
	finish(t, len);
	return t;
}

int acpi_write_tables(struct guest_mem *gm, int nr_cpus, const struct linux_mmio_dev *devs,
		      int nr_devs, uint16_t iapc_boot_arch, char *err, size_t errlen)
{
	struct area ar = {0};
	uint32_t dsdt, fadt, madt, xsdt, rsdt, unused;
	uint8_t *t, *rsdp;
	int r;

	if (nr_cpus < 1 || nr_cpus > X86_MAX_CPUS) {
		boot_errf(err, errlen, "%d CPUs requested; kite supports 1 to %d", nr_cpus,
			  X86_MAX_CPUS);
		return -EINVAL;
	}
	r = check_devs(devs, nr_devs, err, errlen);
	if (r < 0)
		return r;
	ar.base = gm_ptr(gm, ACPI_RSDP_ADDR, AREA_SIZE);
	if (!ar.base) {
		boot_errf(err, errlen, "guest RAM does not cover the ACPI area at 0x%llx",
			  ACPI_RSDP_ADDR);
		return -ENOMEM;
	}
	memset(ar.base, 0, AREA_SIZE);
	rsdp = area_alloc(&ar, RSDP_SIZE, &unused);
	if (!rsdp || !build_dsdt(&ar, devs, nr_devs, !(iapc_boot_arch & ACPI_IAPC_NO_CMOS_RTC), &dsdt) ||
	    !build_fadt(&ar, dsdt, iapc_boot_arch, &fadt) || !build_madt(&ar, nr_cpus, &madt))
		goto full;

	t = area_alloc(&ar, ACPI_HDR_SIZE + 2 * 8, &xsdt);
	if (!t)
		goto full;
	put_header(t, "XSDT", ACPI_HDR_SIZE + 2 * 8, 1);
	le64_put(t + ACPI_HDR_SIZE, fadt);
	le64_put(t + ACPI_HDR_SIZE + 8, madt);
	finish(t, ACPI_HDR_SIZE + 2 * 8);

	/* An RSDT too, for guests that ignore the XSDT. */
	t = area_alloc(&ar, ACPI_HDR_SIZE + 2 * 4, &rsdt);
	if (!t)
		goto full;
	put_header(t, "RSDT", ACPI_HDR_SIZE + 2 * 4, 1);
	le32_put(t + ACPI_HDR_SIZE, fadt);
	le32_put(t + ACPI_HDR_SIZE + 4, madt);
	finish(t, ACPI_HDR_SIZE + 2 * 4);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "KITE  ", 6);
	rsdp[15] = 2; /* ACPI 2.0+: the XSDT fields are valid */
	le32_put(rsdp + 16, rsdt);
	le32_put(rsdp + 20, RSDP_SIZE);
	le64_put(rsdp + 24, xsdt);
	rsdp[8] = (uint8_t)-x86_table_sum(rsdp, 20);
	rsdp[32] = (uint8_t)-x86_table_sum(rsdp, RSDP_SIZE);
	return 0;
full:
	boot_errf(err, errlen, "ACPI tables do not fit in %llu KiB", AREA_SIZE >> 10);
	return -ENOSPC;
}
