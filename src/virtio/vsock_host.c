/* virtio-vsock, the host half: the Unix listener at uds_path, the CONNECT
 * line of a host client, connections to "<uds_path>_<port>" for the
 * guest's requests, and moving bytes between each socket and the device.
 * The table the connections live in is vsock_conn.c, below this file.
 *
 * A connection's socket is watched for input only while the device may
 * pass the input on (established, and nothing already waiting for the
 * guest), and for output only while guest data is buffered: neither a
 * guest that posts no buffers nor a host peer that reads nothing makes
 * the event loop spin. epoll reports a hang-up even on a socket watched
 * for nothing, so a hung-up socket is taken off the loop and read to its
 * end through the RX path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "virtio/vsock_priv.h"

void vsock_conn_credit_check(struct vsock_conn *c)
{
	/* What the guest believes is free in our buffer. */
	uint32_t seen_free = VSOCK_BUF_ALLOC - (c->rx_cnt - c->last_fwd_sent);

	if (c->fwd_cnt != c->last_fwd_sent && seen_free < VSOCK_BUF_ALLOC / 2)
		vsock_conn_queue(c, PEND_CREDIT_UPDATE);
}

/* Writes buffered guest data. Returns 1 when the connection is gone. */
static int flush(struct vsock_conn *c)
{
	while (vsock_conn_buffered(c)) {
		ssize_t n = send(c->fd, c->buf + c->buf_off, c->buf_len - c->buf_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			vsock_conn_reset(c);
			return 1;
		}
		c->buf_off += (uint32_t)n;
		c->fwd_cnt += (uint32_t)n;
	}
	if (!vsock_conn_buffered(c)) {
		free(c->buf);
		c->buf = NULL;
		c->buf_off = c->buf_len = 0;
		if (c->state == CONN_CLOSING) {
			vsock_conn_reset(c);
			return 1;
		}
		vsock_conn_shut_host(c);
	}
	vsock_conn_update_events(c);
	vsock_conn_credit_check(c);
	return 0;
}

/* Keeps the `len` bytes of iov from offset `skip` for later. */
static int keep(struct vsock_conn *c, const struct iovec *iov, int nr, size_t skip, size_t len)
{
	if (!c->buf) {
		c->buf = malloc(VSOCK_BUF_ALLOC);
		if (!c->buf)
			return -ENOMEM;
	}
	if (c->buf_len + len > VSOCK_BUF_ALLOC) {
		memmove(c->buf, c->buf + c->buf_off, c->buf_len - c->buf_off);
		c->buf_len -= c->buf_off;
		c->buf_off = 0;
	}
	for (int i = 0; i < nr && len; i++) {
		size_t k;

		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		k = MIN(iov[i].iov_len - skip, len);
		memcpy(c->buf + c->buf_len, (uint8_t *)iov[i].iov_base + skip, k);
		c->buf_len += (uint32_t)k;
		len -= k;
		skip = 0;
	}
	return 0;
}

int vsock_conn_to_host(struct vsock_conn *c, const struct iovec *iov, int nr, uint32_t len)
{
	struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)nr};
	ssize_t n = 0;

	/* GUEST: len fits the free part of our buffer (checked by the
	 * caller against rx_cnt - fwd_cnt, which is what is buffered). */
	c->rx_cnt += len;
	if (!vsock_conn_buffered(c) && len) {
		do
			n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		n = MAX(n, 0);
	}
	c->fwd_cnt += (uint32_t)n;
	if ((uint32_t)n < len && keep(c, iov, nr, (size_t)n, len - (size_t)n) < 0)
		return -ENOMEM;
	vsock_conn_update_events(c);
	vsock_conn_credit_check(c);
	return 0;
}

void vsock_conn_shut_host(struct vsock_conn *c)
{
	if (c->guest_no_tx && !vsock_conn_buffered(c) && shutdown(c->fd, SHUT_WR) < 0)
		log_debug(c->v->vd.name, "shutdown: %s", strerror(errno));
	vsock_conn_update_events(c);
}

int vsock_conn_accepted(struct vsock_conn *c)
{
	char ok[24];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", c->local_port);

	if (send(c->fd, ok, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n)
		return -EIO;
	c->state = CONN_EST;
	vsock_conn_half_open(c, false);
	vsock_conn_update_events(c);
	return 0;
}

static void conn_ready(void *ctx, uint32_t events);

static int conn_new(struct virtio_vsock *v, int fd, enum vsock_conn_state state,
		    uint32_t local, uint32_t peer, struct vsock_conn **out)
{
	struct vsock_conn *c;
	int err;

	if (v->nr_conns >= VSOCK_MAX_CONNS)
		return -EMFILE;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct vsock_conn){.v = v, .fd = fd, .state = state, .local_port = local,
				 .peer_port = peer, .events = EPOLLIN, .epoch = v->epoch};
	err = ev_add(v->loop, fd, EPOLLIN, conn_ready, c);
	if (err < 0) {
		free(c);
		return err;
	}
	c->watched = true;
	vsock_conn_hash_add(c);
	v->nr_conns++;
	v->st.conns_total++;
	vsock_conn_half_open(c, state == CONN_CMD);
	*out = c;
	return 0;
}

/* A host client named the guest port: ask the guest. */
static void start_request(struct vsock_conn *c, uint32_t port)
{
	struct virtio_vsock *v = c->v;
	uint32_t local;

	do {
		local = v->next_port++;
		if (v->next_port < VSOCK_LOCAL_PORT_BASE) /* wrapped */
			v->next_port = VSOCK_LOCAL_PORT_BASE;
	} while (vsock_conn_find(v, local, port));
	vsock_conn_hash_del(c);
	c->local_port = local;
	c->peer_port = port;
	c->state = CONN_REQUEST;
	vsock_conn_hash_add(c);
	vsock_conn_half_open(c, true);
	vsock_conn_update_events(c);
	vsock_conn_queue(c, PEND_REQUEST);
}

/* Reads the CONNECT line a byte at a time, so that nothing after it is
 * taken from the socket before the guest accepted. */
static void read_line(struct vsock_conn *c)
{
	uint32_t port;

	while (c->line_len < VSOCK_CONNECT_MAX) {
		ssize_t n = recv(c->fd, &c->line[c->line_len], 1, MSG_DONTWAIT);
		int r;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0)
			break;
		c->line_len++;
		r = vsock_parse_connect(c->line, c->line_len, &port);
		if (r > 0) {
			start_request(c, port);
			return;
		}
		if (r < 0)
			break;
	}
	c->v->st.host_rejected++;
	vsock_conn_free(c);
}

/* The peer hung up (or the socket failed): take the socket off the loop,
 * which would report it forever, and let the RX path read what is left. */
static void hung_up(struct vsock_conn *c, uint32_t events)
{
	if (c->state != CONN_EST || vsock_conn_buffered(c) || (events & EPOLLERR)) {
		if (c->state == CONN_CMD) {
			c->v->st.host_rejected++;
			vsock_conn_free(c);
		} else {
			vsock_conn_reset(c);
		}
		return;
	}
	ev_del(c->v->loop, c->fd);
	c->watched = false;
	c->host_hup = true;
	c->readable = true;
	vsock_conn_half_open(c, true); /* for the guest's RST */
	vsock_conn_queue(c, 0);
}

static void conn_event(struct vsock_conn *c, uint32_t events)
{
	if (events & (EPOLLHUP | EPOLLERR)) {
		hung_up(c, events);
		return;
	}
	if ((events & EPOLLOUT) && flush(c))
		return;
	if (!(events & EPOLLIN))
		return;
	if (c->state == CONN_CMD) {
		read_line(c);
	} else if (c->state == CONN_EST) {
		c->readable = true;
		vsock_conn_update_events(c);
		vsock_conn_queue(c, 0);
	}
}

static void conn_ready(void *ctx, uint32_t events)
{
	struct vsock_conn *c = ctx;
	struct virtio_vsock *v = c->v;

	virtio_dev_lock(&v->vd);
	if (c->epoch != v->epoch)
		vsock_conn_free(c); /* the driver reset since */
	else
		conn_event(c, events);
	vsock_rx_process(v);
	virtio_dev_unlock(&v->vd);
}

static void listener_ready(void *ctx, uint32_t events)
{
	struct virtio_vsock *v = ctx;
	struct vsock_conn *c;
	int fd;

	(void)events;
	fd = accept4(v->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
		/* The client stays in the backlog and the listener readable:
		 * stop watching it rather than spin; a tick retries. */
		log_warn(v->vd.name, "accept: %s", strerror(errno));
		virtio_dev_lock(&v->vd);
		if (ev_mod(v->loop, v->listen_fd, 0) == 0)
			v->listen_paused = true;
		vsock_timer_set(v, true);
		virtio_dev_unlock(&v->vd);
		return;
	}
	if (fd < 0)
		return; /* EAGAIN, or the client left already */
	virtio_dev_lock(&v->vd);
	if (conn_new(v, fd, CONN_CMD, 0, 0, &c) < 0) {
		v->st.host_rejected++;
		close(fd);
	}
	virtio_dev_unlock(&v->vd);
}

static int unix_addr(struct sockaddr_un *sa, const char *path, const char *suffix)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s%s", path, suffix) >=
	    sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int vsock_conn_connect(struct virtio_vsock *v, uint32_t local, uint32_t peer,
		       struct vsock_conn **out)
{
	struct sockaddr_un sa;
	char suffix[16];
	int fd, err;

	if (v->nr_conns >= VSOCK_MAX_CONNS)
		return -EMFILE;
	snprintf(suffix, sizeof(suffix), "_%u", local);
	err = unix_addr(&sa, v->uds_path, suffix);
	if (err < 0)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A Unix connect does not wait: it succeeds, or fails at once
	 * (no listener, or its backlog is full: EAGAIN). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto fail;
	}
	err = conn_new(v, fd, CONN_EST, local, peer, out);
	if (err < 0)
		goto fail;
	return 0;
fail:
	close(fd);
	return err;
}

int vsock_listen_open(struct virtio_vsock *v)
{
	struct sockaddr_un sa;
	int fd, err;

	/* PATH_<port> must fit too, for the largest port. */
	err = unix_addr(&sa, v->uds_path, "_4294967295");
	if (err < 0)
		return err;
	err = unix_addr(&sa, v->uds_path, "");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (listen(fd, 128) < 0) {
		err = -errno;
		goto fail;
	}
	err = ev_add(v->loop, fd, EPOLLIN, listener_ready, v);
	if (err < 0)
		goto fail;
	v->listen_fd = fd;
	return 0;
fail:
	close(fd);
	unlink(v->uds_path);
	return err;
}

void vsock_listen_close(struct virtio_vsock *v)
{
	if (v->listen_fd < 0)
		return;
	ev_del(v->loop, v->listen_fd);
	close(v->listen_fd);
	unlink(v->uds_path);
	v->listen_fd = -1;
}
