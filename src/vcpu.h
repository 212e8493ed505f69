/* vCPU threads: the KVM_RUN loop, stop kicks by signal, and the pure exit
 * dispatch that unit tests drive with hand-made struct kvm_run. */
#ifndef KITE_VCPU_H
#define KITE_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "compiler.h"
#include "guest_mem.h"
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

/* Exit counters for metrics: how many exits of each kind, and a log2
 * histogram of the nanoseconds kite spent handling them (bucket k counts
 * [2^k, 2^(k+1)) ns, bucket 0 also 0 ns, the last everything above). One
 * writer (the vCPU thread), read with relaxed atomics by the event loop. */
enum vcpu_exit_kind {
	VCPU_EXIT_IO_IN,
	VCPU_EXIT_IO_OUT,
	VCPU_EXIT_MMIO_READ,
	VCPU_EXIT_MMIO_WRITE,
	VCPU_EXIT_HLT,
	VCPU_EXIT_SHUTDOWN,
	VCPU_EXIT_SYSTEM_EVENT,
	VCPU_EXIT_INTR,
	VCPU_EXIT_FAIL, /* failed entry, internal error */
	VCPU_EXIT_OTHER,
	VCPU_EXIT_KINDS
};
#define VCPU_EXIT_HIST 24

struct vcpu_exit_stats {
	uint64_t count[VCPU_EXIT_KINDS];
	uint64_t hist[VCPU_EXIT_HIST];
	uint64_t ns_sum;
};

enum vcpu_exit_kind vcpu_exit_kind(const struct kvm_run *run);
const char *vcpu_exit_kind_name(enum vcpu_exit_kind k); /* "io_in", ... */
unsigned vcpu_exit_hist_bucket(uint64_t ns);

struct vcpu;

/* What a vCPU thread may reach: the buses, guest memory (for the register
 * dump) and the VM's stop state through callbacks. No struct vm. */
struct vcpu_env {
	struct bus *pio;
	struct bus *mmio;
	const struct guest_mem *gm;
	void *ctx;
	void (*started)(void *ctx, struct vcpu *v);
	void (*halted)(void *ctx, struct vcpu *v);
	/* Returns 1 when this call set the VM's stop reason. */
	int (*request_stop)(void *ctx, enum vm_stop_reason reason, int status);
	int (*stopping)(void *ctx);
};

/* A vCPU's life. RUNNING covers being inside KVM_RUN and handling an exit;
 * PAUSED means outside KVM_RUN with every pending PIO/MMIO exit completed
 * (KVM's rule before its state may be read or changed); EXITED means the
 * thread ended (halted, or the VM stopped). */
enum vcpu_state { VCPU_CREATED, VCPU_RUNNING, VCPU_PAUSED, VCPU_EXITED };

/* A spawned thread names itself and loads its seccomp filter, then waits
 * here until vcpu_start opens the gate (or vcpu_join aborts it). */
enum vcpu_gate { VCPU_GATE_CLOSED, VCPU_GATE_OPEN, VCPU_GATE_ABORT };

struct vcpu {
	int id;
	int fd;
	struct kvm_run *run;
	size_t run_size;
	pthread_t thread;
	bool spawned; /* the thread exists (it may wait at the gate) */
	enum vcpu_gate gate; /* OPEN while spawned: let into the guest */
	bool affinity_set; /* the thread restores `affinity` first (vcpu_spawn) */
	cpu_set_t affinity;
	const struct vcpu_env *env;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vcpu_state state;
	bool pause_req;
	uint64_t exits;
	uint64_t io_exits;
	uint64_t mmio_exits;
	struct vcpu_exit_stats xstats;
	char name[16]; /* the thread's, set by itself before its seccomp filter */
};

/* Creates vCPU `id` of the VM and maps its kvm_run. */
int vcpu_create(struct vcpu *v, int vm_fd, size_t run_size, int id,
		const struct vcpu_env *env) MUST_CHECK;
/* Creates the thread, named `name` (at most 15 characters are kept): it
 * gets ready (name, seccomp filter) while the caller goes on setting the
 * machine up, and waits for vcpu_start before it enters the guest. */
int vcpu_spawn(struct vcpu *v, const char *name) MUST_CHECK;
/* Lets the thread into the guest (spawning it first if need be). */
int vcpu_start(struct vcpu *v, const char *name) MUST_CHECK;
/* Makes a running KVM_RUN return; safe from any thread. */
void vcpu_kick(struct vcpu *v);
/* Waits until the vCPU is PAUSED (or EXITED, or the VM stops). Any thread
 * but the vCPU's own. */
void vcpu_pause(struct vcpu *v);
void vcpu_resume(struct vcpu *v);
enum vcpu_state vcpu_get_state(struct vcpu *v);
void vcpu_join(struct vcpu *v);
void vcpu_destroy(struct vcpu *v);
/* Records one handled exit (the vCPU thread; tests). */
void vcpu_account_exit(struct vcpu *v, enum vcpu_exit_kind k, uint64_t ns);
/* A consistent-enough copy of the counters, from any thread. */
void vcpu_exit_stats_read(const struct vcpu *v, struct vcpu_exit_stats *out);
/* Installs the no-op signal handler used for kicks (once per process). */
int vcpu_signals_init(void) MUST_CHECK;

#endif
