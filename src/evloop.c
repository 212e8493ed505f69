/* epoll-based event loop with an eventfd to stop it from any thread. */
#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct ev_handler {
	int fd;
	ev_cb cb;
	void *ctx;
	int dead;
	int paused; /* out of the epoll set: even HUP/ERR must not wake us */
	struct ev_handler *next;
};

int ev_init(struct evloop *l)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};

	memset(l, 0, sizeof(*l));
	l->stop_fd = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stop_fd < 0 || epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stop_fd, &ev) < 0) {
		int e = -errno;
		ev_free(l);
		return e;
	}
	return 0;
}

void ev_free(struct evloop *l)
{
	struct ev_handler *h = l->handlers;

	while (h) {
		struct ev_handler *n = h->next;
		free(h);
		h = n;
	}
	l->handlers = NULL;
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->stop_fd = l->epfd = -1;
}

int ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *ctx)
{
	struct ev_handler *h = calloc(1, sizeof(*h));
	struct epoll_event ev = {.events = events};

	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->cb = cb;
	h->ctx = ctx;
	ev.data.ptr = h;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int e = -errno;
		free(h);
		return e;
	}
	h->next = l->handlers;
	l->handlers = h;
	return 0;
}

int ev_del(struct evloop *l, int fd)
{
	for (struct ev_handler *h = l->handlers; h; h = h->next) {
		if (h->fd == fd && !h->dead) {
			/* Freed in ev_free: an event for it may already be
			 * queued in the current epoll_wait batch. */
			h->dead = 1;
			if (!h->paused)
				epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			return 0;
		}
	}
	return -ENOENT;
}

int ev_mod(struct evloop *l, int fd, uint32_t events)
{
	for (struct ev_handler *h = l->handlers; h; h = h->next) {
		if (h->fd == fd && !h->dead) {
			struct epoll_event ev = {.events = events, .data.ptr = h};
			int op = events ? (h->paused ? EPOLL_CTL_ADD : EPOLL_CTL_MOD) : EPOLL_CTL_DEL;

			/* epoll reports HUP and ERR even for an empty event
			 * mask, so pausing takes the fd out of the set. */
			if (!events && h->paused)
				return 0;
			if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
				return -errno;
			h->paused = !events;
			return 0;
		}
	}
	return -ENOENT;
}

int ev_run(struct evloop *l)
{
	struct epoll_event evs[32];

	while (!__atomic_load_n(&l->stopping, __ATOMIC_ACQUIRE)) {
		int n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = evs[i].data.ptr;

			if (!h)
				continue; /* stop_fd */
			if (!h->dead)
				h->cb(h->ctx, evs[i].events);
		}
	}
	return 0;
}

void ev_stop(struct evloop *l)
{
	uint64_t one = 1;

	__atomic_store_n(&l->stopping, 1, __ATOMIC_RELEASE);
	if (write(l->stop_fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow from a few stops; nothing to do. */
	}
}
