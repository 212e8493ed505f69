/* Entry-mode register state, GDT/TSS and identity page tables, CPUID. */
#include "arch/x86/cpu.h"

#include <cpuid.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "log.h"

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)

/* A GDT descriptor from its fields (flags = G, D/B, L, AVL nibble). */
static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return ((uint64_t)(limit & 0xffff)) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

static int write_gdt(struct guest_mem *gm)
{
	uint64_t gdt[(SEL_TSS >> 3) + 2] = {0};
	uint8_t *tss;
	uint16_t iomap;

	gdt[SEL_CODE64 >> 3] = gdt_entry(0, 0xfffff, 0x9b, 0xa);   /* P, S, code RX, L, G */
	gdt[SEL_DATA >> 3] = gdt_entry(0, 0xfffff, 0x93, 0xc);     /* P, S, data RW, D, G */
	gdt[SEL_CODE32 >> 3] = gdt_entry(0, 0xfffff, 0x9b, 0xc);   /* 32-bit code */
	gdt[SEL_UDATA >> 3] = gdt_entry(0, 0xfffff, 0xf3, 0xc);    /* DPL 3 data */
	gdt[SEL_UCODE64 >> 3] = gdt_entry(0, 0xfffff, 0xfb, 0xa);  /* DPL 3 64-bit code */
	/* 64-bit TSS: 16 bytes, type 0xb (busy) as after LTR. */
	gdt[SEL_TSS >> 3] = gdt_entry(CPU_TSS_ADDR, CPU_TSS_LIMIT, 0x8b, 0x0);
	gdt[(SEL_TSS >> 3) + 1] = 0;
	if (gm_write(gm, CPU_GDT_ADDR, gdt, sizeof(gdt)))
		return -EFAULT;
	/* TSS: zero, then an all-zero (all ports allowed) I/O bitmap and
	 * the terminating 0xff byte the architecture requires. */
	tss = gm_ptr(gm, CPU_TSS_ADDR, CPU_TSS_LIMIT + 1);
	if (!tss)
		return -EFAULT;
	memset(tss, 0, CPU_TSS_LIMIT + 1);
	iomap = CPU_TSS_IOMAP_OFF;
	memcpy(tss + 0x66, &iomap, 2);
	tss[CPU_TSS_LIMIT] = 0xff;
	return 0;
}

static int write_page_tables(struct guest_mem *gm, int user)
{
	uint64_t flags = PTE_P | PTE_RW | (user ? PTE_US : 0);
	uint64_t top = MAX(gm_top(gm), GM_HIGH_START);
	uint64_t nr_pds = MIN((top + (1ull << 30) - 1) >> 30, (uint64_t)CPU_PT_MAX_PDS);
	uint64_t *pml4, *pdpt;

	pml4 = gm_ptr(gm, CPU_PT_ADDR, 0x1000);
	pdpt = gm_ptr(gm, CPU_PT_ADDR + 0x1000, 0x1000);
	if (!pml4 || !pdpt || !gm_ptr(gm, CPU_PT_ADDR + 0x2000, nr_pds * 0x1000))
		return -ENOMEM;
	memset(pml4, 0, 0x1000);
	memset(pdpt, 0, 0x1000);
	pml4[0] = (CPU_PT_ADDR + 0x1000) | flags;
	for (uint64_t i = 0; i < nr_pds; i++) {
		uint64_t pd_gpa = CPU_PT_ADDR + 0x2000 + i * 0x1000;
		uint64_t *pd = gm_ptr(gm, pd_gpa, 0x1000);

		pdpt[i] = pd_gpa | flags;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((i << 30) + (j << 21)) | flags | PTE_PS;
	}
	return 0;
}

int cpu_write_tables(struct guest_mem *gm, enum cpu_mode mode)
{
	int rc;

	if (mode == MODE_REAL)
		return 0;
	rc = write_gdt(gm);
	if (rc || mode == MODE_PROTECTED)
		return rc;
	return write_page_tables(gm, mode == MODE_LONG_USER);
}

static void seg_flat(struct kvm_segment *s, uint16_t sel, uint8_t type, int l, int db, int dpl)
{
	memset(s, 0, sizeof(*s));
	s->base = 0;
	s->limit = 0xffffffff;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->dpl = (uint8_t)dpl;
	s->db = (uint8_t)db;
	s->s = 1;
	s->l = (uint8_t)l;
	s->g = 1;
}

static void sregs_for_mode(struct kvm_sregs *sr, enum cpu_mode mode, uint64_t *rip)
{
	struct kvm_segment code, data;

	if (mode == MODE_REAL) {
		/* Keep KVM's reset segments; point CS at the 64 KiB window that
		 * holds the entry so that IP fits 16 bits. */
		uint16_t sel = (uint16_t)((*rip >> 4) & 0xf000);

		sr->cs.selector = sel;
		sr->cs.base = (uint64_t)sel << 4;
		*rip -= sr->cs.base;
		return;
	}
	sr->gdt.base = CPU_GDT_ADDR;
	sr->gdt.limit = (SEL_TSS + 16) - 1;
	sr->idt.base = 0;
	sr->idt.limit = 0;
	sr->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
	sr->cr4 = 0;
	sr->efer = 0;
	memset(&sr->tr, 0, sizeof(sr->tr));
	sr->tr.base = CPU_TSS_ADDR;
	sr->tr.limit = CPU_TSS_LIMIT;
	sr->tr.selector = SEL_TSS;
	sr->tr.type = 0xb;
	sr->tr.present = 1;
	memset(&sr->ldt, 0, sizeof(sr->ldt));
	sr->ldt.type = 2;
	sr->ldt.unusable = 1;

	switch (mode) {
	case MODE_PROTECTED:
		seg_flat(&code, SEL_CODE32, 0xb, 0, 1, 0);
		seg_flat(&data, SEL_DATA, 0x3, 0, 1, 0);
		break;
	case MODE_LONG:
		seg_flat(&code, SEL_CODE64, 0xb, 1, 0, 0);
		seg_flat(&data, SEL_DATA, 0x3, 0, 1, 0);
		break;
	default: /* MODE_LONG_USER */
		seg_flat(&code, SEL_UCODE64 | 3, 0xb, 1, 0, 3);
		seg_flat(&data, SEL_UDATA | 3, 0x3, 0, 1, 3);
		break;
	}
	if (mode != MODE_PROTECTED) {
		sr->cr3 = CPU_PT_ADDR;
		sr->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
		sr->cr0 |= CR0_PG | CR0_WP;
		sr->efer = EFER_LME | EFER_LMA;
	}
	sr->cs = code;
	sr->ds = sr->es = sr->fs = sr->gs = sr->ss = data;
}

int cpu_set_entry(int vcpu_fd, const struct cpu_entry *e)
{
	struct kvm_sregs sr;
	struct kvm_regs r;
	uint64_t rip = e->rip;
	__u64 *const gpr[GPR_COUNT] = {
		&r.rax, &r.rbx, &r.rcx, &r.rdx, &r.rsi, &r.rdi, &r.rbp, &r.rsp,
		&r.r8, &r.r9, &r.r10, &r.r11, &r.r12, &r.r13, &r.r14, &r.r15, &r.rflags,
	};

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sr) < 0)
		return -errno;
	sregs_for_mode(&sr, e->mode, &rip);
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sr) < 0)
		return -errno;

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < GPR_COUNT; i++)
		if (e->regs_set & (1u << i))
			*gpr[i] = e->regs[i];
	r.rflags |= RFLAGS_RESERVED;
	if (e->mode == MODE_LONG_USER)
		r.rflags |= RFLAGS_IOPL3; /* port I/O from CPL 3 */
	r.rip = rip;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &r) < 0)
		return -errno;
	return 0;
}

/* KVM_GET_SUPPORTED_CPUID, with room for `extra` more entries. */
static struct kvm_cpuid2 *supported_cpuid(int kvm_fd, uint32_t extra)
{
	for (uint32_t n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)(n + extra) * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	errno = E2BIG;
	return NULL;
}

/*
 * Is kite itself running in a guest of QEMU's TCG (software) CPU? Then the
 * /dev/kvm kite uses runs on an emulated SVM/VMX, and QEMU before 8.2 does
 * not apply the XSETBV intercept: a nested guest's XSETBV changes XCR0 in
 * QEMU without KVM seeing it. KVM then keeps XCR0 = 1 as the guest's value
 * (reloading it before every VMRUN) and reports CPUID[0xd,0].EBX for it
 * (576 bytes), so Linux finds the XSAVE layout inconsistent ("XSAVE
 * consistency problem") and the guest's XSAVE state would not follow what
 * it enabled. QEMU's TCG identifies itself in the hypervisor leaf.
 */
static int host_is_qemu_tcg(void)
{
	unsigned int a, b, c, d;
	char sig[12];

	__cpuid(1, a, b, c, d);
	if (!(c & (1u << 31))) /* no hypervisor below us */
		return 0;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	return memcmp(sig, "TCGTCGTCGTCG", 12) == 0;
}

/* Feature bits that need XSAVE-managed state (AVX and its successors, AMX,
 * PKU): hidden together with XSAVE itself. */
static const struct {
	uint32_t function, index;
	int reg; /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint32_t mask;
} xsave_features[] = {
	/* XSAVE, OSXSAVE, AVX, FMA, F16C */
	{1, 0, 2, (1u << 26) | (1u << 27) | (1u << 28) | (1u << 12) | (1u << 29)},
	/* AVX2, AVX512F/DQ/IFMA/PF/ER/CD/BW/VL */
	{7, 0, 1, (1u << 5) | (1u << 16) | (1u << 17) | (1u << 21) | (1u << 26) | (1u << 27) |
			  (1u << 28) | (1u << 30) | (1u << 31)},
	/* AVX512_VBMI, PKU, OSPKE, AVX512_VBMI2, VAES, VPCLMULQDQ, AVX512_VNNI,
	 * AVX512_BITALG, AVX512_VPOPCNTDQ */
	{7, 0, 2, (1u << 1) | (1u << 3) | (1u << 4) | (1u << 6) | (1u << 9) | (1u << 10) |
			  (1u << 11) | (1u << 12) | (1u << 14)},
	/* AVX512_4VNNIW/4FMAPS, VP2INTERSECT, AMX_BF16, AVX512_FP16, AMX_TILE,
	 * AMX_INT8 */
	{7, 0, 3, (1u << 2) | (1u << 3) | (1u << 8) | (1u << 22) | (1u << 23) | (1u << 24) |
			  (1u << 25)},
	/* AVX_VNNI, AVX512_BF16 */
	{7, 1, 0, (1u << 4) | (1u << 5)},
	/* XOP, FMA4 */
	{0x80000001, 0, 2, (1u << 11) | (1u << 16)},
};

void cpu_cpuid_hide_xsave(struct kvm_cpuid2 *c)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];
		__u32 *regs[4] = {&e->eax, &e->ebx, &e->ecx, &e->edx};

		if (e->function == 0xd) {
			e->eax = e->ebx = e->ecx = e->edx = 0;
			continue;
		}
		for (size_t k = 0; k < ARRAY_SIZE(xsave_features); k++)
			if (xsave_features[k].function == e->function &&
			    xsave_features[k].index == e->index)
				*regs[xsave_features[k].reg] &= ~xsave_features[k].mask;
	}
}

/* KVM's APIC timer runs at a fixed 1 GHz (APIC_BUS_CYCLE_NS = 1). */
#define KVM_APIC_BUS_KHZ 1000000u
#define CPUID_KVM_SIGNATURE 0x40000000u
#define CPUID_TIMING_INFO 0x40000010u

int cpu_cpuid_add_tsc_khz(struct kvm_cpuid2 *c, uint32_t room, uint32_t tsc_khz)
{
	struct kvm_cpuid_entry2 *base = NULL;

	for (uint32_t i = 0; i < c->nent; i++) {
		if (c->entries[i].function == CPUID_TIMING_INFO)
			return -EEXIST;
		if (c->entries[i].function == CPUID_KVM_SIGNATURE)
			base = &c->entries[i];
	}
	if (!base || room < 1)
		return -ENOENT;
	/* The timing leaf as VMware defined it and other hypervisors adopted:
	 * EAX = TSC kHz, EBX = local APIC timer kHz. */
	if (base->eax < CPUID_TIMING_INFO)
		base->eax = CPUID_TIMING_INFO;
	c->entries[c->nent] = (struct kvm_cpuid_entry2){
		.function = CPUID_TIMING_INFO,
		.eax = tsc_khz,
		.ebx = KVM_APIC_BUS_KHZ,
	};
	c->nent++;
	return 0;
}

void cpu_cpuid_set_topology(struct kvm_cpuid2 *c, int vcpu_id, int nr_cpus)
{
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* Initial APIC ID and logical processor count. */
			e->ebx = (e->ebx & 0x0000ffffu) | ((uint32_t)vcpu_id << 24) |
				 ((uint32_t)MIN(nr_cpus, 255) << 16);
			e->ecx |= 1u << 31; /* running under a hypervisor */
			if (nr_cpus > 1)
				e->edx |= 1u << 28; /* HTT: the count above is valid */
			break;
		case 0xb:
		case 0x1f:
			/* x2APIC topology: one thread per core, all cores in
			 * one package. */
			e->edx = (uint32_t)vcpu_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | e->index;
			} else if (e->index == 1) {
				uint32_t shift = 0;
				while ((1 << shift) < nr_cpus)
					shift++;
				e->eax = shift;
				e->ebx = (uint32_t)nr_cpus;
				e->ecx = (2u << 8) | e->index;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			break;
		default:
			break;
		}
	}
}

int cpu_set_cpuid(int kvm_fd, int vcpu_fd, int vcpu_id, int nr_cpus)
{
	static int tcg_host = -1; /* vCPUs are set up on one thread */
	struct kvm_cpuid2 *c = supported_cpuid(kvm_fd, 1);
	int tsc_khz, rc = 0;

	if (!c)
		return errno ? -errno : -ENOMEM;
	cpu_cpuid_set_topology(c, vcpu_id, nr_cpus);
	if (tcg_host < 0) {
		tcg_host = host_is_qemu_tcg();
		if (tcg_host)
			log_info("cpu", "host CPU is QEMU TCG: hiding XSAVE and AVX from the guest "
				 "(KVM cannot track a nested guest's XCR0 there)");
	}
	if (tcg_host)
		cpu_cpuid_hide_xsave(c);
	/* Best effort: without the KVM leaf or KVM_GET_TSC_KHZ the guest
	 * measures the TSC itself. */
	tsc_khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	if (tsc_khz > 0 && cpu_cpuid_add_tsc_khz(c, 1, (uint32_t)tsc_khz))
		log_debug("cpu", "no KVM signature leaf: TSC frequency leaf not added");
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		rc = -errno;
	free(c);
	return rc;
}

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static void lvt_set_mode(struct kvm_lapic_state *l, int reg, uint32_t mode)
{
	uint32_t v;

	memcpy(&v, &l->regs[reg], 4);
	v = (v & ~0x700u & ~(1u << 16)) | (mode << 8); /* delivery mode, unmasked */
	memcpy(&l->regs[reg], &v, 4);
}

int cpu_set_lapic(int vcpu_fd)
{
	struct kvm_lapic_state l;

	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &l) < 0)
		return -errno;
	lvt_set_mode(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lvt_set_mode(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(vcpu_fd, KVM_SET_LAPIC, &l) < 0)
		return -errno;
	return 0;
}

int cpu_set_runnable(int vcpu_fd)
{
	struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};

	return ioctl(vcpu_fd, KVM_SET_MP_STATE, &mp) < 0 ? -errno : 0;
}

/* Linear address of the instruction pointer -> bytes, through KVM's own
 * page walk so that paging modes work too. */
static int insn_bytes(int vcpu_fd, const struct guest_mem *gm, uint64_t linear, uint8_t *out,
		      int max)
{
	int n = 0;

	while (n < max) {
		struct kvm_translation tr = {.linear_address = linear + (uint64_t)n};
		const uint8_t *p;

		if (ioctl(vcpu_fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
			break;
		p = gm_ptr(gm, tr.physical_address, 1);
		if (!p)
			break;
		out[n++] = *p;
	}
	return n;
}

void cpu_dump(int vcpu_fd, const struct guest_mem *gm, const char *prefix)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint8_t code[16];
	char hex[3 * sizeof(code) + 1] = "";
	int n;

	if (ioctl(vcpu_fd, KVM_GET_REGS, &r) < 0 || ioctl(vcpu_fd, KVM_GET_SREGS, &s) < 0) {
		log_err(prefix, "cannot read registers: %s", strerror(errno));
		return;
	}
	log_err(prefix, "rip=%016llx rsp=%016llx rflags=%016llx",
		(unsigned long long)r.rip, (unsigned long long)r.rsp, (unsigned long long)r.rflags);
	log_err(prefix, "rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx",
		(unsigned long long)r.rax, (unsigned long long)r.rbx,
		(unsigned long long)r.rcx, (unsigned long long)r.rdx);
	log_err(prefix, "rsi=%016llx rdi=%016llx rbp=%016llx r8=%016llx",
		(unsigned long long)r.rsi, (unsigned long long)r.rdi,
		(unsigned long long)r.rbp, (unsigned long long)r.r8);
	log_err(prefix, "cs=%04x(base %llx, l=%d, dpl=%d) ss=%04x cr0=%llx cr3=%llx cr4=%llx efer=%llx",
		s.cs.selector, (unsigned long long)s.cs.base, s.cs.l, s.cs.dpl, s.ss.selector,
		(unsigned long long)s.cr0, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
		(unsigned long long)s.efer);
	if (r.rip == 0xfff0 && s.cs.selector == 0xf000 && !(s.cr0 & CR0_PE))
		log_err(prefix, "(the reset state: KVM on AMD re-initialises a vCPU after a "
			"triple fault, so the faulting state is lost)");
	n = insn_bytes(vcpu_fd, gm, s.cs.base + r.rip, code, (int)sizeof(code));
	for (int i = 0; i < n; i++)
		snprintf(hex + 3 * i, sizeof(hex) - (size_t)(3 * i), "%02x ", code[i]);
	log_err(prefix, "code at rip: %s", n ? hex : "(not readable)");
}
