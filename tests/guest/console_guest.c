/* Test guest (tests/integration/virtio.sh): a polling virtio-console driver
 * at CPL 3 (--mode long-user --load 0x100000 --console virtio). It says
 * "hvc ready" on the transmit queue, then echoes everything that arrives on
 * the receive queue back through the transmit queue until it sees '.', and
 * ends kite through debug-exit (0, or 16 + N for failure N). */
#include <stdint.h>

#include "guest_rt.h"

#define DEV 0xd0000000ul
#define ID_CONSOLE 3
#define QSIZE 16u
#define RXQ 0
#define TXQ 1
#define RING_GPA(q) (0x200000ul + 0x4000ul * (q)) /* desc, avail +0x1000, used +0x2000 */
#define RXBUF_GPA 0x220000ul                       /* QSIZE buffers of RXBUF_LEN */
#define RXBUF_LEN 64u
#define TXBUF_GPA 0x230000ul
#define SPIN 400000000ul

struct vq {
	uint64_t ring;
	uint16_t avail_idx, used_seen;
};

static struct vq vqs[2];

static volatile struct desc *desc_of(struct vq *q, uint16_t i)
{
	return (volatile struct desc *)(q->ring + 16ul * (i % QSIZE));
}

static volatile uint16_t *avail(struct vq *q)
{
	return (volatile uint16_t *)(q->ring + 0x1000);
}

static uint16_t used_idx(struct vq *q)
{
	barrier();
	return ((volatile uint16_t *)(q->ring + 0x2000))[1];
}

static uint32_t used_elem(struct vq *q, uint16_t slot, int field)
{
	return *(volatile uint32_t *)(q->ring + 0x2004 + 8ul * (slot % QSIZE) + 4ul * field);
}

static void offer(uint32_t qi, uint16_t head)
{
	struct vq *q = &vqs[qi];

	avail(q)[2 + q->avail_idx % QSIZE] = head;
	barrier();
	q->avail_idx++;
	avail(q)[1] = q->avail_idx;
	barrier();
	mmio_wr(DEV, R_QUEUE_NOTIFY, qi);
}

static void setup_queue(uint32_t qi)
{
	struct vq *q = &vqs[qi];

	q->ring = RING_GPA(qi);
	memset((void *)q->ring, 0, 0x3000);
	mmio_wr(DEV, R_QUEUE_SEL, qi);
	if (mmio_rd(DEV, R_QUEUE_NUM_MAX) < QSIZE)
		fail(3, "queue too small", mmio_rd(DEV, R_QUEUE_NUM_MAX));
	if (!vq_program(DEV, qi, QSIZE, q->ring, q->ring + 0x1000, q->ring + 0x2000))
		fail(7, "QueueReady did not stick", qi);
}

/* Sends n bytes (copied to the transmit buffer) and waits for the device. */
static void transmit(const volatile uint8_t *p, uint32_t n)
{
	struct vq *q = &vqs[TXQ];
	volatile uint8_t *buf = (volatile uint8_t *)TXBUF_GPA;
	volatile struct desc *d = desc_of(q, 0);

	for (uint32_t i = 0; i < n; i++)
		buf[i] = p[i];
	d->addr = TXBUF_GPA;
	d->len = n;
	d->flags = 0;
	offer(TXQ, 0);
	for (uint64_t i = 0; i < SPIN; i++) {
		if (used_idx(q) != q->used_seen) {
			q->used_seen++;
			return;
		}
		cpu_relax();
	}
	fail(4, "transmit not completed", n);
}

static void post_rx(uint16_t i)
{
	volatile struct desc *d = desc_of(&vqs[RXQ], i);

	d->addr = RXBUF_GPA + RXBUF_LEN * (uint64_t)i;
	d->len = RXBUF_LEN;
	d->flags = D_WRITE;
	offer(RXQ, i);
}

void guest_main(void);
void guest_main(void)
{
	struct vq *rx = &vqs[RXQ];
	static const char ready[] = "hvc ready\n";
	uint64_t total = 0;

	if (mmio_rd(DEV, R_MAGIC) != 0x74726976 || mmio_rd(DEV, R_DEVICE_ID) != ID_CONSOLE)
		fail(1, "no virtio-console at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	mmio_wr(DEV, R_STATUS, 0);
	mmio_wr(DEV, R_STATUS, S_ACK);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER);
	mmio_wr(DEV, R_DRV_FEATURES_SEL, 1);
	mmio_wr(DEV, R_DRV_FEATURES, 1); /* VERSION_1 */
	mmio_wr(DEV, R_DRV_FEATURES_SEL, 0);
	mmio_wr(DEV, R_DRV_FEATURES, 0);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(mmio_rd(DEV, R_STATUS) & S_FEATURES_OK))
		fail(2, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	setup_queue(RXQ);
	setup_queue(TXQ);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	transmit((const volatile uint8_t *)ready, sizeof(ready) - 1);
	/* Fewer buffers than the input: kite must hold the rest back. */
	for (uint16_t i = 0; i < 4; i++)
		post_rx(i);
	for (uint64_t spin = 0; spin < SPIN; spin++) {
		if (used_idx(rx) == rx->used_seen) {
			cpu_relax();
			continue;
		}
		uint16_t slot = rx->used_seen++;
		uint16_t id = (uint16_t)used_elem(rx, slot, 0);
		uint32_t len = used_elem(rx, slot, 1);
		const volatile uint8_t *p = (const volatile uint8_t *)(RXBUF_GPA + RXBUF_LEN * (uint64_t)id);

		if (id >= 4 || len > RXBUF_LEN)
			fail(5, "bad used element", ((uint64_t)id << 32) | len);
		transmit(p, len);
		total += len;
		for (uint32_t i = 0; i < len; i++) {
			if (p[i] == '.') {
				puts_("echoed ");
				putdec(total);
				puts_(" bytes\n");
				guest_exit(0);
			}
		}
		post_rx(id);
		spin = 0;
	}
	fail(6, "no input", total);
}
