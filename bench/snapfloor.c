/* bench/snapfloor.c: the restore floor, the baseline of bench/snapshot.py.
 *
 * The least a VMM can do to resume a snapshot of one of kite's CPL-3 guests:
 * open /dev/kvm, create a VM, map the snapshot's memory file MAP_PRIVATE
 * (copy-on-write, as kite's restore does), register it as one memory slot,
 * create one vCPU, set its special and general registers, and KVM_RUN. The
 * CPU state is not read from kite's state file: the snapshot guest
 * (tests/guest/bench_snap.s) is resumed at its `resumed` label (RIP given on
 * the command line) with the 64-bit CPL-3 segments, CR3 and TSS that kite's
 * long-user mode set up (src/arch/x86/cpu.h), whose GDT, page tables and TSS
 * are already in the memory file. No CPUID, MSRs, FPU/XSAVE, LAPIC, clock,
 * devices, threads or checks: everything a real restore adds is kite's cost.
 *
 * Exits handled as in bench/floor.c: port 0x510 prints "snapfloor: timestamp:
 * boot-timestamp port: value N at X ms" on stderr (ms since main()), port 0x501
 * ends the program with the written byte as status, other I/O is ignored.
 * With --timestamps also "vcpu0 entering the guest at X ms" before KVM_RUN.
 * Closes vCPU, VM and memory before exiting, as kite does.
 *
 * usage: snapfloor MEMFILE RIP [--timestamps]     (RAM size = the file's size)
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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* kite's long-user layout (src/arch/x86/cpu.h). */
#define CPU_GDT_ADDR 0x500
#define CPU_PT_ADDR 0x9000
#define CPU_TSS_ADDR (CPU_PT_ADDR + 0x2000 + 16 * 0x1000)
#define CPU_TSS_LIMIT (0x68 + 8192)
#define SEL_UDATA 0x28
#define SEL_UCODE64 0x30
#define SEL_TSS 0x38

static struct timespec t_start;

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

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int l, int db)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel | 3;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->dpl = 3;
	s->db = (uint8_t)db;
	s->s = 1;
	s->l = (uint8_t)l;
	s->g = 1;
}

int main(int argc, char **argv)
{
	int kvm, vm, vcpu, fd, stamps = argc > 3 && strcmp(argv[3], "--timestamps") == 0;
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sr;
	struct kvm_regs regs;
	struct kvm_run *run;
	long run_size;
	struct stat st;
	uint8_t *mem;

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	if (argc < 3) {
		fprintf(stderr, "usage: snapfloor MEMFILE RIP [--timestamps]\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(argv[1]);
	mem = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
		   fd, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	region = (struct kvm_userspace_memory_region){
		.slot = 0, .guest_phys_addr = 0, .memory_size = (uint64_t)st.st_size,
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

	if (ioctl(vcpu, KVM_GET_SREGS, &sr) < 0)
		die("KVM_GET_SREGS");
	sr.gdt.base = CPU_GDT_ADDR;
	sr.gdt.limit = 0x100 - 1;
	seg(&sr.cs, SEL_UCODE64, 0xb, 1, 0);
	seg(&sr.ds, SEL_UDATA, 0x3, 0, 1);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.selector = SEL_TSS;
	sr.tr.base = CPU_TSS_ADDR;
	sr.tr.limit = CPU_TSS_LIMIT;
	sr.tr.type = 0xb;
	sr.tr.present = 1;
	sr.cr3 = CPU_PT_ADDR;
	sr.cr4 = (1 << 5) | (1 << 9) | (1 << 10);		  /* PAE, OSFXSR, OSXMMEXCPT */
	sr.cr0 = 1 | 2 | 0x10 | 0x20 | (1u << 16) | (1u << 31); /* PE MP ET NE WP PG */
	sr.efer = (1 << 8) | (1 << 10);				  /* LME, LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sr) < 0)
		die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x3002; /* IOPL 3 */
	regs.rip = strtoull(argv[2], NULL, 0);
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");

	if (stamps)
		fprintf(stderr, "snapfloor: timestamp: vcpu0 entering the guest at %.3f ms\n",
			elapsed_ms());
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO) {
			uint8_t *d = (uint8_t *)run + run->io.data_offset;
			uint32_t v = 0;

			if (run->io.direction != KVM_EXIT_IO_OUT) {
				memset(d, 0xff, run->io.size * run->io.count);
			} else if (run->io.port == 0x510) {
				memcpy(&v, d, run->io.size < 4 ? run->io.size : 4);
				fprintf(stderr,
					"snapfloor: timestamp: boot-timestamp port: value %u at %.3f ms\n",
					v, elapsed_ms());
			} else if (run->io.port == 0x501) {
				int code = d[0];

				munmap(run, (size_t)run_size);
				close(vcpu);
				close(vm);
				munmap(mem, (size_t)st.st_size);
				close(fd);
				close(kvm);
				return code;
			}
		} else if (run->exit_reason == KVM_EXIT_MMIO) {
			if (!run->mmio.is_write)
				memset(run->mmio.data, 0xff, run->mmio.len);
		} else if (run->exit_reason != KVM_EXIT_INTR) {
			fprintf(stderr, "snapfloor: exit reason %u\n", run->exit_reason);
			return 5;
		}
	}
}
