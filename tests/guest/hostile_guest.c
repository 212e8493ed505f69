/* Test guest (tests/integration/hostile.sh): CPL-3 guests that do what a
 * hostile driver may do, each reproducing one defect found by an external
 * hostile-guest suite (issue 8, item 10). Loaded at 0x100000 with
 * --mode long-user; rdi selects the job, rsi/rdx/rcx are its parameters:
 *
 *   1 flood    COM1 and the virtio console (at 0xd0000000) written at once,
 *              forever, never waiting for either.
 *   2 blk      queue rdx (<= 256) reads of rcx MiB each (1 MiB segments, all
 *              into one 1 MiB buffer, through indirect tables) on the
 *              virtio-blk at 0xd0000000, say "queued" on COM1, then rsi:
 *              0 debug-exit 42, 1 i8042 reset (0xfe to port 0x64), 2 spin,
 *              3 device reset (Status=0) then spin. r8 = 0: all read one
 *              disk area the host has cached; else a new area (blk_start).
 *   3 landing  queue rdx reads of rcx MiB each into separate buffers
 *              filled with a pattern (from separate, uncached disk areas),
 *              reset the device, wait until Status reads 0, then watch for
 *              a while that no buffer changes from that moment on.
 *              debug-exit 0 or 16 + N.
 *   4 exitport write 0x501 (a port kite only has with --debug-exit), then
 *              say "still here" and spin.
 *
 * Output goes to COM1; failures are reported as in virtio_guest.c. */
#include <stdint.h>

#include "guest_rt.h"

#define DEV 0xd0000000ul
#define ID_BLOCK 2
#define ID_CONSOLE 3
#define F_INDIRECT 28
#define F_VERSION_1 32
#define QSIZE 256u
#define DESC_GPA 0x200000ul  /* QSIZE * 16 */
#define AVAIL_GPA 0x201000ul /* 4 + 2 * QSIZE + 2 */
#define USED_GPA 0x202000ul  /* 4 + 8 * QSIZE + 2 */
#define HDR_GPA 0x210000ul   /* 16 bytes per request */
#define STAT_GPA 0x212000ul  /* one byte per request */
#define TXBUF_GPA 0x213000ul /* the console's transmit buffer */
#define TXBUF_LEN 4096u
#define IND_GPA 0x400000ul  /* one 4 KiB indirect table per request */
#define BUF_GPA 0x1000000ul /* data buffers from 16 MiB on */
#define SEG (1ul << 20)
#define SEGS_MAX 250u
#define PAGE 4096ul
#define SNAP_GPA 0x800000ul /* landing: two words per buffer page */

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

static volatile struct desc *const vdesc = (volatile struct desc *)DESC_GPA;
static volatile uint16_t *const vavail = (volatile uint16_t *)AVAIL_GPA;
static uint16_t avail_idx;
static uint32_t qn; /* the queue size in use: QSIZE, or less if the device says so */

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void avail_put(uint16_t head)
{
	vavail[2 + avail_idx % qn] = head;
	barrier();
	avail_idx++;
	vavail[1] = avail_idx;
	barrier();
}

static __attribute__((noreturn)) void spin_forever(void)
{
	for (;;)
		cpu_relax();
}

/* Reset, negotiate VERSION_1 plus `want`, program queue 0 (and 1 when
 * nq is 2) with up to QSIZE entries (queue 1's rings at +0x4000), go
 * DRIVER_OK. */
static void dev_init(uint32_t id, uint64_t want, uint32_t nq)
{
	if (mmio_rd(DEV, R_MAGIC) != 0x74726976u || mmio_rd(DEV, R_DEVICE_ID) != id)
		fail(1, "unexpected device at 0xd0000000", mmio_rd(DEV, R_DEVICE_ID));
	mmio_wr(DEV, R_STATUS, 0);
	for (uint64_t i = 0; i < 400000000ul && mmio_rd(DEV, R_STATUS) != 0; i++)
		cpu_relax();
	mmio_wr(DEV, R_STATUS, S_ACK);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER);
	want |= 1ull << F_VERSION_1;
	mmio_wr(DEV, R_DRV_FEATURES_SEL, 0);
	mmio_wr(DEV, R_DRV_FEATURES, (uint32_t)want);
	mmio_wr(DEV, R_DRV_FEATURES_SEL, 1);
	mmio_wr(DEV, R_DRV_FEATURES, (uint32_t)(want >> 32));
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(mmio_rd(DEV, R_STATUS) & S_FEATURES_OK))
		fail(2, "FEATURES_OK refused", mmio_rd(DEV, R_STATUS));
	for (uint32_t q = 0; q < nq; q++) {
		uint64_t ring = DESC_GPA + 0x4000ul * q;

		memset((void *)ring, 0, 0x3000);
		mmio_wr(DEV, R_QUEUE_SEL, q);
		qn = mmio_rd(DEV, R_QUEUE_NUM_MAX);
		if (qn > QSIZE)
			qn = QSIZE;
		if (qn < 16 || (qn & (qn - 1)))
			fail(3, "odd queue size", qn);
		if (!vq_program(DEV, q, qn, ring, ring + 0x1000, ring + 0x2000))
			fail(4, "QueueReady did not stick", q);
	}
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	avail_idx = 0;
}

/* --- 1: COM1 and virtio-console output at once, forever --- */

static __attribute__((noreturn)) void flood(void)
{
	volatile struct desc *tx = (volatile struct desc *)(DESC_GPA + 0x4000);
	volatile uint16_t *txavail = (volatile uint16_t *)(DESC_GPA + 0x5000);
	uint16_t idx = 0;

	dev_init(ID_CONSOLE, 0, 2);
	memset((void *)TXBUF_GPA, 'v', TXBUF_LEN);
	for (uint16_t i = 0; i < qn; i++) {
		tx[i].addr = TXBUF_GPA;
		tx[i].len = TXBUF_LEN;
		tx[i].flags = 0;
	}
	for (;;) {
		/* Keep the transmit queue full: a chain back in the used
		 * ring goes straight back in, without looking at it. */
		uint16_t used = ((volatile uint16_t *)(DESC_GPA + 0x6000))[1];

		while ((uint16_t)(idx - used) < qn) {
			txavail[2 + idx % qn] = (uint16_t)(idx % qn);
			idx++;
		}
		barrier();
		txavail[1] = idx;
		mmio_wr(DEV, R_QUEUE_NOTIFY, 1);
		for (int i = 0; i < 64; i++)
			putc_('u');
	}
}

/* --- 2 and 3: reads in flight --- */

/* Request r: an indirect table {header, nseg data segments, status}. With
 * `separate`, request r reads into its own nseg MiB at BUF_GPA; otherwise
 * every segment of every request is the same MiB. */
static void queue_reads(uint32_t from, uint32_t to, uint32_t nseg, int separate, uint64_t base)
{
	for (uint32_t r = from; r < to; r++) {
		volatile struct blk_hdr *h = (volatile struct blk_hdr *)(HDR_GPA + 16ul * r);
		volatile struct desc *t = (volatile struct desc *)(IND_GPA + PAGE * r);

		h->type = 0; /* IN */
		h->reserved = 0;
		h->sector = (base + (separate ? SEG * nseg * r : 0)) / 512;
		t[0].addr = (uint64_t)h;
		t[0].len = 16;
		t[0].flags = D_NEXT;
		t[0].next = 1;
		for (uint32_t s = 0; s < nseg; s++) {
			t[1 + s].addr = BUF_GPA + (separate ? SEG * (nseg * r + s) : 0);
			t[1 + s].len = (uint32_t)SEG;
			t[1 + s].flags = D_WRITE | D_NEXT;
			t[1 + s].next = (uint16_t)(2 + s);
		}
		t[1 + nseg].addr = STAT_GPA + r;
		t[1 + nseg].len = 1;
		t[1 + nseg].flags = D_WRITE;
		((volatile uint8_t *)STAT_GPA)[r] = 0xff;
		vdesc[r].addr = IND_GPA + PAGE * r;
		vdesc[r].len = 16 * (2 + nseg);
		vdesc[r].flags = 4; /* INDIRECT */
		avail_put((uint16_t)r);
	}
	mmio_wr(DEV, R_QUEUE_NOTIFY, 0);
}

/* Warm: request 0 goes alone and is waited for: it brings the disk area
 * into the host's page cache, where the rest find it (such reads can
 * complete without ever waiting). Cold: the reads start at a disk offset
 * chosen by the TSC (64 MiB to 3 GiB into the disk), most likely one the
 * host has not cached yet, so they wait for the host's disk code. */
static void blk_start(uint32_t nreq, uint32_t nseg, int separate, int cold)
{
	uint64_t base = cold ? SEG * (64 + (rdtsc() >> 8) % 3000) : 0;

	if (nreq < 2 || nreq > QSIZE || nseg == 0 || nseg > SEGS_MAX)
		fail(5, "bad parameters", ((uint64_t)nreq << 32) | nseg);
	dev_init(ID_BLOCK, 1ull << F_INDIRECT, 1);
	if (qn != QSIZE)
		fail(11, "virtio-blk queue is not 256 entries", qn);
	if (cold) {
		queue_reads(0, nreq, nseg, separate, base);
		return;
	}
	queue_reads(0, 1, nseg, separate, base);
	for (uint64_t i = 0; ((volatile uint16_t *)USED_GPA)[1] != 1; i++) {
		if (i == 4000000000ul)
			fail(9, "first read not completed", 0);
		cpu_relax();
	}
	if (((volatile uint8_t *)STAT_GPA)[0] != 0)
		fail(10, "first read failed", ((volatile uint8_t *)STAT_GPA)[0]);
	queue_reads(1, nreq, nseg, separate, base);
}

static __attribute__((noreturn)) void blk(uint64_t then, uint32_t nreq, uint32_t nseg, int cold)
{
	blk_start(nreq, nseg, 0, cold);
	if (then == 3)
		mmio_wr(DEV, R_STATUS, 0);
	puts_("queued\n");
	if (then == 0)
		guest_exit(42);
	if (then == 1) {
		outb(0x64, 0xfe);
		fail(6, "still running after the i8042 reset", 0);
	}
	spin_forever();
}

/* --- 3: no read data lands after Status reads 0 --- */

#define PATTERN 0xa5a5a5a5a5a5a5a5ull

static __attribute__((noreturn)) void landing(uint32_t nreq, uint32_t nseg)
{
	uint64_t pages = (uint64_t)nreq * nseg * (SEG / PAGE);
	volatile uint64_t *snap = (volatile uint64_t *)SNAP_GPA;
	uint64_t reads = 0, t0, changed = 0, landed = 0;

	for (uint64_t p = 0; p < pages; p++) {
		volatile uint64_t *w = (volatile uint64_t *)(BUF_GPA + PAGE * p);

		w[0] = PATTERN;
		w[PAGE / 8 - 1] = PATTERN;
	}
	blk_start(nreq, nseg, 1, 1);
	mmio_wr(DEV, R_STATUS, 0);
	/* Status keeps its old value while requests are in flight. */
	while (mmio_rd(DEV, R_STATUS) != 0)
		reads++;
	barrier();
	for (uint64_t p = 0; p < pages; p++) {
		volatile uint64_t *w = (volatile uint64_t *)(BUF_GPA + PAGE * p);

		snap[2 * p] = w[0];
		snap[2 * p + 1] = w[PAGE / 8 - 1];
		landed += w[0] != PATTERN;
	}
	puts_("status 0 after ");
	putdec(reads);
	puts_(" reads; pages landed before: ");
	putdec(landed);
	puts_(" of ");
	putdec(pages);
	putc_('\n');
	/* About half a second at 2-3 GHz: well past any completion. */
	t0 = rdtsc();
	while (rdtsc() - t0 < 1500000000ull) {
		for (uint64_t p = 0; p < pages; p++) {
			volatile uint64_t *w = (volatile uint64_t *)(BUF_GPA + PAGE * p);

			if (w[0] != snap[2 * p] || w[PAGE / 8 - 1] != snap[2 * p + 1]) {
				changed++;
				snap[2 * p] = w[0];
				snap[2 * p + 1] = w[PAGE / 8 - 1];
			}
		}
	}
	if (changed)
		fail(7, "buffer pages changed after Status read 0", changed);
	puts_("OK no data after reset\n");
	guest_exit(0);
}

void guest_main(uint64_t job, uint64_t a, uint64_t b, uint64_t c, uint64_t cold);
void guest_main(uint64_t job, uint64_t a, uint64_t b, uint64_t c, uint64_t cold)
{
	switch (job) {
	case 1:
		flood();
	case 2:
		blk(a, (uint32_t)b, (uint32_t)c, cold != 0);
	case 3:
		landing((uint32_t)b, (uint32_t)c);
	case 4:
		outb(0x501, 7);
		puts_("still here\n");
		spin_forever();
	}
	fail(8, "unknown job", job);
}
