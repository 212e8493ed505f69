/* Hostile guest: where the driver puts a queue's rings and how big it says
 * the queue is. Rings on top of each other, beyond RAM, across its end, in
 * the MMIO hole, at the top of the address space, misaligned; sizes 0, 17,
 * above QueueNumMax; ring addresses and QueueReady changed while the queue
 * runs; queue registers for a queue that does not exist. Each layout is
 * followed by a kick, whatever Status says. See README.md. */
#include "vq_attack.h"

static void kick_and_recover(const char *name, uint64_t used_at)
{
	uint32_t st = mmio_rd(DEV, R_STATUS);
	uint32_t ready = mmio_rd(DEV, R_QUEUE_READY);

	arena_snap();
	mmio_wr(DEV, R_QUEUE_NOTIFY, 0);
	if (used_at)
		wait_used(DEV, used_at - VQ_USED, 0, 200);
	else
		spin_ms(50);
	answer(name, "QueueReady, Status after DRIVER_OK",
	       (uint64_t)ready << 16 | (st & 0xff) << 8 | (mmio_rd(DEV, R_STATUS) & 0xff));
	arena_check(name);
	blk_good(DEV, name);
}

/* Queue 0 with these rings and size, a well-formed read offered at
 * RING(0)'s descriptors (wherever the device looks), then DRIVER_OK. */
static void layout(const char *name, uint64_t desc, uint64_t avail, uint64_t used, uint32_t num)
{
	dev_reset(DEV);
	arena_clear();
	virtio_ack(DEV);
	virtio_set_features(DEV, 1ull << F_VERSION_1);
	memset((void *)RING(0), 0, VQ_RING_BYTES);
	put_hdr(BLK_T_IN, 1);
	put_desc(RING(0), 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(RING(0), 1, DATA_AT, 512, D_WRITE | D_NEXT, 2);
	put_desc(RING(0), 2, STAT_AT, 1, D_WRITE, 0);
	((volatile uint16_t *)(RING(0) + VQ_AVAIL))[1] = 1;
	permit(used, 6 + 8ul * (num > 0x8000 ? 0x8000 : num));
	/* QueueReady may not stick: kick_and_recover reports what did. */
	(void)vq_program(DEV, 0, num, desc, avail, used);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	kick_and_recover(name, used >= ARENA && used < ARENA + ARENA_LEN ? used : 0);
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	const uint64_t r = RING(0), av = RING(0) + VQ_AVAIL, us = RING(0) + VQ_USED;

	attack_setup("vq_rings", a, b, c, d);
	layout("well-formed", r, av, us, QS); /* the control */
	layout("all-three-same", r, r, r, QS);
	layout("used-on-avail", r, av, av, QS);
	layout("used-on-desc", r, av, r, QS);
	layout("desc-at-ram-end", H.ram, av, us, QS);
	layout("desc-across-ram-end", H.ram - 64, av, us, QS);
	layout("avail-across-ram-end", r, H.ram - 8, us, QS);
	layout("used-across-ram-end", r, av, H.ram - 8, QS);
	layout("used-in-mmio-hole", r, av, 0xd0000000ul, QS);
	layout("used-across-hole", r, av, 0xd0000000ul - 8, QS);
	layout("used-at-top", r, av, 0xfffffffffffff000ul, QS);
	layout("used-high-bits", r, av, us | 1ul << 40, QS);
	layout("desc-misaligned", r + 8, av, us, QS);
	layout("avail-odd", r, av + 1, us, QS);
	layout("used-misaligned", r, av, us + 2, QS);
	layout("size-0", r, av, us, 0);
	layout("size-17", r, av, us, 17);
	layout("size-1", r, av, us, 1);
	layout("size-65535", r, av, us, 0xffff);
	layout("size-32768", r, av, us, 0x8000);

	/* Ring addresses rewritten while the queue runs. */
	attack_begin(0);
	mmio_wr(DEV, R_DEVICE_LO, (uint32_t)(H.ram - 4));
	mmio_wr(DEV, R_DESC_LO, 0xd0000000u);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	vq_avail(&Q)[2] = 0;
	vq_avail(&Q)[1] = 1;
	kick_and_recover("addresses-after-driver-ok", us);

	attack_begin(0);
	mmio_wr(DEV, R_QUEUE_READY, 0);
	mmio_wr(DEV, R_QUEUE_NUM, 0xffff);
	mmio_wr(DEV, R_QUEUE_READY, 1);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	vq_avail(&Q)[2] = 0;
	vq_avail(&Q)[1] = 1;
	kick_and_recover("ready-toggled-live", us);

	attack_begin(0);
	for (uint32_t sel = 1; sel < 40; sel += 7) {
		mmio_wr(DEV, R_QUEUE_SEL, sel);
		mmio_wr(DEV, R_QUEUE_NUM, 16);
		mmio_wr(DEV, R_DEVICE_LO, (uint32_t)(H.ram - 4));
		mmio_wr(DEV, R_QUEUE_READY, 1);
		mmio_wr(DEV, R_QUEUE_NOTIFY, sel);
	}
	mmio_wr(DEV, R_QUEUE_SEL, 0xffffffffu);
	mmio_wr(DEV, R_QUEUE_READY, 1);
	kick_and_recover("queues-that-do-not-exist", 0);
	verdict_pass();
}
