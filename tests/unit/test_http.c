/* Unit tests for src/api/http.c. One table of raw requests, each checked
 * whole and fed byte by byte (every prefix must be INCOMPLETE, or BAD from
 * some point on and then for good); generated requests at the exact line,
 * head, header-count and body limits; pipelining; and the response writer
 * with the fault body's JSON escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/http.h"

#define RAW(s) .raw = (s), .raw_len = sizeof(s) - 1
#define BODY(s) .body = (s), .body_len = sizeof(s) - 1

struct req_case {
	const char *raw;
	size_t raw_len;
	size_t max_body; /* 0: HTTP_MAX_PAYLOAD_DEFAULT */
	enum http_parse want;
	const char *method, *path, *query; /* query NULL: no '?' */
	int minor;
	bool keep_alive, expect;
	const char *body; /* NULL: no body */
	size_t body_len;
	size_t tail;	 /* bytes left after the request (pipelining) */
	const char *err; /* HTTP_BAD: substring of req.error */
};

static const struct req_case cases[] = {
    /* Valid requests. */
    {RAW("GET / HTTP/1.1\r\n\r\n"), .want = HTTP_DONE, .method = "GET", .path = "/", .minor = 1,
     .keep_alive = true},
    {RAW("GET /machine-config HTTP/1.0\r\nHost: localhost\r\n\r\n"), .want = HTTP_DONE,
     .method = "GET", .path = "/machine-config", .minor = 0},
    {RAW("GET /version HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), .want = HTTP_DONE,
     .method = "GET", .path = "/version", .minor = 0, .keep_alive = true},
    {RAW("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"), .want = HTTP_DONE,
     .method = "GET", .path = "/", .minor = 0},
    {RAW("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), .want = HTTP_DONE, .method = "GET",
     .path = "/", .minor = 1},
    {RAW("GET / HTTP/1.1\r\nconnection:  Upgrade ,CLOSE \r\n\r\n"), .want = HTTP_DONE,
     .method = "GET", .path = "/", .minor = 1},
    {RAW("GET / HTTP/1.1\r\nConnection: upgrade\r\nConnection: keep-alive\r\n\r\n"),
     .want = HTTP_DONE, .method = "GET", .path = "/", .minor = 1, .keep_alive = true},
    {RAW("PUT /machine-config HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
	 "Accept: application/json\r\nContent-Length: 36\r\n\r\n"
	 "{\"vcpu_count\": 2, \"mem_size_mib\": 1}"),
     .want = HTTP_DONE, .method = "PUT", .path = "/machine-config", .minor = 1, .keep_alive = true,
     BODY("{\"vcpu_count\": 2, \"mem_size_mib\": 1}")},
    {RAW("PATCH /drives/drive_0 HTTP/1.1\r\ncOnTeNt-LeNgTh:\t2\t\r\nX-Unknown: \x80\xff\r\n\r\n{}"),
     .want = HTTP_DONE, .method = "PATCH", .path = "/drives/drive_0", .minor = 1,
     .keep_alive = true, BODY("{}")},
    {RAW("PUT /actions HTTP/1.1\r\nContent-Type: text/x-whatever; charset=\"?\"\r\n"
	 "Content-Length: 0\r\n\r\n"),
     .want = HTTP_DONE, .method = "PUT", .path = "/actions", .minor = 1, .keep_alive = true,
     BODY("")},
    {RAW("PUT /actions HTTP/1.1\r\nContent-Length: 0000\r\n\r\n"), .want = HTTP_DONE,
     .method = "PUT", .path = "/actions", .minor = 1, .keep_alive = true, BODY("")},
    {RAW("GET /vm/config HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"), .want = HTTP_DONE,
     .method = "GET", .path = "/vm/config", .minor = 1, .keep_alive = true, BODY("abc")},
    {RAW("PUT /x HTTP/1.1\r\nContent-Length: 4\r\n\r\na\0\r\n"), .want = HTTP_DONE, .method = "PUT",
     .path = "/x", .minor = 1, .keep_alive = true, BODY("a\0\r\n")},
    {RAW("PUT /logger HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n{}"),
     .want = HTTP_DONE, .method = "PUT", .path = "/logger", .minor = 1, .keep_alive = true,
     .expect = true, BODY("{}")},
    {RAW("PUT /logger HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"),
     .want = HTTP_DONE, .method = "PUT", .path = "/logger", .minor = 0, BODY("{}")},
    {RAW("GET /a?b=c&d HTTP/1.1\r\n\r\n"), .want = HTTP_DONE, .method = "GET", .path = "/a",
     .query = "b=c&d", .minor = 1, .keep_alive = true},
    {RAW("GET /?x?y HTTP/1.1\r\n\r\n"), .want = HTTP_DONE, .method = "GET", .path = "/",
     .query = "x?y", .minor = 1, .keep_alive = true},
    {RAW("GET /a? HTTP/1.1\r\n\r\n"), .want = HTTP_DONE, .method = "GET", .path = "/a", .query = "",
     .minor = 1, .keep_alive = true},
    {RAW("BREW /%41 HTTP/1.1\r\nEmpty:\r\n\r\n"), .want = HTTP_DONE, .method = "BREW",
     .path = "/%41", .minor = 1, .keep_alive = true},
    {RAW("GET / HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n"), .want = HTTP_DONE, .method = "GET",
     .path = "/", .minor = 1, .keep_alive = true, .tail = 22},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 1\r\n\r\nxyz"), .want = HTTP_DONE, .method = "PUT",
     .path = "/", .minor = 1, .keep_alive = true, BODY("x"), .tail = 2},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 5\r\n\r\n12345"), .max_body = 5, .want = HTTP_DONE,
     .method = "PUT", .path = "/", .minor = 1, .keep_alive = true, BODY("12345")},

    /* Incomplete, with the head done: the caller sends 100 Continue. */
    {RAW("PUT /a HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n12"),
     .want = HTTP_INCOMPLETE, .method = "PUT", .path = "/a", .minor = 1, .keep_alive = true,
     .expect = true},
    {RAW("GET / HTTP/1.1\r\nHost: x\r\n"), .want = HTTP_INCOMPLETE},
    {RAW("GET / HTTP/1.1\r\r"), .want = HTTP_BAD, .err = "CR without LF"},

    /* Refused. */
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 6\r\n\r\n123456"), .max_body = 5, .want = HTTP_BAD,
     .err = "Request payload with size 6 is larger than the limit of 5 allowed by server."},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 51201\r\n\r\n"), .want = HTTP_BAD,
     .err = "size 51201 is larger than the limit of 51200"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}"), .want = HTTP_BAD,
     .err = "Duplicate Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 3\r\n\r\n{}"), .want = HTTP_BAD,
     .err = "Duplicate Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: +2\r\n\r\n{}"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: -0\r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 2,2\r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length:  \r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid Content-Length"},
    {RAW("PUT / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"), .want = HTTP_BAD,
     .err = "size 18446744073709551615 is larger than the limit"},
    {RAW("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), .want = HTTP_BAD,
     .err = "Transfer-Encoding is not supported"},
    {RAW("PUT / HTTP/1.1\r\ntransfer-encoding: identity\r\nContent-Length: 0\r\n\r\n"),
     .want = HTTP_BAD, .err = "Transfer-Encoding is not supported"},
    {RAW("GET / HTTP/1.1\n\n"), .want = HTTP_BAD, .err = "Bare LF"},
    {RAW("GET / HTTP/1.1\r\nHost: x\n\r\n"), .want = HTTP_BAD, .err = "Bare LF"},
    {RAW("GET / HTTP/1.1\r\n\n"), .want = HTTP_BAD, .err = "Bare LF"},
    {RAW("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), .want = HTTP_BAD, .err = "CR without LF"},
    {RAW("GET /\0 HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "NUL byte at byte 5"},
    {RAW("GET / HTTP/1.1\r\nHost: \0\r\n\r\n"), .want = HTTP_BAD, .err = "NUL byte"},
    {RAW("GET / HTTP/1.1\r\nX: a\x01z\r\n\r\n"), .want = HTTP_BAD,
     .err = "Control character in header value"},
    {RAW("GET / HTTP/1.1\r\nX: a\x7fz\r\n\r\n"), .want = HTTP_BAD,
     .err = "Control character in header value"},
    {RAW("GET  / HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request target"},
    {RAW("GET /  HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed HTTP version"},
    {RAW("GET / HTTP/1.1 \r\n\r\n"), .want = HTTP_BAD, .err = "Malformed HTTP version"},
    {RAW("GET / http/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed HTTP version"},
    {RAW("GET / HTTP/1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed HTTP version"},
    {RAW("GET / HTTP/11.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed HTTP version"},
    {RAW("GET /\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request target"},
    {RAW("GET\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request line"},
    {RAW(" GET / HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request line"},
    {RAW("G(T / HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request line"},
    {RAW("GET\t/ HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request line"},
    {RAW("\r\nGET / HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request line"},
    {RAW("ABCDEFGHIJKLMNOP / HTTP/1.1\r\n\r\n"), .want = HTTP_BAD,
     .err = "Method longer than 15 bytes"},
    {RAW("GET * HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "must start with '/'"},
    {RAW("GET http://localhost/ HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "must start with '/'"},
    {RAW("GET /a#frag HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request target"},
    {RAW("GET /\xc3\xa9 HTTP/1.1\r\n\r\n"), .want = HTTP_BAD, .err = "Malformed request target"},
    {RAW("GET / HTTP/2.0\r\n\r\n"), .want = HTTP_BAD, .err = "Unsupported HTTP version HTTP/2.0"},
    {RAW("GET / HTTP/1.2\r\n\r\n"), .want = HTTP_BAD, .err = "Unsupported HTTP version HTTP/1.2"},
    {RAW("GET / HTTP/0.9\r\n\r\n"), .want = HTTP_BAD, .err = "Unsupported HTTP version"},
    {RAW("GET / HTTP/1.1\r\nHost localhost\r\n\r\n"), .want = HTTP_BAD,
     .err = "Header line without ':'"},
    {RAW("GET / HTTP/1.1\r\nHost : localhost\r\n\r\n"), .want = HTTP_BAD,
     .err = "Whitespace before ':'"},
    {RAW("GET / HTTP/1.1\r\nHost\t: localhost\r\n\r\n"), .want = HTTP_BAD,
     .err = "Whitespace before ':'"},
    {RAW("GET / HTTP/1.1\r\n: x\r\n\r\n"), .want = HTTP_BAD, .err = "Empty header name"},
    {RAW("GET / HTTP/1.1\r\nA(b: x\r\n\r\n"), .want = HTTP_BAD,
     .err = "Invalid character in header name"},
    {RAW("GET / HTTP/1.1\r\nX-A: 1\r\n  folded\r\n\r\n"), .want = HTTP_BAD, .err = "obs-fold"},
    {RAW("GET / HTTP/1.1\r\nX-A: 1\r\n\tfolded\r\n\r\n"), .want = HTTP_BAD, .err = "obs-fold"},
};

static void check_fields(const struct req_case *c, const struct http_request *r)
{
	assert_string_equal(r->method, c->method);
	assert_string_equal(r->path, c->path);
	assert_int_equal(r->has_query, c->query != NULL);
	assert_string_equal(r->query, c->query ? c->query : "");
	assert_int_equal(r->minor, c->minor);
	assert_int_equal(r->keep_alive, c->keep_alive);
	assert_int_equal(r->expect_continue, c->expect);
	assert_true(r->headers_done);
}

static void test_table(void **s)
{
	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct req_case *c = &cases[i];
		size_t max = c->max_body ? c->max_body : HTTP_MAX_PAYLOAD_DEFAULT, used = 99;
		struct http_request r;
		enum http_parse got =
		    http_parse((const uint8_t *)c->raw, c->raw_len, max, &r, &used);

		if (got != c->want)
			fail_msg("case %zu (%.*s): got %d, want %d (%s)", i,
				 (int)strcspn(c->raw, "\r\n"), c->raw, got, c->want, r.error);
		if (got == HTTP_BAD) {
			if (!strstr(r.error, c->err))
				fail_msg("case %zu: error \"%s\", want \"%s\"", i, r.error, c->err);
			assert_null(strchr(r.error, '\n'));
			assert_int_equal(used, 0);
			continue;
		}
		if (got == HTTP_INCOMPLETE) {
			assert_int_equal(used, 0);
			if (c->method)
				check_fields(c, &r);
			else
				assert_false(r.headers_done);
			continue;
		}
		check_fields(c, &r);
		assert_int_equal(used, c->raw_len - c->tail);
		assert_int_equal(r.content_length, c->body ? c->body_len : 0);
		if (c->body) {
			assert_ptr_equal(r.body + r.content_length, (const uint8_t *)c->raw + used);
			assert_memory_equal(r.body, c->body, r.content_length);
		}
	}
}

/* Every prefix of a request the table accepts is INCOMPLETE (with the head
 * fields already final once it is complete), then the whole gives the same
 * fields. Every prefix of a refused one is INCOMPLETE up to some length
 * and BAD from there on, never DONE. */
static void test_every_split(void **s)
{
	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct req_case *c = &cases[i];
		size_t max = c->max_body ? c->max_body : HTTP_MAX_PAYLOAD_DEFAULT;
		size_t end = c->raw_len - c->tail, used;
		struct http_request whole, r;
		bool was_bad = false;

		if (c->want == HTTP_INCOMPLETE)
			continue;
		assert_int_equal(
		    http_parse((const uint8_t *)c->raw, c->raw_len, max, &whole, &used), c->want);
		for (size_t n = 0; n < end; n++) {
			/* A copy of exactly n bytes: ASan sees any read past it. */
			uint8_t *p = malloc(n ? n : 1);
			enum http_parse got;

			memcpy(p, c->raw, n);
			got = http_parse(p, n, max, &r, &used);
			assert_int_equal(used, 0);
			if (c->want == HTTP_DONE) {
				assert_int_equal(got, HTTP_INCOMPLETE);
				if (r.headers_done) {
					check_fields(c, &r);
					assert_int_equal(r.content_length, whole.content_length);
				}
			} else {
				assert_int_not_equal(got, HTTP_DONE);
				assert_false(was_bad && got != HTTP_BAD);
				was_bad = got == HTTP_BAD;
			}
			free(p);
		}
		if (c->want == HTTP_DONE) {
			uint8_t *p = malloc(end);

			memcpy(p, c->raw, end);
			assert_int_equal(http_parse(p, end, max, &r, &used), HTTP_DONE);
			assert_int_equal(used, end);
			check_fields(c, &r);
			assert_int_equal(r.content_length, whole.content_length);
			assert_memory_equal(r.body, whole.body, r.content_length);
			free(p);
		}
	}
}

static void test_expect_continue(void **s)
{
	static const char raw[] = "PUT /boot-source HTTP/1.1\r\nExpect: 100-continue\r\n"
				  "Content-Length: 4\r\n\r\nbody";
	size_t head = sizeof(raw) - 1 - 4, used;
	struct http_request r;

	(void)s;
	assert_int_equal(http_parse((const uint8_t *)raw, head - 1, 100, &r, &used),
			 HTTP_INCOMPLETE);
	assert_false(r.headers_done);
	for (size_t n = head; n < head + 4; n++) {
		assert_int_equal(http_parse((const uint8_t *)raw, n, 100, &r, &used),
				 HTTP_INCOMPLETE);
		assert_true(r.headers_done && r.expect_continue);
		assert_int_equal(r.content_length, 4);
	}
	assert_int_equal(http_parse((const uint8_t *)raw, head + 4, 100, &r, &used), HTTP_DONE);
	assert_true(r.expect_continue);
	assert_memory_equal(r.body, "body", 4);
}

static void test_pipelined(void **s)
{
	static const char raw[] = "PUT /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}"
				  "GET /b?c HTTP/1.0\r\n\r\n"
				  "PATCH /vm HTTP/1.1\r\nContent-Length: 20\r\n\r\n{\"st";
	const uint8_t *p = (const uint8_t *)raw;
	size_t left = sizeof(raw) - 1, used;
	struct http_request r;

	(void)s;
	assert_int_equal(http_parse(p, left, 100, &r, &used), HTTP_DONE);
	assert_string_equal(r.path, "/a");
	assert_memory_equal(r.body, "{}", 2);
	p += used;
	left -= used;
	assert_int_equal(http_parse(p, left, 100, &r, &used), HTTP_DONE);
	assert_string_equal(r.path, "/b");
	assert_string_equal(r.query, "c");
	assert_false(r.keep_alive);
	p += used;
	left -= used;
	assert_int_equal(http_parse(p, left, 100, &r, &used), HTTP_INCOMPLETE);
	assert_true(r.headers_done);
	assert_string_equal(r.method, "PATCH");
	assert_int_equal(used, 0);
}

/* "GET /aaa...a HTTP/1.1": a request line of exactly `line` bytes. */
static size_t long_line(char *buf, size_t line)
{
	size_t n = 0;

	n += (size_t)sprintf(buf, "GET /");
	memset(buf + n, 'a', line - 5 - 9);
	n += line - 5 - 9;
	n += (size_t)sprintf(buf + n, " HTTP/1.1\r\n\r\n");
	return n;
}

static void test_line_limit(void **s)
{
	char buf[HTTP_LINE_MAX + 64];
	struct http_request r;
	size_t n, used;

	(void)s;
	n = long_line(buf, HTTP_LINE_MAX);
	assert_int_equal(http_parse((uint8_t *)buf, n, 0, &r, &used), HTTP_DONE);
	assert_int_equal(strlen(r.path), HTTP_LINE_MAX - 13);
	n = long_line(buf, HTTP_LINE_MAX + 1);
	assert_int_equal(http_parse((uint8_t *)buf, n, 0, &r, &used), HTTP_BAD);
	assert_string_equal(r.error, "Line longer than 1024 bytes");
	/* Refused before its end arrives: HTTP_LINE_MAX + 1 bytes, no CR. */
	assert_int_equal(http_parse((uint8_t *)buf, HTTP_LINE_MAX + 1, 0, &r, &used), HTTP_BAD);
	assert_int_equal(http_parse((uint8_t *)buf, HTTP_LINE_MAX, 0, &r, &used), HTTP_INCOMPLETE);

	/* A header line of exactly 1024 bytes, and of 1025. */
	for (size_t len = HTTP_LINE_MAX; len <= HTTP_LINE_MAX + 1; len++) {
		n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX: ");
		memset(buf + n, 'v', len - 3);
		n += len - 3;
		n += (size_t)sprintf(buf + n, "\r\n\r\n");
		assert_int_equal(http_parse((uint8_t *)buf, n, 0, &r, &used),
				 len == HTTP_LINE_MAX ? HTTP_DONE : HTTP_BAD);
	}
}

/* A head of `size` bytes made of 1000-byte filler headers and one short. */
static size_t big_head(char *buf, size_t size)
{
	size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");

	while (size - n - 2 > 1002) {
		n += (size_t)sprintf(buf + n, "X: ");
		memset(buf + n, 'h', 995);
		n += 995;
		n += (size_t)sprintf(buf + n, "\r\n");
	}
	if (size - n - 2 > 0) {
		size_t v = size - n - 2 - 5;

		n += (size_t)sprintf(buf + n, "Y: ");
		memset(buf + n, 'y', v);
		n += v;
		n += (size_t)sprintf(buf + n, "\r\n");
	}
	n += (size_t)sprintf(buf + n, "\r\n");
	assert_int_equal(n, size);
	return n;
}

static void test_head_limit(void **s)
{
	static char buf[HTTP_HEAD_MAX + 4096];
	struct http_request r;
	size_t n, used;

	(void)s;
	n = big_head(buf, HTTP_HEAD_MAX);
	assert_int_equal(http_parse((uint8_t *)buf, n, 0, &r, &used), HTTP_DONE);
	assert_int_equal(used, HTTP_HEAD_MAX);
	n = big_head(buf, HTTP_HEAD_MAX + 1);
	assert_int_equal(http_parse((uint8_t *)buf, n, 0, &r, &used), HTTP_BAD);
	assert_string_equal(r.error, "Request headers larger than 16384 bytes");
	/* Refused as soon as HTTP_HEAD_MAX bytes hold no complete head. */
	assert_int_equal(http_parse((uint8_t *)buf, HTTP_HEAD_MAX, 0, &r, &used), HTTP_BAD);
	assert_int_equal(http_parse((uint8_t *)buf, HTTP_HEAD_MAX - 1, 0, &r, &used),
			 HTTP_INCOMPLETE);
}

static void test_header_count(void **s)
{
	static char buf[4096];
	struct http_request r;
	size_t used;

	(void)s;
	for (int count = HTTP_HEADERS_MAX; count <= HTTP_HEADERS_MAX + 1; count++) {
		size_t n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");

		for (int i = 0; i < count; i++)
			n += (size_t)sprintf(buf + n, "H%d: %d\r\n", i, i);
		n += (size_t)sprintf(buf + n, "\r\n");
		enum http_parse got = http_parse((uint8_t *)buf, n, 0, &r, &used);

		if (count == HTTP_HEADERS_MAX) {
			assert_int_equal(got, HTTP_DONE);
		} else {
			assert_int_equal(got, HTTP_BAD);
			assert_string_equal(r.error, "More than 64 header lines");
		}
	}
}

static void test_body_limit(void **s)
{
	static char buf[HTTP_MAX_PAYLOAD_DEFAULT + 128];
	struct http_request r;
	size_t used;

	(void)s;
	for (size_t len = HTTP_MAX_PAYLOAD_DEFAULT; len <= HTTP_MAX_PAYLOAD_DEFAULT + 1; len++) {
		size_t n = (size_t)sprintf(
		    buf, "PUT /drives/x HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", len);

		memset(buf + n, 'b', len);
		enum http_parse got =
		    http_parse((uint8_t *)buf, n + len, HTTP_MAX_PAYLOAD_DEFAULT, &r, &used);

		if (len == HTTP_MAX_PAYLOAD_DEFAULT) {
			assert_int_equal(got, HTTP_DONE);
			assert_int_equal(used, n + len);
		} else {
			assert_int_equal(got, HTTP_BAD);
			/* Refused from the head alone: no need to wait for the body. */
			assert_int_equal(
			    http_parse((uint8_t *)buf, n, HTTP_MAX_PAYLOAD_DEFAULT, &r, &used),
			    HTTP_BAD);
		}
	}
}

static void test_response(void **s)
{
	char buf[512];
	size_t len;

	(void)s;
	assert_int_equal(http_response(buf, sizeof(buf), &len, 204, false, NULL, 0), 0);
	assert_int_equal(len, strlen("HTTP/1.1 204 No Content\r\nServer: kite\r\n"
				     "Connection: keep-alive\r\n\r\n"));
	assert_memory_equal(
	    buf, "HTTP/1.1 204 No Content\r\nServer: kite\r\nConnection: keep-alive\r\n\r\n", len);
	assert_int_equal(http_response(buf, sizeof(buf), &len, 200, true, "{\"a\":1}", 7), 0);
	static const char ok[] =
	    "HTTP/1.1 200 OK\r\nServer: kite\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
	assert_int_equal(len, sizeof(ok) - 1);
	assert_memory_equal(buf, ok, len);
	assert_int_equal(http_response(buf, sizeof(buf), &len, 200, false, NULL, 0), 0);
	static const char empty[] = "HTTP/1.1 200 OK\r\nServer: kite\r\nConnection: keep-alive\r\n"
				    "Content-Length: 0\r\n\r\n";
	assert_int_equal(len, sizeof(empty) - 1);
	assert_memory_equal(buf, empty, len);
	/* Another body type (GET /kite/metrics: Prometheus text). */
	assert_int_equal(http_response_typed(buf, sizeof(buf), &len, 200, false,
					     "text/plain; version=0.0.4", "m 1\n", 4), 0);
	static const char prom[] = "HTTP/1.1 200 OK\r\nServer: kite\r\nConnection: keep-alive\r\n"
				   "Content-Type: text/plain; version=0.0.4\r\n"
				   "Content-Length: 4\r\n\r\nm 1\n";
	assert_int_equal(len, sizeof(prom) - 1);
	assert_memory_equal(buf, prom, len);
	assert_int_equal(http_response(buf, sizeof(buf), &len, 100, false, NULL, 0), 0);
	assert_int_equal(len, strlen(HTTP_CONTINUE));
	assert_memory_equal(buf, HTTP_CONTINUE, len);

	static const struct {
		int status;
		const char *line;
	} lines[] = {
	    {400, "HTTP/1.1 400 Bad Request\r\n"},
	    {404, "HTTP/1.1 404 Not Found\r\n"},
	    {405, "HTTP/1.1 405 Method Not Allowed\r\n"},
	    {413, "HTTP/1.1 413 Payload Too Large\r\n"},
	    {500, "HTTP/1.1 500 Internal Server Error\r\n"},
	    {503, "HTTP/1.1 503 Service Unavailable\r\n"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		assert_int_equal(
		    http_response(buf, sizeof(buf), &len, lines[i].status, true, "x", 1), 0);
		assert_memory_equal(buf, lines[i].line, strlen(lines[i].line));
	}

	assert_int_equal(http_response(buf, sizeof(buf), &len, 418, false, NULL, 0), -EINVAL);
	assert_int_equal(http_response(buf, sizeof(buf), &len, 204, false, "x", 1), -EINVAL);
	assert_int_equal(http_response(buf, sizeof(buf), &len, 100, false, "x", 1), -EINVAL);
	/* Too small: -ENOSPC with the size it needs, and nothing past cap. */
	memset(buf, '#', sizeof(buf));
	assert_int_equal(http_response(buf, 10, &len, 200, true, "{\"a\":1}", 7), -ENOSPC);
	assert_int_equal(len, sizeof(ok) - 1);
	assert_int_equal(buf[10], '#');
	assert_int_equal(http_response(buf, len, &len, 200, true, "{\"a\":1}", 7), 0);
}

static void test_fault(void **s)
{
	static const struct {
		const char *msg, *json;
	} c[] = {
	    {"plain", "{\"fault_message\": \"plain\"}"},
	    {"a \"quoted\" \\ path", "{\"fault_message\": \"a \\\"quoted\\\" \\\\ path\"}"},
	    {"tab\tnl\ncr\r\x01\x1f", "{\"fault_message\": \"tab\\tnl\\ncr\\r\\u0001\\u001F\"}"},
	    {"\xc3\xa9t\xc3\xa9", "{\"fault_message\": \"\xc3\xa9t\xc3\xa9\"}"},
	    {"bad \xff utf8 \xc3", "{\"fault_message\": \"bad ? utf8 ?\"}"},
	    {"", "{\"fault_message\": \"\"}"},
	};
	char buf[512];
	size_t len;

	(void)s;
	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		assert_int_equal(http_fault_body(buf, sizeof(buf), &len, c[i].msg), 0);
		assert_int_equal(len, strlen(c[i].json));
		assert_memory_equal(buf, c[i].json, len);
		/* And it is JSON that gives the message back. */
		json_t *j = json_loadb(buf, len, 0, NULL);

		assert_non_null(j);
		assert_non_null(json_string_value(json_object_get(j, "fault_message")));
		json_decref(j);
	}
	assert_int_equal(http_fault_body(buf, 5, &len, "plain"), -ENOSPC);
	assert_int_equal(len, strlen(c[0].json));

	assert_int_equal(http_fault_response(buf, sizeof(buf), &len, 400, true, "no \"x\""), 0);
	static const char want[] =
	    "HTTP/1.1 400 Bad Request\r\nServer: kite\r\nConnection: close\r\n"
	    "Content-Type: application/json\r\nContent-Length: 29\r\n\r\n"
	    "{\"fault_message\": \"no \\\"x\\\"\"}";
	assert_int_equal(len, sizeof(want) - 1);
	assert_memory_equal(buf, want, len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),	    cmocka_unit_test(test_every_split),
	    cmocka_unit_test(test_expect_continue), cmocka_unit_test(test_pipelined),
	    cmocka_unit_test(test_line_limit),	    cmocka_unit_test(test_head_limit),
	    cmocka_unit_test(test_header_count),    cmocka_unit_test(test_body_limit),
	    cmocka_unit_test(test_response),	    cmocka_unit_test(test_fault),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
