/* Host console and signals: one output buffer drained by the event loop,
 * host input fed to the console device with backpressure, and the signalfd
 * that turns SIGINT/SIGTERM/SIGHUP into a stop. */
#include "hostio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "console_sock.h"
#include "log.h"
#include "term.h"

#define IN_CHUNK 256

struct producer {
	void (*fn)(void *ctx);
	void *ctx;
};

struct hostio {
	/* Output: producers append under the lock; only the event-loop
	 * thread (or main, once no loop runs) consumes. */
	pthread_mutex_t lock;
	uint8_t *ring;
	size_t head, len;
	bool held;      /* a write returned false since the last space call */
	bool broken;    /* the reader went away: output is dropped */
	int out_fd;
	bool out_owned;
	bool out_pollable; /* registered (paused) on the loop, EPOLLOUT on demand */
	bool out_can_block; /* not a regular file: poll() before each write */
	bool out_armed;
	int out_wake_fd;   /* eventfd: output is waiting */
	struct producer producers[HOSTIO_MAX_PRODUCERS];
	int nr_producers;
	struct hostio_stats stats;

	struct evloop *ev;
	struct vm_stopper stop;
	int sig_fd;

	/* Input. */
	struct console_sock *sock;
	int in_fd;
	bool in_watched;
	bool in_file; /* not pollable (a regular file): read on demand */
	bool in_eof;  /* stdin ended: not watched again after a restart */
	bool term_set;
	int rx_wake_fd;
	struct term_filter filter;
	size_t (*receive)(void *dev, const uint8_t *buf, size_t n);
	void *receive_dev;
	uint8_t pending[IN_CHUNK + 1];
	size_t pending_len, pending_off;
};

static void wake(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) < 0) {
		/* Counter already nonzero: the loop runs anyway. */
	}
}

static void drain_fd(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing to drain. */
	}
}

bool hostio_write(struct hostio *h, const uint8_t *buf, size_t n)
{
	bool was_empty, room;
	size_t take;

	pthread_mutex_lock(&h->lock);
	if (h->broken) {
		h->stats.out_dropped += n;
		pthread_mutex_unlock(&h->lock);
		return true; /* nobody reads: holding the guest would gain nothing */
	}
	was_empty = h->len == 0;
	take = MIN(n, (size_t)HOSTIO_OUT_MAX - h->len);
	for (size_t done = 0; done < take;) {
		size_t tail = (h->head + h->len) % HOSTIO_OUT_MAX;
		size_t k = MIN(take - done, (size_t)HOSTIO_OUT_MAX - tail);

		memcpy(h->ring + tail, buf + done, k);
		h->len += k;
		done += k;
	}
	h->stats.out_dropped += n - take;
	room = h->len < HOSTIO_OUT_HIGH;
	if (!room && !h->held) {
		h->held = true;
		h->stats.out_held++;
	}
	pthread_mutex_unlock(&h->lock);
	if (take && was_empty)
		wake(h->out_wake_fd);
	if (n > take)
		log_guest("console", "host output buffer full: %zu bytes dropped", n - take);
	return room;
}

static void arm_out(struct hostio *h, bool on)
{
	if (!h->out_pollable || !h->ev || h->out_armed == on)
		return;
	if (ev_mod(h->ev, h->out_fd, on ? EPOLLOUT : 0) == 0)
		h->out_armed = on;
}

/* Space callbacks once the buffer drained below the low-water mark. */
static void maybe_space(struct hostio *h)
{
	bool call;

	pthread_mutex_lock(&h->lock);
	call = h->held && h->len <= HOSTIO_OUT_LOW;
	if (call)
		h->held = false;
	pthread_mutex_unlock(&h->lock);
	for (int i = 0; call && i < h->nr_producers; i++)
		h->producers[i].fn(h->producers[i].ctx);
}

/* Writes buffered output; waits for the reader at most wait_ms (0: not at
 * all). Returns 1 when the reader must be waited for, 0 when all is out. */
static int write_out(struct hostio *h, int wait_ms)
{
	for (;;) {
		const uint8_t *p;
		size_t n;
		ssize_t w;

		pthread_mutex_lock(&h->lock);
		/* Producers only append behind the tail, so the bytes from
		 * head on are stable without the lock. */
		n = MIN(h->len, (size_t)HOSTIO_OUT_MAX - h->head);
		p = h->ring + h->head;
		pthread_mutex_unlock(&h->lock);
		if (!n)
			return 0;
		if (h->sock) {
			console_sock_write(h->sock, p, n);
			w = (ssize_t)n;
		} else {
			struct pollfd pf = {.fd = h->out_fd, .events = POLLOUT};

			/* At most PIPE_BUF after POLLOUT: a pipe takes that
			 * much without blocking. */
			n = MIN(n, (size_t)PIPE_BUF);
			/* Also once the loop is gone (hostio_flush): a write
			 * that could block must never be issued blind. */
			if (h->out_can_block && poll(&pf, 1, wait_ms) == 0)
				return 1;
			w = write(h->out_fd, p, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				return 1;
			if (w <= 0) {
				log_warn("console", "guest output lost from now on: %s",
					 w < 0 ? strerror(errno) : "short write");
				pthread_mutex_lock(&h->lock);
				h->stats.out_dropped += h->len;
				h->head = h->len = 0;
				h->broken = true;
				h->held = true; /* let maybe_space release devices */
				pthread_mutex_unlock(&h->lock);
				return 0;
			}
		}
		pthread_mutex_lock(&h->lock);
		h->head = (h->head + (size_t)w) % HOSTIO_OUT_MAX;
		h->len -= (size_t)w;
		h->stats.out_bytes += (uint64_t)w;
		pthread_mutex_unlock(&h->lock);
	}
}

static void on_out(void *ctx, uint32_t events)
{
	struct hostio *h = ctx;

	(void)events;
	drain_fd(h->out_wake_fd);
	arm_out(h, write_out(h, 0) == 1);
	maybe_space(h);
}

void hostio_flush(struct hostio *h, int timeout_ms)
{
	uint64_t end = clock_mono_ns() + (uint64_t)timeout_ms * 1000000ull;

	for (;;) {
		uint64_t now = clock_mono_ns();
		int left = now >= end ? 0 : (int)((end - now) / 1000000ull) + 1;

		if (write_out(h, left) == 0 || left == 0)
			return;
	}
}

int hostio_on_space(struct hostio *h, void (*fn)(void *ctx), void *ctx)
{
	if (h->nr_producers == HOSTIO_MAX_PRODUCERS)
		return -ENOSPC;
	h->producers[h->nr_producers++] = (struct producer){fn, ctx};
	return 0;
}

void hostio_clear_producers(struct hostio *h)
{
	h->nr_producers = 0;
}

/* ---- input ---- */

static void stop_user(struct hostio *h, int status)
{
	vm_stopper_fire(&h->stop, VM_STOP_USER, status);
}

/* Reads the next chunk of host input into `pending`, through the escape
 * filter. Returns 1 with data, 0 at end of input or on Ctrl-A x. */
static int read_input(struct hostio *h)
{
	uint8_t buf[IN_CHUNK];
	ssize_t n;
	int quit = 0;

	do
		n = read(h->in_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0) {
		/* End of input: the guest keeps running without it (and a
		 * socket console waits for the next client). */
		if (h->sock) {
			console_sock_client_gone(h->sock, h->in_fd);
		} else {
			if (!h->in_file)
				ev_del(h->ev, h->in_fd);
			h->in_eof = true;
		}
		h->in_fd = -1;
		return 0;
	}
	h->pending_len = term_filter_feed(&h->filter, buf, (size_t)n, h->pending, &quit);
	h->pending_off = 0;
	if (quit) {
		log_info(NULL, "Ctrl-A x: quitting");
		stop_user(h, 0);
		h->pending_len = 0;
		return 0;
	}
	return 1;
}

/* Offers pending input to the console device. A pollable stdin is watched
 * only while nothing is pending, so that input waits in the pipe rather than
 * being dropped; a regular file (not pollable) is read on as long as the
 * device takes what it is given. */
static void feed(struct hostio *h)
{
	bool want;

	if (!h->receive)
		return;
	for (;;) {
		if (h->pending_off < h->pending_len) {
			size_t k = h->receive(h->receive_dev, h->pending + h->pending_off,
					      h->pending_len - h->pending_off);

			h->pending_off += k;
			h->stats.in_bytes += k;
		}
		if (h->pending_off < h->pending_len)
			break; /* the device is full: wait for its rx_space */
		h->pending_off = h->pending_len = 0;
		if (!h->in_file || h->in_fd < 0 || !read_input(h))
			break;
	}
	want = h->pending_off == h->pending_len;
	if (!h->in_file && h->in_fd >= 0 && want != h->in_watched &&
	    ev_mod(h->ev, h->in_fd, want ? EPOLLIN : 0) == 0)
		h->in_watched = want;
}

static void on_in(void *ctx, uint32_t events)
{
	struct hostio *h = ctx;

	(void)events;
	if (read_input(h))
		feed(h);
}

void hostio_rx_space(void *ctx)
{
	struct hostio *h = ctx;

	/* Called by a device, perhaps with its lock held: the loop does it. */
	wake(h->rx_wake_fd);
}

static void on_rx_wake(void *ctx, uint32_t events)
{
	struct hostio *h = ctx;

	(void)events;
	drain_fd(h->rx_wake_fd);
	feed(h);
}

void hostio_set_input(struct hostio *h, size_t (*receive)(void *dev, const uint8_t *buf, size_t n),
		      void *dev)
{
	h->receive = receive;
	h->receive_dev = dev;
}

static void on_signal(void *ctx, uint32_t events)
{
	struct hostio *h = ctx;
	struct signalfd_siginfo si;

	(void)events;
	if (read(h->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_info(NULL, "signal %u: stopping the guest", si.ssi_signo);
		stop_user(h, (int)si.ssi_signo);
	}
}

/* A console-socket client connected: its input is the console's input. */
static void on_sock_client(void *ctx, int fd)
{
	struct hostio *h = ctx;

	h->in_fd = -1; /* a previous client was closed by console_sock */
	h->in_watched = false;
	if (ev_add(h->ev, fd, EPOLLIN, on_in, h) == 0) {
		h->in_fd = fd;
		h->in_watched = true;
		feed(h); /* input left over from the last client */
	}
}

static int attach_input(struct hostio *h)
{
	int rc;

	if (h->sock)
		return console_sock_attach(h->sock, h->ev, on_sock_client, h);
	if (h->in_eof)
		return 0;
	rc = ev_add(h->ev, STDIN_FILENO, EPOLLIN, on_in, h);
	if (rc == -EPERM) {
		/* Regular files and /dev/null cannot be polled: they are always
		 * readable, so read them whenever the console has room. */
		h->in_fd = STDIN_FILENO;
		h->in_file = true;
		return 0;
	}
	if (rc) {
		log_info("console", "stdin not usable (%s); the guest gets no input", strerror(-rc));
		h->in_eof = true;
		return 0;
	}
	h->in_fd = STDIN_FILENO;
	h->in_watched = true;
	if (!h->term_set) {
		term_raw(STDIN_FILENO);
		h->term_set = true;
	}
	return 0;
}

int hostio_attach(struct hostio *h, struct evloop *ev, const struct vm_stopper *stop,
		  char *err, size_t errlen)
{
	int rc;

	h->ev = ev;
	h->stop = *stop;
	rc = ev_add(ev, h->sig_fd, EPOLLIN, on_signal, h);
	if (!rc)
		rc = ev_add(ev, h->out_wake_fd, EPOLLIN, on_out, h);
	if (!rc)
		rc = ev_add(ev, h->rx_wake_fd, EPOLLIN, on_rx_wake, h);
	if (!rc && !h->sock) {
		/* Watched for EPOLLOUT only while output waits for the
		 * reader; a regular file (EPERM) is always writable. */
		int r = ev_add(ev, h->out_fd, 0, on_out, h);

		h->out_pollable = r == 0 && ev_mod(ev, h->out_fd, 0) == 0;
		h->out_armed = false;
		if (r && r != -EPERM)
			rc = r;
	}
	if (!rc)
		rc = attach_input(h);
	if (rc) {
		snprintf(err, errlen, "cannot serve the console: %s", strerror(-rc));
		return rc;
	}
	/* Input or output carried over from the machine before. */
	wake(h->rx_wake_fd);
	wake(h->out_wake_fd);
	return 0;
}

void hostio_machine_gone(struct hostio *h)
{
	h->receive = NULL;
	h->nr_producers = 0;
	if (h->sock && h->ev && h->in_fd >= 0) {
		console_sock_client_gone(h->sock, h->in_fd);
		h->in_fd = -1;
		h->in_watched = false;
	}
}

void hostio_detach(struct hostio *h)
{
	if (!h || !h->ev)
		return;
	if (h->sock) {
		console_sock_detach(h->sock);
		h->in_fd = -1;
	} else if (h->in_fd >= 0 && !h->in_file) {
		ev_del(h->ev, h->in_fd);
		h->in_fd = -1;
	}
	h->in_watched = false;
	ev_del(h->ev, h->sig_fd);
	ev_del(h->ev, h->out_wake_fd);
	ev_del(h->ev, h->rx_wake_fd);
	if (h->out_pollable)
		ev_del(h->ev, h->out_fd);
	h->out_pollable = h->out_armed = false;
	h->receive = NULL;
	h->nr_producers = 0;
	h->ev = NULL;
	h->stop = (struct vm_stopper){0};
}

static int open_signals(struct hostio *h, char *err, size_t errlen)
{
	sigset_t set;

	/* Blocked before any other thread exists, so that every thread
	 * inherits the mask and only the signalfd sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	h->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (h->sig_fd < 0) {
		snprintf(err, errlen, "cannot watch signals: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int hostio_open(struct hostio **out, const struct hostio_opts *o, char *err, size_t errlen)
{
	struct hostio *h = calloc(1, sizeof(*h));
	int rc;

	*out = h;
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	h->out_fd = STDOUT_FILENO;
	h->in_fd = h->sig_fd = h->rx_wake_fd = -1;
	h->out_wake_fd = -1;
	h->ring = malloc(HOSTIO_OUT_MAX);
	if (!h->ring)
		return -ENOMEM;
	rc = open_signals(h, err, errlen);
	if (rc)
		return rc;
	h->out_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->rx_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->out_wake_fd < 0 || h->rx_wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -errno;
	}
	if (o->serial_out) {
		h->out_fd = open(o->serial_out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (h->out_fd < 0) {
			rc = -errno;
			h->out_fd = STDOUT_FILENO;
			snprintf(err, errlen, "--serial-out %s: %s", o->serial_out, strerror(errno));
			return rc;
		}
		h->out_owned = true;
	}
	{
		struct stat st;

		h->out_can_block = fstat(h->out_fd, &st) < 0 || !S_ISREG(st.st_mode);
	}
	if (o->console_socket) {
		h->sock = calloc(1, sizeof(*h->sock));
		if (!h->sock)
			return -ENOMEM;
		rc = console_sock_open(h->sock, o->console_socket, err, errlen);
		if (rc) {
			console_sock_close(h->sock);
			free(h->sock);
			h->sock = NULL;
			return rc;
		}
	}
	return 0;
}

void hostio_close(struct hostio *h)
{
	if (!h)
		return;
	hostio_detach(h);
	term_restore();
	if (h->sock) {
		console_sock_close(h->sock);
		free(h->sock);
	}
	if (h->sig_fd >= 0)
		close(h->sig_fd);
	if (h->out_wake_fd >= 0)
		close(h->out_wake_fd);
	if (h->rx_wake_fd >= 0)
		close(h->rx_wake_fd);
	if (h->out_owned)
		close(h->out_fd);
	pthread_mutex_destroy(&h->lock);
	free(h->ring);
	free(h);
}

void hostio_keep_socket_file(struct hostio *h)
{
	if (h->sock)
		h->sock->path[0] = 0;
}

void hostio_get_stats(struct hostio *h, struct hostio_stats *s)
{
	pthread_mutex_lock(&h->lock);
	*s = h->stats;
	pthread_mutex_unlock(&h->lock);
}
