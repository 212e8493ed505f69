/* Unit tests for src/virtio/net_limit.c: the ops (frames) bucket each way,
 * the one-time burst, limiters changed on a running device
 * (virtio_net_set_rate_limiter: a held queue goes again at once, NULL
 * keeps a way, refused limits change nothing), and the saved buckets
 * checked against the device restored onto. Time is a fake clock; the
 * refill timer is fired by hand (no event loop). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_fixture.h"

#define MS 1000000ull

static int frames_waiting(void)
{
	uint8_t got[2000];
	int n = 0;

	while (recv(peer, got, sizeof(got), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* tx-ops: two frames a second; the third waits for a token. */
static void test_tx_ops_bucket(void **s)
{
	struct rate_limiter_config tx = {.ops = {2, 0, 1000}};
	struct virtio_net *n = make_rl(NULL, 0, 0, 0, NULL, &tx, NULL);
	struct virtio_dev *t = up(n, BASE);

	(void)s;
	for (uint16_t i = 0; i < 3; i++)
		tx_frame(i, 60, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(vqd_used_idx(&q[1]), 2);
	assert_int_equal(stat(n, "tx_rate_limited"), 1);
	fake_ns += 400 * MS; /* 0.8 of a frame */
	virtio_net_limit_fire(n, VIRTIO_NET_TXQ);
	assert_int_equal(vqd_used_idx(&q[1]), 2);
	fake_ns += 100 * MS;
	virtio_net_limit_fire(n, VIRTIO_NET_TXQ);
	assert_int_equal(vqd_used_idx(&q[1]), 3);
	assert_int_equal(frames_waiting(), 3);
	virtio_net_free(n);
}

/* rx-ops: one frame a second, however small. */
static void test_rx_ops_bucket(void **s)
{
	struct rate_limiter_config rx = {.ops = {1, 0, 1000}};
	struct virtio_net *n = make_rl(NULL, 0, 0, 0, &rx, NULL, NULL);
	struct virtio_dev *t = up(n, BASE);

	(void)s;
	for (uint16_t i = 0; i < 3; i++)
		post_rx(i, 1530);
	for (int i = 0; i < 3; i++)
		host_send(NULL, 60, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&q[0]), 1);
	assert_int_equal(stat(n, "rx_rate_limited"), 1);
	fake_ns += 1000 * MS;
	virtio_net_limit_fire(n, VIRTIO_NET_RXQ);
	assert_int_equal(vqd_used_idx(&q[0]), 2);
	assert_int_equal(stat(n, "rx_packets"), 2);
	virtio_net_free(n);
}

/* A one-time burst lets the first frames beyond the bucket's size through. */
static void test_tx_burst(void **s)
{
	struct rate_limiter_config tx = {.bandwidth = {1000, 1000, 1000}};
	struct virtio_net *n = make_rl(NULL, 0, 0, 0, NULL, &tx, NULL);
	struct virtio_dev *t = up(n, BASE);

	(void)s;
	for (uint16_t i = 0; i < 4; i++)
		tx_frame(i, 600, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	/* 2000 tokens (size and burst): three frames of 600, not four. */
	assert_int_equal(vqd_used_idx(&q[1]), 3);
	fake_ns += 400 * MS; /* 200 left + 400: enough for the fourth */
	virtio_net_limit_fire(n, VIRTIO_NET_TXQ);
	assert_int_equal(vqd_used_idx(&q[1]), 4);
	virtio_net_free(n);
}

/* PATCH's path: a held TX queue goes as soon as the limit is lifted; the
 * RX limiter (NULL) is kept; a limit put on an unlimited way applies. */
static void test_set_rate_limiter(void **s)
{
	struct rate_limiter_config rx = {.bandwidth = {5000, 0, 1000}}, off = {0}, got_rx, got_tx;
	struct rate_limiter_config tx2 = {.ops = {1, 0, 1000}};
	struct virtio_net *n = make_rl(NULL, 0, 0, 1000, &rx, NULL, NULL);
	struct virtio_dev *t = up(n, BASE);

	(void)s;
	tx_frame(0, 600, 0);
	tx_frame(1, 600, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(vqd_used_idx(&q[1]), 1);
	/* No timer fired, no time passed: the update itself lets it go. */
	assert_int_equal(virtio_net_set_rate_limiter(n, NULL, &off), 0);
	assert_int_equal(vqd_used_idx(&q[1]), 2);
	virtio_net_rate_limiter(n, &got_rx, &got_tx);
	assert_memory_equal(&got_rx, &rx, sizeof(rx));
	assert_memory_equal(&got_tx, &off, sizeof(off));
	/* From unlimited to one frame a second: the new bucket starts full. */
	assert_int_equal(virtio_net_set_rate_limiter(n, NULL, &tx2), 0);
	tx_frame(2, 60, 0);
	tx_frame(3, 60, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(vqd_used_idx(&q[1]), 3);
	fake_ns += 1000 * MS;
	virtio_net_limit_fire(n, VIRTIO_NET_TXQ);
	assert_int_equal(vqd_used_idx(&q[1]), 4);
	assert_int_equal(frames_waiting(), 4);
	virtio_net_free(n);
}

/* Refused limits (a refill time above a day) change neither way. */
static void test_set_refused(void **s)
{
	struct rate_limiter_config rx = {.ops = {10, 0, 1000}}, got_rx, got_tx;
	struct rate_limiter_config ok = {.bandwidth = {100, 0, 10}};
	struct rate_limiter_config bad = {.bandwidth = {100, 0, RATE_LIMIT_MAX_REFILL_MS + 1}};
	struct virtio_net *n = make_rl(NULL, 0, 0, 0, &rx, NULL, NULL);

	(void)s;
	assert_int_equal(virtio_net_set_rate_limiter(n, &ok, &bad), -EINVAL);
	assert_int_equal(virtio_net_set_rate_limiter(n, &bad, &ok), -EINVAL);
	virtio_net_rate_limiter(n, &got_rx, &got_tx);
	assert_memory_equal(&got_rx, &rx, sizeof(rx));
	assert_int_equal(got_tx.bandwidth.size, 0);
	assert_int_equal(got_tx.ops.size, 0);
	virtio_net_free(n);
}

/* The device section carries the live buckets whole: a device restored
 * onto must have the same limiters (ops bucket included). */
static void test_save_restore_limits(void **s)
{
	struct rate_limiter_config rx = {{4000, 100, 1000}, {50, 5, 1000}};
	struct rate_limiter_config rx_other = {{4000, 100, 1000}, {60, 5, 1000}};
	struct virtio_net *a = make_rl(NULL, 0, 0, 0, &rx, NULL, "net0"), *b;
	struct virtio_dev *t = up(a, BASE);
	struct state_buf buf;
	char err[200] = "";

	(void)s;
	post_rx(0, 1530);
	host_send(NULL, 100, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&q[0]), 1);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_net_device(a), &buf), 0);
	virtio_net_free(a);
	b = make_rl(NULL, 0, 0, 0, &rx, NULL, "net0");
	assert_int_equal(
	    device_restore_one(virtio_net_device(b), buf.data, buf.len, err, sizeof(err)), 0);
	virtio_net_free(b);
	b = make_rl(NULL, 0, 0, 0, &rx_other, NULL, "net0");
	assert_int_equal(vst_refused(virtio_net_device(b), buf.data, buf.len, "token bucket"), 0);
	virtio_net_free(b);
	state_buf_free(&buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tx_ops_bucket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_ops_bucket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_burst, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_rate_limiter, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_restore_limits, setup, teardown),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
