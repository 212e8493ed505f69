/* The event loop: one epoll instance on one thread that owns device queues,
 * backends, the API socket and timers. Callbacks run on that thread only. */
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
	struct ev_handler *handlers; /* owned list, freed by ev_free */
};

int ev_init(struct evloop *l) MUST_CHECK;
void ev_free(struct evloop *l);
/* events are EPOLLIN/EPOLLOUT/...; the callback gets the returned mask. */
int ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *ctx) MUST_CHECK;
int ev_del(struct evloop *l, int fd);
/* Changes the events watched for fd (0 pauses it). */
int ev_mod(struct evloop *l, int fd, uint32_t events) MUST_CHECK;
/* Runs callbacks until ev_stop(); returns 0, or -errno on an epoll failure. */
int ev_run(struct evloop *l) MUST_CHECK;
/* Thread- and signal-safe. */
void ev_stop(struct evloop *l);

#endif
