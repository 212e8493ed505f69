/* Metrics: the running machine's counters (its devices' struct device_stats,
 * every vCPU's exits per kind and exit-handling histogram, the logger's
 * dropped lines) written as Firecracker writes them, one JSON object per
 * line to the metrics path (a file or FIFO): "utc_timestamp_ms" first, then
 * one object per component, counters as deltas since the last line. Lines
 * go out every METRICS_PERIOD_S seconds (a timerfd on the process's event
 * loop) and on FlushMetrics. The same counters, cumulative, in Prometheus's
 * text exposition format serve GET /kite/metrics.
 *
 * Components (README "Metrics and logs"): "vcpu" (Firecracker's exit_*
 * counters, all vCPUs), "block" (every virtio-blk summed) and
 * "block_<device>" per disk with Firecracker's counter names where kite has
 * the same counter, "<device>" for every other device, "kite_vcpu<N>" per
 * vCPU (exit_<kind> and the log2 histogram exit_handling_ns_log2), and
 * "logger". */
#ifndef KITE_METRICS_H
#define KITE_METRICS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "evloop.h"
#include "vcpu.h"

#define METRICS_PERIOD_S 60

/* Where the counters come from; devices NULL when no machine runs. */
struct metrics_source {
	struct device_list *devices;
	struct vcpu *vcpus;
	int nr_vcpus;
	uint64_t missed_log;
	uint64_t missed_metrics;
};

/* The cumulative counters as one JSON object of components. */
json_t *metrics_snapshot(const struct metrics_source *s);
/* cur minus prev, counter by counter (arrays element by element); gauges
 * as they are; a counter below its previous value (a machine built
 * afresh) counts from zero. prev may be NULL. A new object. */
json_t *metrics_delta(const json_t *prev, const json_t *cur);
/* {"utc_timestamp_ms": utc_ms, <delta's components>} and a newline. */
char *metrics_line(const json_t *delta, uint64_t utc_ms);
/* The Prometheus text exposition (version 0.0.4) of the cumulative
 * counters. malloc'd, NULL on -ENOMEM. */
char *metrics_prometheus(const struct metrics_source *s);

struct metrics {
	bool ready;   /* metrics_init succeeded: close has work to do */
	int fd;	      /* the metrics path, -1 until one is configured */
	int timer_fd; /* METRICS_PERIOD_S */
	struct evloop *ev;
	json_t *prev; /* what the last line counted from */
	uint64_t missed;
	/* Fills the source (the VMM's running machine). */
	void (*source)(void *ctx, struct metrics_source *out);
	void *ctx;
};

/* The timer on ev; nothing is written until metrics_open. */
int metrics_init(struct metrics *m, struct evloop *ev,
		 void (*source)(void *ctx, struct metrics_source *out), void *ctx) MUST_CHECK;
/* The metrics path (see log_open_path); -errno. */
int metrics_open(struct metrics *m, const char *path) MUST_CHECK;
/* Writes one line now. -ENODEV without a path; a FIFO without room for
 * the whole line gets none of it (-EAGAIN, counted as missed). */
int metrics_flush(struct metrics *m) MUST_CHECK;
void metrics_close(struct metrics *m);

#endif
