/* Test guest (tests/integration/vsock.sh): a polling virtio-vsock driver at
 * CPL 3 (--mode long-user --load 0x100000 --vsock cid=CID,uds=PATH).
 * Arguments: rdi = the CID it expects, rsi = how many host connections to
 * serve before it ends, rdx = a host port to connect to itself (0: none),
 * rcx = 1: also wait for a TRANSPORT_RESET event (a restore), after which
 * the connections it knew are forgotten and rsi counts anew.
 *
 * It listens on guest port 1234 and echoes every byte back on the same
 * connection, within the host's credit. Port 1235 is a sink that offers
 * only 16 KiB of credit (buf_alloc) and does not "read" (advance fwd_cnt)
 * until the host's data has stopped: the device must stop at exactly that
 * credit (more is failure 20) and resume after the CREDIT_UPDATE; the data
 * is checked against the pattern (byte i = i * 131 + (i >> 9)), and at the
 * host's SHUTDOWN the guest answers "sink got N stalls K\n" (K: stops with
 * the credit exhausted) and closes. Port 1236 is a source that streams the
 * same pattern within the device's credit until the host ends the
 * connection (RST or SHUTDOWN). Any other port gets a RST. With
 * rdx it first checks that host port rdx + 1 (no listener) answers with a
 * RST, then connects to host port rdx, sends "hello from guest\n",
 * expects it echoed, and closes. It ends through debug-exit: 0, or 16 + N
 * for failure N (printed on COM1). */
#include <stdint.h>

#include "virtq_guest.h"

#define DEV 0xd0000000ul
#define ID_VSOCK 19
#define QSIZE 16u
#define RXQ 0
#define TXQ 1
#define EVQ 2
#define RING_GPA(q) (0x200000ul + 0x4000ul * (q))
#define RXBUF_GPA 0x220000ul /* QSIZE x RXBUF_LEN */
#define RXBUF_LEN 4096u
#define TXBUF_GPA 0x240000ul
#define EVBUF_GPA 0x248000ul
#define SPIN 2000000000ul
#define LISTEN_PORT 1234u
#define GUEST_PORT 5555u
#define BUF_ALLOC 65536u
#define MAX_CONNS 8
#define SINK_PORT 1235u
#define SOURCE_PORT 1236u
#define SINK_ALLOC 16384u
#define STALL 1500000ul /* polls without a packet: the host's data stopped */
#define PATTERN_GPA 0x260000ul
#define SRC_CHUNK 4000u

struct conn {
	int used;
	uint32_t host_port, guest_port;
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt; /* to the host */
	uint32_t fwd_cnt;			       /* consumed from the host */
	uint32_t port;				       /* LISTEN, SINK or SOURCE_PORT */
	uint32_t buf_alloc;			       /* what we advertise */
	uint32_t held;				       /* sink: received, not consumed */
	uint64_t total, stalls;			       /* sink: bytes, full stops */
	int credit_asked;			       /* source: CREDIT_REQUEST sent */
};

static struct vq vqs[3];
static struct conn conns[MAX_CONNS];
static uint64_t cid;

static struct conn *find(uint32_t host_port, uint32_t guest_port)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].used && conns[i].host_port == host_port &&
		    conns[i].guest_port == guest_port)
			return &conns[i];
	return 0;
}

static struct conn *add(uint32_t host_port, uint32_t guest_port)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		if (!conns[i].used) {
			memset(&conns[i], 0, sizeof(conns[i]));
			conns[i].used = 1;
			conns[i].host_port = host_port;
			conns[i].guest_port = guest_port;
			conns[i].port = guest_port;
			conns[i].buf_alloc = BUF_ALLOC;
			return &conns[i];
		}
	}
	fail(3, "too many connections", MAX_CONNS);
}

/* Sends one packet (header + len bytes of data) and waits for the device. */
static void send_pkt(uint16_t op, uint32_t guest_port, uint32_t host_port, uint32_t flags,
		     const volatile uint8_t *data, uint32_t len, struct conn *c)
{
	volatile struct vsock_hdr *h = (volatile struct vsock_hdr *)TXBUF_GPA;
	volatile uint8_t *p = (volatile uint8_t *)(TXBUF_GPA + sizeof(struct vsock_hdr));
	volatile struct desc *d = vq_desc(&vqs[TXQ], 0);

	h->src_cid = cid;
	h->dst_cid = 2;
	h->src_port = guest_port;
	h->dst_port = host_port;
	h->len = len;
	h->type = 1;
	h->op = op;
	h->flags = flags;
	h->buf_alloc = c ? c->buf_alloc : BUF_ALLOC;
	h->fwd_cnt = c ? c->fwd_cnt : 0;
	for (uint32_t i = 0; i < len; i++)
		p[i] = data[i];
	d->addr = TXBUF_GPA;
	d->len = (uint32_t)sizeof(struct vsock_hdr) + len;
	d->flags = 0;
	vq_offer(&vqs[TXQ], 0);
	vq_kick(&vqs[TXQ]);
	if (vq_wait(&vqs[TXQ], 1, SPIN))
		fail(4, "TX not completed", op);
}

static void post_rx(uint16_t i)
{
	vq_post_write(&vqs[RXQ], i, RXBUF_GPA + RXBUF_LEN * (uint64_t)i, RXBUF_LEN);
}

/* The next RX packet (its buffer id in *id), or 0 after `spin` polls. */
static volatile struct vsock_hdr *next_rx(uint16_t *id, uint64_t spin)
{
	struct vq *rx = &vqs[RXQ];

	for (uint64_t i = 0; i < spin; i++) {
		if (vq_used_idx(rx) != rx->used_seen) {
			uint16_t slot = rx->used_seen++;
			uint32_t len = vq_used_len(rx, slot);
			volatile struct vsock_hdr *h;

			*id = (uint16_t)vq_used_id(rx, slot);
			if (*id >= QSIZE || len < sizeof(struct vsock_hdr) || len > RXBUF_LEN)
				fail(5, "bad used element", ((uint64_t)*id << 32) | len);
			h = (volatile struct vsock_hdr *)(RXBUF_GPA + RXBUF_LEN * (uint64_t)*id);
			if (h->src_cid != 2 || h->dst_cid != cid || h->type != 1 ||
			    len != sizeof(struct vsock_hdr) + h->len)
				fail(6, "bad header from the device", h->op);
			return h;
		}
		cpu_relax();
	}
	return 0;
}

static void rx_done(uint16_t id)
{
	post_rx(id);
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
}

static void credit(struct conn *c, volatile struct vsock_hdr *h)
{
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
}

/* Echoes a data packet back within the host's credit. */
static void echo(struct conn *c, volatile struct vsock_hdr *h)
{
	uint32_t n = h->len;
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;

	c->fwd_cnt += n;
	if (in_flight > c->peer_buf_alloc || c->peer_buf_alloc - in_flight < n)
		fail(7, "host credit exhausted", in_flight);
	c->tx_cnt += n;
	send_pkt(OP_RW, c->guest_port, c->host_port, 0,
		 (const volatile uint8_t *)h + sizeof(struct vsock_hdr), n, c);
}

static uint8_t pattern(uint64_t i)
{
	return (uint8_t)(i * 131 + (i >> 9));
}

/* Sink data: checked and held, within the 16 KiB we offered. */
static void sink_data(struct conn *c, volatile struct vsock_hdr *h)
{
	const volatile uint8_t *p = (const volatile uint8_t *)h + sizeof(struct vsock_hdr);

	if (c->held + h->len > SINK_ALLOC)
		fail(20, "the device sent beyond our credit; held", c->held + h->len);
	for (uint32_t i = 0; i < h->len; i++)
		if (p[i] != pattern(c->total + i))
			fail(21, "sink data differs at stream offset", c->total + i);
	c->held += h->len;
	c->total += h->len;
}

/* The host's data stopped: "read" what is held, tell the device. */
static void sink_consume(struct conn *c)
{
	if (c->held == SINK_ALLOC)
		c->stalls++;
	c->fwd_cnt += c->held;
	c->held = 0;
	send_pkt(OP_CREDIT_UPDATE, c->guest_port, c->host_port, 0, 0, 0, c);
}

static void sink_end(struct conn *c)
{
	volatile char *m = (volatile char *)PATTERN_GPA;
	static const char a[] = "sink got ", b[] = " stalls ";
	uint32_t n = 0;
	char d[24];
	int k;

	c->fwd_cnt += c->held;
	c->held = 0;
	for (const char *q = a; *q; q++)
		m[n++] = *q;
	for (k = 0; k == 0 || c->total; c->total /= 10)
		d[k++] = (char)('0' + c->total % 10);
	while (k)
		m[n++] = d[--k];
	for (const char *q = b; *q; q++)
		m[n++] = *q;
	for (k = 0; k == 0 || c->stalls; c->stalls /= 10)
		d[k++] = (char)('0' + c->stalls % 10);
	while (k)
		m[n++] = d[--k];
	m[n++] = '\n';
	puts_("sink: ");
	for (uint32_t i = 0; i < n; i++)
		putc_(m[i]);
	c->tx_cnt += n;
	send_pkt(OP_RW, c->guest_port, c->host_port, 0, (const volatile uint8_t *)m, n, c);
}

/* Source: the next chunk of the pattern, as far as the credit goes. */
static void source_pump(struct conn *c)
{
	volatile uint8_t *m = (volatile uint8_t *)PATTERN_GPA;
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	uint32_t n = SRC_CHUNK;

	if (in_flight >= c->peer_buf_alloc) {
		if (!c->credit_asked)
			send_pkt(OP_CREDIT_REQUEST, c->guest_port, c->host_port, 0, 0, 0, c);
		c->credit_asked = 1;
		return;
	}
	if (c->peer_buf_alloc - in_flight < n)
		n = c->peer_buf_alloc - in_flight;
	for (uint32_t i = 0; i < n; i++)
		m[i] = pattern((uint64_t)c->tx_cnt + i);
	c->tx_cnt += n;
	send_pkt(OP_RW, c->guest_port, c->host_port, 0, m, n, c);
}

/* One packet of the servers; returns 1 when a connection ended. */
static int serve(volatile struct vsock_hdr *h)
{
	struct conn *c = find(h->src_port, h->dst_port);
	uint16_t op = h->op;
	uint32_t port = h->dst_port;

	if (op == OP_REQUEST && !c &&
	    (port == LISTEN_PORT || port == SINK_PORT || port == SOURCE_PORT)) {
		c = add(h->src_port, h->dst_port);
		if (port == SINK_PORT)
			c->buf_alloc = SINK_ALLOC;
		credit(c, h);
		send_pkt(OP_RESPONSE, c->guest_port, c->host_port, 0, 0, 0, c);
		return 0;
	}
	if (!c) {
		if (op != OP_RST)
			send_pkt(OP_RST, h->dst_port, h->src_port, 0, 0, 0, 0);
		return 0;
	}
	credit(c, h);
	if (op == OP_RW && c->port == SINK_PORT) {
		sink_data(c, h);
	} else if (op == OP_RW && c->port == SOURCE_PORT) {
		c->fwd_cnt += h->len; /* nothing is expected: dropped */
	} else if (op == OP_RW) {
		echo(c, h);
	} else if (op == OP_CREDIT_REQUEST) {
		/* For the sink, the same fwd_cnt again while it holds data. */
		send_pkt(OP_CREDIT_UPDATE, c->guest_port, c->host_port, 0, 0, 0, c);
	} else if (op == OP_CREDIT_UPDATE) {
		c->credit_asked = 0;
	} else if (op == OP_SHUTDOWN || op == OP_RST) {
		if (c->port == SINK_PORT && op == OP_SHUTDOWN)
			sink_end(c);
		if (c->port == SOURCE_PORT) {
			puts_(op == OP_RST ? "source: host ended it (RST) after "
					   : "source: host ended it (SHUTDOWN) after ");
			putdec(c->tx_cnt);
			puts_(" bytes\n");
		}
		if (op == OP_SHUTDOWN)
			send_pkt(OP_RST, c->guest_port, c->host_port, 0, 0, 0, c);
		c->used = 0;
		return 1;
	}
	return 0;
}

/* Waits for a packet for (host_port, GUEST_PORT) with op `want`, serving
 * nothing else meanwhile (the host connects only later). */
static volatile struct vsock_hdr *expect(uint32_t host_port, uint16_t want, uint16_t *id, int n)
{
	volatile struct vsock_hdr *h = next_rx(id, SPIN);

	if (!h)
		fail(n, "no packet from the device", want);
	if (h->op != want || h->src_port != host_port || h->dst_port != GUEST_PORT)
		fail(n, "unexpected packet (op)", h->op);
	return h;
}

static void guest_connect(uint32_t port)
{
	static const char msg[] = "hello from guest\n";
	struct conn *c = add(port, GUEST_PORT);
	volatile struct vsock_hdr *h;
	uint32_t got = 0;
	uint16_t id;

	/* The refusal first: the host side starts its own connections
	 * only once this connection ended. */
	send_pkt(OP_REQUEST, GUEST_PORT, port + 1, 0, 0, 0, 0);
	expect(port + 1, OP_RST, &id, 13);
	rx_done(id);
	puts_("OK guest-refused\n");
	send_pkt(OP_REQUEST, GUEST_PORT, port, 0, 0, 0, c);
	h = expect(port, OP_RESPONSE, &id, 8);
	credit(c, h);
	rx_done(id);
	c->tx_cnt += sizeof(msg) - 1;
	send_pkt(OP_RW, GUEST_PORT, port, 0, (const volatile uint8_t *)msg, sizeof(msg) - 1, c);
	while (got < sizeof(msg) - 1) {
		const volatile uint8_t *p;

		h = next_rx(&id, SPIN);
		if (!h)
			fail(9, "no echo from the host listener", got);
		if (h->op == OP_CREDIT_UPDATE) {
			credit(c, h);
			rx_done(id);
			continue;
		}
		if (h->op != OP_RW || got + h->len > sizeof(msg) - 1)
			fail(10, "unexpected packet while waiting for the echo", h->op);
		p = (const volatile uint8_t *)h + sizeof(struct vsock_hdr);
		for (uint32_t i = 0; i < h->len; i++)
			if (p[i] != (uint8_t)msg[got + i])
				fail(11, "echo differs at", got + i);
		got += h->len;
		c->fwd_cnt += h->len;
		rx_done(id);
	}
	send_pkt(OP_SHUTDOWN, GUEST_PORT, port, 3, 0, 0, c);
	h = expect(port, OP_RST, &id, 12);
	rx_done(id);
	c->used = 0;
	puts_("OK guest-connect\n");
}

static void setup_queue(uint32_t qi)
{
	mmio_wr(DEV, R_QUEUE_SEL, qi);
	if (mmio_rd(DEV, R_QUEUE_NUM_MAX) < QSIZE)
		fail(14, "queue too small", mmio_rd(DEV, R_QUEUE_NUM_MAX));
	if (!vq_setup(&vqs[qi], DEV, qi, QSIZE, RING_GPA(qi)))
		fail(15, "QueueReady did not stick", qi);
}

/* The event queue's one buffer: 1 when TRANSPORT_RESET arrived. */
static int transport_reset(void)
{
	struct vq *ev = &vqs[EVQ];

	if (vq_used_idx(ev) == ev->used_seen)
		return 0;
	ev->used_seen++;
	if (vq_used_len(ev, 0) != 4 || *(volatile uint32_t *)EVBUF_GPA != 0)
		fail(19, "bad event", *(volatile uint32_t *)EVBUF_GPA);
	memset(conns, 0, sizeof(conns)); /* every connection is gone */
	puts_("transport reset\n");
	return 1;
}

void guest_main(uint64_t want_cid, uint64_t nr_conns, uint64_t host_port, uint64_t wait_reset);
void guest_main(uint64_t want_cid, uint64_t nr_conns, uint64_t host_port, uint64_t wait_reset)
{
	uint64_t closed = 0, idle = 0;
	int reset_seen = 0;

	if (mmio_rd(DEV, R_MAGIC) != VIRTIO_MAGIC || mmio_rd(DEV, R_DEVICE_ID) != ID_VSOCK)
		fail(1, "no virtio-vsock at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	mmio_wr(DEV, R_STATUS, 0);
	virtio_ack(DEV);
	if (!virtio_set_features(DEV, 1ull << F_VERSION_1))
		fail(2, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	cid = virtio_config64(DEV, 0);
	if (cid != want_cid)
		fail(16, "guest_cid in config space", cid);
	for (uint32_t q = 0; q < 3; q++)
		setup_queue(q);
	if (!virtio_driver_ok(DEV))
		fail(17, "DRIVER_OK refused", mmio_rd(DEV, R_STATUS));
	for (uint16_t i = 0; i < QSIZE; i++)
		post_rx(i);
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
	vq_add(&vqs[EVQ], EVBUF_GPA, 8, D_WRITE);
	vq_offer(&vqs[EVQ], 0);
	vq_kick(&vqs[EVQ]);
	puts_("vsock ready cid ");
	putdec(cid);
	puts_("\n");
	if (host_port)
		guest_connect((uint32_t)host_port);
	while (closed < nr_conns || (wait_reset && !reset_seen)) {
		uint16_t id;
		volatile struct vsock_hdr *h;

		if (!reset_seen && transport_reset()) {
			reset_seen = 1;
			closed = 0; /* count the connections made after it */
		}
		for (int i = 0; i < MAX_CONNS; i++)
			if (conns[i].used && conns[i].port == SOURCE_PORT)
				source_pump(&conns[i]);
		h = next_rx(&id, 1);
		if (!h) {
			if (++idle > SPIN)
				fail(18, "no host traffic; connections closed so far", closed);
			if (idle % STALL == 0)
				for (int i = 0; i < MAX_CONNS; i++)
					if (conns[i].used && conns[i].held)
						sink_consume(&conns[i]);
			continue;
		}
		idle = 0;
		closed += (uint64_t)serve(h);
		rx_done(id);
	}
	puts_("served ");
	putdec(closed);
	puts_(" connections\n");
	guest_exit(0);
}
