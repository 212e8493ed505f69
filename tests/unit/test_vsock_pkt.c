/* Unit tests for src/virtio/vsock_pkt.c: the guest header checks (each
 * reason, and the boundaries of len), credit arithmetic across the 2^32
 * wrap and against lying peers, and the CONNECT line parser fed byte by
 * byte and with hostile lines. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "virtio/vsock_pkt.h"

static struct vsock_hdr good(void)
{
	return (struct vsock_hdr){.src_cid = 3, .dst_cid = 2, .src_port = 1000, .dst_port = 52,
				  .type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RW, .len = 10};
}

static void test_hdr_ok(void **s)
{
	struct vsock_hdr h = good();

	(void)s;
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_OK);
	assert_int_equal(vsock_hdr_check(&h, 3, 100), VSOCK_OK);
	h.len = VSOCK_MAX_PKT;
	assert_int_equal(vsock_hdr_check(&h, 3, VSOCK_MAX_PKT), VSOCK_OK);
	for (uint16_t op = VSOCK_OP_REQUEST; op <= VSOCK_OP_MAX; op++) {
		h = good();
		h.op = op;
		h.len = op == VSOCK_OP_RW ? 1 : 0;
		assert_int_equal(vsock_hdr_check(&h, 3, 1), VSOCK_OK);
	}
	h = good();
	h.op = VSOCK_OP_SHUTDOWN;
	h.len = 0;
	h.flags = VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND;
	assert_int_equal(vsock_hdr_check(&h, 3, 0), VSOCK_OK);
}

static void test_hdr_bad(void **s)
{
	struct vsock_hdr h;

	(void)s;
	h = good();
	h.src_cid = 4;
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_SRC_CID);
	h = good();
	h.src_cid = 3 | (1ull << 32); /* the upper half counts too */
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_SRC_CID);
	h = good();
	h.dst_cid = 1;
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_DST_CID);
	h = good();
	h.dst_cid = 3; /* guest to itself */
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_DST_CID);
	h = good();
	h.type = 2; /* SEQPACKET: not offered */
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_TYPE);
	h = good();
	h.op = VSOCK_OP_INVALID;
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_OP);
	h.op = VSOCK_OP_MAX + 1;
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_OP);
	h.op = 0xffff;
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_OP);
	h = good();
	assert_int_equal(vsock_hdr_check(&h, 3, 9), VSOCK_BAD_LEN); /* chain too short */
	h.len = VSOCK_MAX_PKT + 1;
	assert_int_equal(vsock_hdr_check(&h, 3, UINT32_MAX), VSOCK_BAD_LEN);
	h.len = UINT32_MAX;
	assert_int_equal(vsock_hdr_check(&h, 3, UINT32_MAX), VSOCK_BAD_LEN);
	h = good();
	h.op = VSOCK_OP_CREDIT_UPDATE; /* payload on a control op */
	assert_int_equal(vsock_hdr_check(&h, 3, 10), VSOCK_BAD_LEN);
	h = good();
	h.op = VSOCK_OP_SHUTDOWN;
	h.len = 0;
	h.flags = 4;
	assert_int_equal(vsock_hdr_check(&h, 3, 0), VSOCK_BAD_FLAGS);
	assert_string_equal(vsock_bad_name(VSOCK_BAD_FLAGS), "bad shutdown flags");
	assert_string_equal(vsock_bad_name((enum vsock_bad)99), "?");
}

static void test_credit(void **s)
{
	(void)s;
	assert_int_equal(vsock_credit_free(65536, 0, 0), 65536);
	assert_int_equal(vsock_credit_free(65536, 1000, 0), 64536);
	assert_int_equal(vsock_credit_free(65536, 65536, 0), 0);
	assert_int_equal(vsock_credit_free(65536, 70000, 4464), 0);
	/* Counters wrap at 2^32. */
	assert_int_equal(vsock_credit_free(4096, 10, UINT32_MAX - 9), 4096 - 20);
	/* A peer claiming to have consumed more than was sent: nothing,
	 * not 2^32 - 1. */
	assert_int_equal(vsock_credit_free(4096, 10, 11), 0);
	/* A peer that shrank its buffer below what is in flight. */
	assert_int_equal(vsock_credit_free(100, 500, 0), 0);
	assert_int_equal(vsock_credit_free(0, 0, 0), 0);
	assert_int_equal(vsock_credit_free(UINT32_MAX, 0, 0), UINT32_MAX);
}

static int parse(const char *line, uint32_t *port)
{
	return vsock_parse_connect(line, strlen(line), port);
}

static void test_connect_line(void **s)
{
	uint32_t port = 7;

	(void)s;
	assert_int_equal(parse("CONNECT 1024\n", &port), 13);
	assert_int_equal(port, 1024);
	assert_int_equal(parse("connect 52\n", &port), 11);
	assert_int_equal(port, 52);
	assert_int_equal(parse("CoNnEcT 0\n", &port), 10);
	assert_int_equal(port, 0);
	assert_int_equal(parse("CONNECT 4294967295\n", &port), 19);
	assert_int_equal(port, UINT32_MAX);
	/* Only the line counts: bytes after it are the stream's. */
	assert_int_equal(parse("CONNECT 5\nhello", &port), 10);
	assert_int_equal(port, 5);
}

static void test_connect_partial(void **s)
{
	const char *line = "CONNECT 1234\n";
	uint32_t port = 0;

	(void)s;
	for (size_t n = 0; n < strlen(line); n++)
		assert_int_equal(vsock_parse_connect(line, n, &port), 0);
	assert_int_equal(vsock_parse_connect(line, strlen(line), &port), 13);
	assert_int_equal(port, 1234);
	/* A wrong prefix is refused before the line ends. */
	assert_int_equal(vsock_parse_connect("CONNX", 5, &port), -EINVAL);
	assert_int_equal(vsock_parse_connect("GET /", 5, &port), -EINVAL);
}

static void test_connect_bad(void **s)
{
	static const char *const bad[] = {
		"CONNECT\n", "CONNECT \n", "CONNECT  5\n", "CONNECT -5\n", "CONNECT +5\n",
		"CONNECT 05\n", "CONNECT 4294967296\n", "CONNECT 99999999999\n",
		"CONNECT 5 \n", "CONNECT 5\r\n", "CONNECT 0x10\n", "CONNECT\t5\n",
		"CONNECTED 5\n", " CONNECT 5\n", "OK 5\n", "\n",
	};
	char nul[] = "CONNECT 5\n";
	char longline[64];
	uint32_t port = 0;

	(void)s;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &port) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	nul[3] = 0; /* a NUL inside the word */
	assert_int_equal(vsock_parse_connect(nul, sizeof(nul) - 1, &port), -EINVAL);
	nul[3] = 'N';
	nul[8] = 0; /* a NUL for the port */
	assert_int_equal(vsock_parse_connect(nul, sizeof(nul) - 1, &port), -EINVAL);
	/* No newline within VSOCK_CONNECT_MAX bytes: refused, not waited for. */
	memset(longline, '1', sizeof(longline));
	memcpy(longline, "CONNECT ", 8);
	assert_int_equal(vsock_parse_connect(longline, VSOCK_CONNECT_MAX - 1, &port), 0);
	assert_int_equal(vsock_parse_connect(longline, VSOCK_CONNECT_MAX, &port), -EINVAL);
	assert_int_equal(vsock_parse_connect(longline, sizeof(longline), &port), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_ok),
		cmocka_unit_test(test_hdr_bad),
		cmocka_unit_test(test_credit),
		cmocka_unit_test(test_connect_line),
		cmocka_unit_test(test_connect_partial),
		cmocka_unit_test(test_connect_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
