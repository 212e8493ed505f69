/* Unit tests for src/virtio/vsock*.c through the mmio transport and real
 * Unix sockets, the event loop running on a thread of its own as in kite:
 * host-initiated connections (CONNECT, OK, data both ways, RST from a guest
 * with no listener, bad CONNECT lines), guest-initiated ones (to PATH_P, or
 * a RST without a listener), credit (the guest's limit respected, credit
 * asked for, updates sent, a driver ignoring credit reset), hostile
 * headers, a starved RX queue that costs no CPU, driver reset, half-open
 * timeouts, and save/restore with its TRANSPORT_RESET event. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "compiler.h"
#include "virtio/vsock.h"
#include "virtio/vsock_pkt.h"
#include "virtq_driver.h"
#include "virtio_state.h"

#define MEM_SIZE (4u << 20)
#define QSIZE 16u
#define RING(q) (0x10000u + 0x4000u * (q)) /* desc; avail +0x1000; used +0x2000 */
#define RXBUF 0x100000u			    /* QSIZE x RXLEN */
#define RXLEN 0x1000u
#define TXBUF 0x200000u /* QSIZE x TXLEN */
#define TXLEN 0x11000u
#define EVBUF 0x3f0000u
#define CID 3u

static uint8_t *mem;
static struct guest_mem gm;
static struct vqd vq[3];
static struct evloop loop;
static pthread_t loop_th;
static bool loop_running;
static struct virtio_vsock *v;
static struct virtio_dev *t;
static char path[80];
static uint16_t rx_seen, tx_next, rx_next;

static void *loop_thread(void *arg)
{
	if (ev_run(arg) < 0)
		abort();
	return NULL;
}

static void queues_init(void)
{
	for (int q = 0; q < 3; q++)
		vq[q] = (struct vqd){mem, QSIZE, RING(q), RING(q) + 0x1000, RING(q) + 0x2000};
	rx_seen = tx_next = rx_next = 0;
}

/* Kicks reach the device through its eventfds on the loop thread, as in
 * kite: only that thread touches the event loop. The test thread stops it
 * around creating and freeing devices. */
static void loop_start(void)
{
	ev_clear_stop(&loop);
	assert_int_equal(pthread_create(&loop_th, NULL, loop_thread, &loop), 0);
	loop_running = true;
}

static void loop_stop(void)
{
	if (!loop_running)
		return;
	ev_stop(&loop);
	pthread_join(loop_th, NULL);
	loop_running = false;
}

static int setup(void **s)
{
	(void)s;
	mem = aligned_alloc(4096, MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	queues_init();
	snprintf(path, sizeof(path), "/tmp/kite-vsock-test.%d", (int)getpid());
	unlink(path);
	assert_int_equal(ev_init(&loop), 0);
	assert_int_equal(virtio_vsock_new(&v, &gm, &loop, CID, path, "vsock0"), 0);
	t = virtio_vsock_vdev(v);
	assert_int_equal(virtio_dev_setup_eventfds(t, &loop), 0);
	loop_start();
	return 0;
}

static int teardown(void **s)
{
	(void)s;
	loop_stop();
	if (v)
		virtio_vsock_free(v);
	ev_free(&loop);
	free(mem);
	assert_int_equal(access(path, F_OK), -1); /* the socket file went with it */
	return 0;
}

static void bring_up(void)
{
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 3), 0xf);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG), CID);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG + 4), 0);
}

/* RX buffers: n more, each RXLEN bytes, one descriptor per chain. */
static void post_rx(int n)
{
	for (int i = 0; i < n; i++) {
		uint16_t d = rx_next++ % QSIZE;

		vqd_set_desc(&vq[0], d, RXBUF + RXLEN * d, RXLEN, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq[0], d);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* Waits up to 2 s for queue q's used idx to reach idx. */
static void wait_used(int q, uint16_t idx)
{
	for (int i = 0; i < 2000 && vqd_used_idx(&vq[q]) != idx; i++)
		usleep(1000);
	assert_int_equal(vqd_used_idx(&vq[q]), idx);
}

static void tx(const struct vsock_hdr *h, const void *data, uint32_t n)
{
	uint16_t d = tx_next++ % QSIZE;
	uint16_t before = vqd_used_idx(&vq[1]);

	memcpy(mem + TXBUF + TXLEN * d, h, sizeof(*h));
	if (n)
		memcpy(mem + TXBUF + TXLEN * d + sizeof(*h), data, n);
	vqd_set_desc(&vq[1], d, TXBUF + TXLEN * d, (uint32_t)sizeof(*h) + n, 0, 0);
	vqd_offer(&vq[1], d);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wait_used(1, (uint16_t)(before + 1));
}

static struct vsock_hdr ghdr(uint16_t op, uint32_t gport, uint32_t hport)
{
	return (struct vsock_hdr){.src_cid = CID, .dst_cid = 2, .src_port = gport,
				  .dst_port = hport, .type = VSOCK_TYPE_STREAM, .op = op,
				  .buf_alloc = 65536};
}

static void tx_op(uint16_t op, uint32_t gport, uint32_t hport)
{
	struct vsock_hdr h = ghdr(op, gport, hport);

	tx(&h, NULL, 0);
}

/* Waits up to 2 s for the next RX packet; its header in *h and payload
 * (if data) copied to data. Returns 0, or -1 on timeout. */
static int rx(struct vsock_hdr *h, void *data)
{
	for (int i = 0; i < 2000; i++) {
		if (vqd_used_idx(&vq[0]) != rx_seen) {
			struct virtq_used_elem e = vqd_used_elem(&vq[0], rx_seen++);
			const uint8_t *p = mem + RXBUF + RXLEN * e.id;

			memcpy(h, p, sizeof(*h));
			assert_int_equal(e.len, sizeof(*h) + h->len);
			if (data)
				memcpy(data, p + sizeof(*h), h->len);
			return 0;
		}
		usleep(1000);
	}
	return -1;
}

static void rx_expect(uint16_t op, struct vsock_hdr *h)
{
	assert_int_equal(rx(h, NULL), 0);
	assert_int_equal(h->op, op);
	assert_int_equal(h->src_cid, 2);
	assert_int_equal(h->dst_cid, CID);
	assert_int_equal(h->type, VSOCK_TYPE_STREAM);
}

static void rx_none(void)
{
	struct vsock_hdr h;

	usleep(30000);
	assert_int_equal(vqd_used_idx(&vq[0]), rx_seen);
	(void)h;
}

static int client(const char *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {2, 0};

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Reads until `want` bytes or EOF/timeout; returns what arrived. */
static ssize_t recv_n(int fd, char *buf, size_t want)
{
	size_t got = 0;

	while (got < want) {
		ssize_t n = recv(fd, buf + got, want - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static uint64_t stat_of(const char *key)
{
	struct device_stats st = {0};
	struct device *d = virtio_vsock_device(v);

	d->ops->stats(d, &st); /* takes the device lock itself */
	for (int i = 0; i < (int)st.nr; i++)
		if (!strcmp(st.v[i].key, key))
			return st.v[i].value;
	fail_msg("no stat %s", key);
	return 0;
}

/* Connections close on the loop thread: waits up to 2 s for n. */
static void wait_conns(uint32_t n)
{
	for (int i = 0; i < 2000 && virtio_vsock_nr_conns(v) != n; i++)
		usleep(1000);
	assert_int_equal(virtio_vsock_nr_conns(v), n);
}

/* A host client connected to guest port gport; returns its fd and the
 * local port kite chose. */
static int host_connect_at(const char *p, uint32_t gport, uint32_t *local)
{
	char line[32], ok[32];
	struct vsock_hdr h;
	int fd = client(p);

	snprintf(line, sizeof(line), "connect %u\n", gport);
	send_str(fd, line);
	rx_expect(VSOCK_OP_REQUEST, &h);
	assert_int_equal(h.dst_port, gport);
	assert_true(h.src_port >= (1u << 30));
	assert_int_equal(h.buf_alloc, 65536);
	*local = h.src_port;
	tx_op(VSOCK_OP_RESPONSE, gport, *local);
	snprintf(ok, sizeof(ok), "OK %u\n", *local);
	assert_int_equal(recv_n(fd, line, strlen(ok)), (ssize_t)strlen(ok));
	assert_memory_equal(line, ok, strlen(ok));
	return fd;
}

static int host_connect(uint32_t gport, uint32_t *local)
{
	return host_connect_at(path, gport, local);
}

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

static int host_listen(uint32_t port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", path, port);
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
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

static void credit_update(uint32_t gport, uint32_t local, uint32_t buf_alloc, uint32_t fwd)
{
	struct vsock_hdr h = ghdr(VSOCK_OP_CREDIT_UPDATE, gport, local);

	h.buf_alloc = buf_alloc;
	h.fwd_cnt = fwd;
	tx(&h, NULL, 0);
}

static void rx_data(uint32_t len, const char *want)
{
	struct vsock_hdr h;
	char buf[RXLEN];

	assert_int_equal(rx(&h, buf), 0);
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, len);
	assert_memory_equal(buf, want, len);
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

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
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

static void tx_raw(const void *p, uint32_t n)
{
	uint16_t d = tx_next++ % QSIZE;
	uint16_t before = vqd_used_idx(&vq[1]);

	memcpy(mem + TXBUF + TXLEN * d, p, n);
	vqd_set_desc(&vq[1], d, TXBUF + TXLEN * d, n, 0, 0);
	vqd_offer(&vq[1], d);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wait_used(1, (uint16_t)(before + 1));
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
		T(test_host_connect_echo), T(test_host_connect_refused), T(test_host_bad_lines),
		T(test_guest_connect),	   T(test_host_close),		 T(test_credit_respected),
		T(test_credit_update_sent), T(test_credit_violation),	 T(test_rx_starved),
		T(test_bad_headers),	   T(test_guest_shutdown),	 T(test_driver_reset),
		T(test_save_restore),	   T(test_bad_sections),	 T(test_new_refused),
		T(test_half_open_timeouts), T(test_conn_limit), T(test_small_rx_buffers),
		T(test_credit_flow),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
