/* The API socket: a Unix stream socket (mode 0600, removed at exit) served
 * on the event loop, at most API_MAX_CONNS connections (one more is told
 * 503 and closed), requests parsed by http.c and answered in order, one at
 * a time, by the handler. A slow, malformed or vanished client affects
 * only its own connection. */
#ifndef KITE_API_SERVER_H
#define KITE_API_SERVER_H

#include <stddef.h>

#include "api/http.h"
#include "compiler.h"
#include "evloop.h"

#define API_MAX_CONNS 10

struct api_reply {
	int status;  /* 200, 204, 400, ... */
	char *body;  /* malloc'd JSON text, or NULL */
	const char *content_type; /* static; NULL: application/json */
};

/* Answers one request (event-loop thread). */
struct api_handler {
	void (*handle)(void *ctx, const struct http_request *req, struct api_reply *reply);
	void *ctx;
};

struct api_server;

/* Binds and listens at path, which must not exist (-EADDRINUSE, a clear
 * message in err). max_payload: the largest request body accepted. */
int api_server_open(struct api_server **out, const char *path, size_t max_payload, char *err,
		    size_t errlen) MUST_CHECK;
int api_server_attach(struct api_server *s, struct evloop *ev,
		      const struct api_handler *h) MUST_CHECK;
/* Closes every connection, the listener, and removes the socket file. */
void api_server_close(struct api_server *s);
/* The socket file stays at close: its path means nothing to this process
 * any more (a jail's) and another removes it (jail_cleanup.h). */
void api_server_keep_file(struct api_server *s);
int api_server_connections(const struct api_server *s);

#endif
