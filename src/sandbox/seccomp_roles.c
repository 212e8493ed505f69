/* The seccomp rules of each thread role, as data: what seccomp_gen.c
 * compiles into filters when kite is built, what `kite seccomp export`
 * writes, and what the rule-by-rule checker (tests/sandbox/seccomp_check.c)
 * calls. The lists come from docs/ARCHITECTURE.md "Threads" checked with
 * strace -f over the whole-VM tests; a rule missing here makes a test die
 * with status 148. */
#include "sandbox/seccomp.h"

#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

/* The tables below are data, laid out by hand. */
/* clang-format off */
#define ANY(n) {SYS_##n, 0, SC_ANY, 0, NULL}
#define EQ(n, a, v) {SYS_##n, a, SC_EQ, ARRAY_SIZE(v), v}
#define END {-1, 0, 0, 0, NULL}

static const uint64_t no_exec[] = {PROT_EXEC};
static const uint64_t thread_only[] = {CLONE_THREAD};

/* Every role: what glibc does under any thread (locks, memory, signal
 * masks, thread exit) and the one write of a log line. */
static const struct seccomp_rule libc_rules[] = {
	ANY(futex), ANY(exit), ANY(exit_group), ANY(rt_sigreturn), ANY(rt_sigprocmask),
	ANY(restart_syscall), ANY(clock_gettime), ANY(gettid), ANY(getpid), ANY(sched_yield),
	ANY(brk), ANY(munmap), ANY(mremap), ANY(write),
	/* No new executable memory. */
	{SYS_mmap, 2, SC_NOBITS, 1, no_exec},
	{SYS_mprotect, 2, SC_NOBITS, 1, no_exec},
	END,
};

/* The vCPU: KVM_RUN, the IRQ line (UART, i8042), registers for a dump on
 * a failure, TUNSETOFFLOAD (virtio-net's DRIVER_OK or reset Status write
 * lands here), the RTC timer (register writes), kicks of the other vCPUs. */
static const uint64_t vcpu_ioctls[] = {
	KVM_RUN, KVM_IRQ_LINE, KVM_GET_REGS, KVM_GET_SREGS, KVM_TRANSLATE, TUNSETOFFLOAD,
};
static const uint64_t vcpu_madv[] = {MADV_DONTNEED};
static const uint64_t get_name[] = {PR_GET_NAME};
static const struct seccomp_rule vcpu_rules[] = {
	EQ(ioctl, 1, vcpu_ioctls),
	EQ(madvise, 2, vcpu_madv),
	EQ(prctl, 0, get_name),
	ANY(timerfd_settime),
	ANY(tgkill),
	ANY(read),
	ANY(writev),
	END,
};

/* Disk workers: the transfers of the thread-pool fallback. */
static const struct seccomp_rule disk_rules[] = {
	ANY(preadv), ANY(pwritev), ANY(preadv2), ANY(pwritev2), ANY(fdatasync), ANY(fallocate),
	END,
};
static const struct seccomp_rule disk_own[] = {
	EQ(madvise, 2, vcpu_madv),
	EQ(prctl, 0, get_name),
	END,
};

/* The prefetch thread: guest RAM's pages, and read-ahead of its file. */
static const uint64_t prefetch_madv[] = {MADV_DONTNEED, MADV_WILLNEED, MADV_POPULATE_READ};
static const struct seccomp_rule prefetch_rules[] = {
	EQ(madvise, 2, prefetch_madv),
	EQ(prctl, 0, get_name),
	ANY(fadvise64),
	END,
};

/* The main thread once the guest runs: the event loop with every device
 * backend, the API (whose actions open files: PATCH /drives, PUT /logger,
 * PUT /metrics, snapshots), the state of a pause or snapshot, and the
 * teardown. Threads it starts later (a drive's thread pool after PATCH
 * /drives) inherit this filter, so it holds the disk workers' calls too,
 * and what a new thread does before its own filter is in place. */
static const uint64_t main_ioctls[] = {
	/* snapshot create: the vCPUs' and the VM's state */
	KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_FPU, KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_GET_XCRS,
	KVM_GET_MSRS, KVM_GET_LAPIC, KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE, KVM_GET_DEBUGREGS,
	KVM_GET_CPUID2, KVM_GET_TSC_KHZ, KVM_GET_CLOCK, KVM_GET_IRQCHIP, KVM_GET_PIT2,
	KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG, KVM_CHECK_EXTENSION, KVM_GET_MSR_INDEX_LIST,
	KVM_GET_SUPPORTED_CPUID, KVM_KVMCLOCK_CTRL, KVM_GET_API_VERSION,
	/* devices on the loop, and their teardown */
	KVM_IRQ_LINE, KVM_IRQFD, KVM_IOEVENTFD, KVM_SET_USER_MEMORY_REGION, TUNSETOFFLOAD,
	FIONREAD, BLKGETSIZE64,
};
/* Building the next machine (--on-reboot restart): its vCPU threads start
 * under this filter, so it holds the vCPU's ioctls too. */
static const uint64_t restart_ioctls[] = {
	KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_FPU, KVM_GET_XSAVE, KVM_GET_XSAVE2, KVM_GET_XCRS,
	KVM_GET_MSRS, KVM_GET_LAPIC, KVM_GET_VCPU_EVENTS, KVM_GET_MP_STATE, KVM_GET_DEBUGREGS,
	KVM_GET_CPUID2, KVM_GET_TSC_KHZ, KVM_GET_CLOCK, KVM_GET_IRQCHIP, KVM_GET_PIT2,
	KVM_GET_DIRTY_LOG, KVM_CLEAR_DIRTY_LOG, KVM_CHECK_EXTENSION, KVM_GET_MSR_INDEX_LIST,
	KVM_GET_SUPPORTED_CPUID, KVM_KVMCLOCK_CTRL, KVM_IRQ_LINE, KVM_IRQFD, KVM_IOEVENTFD,
	KVM_SET_USER_MEMORY_REGION, TUNSETOFFLOAD, FIONREAD, BLKGETSIZE64,
	KVM_GET_API_VERSION, KVM_GET_VCPU_MMAP_SIZE, KVM_CREATE_VM, KVM_CREATE_VCPU,
	KVM_SET_GSI_ROUTING, KVM_SET_IRQCHIP, KVM_SET_PIT2, KVM_SET_XSAVE, KVM_SET_XCRS,
	KVM_SET_VCPU_EVENTS, KVM_SET_DEBUGREGS,
	KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, KVM_SET_TSS_ADDR, KVM_SET_IDENTITY_MAP_ADDR,
	KVM_SET_CPUID2, KVM_SET_REGS, KVM_SET_SREGS, KVM_SET_FPU, KVM_SET_MSRS, KVM_SET_LAPIC,
	KVM_SET_MP_STATE, KVM_SET_TSC_KHZ, KVM_SET_CLOCK, KVM_RUN, KVM_TRANSLATE,
};
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
/* MADV_POPULATE_WRITE: gm_write of a kernel or initrd, which --on-reboot
 * restart does again on this thread (found by the lab's reboot-restart). */
static const uint64_t main_madv[] = {MADV_DONTNEED, MADV_WILLNEED, MADV_HUGEPAGE,
				     MADV_DONTDUMP, MADV_POPULATE_WRITE};
static const uint64_t main_prctl[] = {PR_GET_NAME, PR_SET_NAME, PR_SET_NO_NEW_PRIVS};
static const uint64_t unix_only[] = {AF_UNIX};
static const uint64_t filter_only[] = {SECCOMP_SET_MODE_FILTER};
/* The ring set-up of a drive opened after boot (disk_raw.c), and nothing
 * else: the ring itself refuses new operations. */
static const uint64_t uring_regs[] = {IORING_REGISTER_FILES, IORING_REGISTER_EVENTFD,
				      IORING_REGISTER_RESTRICTIONS,
				      IORING_REGISTER_ENABLE_RINGS};
static const struct seccomp_rule main_rules[] = {
	/* the loop and its descriptors */
	ANY(epoll_wait), ANY(epoll_pwait), ANY(epoll_ctl), ANY(read), ANY(readv), ANY(writev),
	ANY(pread64), ANY(pwrite64), ANY(lseek), ANY(close), ANY(poll), ANY(ppoll),
	ANY(eventfd2), ANY(timerfd_create), ANY(timerfd_settime), ANY(timerfd_gettime),
	ANY(getrandom), ANY(tgkill), ANY(fcntl), ANY(dup), ANY(nanosleep), ANY(clock_nanosleep),
	/* --daemonize: stderr to /dev/null once the guest has started */
	ANY(dup2), ANY(dup3),
	/* API, console socket and vsock clients: Unix sockets only */
	EQ(socket, 0, unix_only), ANY(accept4), ANY(connect), ANY(bind), ANY(listen),
	ANY(recvfrom), ANY(sendto), ANY(recvmsg), ANY(sendmsg), ANY(shutdown), ANY(getsockopt),
	/* files the API names: drives, logger, metrics, snapshots */
	ANY(openat), ANY(fstat), ANY(newfstatat), ANY(statx), ANY(flock), ANY(ftruncate),
	ANY(fsync), ANY(rename), ANY(unlink),
	/* io_uring: submissions, and the set-up of a drive swapped in */
	ANY(io_uring_enter), ANY(io_uring_setup), EQ(io_uring_register, 1, uring_regs),
	/* memory */
	EQ(madvise, 2, main_madv), ANY(memfd_create),
	/* glibc's qsort asks for the machine's memory size */
	ANY(sysinfo),
	/* threads started after boot (a drive's worker pool): only threads */
	{SYS_clone, 0, SC_ALLBITS, 1, thread_only},
	{SYS_clone3, 0, SC_ENOSYS, 0, NULL},
	ANY(set_robust_list), ANY(rseq), ANY(sched_getaffinity),
	EQ(prctl, 0, main_prctl), EQ(seccomp, 0, filter_only),
	END,
};
static const struct seccomp_rule main_ioctl[] = {EQ(ioctl, 1, main_ioctls), END};
/* The next machine installs the vCPU kick handler again. */
static const struct seccomp_rule restart_rules[] = {EQ(ioctl, 1, restart_ioctls),
						    ANY(rt_sigaction), END};

/* The sanitizer runtimes' own calls (reports, LeakSanitizer's stop-the-
 * world at exit: a traced clone, ptrace, /proc reads). Only in builds
 * with -fsanitize=address, detected at compile time. */
#if defined(__SANITIZE_ADDRESS__)
#define KITE_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KITE_SANITIZER 1
#endif
#endif
const struct seccomp_rule seccomp_sanitizer_rules[] = {
#ifdef KITE_SANITIZER
	ANY(ptrace), ANY(wait4), ANY(getdents64), ANY(sigaltstack), ANY(readlink),
	ANY(rt_sigaction), ANY(getppid), ANY(kill), ANY(openat), ANY(close), ANY(read),
	ANY(sched_getaffinity), ANY(getrlimit), ANY(prlimit64), ANY(readlinkat), ANY(pipe2),
	ANY(fstat), ANY(newfstatat), ANY(uname), ANY(clone), ANY(setrlimit), ANY(lseek),
	ANY(madvise), ANY(mmap), ANY(mprotect), ANY(prctl), ANY(open), ANY(getdents),
#endif
	END,
};

static const struct seccomp_rule *const main_sets[] = {libc_rules, main_rules, disk_rules,
						       main_ioctl, NULL};
static const struct seccomp_rule *const restart_sets[] = {libc_rules, main_rules, disk_rules,
							  restart_rules, NULL};
static const struct seccomp_rule *const vcpu_sets[] = {libc_rules, vcpu_rules, NULL};
static const struct seccomp_rule *const disk_sets[] = {libc_rules, disk_rules, disk_own, NULL};
static const struct seccomp_rule *const prefetch_sets[] = {libc_rules, prefetch_rules, NULL};

/* clang-format on */

static const struct {
	const char *name;
	const struct seccomp_rule *const *sets;
} roles[SECCOMP_ROLE_COUNT] = {
    [SECCOMP_ROLE_MAIN] = {"main", main_sets},
    [SECCOMP_ROLE_MAIN_RESTART] = {"main-restart", restart_sets},
    [SECCOMP_ROLE_VCPU] = {"vcpu", vcpu_sets},
    [SECCOMP_ROLE_DISK] = {"disk-worker", disk_sets},
    [SECCOMP_ROLE_PREFETCH] = {"prefetch", prefetch_sets},
};

const char *seccomp_role_name(enum seccomp_role r)
{
	return (unsigned)r < SECCOMP_ROLE_COUNT ? roles[r].name : "?";
}

int seccomp_role_from_name(const char *name)
{
	for (int i = 0; i < SECCOMP_ROLE_COUNT; i++)
		if (!strcmp(name, roles[i].name))
			return i;
	return -1;
}

const struct seccomp_rule *const *seccomp_role_sets(enum seccomp_role r)
{
	return (unsigned)r < SECCOMP_ROLE_COUNT ? roles[r].sets : NULL;
}

size_t seccomp_set_len(const struct seccomp_rule *set)
{
	size_t n = 0;

	while (set[n].nr >= 0)
		n++;
	return n;
}
