/* Unit tests for src/virtio/vsock*.c, flow and limits: the guest's credit
 * respected and asked for, kite's credit updates, a driver ignoring credit
 * reset, 1 MiB under credit to a late reader, a starved RX queue that
 * costs no CPU, RX buffers too small to use, half-open timeouts, and the
 * connection limit. */
#include "vsock_fixture.h"

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* The guest's buffer bounds what kite sends it; with no credit left kite
 * asks once, and each update lets exactly that much more through. */
static void test_credit_respected(void **s)
{
	struct vsock_hdr h;
	uint32_t local;
	int fd;

	(void)s;
	bring_up();
	post_rx(12);
	fd = host_connect(7, &local);
	credit_update(7, local, 8, 0);
	send_str(fd, "abcdefghijklmnopqrst");
	rx_data(8, "abcdefgh");
	rx_expect(VSOCK_OP_CREDIT_REQUEST, &h);
	rx_none();
	credit_update(7, local, 8, 8);
	rx_data(8, "ijklmnop");
	rx_expect(VSOCK_OP_CREDIT_REQUEST, &h);
	credit_update(7, local, 8, 16);
	rx_data(4, "qrst");
	rx_none();
	/* The guest asks for our credit: an update with what we forwarded. */
	tx_op(VSOCK_OP_CREDIT_REQUEST, 7, local);
	rx_expect(VSOCK_OP_CREDIT_UPDATE, &h);
	assert_int_equal(h.buf_alloc, 65536);
	assert_int_equal(h.fwd_cnt, 0);
	close(fd);
}

/* Data the host socket took is credit given back: once the guest's view
 * of our buffer falls under half, it hears the new fwd_cnt. */
static void test_credit_update_sent(void **s)
{
	static char big[40000], got[40000];
	struct vsock_hdr h;
	uint32_t local;
	int fd;

	(void)s;
	bring_up();
	post_rx(8);
	fd = host_connect(8, &local);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	h = ghdr(VSOCK_OP_RW, 8, local);
	h.len = 30000;
	tx(&h, big, 30000); /* 35536 still free as the guest sees it */
	rx_none();
	h.len = 10000;
	tx(&h, big + 30000, 10000);
	rx_expect(VSOCK_OP_CREDIT_UPDATE, &h);
	assert_int_equal(h.fwd_cnt, 40000);
	assert_int_equal(recv_n(fd, got, sizeof(got)), (ssize_t)sizeof(got));
	assert_memory_equal(got, big, sizeof(big));
	close(fd);
}

/* A driver that keeps sending while the host reads nothing loses the
 * connection once it exceeds the buffer kite advertised. */
static void test_credit_violation(void **s)
{
	static char chunk[60000];
	struct vsock_hdr h;
	uint32_t local;
	bool reset = false;
	int fd;

	(void)s;
	bring_up();
	post_rx(8);
	fd = host_connect(9, &local);
	for (int i = 0; i < 40 && !reset; i++) {
		h = ghdr(VSOCK_OP_RW, 9, local);
		h.len = sizeof(chunk);
		tx(&h, chunk, sizeof(chunk));
		while (vqd_used_idx(&vq[0]) != rx_seen) {
			assert_int_equal(rx(&h, NULL), 0);
			reset |= h.op == VSOCK_OP_RST;
			post_rx(1);
		}
	}
	assert_true(reset);
	assert_int_equal(stat_of("credit_violations"), 1);
	wait_conns(0);
	close(fd);
}

/* No RX buffers: kite stops reading the socket instead of spinning, still
 * takes TX (the guest's data reaches the host; a RST it owes waits), and
 * the guest's RX kick brings everything. */
static void test_rx_starved(void **s)
{
	struct vsock_hdr h;
	uint32_t local;
	char buf[8];
	double cpu;
	int fd;

	(void)s;
	bring_up();
	post_rx(2);
	fd = host_connect(11, &local);
	send_str(fd, "a");
	rx_data(1, "a");
	send_str(fd, "b");
	usleep(20000);
	cpu = cpu_seconds();
	usleep(300000);
	assert_true(cpu_seconds() - cpu < 0.1);
	assert_true(stat_of("rx_starved") >= 1);
	h = ghdr(VSOCK_OP_RW, 11, local);
	h.len = 3;
	tx(&h, "xyz", 3);
	assert_int_equal(recv_n(fd, buf, 3), 3);
	assert_memory_equal(buf, "xyz", 3);
	tx_op(VSOCK_OP_RW, 12, 99); /* unknown connection: a RST owed */
	rx_none();
	post_rx(4);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.dst_port, 12);
	rx_data(1, "b");
	close(fd);
}

/* Half-open connections do not stay: a silent client, a REQUEST the guest
 * never answers, a host that hung up while the guest never sends its RST. */
static void test_half_open_timeouts(void **s)
{
	struct vsock_hdr h;
	uint32_t local;
	char buf[8];
	int fd, fd2;

	(void)s;
	virtio_vsock_set_half_open_ms(v, 100);
	bring_up();
	post_rx(8);
	fd = client(path);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	close(fd);
	assert_int_equal(stat_of("timeouts"), 1);
	fd = client(path);
	send_str(fd, "CONNECT 50\n");
	rx_expect(VSOCK_OP_REQUEST, &h);
	local = h.src_port;
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.src_port, local);
	assert_int_equal(h.dst_port, 50);
	close(fd);
	fd2 = host_connect(51, &local);
	close(fd2);
	rx_expect(VSOCK_OP_SHUTDOWN, &h);
	rx_expect(VSOCK_OP_RST, &h); /* the guest never answered */
	assert_int_equal(h.dst_port, 51);
	assert_int_equal(stat_of("timeouts"), 3);
	wait_conns(0);
}

/* At most VSOCK_MAX_CONNS connections: the next host client is closed at
 * once, the next guest request reset. Needs about 2100 descriptors. */
static void test_conn_limit(void **s)
{
	static int fds[VSOCK_MAX_CONNS];
	struct rlimit rl;
	struct vsock_hdr h;
	char buf[8], name[128];
	int lfd, extra;

	(void)s;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2 * VSOCK_MAX_CONNS + 64) {
		rl.rlim_cur = MIN(rl.rlim_max, (rlim_t)4096);
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur < 2 * VSOCK_MAX_CONNS + 64) {
		print_message("skipped: RLIMIT_NOFILE %llu is below what the test needs\n",
			      (unsigned long long)rl.rlim_cur);
		skip();
	}
	bring_up();
	post_rx(4);
	lfd = host_listen(6100);
	for (uint32_t i = 0; i < VSOCK_MAX_CONNS; i++)
		fds[i] = client(path);
	wait_conns(VSOCK_MAX_CONNS);
	extra = client(path);
	assert_int_equal(recv(extra, buf, sizeof(buf), 0), 0);
	close(extra);
	assert_int_equal(stat_of("host_rejected"), 1);
	tx_op(VSOCK_OP_REQUEST, 61, 6100);
	rx_expect(VSOCK_OP_RST, &h);
	assert_int_equal(h.dst_port, 61);
	assert_int_equal(stat_of("refused"), 1);
	/* A slot freed is a slot usable again. */
	close(fds[0]);
	wait_conns(VSOCK_MAX_CONNS - 1);
	tx_op(VSOCK_OP_REQUEST, 62, 6100);
	rx_expect(VSOCK_OP_RESPONSE, &h);
	for (uint32_t i = 1; i < VSOCK_MAX_CONNS; i++)
		close(fds[i]);
	close(lfd);
	snprintf(name, sizeof(name), "%s_6100", path);
	unlink(name);
}

/* RX buffers too small for a header and some data are handed back unused
 * (len 0) instead of being retried forever; the data takes the next one. */
static void test_small_rx_buffers(void **s)
{
	struct vsock_hdr h;
	uint32_t local;
	int fd;

	(void)s;
	bring_up();
	post_rx(1);
	fd = host_connect(70, &local);
	for (uint32_t len = 20; len <= 44; len += 24) {
		uint16_t d = rx_next++ % QSIZE;

		vqd_set_desc(&vq[0], d, RXBUF + RXLEN * d, len, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq[0], d);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	send_str(fd, "z");
	wait_used(0, (uint16_t)(rx_seen + 2));
	assert_int_equal(vqd_used_len(&vq[0], rx_seen), 0);
	assert_int_equal(vqd_used_len(&vq[0], rx_seen + 1), 0);
	rx_seen += 2;
	assert_int_equal(stat_of("bad_rx_buffers"), 2);
	post_rx(1);
	rx_data(1, "z");
	rx_none();
	close(fd);
	(void)h;
}

#define FLOW_TOTAL (1u << 20)

struct reader {
	int fd;
	uint32_t got;
	bool same;
};

/* A slow host peer: starts late, so kite must buffer and wait for room. */
static void *slow_reader(void *arg)
{
	struct reader *r = arg;
	static char buf[8192];

	r->same = true;
	usleep(200000);
	while (r->got < FLOW_TOTAL) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);

		if (n <= 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			r->same &= buf[i] == (char)((r->got + (uint32_t)i) % 251);
		r->got += (uint32_t)n;
	}
	return NULL;
}

/* 1 MiB from a guest that keeps to kite's credit, to a host that reads
 * late: kite buffers, flushes when the socket drains, and its credit
 * updates keep the guest going; every byte arrives, in order. */
static void test_credit_flow(void **s)
{
	static char chunk[60000];
	struct reader r = {0};
	struct vsock_hdr h;
	uint32_t local, sent = 0, peer_fwd = 0;
	pthread_t th;

	(void)s;
	bring_up();
	post_rx(8);
	r.fd = host_connect(80, &local);
	assert_int_equal(pthread_create(&th, NULL, slow_reader, &r), 0);
	while (sent < FLOW_TOTAL) {
		uint32_t allowed = 65536 - (sent - peer_fwd), n;

		if (allowed == 0) {
			assert_int_equal(rx(&h, NULL), 0); /* waits for credit */
			post_rx(1);
			if (h.op == VSOCK_OP_CREDIT_UPDATE || h.op == VSOCK_OP_RW)
				peer_fwd = h.fwd_cnt;
			continue;
		}
		n = MIN(MIN(allowed, (uint32_t)sizeof(chunk)), FLOW_TOTAL - sent);
		for (uint32_t i = 0; i < n; i++)
			chunk[i] = (char)((sent + i) % 251);
		h = ghdr(VSOCK_OP_RW, 80, local);
		h.len = n;
		tx(&h, chunk, n);
		sent += n;
		while (vqd_used_idx(&vq[0]) != rx_seen) { /* updates that came anyway */
			assert_int_equal(rx(&h, NULL), 0);
			post_rx(1);
			peer_fwd = h.fwd_cnt;
		}
	}
	pthread_join(th, NULL);
	assert_int_equal(r.got, FLOW_TOTAL);
	assert_true(r.same);
	assert_int_equal(stat_of("credit_violations"), 0);
	assert_int_equal(stat_of("tx_bytes"), FLOW_TOTAL);
	close(r.fd);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_credit_respected), T(test_credit_update_sent), T(test_credit_violation),
		T(test_credit_flow),	  T(test_rx_starved),	      T(test_small_rx_buffers),
		T(test_half_open_timeouts), T(test_conn_limit),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
