/* Test guest (tests/integration/net_ns.sh): a polling virtio-net driver at
 * CPL 3 (--mode long-user --load 0x100000, --net as the only virtio
 * device) facing a tap inside a network namespace where the tap has
 * 10.0.2.1/24 and this guest is 10.0.2.2 (MAC 02:00:00:00:00:01).
 *
 * rdi = 0 (the namespace test): activation 1 without GUEST_CSUM ARPs for
 * 10.0.2.1 (the namespace's kernel answers), pings it once (IP and ICMP
 * checksums, id, sequence and payload of the reply checked here) and asks
 * the host's UDP responder at 10.0.2.1:7777 for a datagram ("go 1"). Then
 * three resets and re-activations, with GUEST_CSUM, without, with: each
 * asks for one datagram ("go N"). A tap whose offloads follow the driver
 * (TUNSETOFFLOAD at DRIVER_OK, cleared at reset) hands kite the namespace
 * kernel's UDP datagrams with a partial checksum (NEEDS_CSUM, start 34,
 * offset 6) exactly when GUEST_CSUM was accepted, and fully checksummed
 * otherwise; the guest checks which it got and that the checksum, once
 * completed, is right. ARP requests for 10.0.2.2 are answered throughout.
 *
 * rdi = 1, rsi = B (the rate-limiter test, --net ...,mtu=9000,rx-bps=B,
 * tx-bps=B): sends 4 x B bytes in 9000-byte frames of EtherType 0x88b5 (tag 0x21),
 * 32 queued at a time, as fast as the device takes them, then a frame
 * tagged 0x22; then counts
 * the bytes of the host's frames (tag 0x31; frame length, as the limiter
 * counts) and every 4 frames sends an acknowledgement (tag 0x32, the
 * count so far as 8 little-endian bytes at offset 16) until 4 x B bytes
 * came, and ends with a frame tagged 0x33. The host times the frames and
 * the acknowledgements.
 *
 * Ends through debug-exit: 0, or 16 + N for failure N. */
#include <stdint.h>

#include "virtq_guest.h"

#define DEV 0xd0000000ul
#define ID_NET 1
#define F_GUEST_CSUM 1
#define F_MAC 5
#define F_MRG_RXBUF 15
#define F_STATUS 16
#define QSIZE 64u
#define RXQ 0
#define TXQ 1
#define RING_GPA(q) (0x200000ul + 0x4000ul * (q))
#define RXBUF_GPA 0x240000ul /* QSIZE buffers of RXBUF_LEN */
#define RXBUF_LEN 9216u	     /* a 9000-byte frame in one buffer */
#define TXBUF_GPA 0x220000ul
#define TX_INFLIGHT 32u /* rate mode: frames queued at once */
#define RATE_FRAME 9000u
#define HDR 12u
#define SPIN 4000000000ul
#define RETRY 20000000ul /* polls between two UDP requests */
#define NEEDS_CSUM 1u
#define RATE_SECONDS 4u /* of the limit's bytes each way */

static struct vq vqs[2];
static const uint8_t my_mac[6] = {2, 0, 0, 0, 0, 1};
static const uint8_t my_ip[4] = {10, 0, 2, 2};
static const uint8_t tap_ip[4] = {10, 0, 2, 1};
static uint8_t tap_mac[6];
static uint64_t features;

struct rx {
	volatile uint8_t *hdr; /* vnet header; the frame follows it */
	volatile uint8_t *f;
	uint32_t len; /* frame length */
	uint16_t id;
};

static uint16_t be16(const volatile uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(volatile uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void copy(volatile uint8_t *d, const volatile uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		d[i] = s[i];
}

static int same(const volatile uint8_t *a, const volatile uint8_t *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* Ones'-complement sum of n bytes (big-endian words) added to sum. */
static uint32_t csum_add(uint32_t sum, const volatile uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i + 1 < n; i += 2)
		sum += be16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void post_rx(uint16_t i)
{
	vq_post_write(&vqs[RXQ], i, RXBUF_GPA + RXBUF_LEN * (uint64_t)i, RXBUF_LEN);
}

static void rx_done(const struct rx *r)
{
	post_rx(r->id);
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
}

/* The next received frame (one buffer: they all fit one), or 0
 * after `spin` polls. */
static int rx_poll(struct rx *r, uint64_t spin)
{
	struct vq *q = &vqs[RXQ];
	uint32_t len;

	if (vq_wait(q, 1, spin))
		return 0;
	r->id = (uint16_t)vq_used_id(q, (uint16_t)(q->used_seen - 1));
	len = vq_used_len(q, (uint16_t)(q->used_seen - 1));
	if (r->id >= QSIZE || len < HDR + 14 || len > RXBUF_LEN)
		fail(9, "bad used element", ((uint64_t)r->id << 32) | len);
	r->hdr = (volatile uint8_t *)(RXBUF_GPA + RXBUF_LEN * (uint64_t)r->id);
	if ((r->hdr[10] | r->hdr[11] << 8) != 1)
		fail(10, "a small frame in more than one buffer", r->hdr[10]);
	r->f = r->hdr + HDR;
	r->len = len - HDR;
	return 1;
}

/* Sends a frame of len bytes (header zero) and waits for the device. */
static void transmit(const volatile uint8_t *frame, uint32_t len)
{
	struct vq *q = &vqs[TXQ];
	volatile uint8_t *b = (volatile uint8_t *)TXBUF_GPA;

	for (uint32_t i = 0; i < HDR; i++)
		b[i] = 0;
	if (frame != b + HDR)
		copy(b + HDR, frame, len);
	vq_offer(q, vq_add(q, TXBUF_GPA, HDR + len, 0));
	vq_kick(q);
	if (vq_wait(q, 1, SPIN))
		fail(7, "transmit not completed", len);
}

static volatile uint8_t *tx_frame(void)
{
	return (volatile uint8_t *)(TXBUF_GPA + HDR);
}

static void eth(volatile uint8_t *f, const uint8_t *dst, uint16_t type)
{
	copy(f, dst, 6);
	copy(f + 6, my_mac, 6);
	put16(f + 12, type);
}

/* An ARP packet (op 1 request, 2 reply) from us, in a 60-byte frame. */
static void arp_send(volatile uint8_t *o, const volatile uint8_t *dst, uint16_t op,
		     const volatile uint8_t *tha, const volatile uint8_t *tpa)
{
	for (uint32_t i = 0; i < 60; i++)
		o[i] = 0;
	copy(o, dst, 6);
	copy(o + 6, my_mac, 6);
	put16(o + 12, 0x0806);
	put16(o + 14, 1);
	put16(o + 16, 0x0800);
	o[18] = 6;
	o[19] = 4;
	put16(o + 20, op);
	copy(o + 22, my_mac, 6);
	copy(o + 28, my_ip, 4);
	copy(o + 32, tha, 6);
	copy(o + 38, tpa, 4);
	transmit(o, 60);
}

/* Answers an ARP request for our address; returns 1 if f was ARP. */
static int arp_answer(const struct rx *r)
{
	const volatile uint8_t *a = r->f + 14;
	volatile uint8_t *o = tx_frame();

	if (be16(r->f + 12) != 0x0806)
		return 0;
	if (r->len < 42 || be16(a + 6) != 1 || !same(a + 24, my_ip, 4))
		return 1;
	arp_send(o, a + 8, 2, a + 8, a + 14);
	return 1;
}

static void activate(int csum)
{
	features = 1ull << F_VERSION_1 | 1ull << F_MRG_RXBUF | 1ull << F_MAC | 1ull << F_STATUS |
		   (csum ? 1ull << F_GUEST_CSUM : 0);
	if (!virtio_reset(DEV, SPIN))
		fail(2, "reset did not complete", mmio_rd(DEV, R_STATUS));
	virtio_ack(DEV);
	if (!virtio_set_features(DEV, features))
		fail(3, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	for (uint32_t qi = RXQ; qi <= TXQ; qi++) {
		mmio_wr(DEV, R_QUEUE_SEL, qi);
		if (mmio_rd(DEV, R_QUEUE_NUM_MAX) < QSIZE ||
		    !vq_setup(&vqs[qi], DEV, qi, QSIZE, RING_GPA(qi)))
			fail(4, "queue set-up", qi);
	}
	if (!virtio_driver_ok(DEV))
		fail(5, "DRIVER_OK did not stick", mmio_rd(DEV, R_STATUS));
	if (!same((volatile uint8_t *)(DEV + R_CONFIG), my_mac, 6) ||
	    !(*(volatile uint8_t *)(DEV + R_CONFIG + 6) & 1))
		fail(6, "config: MAC or link status", *(volatile uint8_t *)(DEV + R_CONFIG + 6));
	for (uint16_t i = 0; i < QSIZE; i++)
		post_rx(i);
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
}

/* An IPv4 header (20 bytes, no options) from us to the tap. */
static void ipv4(volatile uint8_t *ip, uint16_t total, uint8_t proto)
{
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, total);
	put16(ip + 4, 1);
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	copy(ip + 12, my_ip, 4);
	copy(ip + 16, tap_ip, 4);
	put16(ip + 10, (uint16_t)~csum_fold(csum_add(0, ip, 20)));
}

/* An IPv4 packet to us from the tap's address, header checksum right:
 * returns its IP header, or 0. */
static const volatile uint8_t *ipv4_in(const struct rx *r, uint8_t proto)
{
	const volatile uint8_t *ip = r->f + 14;

	if (be16(r->f + 12) != 0x0800 || r->len < 34 || ip[0] != 0x45 || ip[9] != proto ||
	    !same(ip + 12, tap_ip, 4) || !same(ip + 16, my_ip, 4))
		return 0;
	if (be16(ip + 2) < 20 || 14u + be16(ip + 2) > r->len)
		fail(20, "IP total length beyond the frame", be16(ip + 2));
	if (csum_fold(csum_add(0, ip, 20)) != 0xffff)
		fail(21, "IP header checksum", be16(ip + 10));
	return ip;
}

/* Any frame; ARP requests answered, ARP replies noted. Returns 1 when
 * it was ours to consume here (ARP). */
static int common(const struct rx *r)
{
	const volatile uint8_t *a = r->f + 14;

	if (!arp_answer(r))
		return 0;
	if (r->len >= 42 && be16(a + 6) == 2 && same(a + 14, tap_ip, 4) && same(a + 24, my_ip, 4) &&
	    same(a + 18, my_mac, 6)) {
		copy(tap_mac, a + 8, 6);
		puts_("arp reply from 10.0.2.1 mac ");
		puthexbytes(tap_mac, 6);
		puts_("\n");
	}
	return 1;
}

static void arp_resolve(void)
{
	for (int tries = 0; tries < 50; tries++) {
		volatile uint8_t *o = tx_frame();
		static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
		static const uint8_t zero[6];
		struct rx r;

		arp_send(o, bcast, 1, zero, tap_ip);
		while (rx_poll(&r, RETRY)) {
			common(&r);
			rx_done(&r);
			if (tap_mac[0] | tap_mac[1] | tap_mac[2] | tap_mac[5])
				return;
		}
	}
	fail(22, "no ARP reply for 10.0.2.1", 0);
}

static void ping(void)
{
	volatile uint8_t *o = tx_frame();
	volatile uint8_t *icmp = o + 34;
	const uint32_t n = 56;

	for (int tries = 0; tries < 50; tries++) {
		struct rx r;

		eth(o, tap_mac, 0x0800);
		ipv4(o + 14, (uint16_t)(28 + n), 1);
		icmp[0] = 8;
		icmp[1] = 0;
		put16(icmp + 2, 0);
		put16(icmp + 4, 0x4b49);
		put16(icmp + 6, (uint16_t)(tries + 1));
		for (uint32_t i = 0; i < n; i++)
			icmp[8 + i] = (uint8_t)(i * 3 + 1);
		put16(icmp + 2, (uint16_t)~csum_fold(csum_add(0, icmp, 8 + n)));
		transmit(o, 34 + 8 + n);
		while (rx_poll(&r, RETRY)) {
			const volatile uint8_t *ip = ipv4_in(&r, 1);
			const volatile uint8_t *ic;

			if (!ip) {
				common(&r);
				rx_done(&r);
				continue;
			}
			ic = ip + 20;
			if (ic[0] != 0 || be16(ic + 4) != 0x4b49 || be16(ic + 6) != tries + 1) {
				rx_done(&r);
				continue;
			}
			if (be16(ip + 2) != 28 + n)
				fail(23, "echo reply length", be16(ip + 2));
			if (csum_fold(csum_add(0, ic, 8 + n)) != 0xffff)
				fail(24, "ICMP checksum of the reply", be16(ic + 2));
			for (uint32_t i = 0; i < n; i++)
				if (ic[8 + i] != (uint8_t)(i * 3 + 1))
					fail(25, "echo reply payload differs at", i);
			rx_done(&r);
			puts_("icmp echo reply from 10.0.2.1: 56 bytes, checksums ok\n");
			return;
		}
	}
	fail(26, "no ICMP echo reply", 0);
}

/* UDP checksum over the pseudo-header and the datagram at u (ulen bytes). */
static uint32_t udp_sum(const volatile uint8_t *ip, const volatile uint8_t *u, uint16_t ulen)
{
	uint32_t s = csum_add(0, ip + 12, 8);

	s += 17 + ulen;
	return csum_add(s, u, ulen);
}

/* Asks the responder for datagram `n`; checks how its checksum came. */
static void udp_round(int n, int want_partial)
{
	volatile uint8_t *o = tx_frame();
	volatile uint8_t *u = o + 34;

	for (int tries = 0; tries < 50; tries++) {
		struct rx r;

		eth(o, tap_mac, 0x0800);
		ipv4(o + 14, 20 + 8 + 4, 17);
		put16(u, 4000);
		put16(u + 2, 7777);
		put16(u + 4, 12);
		put16(u + 6, 0);
		u[8] = 'g';
		u[9] = 'o';
		u[10] = ' ';
		u[11] = (uint8_t)('0' + n);
		put16(u + 6, (uint16_t)~csum_fold(udp_sum(o + 14, u, 12)));
		transmit(o, 34 + 12);
		while (rx_poll(&r, RETRY)) {
			const volatile uint8_t *ip = ipv4_in(&r, 17);
			volatile uint8_t *d;
			uint16_t ulen;
			uint8_t flags = r.hdr[0];

			if (!ip) {
				common(&r);
				rx_done(&r);
				continue;
			}
			d = (volatile uint8_t *)ip + 20;
			ulen = be16(d + 4);
			/* Ours: to port 4000, "reply N..." (the IP length is checked
			 * against the frame by ipv4_in). */
			if (be16(d + 2) != 4000 || be16(ip + 2) < 28 || ulen != be16(ip + 2) - 20 ||
			    ulen < 16 || d[8] != 'r' || d[14] != (uint8_t)('0' + n)) {
				rx_done(&r);
				continue;
			}
			if (flags & NEEDS_CSUM) {
				uint16_t start = (uint16_t)(r.hdr[6] | r.hdr[7] << 8);
				uint16_t off = (uint16_t)(r.hdr[8] | r.hdr[9] << 8);

				if (!want_partial)
					fail(30, "a partial checksum without GUEST_CSUM", n);
				if (start != 34 || off != 6)
					fail(31, "csum_start/csum_offset",
					     (uint64_t)start << 16 | off);
				/* The field holds the pseudo-header's sum: finish it. */
				put16(d + 6, (uint16_t)~csum_fold(csum_add(0, d, ulen)));
			} else if (want_partial) {
				fail(32, "no partial checksum with GUEST_CSUM: offloads not set",
				     n);
			}
			if (be16(d + 6) == 0 || csum_fold(udp_sum(ip, d, ulen)) != 0xffff)
				fail(33, "UDP checksum", be16(d + 6));
			rx_done(&r);
			puts_("udp ");
			putdec((uint64_t)n);
			puts_(flags & NEEDS_CSUM
				  ? ": partial checksum (start 34 offset 6), completed ok\n"
				  : ": full checksum ok\n");
			return;
		}
	}
	fail(34, "no UDP reply", (uint64_t)n);
}

/* --- the rate-limiter mode --- */

static int tagged(const struct rx *r, uint8_t tag)
{
	return r->len >= 24 && r->f[12] == 0x88 && r->f[13] == 0xb5 && r->f[14] == tag;
}

static void rate_frame(volatile uint8_t *o, uint8_t tag, uint64_t v)
{
	static const uint8_t host[6] = {2, 0, 0, 0, 0, 2};

	eth(o, host, 0x88b5);
	o[14] = tag;
	for (uint32_t i = 0; i < 8; i++)
		o[16 + i] = (uint8_t)(v >> (8 * i));
}

static __attribute__((noreturn)) void rate(uint64_t bps)
{
	volatile uint8_t *o = tx_frame();
	struct vq *tx = &vqs[TXQ];
	uint64_t sent = 0, got = 0, frames = 0;
	struct rx r;

	activate(0);
	puts_("rate: tx\n");
	for (uint32_t i = 0; i < HDR; i++)
		((volatile uint8_t *)TXBUF_GPA)[i] = 0;
	for (uint32_t i = 24; i < RATE_FRAME; i++)
		o[i] = (uint8_t)i;
	rate_frame(o, 0x21, 0);
	/* Many frames queued, all on the same buffer: each time the limiter
	 * lets kite go on, it can send what the bucket allows, however late
	 * a loaded host runs its timer. */
	for (uint16_t i = 0; i < TX_INFLIGHT; i++) {
		vq_desc(tx, i)->addr = TXBUF_GPA;
		vq_desc(tx, i)->len = HDR + RATE_FRAME;
		vq_desc(tx, i)->flags = 0;
	}
	for (uint64_t queued = 0, done = 0; done < RATE_SECONDS * bps;) {
		uint16_t n, pushed = 0;

		while (queued - done < TX_INFLIGHT * (uint64_t)RATE_FRAME &&
		       queued < RATE_SECONDS * bps) {
			vq_push(tx, (uint16_t)(tx->avail_idx % TX_INFLIGHT));
			queued += RATE_FRAME;
			pushed++;
		}
		if (pushed) {
			vq_publish(tx);
			vq_kick(tx);
		}
		n = (uint16_t)(vq_used_idx(tx) - tx->used_seen);
		tx->used_seen = (uint16_t)(tx->used_seen + n);
		done += (uint64_t)RATE_FRAME * n;
		sent = done;
	}
	rate_frame(o, 0x22, sent);
	transmit(o, 60);
	puts_("rate: rx\n");
	while (got < RATE_SECONDS * bps) {
		if (!rx_poll(&r, SPIN))
			fail(40, "rate: no frame from the host", got);
		if (tagged(&r, 0x31)) {
			got += r.len;
			if (++frames % 4 == 0) {
				rx_done(&r);
				rate_frame(o, 0x32, got);
				transmit(o, 60);
				continue;
			}
		}
		rx_done(&r);
	}
	rate_frame(o, 0x33, got);
	transmit(o, 60);
	puts_("rate: done, tx bytes ");
	putdec(sent);
	puts_(", rx bytes ");
	putdec(got);
	puts_("\n");
	guest_exit(0);
}

void guest_main(uint64_t mode, uint64_t bps);
void guest_main(uint64_t mode, uint64_t bps)
{
	if (mmio_rd(DEV, R_MAGIC) != VIRTIO_MAGIC || mmio_rd(DEV, R_DEVICE_ID) != ID_NET)
		fail(1, "no virtio-net at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	if (mode == 1)
		rate(bps);
	activate(0);
	arp_resolve();
	ping();
	udp_round(1, 0);
	for (int n = 2; n <= 4; n++) {
		int csum = n % 2 == 0;

		activate(csum);
		puts_(csum ? "re-activated with GUEST_CSUM\n"
			   : "re-activated without GUEST_CSUM\n");
		udp_round(n, csum);
	}
	puts_("OK net-ns\n");
	guest_exit(0);
}
