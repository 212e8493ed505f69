/* The process around the machines: one event loop, the host console and the
 * host resources (opened once), the machine built from the command line, a
 * config file or the API, its restarts (--on-reboot restart), pause and
 * resume, and the exit status. main.c parses options and calls this; the
 * control API (src/api/) reaches it through struct api_ops. */
#ifndef KITE_VMM_H
#define KITE_VMM_H

#include <stdbool.h>
#include <time.h>

#include "api/router.h"
#include "api/server.h"
#include "compiler.h"
#include "config.h"
#include "error.h"
#include "evloop.h"
#include "hostio.h"
#include "metrics.h"
#include "vm.h"
#include "vmm_net.h"
#include "vmm_snapshot.h"

/* Documented in --help and README.md; scripts rely on these. */
enum {
	EXIT_OK = 0,
	EXIT_HOST_FAILURE = 1,
	EXIT_BAD_INPUT = 2,
	EXIT_GUEST_RESET = 3,
	EXIT_TRIPLE_FAULT = 4,
	EXIT_INTERNAL = 5,
	EXIT_GUEST_PANIC = 6,
};

enum vmm_state { VMM_NOT_STARTED, VMM_RUNNING, VMM_PAUSED };

struct vmm {
	struct vm_config *cfg;
	struct timespec t_start;
	struct evloop loop;
	bool loop_ready;
	struct hostio *io;
	struct vm_host host;
	bool host_open;
	struct vm vm;
	bool built;   /* vm holds a machine (running or stopped) */
	enum vmm_state state;
	/* The control API (--api-sock) and what it configured. */
	struct api_server *api;
	struct api_router router;
	/* A stop asked for while no machine runs (signal before boot). */
	bool stopped;
	int stop_status;
	/* Metrics and the Firecracker log target (src/metrics.c, log.c): the
	 * router's logger and metrics once they took effect. */
	struct metrics metrics;
	bool logger_applied;
	bool metrics_applied;
	/* Snapshots (vmm_snapshot.c): a restored machine's vCPUs start at its
	 * first resume; its working set is prefetched or recorded. */
	struct vmm_snap snap;
	/* With stopped: the exit status to end with (a failed snapshot load),
	 * or -1 for the signal's. */
	int exit_code;
	struct vmm_net net; /* the limiter PATCHes' view of this (vmm_net.c) */
};

/* The event loop, the host console, the config file (--config-file) and
 * the API socket (--api-sock); nothing of a guest yet. */
int vmm_open(struct vmm *v, struct vm_config *cfg, const struct timespec *t_start,
	     struct error *e) MUST_CHECK;
/* Whether the options describe a guest to start at once (otherwise the
 * API configures it and InstanceStart starts it). */
bool vmm_guest_given(const struct vmm *v);
/* Opens the host resources the config names and builds and starts the
 * machine (the command line's guest, or the API's InstanceStart). */
int vmm_start(struct vmm *v, struct error *e) MUST_CHECK;
/* Runs the loop until kite should exit; returns the exit status. */
int vmm_run(struct vmm *v);
/* Builds the machine from cfg->restore_path and cfg->restore_mem (kite run
 * --restore, PUT /snapshot/load), paused with its vCPUs not started, and
 * resumes it unless cfg->restore_paused. A failure leaves no machine. */
int vmm_restore(struct vmm *v, struct error *e) MUST_CHECK;
int vmm_pause(struct vmm *v) MUST_CHECK;
int vmm_resume(struct vmm *v) MUST_CHECK;
void vmm_close(struct vmm *v);

int vmm_blame_status(const struct error *e);

#endif
