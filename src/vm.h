/* struct vm: one machine built from host resources that main opened once
 * (struct vm_host): the KVM VM, its memory, buses, devices, vCPUs and event
 * loop. Creation is ordered and unwinds in reverse; vm_run() runs to a stop;
 * --on-reboot restart builds the next machine from the same vm_host and
 * opens no path again. */
#ifndef KITE_VM_H
#define KITE_VM_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "backends/disk_image.h"
#include "bus.h"
#include "compiler.h"
#include "config.h"
#include "device.h"
#include "error.h"
#include "evloop.h"
#include "guest_mem.h"
#include "hostfile.h"
#include "hostio.h"
#include "irq.h"
#include "kvm.h"
#include "machine.h"
#include "vcpu.h"
#include "vm_event.h"

struct board;
struct machine_virtio;

/* Host resources: opened once per kite process, before any machine, and
 * lent to each machine in turn. */
struct vm_host {
	struct kvm kvm;
	struct hostio *io;
	struct host_file image, kernel, initrd;
	struct disk_image disks[CONFIG_MAX_DISKS];
	int nr_disks;
};

struct vm {
	const struct vm_config *cfg;
	const struct vm_host *host;
	int vm_fd;
	int irqchip;
	struct irqchip irq;
	struct guest_mem gm;
	struct bus pio;
	struct bus mmio;
	struct evloop *ev; /* the process's loop, lent to this machine */
	struct device_list devices;
	struct machine m; /* what the wiring below sees */
	struct board *board;
	struct machine_virtio *virtio;
	int nr_vcpus;
	struct vcpu *vcpus;
	struct vcpu_env vcpu_env;

	/* Stop state: the first reason wins. */
	pthread_mutex_t lock;
	enum vm_stop_reason stop_reason;
	int stop_status;
	int stopping;
	/* Signal or Ctrl-A x, even after another stop reason came first: a
	 * user who stops kite while the guest reboots must not get a restart. */
	int user_stop;
	int user_stop_status;
	int nr_halted;
	int nr_started; /* vCPU threads past their gate */
	pthread_cond_t started_cond;
	int paused;
	/* vm_restore_cpu_state set every vCPU's registers: vm_create's entry
	 * state is gone and must not be set again (vm_start does not). */
	int cpu_restored;
	/* vm_restore_cpu_state advances the KVM clock by the wall-clock time
	 * since the save (a restore from a file; see vm_state_apply). */
	int clock_realtime;

	struct timespec t_start; /* main() entry, for --timestamps */
	struct vm_stopper stopper;
};

/* Opens /dev/kvm, maps the image, kernel and initrd the config names, and
 * opens and locks every disk image.
 * e gets one line and the blame. io is main's, already open. */
int vm_host_open(struct vm_host *h, const struct vm_config *cfg, struct hostio *io,
		 struct error *e) MUST_CHECK;
void vm_host_close(struct vm_host *h);

/* Builds a machine whose devices are served on `ev` (the process's loop,
 * which outlives the machine; hostio is attached to it already). */
int vm_create(struct vm *vm, const struct vm_config *cfg, const struct vm_host *host,
	      struct evloop *ev, const struct timespec *t_start, struct error *e) MUST_CHECK;
/* The machine a snapshot describes, built around guest RAM the caller
 * mapped from the memory file (mem: taken over, freed with the machine even
 * on failure): the devices as for a boot, no kernel or image loaded, vCPUs
 * created with no entry state. The caller (vm_snapshot.c) then restores
 * device and vCPU state; vm_resume then vm_start run it. */
int vm_create_restored(struct vm *vm, const struct vm_config *cfg, const struct vm_host *host,
		       struct evloop *ev, const struct timespec *t_start, struct guest_mem *mem,
		       struct error *e) MUST_CHECK;
/* Lets the vCPU threads into the guest. They exist since vm_create, named
 * "vcpu N" ("fc_vcpu N" in Firecracker mode), each under its filter. */
int vm_start(struct vm *vm) MUST_CHECK;
/* Waits for every vCPU thread (after a stop). */
void vm_join(struct vm *vm);
/* vm_start, the event loop until the VM stops, vm_join (tests). */
int vm_run(struct vm *vm) MUST_CHECK;
void vm_destroy(struct vm *vm);

/* Every vCPU out of KVM_RUN with its pending exit completed, then every
 * device paused (in creation order). Event-loop thread, or any thread that
 * is not a vCPU's. */
int vm_pause(struct vm *vm) MUST_CHECK;
void vm_resume(struct vm *vm);
/* Tells a kvmclock guest that its vCPUs were stopped by the host (its
 * soft-lockup watchdog then ignores the gap). Every vCPU out of KVM_RUN. */
void vm_kvmclock_paused(struct vm *vm);
/* The KVM half of a snapshot: the VM section (vm_state.h), u32 number of
 * vCPUs, then each vCPU's section (vcpu_state.h) in id order. Only while
 * paused or before start (-EBUSY). */
int vm_save_cpu_state(struct vm *vm, struct state_buf *out) MUST_CHECK;
/* Restores what vm_save_cpu_state wrote into a machine built from the same
 * config whose vCPUs have not started (-EBUSY otherwise; once only). Every
 * section is parsed and checked before KVM is touched: a refused blob
 * leaves the machine as vm_create made it. A failing ioctl after that
 * leaves it half restored: the caller destroys it. err gets one line. */
int vm_restore_cpu_state(struct vm *vm, const void *data, size_t len, char *err,
			 size_t errlen) MUST_CHECK;
/* Ctrl+Alt+Del through the i8042, as a keyboard would send it. */
int vm_ctrl_alt_del(struct vm *vm) MUST_CHECK;

/* The first reason wins: later requests (say a vCPU's triple fault while
 * the guest is powering off) only make sure everything stops. Returns 1
 * if this call set the reason. */
int vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status);
int vm_stopping(struct vm *vm);
/* Milliseconds since main() started. */
double vm_elapsed_ms(const struct vm *vm);

#endif
