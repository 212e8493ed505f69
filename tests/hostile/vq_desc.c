/* Hostile guest: virtqueue descriptor chains on virtio-blk. Loops (a
 * descriptor naming itself, two naming each other, a loop back into the
 * writable part), next and head indices beyond the queue, buffers outside
 * RAM, across its end, in the MMIO hole and at the top of the address
 * space, lengths of 0 and of 4 GiB - 1, chains adding up past 4 GiB, and
 * the order rules (a readable buffer after a writable one, the status byte
 * or the data of a read offered read-only). See README.md. */
#include "vq_attack.h"

/* hdr, data, status with the data descriptor's address, length, flags. */
static void chain3(uint64_t addr, uint32_t len, uint16_t flags)
{
	uint64_t t = Q.ring;

	put_desc(t, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(t, 1, addr, len, flags | D_NEXT, 2);
	put_desc(t, 2, STAT_AT, 1, D_WRITE, 0);
}

static void bad_data(const char *name, uint64_t addr, uint32_t len, uint16_t flags)
{
	attack_begin(0);
	chain3(addr, len, flags);
	attack_head0(name);
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t t;

	attack_setup("vq_desc", a, b, c, d);

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 0);
	attack_head0("self-loop");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, HDR_AT, 16, D_NEXT, 0);
	attack_head0("two-loop");

	attack_begin(0);
	t = Q.ring;
	put_desc(t, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(t, 1, DATA_AT, 512, D_WRITE | D_NEXT, 2);
	put_desc(t, 2, STAT_AT, 1, D_WRITE | D_NEXT, 1);
	attack_head0("loop-into-writable");

	attack_begin(0);
	for (uint16_t i = 0; i < QS; i++)
		put_desc(Q.ring, i, DATA_AT + 512ul * i, 512, D_WRITE | D_NEXT,
			 (uint16_t)((i + 1) % QS));
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	attack_head0("whole-table-loop");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 0xffff);
	attack_head0("next-0xffff");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, QS);
	attack_head0("next-equals-size");

	attack_begin(0);
	chain3(DATA_AT, 512, D_WRITE);
	vq_avail(&Q)[2] = QS;
	attack_go("head-equals-size", 1);

	attack_begin(0);
	chain3(DATA_AT, 512, D_WRITE);
	vq_avail(&Q)[2] = 0xffff;
	attack_go("head-0xffff", 1);

	bad_data("addr-at-ram-end", H.ram, 512, D_WRITE);
	bad_data("addr-across-ram-end", H.ram - 256, 512, D_WRITE);
	bad_data("addr-mmio-hole", 0xd0000000ul, 512, D_WRITE);
	bad_data("addr-lapic", 0xfee00000ul, 512, D_WRITE);
	bad_data("addr-4g", 0x100000000ul, 512, D_WRITE);
	bad_data("addr-top", 0xfffffffffffffe00ul, 512, D_WRITE);
	bad_data("addr-wraps", 0xffffffffffffff00ul, 0x1000, D_WRITE);
	bad_data("addr-zero-page", 0, 512, D_WRITE); /* legal: RAM at 0 */
	bad_data("len-4g-1-write", DATA_AT, 0xffffffffu, D_WRITE);
	bad_data("len-4g-1-read", DATA_AT, 0xffffffffu, 0);
	bad_data("len-odd", DATA_AT, 511, D_WRITE);
	bad_data("len-zero-data", DATA_AT, 0, D_WRITE);
	bad_data("in-into-readonly", DATA_AT, 512, 0);

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 0, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	attack_head0("header-len-zero");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 8, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	attack_head0("header-short");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, DATA_AT, 512, D_WRITE | D_NEXT, 2);
	put_desc(Q.ring, 2, STAT_AT, 0, D_WRITE, 0);
	attack_head0("status-len-zero");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, DATA_AT, 512, D_WRITE | D_NEXT, 2);
	put_desc(Q.ring, 2, STAT_AT, 1, 0, 0);
	attack_head0("status-readonly");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE | D_NEXT, 2);
	put_desc(Q.ring, 2, DATA_AT, 512, D_NEXT, 3);
	put_desc(Q.ring, 3, STAT_AT + 1, 1, D_WRITE, 0);
	attack_head0("readable-after-writable");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_WRITE | D_NEXT, 1);
	put_desc(Q.ring, 1, DATA_AT, 512, D_WRITE | D_NEXT, 2);
	put_desc(Q.ring, 2, STAT_AT, 1, D_WRITE, 0);
	attack_head0("header-writable");

	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	for (uint16_t i = 1; i < 5; i++)
		put_desc(Q.ring, i, 0x2000000ul, 0xffffffffu, D_WRITE | D_NEXT, (uint16_t)(i + 1));
	put_desc(Q.ring, 5, STAT_AT, 1, D_WRITE, 0);
	attack_head0("chain-over-4g");

	/* Every descriptor one zero-length writable buffer, then the status. */
	attack_begin(0);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	for (uint16_t i = 1; i < QS - 1; i++)
		put_desc(Q.ring, i, DATA_AT, 0, D_WRITE | D_NEXT, (uint16_t)(i + 1));
	put_desc(Q.ring, QS - 1, STAT_AT, 1, D_WRITE, 0);
	attack_head0("zero-length-segments");

	/* A huge but legal read: 16 MiB into the far canary's neighbour. */
	attack_begin(0);
	chain3(0x2000000ul, 16u << 20, D_WRITE);
	attack_head0("huge-read-16m");

	verdict_pass();
}
