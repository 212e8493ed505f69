/* The guest console on a Unix socket (--console-socket PATH): one client at
 * a time (a new one takes over), guest output kept in a ring buffer while no
 * one is connected and replayed on connect. */
#ifndef KITE_CONSOLE_SOCK_H
#define KITE_CONSOLE_SOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "evloop.h"

#define CONSOLE_SOCK_RING 65536

struct console_sock {
	int listen_fd;
	int client_fd;
	char path[108];
	struct evloop *ev;
	pthread_mutex_t lock; /* client_fd and the ring: output comes from vCPUs */
	uint8_t ring[CONSOLE_SOCK_RING];
	size_t ring_head, ring_len;
	uint64_t dropped;
	/* A client connected: the owner reads its input from fd. */
	void (*on_client)(void *ctx, int fd);
	void *ctx;
};

/* Binds and listens at path (which must not exist yet). err gets one line.
 * Opened once per kite process; a failed open leaves no socket file. */
int console_sock_open(struct console_sock *cs, const char *path, char *err,
		      size_t errlen) MUST_CHECK;
/* Serves the socket on a machine's event loop: new clients are accepted
 * and handed to on_client. */
int console_sock_attach(struct console_sock *cs, struct evloop *ev,
			void (*on_client)(void *ctx, int fd), void *ctx) MUST_CHECK;
/* The machine goes away: the client is closed (it reconnects to the next
 * machine), the listener stays open. */
void console_sock_detach(struct console_sock *cs);
/* Guest output: to the client, else into the ring. Any thread. Never
 * blocks: a client that does not read loses output (counted). */
void console_sock_write(struct console_sock *cs, const uint8_t *buf, size_t n);
/* The client at fd went away (its input reached end of file). */
void console_sock_client_gone(struct console_sock *cs, int fd);
void console_sock_close(struct console_sock *cs);

#endif
