/* vCPU threads: the KVM_RUN loop, stop kicks by signal, and the pure exit
 * dispatch that unit tests drive with hand-made struct kvm_run. */
#ifndef KITE_VCPU_H
#define KITE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "compiler.h"
#include "vm_event.h"

enum exit_action {
	EXIT_CONTINUE, /* run again */
	EXIT_HALTED,   /* this vCPU halted (no in-kernel irqchip) */
	EXIT_STOP,     /* the VM must stop: reason/status say why */
};

struct exit_outcome {
	enum exit_action action;
	enum vm_stop_reason reason;
	int status;
	const char *what; /* short description for the log, or NULL */
	uint64_t detail;  /* exit-specific value worth printing */
};

/* What the dispatcher may touch: the two buses and the size of the run
 * mapping (to bound io.data_offset). */
struct exit_env {
	struct bus *pio;
	struct bus *mmio;
	size_t run_size;
};

struct exit_outcome vcpu_handle_exit(const struct exit_env *env, struct kvm_run *run);

struct vm;

struct vcpu {
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	int thread_started;
	struct vm *vm;
	uint64_t exits;
	uint64_t io_exits;
	uint64_t mmio_exits;
};

int vcpu_create(struct vm *vm, struct vcpu *v, int id) MUST_CHECK;
int vcpu_start(struct vcpu *v) MUST_CHECK;
/* Makes a running KVM_RUN return; safe from any thread. */
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);
/* Installs the no-op signal handler used for kicks (once per process). */
int vcpu_signals_init(void) MUST_CHECK;

#endif
