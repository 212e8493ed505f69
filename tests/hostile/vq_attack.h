/* The kit's queue-attack harness (tests/hostile/README.md): a virtio-blk
 * whose queue 0 each attack fills with something malformed, one attack at
 * a time, then kicks, waits a bounded time, prints what the device did,
 * checks the arena's canaries and makes the good request. The virtqueue
 * code is shared by every kite device, so the blk stands for all. */
#ifndef KITE_VQ_ATTACK_H
#define KITE_VQ_ATTACK_H

#include "hostile.h"

#ifndef QS
#define QS 16u /* a guest may ask for more, up to 256 */
#endif
#define HDR_AT (BUF)
#define STAT_AT (BUF + 0x1000ul)
#define DATA_AT (BUF + 0x2000ul)
#define F_INDIRECT 28

static struct vq Q;
static uint64_t DEV;

/* Descriptor i of table t, nothing permitted (the caller permits). */
static __attribute__((unused)) void put_desc_raw(uint64_t t, uint16_t i, uint64_t addr,
						 uint32_t len, uint16_t flags, uint16_t next)
{
	volatile struct desc *d = (volatile struct desc *)(t + 16ul * i);

	d->addr = addr;
	d->len = len;
	d->flags = flags;
	d->next = next;
}

/* Descriptor i of table t; a writable one is offered to the device, so
 * its bytes may change. */
static __attribute__((unused)) void put_desc(uint64_t t, uint16_t i, uint64_t addr, uint32_t len,
					     uint16_t flags, uint16_t next)
{
	put_desc_raw(t, i, addr, len, flags, next);
	if (flags & D_WRITE)
		permit(addr, len);
}

static __attribute__((unused)) void put_hdr(uint32_t type, uint64_t sector)
{
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)HDR_AT;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*(volatile uint8_t *)STAT_AT = 0xee;
}

/* A fresh arena and device, queue 0 of QS entries in ring block 0. */
static __attribute__((unused)) void attack_begin(uint64_t features)
{
	dev_reset(DEV); /* before the arena (and its live ring) is overwritten */
	arena_clear();
	dev_up(DEV, features, 1, QS);
	vq_attach(&Q, DEV, 0, QS, RING(0));
	permit_used(RING(0), QS);
	put_hdr(BLK_T_IN, 1);
}

/* Publishes avail index `idx` (the attack chose the ring entries), kicks,
 * waits up to 300 ms, prints the answer, checks canaries, recovers. */
static __attribute__((unused)) void attack_go(const char *name, uint16_t idx)
{
	uint16_t used;
	uint32_t st;

	vq_avail(&Q)[1] = idx;
	barrier();
	arena_snap(); /* the device may only write the used ring from here on */
	vq_kick(&Q);
	used = wait_used(DEV, RING(0), 0, 300);
	st = mmio_rd(DEV, R_STATUS);
	answer(name, "used idx, Status, status byte",
	       (uint64_t)used << 16 | (st & 0xff) << 8 | *(volatile uint8_t *)STAT_AT);
	arena_check(name);
	blk_good(DEV, name);
}

/* The common case: head 0 in avail slot 0. */
static __attribute__((unused)) void attack_head0(const char *name)
{
	vq_avail(&Q)[2] = 0;
	attack_go(name, 1);
}

static __attribute__((unused)) void attack_setup(const char *guest, uint64_t a, uint64_t b,
						 uint64_t c, uint64_t d)
{
	hostile_init(guest, a, b, c, d);
	DEV = find_dev(ID_BLOCK, 0);
	if (!DEV)
		verdict_fail("no virtio-blk in the window at", H.base);
	blk_good(DEV, "nothing");
}

#endif
