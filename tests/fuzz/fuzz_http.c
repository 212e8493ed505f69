/* libFuzzer target for the API's HTTP layer: arbitrary bytes parsed as a
 * stream of pipelined requests until one is incomplete or refused, with the
 * parser's invariants checked on each, and every parsed path and error
 * formatted into a fault response. The router joins this target when it
 * exists (issue 9 asks for one target over both). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"

static void check_str(const char *s, size_t size)
{
	if (strnlen(s, size) >= size)
		abort();
}

static void respond(const char *msg, bool close)
{
	static char out[HTTP_LINE_MAX * 8];
	size_t len;
	int r = http_fault_response(out, sizeof(out), &len, 400, close, msg);

	/* A path of 1024 bytes escapes to at most 6 bytes each. */
	if (r || len > sizeof(out))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t max_body, off = 0;
	uint8_t *buf;

	if (size < 1)
		return 0;
	/* The first byte picks the payload limit, to reach both sides of it. */
	max_body = data[0] & 1 ? HTTP_MAX_PAYLOAD_DEFAULT : data[0] >> 1;
	size--;
	/* An exact-size copy, so ASan sees any read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size);

	while (off < size) {
		struct http_request req;
		size_t used = 12345, left = size - off;
		enum http_parse r = http_parse(buf + off, left, max_body, &req, &used);

		if (r == HTTP_BAD) {
			check_str(req.error, sizeof(req.error));
			if (used != 0 || !req.error[0])
				abort();
			respond(req.error, true);
			break;
		}
		if (r == HTTP_INCOMPLETE) {
			if (used != 0)
				abort();
			if (req.headers_done && req.content_length > max_body)
				abort();
			break;
		}
		if (r != HTTP_DONE || used == 0 || used > left)
			abort();
		check_str(req.method, sizeof(req.method));
		check_str(req.path, sizeof(req.path));
		check_str(req.query, sizeof(req.query));
		if (req.path[0] != '/' || (req.minor != 0 && req.minor != 1) || !req.headers_done ||
		    req.content_length > max_body || req.body < buf + off ||
		    req.body + req.content_length != buf + off + used)
			abort();
		/* Any shorter prefix of an accepted request is incomplete. */
		{
			struct http_request p;
			size_t pu;

			if (http_parse(buf + off, used - 1, max_body, &p, &pu) != HTTP_INCOMPLETE)
				abort();
		}
		respond(req.path, !req.keep_alive);
		off += used;
	}
	free(buf);
	return 0;
}
