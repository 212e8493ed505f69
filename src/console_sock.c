/* Unix-socket console: accept, replay, non-blocking output. */
#include "console_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

static void ring_put(struct console_sock *cs, const uint8_t *buf, size_t n)
{
	if (n >= CONSOLE_SOCK_RING) {
		buf += n - CONSOLE_SOCK_RING;
		n = CONSOLE_SOCK_RING;
	}
	for (size_t i = 0; i < n; i++) {
		cs->ring[(cs->ring_head + cs->ring_len) % CONSOLE_SOCK_RING] = buf[i];
		if (cs->ring_len < CONSOLE_SOCK_RING)
			cs->ring_len++;
		else
			cs->ring_head = (cs->ring_head + 1) % CONSOLE_SOCK_RING;
	}
}

/* With the lock held. Returns 0, or -1 when the client is gone. */
static int send_all(struct console_sock *cs, const uint8_t *buf, size_t n)
{
	while (n) {
		ssize_t w = send(cs->client_fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			cs->dropped += n;
			log_guest("console", "socket client is not reading; %zu bytes dropped", n);
			return 0;
		}
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

void console_sock_write(struct console_sock *cs, const uint8_t *buf, size_t n)
{
	pthread_mutex_lock(&cs->lock);
	if (cs->client_fd < 0 || send_all(cs, buf, n) < 0)
		ring_put(cs, buf, n);
	pthread_mutex_unlock(&cs->lock);
}

static void on_accept(void *ctx, uint32_t events)
{
	struct console_sock *cs = ctx;
	int fd, old;

	(void)events;
	fd = accept4(cs->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	pthread_mutex_lock(&cs->lock);
	old = cs->client_fd;
	cs->client_fd = fd;
	/* Replay what the guest said while no one listened. */
	if (cs->ring_len) {
		size_t first = MIN(cs->ring_len, CONSOLE_SOCK_RING - cs->ring_head);

		if (send_all(cs, cs->ring + cs->ring_head, first) == 0)
			send_all(cs, cs->ring, cs->ring_len - first);
		cs->ring_head = cs->ring_len = 0;
	}
	pthread_mutex_unlock(&cs->lock);
	if (old >= 0) {
		log_info("console", "a new client took over the console socket");
		console_sock_client_gone(cs, old);
	}
	cs->on_client(cs->ctx, fd);
}

int console_sock_open(struct console_sock *cs, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int rc;

	memset(cs, 0, sizeof(*cs));
	cs->listen_fd = cs->client_fd = -1;
	pthread_mutex_init(&cs->lock, NULL);
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "--console-socket %s: path longer than %zu bytes", path,
			 sizeof(a.sun_path) - 1);
		return -EINVAL;
	}
	strcpy(a.sun_path, path);
	cs->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (cs->listen_fd < 0 || bind(cs->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		rc = -errno;
		snprintf(err, errlen, "--console-socket %s: %s", path, strerror(errno));
		return rc;
	}
	/* Bound: the file is ours from here on, and goes with any failure. */
	strcpy(cs->path, path);
	if (listen(cs->listen_fd, 1) < 0) {
		rc = -errno;
		snprintf(err, errlen, "--console-socket %s: listen: %s", path, strerror(errno));
		unlink(cs->path);
		cs->path[0] = 0;
		return rc;
	}
	return 0;
}

int console_sock_attach(struct console_sock *cs, struct evloop *ev,
			void (*on_client)(void *ctx, int fd), void *ctx)
{
	cs->ev = ev;
	cs->on_client = on_client;
	cs->ctx = ctx;
	return ev_add(ev, cs->listen_fd, EPOLLIN, on_accept, cs);
}

void console_sock_detach(struct console_sock *cs)
{
	int fd;

	if (!cs->ev)
		return;
	pthread_mutex_lock(&cs->lock);
	fd = cs->client_fd;
	cs->client_fd = -1;
	pthread_mutex_unlock(&cs->lock);
	if (fd >= 0) {
		ev_del(cs->ev, fd);
		close(fd);
	}
	ev_del(cs->ev, cs->listen_fd);
	cs->ev = NULL;
}

void console_sock_client_gone(struct console_sock *cs, int fd)
{
	pthread_mutex_lock(&cs->lock);
	if (cs->client_fd == fd)
		cs->client_fd = -1;
	pthread_mutex_unlock(&cs->lock);
	if (cs->ev)
		ev_del(cs->ev, fd);
	close(fd);
}

void console_sock_close(struct console_sock *cs)
{
	if (cs->client_fd >= 0)
		close(cs->client_fd);
	if (cs->listen_fd >= 0) {
		close(cs->listen_fd);
		if (cs->path[0])
			unlink(cs->path);
	}
	cs->client_fd = cs->listen_fd = -1;
	pthread_mutex_destroy(&cs->lock);
}
