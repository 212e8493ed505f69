/* bench/floor.c: the ioctl floor, kite's start-up and exit-cost baseline.
 *
 * The least a VMM can do to run one of kite's flat test guests: open /dev/kvm,
 * create a VM, give it RAM (a memfd, as kite does), create one vCPU, set its
 * registers, and loop on KVM_RUN handling only what the guest uses:
 *   port 0x3f8 writes   -> the byte to stdout (COM1 THR, nothing else of a UART)
 *   port 0x501 writes   -> exit with the written byte as status (debug-exit)
 *   port 0x510 writes   -> "floor: timestamp: boot-timestamp port: value N at X ms"
 *                          on stderr, in kite's format (ms since main() started)
 *   other PIO / MMIO    -> ignored (counted), as kite does for unclaimed addresses
 *   hlt                 -> exit 0
 * No irqchip, no CPUID, no threads, no event loop, no error messages beyond
 * the failing ioctl's name. Like kite, it closes the VM before exiting: on the
 * PVM hosts, leaving the VM to be torn down by exit_group() made parallel
 * start/stop ~20-40% slower (bench/README.md). Built by bench/run with `cc -O2`.
 *
 * usage: floor real|long-user IMAGE LOAD [REG=VALUE ...]   (REG: rax rbx rcx rdi)
 *        [--timestamps]     also print "vcpu0 entering the guest" and "guest stopped"
 *        [ioeventfd=ADDR]   a KVM ioeventfd (4 bytes, data 0) at ADDR that nobody
 *                           reads: the kernel-only floor of a virtio queue kick
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (256ull << 20)
/* Guest-physical layout for long-user mode (below kite's load address). */
#define GDT_ADDR 0x500
#define PT_ADDR 0x9000	/* PML4, PDPT, then 4 PDs: 0-4 GiB in 2 MiB pages */
#define TSS_ADDR 0xf000	/* 0x68 bytes + 8 KiB I/O bitmap (all ports allowed) + 0xff */
#define TSS_LIMIT (0x68 + 8192)

static struct timespec t_start;
static int kvm, vm, vcpu, memfd;
static struct kvm_run *run;
static long run_size;
static uint8_t *mem;

static double elapsed_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t_start.tv_sec) * 1e3 +
	       (double)(now.tv_nsec - t_start.tv_nsec) / 1e6;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return ((uint64_t)(limit & 0xffff)) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)access << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)(flags & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int l, int db, int dpl)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->dpl = (uint8_t)dpl;
	s->db = (uint8_t)db;
	s->s = 1;
	s->l = (uint8_t)l;
	s->g = 1;
}

/* GDT, TSS with an allow-all I/O bitmap (PVM needs it for CPL-3 port I/O),
 * and user-accessible identity page tables for 0-4 GiB. */
static void long_user_tables(uint8_t *mem, struct kvm_sregs *sr)
{
	uint64_t *gdt = (uint64_t *)(mem + GDT_ADDR);
	uint64_t *pml4 = (uint64_t *)(mem + PT_ADDR);
	uint64_t *pdpt = (uint64_t *)(mem + PT_ADDR + 0x1000);
	const uint64_t f = 1 | 2 | 4; /* P, RW, US */
	uint8_t *tss = mem + TSS_ADDR;
	uint16_t iomap = 0x68;

	gdt[1] = gdt_entry(0, 0xfffff, 0xf3, 0xc); /* 0x08: DPL-3 data */
	gdt[2] = gdt_entry(0, 0xfffff, 0xfb, 0xa); /* 0x10: DPL-3 64-bit code */
	gdt[3] = gdt_entry(TSS_ADDR, TSS_LIMIT, 0x8b, 0); /* 0x18: busy 64-bit TSS */
	gdt[4] = 0;
	memcpy(tss + 0x66, &iomap, 2);
	tss[TSS_LIMIT] = 0xff;
	pml4[0] = (PT_ADDR + 0x1000) | f;
	for (uint64_t i = 0; i < 4; i++) {
		uint64_t *pd = (uint64_t *)(mem + PT_ADDR + 0x2000 + i * 0x1000);

		pdpt[i] = (PT_ADDR + 0x2000 + i * 0x1000) | f;
		for (uint64_t j = 0; j < 512; j++)
			pd[j] = ((i << 30) + (j << 21)) | f | 0x80; /* PS */
	}
	sr->gdt.base = GDT_ADDR;
	sr->gdt.limit = 5 * 8 - 1;
	seg(&sr->cs, 0x10 | 3, 0xb, 1, 0, 3);
	seg(&sr->ds, 0x08 | 3, 0x3, 0, 1, 3);
	sr->es = sr->fs = sr->gs = sr->ss = sr->ds;
	memset(&sr->tr, 0, sizeof(sr->tr));
	sr->tr.selector = 0x18;
	sr->tr.base = TSS_ADDR;
	sr->tr.limit = TSS_LIMIT;
	sr->tr.type = 0xb;
	sr->tr.present = 1;
	sr->cr3 = PT_ADDR;
	sr->cr4 = (1 << 5) | (1 << 9) | (1 << 10);	/* PAE, OSFXSR, OSXMMEXCPT */
	sr->cr0 = 1 | 2 | 0x10 | 0x20 | (1u << 16) | (1u << 31); /* PE MP ET NE WP PG */
	sr->efer = (1 << 8) | (1 << 10);		/* LME, LMA */
}

/* vCPU, VM and RAM released in that order before exit, as kite does. */
static int finish(int code)
{
	munmap(run, (size_t)run_size);
	close(vcpu);
	close(vm);
	munmap(mem, MEM_SIZE);
	close(memfd);
	close(kvm);
	return code;
}

int main(int argc, char **argv)
{
	int img, stamps = 0, user;
	unsigned long ignored = 0;
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	uint64_t load;
	struct stat st;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (argc < 4) {
		fprintf(stderr, "usage: floor real|long-user IMAGE LOAD [REG=VALUE ...] [--timestamps]\n");
		return 2;
	}
	user = strcmp(argv[1], "long-user") == 0;
	load = strtoull(argv[3], NULL, 0);

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	memfd = memfd_create("floor-guest-ram", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, MEM_SIZE) < 0)
		die("memfd");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, memfd, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	img = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (img < 0 || fstat(img, &st) < 0 || load + (uint64_t)st.st_size > MEM_SIZE ||
	    read(img, mem + load, (size_t)st.st_size) != st.st_size)
		die(argv[2]);
	close(img);
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = MEM_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	if (ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0)
		die("KVM_SET_TSS_ADDR");
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("KVM_CREATE_VCPU");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size <= 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");

	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 2;
	regs.rip = load;
	if (user) {
		long_user_tables(mem, &sregs);
		regs.rflags |= 0x3000; /* IOPL 3 */
	} else {
		/* Real mode: CS covers the 64 KiB window holding the image. */
		sregs.cs.selector = (uint16_t)((load >> 4) & 0xf000);
		sregs.cs.base = (uint64_t)sregs.cs.selector << 4;
		regs.rip = load - sregs.cs.base;
	}
	for (int i = 4; i < argc; i++) {
		if (strcmp(argv[i], "--timestamps") == 0) {
			stamps = 1;
			continue;
		}
		char *eq = strchr(argv[i], '=');
		uint64_t v = eq ? strtoull(eq + 1, NULL, 0) : 0;

		if (!strncmp(argv[i], "rax=", 4))
			regs.rax = v;
		else if (!strncmp(argv[i], "rbx=", 4))
			regs.rbx = v;
		else if (!strncmp(argv[i], "rcx=", 4))
			regs.rcx = v;
		else if (!strncmp(argv[i], "rdi=", 4))
			regs.rdi = v;
		else if (!strncmp(argv[i], "ioeventfd=", 10)) {
			struct kvm_ioeventfd io = {
				.datamatch = 0, .addr = v, .len = 4,
				.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK),
				.flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
			};
			if (io.fd < 0 || ioctl(vm, KVM_IOEVENTFD, &io) < 0)
				die("KVM_IOEVENTFD");
		}
	}
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	if (stamps)
		fprintf(stderr, "floor: timestamp: vcpu0 entering the guest at %.3f ms\n", elapsed_ms());
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;

			if (run->io.direction != KVM_EXIT_IO_OUT) {
				memset(d, 0xff, run->io.size * run->io.count);
				break;
			}
			if (run->io.port == 0x3f8) {
				for (uint32_t i = 0; i < run->io.count; i++)
					if (write(1, d + i * run->io.size, 1) < 0)
						break;
			} else if (run->io.port == 0x501) {
				if (stamps)
					fprintf(stderr, "floor: timestamp: guest stopped at %.3f ms\n", elapsed_ms());
				return finish(d[0]);
			} else if (run->io.port == 0x510) {
				uint32_t v = 0;

				memcpy(&v, d, run->io.size < 4 ? run->io.size : 4);
				fprintf(stderr, "floor: timestamp: boot-timestamp port: value %u at %.3f ms\n",
					v, elapsed_ms());
			} else {
				ignored++;
			}
			break;
		}
		case KVM_EXIT_MMIO:
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, run->mmio.len);
			ignored++;
			break;
		case KVM_EXIT_HLT:
			if (stamps)
				fprintf(stderr, "floor: timestamp: guest stopped at %.3f ms\n", elapsed_ms());
			return finish(0);
		case KVM_EXIT_INTR:
			break;
		default:
			fprintf(stderr, "floor: exit reason %u\n", run->exit_reason);
			return finish(5);
		}
	}
}
