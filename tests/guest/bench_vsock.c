/* Benchmark guest (bench/vsock-tput): a polling virtio-vsock driver at
 * CPL 3 (--mode long-user --load 0x100000 --vsock cid=3,uds=PATH), no
 * interrupts, one connection from the host.
 *
 * rdi = 0, host to guest: accepts a connection to port 5000, receives
 * rsi bytes into 32 posted buffers of 64 KiB (consumed at once, credit
 * given back every 32 KiB), then sends one byte "!" and waits for the host
 * to close.
 * rdi = 1, guest to host: accepts a connection to port 5001, waits for one
 * byte from the host, then sends rsi bytes in 32 KiB packets, up to 16 in
 * flight within the device's credit, and waits for the host to close.
 * Prints "bench_vsock done" and ends through debug-exit 0; failure N is
 * 16 + N. */
#include <stdint.h>

#include "virtq_guest.h"

#define DEV 0xd0000000ul
#define ID_VSOCK 19
#define RXQ 0
#define TXQ 1
#define EVQ 2
#define NRX 32u
#define NTX 16u
#define RING_GPA(q) (0x200000ul + 0x4000ul * (q))
#define EVBUF_GPA 0x210000ul
#define RXBUF_GPA 0x1000000ul
#define RXBUF_LEN 0x11000u /* header + 64 KiB, rounded */
#define TXBUF_GPA 0x2000000ul
#define TXBUF_LEN 0x9000u /* header + 32 KiB, rounded */
#define CHUNK 32768u
#define BUF_ALLOC 262144u
#define SPIN 2000000000ul

static struct vq vqs[3];
static uint64_t cid;
static uint32_t host_port, my_port;
static uint32_t fwd_cnt, peer_buf_alloc, peer_fwd_cnt, tx_cnt;
static uint32_t tx_inflight;

static void reap_tx(void)
{
	struct vq *q = &vqs[TXQ];
	uint16_t n = (uint16_t)(vq_used_idx(q) - q->used_seen);

	q->used_seen = (uint16_t)(q->used_seen + n);
	tx_inflight -= n;
}

/* Queues one packet (len bytes of payload already in place when op is
 * OP_RW) in the next TX slot; waits for a free slot first. */
static void send(uint16_t op, uint32_t len)
{
	struct vq *q = &vqs[TXQ];
	uint16_t slot = (uint16_t)(q->avail_idx % NTX);
	volatile struct vsock_hdr *h =
	    (volatile struct vsock_hdr *)(TXBUF_GPA + TXBUF_LEN * (uint64_t)slot);
	volatile struct desc *d = vq_desc(q, slot);

	for (uint64_t i = 0; tx_inflight >= NTX; i++) {
		if (i > SPIN)
			fail(3, "TX not completed", op);
		reap_tx();
	}
	h->src_cid = cid;
	h->dst_cid = 2;
	h->src_port = my_port;
	h->dst_port = host_port;
	h->len = len;
	h->type = 1;
	h->op = op;
	h->flags = 0;
	h->buf_alloc = BUF_ALLOC;
	h->fwd_cnt = fwd_cnt;
	d->addr = (uint64_t)h;
	d->len = (uint32_t)sizeof(struct vsock_hdr) + len;
	d->flags = 0;
	tx_inflight++;
	vq_offer(q, slot);
	vq_kick(q);
}

static volatile uint8_t *tx_payload(void)
{
	return (volatile uint8_t *)(TXBUF_GPA + TXBUF_LEN * (uint64_t)(vqs[TXQ].avail_idx % NTX) +
				    sizeof(struct vsock_hdr));
}

/* The next RX packet's header, or 0 after `spin` polls; its buffer is
 * posted again by rx_done. */
static volatile struct vsock_hdr *next_rx(uint16_t *id, uint64_t spin)
{
	struct vq *q = &vqs[RXQ];

	for (uint64_t i = 0; i < spin; i++) {
		if (vq_used_idx(q) != q->used_seen) {
			uint16_t slot = q->used_seen++;
			volatile struct vsock_hdr *h;

			*id = (uint16_t)vq_used_id(q, slot);
			if (*id >= NRX)
				fail(4, "bad used id", *id);
			h = (volatile struct vsock_hdr *)(RXBUF_GPA + RXBUF_LEN * (uint64_t)*id);
			peer_buf_alloc = h->buf_alloc;
			peer_fwd_cnt = h->fwd_cnt;
			return h;
		}
		cpu_relax();
	}
	return 0;
}

static void rx_done(uint16_t id)
{
	vq_post_write(&vqs[RXQ], id, RXBUF_GPA + RXBUF_LEN * (uint64_t)id, RXBUF_LEN);
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
}

static void accept(uint32_t port)
{
	uint16_t id;
	volatile struct vsock_hdr *h = next_rx(&id, SPIN);

	if (!h || h->op != OP_REQUEST || h->dst_port != port)
		fail(5, "no connection request for the port", port);
	host_port = h->src_port;
	my_port = port;
	rx_done(id);
	send(OP_RESPONSE, 0);
}

static void wait_close(void)
{
	for (;;) {
		uint16_t id;
		volatile struct vsock_hdr *h = next_rx(&id, SPIN);

		uint16_t op;

		if (!h)
			fail(6, "the host never closed", 0);
		op = h->op;
		rx_done(id);
		if (op == OP_SHUTDOWN || op == OP_RST) {
			if (op == OP_SHUTDOWN)
				send(OP_RST, 0);
			return;
		}
	}
}

static void sink(uint64_t total)
{
	uint64_t got = 0;
	uint32_t credit_sent = 0;

	accept(5000);
	while (got < total) {
		uint16_t id;
		volatile struct vsock_hdr *h = next_rx(&id, SPIN);
		uint16_t op;

		if (!h)
			fail(7, "sink: no data; got", got);
		op = h->op;
		if (op == OP_RW) {
			got += h->len;
			fwd_cnt += h->len;
		}
		rx_done(id);
		if (op == OP_CREDIT_REQUEST || fwd_cnt - credit_sent >= BUF_ALLOC / 8) {
			credit_sent = fwd_cnt;
			send(OP_CREDIT_UPDATE, 0);
		}
		reap_tx();
	}
	*tx_payload() = '!';
	send(OP_RW, 1);
	tx_cnt++;
	wait_close();
}

static void source(uint64_t total)
{
	uint64_t sent = 0;
	uint16_t id;
	volatile struct vsock_hdr *h;

	accept(5001);
	for (uint16_t op = 0; op != OP_RW;) {
		h = next_rx(&id, SPIN);
		if (!h)
			fail(8, "source: no go from the host", 0);
		op = h->op;
		if (op == OP_RW)
			fwd_cnt += h->len;
		rx_done(id);
	}
	while (sent < total) {
		uint32_t credit = peer_buf_alloc - (tx_cnt - peer_fwd_cnt);
		uint32_t n = total - sent < CHUNK ? (uint32_t)(total - sent) : CHUNK;

		reap_tx();
		if (credit < n || tx_inflight >= NTX) {
			/* kite sends CREDIT_UPDATE as the socket takes the data. */
			h = next_rx(&id, tx_inflight ? 1 : SPIN);
			if (h)
				rx_done(id);
			else if (!tx_inflight)
				fail(9, "source: no credit; sent", sent);
			continue;
		}
		send(OP_RW, n); /* the payload is whatever the buffer holds */
		tx_cnt += n;
		sent += n;
	}
	wait_close();
}

void guest_main(uint64_t mode, uint64_t total);
void guest_main(uint64_t mode, uint64_t total)
{
	if (mmio_rd(DEV, R_MAGIC) != VIRTIO_MAGIC || mmio_rd(DEV, R_DEVICE_ID) != ID_VSOCK)
		fail(1, "no virtio-vsock at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	mmio_wr(DEV, R_STATUS, 0);
	virtio_ack(DEV);
	if (!virtio_set_features(DEV, 1ull << F_VERSION_1))
		fail(2, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	cid = virtio_config64(DEV, 0);
	for (uint32_t q = 0; q < 3; q++) {
		mmio_wr(DEV, R_QUEUE_SEL, q);
		if (mmio_rd(DEV, R_QUEUE_NUM_MAX) < 64 ||
		    !vq_setup(&vqs[q], DEV, q, 64, RING_GPA(q)))
			fail(10, "queue set-up", q);
	}
	if (!virtio_driver_ok(DEV))
		fail(11, "DRIVER_OK refused", mmio_rd(DEV, R_STATUS));
	for (uint16_t i = 0; i < NRX; i++)
		vq_post_write(&vqs[RXQ], i, RXBUF_GPA + RXBUF_LEN * (uint64_t)i, RXBUF_LEN);
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
	vq_add(&vqs[EVQ], EVBUF_GPA, 8, D_WRITE);
	vq_offer(&vqs[EVQ], 0);
	vq_kick(&vqs[EVQ]);
	if (mode == 0)
		sink(total);
	else
		source(total);
	puts_("bench_vsock done\n");
	guest_exit(0);
}
