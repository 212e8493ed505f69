/* Test guest (tests/integration/net.sh): a polling virtio-net driver at
 * CPL 3 (--mode long-user --load 0x100000, --net as the only virtio
 * device). It negotiates MRG_RXBUF without GSO and posts 1 KiB receive
 * buffers, so a full-size frame must span two of them. Then it sends a
 * 1000-byte frame, a 9100-byte frame (over the MTU: kite must drop it) and
 * a 60-byte frame, all of EtherType 0x88b5, and waits for the host to send
 * back three frames of that type (100, 1400 and 9000 bytes, the last with
 * --net mtu=9000 in nine buffers, byte i of the payload
 * = i & 0xff after a 4-byte tag); other frames (the host's own IPv6
 * chatter) are skipped. Ends through debug-exit: 0, or 16 + N for failure
 * N. With rdi = 1 it then echoes every such frame instead, its tag byte
 * (offset 14) ORed with 0x80, until kite is stopped (snapshot tests).
 * With rdi = 2 it posts no receive buffer at all, kicks the receive queue
 * once, sends one frame tagged 9 and spins until kite is stopped: the host
 * floods the tap meanwhile and checks kite's event loop stays idle. */
#include <stdint.h>

#include "virtq_guest.h"

#define DEV 0xd0000000ul
#define ID_NET 1
#define F_MAC 5
#define F_MRG_RXBUF 15
#define F_STATUS 16
#define QSIZE 16u
#define RXQ 0
#define TXQ 1
#define RING_GPA(q) (0x200000ul + 0x4000ul * (q))
#define RXBUF_GPA 0x220000ul /* QSIZE buffers of RXBUF_LEN */
#define RXBUF_LEN 1024u
#define TXBUF_GPA 0x240000ul
#define HDR 12u
#define ETYPE_HI 0x88
#define ETYPE_LO 0xb5
#define SPIN 4000000000ul

static struct vq vqs[2];
static const uint8_t my_mac[6] = {2, 0, 0, 0, 0, 1};

static void setup_queue(uint32_t qi)
{
	mmio_wr(DEV, R_QUEUE_SEL, qi);
	if (mmio_rd(DEV, R_QUEUE_NUM_MAX) < QSIZE)
		fail(3, "queue too small", mmio_rd(DEV, R_QUEUE_NUM_MAX));
	if (!vq_setup(&vqs[qi], DEV, qi, QSIZE, RING_GPA(qi)))
		fail(4, "QueueReady did not stick", qi);
}

static void check_config(void)
{
	volatile uint8_t *cfg = (volatile uint8_t *)(DEV + R_CONFIG);

	for (int i = 0; i < 6; i++)
		if (cfg[i] != my_mac[i])
			fail(5, "config MAC is not --net's mac=", cfg[i]);
	if ((cfg[6] & 1) != 1)
		fail(6, "link not up", cfg[6]);
	puts_("mac ");
	puthexbytes(cfg, 6);
	puts_(" link up\n");
}

/* Header (zero) and frame in two descriptors; waits for the device. */
static void transmit(uint32_t len, uint8_t tag)
{
	struct vq *q = &vqs[TXQ];
	volatile uint8_t *b = (volatile uint8_t *)TXBUF_GPA;
	uint16_t head;

	for (uint32_t i = 0; i < HDR; i++)
		b[i] = 0;
	for (uint32_t i = 0; i < 6; i++) {
		b[0x100 + i] = 0xff;
		b[0x106 + i] = my_mac[i];
	}
	b[0x10c] = ETYPE_HI;
	b[0x10d] = ETYPE_LO;
	b[0x10e] = tag;
	for (uint32_t i = 15; i < len; i++)
		b[0x100 + i] = (uint8_t)i;
	head = vq_add(q, TXBUF_GPA, HDR, D_NEXT);
	vq_add(q, TXBUF_GPA + 0x100, len, 0);
	vq_offer(q, head);
	vq_kick(q);
	if (vq_wait(q, 1, SPIN))
		fail(7, "transmit not completed", len);
}

static void post_rx(uint16_t i)
{
	vq_post_write(&vqs[RXQ], i, RXBUF_GPA + RXBUF_LEN * (uint64_t)i, RXBUF_LEN);
}

static int forever;

/* The next used element: its buffer and length. */
static volatile uint8_t *next_used(uint32_t *len, uint16_t *id)
{
	struct vq *rx = &vqs[RXQ];

	while (vq_wait(rx, 1, SPIN))
		if (!forever)
			fail(8, "no frame from the host", rx->used_seen);
	*id = (uint16_t)vq_used_id(rx, (uint16_t)(rx->used_seen - 1));
	*len = vq_used_len(rx, (uint16_t)(rx->used_seen - 1));
	if (*id >= QSIZE || *len > RXBUF_LEN)
		fail(9, "bad used element", ((uint64_t)*id << 32) | *len);
	return (volatile uint8_t *)(RXBUF_GPA + RXBUF_LEN * (uint64_t)*id);
}

/* One frame, gathered from its num_buffers buffers into `frame`; returns
 * its length without the header and reports num_buffers. */
static uint32_t receive(volatile uint8_t *frame, uint16_t *nbuf)
{
	uint32_t len, total = 0;
	uint16_t id;
	volatile uint8_t *p = next_used(&len, &id);

	if (len < HDR)
		fail(10, "frame shorter than the header", len);
	*nbuf = (uint16_t)(p[10] | p[11] << 8);
	if (*nbuf < 1 || *nbuf > QSIZE)
		fail(11, "bad num_buffers", *nbuf);
	for (uint32_t i = HDR; i < len; i++)
		frame[total++] = p[i];
	post_rx(id);
	for (uint16_t b = 1; b < *nbuf; b++) {
		p = next_used(&len, &id);
		for (uint32_t i = 0; i < len; i++)
			frame[total++] = p[i];
		post_rx(id);
	}
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
	return total;
}

static void check_frame(const volatile uint8_t *f, uint32_t len, uint16_t nbuf)
{
	for (uint32_t i = 0; i < 6; i++)
		if (f[i] != my_mac[i])
			fail(12, "frame not addressed to us", f[i]);
	for (uint32_t i = 18; i < len; i++)
		if (f[i] != (uint8_t)(i - 18))
			fail(13, "payload differs at", i);
	puts_("rx ");
	putdec(len);
	puts_(" bytes in ");
	putdec(nbuf);
	puts_(" buffers\n");
}

static __attribute__((noreturn)) void echo(volatile uint8_t *frame)
{
	forever = 1;
	for (;;) {
		uint16_t nbuf;
		uint32_t len = receive(frame, &nbuf);

		if (len < 18 || len > 1514 || frame[12] != ETYPE_HI || frame[13] != ETYPE_LO)
			continue;
		transmit(len, (uint8_t)(frame[14] | 0x80));
		puts_("echo ");
		putdec(frame[14]);
		puts_("\n");
	}
}

void guest_main(uint64_t mode);
void guest_main(uint64_t mode)
{
	volatile uint8_t *frame = (volatile uint8_t *)0x260000ul;
	uint64_t want = 1ull << F_VERSION_1 | 1ull << F_MRG_RXBUF | 1ull << F_MAC |
			1ull << F_STATUS;
	uint32_t seen = 0;

	if (mmio_rd(DEV, R_MAGIC) != VIRTIO_MAGIC || mmio_rd(DEV, R_DEVICE_ID) != ID_NET)
		fail(1, "no virtio-net at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	mmio_wr(DEV, R_STATUS, 0);
	virtio_ack(DEV);
	if (!virtio_set_features(DEV, want))
		fail(2, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	setup_queue(RXQ);
	setup_queue(TXQ);
	if (!virtio_driver_ok(DEV))
		fail(14, "DRIVER_OK did not stick", mmio_rd(DEV, R_STATUS));
	check_config();
	if (mode == 2) {
		vq_kick(&vqs[RXQ]);
		transmit(60, 9);
		puts_("starving\n");
		for (;;)
			cpu_relax();
	}
	for (uint16_t i = 0; i < QSIZE; i++)
		post_rx(i);
	vq_publish(&vqs[RXQ]);
	vq_kick(&vqs[RXQ]);
	transmit(1000, 1);
	transmit(9100, 2); /* over mtu + 18 (mtu 1500 or 9000): dropped by kite */
	transmit(60, 3);
	puts_("tx done\n");
	while (seen < 3) {
		uint16_t nbuf;
		uint32_t len = receive(frame, &nbuf);

		if (len < 18 || frame[12] != ETYPE_HI || frame[13] != ETYPE_LO)
			continue; /* not ours */
		check_frame(frame, len, nbuf);
		seen++;
	}
	puts_("OK net\n");
	if (mode == 1)
		echo(frame);
	guest_exit(0);
}
