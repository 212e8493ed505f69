/* The hostile-guest kit's shared guest runtime (tests/hostile/README.md):
 * what every attack guest needs besides guest_rt.h and virtq_guest.h.
 * It owns the guest's contract with the runner (registers in, lines out),
 * finding devices in the virtio-mmio window, the canary arena that proves
 * the device wrote nothing it was not offered, bounded waits, and the
 * "good request" each guest makes after every attack.
 *
 * Registers at entry (0 means the default in brackets):
 *   rdi  virtio-mmio window base [0xd0000000]
 *   rsi  window stride [0x1000]
 *   rdx  guest RAM size in bytes [64 MiB]
 *   rcx  0; SELFTEST makes the first canary check find a byte the
 *        guest itself changed (the runner's proof that checks can fail)
 * Output on COM1: "attack NAME: ANSWER" per attack, then exactly one
 * verdict line "HOSTILE <guest> PASS <n> attacks" or
 * "HOSTILE <guest> FAIL <why>", then the guest spins until stopped.
 *
 * Memory (identity-mapped, guest-physical):
 *   0x100000  the guest image and, below it, its stack
 *   ARENA     4 MiB the attacks build everything in: rings, headers,
 *             tables, buffers; before each kick it is copied to SHADOW and
 *             afterwards compared, only offered writable ranges may differ
 *   FAR       16 MiB of canary laid once and checked at the verdict */
#ifndef KITE_HOSTILE_H
#define KITE_HOSTILE_H

#include <stdint.h>

#include "virtq_guest.h"

#define ARENA 0x400000ul
#define ARENA_LEN 0x400000ul
#define SHADOW 0x800000ul
#define FAR 0x1000000ul
#define FAR_LEN 0x1000000ul
#define FAR_PAT 0x5a17c0de5a17c0deull
#define RING(n) (ARENA + 0x4000ul * (n)) /* queue n's 12 KiB ring block */
#define BUF ARENA + 0x40000ul		 /* buffers from here to ARENA_LEN */
#define MAX_PERMITS 256
#define ID_NET 1
#define ID_BLOCK 2
#define ID_VSOCK 19
#define NEEDS_RESET 0x40u
#define SELFTEST 0x5e1f7e57ul

struct hostile {
	const char *name;
	uint64_t base, stride, ram;
	uint32_t attacks;
	uint64_t permit_lo[MAX_PERMITS], permit_hi[MAX_PERMITS];
	uint32_t nr_permits;
	uint64_t tsc_per_ms;
	int selftest;
};

static struct hostile H;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static __attribute__((noreturn)) void spin_forever(void)
{
	for (;;)
		cpu_relax();
}

static __attribute__((noreturn, unused)) void verdict_fail(const char *why, uint64_t val)
{
	puts_("HOSTILE ");
	puts_(H.name);
	puts_(" FAIL ");
	puts_(why);
	puts_(" 0x");
	puthex(val, 16);
	putc_('\n');
	spin_forever();
}

/* A crude TSC rate: unknown at CPL 3, so assume 2 GHz (waits are bounds,
 * never measurements; a faster TSC makes them shorter). */
static void hostile_init(const char *name, uint64_t base, uint64_t stride, uint64_t ram,
			 uint64_t selftest)
{
	H.selftest = selftest == SELFTEST;
	H.name = name;
	H.base = base ? base : 0xd0000000ul;
	H.stride = stride ? stride : 0x1000ul;
	H.ram = ram ? ram : 64ul << 20;
	H.tsc_per_ms = 2000000;
	for (uint64_t i = 0; i < FAR_LEN / 8; i++)
		((volatile uint64_t *)FAR)[i] = FAR_PAT ^ i;
	puts_("hostile ");
	puts_(name);
	puts_(" starts\n");
}

/* The n-th (from 0) virtio device with this ID, or 0. */
static __attribute__((unused)) uint64_t find_dev(uint32_t id, int nth)
{
	for (int i = 0; i < 32; i++) {
		uint64_t b = H.base + H.stride * (uint64_t)i;

		if (mmio_rd(b, R_MAGIC) != VIRTIO_MAGIC)
			continue;
		if (mmio_rd(b, R_DEVICE_ID) == id && nth-- == 0)
			return b;
	}
	return 0;
}

/* --- the canary arena --- */

static __attribute__((unused)) void permit(uint64_t addr, uint64_t len)
{
	if (H.nr_permits == MAX_PERMITS)
		verdict_fail("the kit's permit list is full (a kit bug) at", addr);
	if (len) {
		H.permit_lo[H.nr_permits] = addr;
		/* saturating: a hostile length may run past 2^64 */
		H.permit_hi[H.nr_permits] = addr + len < addr ? ~0ull : addr + len;
		H.nr_permits++;
	}
}

/* The used ring of a queue of `size` in ring block q (flags, idx, elems,
 * avail_event) is the device's to write. */
static __attribute__((unused)) void permit_used(uint64_t ring, uint16_t size)
{
	permit(ring + VQ_USED, 6 + 8ul * size);
}

/* Fills the arena with its pattern and forgets the permits: an attack
 * starts from a known arena. */
static __attribute__((unused)) void arena_clear(void)
{
	volatile uint64_t *a = (volatile uint64_t *)ARENA;

	for (uint64_t i = 0; i < ARENA_LEN / 8; i++)
		a[i] = 0xc5c5c5c5c5c5c5c5ull ^ (i * 0x9e3779b97f4a7c15ull);
	H.nr_permits = 0;
}

/* Freezes what the arena holds now (the driver's own writes included). */
static __attribute__((unused)) void arena_snap(void)
{
	volatile uint64_t *a = (volatile uint64_t *)ARENA, *s = (volatile uint64_t *)SHADOW;

	for (uint64_t i = 0; i < ARENA_LEN / 8; i++)
		s[i] = a[i];
}

static int permitted(uint64_t addr)
{
	for (uint32_t i = 0; i < H.nr_permits; i++)
		if (addr >= H.permit_lo[i] && addr < H.permit_hi[i])
			return 1;
	return 0;
}

/* Every byte that changed since arena_snap lies in a permitted range;
 * else the verdict is FAIL with the first address that did not. */
static __attribute__((unused)) void arena_check(const char *attack)
{
	volatile uint8_t *a = (volatile uint8_t *)ARENA, *s = (volatile uint8_t *)SHADOW;

	if (H.selftest) { /* a stray write the check must find */
		H.selftest = 0;
		a[ARENA_LEN - 1] ^= 1;
	}
	for (uint64_t i = 0; i < ARENA_LEN; i += 8) {
		if (*(volatile uint64_t *)(a + i) == *(volatile uint64_t *)(s + i))
			continue;
		for (uint64_t j = i; j < i + 8; j++) {
			if (a[j] != s[j] && !permitted(ARENA + j)) {
				puts_("canary broken by ");
				puts_(attack);
				puts_(": was ");
				puthex(*(volatile uint64_t *)(s + (j & ~7ul)), 16);
				puts_(" now ");
				puthex(*(volatile uint64_t *)(a + (j & ~7ul)), 16);
				puts_(" then ");
				puthexbytes(a + (j & ~7ul) + 8, 56);
				putc_('\n');
				verdict_fail("write outside the offered buffers at", ARENA + j);
			}
		}
	}
}

static __attribute__((unused)) void far_check(void)
{
	for (uint64_t i = 0; i < FAR_LEN / 8; i++)
		if (((volatile uint64_t *)FAR)[i] != (FAR_PAT ^ i))
			verdict_fail("far canary changed at", FAR + 8 * i);
}

/* --- waits --- */

/* Until the used index moves past `seen` or Status shows NEEDS_RESET, at
 * most ms milliseconds. Returns the used index. */
static __attribute__((unused)) uint16_t wait_used(uint64_t dev, uint64_t ring, uint16_t seen,
						  uint64_t ms)
{
	uint64_t t0 = rdtsc();
	volatile uint16_t *used = (volatile uint16_t *)(ring + VQ_USED);

	while (rdtsc() - t0 < ms * H.tsc_per_ms) {
		if (used[1] != seen)
			break;
		if (mmio_rd(dev, R_STATUS) & NEEDS_RESET)
			break;
		for (int i = 0; i < 64; i++)
			cpu_relax();
	}
	barrier();
	return used[1];
}

static __attribute__((unused)) void spin_ms(uint64_t ms)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < ms * H.tsc_per_ms)
		cpu_relax();
}

/* Reset and wait (2 s) for Status to read 0; FAIL if it never does. */
static __attribute__((unused)) void dev_reset(uint64_t dev)
{
	mmio_wr(dev, R_STATUS, 0);
	for (uint64_t t0 = rdtsc(); mmio_rd(dev, R_STATUS) != 0;) {
		if (rdtsc() - t0 > 2000 * H.tsc_per_ms)
			verdict_fail("Status never read 0 after a reset", mmio_rd(dev, R_STATUS));
		cpu_relax();
	}
}

/* Reset, negotiate VERSION_1 | want (masked by what the device offers),
 * program nq queues of `size` in ring blocks 0.., DRIVER_OK. Returns the
 * negotiated features; FAIL where a conforming device must not refuse. */
static __attribute__((unused)) uint64_t dev_up(uint64_t dev, uint64_t want, uint32_t nq,
					       uint16_t size)
{
	uint64_t f;

	dev_reset(dev);
	virtio_ack(dev);
	f = virtio_features(dev) & (want | 1ull << F_VERSION_1);
	if (!virtio_set_features(dev, f))
		verdict_fail("FEATURES_OK refused for offered features", f);
	for (uint32_t q = 0; q < nq; q++) {
		mmio_wr(dev, R_QUEUE_SEL, q);
		if (mmio_rd(dev, R_QUEUE_NUM_MAX) < size)
			verdict_fail("queue smaller than the kit needs",
				     mmio_rd(dev, R_QUEUE_NUM_MAX));
		memset((void *)RING(q), 0, VQ_RING_BYTES);
		if (!vq_program(dev, q, size, RING(q), RING(q) + VQ_AVAIL, RING(q) + VQ_USED))
			verdict_fail("QueueReady did not stick", q);
	}
	if (!virtio_driver_ok(dev))
		verdict_fail("DRIVER_OK did not stick", mmio_rd(dev, R_STATUS));
	return f;
}

/* The driver's view of queue `index` that dev_up programmed at `ring`. */
static __attribute__((unused)) void vq_attach(struct vq *q, uint64_t dev, uint32_t index,
					      uint16_t size, uint64_t ring)
{
	q->dev = dev;
	q->index = index;
	q->size = size;
	q->ring = ring;
	q->avail_idx = q->used_seen = q->next_desc = 0;
}

/* One attack done: print its answer line. */
static __attribute__((unused)) void answer(const char *attack, const char *what, uint64_t v)
{
	puts_("attack ");
	puts_(attack);
	puts_(": ");
	puts_(what);
	puts_(" 0x");
	puthex(v, v >> 32 ? 16 : 8);
	putc_('\n');
	H.attacks++;
}

static __attribute__((noreturn, unused)) void verdict_pass(void)
{
	far_check();
	puts_("HOSTILE ");
	puts_(H.name);
	puts_(" PASS ");
	putdec(H.attacks);
	puts_(" attacks\n");
	spin_forever();
}

/* --- virtio-blk, shared by the queue attacks and the blk guests --- */

#define BLK_T_FLUSH 4u
#define BLK_T_GET_ID 8u
#define BLK_T_DISCARD 11u
#define BLK_T_WRITE_ZEROES 13u
#define BLK_F_RO 5
#define DISK_MAGIC "KITE-HOSTILE-DISK"

/* The good request: reset, bring the device up plainly, read sector 0
 * (the runner wrote DISK_MAGIC there) with a 3-descriptor chain and check
 * status, used length and data. Called after every attack. */
static __attribute__((unused)) void blk_good(uint64_t dev, const char *after)
{
	struct vq q;
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(ARENA + 0x30000);
	volatile uint8_t *data = (volatile uint8_t *)(ARENA + 0x31000);
	volatile uint8_t *st = (volatile uint8_t *)(ARENA + 0x32000);
	const char *m = DISK_MAGIC;
	uint16_t head;

	dev_up(dev, 0, 1, 16);
	vq_attach(&q, dev, 0, 16, RING(0));
	/* Its used ring stays the device's (a polling device may still set
	 * the flags after the completion); the data and status bytes are
	 * the device's to write too. */
	permit_used(RING(0), 16);
	permit((uint64_t)data, 512);
	permit((uint64_t)st, 1);
	h->type = BLK_T_IN;
	h->reserved = 0;
	h->sector = 0;
	*st = 0xff;
	for (int i = 0; i < 512; i++)
		data[i] = 0;
	head = vq_add(&q, (uint64_t)h, 16, D_NEXT);
	vq_add(&q, (uint64_t)data, 512, D_NEXT | D_WRITE);
	vq_add(&q, (uint64_t)st, 1, D_WRITE);
	vq_offer(&q, head);
	vq_kick(&q);
	if (wait_used(dev, RING(0), 0, 3000) != 1) {
		puts_("after ");
		puts_(after);
		putc_('\n');
		verdict_fail("good read not completed; Status", mmio_rd(dev, R_STATUS));
	}
	if (*st != 0 || vq_used_len(&q, 0) != 513) {
		puts_("after ");
		puts_(after);
		putc_('\n');
		verdict_fail("good read: status byte and used length",
			     (uint64_t)*st << 32 | vq_used_len(&q, 0));
	}
	for (int i = 0; m[i]; i++)
		if (data[i] != (uint8_t)m[i])
			verdict_fail("good read: sector 0 lacks the kit's magic at", (uint64_t)i);
}

#endif
