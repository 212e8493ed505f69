/* VM construction in dependency order, the run loop, and teardown. */
#include "vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "arch/x86/board_devices.h"
#include "arch/x86/boot_raw.h"
#include "arch/x86/cpu.h"
#include "arch/x86/kernel.h"
#include "clock.h"
#include "log.h"
#include "machine_virtio.h"

#define TSS_ADDR 0xfffbd000ull
#define IDENTITY_MAP_ADDR 0xfffbc000ull

double vm_elapsed_ms(const struct vm *vm)
{
	return clock_elapsed_ms(&vm->t_start);
}

static void stopper_cb(void *ctx, enum vm_stop_reason reason, int status)
{
	vm_request_stop(ctx, reason, status);
}

int vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status)
{
	int first = 0;

	pthread_mutex_lock(&vm->lock);
	if (!vm->stopping) {
		vm->stop_reason = reason;
		vm->stop_status = status;
		__atomic_store_n(&vm->stopping, 1, __ATOMIC_SEQ_CST);
		first = 1;
	}
	if (reason == VM_STOP_USER && !vm->user_stop) {
		vm->user_stop = 1;
		vm->user_stop_status = status;
	}
	pthread_mutex_unlock(&vm->lock);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	if (vm->ev)
		ev_stop(vm->ev);
	return first;
}

int vm_stopping(struct vm *vm)
{
	return __atomic_load_n(&vm->stopping, __ATOMIC_SEQ_CST);
}

static int env_request_stop(void *ctx, enum vm_stop_reason reason, int status)
{
	return vm_request_stop(ctx, reason, status);
}

static int env_stopping(void *ctx)
{
	return vm_stopping(ctx);
}

static void vcpu_started(void *ctx, struct vcpu *v)
{
	struct vm *vm = ctx;
	int first;

	pthread_mutex_lock(&vm->lock);
	first = vm->nr_started++ == 0;
	pthread_cond_broadcast(&vm->started_cond);
	pthread_mutex_unlock(&vm->lock);
	if (first && vm->cfg->timestamps)
		log_report("timestamp", "vcpu%d entering the guest at %.3f ms", v->id,
			vm_elapsed_ms(vm));
}

static void vcpu_halted(void *ctx, struct vcpu *v)
{
	struct vm *vm = ctx;
	int all;

	log_debug("vm", "vcpu%d halted", v->id);
	pthread_mutex_lock(&vm->lock);
	all = ++vm->nr_halted == vm->nr_vcpus;
	pthread_mutex_unlock(&vm->lock);
	if (all)
		vm_request_stop(vm, VM_STOP_HALT, 0);
}

static enum gm_backing backing(enum huge_pages h)
{
	return h == HUGE_PAGES_2M ? GM_PAGES_HUGE_2M
	       : h == HUGE_PAGES_TRANSPARENT ? GM_PAGES_THP : GM_PAGES_4K;
}

static int too_few_huge_pages(const struct vm_config *cfg, struct error *e)
{
	uint64_t need = cfg->memory / GM_HUGE_2M, have = 0;

	if (gm_huge_pages_free("/proc/meminfo", &have) < 0 || have >= need)
		have = 0; /* unknown, or taken meanwhile: the whole count */
	return error_set(e, -ENOMEM, BLAME_INPUT,
			 "huge pages 2M: %llu MiB of guest RAM needs %llu free 2 MiB huge pages, "
			 "but the host has only %llu free (raise /proc/sys/vm/nr_hugepages by at "
			 "least %llu)", (unsigned long long)(cfg->memory >> 20),
			 (unsigned long long)need, (unsigned long long)have,
			 (unsigned long long)(need - have));
}

/* 2 MiB pages: the size must fit them, and the host must have enough free
 * (told up front, with the numbers; the mmap reservation is the real test). */
static int huge_pages_check(const struct vm_config *cfg, struct error *e)
{
	uint64_t need, have;

	if (cfg->huge_pages != HUGE_PAGES_2M)
		return 0;
	if (gm_huge_pages_needed(cfg->memory, &need))
		return error_set(e, -EINVAL, BLAME_INPUT,
				 "huge pages 2M: guest RAM (%llu KiB) must be a multiple of 2 MiB",
				 (unsigned long long)(cfg->memory >> 10));
	if (gm_huge_pages_free("/proc/meminfo", &have) == 0 && have < need)
		return too_few_huge_pages(cfg, e);
	return 0;
}

/* Guest RAM's regions as KVM memory slots (slot i = region i). */
static int register_memory(struct vm *vm, struct error *e)
{
	/* Diff snapshots: KVM logs the guest's writes, gm the ones kite makes
	 * (vm_dirty.c combines them). */
	int rc = vm->cfg->track_dirty_pages ? gm_dirty_enable(&vm->gm) : 0;

	if (rc)
		return error_set(e, rc, BLAME_HOST, "dirty page tracking: %s", strerror(-rc));
	for (int i = 0; i < vm->gm.nr_regions; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = (uint32_t)i,
			.flags = vm->cfg->track_dirty_pages ? KVM_MEM_LOG_DIRTY_PAGES : 0,
			.guest_phys_addr = vm->gm.regions[i].gpa,
			.memory_size = vm->gm.regions[i].size,
			.userspace_addr = (uint64_t)(uintptr_t)vm->gm.regions[i].host,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			return error_set(e, -errno, BLAME_HOST, "KVM_SET_USER_MEMORY_REGION: %s",
					 strerror(errno));
		}
	}
	return 0;
}

static int setup_memory(struct vm *vm, struct error *e)
{
	struct sysinfo si;
	int rc;

	/* A restore's RAM, mapped from its memory file by the caller. */
	if (vm->gm.base)
		return register_memory(vm, e);

	/* MAP_NORESERVE would let any size through and fail later, inside
	 * the guest; refuse up front what the host cannot back. */
	if (sysinfo(&si) == 0) {
		uint64_t host = ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
		if (vm->cfg->memory > host) {
			return error_set(e, -E2BIG, BLAME_INPUT,
					 "--memory: %llu MiB asked, but this host has %llu MiB of "
					 "RAM and swap", (unsigned long long)(vm->cfg->memory >> 20),
					 (unsigned long long)(host >> 20));
		}
	}
	rc = huge_pages_check(vm->cfg, e);
	if (rc)
		return rc;
	rc = gm_init_backed(&vm->gm, vm->cfg->memory, backing(vm->cfg->huge_pages));
	if (rc == -ENOMEM && vm->cfg->huge_pages == HUGE_PAGES_2M)
		return too_few_huge_pages(vm->cfg, e);
	/* Guest RAM is a memfd: sizing it counts against RLIMIT_FSIZE, which
	 * --rlimit fsize (or the jailer's) may have set below it. */
	if (rc == -EFBIG) {
		return error_set(e, rc, BLAME_INPUT,
				 "cannot allocate %llu MiB of guest RAM: the file size limit "
				 "(--rlimit fsize) is below it, and guest RAM is a memfd",
				 (unsigned long long)(vm->cfg->memory >> 20));
	}
	if (rc) {
		return error_set(e, rc, rc == -EINVAL ? BLAME_INPUT : BLAME_HOST,
				 "cannot allocate %llu MiB of guest RAM: %s",
				 (unsigned long long)(vm->cfg->memory >> 20), strerror(-rc));
	}
	return register_memory(vm, e);
}

static int setup_irqchip(struct vm *vm, struct error *e)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR) < 0) {
		return error_set(e, -errno, BLAME_HOST, "KVM_SET_TSS_ADDR: %s", strerror(errno));
	}
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &(uint64_t){IDENTITY_MAP_ADDR}) < 0)
		log_debug("vm", "KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	if (!vm->irqchip)
		return 0;
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		return error_set(e, -errno, BLAME_HOST, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		return error_set(e, -errno, BLAME_HOST, "KVM_CREATE_PIT2: %s", strerror(errno));
	}
	return 0;
}

/* Raw images: the image's bytes at --load, kite's tables for the mode. */
static int load_image(struct vm *vm, struct cpu_entry *entry, struct error *e)
{
	const struct vm_config *cfg = vm->cfg;
	int rc;

	/* The image was mapped already: what fails here is its place. */
	rc = boot_raw_place(&vm->gm, cfg->mode, &vm->host->image, cfg->load_addr, e->msg,
			    sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_INPUT);
	rc = cpu_write_tables(&vm->gm, cfg->mode);
	if (rc)
		return error_set(e, rc, BLAME_HOST, "cannot write GDT/page tables: %s",
				 strerror(-rc));
	memset(entry, 0, sizeof(*entry));
	entry->mode = cfg->mode;
	entry->rip = cfg->entry;
	entry->regs_set = cfg->regs_set;
	memcpy(entry->regs, cfg->regs, sizeof(entry->regs));
	if (cfg->mode != MODE_REAL && !(cfg->regs_set & (1u << GPR_RSP))) {
		/* A stack just below the image unless the user gave one. */
		entry->regs[GPR_RSP] = cfg->load_addr;
		entry->regs_set |= 1u << GPR_RSP;
	}
	return 0;
}

/* vCPU i's thread name: "vcpu i", or Firecracker's "fc_vcpu i" (Kata
 * Containers finds Firecracker's vCPU threads by this prefix). */
static const char *vcpu_thread_name(const struct vm *vm, int i, char name[24])
{
	snprintf(name, 24, "%s %d", vm->cfg->fc_mode ? "fc_vcpu" : "vcpu", i);
	return name;
}

static int setup_vcpus(struct vm *vm, const struct cpu_entry *entry, struct error *e)
{
	const struct vm_config *cfg = vm->cfg;
	char name[24];
	int rc;

	vm->vcpus = calloc((size_t)cfg->cpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return error_set(e, -ENOMEM, BLAME_HOST, "out of memory");
	for (int i = 0; i < cfg->cpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		rc = vcpu_create(v, vm->vm_fd, (size_t)vm->host->kvm.vcpu_mmap_size, i,
				 &vm->vcpu_env);
		if (rc)
			return error_set(e, rc, BLAME_HOST, "cannot create vCPU %d: %s", i,
					 strerror(-rc));
		vm->nr_vcpus = i + 1;
		/* Its thread gets ready (seccomp filter) while this one goes on. */
		rc = vcpu_spawn(v, vcpu_thread_name(vm, i, name));
		if (rc)
			return error_set(e, rc, BLAME_HOST, "cannot start vCPU %d's thread: %s", i,
					 strerror(-rc));
		/* A restored vCPU gets all of its state from the snapshot, its
		 * CPUID too: asking KVM for the host's here would cost a
		 * millisecond (every host CPUID traps on some hosts) for a
		 * table replaced right after. */
		if (!entry)
			continue;
		rc = cpu_set_cpuid(vm->host->kvm.fd, v->fd, i, cfg->cpus);
		/* A raw image starts every vCPU at its entry. A kernel starts
		 * on the BSP and wakes the others itself with INIT/SIPI, so
		 * its APs keep the reset state KVM gives them (not runnable
		 * before INIT and SIPI), as a PC's firmware leaves them. */
		if (!rc && (i == 0 || cfg->image))
			rc = cpu_set_entry(v->fd, entry);
		if (!rc && vm->irqchip)
			rc = cpu_set_lapic(v->fd);
		if (!rc && vm->irqchip && i > 0 && cfg->image)
			rc = cpu_set_runnable(v->fd);
		if (rc)
			return error_set(e, rc, BLAME_HOST, "cannot set up vCPU %d: %s", i,
					 strerror(-rc));
	}
	return 0;
}

/* --timestamps: where start-up time goes, phase by phase. */
static void stamp(struct vm *vm, const char *what)
{
	if (vm->cfg->timestamps)
		log_report("timestamp", "%s at %.3f ms", what, vm_elapsed_ms(vm));
}

/* Each --disk opened and locked once, for every machine of the process. */
static int create_vm_fd(struct vm *vm, struct error *e)
{
	/* EINTR: a signal (a kick of the machine torn down just before, a
	 * SIGCHLD) landed during the call; QEMU retries too. */
	do
		vm->vm_fd = ioctl(vm->host->kvm.fd, KVM_CREATE_VM, 0);
	while (vm->vm_fd < 0 && errno == EINTR);
	if (vm->vm_fd < 0)
		return error_set(e, -errno, BLAME_HOST, "KVM_CREATE_VM: %s", strerror(errno));
	vm->irq = (struct irqchip){vm->vm_fd, vm->irqchip};
	return 0;
}

static int setup_devices(struct vm *vm, struct error *e)
{
	int rc;

	vm->m = (struct machine){
		.cfg = vm->cfg, .gm = &vm->gm, .pio = &vm->pio, .mmio = &vm->mmio,
		.ev = vm->ev, .irq = &vm->irq, .io = vm->host->io, .devices = &vm->devices,
		.stopper = vm->stopper, .t_start = vm->t_start, .disks = vm->host->disks,
	};
	rc = board_create(&vm->m, &vm->board, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, BLAME_HOST);
	/* Disk paths and device counts come from the user. */
	rc = machine_virtio_create(&vm->m, &vm->virtio, e->msg, sizeof(e->msg));
	return rc ? error_blame(e, rc, error_blame_path(rc)) : 0;
}

static int load_guest(struct vm *vm, struct cpu_entry *entry, struct error *e)
{
	const struct vm_config *cfg = vm->cfg;
	struct kernel_boot kb = {
		.kernel = &vm->host->kernel,
		.initrd = cfg->initrd ? &vm->host->initrd : NULL,
		.cmdline = cfg->cmdline ? cfg->cmdline
			   : cfg->console == CONSOLE_VIRTIO ? KERNEL_DEFAULT_CMDLINE_HVC : NULL,
		.nr_cpus = cfg->cpus,
		.slots = vm->m.slots,
		.nr_slots = vm->m.nr_slots,
	};
	int rc;

	if (!cfg->kernel)
		return load_image(vm, entry, e);
	/* A kernel that does not fit or parse is the user's; running out of
	 * memory is the host's. */
	rc = kernel_load(&vm->gm, &kb, entry, e->msg, sizeof(e->msg));
	return rc ? error_blame(e, rc, rc == -ENOMEM ? BLAME_HOST : BLAME_INPUT) : 0;
}

static int create(struct vm *vm, const struct vm_config *cfg, const struct vm_host *host,
		  struct evloop *ev, const struct timespec *t_start, struct guest_mem *mem,
		  struct error *e)
{
	struct cpu_entry entry;
	int rc;

	memset(vm, 0, sizeof(*vm));
	vm->cfg = cfg;
	vm->host = host;
	vm->ev = ev;
	vm->vm_fd = -1;
	vm->gm.fd = -1;
	if (mem) {
		/* Ours from now on, freed with the machine even on failure. */
		vm->gm = *mem;
		memset(mem, 0, sizeof(*mem));
		mem->fd = -1;
	}
	vm->t_start = *t_start;
	vm->stopper = (struct vm_stopper){stopper_cb, vm};
	vm->vcpu_env = (struct vcpu_env){&vm->pio, &vm->mmio, &vm->gm, vm, vcpu_started,
					 vcpu_halted, env_request_stop, env_stopping};
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->started_cond, NULL);
	bus_init(&vm->pio, "pio");
	bus_init(&vm->mmio, "mmio");
	device_list_init(&vm->devices);
	vm->irqchip = cfg->irqchip == IRQCHIP_ON;

	rc = vcpu_signals_init();
	if (rc) {
		return error_set(e, rc, BLAME_HOST, "cannot install signal handler: %s",
				 strerror(-rc));
	}
	stamp(vm, "/dev/kvm checked");
	rc = create_vm_fd(vm, e);
	if (rc)
		return rc;
	/* Memory before the irqchip: the other order costs milliseconds here
	 * (HOST-NOTES.md). */
	stamp(vm, "VM created");
	rc = setup_memory(vm, e);
	if (rc)
		return rc;
	stamp(vm, "guest RAM mapped");
	rc = setup_irqchip(vm, e);
	if (rc)
		return rc;
	stamp(vm, "irqchip ready");
	rc = setup_devices(vm, e);
	if (rc)
		return rc;
	stamp(vm, "devices ready");
	if (mem) {
		/* The caller restores every vCPU's state: no entry state. */
		rc = setup_vcpus(vm, NULL, e);
		if (!rc)
			stamp(vm, "vCPUs created");
		return rc;
	}
	rc = load_guest(vm, &entry, e);
	if (rc)
		return rc;
	stamp(vm, cfg->kernel ? "kernel loaded" : "image loaded");
	rc = setup_vcpus(vm, &entry, e);
	if (!rc)
		stamp(vm, "vCPUs set up");
	return rc;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, const struct vm_host *host,
	      struct evloop *ev, const struct timespec *t_start, struct error *e)
{
	return create(vm, cfg, host, ev, t_start, NULL, e);
}

int vm_create_restored(struct vm *vm, const struct vm_config *cfg, const struct vm_host *host,
		       struct evloop *ev, const struct timespec *t_start,
		       struct guest_mem *mem, struct error *e)
{
	return create(vm, cfg, host, ev, t_start, mem, e);
}

int vm_start(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		char name[24];
		int rc;

		rc = vcpu_start(&vm->vcpus[i], vcpu_thread_name(vm, i, name));
		if (rc) {
			log_err("vm", "cannot start vCPU %d: %s", i, strerror(-rc));
			vm_request_stop(vm, VM_STOP_HOST_ERROR, 0);
			return rc;
		}
	}
	/* Every thread past its gate before the caller goes on: what comes
	 * next is the main thread's seccomp filter, whose load holds up a
	 * thread woken meanwhile (0.15 ms here, against 0.03). At most a
	 * second: a thread the host does not schedule does not hold kite. */
	pthread_mutex_lock(&vm->lock);
	if (vm->nr_started < vm->nr_vcpus) {
		struct timespec until;

		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		while (vm->nr_started < vm->nr_vcpus && !vm->stopping &&
		       pthread_cond_timedwait(&vm->started_cond, &vm->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

void vm_join(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(&vm->vcpus[i]);
}

int vm_run(struct vm *vm)
{
	int rc = vm_start(vm);

	if (!rc) {
		rc = ev_run(vm->ev);
		if (rc) {
			log_err("vm", "event loop failed: %s", strerror(-rc));
			vm_request_stop(vm, VM_STOP_HOST_ERROR, 0);
		}
	}
	vm_join(vm);
	return rc;
}

/* Tells a guest with kvmclock that its vCPUs were stopped by the host: its
 * soft-lockup watchdog then ignores the gap at resume instead of firing.
 * Every vCPU is out of KVM_RUN here, as the ioctl wants. EINVAL: the guest
 * has not set up kvmclock (raw images), nothing to tell. */
void vm_kvmclock_paused(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (ioctl(vm->vcpus[i].fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
			log_warn("vm", "vcpu%d: KVM_KVMCLOCK_CTRL: %s", i, strerror(errno));
}

int vm_pause(struct vm *vm)
{
	int rc;

	if (vm->paused)
		return 0;
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_pause(&vm->vcpus[i]);
	if (vm_stopping(vm)) {
		vm_resume(vm);
		return -ESHUTDOWN;
	}
	vm_kvmclock_paused(vm);
	rc = device_list_pause(&vm->devices);
	if (rc) {
		for (int i = 0; i < vm->nr_vcpus; i++)
			vcpu_resume(&vm->vcpus[i]);
		return rc;
	}
	vm->paused = 1;
	return 0;
}

int vm_ctrl_alt_del(struct vm *vm)
{
	return board_ctrl_alt_del(vm->board);
}

void vm_resume(struct vm *vm)
{
	device_list_resume(&vm->devices);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_resume(&vm->vcpus[i]);
	vm->paused = 0;
}

void vm_destroy(struct vm *vm)
{
	/* Reverse of vm_create: nothing may run once its fds close. */
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(&vm->vcpus[i]);
	free(vm->vcpus);
	vm->vcpus = NULL;
	vm->nr_vcpus = 0;
	/* Devices before RAM: in-flight disk I/O still lands in guest memory. */
	machine_virtio_destroy(vm->virtio);
	vm->virtio = NULL;
	board_destroy(vm->board);
	vm->board = NULL;
	device_list_destroy(&vm->devices);
	if (vm->host)
		hostio_machine_gone(vm->host->io);
	bus_free(&vm->mmio);
	bus_free(&vm->pio);
	/* The VM before its RAM: unmapping RAM that is still a memory slot
	 * makes KVM zap the slot page by page (a millisecond per GiB);
	 * once the VM is gone the unmap is only the host's. */
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	vm->vm_fd = -1;
	gm_free(&vm->gm);
	pthread_cond_destroy(&vm->started_cond);
	pthread_mutex_destroy(&vm->lock);
}
