/* Unit tests for src/virtio/vsock*.c, connections: host-initiated ones
 * (CONNECT, OK, data both ways, RST from a guest with no listener, bad
 * CONNECT lines, the host end closing), guest-initiated ones (to PATH_P,
 * or a RST without a listener), hostile headers, the guest's SHUTDOWN,
 * driver reset, and save/restore with its TRANSPORT_RESET event. Flow
 * control and limits are test_vsock_flow.c's. */
#include "vsock_fixture.h"

static void test_host_connect_echo(void **s)
{
	struct vsock_hdr h = ghdr(VSOCK_OP_RW, 1234, 0);
	char buf[64];
	uint32_t local;
	int fd;

	(void)s;
	bring_up();
	post_rx(8);
	fd = host_connect(1234, &local);
	assert_int_equal(virtio_vsock_nr_conns(v), 1);
	/* Host to guest. */
	send_str(fd, "hello");
	assert_int_equal(rx(&h, buf), 0);
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.src_port, local);
	assert_int_equal(h.dst_port, 1234);
	assert_int_equal(h.len, 5);
	assert_memory_equal(buf, "hello", 5);
	/* Guest to host. */
	h = ghdr(VSOCK_OP_RW, 1234, local);
	h.len = 5;
	tx(&h, "world", 5);
	assert_int_equal(recv_n(fd, buf, 5), 5);
	assert_memory_equal(buf, "world", 5);
	assert_int_equal(stat_of("tx_bytes"), 5);
	assert_int_equal(stat_of("rx_bytes"), 5);
	/* The guest closes: the host client sees EOF. */
	tx_op(VSOCK_OP_RST, 1234, local);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	wait_conns(0);
	close(fd);
}

/* No listener in the guest: its RST closes the host connection, no OK. */
static void test_host_connect_refused(void **s)
{
	struct vsock_hdr h;
	char buf[16];
	int fd;

	(void)s;
	bring_up();
	post_rx(4);
	fd = client(path);
	send_str(fd, "CONNECT 99\n");
	rx_expect(VSOCK_OP_REQUEST, &h);
	tx_op(VSOCK_OP_RST, 99, h.src_port);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	/* A RESPONSE for a connection that is not waiting for one: RST. */
	tx_op(VSOCK_OP_RESPONSE, 99, h.src_port);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.dst_port, 99);
	wait_conns(0);
}

static void test_host_bad_lines(void **s)
{
	static const char *const bad[] = {"HELLO\n", "CONNECT x\n", "CONNECT 70000000000\n",
					  "CONNECT 1\r\n", "CONNECT 1234567890123456789012345"};
	char buf[16];

	(void)s;
	bring_up();
	post_rx(4);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int fd = client(path);

		send_str(fd, bad[i]);
		/* Closed: EOF, or a reset when kite left bytes unread. */
		if (recv(fd, buf, sizeof(buf), 0) != 0)
			assert_int_equal(errno, ECONNRESET);
		close(fd);
	}
	/* A client that leaves before finishing its line. */
	{
		int fd = client(path);

		send_str(fd, "CONN");
		close(fd);
	}
	rx_none();
	assert_int_equal(stat_of("host_rejected"), 6);
	wait_conns(0);
}

static void test_guest_connect(void **s)
{
	struct vsock_hdr h;
	char buf[64], name[128];
	int lfd, fd;

	(void)s;
	bring_up();
	post_rx(8);
	lfd = host_listen(5000);
	tx_op(VSOCK_OP_REQUEST, 777, 5000);
	rx_expect(VSOCK_OP_RESPONSE, &h);
	assert_int_equal(h.src_port, 5000);
	assert_int_equal(h.dst_port, 777);
	fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	h = ghdr(VSOCK_OP_RW, 777, 5000);
	h.len = 4;
	tx(&h, "ping", 4);
	assert_int_equal(recv_n(fd, buf, 4), 4);
	assert_memory_equal(buf, "ping", 4);
	send_str(fd, "pong");
	assert_int_equal(rx(&h, buf), 0);
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_memory_equal(buf, "pong", 4);
	/* A second REQUEST on the live pair resets it. */
	tx_op(VSOCK_OP_REQUEST, 777, 5000);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	/* No listener at PATH_5001: RST. */
	tx_op(VSOCK_OP_REQUEST, 778, 5001);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.src_port, 5001);
	assert_int_equal(h.dst_port, 778);
	assert_int_equal(stat_of("refused"), 1);
	wait_conns(0);
	close(fd);
	close(lfd);
	snprintf(name, sizeof(name), "%s_5000", path);
	unlink(name);
}

/* The host end closes: the guest hears SHUTDOWN, answers RST, gone. */
static void test_host_close(void **s)
{
	struct vsock_hdr h;
	uint32_t local;
	int fd;

	(void)s;
	bring_up();
	post_rx(8);
	fd = host_connect(40, &local);
	close(fd);
	rx_expect(VSOCK_OP_SHUTDOWN, &h);
	assert_true(h.flags & VSOCK_SHUTDOWN_SEND);
	assert_int_equal(virtio_vsock_nr_conns(v), 1);
	tx_op(VSOCK_OP_RST, 40, local);
	wait_conns(0);
	rx_none();
}

/* Hostile headers are dropped and counted, never answered; packets for
 * connections kite does not know get a RST, except a RST. */
static void test_bad_headers(void **s)
{
	struct vsock_hdr h, bad[7];
	uint8_t split[64];
	uint16_t d;

	(void)s;
	bring_up();
	post_rx(8);
	for (int i = 0; i < 7; i++)
		bad[i] = ghdr(VSOCK_OP_REQUEST, 1, 2);
	bad[0].src_cid = CID + 1;
	bad[1].dst_cid = 7;
	bad[2].type = 2;
	bad[3].op = 0;
	bad[4].op = 8;
	bad[5].len = 100; /* the chain carries only the header */
	bad[6].op = VSOCK_OP_SHUTDOWN;
	bad[6].flags = 8;
	for (int i = 0; i < 7; i++)
		tx(&bad[i], NULL, 0);
	tx_raw(&bad[0], 20); /* shorter than a header */
	h = ghdr(VSOCK_OP_CREDIT_UPDATE, 1, 2);
	h.len = 4; /* payload on a control op */
	tx(&h, "abcd", 4);
	assert_int_equal(stat_of("bad_packets"), 9);
	tx_op(VSOCK_OP_RST, 1, 2);
	rx_none();
	assert_int_equal(stat_of("rst_sent"), 0);
	/* A request split across three descriptors, to a port with no
	 * listener: read whole, answered with a RST. */
	h = ghdr(VSOCK_OP_REQUEST, 21, 6000);
	memcpy(split, &h, sizeof(h));
	d = tx_next++ % QSIZE;
	memcpy(mem + TXBUF + TXLEN * d, split, sizeof(h));
	vqd_set_desc(&vq[1], d, TXBUF + TXLEN * d, 10, VIRTQ_DESC_F_NEXT, (d + 1) % QSIZE);
	vqd_set_desc(&vq[1], (d + 1) % QSIZE, TXBUF + TXLEN * d + 10, 0, VIRTQ_DESC_F_NEXT,
		     (d + 2) % QSIZE);
	vqd_set_desc(&vq[1], (d + 2) % QSIZE, TXBUF + TXLEN * d + 10, 34, 0, 0);
	tx_next += 2;
	vqd_offer(&vq[1], d);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.src_port, 6000);
	assert_int_equal(h.dst_port, 21);
	tx_op(VSOCK_OP_CREDIT_REQUEST, 22, 6001);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.dst_port, 22);
	/* A write-only RX buffer too small for a header gets nothing. */
	wait_conns(0);
}

static void test_guest_shutdown(void **s)
{
	struct vsock_hdr h;
	uint32_t local;
	char buf[8];
	int fd;

	(void)s;
	bring_up();
	post_rx(8);
	fd = host_connect(30, &local);
	/* SEND only: a half-close; the host may still write. */
	h = ghdr(VSOCK_OP_SHUTDOWN, 30, local);
	h.flags = VSOCK_SHUTDOWN_SEND;
	tx(&h, NULL, 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	send_str(fd, "late");
	rx_data(4, "late");
	/* Both: the guest closes; kite answers RST and closes the host end. */
	h.flags = VSOCK_SHUTDOWN_SEND | VSOCK_SHUTDOWN_RCV;
	tx(&h, NULL, 0);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.dst_port, 30);
	wait_conns(0);
	close(fd);
}

/* A driver reset ends every connection: host clients see EOF. */
static void test_driver_reset(void **s)
{
	uint32_t local;
	char buf[8];
	int fd1, fd2;

	(void)s;
	bring_up();
	post_rx(8);
	fd1 = host_connect(31, &local);
	fd2 = host_connect(32, &local);
	assert_int_equal(virtio_vsock_nr_conns(v), 2);
	vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_STATUS), 0);
	wait_conns(0);
	assert_int_equal(recv(fd1, buf, sizeof(buf), 0), 0);
	assert_int_equal(recv(fd2, buf, sizeof(buf), 0), 0);
	close(fd1);
	close(fd2);
}

/* Save, restore into a fresh device: host connections closed, the guest
 * gets TRANSPORT_RESET on its event queue, and the device works on. */
static void test_save_restore(void **s)
{
	struct virtio_vsock *b;
	struct state_buf buf;
	char err[200] = "", path_b[128];
	struct vsock_hdr h;
	uint32_t local;
	char c;
	int fd;

	(void)s;
	bring_up();
	post_rx(8);
	fd = host_connect(33, &local);
	loop_stop();
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_vsock_device(v), &buf), 0);
	virtio_vsock_free(v);
	v = NULL;
	assert_int_equal(recv(fd, &c, 1, 0), 0);
	close(fd);

	snprintf(path_b, sizeof(path_b), "%s.b", path);
	unlink(path_b);
	assert_int_equal(virtio_vsock_new(&b, &gm, &loop, CID, path_b, "vsock0"), 0);
	assert_int_equal(device_restore_one(virtio_vsock_device(b), buf.data, buf.len, err,
					    sizeof(err)), 0);
	v = b;
	t = virtio_vsock_vdev(b);
	assert_int_equal(virtio_dev_setup_eventfds(t, &loop), 0);
	loop_start();
	vst_resume(virtio_vsock_device(b));
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_STATUS), 0xf);
	/* The event waits for a buffer. */
	memset(mem + EVBUF, 0xff, 8);
	vqd_set_desc(&vq[2], 0, EVBUF, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&vq[2], 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	wait_used(2, 1);
	assert_int_equal(vqd_used_len(&vq[2], 0), 4);
	assert_int_equal(vst_get(mem + EVBUF, 4), VSOCK_EVENT_TRANSPORT_RESET);
	assert_int_equal(stat_of("events_sent"), 1);
	/* Only once. */
	vqd_set_desc(&vq[2], 1, EVBUF, 8, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&vq[2], 1);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	usleep(30000);
	assert_int_equal(vqd_used_idx(&vq[2]), 1);
	/* New connections work (the old path is gone, the new one serves). */
	assert_int_equal(access(path, F_OK), -1);
	fd = host_connect_at(path_b, 34, &local);
	close(fd);
	rx_expect(VSOCK_OP_SHUTDOWN, &h);
	loop_stop();
	virtio_vsock_free(v);
	v = NULL;
	assert_int_equal(access(path_b, F_OK), -1);
	state_buf_free(&buf);
}

static void test_bad_sections(void **s)
{
	struct virtio_vsock *victim, *other;
	struct state_buf buf;
	char err[200] = "", pv[128], po[128];

	(void)s;
	bring_up();
	loop_stop();
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_vsock_device(v), &buf), 0);
	snprintf(pv, sizeof(pv), "%s.v", path);
	snprintf(po, sizeof(po), "%s.o", path);
	unlink(pv);
	unlink(po);
	assert_int_equal(virtio_vsock_new(&victim, &gm, &loop, CID, pv, "vsock0"), 0);
	assert_int_equal(vst_bad_sections(virtio_vsock_device(victim), buf.data, buf.len,
					  MEM_SIZE), 0);
	/* Another CID: refused with a message. */
	assert_int_equal(virtio_vsock_new(&other, &gm, &loop, CID + 1, po, "vsock0"), 0);
	assert_int_not_equal(device_restore_one(virtio_vsock_device(other), buf.data, buf.len,
						err, sizeof(err)), 0);
	assert_non_null(strstr(err, "CID"));
	virtio_vsock_free(other);
	virtio_vsock_free(victim);
	state_buf_free(&buf);
}

static void test_new_refused(void **s)
{
	struct virtio_vsock *x;
	char longp[200];

	(void)s;
	loop_stop();
	assert_int_equal(virtio_vsock_new(&x, &gm, &loop, 2, "/tmp/kite-vsock-x", NULL), -EINVAL);
	assert_int_equal(virtio_vsock_new(&x, &gm, &loop, UINT32_MAX, "/tmp/kite-vsock-x", NULL),
			 -EINVAL);
	/* The path is bound already (by the fixture's device). */
	assert_int_equal(virtio_vsock_new(&x, &gm, &loop, 5, path, NULL), -EADDRINUSE);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[100] = 0; /* fits sun_path, but PATH_4294967295 does not */
	assert_int_equal(virtio_vsock_new(&x, &gm, &loop, 5, longp, NULL), -ENAMETOOLONG);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_host_connect_echo), T(test_host_connect_refused), T(test_host_bad_lines),
		T(test_guest_connect),	   T(test_host_close),		 T(test_bad_headers),
		T(test_guest_shutdown),	   T(test_driver_reset),	 T(test_save_restore),
		T(test_bad_sections),	   T(test_new_refused),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
