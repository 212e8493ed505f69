/* Hostile guest: device resets with requests in flight on virtio-blk.
 * Sixteen 1 MiB reads (or writes) are queued and the device is reset at
 * once: no read data may land in the buffers once Status reads 0; a
 * driver that re-initialises at once and reuses the rings may see only
 * its new request's completion; Status written 0 a hundred times while
 * busy; a driver that does not wait for Status to read 0 before setting
 * it up again, on other rings. See README.md. */
#define QS 64u /* sixteen 3-descriptor requests */
#include "vq_attack.h"

#define BIG 0x2000000ul /* 16 x 1 MiB, outside the arena */
#define NREQ 16u
#define MIB (1ul << 20)
#define PAT 0x6b6b6b6b6b6b6b6bull
#define WATCH 0x3000000ul /* two words per watched page */

static uint64_t seq;

/* NREQ requests of 1 MiB at sectors chosen anew each time (so the host
 * has not cached them), each its own header, buffer and status byte. */
static void queue_big(uint32_t type)
{
	uint64_t base = 2048 + (seq++ % 3) * NREQ * 2048;

	for (uint16_t r = 0; r < NREQ; r++) {
		volatile struct blk_hdr *h = (volatile struct blk_hdr *)(HDR_AT + 16ul * r);

		h->type = type;
		h->reserved = 0;
		h->sector = base + r * 2048ul;
		put_desc(Q.ring, (uint16_t)(3 * r), (uint64_t)h, 16, D_NEXT, (uint16_t)(3 * r + 1));
		put_desc(Q.ring, (uint16_t)(3 * r + 1), BIG + MIB * r, (uint32_t)MIB,
			 (type == BLK_T_IN ? D_WRITE : 0) | D_NEXT, (uint16_t)(3 * r + 2));
		put_desc(Q.ring, (uint16_t)(3 * r + 2), STAT_AT + r, 1, D_WRITE, 0);
		vq_avail(&Q)[2 + (r & (QS - 1))] = (uint16_t)(3 * r);
	}
}

static void fill_big(void)
{
	for (uint64_t p = 0; p < NREQ * MIB / 4096; p++) {
		((volatile uint64_t *)(BIG + 4096 * p))[0] = PAT;
		((volatile uint64_t *)(BIG + 4096 * p))[511] = PAT;
	}
}

/* From the moment Status read 0, the buffers hold still for 300 ms. */
static uint64_t watch_big(void)
{
	volatile uint64_t *w = (volatile uint64_t *)WATCH;
	uint64_t pages = NREQ * MIB / 4096, changed = 0, t0;

	for (uint64_t p = 0; p < pages; p++) {
		w[2 * p] = ((volatile uint64_t *)(BIG + 4096 * p))[0];
		w[2 * p + 1] = ((volatile uint64_t *)(BIG + 4096 * p))[511];
	}
	t0 = rdtsc();
	while (rdtsc() - t0 < 300 * H.tsc_per_ms)
		for (uint64_t p = 0; p < pages; p++)
			if (w[2 * p] != ((volatile uint64_t *)(BIG + 4096 * p))[0] ||
			    w[2 * p + 1] != ((volatile uint64_t *)(BIG + 4096 * p))[511]) {
				changed++;
				w[2 * p] = ((volatile uint64_t *)(BIG + 4096 * p))[0];
				w[2 * p + 1] = ((volatile uint64_t *)(BIG + 4096 * p))[511];
			}
	return changed;
}

/* Queue NREQ big requests (first a partial batch of QS, the ring's size),
 * kick, and return at once. */
static void start(uint32_t type)
{
	attack_begin(0);
	fill_big();
	queue_big(type);
	for (uint16_t r = 0; r < NREQ; r++)
		permit(STAT_AT + r, 1);
	vq_avail(&Q)[1] = NREQ;
	barrier();
	arena_snap();
	vq_kick(&Q);
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t changed;
	uint16_t used;

	attack_setup("reset_flight", a, b, c, d);

	for (int i = 0; i < 3; i++) {
		start(BLK_T_IN);
		dev_reset(DEV);
		changed = watch_big();
		answer("reset-reads-in-flight", "pages changed after Status read 0", changed);
		if (changed)
			verdict_fail("read data landed after the reset completed, pages", changed);
		arena_check("reset-reads-in-flight");
		blk_good(DEV, "reset-reads-in-flight");
	}

	start(BLK_T_OUT);
	dev_reset(DEV);
	answer("reset-writes-in-flight", "Status", mmio_rd(DEV, R_STATUS));
	arena_check("reset-writes-in-flight");
	blk_good(DEV, "reset-writes-in-flight");

	/* Reset, then straight back up on the same rings with one read: the
	 * used ring may show that read only. */
	start(BLK_T_IN);
	dev_reset(DEV);
	arena_clear();
	dev_up(DEV, 0, 1, QS);
	vq_attach(&Q, DEV, 0, QS, RING(0));
	permit_used(RING(0), QS);
	permit(DATA_AT, 512);
	permit(STAT_AT, 1);
	put_hdr(BLK_T_IN, 0);
	put_desc(Q.ring, 5, HDR_AT, 16, D_NEXT, 6);
	put_desc(Q.ring, 6, DATA_AT, 512, D_WRITE | D_NEXT, 7);
	put_desc(Q.ring, 7, STAT_AT, 1, D_WRITE, 0);
	vq_avail(&Q)[2] = 5;
	vq_avail(&Q)[1] = 1;
	barrier();
	arena_snap();
	vq_kick(&Q);
	wait_used(DEV, RING(0), 0, 2000);
	spin_ms(300);
	used = vq_used_idx(&Q);
	answer("reset-then-reuse-rings", "used idx, first id",
	       (uint64_t)used << 16 | vq_used_id(&Q, 0));
	if (used != 1 || vq_used_id(&Q, 0) != 5)
		verdict_fail("stale completions after a reset: used idx, id",
			     (uint64_t)used << 32 | vq_used_id(&Q, 0));
	arena_check("reset-then-reuse-rings");
	blk_good(DEV, "reset-then-reuse-rings");

	/* Status 0, a hundred times, while busy. */
	start(BLK_T_IN);
	for (int i = 0; i < 100; i++)
		mmio_wr(DEV, R_STATUS, 0);
	dev_reset(DEV);
	changed = watch_big();
	answer("reset-hammered", "pages changed after Status read 0", changed);
	if (changed)
		verdict_fail("read data landed after the reset completed, pages", changed);
	arena_check("reset-hammered");
	blk_good(DEV, "reset-hammered");

	/* A driver that does not wait: reset, and at once ACK, features,
	 * rings in block 1, DRIVER_OK, one read there. */
	start(BLK_T_IN);
	mmio_wr(DEV, R_STATUS, 0);
	virtio_ack(DEV);
	virtio_set_features(DEV, 1ull << F_VERSION_1);
	/* Our own writes after the snapshot: block 1's avail and used
	 * headers (its descriptors keep the canary: none is offered). */
	permit(RING(1) + VQ_AVAIL, 4);
	permit_used(RING(1), QS);
	memset((void *)(RING(1) + VQ_AVAIL), 0, 4);
	memset((void *)(RING(1) + VQ_USED), 0, 4);
	vq_program(DEV, 0, QS, RING(1), RING(1) + VQ_AVAIL, RING(1) + VQ_USED);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	answer("reset-no-wait-reinit", "Status", mmio_rd(DEV, R_STATUS));
	spin_ms(300);
	arena_check("reset-no-wait-reinit");
	blk_good(DEV, "reset-no-wait-reinit");
	verdict_pass();
}
