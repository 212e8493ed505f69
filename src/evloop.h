/* The event loop: one epoll instance on one thread that owns device queues,
 * backends, the host console, sockets and timers. Callbacks run on that
 * thread only.
 *
 * A watched fd is its own handle: epoll allows one registration per fd, so
 * kite looks handlers up in an fd-indexed table (O(1) for ev_del/ev_mod).
 * A removed handler is freed after the batch of events that may still name
 * it, not at the end of the loop: connections can churn for the VM's whole
 * life without the loop growing. */
#ifndef KITE_EVLOOP_H
#define KITE_EVLOOP_H

#include <stdint.h>

#include "compiler.h"

typedef void (*ev_cb)(void *ctx, uint32_t events);

struct ev_handler;

struct evloop {
	int epfd;
	int stop_fd;   /* eventfd: a write makes ev_run return */
	int stopping;
	struct ev_handler **by_fd;  /* indexed by fd; NULL when not watched */
	int nr_fds;                 /* size of by_fd */
	struct ev_handler *dead;    /* removed, freed after the current batch */
	int nr_live;
	int in_batch;               /* ev_run is dispatching a batch */
};

int ev_init(struct evloop *l) MUST_CHECK;
void ev_free(struct evloop *l);
/* events are EPOLLIN/EPOLLOUT/...; the callback gets the returned mask.
 * -EEXIST when fd is already watched. */
int ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *ctx) MUST_CHECK;
/* Stops watching fd (the caller still owns and closes it). A callback
 * already due in this batch does not run. */
int ev_del(struct evloop *l, int fd);
/* Changes the events watched for fd (0 pauses it). */
int ev_mod(struct evloop *l, int fd, uint32_t events) MUST_CHECK;
/* Runs callbacks until ev_stop(); returns 0, or -errno on an epoll failure. */
int ev_run(struct evloop *l) MUST_CHECK;
/* Thread- and signal-safe. */
void ev_stop(struct evloop *l);
/* Lets ev_run run again after a stop (the loop outlives a machine that a
 * guest reboot replaces). Not while ev_run runs. */
void ev_clear_stop(struct evloop *l);
/* Handlers currently watched (tests: nothing leaks across churn). */
int ev_count(const struct evloop *l);

#endif
