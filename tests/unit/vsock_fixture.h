/* The fixture of the virtio-vsock unit tests (test_vsock.c,
 * test_vsock_flow.c): guest memory with the three queues, a device whose
 * kicks go through its eventfds to an event loop on a thread of its own
 * (as in kite, only that thread touches the loop; the test thread stops it
 * around creating and freeing devices), the guest's side of packets, and
 * host clients on real Unix sockets. Each test file includes it once. */
#ifndef KITE_TESTS_VSOCK_FIXTURE_H
#define KITE_TESTS_VSOCK_FIXTURE_H

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

static inline void *loop_thread(void *arg)
{
	if (ev_run(arg) < 0)
		abort();
	return NULL;
}

static inline void queues_init(void)
{
	for (int q = 0; q < 3; q++)
		vq[q] = (struct vqd){mem, QSIZE, RING(q), RING(q) + 0x1000, RING(q) + 0x2000};
	rx_seen = tx_next = rx_next = 0;
}

/* Kicks reach the device through its eventfds on the loop thread, as in
 * kite: only that thread touches the event loop. The test thread stops it
 * around creating and freeing devices. */
static inline void loop_start(void)
{
	ev_clear_stop(&loop);
	assert_int_equal(pthread_create(&loop_th, NULL, loop_thread, &loop), 0);
	loop_running = true;
}

static inline void loop_stop(void)
{
	if (!loop_running)
		return;
	ev_stop(&loop);
	pthread_join(loop_th, NULL);
	loop_running = false;
}

static inline int setup(void **s)
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

static inline int teardown(void **s)
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

static inline void bring_up(void)
{
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	assert_int_equal(vqd_bring_up(t, VQD_VERSION_1, vq, 3), 0xf);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG), CID);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG + 4), 0);
}

/* RX buffers: n more, each RXLEN bytes, one descriptor per chain. */
static inline void post_rx(int n)
{
	for (int i = 0; i < n; i++) {
		uint16_t d = rx_next++ % QSIZE;

		vqd_set_desc(&vq[0], d, RXBUF + RXLEN * d, RXLEN, VIRTQ_DESC_F_WRITE, 0);
		vqd_offer(&vq[0], d);
	}
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
}

/* Waits up to 2 s for queue q's used idx to reach idx. */
static inline void wait_used(int q, uint16_t idx)
{
	for (int i = 0; i < 2000 && vqd_used_idx(&vq[q]) != idx; i++)
		usleep(1000);
	assert_int_equal(vqd_used_idx(&vq[q]), idx);
}

static inline void tx(const struct vsock_hdr *h, const void *data, uint32_t n)
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

static inline struct vsock_hdr ghdr(uint16_t op, uint32_t gport, uint32_t hport)
{
	return (struct vsock_hdr){.src_cid = CID, .dst_cid = 2, .src_port = gport,
				  .dst_port = hport, .type = VSOCK_TYPE_STREAM, .op = op,
				  .buf_alloc = 65536};
}

static inline void tx_op(uint16_t op, uint32_t gport, uint32_t hport)
{
	struct vsock_hdr h = ghdr(op, gport, hport);

	tx(&h, NULL, 0);
}

/* Waits up to 2 s for the next RX packet; its header in *h and payload
 * (if data) copied to data. Returns 0, or -1 on timeout. */
static inline int rx(struct vsock_hdr *h, void *data)
{
	memset(h, 0, sizeof(*h));
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

static inline void rx_expect(uint16_t op, struct vsock_hdr *h)
{
	assert_int_equal(rx(h, NULL), 0);
	assert_int_equal(h->op, op);
	assert_int_equal(h->src_cid, 2);
	assert_int_equal(h->dst_cid, CID);
	assert_int_equal(h->type, VSOCK_TYPE_STREAM);
}

static inline void rx_none(void)
{
	struct vsock_hdr h;

	usleep(30000);
	assert_int_equal(vqd_used_idx(&vq[0]), rx_seen);
	(void)h;
}

static inline int client(const char *p)
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

static inline void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Reads until `want` bytes or EOF/timeout; returns what arrived. */
static inline ssize_t recv_n(int fd, char *buf, size_t want)
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

static inline uint64_t stat_of(const char *key)
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
static inline void wait_conns(uint32_t n)
{
	for (int i = 0; i < 2000 && virtio_vsock_nr_conns(v) != n; i++)
		usleep(1000);
	assert_int_equal(virtio_vsock_nr_conns(v), n);
}

/* A host client connected to guest port gport; returns its fd and the
 * local port kite chose. */
static inline int host_connect_at(const char *p, uint32_t gport, uint32_t *local)
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

static inline int host_connect(uint32_t gport, uint32_t *local)
{
	return host_connect_at(path, gport, local);
}


static inline int host_listen(uint32_t port)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", path, port);
	unlink(sa.sun_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static inline void credit_update(uint32_t gport, uint32_t local, uint32_t buf_alloc, uint32_t fwd)
{
	struct vsock_hdr h = ghdr(VSOCK_OP_CREDIT_UPDATE, gport, local);

	h.buf_alloc = buf_alloc;
	h.fwd_cnt = fwd;
	tx(&h, NULL, 0);
}

static inline void rx_data(uint32_t len, const char *want)
{
	struct vsock_hdr h;
	char buf[RXLEN];

	assert_int_equal(rx(&h, buf), 0);
	assert_int_equal(h.op, VSOCK_OP_RW);
	assert_int_equal(h.len, len);
	assert_memory_equal(buf, want, len);
}

static inline void tx_raw(const void *p, uint32_t n)
{
	uint16_t d = tx_next++ % QSIZE;
	uint16_t before = vqd_used_idx(&vq[1]);

	memcpy(mem + TXBUF + TXLEN * d, p, n);
	vqd_set_desc(&vq[1], d, TXBUF + TXLEN * d, n, 0, 0);
	vqd_offer(&vq[1], d);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	wait_used(1, (uint16_t)(before + 1));
}

#endif
