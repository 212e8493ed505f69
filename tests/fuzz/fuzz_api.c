/* libFuzzer target for the API's parser and router together (issue 9):
 * arbitrary bytes parsed as a stream of pipelined requests, each routed
 * with fake VMM ops against one configuration that lives for the whole
 * input, so that a sequence of PUTs, an InstanceStart and post-boot
 * requests are reached; every reply is formatted as the server would send
 * it. The first byte picks the payload limit, the state the fake VMM starts
 * in and which of its ops fail. Checked: statuses are 200, 204 or 400; a
 * 200 body is a JSON object, a 204 has none, a 400 has a message; the
 * response writer takes every reply. */
#include <errno.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "api/router.h"

struct fake {
	enum api_state state;
	/* bit per op: 1 start, 2 pause, 4 resume, 8 cad, 16 flush, 32 drive,
	 * 64 net, 128 entropy (the first byte gives five bits: 16 fails the
	 * updates too) */
	unsigned fail;
	struct vm_config *cfg;
};

static enum api_state f_state(void *ctx)
{
	return ((struct fake *)ctx)->state;
}

static int f_op(struct fake *f, unsigned bit, char *err, size_t errlen)
{
	if (f->fail & bit) {
		strncpy(err, "fake failure \xff", errlen - 1);
		err[errlen - 1] = '\0';
		return -EIO;
	}
	return 0;
}

/* As vmm_start: the Firecracker checks first, then the machine runs. */
static int f_start(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;
	int rc = fc_config_prepare(f->cfg, err, errlen);

	if (!rc)
		rc = f_op(f, 1, err, errlen);
	if (!rc)
		f->state = API_RUNNING;
	return rc;
}

static int f_pause(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;
	int rc = f_op(f, 2, err, errlen);

	if (!rc)
		f->state = API_PAUSED;
	return rc;
}

static int f_resume(void *ctx, char *err, size_t errlen)
{
	struct fake *f = ctx;
	int rc = f_op(f, 4, err, errlen);

	if (!rc)
		f->state = API_RUNNING;
	return rc;
}

static int f_cad(void *ctx, char *err, size_t errlen)
{
	return f_op(ctx, 8, err, errlen);
}

static int f_flush(void *ctx, char *err, size_t errlen)
{
	return f_op(ctx, 16, err, errlen);
}

static int f_update_drive(void *ctx, const struct fc_drive_update *u, char *err, size_t errlen)
{
	(void)u;
	return f_op(ctx, 32, err, errlen);
}

static int f_update_net(void *ctx, const struct fc_net_update *u, char *err, size_t errlen)
{
	(void)u;
	return f_op(ctx, 64, err, errlen);
}

static int f_update_entropy(void *ctx, const struct fc_rl_update *u, char *err, size_t errlen)
{
	(void)u;
	return f_op(ctx, 128, err, errlen);
}

/* The server's respond(): a small buffer, grown once on -ENOSPC. */
static void send_reply(int status, bool close, const char *body, bool fault)
{
	char small[512], *buf = small;
	size_t len = 0;
	int rc = 0;

	for (int tries = 0; tries < 2; tries++) {
		size_t cap = buf == small ? sizeof(small) : len;

		if (fault)
			rc = http_fault_response(buf, cap, &len, status, close, body);
		else
			rc = http_response(buf, cap, &len, status, close, body,
					   body ? strlen(body) : 0);
		if (rc != -ENOSPC)
			break;
		buf = malloc(len);
		if (!buf)
			abort();
	}
	if (rc || len == 0)
		abort();
	if (buf != small)
		free(buf);
}

static void check_reply(const struct api_reply *r)
{
	json_t *j;

	switch (r->status) {
	case 200:
		j = r->body ? json_loads(r->body, 0, NULL) : NULL;
		if (!json_is_object(j))
			abort();
		json_decref(j);
		break;
	case 204:
		if (r->body)
			abort();
		break;
	case 400:
		if (!r->body || !r->body[0])
			abort();
		break;
	default:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_config cfg;
	struct fake f = {0};
	struct api_router rt;
	size_t max_body, off = 0;
	uint8_t *buf;

	if (size < 1)
		return 0;
	max_body = data[0] & 1 ? HTTP_MAX_PAYLOAD_DEFAULT : 4096;
	f.state = (enum api_state)((data[0] >> 1) % 3);
	f.fail = data[0] >> 3;
	if (f.fail & 16)
		f.fail |= 32 | 64 | 128;
	size--;
	/* An exact-size copy, so ASan sees any read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size);
	fc_config_init(&cfg);
	f.cfg = &cfg;
	rt = (struct api_router){
	    .cfg = &cfg,
	    .id = "fuzz_vm",
	    .ops = {&f, f_state, f_start, f_pause, f_resume, f_cad, f_flush, f_update_drive},
	};
	rt.ops.dev = (struct api_dev_ops){&f, f_update_net, f_update_entropy};

	while (off < size) {
		struct http_request req;
		struct api_reply reply = {0};
		size_t used = 0;
		enum http_parse r = http_parse(buf + off, size - off, max_body, &req, &used);

		if (r == HTTP_BAD) {
			send_reply(400, true, req.error, true);
			break;
		}
		if (r == HTTP_INCOMPLETE)
			break;
		if (used == 0 || used > size - off)
			abort();
		api_route(&rt, &req, &reply);
		check_reply(&reply);
		send_reply(reply.status, !req.keep_alive, reply.body, reply.status >= 400);
		free(reply.body);
		off += used;
		if (!req.keep_alive)
			break;
	}
	fc_logger_free(&rt.logger);
	fc_metrics_free(&rt.metrics);
	config_free(&cfg);
	free(buf);
	return 0;
}
