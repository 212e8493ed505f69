/* Benchmark guest (bench/net-pps): a polling virtio-net driver at CPL 3
 * (--mode long-user --load 0x100000, --net as the only virtio device),
 * with VIRTIO_F_EVENT_IDX and MRG_RXBUF, 256-entry queues, no interrupts.
 *
 * rdi = 0, transmit: rsi frames of rdx bytes (EtherType 0x88b5 to
 * 02:00:00:00:00:02), as many in flight as the queue holds, every
 * descriptor pointing at the same buffer; boot-timestamp 1 before the
 * first, 2 once the device has used the last.
 * rdi = 1, receive: posts 256 buffers of 2 KiB and counts frames (one per
 * num_buffers group) until rsi arrived, giving buffers back as it goes;
 * boot-timestamp 1 at the first frame, 2 at the last.
 * Prints "bench_net done <frames>" and ends through debug-exit 0; a
 * timeout is failure 16 + N. */
#include <stdint.h>

#include "virtq_guest.h"

#define DEV 0xd0000000ul
#define ID_NET 1
#define F_MAC 5
#define F_MRG_RXBUF 15
#define QSIZE 256u
#define RXQ 0
#define TXQ 1
#define RING_GPA(q) (0x200000ul + 0x4000ul * (q))
#define TXBUF_GPA 0x280000ul
#define RXBUF_GPA 0x300000ul /* QSIZE buffers of RXBUF_LEN */
#define RXBUF_LEN 2048u
#define HDR 12u
#define SPIN 2000000000ul

static struct vq vqs[2];

static void stamp(uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"((uint16_t)0x510));
}

/* New used entries since the last call. */
static uint16_t reap(struct vq *q)
{
	uint16_t n = (uint16_t)(vq_used_idx(q) - q->used_seen);

	barrier();
	q->used_seen = (uint16_t)(q->used_seen + n);
	return n;
}

static void tx(uint64_t count, uint32_t len)
{
	struct vq *q = &vqs[TXQ];
	volatile uint8_t *b = (volatile uint8_t *)TXBUF_GPA;
	uint64_t sent = 0, done = 0, idle = 0;

	for (uint32_t i = 0; i < HDR + len; i++)
		b[i] = (uint8_t)i;
	for (uint32_t i = 0; i < HDR; i++)
		b[i] = 0;
	for (uint32_t i = 0; i < 6; i++) {
		b[HDR + i] = i == 5 ? 2 : (i == 0 ? 2 : 0);
		b[HDR + 6 + i] = i == 5 ? 1 : (i == 0 ? 2 : 0);
	}
	b[HDR + 12] = 0x88;
	b[HDR + 13] = 0xb5;
	for (uint32_t i = 0; i < QSIZE; i++)
		vq_add(q, TXBUF_GPA, HDR + len, 0);
	*vq_used_event(q) = (uint16_t)(q->used_seen + 0x8000); /* no interrupts */
	stamp(1);
	while (done < count) {
		uint16_t old = q->avail_idx, n;

		while (sent < count && sent - done < QSIZE)
			vq_push(q, (uint16_t)(sent++ & (QSIZE - 1)));
		vq_kick_if_needed(q, old);
		n = reap(q);
		done += n;
		if (n) {
			idle = 0;
		} else if (++idle > SPIN) {
			fail(3, "transmit stalled at", done);
		} else if (idle % 1000000 == 0) {
			vq_kick(q); /* belt and braces: a lost kick would stall */
		}
		*vq_used_event(q) = (uint16_t)(q->used_seen + 0x8000);
	}
	stamp(2);
}

static void rx(uint64_t count)
{
	struct vq *q = &vqs[RXQ];
	uint64_t frames = 0, idle = 0;
	uint16_t skip = 0; /* buffers still to come of the current frame */

	for (uint16_t i = 0; i < QSIZE; i++)
		vq_post_write(q, i, RXBUF_GPA + RXBUF_LEN * (uint64_t)i, RXBUF_LEN);
	*vq_used_event(q) = (uint16_t)(q->used_seen + 0x8000);
	vq_publish(q);
	vq_kick(q);
	while (frames < count) {
		uint16_t first = q->used_seen, n = reap(q), old = q->avail_idx;

		if (!n) {
			if (++idle > SPIN)
				fail(4, "receive stalled at", frames);
			continue;
		}
		idle = 0;
		for (uint16_t k = 0; k < n; k++) {
			uint16_t slot = (uint16_t)(first + k);
			uint32_t id = vq_used_id(q, slot);
			volatile uint8_t *p;

			if (id >= QSIZE)
				fail(5, "bad used id", id);
			p = (volatile uint8_t *)(RXBUF_GPA + RXBUF_LEN * (uint64_t)id);
			if (skip) {
				skip--;
			} else {
				uint16_t nb = (uint16_t)(p[10] | p[11] << 8);

				if (nb < 1 || nb > QSIZE)
					fail(6, "bad num_buffers", nb);
				skip = (uint16_t)(nb - 1);
				if (frames++ == 0)
					stamp(1);
			}
			vq_post_write(q, (uint16_t)id, RXBUF_GPA + RXBUF_LEN * (uint64_t)id,
				      RXBUF_LEN);
		}
		*vq_used_event(q) = (uint16_t)(q->used_seen + 0x8000);
		vq_kick_if_needed(q, old);
	}
	stamp(2);
	(void)frames;
}

void guest_main(uint64_t mode, uint64_t count, uint64_t len);
void guest_main(uint64_t mode, uint64_t count, uint64_t len)
{
	uint64_t want = 1ull << F_VERSION_1 | 1ull << F_EVENT_IDX | 1ull << F_MRG_RXBUF;

	if (mmio_rd(DEV, R_MAGIC) != VIRTIO_MAGIC || mmio_rd(DEV, R_DEVICE_ID) != ID_NET)
		fail(1, "no virtio-net at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	mmio_wr(DEV, R_STATUS, 0);
	virtio_ack(DEV);
	if (!virtio_set_features(DEV, want))
		fail(2, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	for (uint32_t qi = RXQ; qi <= TXQ; qi++) {
		mmio_wr(DEV, R_QUEUE_SEL, qi);
		if (mmio_rd(DEV, R_QUEUE_NUM_MAX) < QSIZE ||
		    !vq_setup(&vqs[qi], DEV, qi, QSIZE, RING_GPA(qi)))
			fail(7, "queue set-up", qi);
	}
	if (!virtio_driver_ok(DEV))
		fail(8, "DRIVER_OK did not stick", mmio_rd(DEV, R_STATUS));
	if (len < 60 || len > 1514)
		len = 60;
	if (mode == 0)
		tx(count, (uint32_t)len);
	else
		rx(count);
	puts_("bench_net done ");
	putdec(count);
	puts_("\n");
	guest_exit(0);
}
