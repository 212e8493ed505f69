/* The API socket's HTTP/1.x layer: a strict request parser and a response
 * writer, with no I/O and no allocation per request (the socket server on
 * the event loop owns the buffers and the connections).
 *
 * Parsing is stateless: the caller hands http_parse everything received on
 * a connection that is not yet consumed, and calls it again, from the
 * start, when more bytes arrive. The head (request line and headers) is at
 * most HTTP_HEAD_MAX bytes, so re-parsing it costs little. One call parses
 * at most one request; on HTTP_DONE, *consumed says how many bytes it
 * used, and the rest of the buffer is the next (pipelined) request.
 *
 * Accepted: "METHOD SP /target SP HTTP/1.0|HTTP/1.1" CRLF, header lines
 * "Name: value" CRLF, an empty line CRLF, then a body of exactly
 * Content-Length bytes (none without the header). Unknown headers and all
 * Content-Type values are ignored. Header names are case-insensitive.
 *
 * Refused (HTTP_BAD, with a one-line reason in req->error for the caller's
 * 400 {"fault_message": ...}); the stream cannot be resynchronised after
 * one, so the caller answers with Connection: close and closes:
 *   - a line (request line or header) with more than HTTP_LINE_MAX bytes
 *     before its CRLF (a line of exactly HTTP_LINE_MAX bytes is accepted);
 *   - a head (request line, headers, empty line, CRLFs included) of more
 *     than HTTP_HEAD_MAX bytes, or more than HTTP_HEADERS_MAX header lines;
 *   - a bare LF, or a CR not followed by LF, anywhere in the head;
 *   - a NUL byte in the head, or a control character (other than HTAB) in
 *     a header value;
 *   - a malformed request line: method not a 1..15 character token, not
 *     exactly one SP between the three parts, a request-target that does not
 *     start with '/' or holds a byte outside 0x21..0x7e or a '#', or a
 *     version other than HTTP/x.y ("unsupported" when it is HTTP/x.y but
 *     not 1.0 or 1.1); empty lines before the request line are refused too;
 *   - a header line starting with SP or HTAB (obs-fold), without a colon,
 *     with whitespace before the colon, or with a non-token name;
 *   - Content-Length twice (even equal), or not only digits (at least
 *     one) with a value that fits in a size_t: signs, spaces inside, lists
 *     and empty values are refused;
 *   - a Content-Length above the caller's max_body (Firecracker's message);
 *   - any Transfer-Encoding header (only Content-Length bodies exist here).
 * A body on any method is parsed (GET with a body is the router's business).
 *
 * Keep-alive: HTTP/1.1 keeps the connection unless a Connection header
 * lists "close"; HTTP/1.0 closes unless one lists "keep-alive" (and not
 * "close"). Expect: 100-continue is reported for HTTP/1.1 only (RFC 9110
 * 10.1.1: a server must ignore it from a 1.0 client). */
#ifndef KITE_API_HTTP_H
#define KITE_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define HTTP_LINE_MAX 1024	       /* bytes of one line, its CRLF not counted */
#define HTTP_HEAD_MAX 16384	       /* whole head, every CRLF counted */
#define HTTP_HEADERS_MAX 64	       /* header lines */
#define HTTP_MAX_PAYLOAD_DEFAULT 51200 /* Firecracker's --http-api-max-payload-size */

/* Sent once per request by the caller when http_parse returns
 * HTTP_INCOMPLETE with headers_done and expect_continue both set. */
#define HTTP_CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

enum http_parse { HTTP_INCOMPLETE, HTTP_DONE, HTTP_BAD };

struct http_request {
	char method[16];	   /* as sent: the router refuses unknown ones */
	char path[HTTP_LINE_MAX];  /* request-target up to the first '?' */
	char query[HTTP_LINE_MAX]; /* after the '?', without it; "" if none */
	bool has_query;		   /* a '?' was present (even with nothing after) */
	int minor;		   /* HTTP/1.<minor>: 0 or 1 */
	bool keep_alive;	   /* the connection stays open after the answer */
	bool expect_continue;	   /* Expect: 100-continue from a 1.1 client */
	bool headers_done;	   /* the head is complete and valid */
	size_t content_length;	   /* 0 without the header */
	const uint8_t *body;	   /* HTTP_DONE: content_length bytes inside the
				    * caller's buffer, valid while it is unchanged */
	char error[160];	   /* HTTP_BAD: why, one line, NUL-terminated */
};

/* Parses the request at the start of buf[0..len). HTTP_DONE: all fields
 * are set and *consumed (> 0) is the request's size, head and body.
 * HTTP_INCOMPLETE: more bytes are needed; *consumed is 0; when
 * headers_done is set only the body is missing and the head's fields are
 * already final. HTTP_BAD: req->error says why; other fields are
 * unspecified. Bytes past the request are never read. */
enum http_parse http_parse(const uint8_t *buf, size_t len, size_t max_body,
			   struct http_request *req, size_t *consumed) MUST_CHECK;

/* "OK", "No Content", ... for the statuses kite sends (100, 200, 204, 400,
 * 404, 405, 413, 500, 503); NULL for any other. */
const char *http_reason(int status);

/* Formats a whole response into buf[0..cap): status line with the reason
 * phrase, "Server: kite", "Connection: close" when `close` (otherwise
 * "Connection: keep-alive", which a 1.0 client needs and Firecracker always
 * sends), "Content-Type: application/json" when there is a body,
 * "Content-Length" (also 0), the empty line, then the body. 100 is exactly
 * HTTP_CONTINUE and 204 has no Content-Length: RFC 9110 8.6 forbids it in
 * 1xx and 204 responses, and Firecracker omits it there too. *len is set to
 * the full size even when it does not fit (-ENOSPC), so the caller can
 * grow its buffer and call again. -EINVAL: unknown status, or a body with
 * 100 or 204. Nothing is written past cap; no NUL terminator is added. */
int http_response(char *buf, size_t cap, size_t *len, int status, bool close, const void *body,
		  size_t body_len) MUST_CHECK;

/* http_response with another Content-Type for the body (NULL: JSON), e.g.
 * Prometheus's text format. content_type must be one line, no CR or LF. */
int http_response_typed(char *buf, size_t cap, size_t *len, int status, bool close,
			const char *content_type, const void *body, size_t body_len) MUST_CHECK;

/* Firecracker's error body {"fault_message": "<msg>"}, JSON-escaped by
 * jansson. Bytes of msg that are not valid UTF-8 become '?'. Sizes as
 * http_response (-ENOSPC with *len set); -ENOMEM from jansson. */
int http_fault_body(char *buf, size_t cap, size_t *len, const char *msg) MUST_CHECK;

/* http_response with http_fault_body as the body. */
int http_fault_response(char *buf, size_t cap, size_t *len, int status, bool close,
			const char *msg) MUST_CHECK;

#endif
