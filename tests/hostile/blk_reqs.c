/* Hostile guest: virtio-blk requests, well-formed as chains but not as
 * requests. Sectors at and past the capacity and sector numbers whose byte
 * offset overflows; unknown and reserved request types; GET_ID into
 * buffers of 0 to 4096 bytes and into a read-only one; FLUSH with data;
 * DISCARD and WRITE_ZEROES with ranges past the end, of 0 and 2^32 - 1
 * sectors, reserved flags, odd lengths, thousands of segments; writes of
 * every kind to a read-only disk (the runner checks its checksum). Device
 * 0 is a writable disk, device 1 a read-only one (both start with the
 * kit's magic). See README.md. */
#include "vq_attack.h"

#define F_DISCARD 13
#define F_WRITE_ZEROES 14

static uint64_t features;

static void req(const char *name, uint32_t type, uint64_t sector, uint64_t data, uint32_t len,
		uint16_t dflags)
{
	attack_begin(features);
	put_hdr(type, sector);
	if (len || dflags) {
		put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
		put_desc(Q.ring, 1, data, len, dflags | D_NEXT, 2);
		put_desc(Q.ring, 2, STAT_AT, 1, D_WRITE, 0);
	} else {
		put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
		put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	}
	attack_head0(name);
}

/* DISCARD or WRITE_ZEROES with n segments of (sector, num, flags). */
static void ranges(const char *name, uint32_t type, uint32_t n, uint64_t sector, uint32_t num,
		   uint32_t flags, uint32_t len_adjust)
{
	volatile uint32_t *seg = (volatile uint32_t *)DATA_AT;

	for (uint32_t i = 0; i < n; i++) {
		*(volatile uint64_t *)&seg[4 * i] = sector + i;
		seg[4 * i + 2] = num;
		seg[4 * i + 3] = flags;
	}
	req(name, type, 0, DATA_AT, 16 * n - len_adjust, 0);
}

static void ro_attacks(uint64_t cap)
{
	req("ro-write", BLK_T_OUT, 1, DATA_AT, 512, 0);
	req("ro-write-sector-0", BLK_T_OUT, 0, DATA_AT, 4096, 0);
	req("ro-write-beyond", BLK_T_OUT, cap, DATA_AT, 512, 0);
	ranges("ro-discard", BLK_T_DISCARD, 1, 0, 8, 0, 0);
	ranges("ro-write-zeroes", BLK_T_WRITE_ZEROES, 1, 0, 8, 0, 0);
	ranges("ro-write-zeroes-unmap", BLK_T_WRITE_ZEROES, 1, 0, 2048, 1, 0);
	req("ro-flush", BLK_T_FLUSH, 0, 0, 0, 0);
	req("ro-get-id", BLK_T_GET_ID, 0, DATA_AT, 20, D_WRITE);
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t cap, ro;
	static const uint32_t types[] = {2,  3,	 5,  6,	 7,	      9,	  10,
					 12, 14, 15, 16, 0x7fffffffu, 0xffffffffu};

	attack_setup("blk_reqs", a, b, c, d);
	ro = find_dev(ID_BLOCK, 1);
	if (!ro)
		verdict_fail("no second (read-only) virtio-blk", 0);
	features = virtio_features(DEV) & (1ull << F_DISCARD | 1ull << F_WRITE_ZEROES);
	cap = virtio_config64(DEV, 0);
	answer("capacity", "sectors; DISCARD/WRITE_ZEROES offered", cap << 8 | features >> 12);

	req("read-at-capacity", BLK_T_IN, cap, DATA_AT, 512, D_WRITE);
	req("read-straddling-end", BLK_T_IN, cap - 1, DATA_AT, 1024, D_WRITE);
	req("read-sector-2^55", BLK_T_IN, 1ull << 55, DATA_AT, 512, D_WRITE);
	req("read-sector-max", BLK_T_IN, ~0ull, DATA_AT, 512, D_WRITE);
	req("read-len-not-sector", BLK_T_IN, 1, DATA_AT, 100, D_WRITE);
	req("read-no-data", BLK_T_IN, 1, 0, 0, 0);
	req("write-at-capacity", BLK_T_OUT, cap, DATA_AT, 512, 0);
	req("write-sector-max", BLK_T_OUT, ~0ull - 1, DATA_AT, 1024, 0);
	req("write-from-writable", BLK_T_OUT, 8, DATA_AT, 512, D_WRITE);
	for (uint32_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		req("unknown-type", types[i], 1, DATA_AT, 512, D_WRITE);
	req("get-id-0", BLK_T_GET_ID, 0, DATA_AT, 0, D_WRITE);
	req("get-id-1", BLK_T_GET_ID, 0, DATA_AT, 1, D_WRITE);
	req("get-id-19", BLK_T_GET_ID, 0, DATA_AT, 19, D_WRITE);
	req("get-id-21", BLK_T_GET_ID, 0, DATA_AT, 21, D_WRITE);
	req("get-id-4096", BLK_T_GET_ID, ~0ull, DATA_AT, 4096, D_WRITE);
	req("get-id-readonly-buffer", BLK_T_GET_ID, 0, DATA_AT, 20, 0);
	req("flush-with-data", BLK_T_FLUSH, 0, DATA_AT, 4096, D_WRITE);
	req("flush-sector-max", BLK_T_FLUSH, ~0ull, 0, 0, 0);

	ranges("discard-past-end", BLK_T_DISCARD, 1, cap - 4, 8, 0, 0);
	ranges("discard-0-sectors", BLK_T_DISCARD, 1, 8, 0, 0, 0);
	ranges("discard-4g-sectors", BLK_T_DISCARD, 1, 8, 0xffffffffu, 0, 0);
	ranges("discard-sector-max", BLK_T_DISCARD, 1, ~0ull - 8, 16, 0, 0);
	ranges("discard-flags", BLK_T_DISCARD, 1, 8, 8, 0xfffffffeu, 0);
	ranges("discard-odd-length", BLK_T_DISCARD, 2, 8, 8, 0, 1);
	ranges("discard-4000-segments", BLK_T_DISCARD, 4000, 8, 1, 0, 0);
	ranges("discard-overlapping", BLK_T_DISCARD, 16, 8, 64, 0, 0);
	ranges("write-zeroes-past-end", BLK_T_WRITE_ZEROES, 1, cap - 1, 2, 0, 0);
	ranges("write-zeroes-4g-sectors", BLK_T_WRITE_ZEROES, 1, 8, 0xffffffffu, 0, 0);
	ranges("write-zeroes-flags", BLK_T_WRITE_ZEROES, 1, 8, 8, 0xfffffffcu, 0);
	ranges("write-zeroes-4000-segments", BLK_T_WRITE_ZEROES, 4000, 8, 1, 1, 0);
	ranges("write-zeroes-zero-length", BLK_T_WRITE_ZEROES, 1, 8, 8, 0, 16);

	DEV = ro;
	ro_attacks(virtio_config64(ro, 0));
	blk_good(ro, "the read-only disk's attacks");
	verdict_pass();
}
