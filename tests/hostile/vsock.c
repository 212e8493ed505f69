/* Hostile guest: virtio-vsock (the runner listens at uds_5000, accepting
 * and holding every connection, and at uds_5001, never reading). Headers shorter than 44 bytes,
 * lengths that lie, wrong source and destination CIDs, unknown types and ops, data and credit
 * packets for connections that do not exist, a connection whose driver lies about its credit and
 * sends past the host's, 1,000 RSTs, 1,100 connection requests at once (kite allows 1,023; once
 * closed, once left for the reset to drop), a writable descriptor in a TX chain. The good request
 * after each: a device reset (which must drop every connection), a connection to port 5000
 * accepted, a few bytes sent, closed. See README.md. */
#define QS 64u
#include "vq_attack.h"

#define RX 0
#define TX 1
#define EV 2
#define HOST_PORT 5000u
#define TXB (BUF + 0x100000ul)
#define RXB (BUF + 0x200000ul)
#define RXLEN 512u

/* The header and ops: virtq_guest.h (struct vsock_hdr). */

static struct vq rxq, txq, evq;
static uint64_t cid;
static uint32_t n_resp, n_rst, n_other, resp_port;

static uint32_t rx_len = RXLEN;
static uint16_t rx_flags = D_WRITE;

/* Receive buffer i (vs_begin permits them all at once). */
static void post_rx(uint16_t i)
{
	volatile struct desc *d = vq_desc(&rxq, i);

	d->addr = RXB + RXLEN * (uint64_t)i;
	d->len = rx_len;
	d->flags = rx_flags;
	vq_push(&rxq, i);
}

/* Takes every RX packet in, counts it by op, gives the buffer back. */
static void drain(void)
{
	while (vq_used_idx(&rxq) != rxq.used_seen) {
		uint16_t slot = rxq.used_seen++;
		uint32_t id = vq_used_id(&rxq, slot);
		volatile struct vsock_hdr *h;

		if (id >= QS)
			verdict_fail("RX used id out of range", id);
		h = (volatile struct vsock_hdr *)(RXB + RXLEN * (uint64_t)id);
		if (vq_used_len(&rxq, slot) < sizeof(struct vsock_hdr)) {
			n_other++; /* nothing (whole) in it: returned unused */
		} else if (h->op == OP_RESPONSE) {
			n_resp++;
			resp_port = h->dst_port;
		} else if (h->op == OP_RST) {
			n_rst++;
		} else {
			n_other++;
		}
		post_rx((uint16_t)id);
	}
	vq_publish(&rxq);
	vq_kick(&rxq);
}

static void vs_begin(void)
{
	dev_reset(DEV);
	arena_clear();
	dev_up(DEV, 0, 3, QS);
	vq_attach(&rxq, DEV, RX, QS, RING(RX));
	vq_attach(&txq, DEV, TX, QS, RING(TX));
	vq_attach(&evq, DEV, EV, QS, RING(EV));
	permit_used(RING(RX), QS);
	permit_used(RING(TX), QS);
	permit_used(RING(EV), QS);
	permit(RING(RX) + VQ_AVAIL, 4 + 2ul * QS); /* drain() runs after the snapshot */
	permit(RING(RX), 16ul * QS);		   /* and reposts descriptors */
	if (rx_flags & D_WRITE)
		permit(RXB, RXLEN * (uint64_t)QS); /* receive buffers */
	permit(RXB + RXLEN * (uint64_t)QS, 8);	   /* the event buffer */
	for (uint16_t i = 0; i < QS; i++)
		post_rx(i);
	vq_publish(&rxq);
	put_desc(evq.ring, 0, RXB + RXLEN * QS, 8, D_WRITE, 0);
	vq_offer(&evq, 0);
	vq_kick(&evq);
	vq_kick(&rxq);
	cid = virtio_config64(DEV, 0);
	n_resp = n_rst = n_other = 0;
	/* Written by us after the snapshot: TX descriptors 0 and 1, the TX
	 * avail ring and the packet at TXB (so the device writing there
	 * would go unseen). */
	permit(RING(TX), 32);
	permit(RING(TX) + VQ_AVAIL, 4 + 2ul * QS);
	permit(TXB, 0x10000);
	arena_snap();
}

/* One TX packet: header fields, `len` bytes of payload after it (the
 * header's len field says hlen), descriptor of dlen bytes. Waits for the
 * device to take it and drains RX. */
static void send_raw(uint64_t src, uint64_t dst, uint32_t sport, uint32_t dport, uint32_t hlen,
		     uint16_t type, uint16_t op, uint32_t buf_alloc, uint32_t fwd, uint32_t dlen,
		     uint16_t dflags)
{
	volatile struct vsock_hdr *h = (volatile struct vsock_hdr *)TXB;
	uint16_t want = (uint16_t)(txq.avail_idx + 1);
	uint64_t t0 = rdtsc();

	h->src_cid = src;
	h->dst_cid = dst;
	h->src_port = sport;
	h->dst_port = dport;
	h->len = hlen;
	h->type = type;
	h->op = op;
	h->flags = 0;
	h->buf_alloc = buf_alloc;
	h->fwd_cnt = fwd;
	put_desc(txq.ring, 0, TXB, dlen, dflags, 0);
	vq_offer(&txq, 0);
	vq_kick(&txq);
	while (vq_used_idx(&txq) != want && rdtsc() - t0 < 1000 * H.tsc_per_ms) {
		drain();
		cpu_relax();
	}
	drain();
}

static void send_op(uint16_t op, uint32_t sport, uint32_t dport, uint32_t len)
{
	send_raw(cid, 2, sport, dport, len, 1, op, 65536, 0, 44 + len, 0);
}

static void settle(uint32_t ms)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < ms * H.tsc_per_ms)
		drain();
}

static void vs_good(const char *after)
{
	vs_begin();
	send_op(OP_REQUEST, 7777, HOST_PORT, 0);
	for (uint64_t t0 = rdtsc(); !n_resp && rdtsc() - t0 < 3000 * H.tsc_per_ms;)
		drain();
	if (n_resp != 1 || resp_port != 7777) {
		puts_("after ");
		puts_(after);
		putc_('\n');
		verdict_fail("good connection not accepted: responses, resets",
			     (uint64_t)n_resp << 32 | n_rst);
	}
	send_op(OP_RW, 7777, HOST_PORT, 5);
	send_op(OP_RST, 7777, HOST_PORT, 0);
}

/* The answer and the canaries (with the attack's buffers still posted). */
static void check(const char *name)
{
	settle(50);
	answer(name, "responses, resets, other answers",
	       (uint64_t)n_resp << 40 | (uint64_t)n_rst << 20 | n_other);
	arena_check(name);
}

static void done(const char *name)
{
	check(name);
	vs_good(name);
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	static const uint64_t dsts[] = {0, 1, 3, ~0ull, 1ull << 40 | 2, 0xffffffffu};
	static const uint16_t ops[] = {0, 8, 9, 0x7fff, 0xffff};

	hostile_init("vsock", a, b, c, d);
	DEV = find_dev(ID_VSOCK, 0);
	if (!DEV)
		verdict_fail("no virtio-vsock in the window at", H.base);
	vs_good("nothing");

	vs_begin();
	send_raw(cid, 2, 1, HOST_PORT, 0, 1, OP_REQUEST, 0, 0, 10, 0);
	done("header-10-bytes");
	vs_begin();
	send_raw(cid, 2, 1, HOST_PORT, 0, 1, OP_REQUEST, 0, 0, 0, 0);
	done("header-0-bytes");
	vs_begin();
	send_raw(cid, 2, 2, HOST_PORT, 65536, 1, OP_RW, 0, 0, 44, 0);
	done("len-says-64k-has-0");
	vs_begin();
	send_raw(cid, 2, 3, HOST_PORT, 0xffffffffu, 1, OP_RW, 0, 0, 54, 0);
	done("len-4g-1");
	vs_begin();
	send_raw(cid + 1, 2, 4, HOST_PORT, 0, 1, OP_REQUEST, 65536, 0, 44, 0);
	done("src-cid-not-ours");
	vs_begin();
	send_raw(2, 2, 5, HOST_PORT, 0, 1, OP_REQUEST, 65536, 0, 44, 0);
	done("src-cid-host");
	vs_begin();
	send_raw(~0ull, 2, 6, HOST_PORT, 0, 1, OP_REQUEST, 65536, 0, 44, 0);
	done("src-cid-any");
	for (uint32_t i = 0; i < sizeof(dsts) / sizeof(dsts[0]); i++) {
		vs_begin();
		send_raw(cid, dsts[i] == 3 ? cid : dsts[i], 7, HOST_PORT, 0, 1, OP_REQUEST, 65536,
			 0, 44, 0);
		done("dst-cid-not-host");
	}
	vs_begin();
	send_raw(cid, 2, 8, HOST_PORT, 0, 2, OP_REQUEST, 65536, 0, 44, 0);
	send_raw(cid, 2, 9, HOST_PORT, 0, 0, OP_REQUEST, 65536, 0, 44, 0);
	send_raw(cid, 2, 10, HOST_PORT, 0, 0xffff, OP_REQUEST, 65536, 0, 44, 0);
	done("types-not-stream");
	vs_begin();
	for (uint32_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		send_raw(cid, 2, 11, HOST_PORT, 0, 1, ops[i], 65536, 0, 44, 0);
	done("unknown-ops");
	vs_begin();
	send_op(OP_RW, 12, HOST_PORT, 100);
	send_op(OP_CREDIT_UPDATE, 12, HOST_PORT, 0);
	send_op(OP_CREDIT_REQUEST, 12, HOST_PORT, 0);
	send_op(OP_SHUTDOWN, 12, HOST_PORT, 0);
	send_op(OP_RESPONSE, 12, HOST_PORT, 0);
	done("ops-without-connection");

	/* Credit lies: buf_alloc 4 GiB - 1, fwd_cnt running backwards, then
	 * 1.2 MiB sent to a host peer that never reads (port 5001), far past
	 * the 64 KiB credit the host gave and what its socket holds. */
	vs_begin();
	send_raw(cid, 2, 13, HOST_PORT + 1, 0, 1, OP_REQUEST, 0xffffffffu, 0, 44, 0);
	settle(100);
	send_raw(cid, 2, 13, HOST_PORT + 1, 0, 1, OP_CREDIT_UPDATE, 0xffffffffu, 0x7fffffffu, 44,
		 0);
	send_raw(cid, 2, 13, HOST_PORT + 1, 0, 1, OP_CREDIT_UPDATE, 0, 5, 44, 0);
	for (uint32_t i = 0; i < 300; i++)
		send_op(OP_RW, 13, HOST_PORT + 1, 4096);
	done("credit-lies");

	vs_begin();
	for (uint32_t i = 0; i < 1000; i++)
		send_op(OP_RST, 20000 + i, 1 + i * 7919u, 0);
	done("rst-flood-1000");

	/* Same connection asked for twice, then 1,100 at once. */
	vs_begin();
	send_op(OP_REQUEST, 14, HOST_PORT, 0);
	send_op(OP_REQUEST, 14, HOST_PORT, 0);
	done("request-twice");
	vs_begin();
	for (uint32_t i = 0; i < 1100; i++)
		send_op(OP_REQUEST, 30000 + i, HOST_PORT, 0);
	settle(500);
	if (n_resp > 1023)
		verdict_fail("more connections than the device allows", n_resp);
	answer("request-flood-1100", "accepted", n_resp);
	for (uint32_t i = 0; i < 1100; i++)
		send_op(OP_RST, 30000 + i, HOST_PORT, 0);
	done("request-flood-1100");

	/* 1,100 again, none closed: the reset before the good request must
	 * drop them all, or the good one finds no room. */
	vs_begin();
	for (uint32_t i = 0; i < 1100; i++)
		send_op(OP_REQUEST, 40000 + i, HOST_PORT, 0);
	done("request-flood-left-open");

	/* Receive buffers no packet fits (0, 1, 44 bytes) or read-only,
	 * while the runner's caller asks for guest port 1234 every 20 ms. */
	{
		static const uint32_t lens[] = {0, 1, 44, RXLEN};
		static const char *const names[] = {"rx-0-byte-buffers", "rx-1-byte-buffers",
						    "rx-44-byte-buffers", "rx-read-only-buffers"};

		for (int i = 0; i < 4; i++) {
			rx_len = lens[i];
			rx_flags = i == 3 ? 0 : D_WRITE;
			vs_begin();
			settle(300);
			check(names[i]);
			rx_len = RXLEN;
			rx_flags = D_WRITE;
			vs_good(names[i]);
		}
	}

	/* A writable descriptor in a TX chain: never to be written. */
	vs_begin();
	put_desc(txq.ring, 1, RXB + RXLEN * (QS + 1), 256, D_WRITE, 0);
	H.nr_permits--;
	send_raw(cid, 2, 15, HOST_PORT, 0, 1, OP_REQUEST, 65536, 0, 44, D_NEXT);
	done("tx-writable-descriptor");
	verdict_pass();
}
