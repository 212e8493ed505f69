/* struct vm: the KVM VM, its memory, buses, devices, vCPUs and event loop.
 * Creation is ordered and unwinds in reverse; vm_run() runs to a stop. */
#ifndef KITE_VM_H
#define KITE_VM_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "bus.h"
#include "compiler.h"
#include "config.h"
#include "evloop.h"
#include "guest_mem.h"
#include "hostio.h"
#include "irq.h"
#include "kvm.h"
#include "vcpu.h"
#include "vm_event.h"

struct platform;
struct vm_virtio;

struct vm {
	const struct vm_config *cfg;
	struct kvm kvm;
	int vm_fd;
	int irqchip;
	struct irqchip irq;
	struct hostio *io; /* main's, shared by every machine of the process */
	struct guest_mem gm;
	struct bus pio;
	struct bus mmio;
	struct evloop ev;
	int ev_ready;
	struct platform *plat;
	struct vm_virtio *virtio;
	int nr_vcpus;
	struct vcpu *vcpus;

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
	int nr_started;

	struct timespec t_start; /* main() entry, for --timestamps */
	struct vm_stopper stopper;
};

/* err gets one line for the user; the return value says whose fault:
 * -EINVAL/-E2BIG/-ENOENT... for bad host input, others for host failure. */
int vm_create(struct vm *vm, const struct vm_config *cfg, struct hostio *io,
	      const struct timespec *t_start, char *err, size_t errlen) MUST_CHECK;
/* Starts the vCPUs and runs the event loop until the VM stops. */
int vm_run(struct vm *vm) MUST_CHECK;
void vm_destroy(struct vm *vm);

/* The first reason wins: later requests (say a vCPU's triple fault while
 * the guest is powering off) only make sure everything stops. Returns 1
 * if this call set the reason. */
int vm_request_stop(struct vm *vm, enum vm_stop_reason reason, int status);
int vm_stopping(struct vm *vm);
void vm_vcpu_started(struct vm *vm, struct vcpu *v);
void vm_vcpu_halted(struct vm *vm, struct vcpu *v);
/* Milliseconds since main() started. */
double vm_elapsed_ms(const struct vm *vm);

#endif
