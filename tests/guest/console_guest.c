/* Test guest (tests/integration/virtio.sh): a polling virtio-console driver
 * at CPL 3 (--mode long-user --load 0x100000 --console virtio). It says
 * "hvc ready" on the transmit queue, then echoes everything that arrives on
 * the receive queue back through the transmit queue until it sees '.', and
 * ends kite through debug-exit (0, or 16 + N for failure N). */
#include <stdint.h>

#include "virtq_guest.h"

#define DEV 0xd0000000ul
#define ID_CONSOLE 3
#define QSIZE 16u
#define RXQ 0
#define TXQ 1
#define RING_GPA(q) (0x200000ul + 0x4000ul * (q)) /* desc, avail +0x1000, used +0x2000 */
#define RXBUF_GPA 0x220000ul			  /* QSIZE buffers of RXBUF_LEN */
#define RXBUF_LEN 64u
#define TXBUF_GPA 0x230000ul
#define SPIN 400000000ul

static struct vq vqs[2];

static void offer(uint32_t qi, uint16_t head)
{
	vq_offer(&vqs[qi], head);
	vq_kick(&vqs[qi]);
}

static void setup_queue(uint32_t qi)
{
	mmio_wr(DEV, R_QUEUE_SEL, qi);
	if (mmio_rd(DEV, R_QUEUE_NUM_MAX) < QSIZE)
		fail(3, "queue too small", mmio_rd(DEV, R_QUEUE_NUM_MAX));
	if (!vq_setup(&vqs[qi], DEV, qi, QSIZE, RING_GPA(qi)))
		fail(7, "QueueReady did not stick", qi);
}

/* Sends n bytes (copied to the transmit buffer) and waits for the device. */
static void transmit(const volatile uint8_t *p, uint32_t n)
{
	struct vq *q = &vqs[TXQ];
	volatile uint8_t *buf = (volatile uint8_t *)TXBUF_GPA;
	volatile struct desc *d = vq_desc(q, 0);

	for (uint32_t i = 0; i < n; i++)
		buf[i] = p[i];
	d->addr = TXBUF_GPA;
	d->len = n;
	d->flags = 0;
	offer(TXQ, 0);
	if (vq_wait(q, 1, SPIN))
		fail(4, "transmit not completed", n);
}

static void post_rx(uint16_t i)
{
	volatile struct desc *d = vq_desc(&vqs[RXQ], i);

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

	if (mmio_rd(DEV, R_MAGIC) != VIRTIO_MAGIC || mmio_rd(DEV, R_DEVICE_ID) != ID_CONSOLE)
		fail(1, "no virtio-console at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	mmio_wr(DEV, R_STATUS, 0);
	virtio_ack(DEV);
	if (!virtio_set_features(DEV, 1ull << F_VERSION_1))
		fail(2, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	setup_queue(RXQ);
	setup_queue(TXQ);
	(void)virtio_driver_ok(DEV);
	transmit((const volatile uint8_t *)ready, sizeof(ready) - 1);
	/* Fewer buffers than the input: kite must hold the rest back. */
	for (uint16_t i = 0; i < 4; i++)
		post_rx(i);
	for (uint64_t spin = 0; spin < SPIN; spin++) {
		if (vq_used_idx(rx) == rx->used_seen) {
			cpu_relax();
			continue;
		}
		uint16_t slot = rx->used_seen++;
		uint16_t id = (uint16_t)vq_used_id(rx, slot);
		uint32_t len = vq_used_len(rx, slot);
		const volatile uint8_t *p =
		    (const volatile uint8_t *)(RXBUF_GPA + RXBUF_LEN * (uint64_t)id);

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
