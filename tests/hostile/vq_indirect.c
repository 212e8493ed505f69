/* Hostile guest: indirect descriptor tables on virtio-blk. A table inside
 * a table, tables of length 0, of a length that is no multiple of 16, of
 * 64 Ki entries, of 4 GiB - 16 bytes, outside RAM, in the MMIO hole;
 * INDIRECT combined with NEXT, INDIRECT without the feature, loops and
 * out-of-range next indices inside a table. See README.md. */
#include "vq_attack.h"

#define TABLE (BUF + 0x10000ul)

/* Head 0 points at a table of `len` bytes at `addr` (flags add to
 * INDIRECT); the table at TABLE, if used, is a well-formed read. */
static void indirect(const char *name, uint64_t features, uint64_t addr, uint32_t len,
		     uint16_t flags)
{
	attack_begin(features);
	put_desc(TABLE, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(TABLE, 1, DATA_AT, 512, D_WRITE | D_NEXT, 2);
	put_desc(TABLE, 2, STAT_AT, 1, D_WRITE, 0);
	put_desc(Q.ring, 0, addr, len, 4 | flags, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	attack_head0(name);
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	const uint64_t ind = 1ull << F_INDIRECT;

	attack_setup("vq_indirect", a, b, c, d);
	indirect("well-formed", ind, TABLE, 48, 0); /* the control: must work */
	indirect("not-negotiated", 0, TABLE, 48, 0);
	indirect("len-zero", ind, TABLE, 0, 0);
	indirect("len-24", ind, TABLE, 24, 0);
	indirect("len-8", ind, TABLE, 8, 0);
	indirect("with-next", ind, TABLE, 48, D_NEXT);
	indirect("with-write", ind, TABLE, 48, D_WRITE);
	indirect("at-ram-end", ind, H.ram, 48, 0);
	indirect("across-ram-end", ind, H.ram - 16, 48, 0);
	indirect("mmio-hole", ind, 0xd0000000ul, 48, 0);
	indirect("addr-top", ind, 0xfffffffffffffff0ul, 48, 0);
	indirect("len-4g-16", ind, TABLE, 0xfffffff0u, 0);
	/* 64 Ki entries of which 3 are the read: legal length, 1 MiB. */
	indirect("64ki-entries", ind, TABLE, 0x100000u, 0);

	/* Every entry of a 4096-entry table a 1-byte writable buffer. */
	attack_begin(ind);
	put_desc(TABLE, 0, HDR_AT, 16, D_NEXT, 1);
	for (uint16_t i = 1; i < 4095; i++)
		put_desc_raw(TABLE, i, DATA_AT + i, 1, D_WRITE | D_NEXT, (uint16_t)(i + 1));
	put_desc(TABLE, 4095, STAT_AT, 1, D_WRITE, 0);
	permit(DATA_AT, 4096);
	put_desc(Q.ring, 0, TABLE, 4096 * 16, 4, 0);
	attack_head0("4096-segments");

	attack_begin(ind);
	put_desc(TABLE + 0x1000, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(TABLE + 0x1000, 1, STAT_AT, 1, D_WRITE, 0);
	put_desc(TABLE, 0, TABLE + 0x1000, 32, 4, 0);
	put_desc(Q.ring, 0, TABLE, 16, 4, 0);
	attack_head0("nested");

	attack_begin(ind);
	put_desc(TABLE, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(TABLE, 1, DATA_AT, 512, D_WRITE | D_NEXT, 2);
	put_desc(TABLE, 2, STAT_AT, 1, D_WRITE | D_NEXT, 1);
	put_desc(Q.ring, 0, TABLE, 48, 4, 0);
	attack_head0("loop-in-table");

	attack_begin(ind);
	put_desc(TABLE, 0, HDR_AT, 16, D_NEXT, 3);
	put_desc(Q.ring, 0, TABLE, 48, 4, 0);
	attack_head0("next-past-table");

	/* The table is also where the status byte lands: the device reads it
	 * first, then writes. Legal, if odd. */
	attack_begin(ind);
	put_desc(TABLE, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(TABLE, 1, TABLE, 1, D_WRITE, 0);
	put_desc(Q.ring, 0, TABLE, 32, 4, 0);
	attack_head0("status-into-table");

	/* The table is the descriptor ring itself. */
	attack_begin(ind);
	put_desc(Q.ring, 0, Q.ring, 16 * QS, 4, 0);
	attack_head0("table-is-ring");
	verdict_pass();
}
