/* HTTP/1.x request parser and response writer for the API socket (see
 * http.h for the accepted grammar and every limit). Every byte here comes
 * from an API client: the parser only ever indexes below `len`, and each
 * length it derives is bounded by HTTP_LINE_MAX, HTTP_HEAD_MAX or the
 * caller's max_body before it is used. */
#include "api/http.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum line { LINE_OK, LINE_MORE, LINE_BAD };

/* Per-request flags gathered from the headers, turned into req fields at
 * the end of the head (keep-alive depends on the version and on every
 * Connection header, so it is decided once they are all seen). */
struct head_state {
	bool have_length;
	bool conn_close, conn_keep;
	bool expect;
};

static enum http_parse bad(struct http_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum http_parse bad(struct http_request *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->error, sizeof(req->error), fmt, ap);
	va_end(ap);
	return HTTP_BAD;
}

/* RFC 9110 5.6.2 tchar: what a method and a header name are made of. */
static bool is_tchar(uint8_t c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Finds the line starting at `off`: on LINE_OK, *n is its length without
 * the CRLF. Scans no further than the head may reach, so a client that
 * never sends CRLF is refused once it passes a limit instead of growing
 * the caller's buffer. The checks are position-ordered, so a prefix of the
 * input that is refused is refused by the same check once more arrives. */
static enum line next_line(const uint8_t *buf, size_t len, size_t off, size_t *n,
			   struct http_request *req)
{
	/* CLIENT: len is the caller's buffer size; the head is bounded by
	 * HTTP_HEAD_MAX, so nothing past it is read while looking for CRLF. */
	size_t lim = MIN(len, (size_t)HTTP_HEAD_MAX);

	for (size_t i = off; i < lim; i++) {
		uint8_t c = buf[i];

		if (c == '\r') {
			if (i + 1 >= lim)
				break;
			if (buf[i + 1] != '\n') {
				bad(req, "CR without LF at byte %zu", i);
				return LINE_BAD;
			}
			*n = i - off;
			return LINE_OK;
		}
		if (i - off >= HTTP_LINE_MAX) {
			bad(req, "Line longer than %d bytes", HTTP_LINE_MAX);
			return LINE_BAD;
		}
		if (c == '\n') {
			bad(req, "Bare LF at byte %zu: lines must end in CRLF", i);
			return LINE_BAD;
		}
		if (c == '\0') {
			bad(req, "NUL byte at byte %zu", i);
			return LINE_BAD;
		}
	}
	/* The head must end within HTTP_HEAD_MAX bytes: if those are all
	 * here and it has not, more bytes cannot help. */
	if (len >= HTTP_HEAD_MAX) {
		bad(req, "Request headers larger than %d bytes", HTTP_HEAD_MAX);
		return LINE_BAD;
	}
	return LINE_MORE;
}

/* "METHOD SP /target SP HTTP/1.x": exactly, nothing tolerated. */
static enum http_parse request_line(const uint8_t *p, size_t n, struct http_request *req)
{
	size_t i = 0, m, t, plen;
	const uint8_t *v;

	while (i < n && is_tchar(p[i]))
		i++;
	if (i == 0 || i >= n || p[i] != ' ')
		return bad(req, "Malformed request line (expected: METHOD /path HTTP/1.1)");
	if (i >= sizeof(req->method))
		return bad(req, "Method longer than %zu bytes", sizeof(req->method) - 1);
	memcpy(req->method, p, i);
	req->method[i] = '\0';
	m = ++i;

	while (i < n && p[i] > 0x20 && p[i] < 0x7f && p[i] != '#')
		i++;
	if (i == m || i >= n || p[i] != ' ')
		return bad(req, "Malformed request target");
	if (p[m] != '/')
		return bad(req, "Request target must start with '/'");
	t = i - m;
	/* CLIENT: t < n <= HTTP_LINE_MAX, the size of path and query. */
	v = memchr(p + m, '?', t);
	plen = v ? (size_t)(v - (p + m)) : t;
	memcpy(req->path, p + m, plen);
	req->path[plen] = '\0';
	if (v) {
		req->has_query = true;
		memcpy(req->query, v + 1, t - plen - 1);
		req->query[t - plen - 1] = '\0';
	}

	v = p + i + 1;
	if (n - i - 1 != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
	    v[7] < '0' || v[7] > '9')
		return bad(req, "Malformed HTTP version in request line");
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return bad(req, "Unsupported HTTP version %.8s", (const char *)v);
	req->minor = v[7] - '0';
	return HTTP_DONE;
}

/* CLIENT: digits only, with overflow checked, so the value is exact and
 * then compared with max_body before anything is sized by it. */
static bool parse_length(const uint8_t *v, size_t n, size_t *out)
{
	size_t x = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, v[i] - '0', &x))
			return false;
	}
	*out = x;
	return true;
}

static bool token_is(const uint8_t *v, size_t n, const char *word)
{
	return n == strlen(word) && !strncasecmp((const char *)v, word, n);
}

/* Connection: a comma-separated list of options, each compared
 * case-insensitively; unknown ones (Upgrade, TE, ...) mean nothing here. */
static void connection_tokens(const uint8_t *v, size_t n, struct head_state *hs)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (is_ows(v[i]) || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && is_ows(v[e - 1]))
			e--;
		if (token_is(v + s, e - s, "close"))
			hs->conn_close = true;
		else if (token_is(v + s, e - s, "keep-alive"))
			hs->conn_keep = true;
	}
}

static enum http_parse header_line(const uint8_t *p, size_t n, size_t max_body,
				   struct http_request *req, struct head_state *hs)
{
	size_t i = 0, name_len, vs, ve;
	const uint8_t *v;

	if (is_ows(p[0]))
		return bad(req, "Header continuation lines (obs-fold) are not supported");
	v = memchr(p, ':', n);
	if (!v)
		return bad(req, "Header line without ':'");
	name_len = (size_t)(v - p);
	if (name_len == 0)
		return bad(req, "Empty header name");
	for (; i < name_len; i++) {
		if (is_ows(p[i]))
			return bad(req, "Whitespace before ':' in header line");
		if (!is_tchar(p[i]))
			return bad(req, "Invalid character in header name");
	}
	vs = i + 1;
	ve = n;
	while (vs < ve && is_ows(p[vs]))
		vs++;
	while (ve > vs && is_ows(p[ve - 1]))
		ve--;
	for (size_t j = vs; j < ve; j++)
		if ((p[j] < 0x20 && p[j] != '\t') || p[j] == 0x7f)
			return bad(req, "Control character in header value");
	v = p + vs;

	if (token_is(p, name_len, "Content-Length")) {
		if (hs->have_length)
			return bad(req, "Duplicate Content-Length header");
		hs->have_length = true;
		if (!parse_length(v, ve - vs, &req->content_length))
			return bad(req, "Invalid Content-Length value");
		if (req->content_length > max_body)
			return bad(req,
				   "Request payload with size %zu is larger than the limit of %zu "
				   "allowed by server.",
				   req->content_length, max_body);
	} else if (token_is(p, name_len, "Transfer-Encoding")) {
		return bad(req, "Transfer-Encoding is not supported: send a Content-Length body");
	} else if (token_is(p, name_len, "Connection")) {
		connection_tokens(v, ve - vs, hs);
	} else if (token_is(p, name_len, "Expect")) {
		if (token_is(v, ve - vs, "100-continue"))
			hs->expect = true;
	}
	return HTTP_DONE;
}

enum http_parse http_parse(const uint8_t *buf, size_t len, size_t max_body,
			   struct http_request *req, size_t *consumed)
{
	struct head_state hs = {0};
	size_t off = 0, n = 0, headers = 0;
	enum http_parse r;
	enum line l;

	memset(req, 0, sizeof(*req));
	*consumed = 0;

	l = next_line(buf, len, off, &n, req);
	if (l != LINE_OK)
		return l == LINE_MORE ? HTTP_INCOMPLETE : HTTP_BAD;
	r = request_line(buf, n, req);
	if (r != HTTP_DONE)
		return r;
	off = n + 2;

	for (;;) {
		l = next_line(buf, len, off, &n, req);
		if (l != LINE_OK)
			return l == LINE_MORE ? HTTP_INCOMPLETE : HTTP_BAD;
		if (n == 0)
			break;
		if (++headers > HTTP_HEADERS_MAX)
			return bad(req, "More than %d header lines", HTTP_HEADERS_MAX);
		r = header_line(buf + off, n, max_body, req, &hs);
		if (r != HTTP_DONE)
			return r;
		off += n + 2;
	}
	off += 2; /* the empty line; off <= HTTP_HEAD_MAX */

	req->keep_alive = !hs.conn_close && (req->minor == 1 || hs.conn_keep);
	req->expect_continue = hs.expect && req->minor == 1;
	req->headers_done = true;
	/* CLIENT: content_length <= max_body (header_line); off <= len. */
	if (len - off < req->content_length)
		return HTTP_INCOMPLETE;
	req->body = buf + off;
	*consumed = off + req->content_length;
	return HTTP_DONE;
}

const char *http_reason(int status)
{
	switch (status) {
	case 100:
		return "Continue";
	case 200:
		return "OK";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Payload Too Large";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return NULL;
	}
}

int http_response(char *buf, size_t cap, size_t *len, int status, bool close, const void *body,
		  size_t body_len)
{
	return http_response_typed(buf, cap, len, status, close, NULL, body, body_len);
}

int http_response_typed(char *buf, size_t cap, size_t *len, int status, bool close,
			const char *content_type, const void *body, size_t body_len)
{
	const char *reason = http_reason(status);
	char head[256];
	int h;

	*len = 0;
	if (!reason || (body_len && (status == 100 || status == 204)))
		return -EINVAL;
	if (status == 100)
		h = snprintf(head, sizeof(head), "%s", HTTP_CONTINUE);
	else
		h = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d %s\r\nServer: kite\r\nConnection: %s\r\n%s%s%s", status,
			     reason, close ? "close" : "keep-alive", body_len ? "Content-Type: " : "",
			     body_len ? (content_type ? content_type : "application/json") : "",
			     body_len ? "\r\n" : "");
	if (h < 0 || (size_t)h >= sizeof(head))
		return -EINVAL;
	if (status != 100 && status != 204) {
		int c =
		    snprintf(head + h, sizeof(head) - h, "Content-Length: %zu\r\n\r\n", body_len);

		if (c < 0 || (size_t)c >= sizeof(head) - h)
			return -EINVAL;
		h += c;
	} else if (status == 204) {
		if ((size_t)h + 2 >= sizeof(head))
			return -EINVAL;
		memcpy(head + h, "\r\n", 3);
		h += 2;
	}
	if (__builtin_add_overflow((size_t)h, body_len, len))
		return -EINVAL;
	if (*len > cap)
		return -ENOSPC;
	memcpy(buf, head, h);
	if (body_len)
		memcpy(buf + h, body, body_len);
	return 0;
}

/* The fault object; a message with invalid UTF-8 (which jansson refuses)
 * is retried with every byte above 0x7f replaced, so a client's bytes
 * quoted in an error cannot make the error itself fail. */
static char *fault_json(const char *msg)
{
	json_t *s = json_string(msg), *o;
	char *out = NULL;

	if (!s) {
		char *copy = strdup(msg);

		if (!copy)
			return NULL;
		for (char *c = copy; *c; c++)
			if ((unsigned char)*c > 0x7f)
				*c = '?';
		s = json_string(copy);
		free(copy);
		if (!s)
			return NULL;
	}
	o = json_object();
	if (!o) {
		json_decref(s);
		return NULL;
	}
	/* set_new takes s even when it fails. Flags 0: `": "` separators,
	 * the spelling Firecracker's documentation shows. */
	if (!json_object_set_new(o, "fault_message", s))
		out = json_dumps(o, 0);
	json_decref(o);
	return out;
}

int http_fault_body(char *buf, size_t cap, size_t *len, const char *msg)
{
	char *j = fault_json(msg);

	*len = 0;
	if (!j)
		return -ENOMEM;
	*len = strlen(j);
	if (*len > cap) {
		free(j);
		return -ENOSPC;
	}
	memcpy(buf, j, *len);
	free(j);
	return 0;
}

int http_fault_response(char *buf, size_t cap, size_t *len, int status, bool close, const char *msg)
{
	char *j = fault_json(msg);
	int r;

	*len = 0;
	if (!j)
		return -ENOMEM;
	r = http_response(buf, cap, len, status, close, j, strlen(j));
	free(j);
	return r;
}
