/* The API socket server: accept, read, parse, answer, write, close. */
#include "api/server.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"

struct conn {
	struct api_server *s;
	int fd;
	bool used;
	uint8_t *in;            /* received, not yet consumed */
	size_t in_len, in_cap;
	char *out;              /* answers not yet written */
	size_t out_len, out_off, out_cap;
	bool continue_sent;     /* 100 Continue for the request being read */
	bool closing;           /* close once out is written */
	bool want_out;
};

struct api_server {
	int listen_fd;
	char path[108];
	size_t max_payload;
	struct evloop *ev;
	struct api_handler h;
	struct conn conns[API_MAX_CONNS];
	int nr_conns;
};

static void conn_close(struct conn *c)
{
	struct api_server *s = c->s;

	if (!c->used)
		return;
	ev_del(s->ev, c->fd);
	close(c->fd);
	free(c->in);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	s->nr_conns--;
}

static int out_append(struct conn *c, const void *p, size_t n)
{
	if (n > c->out_cap - c->out_len) {
		size_t cap = c->out_cap ? c->out_cap : 1024;
		char *o;

		while (cap - c->out_len < n)
			cap *= 2;
		o = realloc(c->out, cap);
		if (!o)
			return -ENOMEM;
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, n);
	c->out_len += n;
	return 0;
}

static int respond(struct conn *c, int status, bool close_after, const char *body, bool fault,
		   const char *type)
{
	char small[512];
	size_t len = 0;
	char *buf = small;
	int rc;

	for (int tries = 0; tries < 2; tries++) {
		size_t cap = buf == small ? sizeof(small) : len;

		if (fault)
			rc = http_fault_response(buf, cap, &len, status, close_after, body);
		else
			rc = http_response_typed(buf, cap, &len, status, close_after, type, body,
						 body ? strlen(body) : 0);
		if (rc != -ENOSPC)
			break;
		buf = malloc(len);
		if (!buf)
			return -ENOMEM;
	}
	if (!rc)
		rc = out_append(c, buf, len);
	if (buf != small)
		free(buf);
	if (close_after)
		c->closing = true;
	return rc;
}

static void set_out(struct conn *c, bool on)
{
	if (c->want_out == on)
		return;
	if (ev_mod(c->s->ev, c->fd, EPOLLIN | EPOLLRDHUP | (on ? EPOLLOUT : 0)) == 0)
		c->want_out = on;
}

/* Writes what is pending; false when the connection was closed. */
static bool flush_out(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			set_out(c, true);
			return true;
		}
		if (w <= 0) {
			conn_close(c);
			return false;
		}
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	set_out(c, false);
	if (c->closing) {
		conn_close(c);
		return false;
	}
	return true;
}

/* Parses and answers every complete request in the input, in order. */
static void serve(struct conn *c)
{
	while (!c->closing && c->in_len) {
		struct http_request req;
		struct api_reply reply = {0};
		size_t used = 0;
		enum http_parse r = http_parse(c->in, c->in_len, c->s->max_payload, &req, &used);

		if (r == HTTP_INCOMPLETE) {
			if (req.headers_done && req.expect_continue && !c->continue_sent) {
				c->continue_sent = true;
				if (out_append(c, HTTP_CONTINUE, strlen(HTTP_CONTINUE)))
					c->closing = true;
			}
			break;
		}
		if (r == HTTP_BAD) {
			/* The stream cannot be resynchronised: answer and close. */
			if (respond(c, 400, true, req.error, true, NULL))
				c->closing = true;
			break;
		}
		c->s->h.handle(c->s->h.ctx, &req, &reply);
		if (respond(c, reply.status, !req.keep_alive, reply.body, reply.status >= 400,
			    reply.content_type) < 0)
			c->closing = true;
		free(reply.body);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		c->continue_sent = false;
	}
}

static void on_conn(void *ctx, uint32_t events)
{
	struct conn *c = ctx;
	/* A head and the largest body: more is refused by the parser. */
	size_t limit = HTTP_HEAD_MAX + c->s->max_payload;

	if ((events & EPOLLOUT) && !flush_out(c))
		return;
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		return;
	for (;;) {
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? 2 * c->in_cap : 4096;
			uint8_t *in;

			if (cap > limit + 1)
				cap = limit + 1;
			if (c->in_len >= cap) {
				/* The parser refused it already, or will. */
				break;
			}
			in = realloc(c->in, cap);
			if (!in) {
				conn_close(c);
				return;
			}
			c->in = in;
			c->in_cap = cap;
		}
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* The client went away (perhaps mid-request), or only
			 * shut down its sending side after its requests: what
			 * is answered already is still written (watching for
			 * EPOLLOUT only, as the EOF would be reported forever),
			 * then the connection closes. */
			if (n == 0 && c->out_len > c->out_off) {
				c->closing = true;
				if (ev_mod(c->s->ev, c->fd, EPOLLOUT) == 0)
					c->want_out = true;
				break;
			}
			conn_close(c);
			return;
		}
		c->in_len += (size_t)n;
		serve(c);
		if (c->closing)
			break;
	}
	if (c->in_len >= limit + 1 && !c->closing) {
		/* More than any request may be: the parser says why. */
		serve(c);
		if (!c->closing && respond(c, 400, true, "request too large", true, NULL))
			c->closing = true;
	}
	flush_out(c);
}

static void on_accept(void *ctx, uint32_t events)
{
	struct api_server *s = ctx;
	int fd;

	(void)events;
	while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		struct conn *c = NULL;

		for (int i = 0; i < API_MAX_CONNS && !c; i++)
			if (!s->conns[i].used)
				c = &s->conns[i];
		if (!c) {
			char busy[256];
			size_t len;

			log_guest("api", "connection refused: %d open already", API_MAX_CONNS);
			if (http_fault_response(busy, sizeof(busy), &len, 503, true,
						"too many connections (at most 10)") == 0 &&
			    send(fd, busy, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* The client gets a closed socket instead. */
			}
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->s = s;
		c->fd = fd;
		if (ev_add(s->ev, fd, EPOLLIN | EPOLLRDHUP, on_conn, c)) {
			close(fd);
			c->fd = -1;
			continue;
		}
		c->used = true;
		s->nr_conns++;
	}
}

int api_server_open(struct api_server **out, const char *path, size_t max_payload, char *err,
		    size_t errlen)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct api_server *s = calloc(1, sizeof(*s));
	mode_t old;
	int rc;

	*out = s;
	if (!s)
		return -ENOMEM;
	s->listen_fd = -1;
	s->max_payload = max_payload;
	for (int i = 0; i < API_MAX_CONNS; i++)
		s->conns[i].fd = -1;
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "--api-sock %s: path longer than %zu bytes", path,
			 sizeof(a.sun_path) - 1);
		return -EINVAL;
	}
	strcpy(a.sun_path, path);
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->listen_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "--api-sock: socket: %s", strerror(errno));
		return rc;
	}
	/* 0600 from the start: no window in which others may connect. */
	old = umask(0177);
	rc = bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno : 0;
	umask(old);
	if (rc) {
		snprintf(err, errlen, "--api-sock %s: %s", path,
			 rc == -EADDRINUSE ? "the path exists already (remove it first)"
					   : strerror(-rc));
		return rc;
	}
	strcpy(s->path, path);
	if (listen(s->listen_fd, 16) < 0) {
		rc = -errno;
		snprintf(err, errlen, "--api-sock %s: listen: %s", path, strerror(errno));
		return rc;
	}
	return 0;
}

int api_server_attach(struct api_server *s, struct evloop *ev, const struct api_handler *h)
{
	s->ev = ev;
	s->h = *h;
	return ev_add(ev, s->listen_fd, EPOLLIN, on_accept, s);
}

void api_server_keep_file(struct api_server *s)
{
	s->path[0] = 0;
}

int api_server_connections(const struct api_server *s)
{
	return s->nr_conns;
}

void api_server_close(struct api_server *s)
{
	if (!s)
		return;
	for (int i = 0; i < API_MAX_CONNS; i++)
		if (s->ev)
			conn_close(&s->conns[i]);
	if (s->listen_fd >= 0) {
		if (s->ev)
			ev_del(s->ev, s->listen_fd);
		close(s->listen_fd);
	}
	if (s->path[0])
		unlink(s->path);
	free(s);
}
