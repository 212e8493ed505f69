/* vCPU threads: KVM_RUN, exit dispatch, and being stopped. A vCPU thread
 * only handles register-level device accesses; device I/O happens on the
 * event-loop thread. */
#include "vcpu.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "arch/x86/cpu.h"
#include "clock.h"
#include "log.h"
#include "sandbox/seccomp.h"

#define SIG_VCPU_KICK SIGUSR1

static struct exit_outcome outcome(enum exit_action a, enum vm_stop_reason r, const char *what,
				   uint64_t detail)
{
	return (struct exit_outcome){a, r, 0, what, detail};
}

static struct exit_outcome handle_io(const struct exit_env *env, struct kvm_run *run)
{
	uint32_t size = run->io.size, count = run->io.count;
	uint64_t total, end;
	uint8_t *data;

	/* KVM fills these, but a bad value would make us touch memory past
	 * the run mapping, so check rather than trust. */
	if ((size != 1 && size != 2 && size != 4) ||
	    __builtin_mul_overflow((uint64_t)size, (uint64_t)count, &total) ||
	    __builtin_add_overflow(run->io.data_offset, total, &end) || end > env->run_size)
		return outcome(EXIT_STOP, VM_STOP_INTERNAL, "malformed KVM_EXIT_IO", run->io.port);
	data = (uint8_t *)run + run->io.data_offset;
	/* rep ins/outs: count accesses of size bytes each to one port. */
	for (uint32_t i = 0; i < count; i++)
		bus_access(env->pio, run->io.port, data + (size_t)i * size, size,
			   run->io.direction == KVM_EXIT_IO_OUT);
	return outcome(EXIT_CONTINUE, VM_STOP_NONE, NULL, 0);
}

static struct exit_outcome handle_system_event(struct kvm_run *run)
{
	switch (run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		return outcome(EXIT_STOP, VM_STOP_POWEROFF, "system event: shutdown", 0);
	case KVM_SYSTEM_EVENT_RESET:
		return outcome(EXIT_STOP, VM_STOP_RESET, "system event: reset", 0);
	case KVM_SYSTEM_EVENT_CRASH:
		return outcome(EXIT_STOP, VM_STOP_PANIC, "system event: crash", 0);
	default:
		return outcome(EXIT_STOP, VM_STOP_INTERNAL, "unknown system event",
			       run->system_event.type);
	}
}

struct exit_outcome vcpu_handle_exit(const struct exit_env *env, struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(env, run);
	case KVM_EXIT_MMIO: {
		uint32_t len = run->mmio.len;

		if (len == 0 || len > sizeof(run->mmio.data))
			return outcome(EXIT_STOP, VM_STOP_INTERNAL, "malformed KVM_EXIT_MMIO",
				       run->mmio.phys_addr);
		bus_access(env->mmio, run->mmio.phys_addr, run->mmio.data, len,
			   run->mmio.is_write);
		return outcome(EXIT_CONTINUE, VM_STOP_NONE, NULL, 0);
	}
	case KVM_EXIT_HLT:
		return outcome(EXIT_HALTED, VM_STOP_HALT, NULL, 0);
	case KVM_EXIT_SHUTDOWN:
		return outcome(EXIT_STOP, VM_STOP_TRIPLE_FAULT, "triple fault (KVM_EXIT_SHUTDOWN)", 0);
	case KVM_EXIT_FAIL_ENTRY:
		return outcome(EXIT_STOP, VM_STOP_INTERNAL,
			       "KVM_EXIT_FAIL_ENTRY, hardware entry failure reason",
			       run->fail_entry.hardware_entry_failure_reason);
	case KVM_EXIT_INTERNAL_ERROR:
		return outcome(EXIT_STOP, VM_STOP_INTERNAL,
			       run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
				       ? "emulation failure: KVM cannot emulate this instruction"
				       : "KVM internal error, suberror",
			       run->internal.suberror);
	case KVM_EXIT_SYSTEM_EVENT:
		return handle_system_event(run);
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return outcome(EXIT_CONTINUE, VM_STOP_NONE, NULL, 0);
	default:
		return outcome(EXIT_STOP, VM_STOP_INTERNAL, "unexpected KVM exit reason",
			       run->exit_reason);
	}
}

enum vcpu_exit_kind vcpu_exit_kind(const struct kvm_run *run)
{
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return run->io.direction == KVM_EXIT_IO_OUT ? VCPU_EXIT_IO_OUT : VCPU_EXIT_IO_IN;
	case KVM_EXIT_MMIO:
		return run->mmio.is_write ? VCPU_EXIT_MMIO_WRITE : VCPU_EXIT_MMIO_READ;
	case KVM_EXIT_HLT:
		return VCPU_EXIT_HLT;
	case KVM_EXIT_SHUTDOWN:
		return VCPU_EXIT_SHUTDOWN;
	case KVM_EXIT_SYSTEM_EVENT:
		return VCPU_EXIT_SYSTEM_EVENT;
	case KVM_EXIT_INTR:
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		return VCPU_EXIT_INTR;
	case KVM_EXIT_FAIL_ENTRY:
	case KVM_EXIT_INTERNAL_ERROR:
		return VCPU_EXIT_FAIL;
	default:
		return VCPU_EXIT_OTHER;
	}
}

const char *vcpu_exit_kind_name(enum vcpu_exit_kind k)
{
	static const char *const names[VCPU_EXIT_KINDS] = {
		[VCPU_EXIT_IO_IN] = "io_in",
		[VCPU_EXIT_IO_OUT] = "io_out",
		[VCPU_EXIT_MMIO_READ] = "mmio_read",
		[VCPU_EXIT_MMIO_WRITE] = "mmio_write",
		[VCPU_EXIT_HLT] = "hlt",
		[VCPU_EXIT_SHUTDOWN] = "shutdown",
		[VCPU_EXIT_SYSTEM_EVENT] = "system_event",
		[VCPU_EXIT_INTR] = "intr",
		[VCPU_EXIT_FAIL] = "fail",
		[VCPU_EXIT_OTHER] = "other",
	};
	return (unsigned)k < VCPU_EXIT_KINDS ? names[k] : "other";
}

unsigned vcpu_exit_hist_bucket(uint64_t ns)
{
	unsigned b = ns ? 63u - (unsigned)__builtin_clzll(ns) : 0;

	return b < VCPU_EXIT_HIST ? b : VCPU_EXIT_HIST - 1;
}

/* Single writer: a relaxed load and store is all an increment needs. */
static void bump(uint64_t *p, uint64_t by)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + by, __ATOMIC_RELAXED);
}

void vcpu_account_exit(struct vcpu *v, enum vcpu_exit_kind k, uint64_t ns)
{
	struct vcpu_exit_stats *x = &v->xstats;

	bump(&x->count[(unsigned)k < VCPU_EXIT_KINDS ? k : VCPU_EXIT_OTHER], 1);
	bump(&x->hist[vcpu_exit_hist_bucket(ns)], 1);
	bump(&x->ns_sum, ns);
}

void vcpu_exit_stats_read(const struct vcpu *v, struct vcpu_exit_stats *out)
{
	const struct vcpu_exit_stats *x = &v->xstats;

	for (int i = 0; i < VCPU_EXIT_KINDS; i++)
		out->count[i] = __atomic_load_n(&x->count[i], __ATOMIC_RELAXED);
	for (int i = 0; i < VCPU_EXIT_HIST; i++)
		out->hist[i] = __atomic_load_n(&x->hist[i], __ATOMIC_RELAXED);
	out->ns_sum = __atomic_load_n(&x->ns_sum, __ATOMIC_RELAXED);
}

static void kick_handler(int sig)
{
	(void)sig;
}

int vcpu_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: KVM_RUN must return -EINTR. */
	if (sigaction(SIG_VCPU_KICK, &sa, NULL) < 0)
		return -errno;
	return 0;
}

int vcpu_create(struct vcpu *v, int vm_fd, size_t run_size, int id, const struct vcpu_env *env)
{
	memset(v, 0, sizeof(*v));
	v->id = id;
	v->env = env;
	v->state = VCPU_CREATED;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->cond, NULL);
	v->fd = ioctl(vm_fd, KVM_CREATE_VCPU, id);
	if (v->fd < 0)
		return -errno;
	v->run_size = run_size;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		int e = -errno;
		close(v->fd);
		v->fd = -1;
		v->run = NULL;
		return e;
	}
	return 0;
}

static void report(struct vcpu *v, const struct exit_outcome *o)
{
	char prefix[16];

	snprintf(prefix, sizeof(prefix), "vcpu%d", v->id);
	if (o->what)
		log_msg(o->reason == VM_STOP_POWEROFF || o->reason == VM_STOP_RESET ? LOG_INFO
										  : LOG_ERROR,
			prefix, "%s (0x%llx)", o->what, (unsigned long long)o->detail);
	if (o->reason == VM_STOP_INTERNAL || o->reason == VM_STOP_TRIPLE_FAULT) {
		struct kvm_run *run = v->run;

		if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
		    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
		    (run->emulation_failure.flags &
		     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
			char hex[3 * 15 + 1] = "";
			unsigned n = MIN(run->emulation_failure.insn_size, 15u);

			for (unsigned i = 0; i < n; i++)
				snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ",
					 run->emulation_failure.insn_bytes[i]);
			log_err(prefix, "instruction bytes reported by KVM: %s", hex);
		}
		cpu_dump(v->fd, v->env->gm, prefix);
	}
}

static void set_state(struct vcpu *v, enum vcpu_state s)
{
	pthread_mutex_lock(&v->lock);
	v->state = s;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

/* After KVM_RUN returned -EINTR: any PIO/MMIO exit handled before has been
 * completed by that call, so this is where a pause may take the vCPU. */
static void maybe_park(struct vcpu *v)
{
	const struct vcpu_env *env = v->env;

	pthread_mutex_lock(&v->lock);
	if (v->pause_req && !env->stopping(env->ctx)) {
		v->state = VCPU_PAUSED;
		pthread_cond_broadcast(&v->cond);
		while (v->pause_req && !env->stopping(env->ctx))
			pthread_cond_wait(&v->cond, &v->lock);
		v->state = VCPU_RUNNING;
		pthread_cond_broadcast(&v->cond);
	}
	pthread_mutex_unlock(&v->lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	const struct vcpu_env *env = v->env;
	struct exit_env xenv = {env->pio, env->mmio, v->run_size};
	sigset_t set;
	int rc;

	/* Named first, so that a seccomp report names it; then its own
	 * filter before the guest runs (without it, no KVM_RUN). Both while
	 * the main thread still sets the machine up: then the gate. */
	if (v->affinity_set)
		sched_setaffinity(0, sizeof(v->affinity), &v->affinity);
	if (v->name[0])
		prctl(PR_SET_NAME, v->name, 0, 0, 0);
	rc = seccomp_enter(SECCOMP_ROLE_VCPU);
	pthread_mutex_lock(&v->lock);
	while (v->gate == VCPU_GATE_CLOSED)
		pthread_cond_wait(&v->cond, &v->lock);
	pthread_mutex_unlock(&v->lock);
	if (v->gate == VCPU_GATE_ABORT) {
		set_state(v, VCPU_EXITED);
		return NULL;
	}
	if (rc) {
		log_err("vcpu", "vCPU %d: cannot load its seccomp filter: %s", v->id, strerror(-rc));
		env->request_stop(env->ctx, VM_STOP_HOST_ERROR, 0);
	}
	sigemptyset(&set);
	sigaddset(&set, SIG_VCPU_KICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	env->started(env->ctx, v);

	while (!rc && !env->stopping(env->ctx)) {
		struct exit_outcome o;
		enum vcpu_exit_kind kind;
		uint64_t t0;

		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				/* Reset before looking at pause_req: a pause
				 * requested after the look sets it again. */
				__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
				maybe_park(v);
				continue;
			}
			log_err("vcpu", "KVM_RUN on vCPU %d failed: %s", v->id, strerror(errno));
			env->request_stop(env->ctx, VM_STOP_HOST_ERROR, 0);
			break;
		}
		v->exits++;
		if (v->run->exit_reason == KVM_EXIT_IO)
			v->io_exits++;
		else if (v->run->exit_reason == KVM_EXIT_MMIO)
			v->mmio_exits++;
		/* Only the dispatch is timed: two vDSO clock reads per exit. */
		kind = vcpu_exit_kind(v->run);
		t0 = clock_mono_ns();
		o = vcpu_handle_exit(&xenv, v->run);
		vcpu_account_exit(v, kind, clock_mono_ns() - t0);
		if (o.action == EXIT_CONTINUE)
			continue;
		if (o.action == EXIT_HALTED) {
			env->halted(env->ctx, v);
			break;
		}
		/* The first stop reason wins. If the VM was already stopping
		 * (the guest powered off on another vCPU), this exit changes
		 * nothing: say so quietly instead of reporting an error. The
		 * main thread joins this thread before it prints the outcome. */
		if (env->request_stop(env->ctx, o.reason, o.status))
			report(v, &o);
		else
			log_info("vcpu", "vCPU %d: %s after the VM began stopping; ignored", v->id,
				 o.what ? o.what : "exit");
		break;
	}
	set_state(v, VCPU_EXITED);
	return NULL;
}

/* With a seccomp filter to load (it costs the kernel a tenth of a
 * millisecond or more), the new thread starts on another CPU than this one,
 * where there is one: it gets ready while this thread goes on setting the
 * machine up, instead of waiting for it to block. Its first act is to take
 * back the affinity it inherited (sched_setaffinity: before the main
 * thread's filter only, so a restarted machine's vCPUs start as usual).
 * False: start it as usual. */
static bool away_from_here(struct vcpu *v, pthread_attr_t *attr)
{
	cpu_set_t away;
	int cpu = sched_getcpu();

	if (!seccomp_before_main() || cpu < 0 ||
	    sched_getaffinity(0, sizeof(v->affinity), &v->affinity) < 0)
		return false;
	away = v->affinity;
	CPU_CLR(cpu, &away);
	if (!CPU_COUNT(&away) || pthread_attr_init(attr))
		return false;
	if (pthread_attr_setaffinity_np(attr, sizeof(away), &away)) {
		pthread_attr_destroy(attr);
		return false;
	}
	return true;
}

int vcpu_spawn(struct vcpu *v, const char *name)
{
	sigset_t set, old;
	pthread_attr_t attr;
	int rc;

	if (v->spawned)
		return 0;
	v->gate = VCPU_GATE_CLOSED;
	v->affinity_set = away_from_here(v, &attr);
	/* Threads start with the kick signal blocked and unblock it once
	 * they run, so a kick never hits a thread before its handler matters. */
	sigemptyset(&set);
	sigaddset(&set, SIG_VCPU_KICK);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	snprintf(v->name, sizeof(v->name), "%s", name ? name : "");
	rc = pthread_create(&v->thread, v->affinity_set ? &attr : NULL, vcpu_thread, v);
	if (v->affinity_set)
		pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return -rc;
	v->spawned = true;
	return 0;
}

int vcpu_start(struct vcpu *v, const char *name)
{
	int rc = vcpu_spawn(v, name);

	if (rc)
		return rc;
	pthread_mutex_lock(&v->lock);
	v->state = VCPU_RUNNING;
	/* Under the lock, before the thread can run: a kick (which takes the
	 * lock) after this signals it; one before finds the gate closed and
	 * immediate_exit set, which the first KVM_RUN honours. */
	v->gate = VCPU_GATE_OPEN;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

/* The thread exists and was let into the guest. */
static bool let_in(const struct vcpu *v)
{
	return v->spawned && v->gate == VCPU_GATE_OPEN;
}

void vcpu_kick(struct vcpu *v)
{
	if (!v->run)
		return;
	__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
	/* A paused vCPU waits on the condition, not in KVM_RUN. */
	pthread_mutex_lock(&v->lock);
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	if (let_in(v))
		pthread_kill(v->thread, SIG_VCPU_KICK);
}

void vcpu_pause(struct vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->pause_req = true;
	pthread_mutex_unlock(&v->lock);
	if (!let_in(v))
		return;
	vcpu_kick(v);
	pthread_mutex_lock(&v->lock);
	while (v->state == VCPU_RUNNING && !v->env->stopping(v->env->ctx))
		pthread_cond_wait(&v->cond, &v->lock);
	pthread_mutex_unlock(&v->lock);
}

void vcpu_resume(struct vcpu *v)
{
	pthread_mutex_lock(&v->lock);
	v->pause_req = false;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
}

enum vcpu_state vcpu_get_state(struct vcpu *v)
{
	enum vcpu_state s;

	pthread_mutex_lock(&v->lock);
	s = v->state;
	pthread_mutex_unlock(&v->lock);
	return s;
}

void vcpu_join(struct vcpu *v)
{
	if (!v->spawned)
		return;
	pthread_mutex_lock(&v->lock);
	if (v->gate == VCPU_GATE_CLOSED) /* spawned, never started */
		v->gate = VCPU_GATE_ABORT;
	pthread_cond_broadcast(&v->cond);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->thread, NULL);
	v->spawned = false;
}

void vcpu_destroy(struct vcpu *v)
{
	vcpu_join(v);
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	v->run = NULL;
	v->fd = -1;
	pthread_cond_destroy(&v->cond);
	pthread_mutex_destroy(&v->lock);
}
