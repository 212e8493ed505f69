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
	struct ev_handler *next_dead;
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

static void reap(struct evloop *l)
{
	while (l->dead) {
		struct ev_handler *h = l->dead;

		l->dead = h->next_dead;
		free(h);
	}
}

void ev_free(struct evloop *l)
{
	for (int fd = 0; fd < l->nr_fds; fd++)
		free(l->by_fd[fd]);
	free(l->by_fd);
	l->by_fd = NULL;
	l->nr_fds = 0;
	l->nr_live = 0;
	reap(l);
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	if (l->epfd >= 0)
		close(l->epfd);
	l->stop_fd = l->epfd = -1;
}

static struct ev_handler *lookup(const struct evloop *l, int fd)
{
	return fd >= 0 && fd < l->nr_fds ? l->by_fd[fd] : NULL;
}

static int grow(struct evloop *l, int fd)
{
	int n = l->nr_fds ? l->nr_fds : 64;
	struct ev_handler **v;

	while (n <= fd)
		n *= 2;
	v = realloc(l->by_fd, (size_t)n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(v + l->nr_fds, 0, (size_t)(n - l->nr_fds) * sizeof(*v));
	l->by_fd = v;
	l->nr_fds = n;
	return 0;
}

int ev_add(struct evloop *l, int fd, uint32_t events, ev_cb cb, void *ctx)
{
	struct epoll_event ev = {.events = events};
	struct ev_handler *h;

	if (fd < 0)
		return -EBADF;
	if (lookup(l, fd))
		return -EEXIST;
	if (fd >= l->nr_fds && grow(l, fd))
		return -ENOMEM;
	h = calloc(1, sizeof(*h));
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
	l->by_fd[fd] = h;
	l->nr_live++;
	return 0;
}

int ev_del(struct evloop *l, int fd)
{
	struct ev_handler *h = lookup(l, fd);

	if (!h)
		return -ENOENT;
	/* An event for it may already be in the current epoll_wait batch:
	 * marked dead, freed once the batch is done. */
	h->dead = 1;
	if (!h->paused)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->by_fd[fd] = NULL;
	l->nr_live--;
	if (!l->in_batch) {
		free(h);
		return 0;
	}
	h->next_dead = l->dead;
	l->dead = h;
	return 0;
}

int ev_mod(struct evloop *l, int fd, uint32_t events)
{
	struct ev_handler *h = lookup(l, fd);
	struct epoll_event ev = {.events = events, .data.ptr = h};
	int op;

	if (!h)
		return -ENOENT;
	/* epoll reports HUP and ERR even for an empty event mask, so pausing
	 * takes the fd out of the set. */
	if (!events && h->paused)
		return 0;
	op = events ? (h->paused ? EPOLL_CTL_ADD : EPOLL_CTL_MOD) : EPOLL_CTL_DEL;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return -errno;
	h->paused = !events;
	return 0;
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
		l->in_batch = 1;
		for (int i = 0; i < n; i++) {
			struct ev_handler *h = evs[i].data.ptr;

			if (!h)
				continue; /* stop_fd */
			if (!h->dead)
				h->cb(h->ctx, evs[i].events);
		}
		l->in_batch = 0;
		reap(l);
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

void ev_clear_stop(struct evloop *l)
{
	uint64_t v;

	__atomic_store_n(&l->stopping, 0, __ATOMIC_RELEASE);
	if (read(l->stop_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: no stop was pending. */
	}
}

int ev_count(const struct evloop *l)
{
	return l->nr_live;
}
