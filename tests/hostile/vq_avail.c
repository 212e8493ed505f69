/* Hostile guest: the avail ring and notifications. The avail index jumps
 * by more than the queue size, runs backwards, wraps; one head offered
 * QS times at once; avail flags and used_event garbage with EVENT_IDX;
 * then notify storms: 20,000 kicks with nothing new, kicks of queues that
 * do not exist, and kicks between every request of a full queue. See
 * README.md. */
#include "vq_attack.h"

static void jump(const char *name, uint16_t idx)
{
	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	attack_go(name, idx);
}

/* One read in each descriptor triple 3i..3i+2 (five requests). */
static void five_reads(void)
{
	for (uint16_t i = 0; i < 5; i++) {
		put_desc(Q.ring, (uint16_t)(3 * i), HDR_AT, 16, D_NEXT, (uint16_t)(3 * i + 1));
		put_desc(Q.ring, (uint16_t)(3 * i + 1), DATA_AT + 512ul * i, 512, D_WRITE | D_NEXT,
			 (uint16_t)(3 * i + 2));
		put_desc(Q.ring, (uint16_t)(3 * i + 2), STAT_AT + i, 1, D_WRITE, 0);
		vq_avail(&Q)[2 + i] = (uint16_t)(3 * i);
	}
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	attack_setup("vq_avail", a, b, c, d);
	jump("idx-size-plus-1", QS + 1);
	jump("idx-0x8000", 0x8000);
	jump("idx-0xffff", 0xffff);

	/* One good read consumed, then the index goes back to 0. */
	attack_begin(0);
	five_reads();
	vq_avail(&Q)[1] = 1;
	vq_kick(&Q);
	wait_used(DEV, RING(0), 0, 2000);
	attack_go("idx-backwards", 0);

	/* The same chain offered QS times in one go. */
	attack_begin(0);
	five_reads();
	for (uint16_t i = 0; i < QS; i++)
		vq_avail(&Q)[2 + i] = 0;
	attack_go("same-head-16-times", QS);

	/* avail flags and used_event garbage with EVENT_IDX. */
	attack_begin(1ull << F_EVENT_IDX);
	five_reads();
	vq_avail(&Q)[0] = 0xffff;
	*vq_used_event(&Q) = 0x7777;
	attack_go("event-idx-garbage", 5);

	/* Notify storms. */
	attack_begin(0);
	five_reads();
	vq_avail(&Q)[1] = 5;
	arena_snap();
	for (uint32_t i = 0; i < 20000; i++)
		mmio_wr(DEV, R_QUEUE_NOTIFY, 0);
	answer("notify-storm-20000", "used idx", wait_used(DEV, RING(0), 0, 2000));
	arena_check("notify-storm-20000");
	blk_good(DEV, "notify-storm-20000");

	attack_begin(0);
	arena_snap();
	for (uint32_t i = 0; i < 3000; i++)
		mmio_wr(DEV, R_QUEUE_NOTIFY, i % 3 ? 1 + i : 0xffffffffu);
	answer("notify-missing-queues", "Status", mmio_rd(DEV, R_STATUS));
	arena_check("notify-missing-queues");
	blk_good(DEV, "notify-missing-queues");

	/* Kicks with 1-, 2- and 8-byte writes of QueueNotify. */
	attack_begin(0);
	five_reads();
	vq_avail(&Q)[1] = 5;
	arena_snap();
	for (uint32_t i = 0; i < 200; i++) {
		*(volatile uint8_t *)(DEV + R_QUEUE_NOTIFY) = 0;
		*(volatile uint16_t *)(DEV + R_QUEUE_NOTIFY + 2) = 0;
		*(volatile uint64_t *)(DEV + R_QUEUE_NOTIFY) = 0;
	}
	mmio_wr(DEV, R_QUEUE_NOTIFY, 0);
	answer("notify-odd-widths", "used idx", wait_used(DEV, RING(0), 0, 2000));
	arena_check("notify-odd-widths");
	blk_good(DEV, "notify-odd-widths");
	verdict_pass();
}
