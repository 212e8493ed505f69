/* Test guest (tests/integration/snapshot_virtio.sh): a polling driver at
 * CPL 3 (--mode long-user --load 0x100000) for virtio-blk, virtio-rng and
 * virtio-console at once (kite run --disk IMG --rng --console virtio places
 * them at 0xd0000000, 0xd0001000 and 0xd0002000), made to be snapshotted
 * mid-run, killed and restored in another process.
 *
 * It writes the disk's 4 KiB blocks k = 0, 1, 2, ... (block k at
 * k mod nblocks, so it wraps over the disk) in batches of BATCH writes
 * queued at once with one kick, with an rng request queued beside them, so
 * that a snapshot is likely to catch requests in flight; then it reads the
 * batch back (BATCH reads at once) and checks every sector, and checks the
 * entropy is not all zero. Every verified batch is reported on the console
 * as "BLK k" (k the batch's first block), so the lines go 0, BATCH,
 * 2 * BATCH, ... and a restore that loses or repeats work shows as a gap or
 * a repeated line. The counters live in guest memory (.bss), as a real
 * guest's would.
 *
 * Sector s of block k holds 64 little-endian words: SECTOR_MAGIC, k, s,
 * 60 words mixed from (k, s, i), then an FNV-style checksum of the first
 * 63; the test script recomputes this on the host to check the image.
 *
 * rsi: stop after this many blocks (0: run forever); then the guest prints
 * "DONE n rng m" and ends kite through debug-exit with 0. A failure prints
 * "FAIL N: ..." on COM1 and exits 16 + N. */
#include <stdint.h>

#include "virtq_guest.h"

#define BLK_DEV 0xd0000000ul
#define RNG_DEV 0xd0001000ul
#define CON_DEV 0xd0002000ul
#define ID_BLK 2
#define ID_RNG 4
#define ID_CONSOLE 3

#define BATCH 16u		   /* blocks per batch: requests in flight at once */
#define BLOCK 4096u		   /* bytes per block: 8 sectors */
#define BLK_QSIZE 64u		   /* 3 descriptors per request: 48 used per batch */
#define SMALL_QSIZE 16u		   /* rng and console */
#define BLK_RING 0x200000ul
#define RNG_RING 0x204000ul
#define CON_RING(q) (0x208000ul + 0x4000ul * (q))
#define HDR_GPA 0x210000ul	   /* BATCH request headers of 16 bytes */
#define STAT_GPA 0x211000ul	   /* BATCH status bytes */
#define WBUF_GPA 0x220000ul	   /* BATCH blocks to write */
#define RBUF_GPA 0x240000ul	   /* BATCH blocks read back */
#define RNG_GPA 0x260000ul
#define RNG_LEN 32u
#define TX_GPA 0x261000ul
/* What the guest is waiting for, at a fixed address so that the test can
 * read it from a snapshot's memory file: 0 nothing (computing or printing),
 * 1 its batch of writes, 2 its batch of reads. */
#define PHASE_GPA 0x262000ul
#define SPIN 400000000ul

#define SECTOR_MAGIC 0x50414e5345544b49ull /* "IKTESNAP" as bytes, little-endian */

static struct vq blkq, rngq, txq, rxq;
static uint64_t nblocks;      /* disk capacity in blocks */
static uint64_t next_k;	      /* first block of the next batch */
static uint64_t rng_requests; /* completed rng requests, all checked */

/* Word i of sector s of block k (i in 3..62). */
static uint64_t mix(uint64_t k, uint64_t s, uint64_t i)
{
	uint64_t x = (k * 8 + s) * 0x9e3779b97f4a7c15ull ^ i * 0xbf58476d1ce4e5b9ull;

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 29);
}

static void fill_sector(volatile uint64_t *w, uint64_t k, uint64_t s)
{
	uint64_t c = 0xcbf29ce484222325ull;

	w[0] = SECTOR_MAGIC;
	w[1] = k;
	w[2] = s;
	for (uint64_t i = 3; i < 63; i++)
		w[i] = mix(k, s, i);
	for (int i = 0; i < 63; i++)
		c = (c ^ w[i]) * 0x100000001b3ull;
	w[63] = c;
}

/* Index of the first word that differs from what block k's sector s must
 * hold, or -1. */
static int check_sector(const volatile uint64_t *w, uint64_t k, uint64_t s)
{
	uint64_t want[64];

	fill_sector(want, k, s);
	for (int i = 0; i < 64; i++)
		if (w[i] != want[i])
			return i;
	return -1;
}

/* Console output: one line per transmit buffer, waited for, so that a line
 * is never split between the process that snapshots and the one restored. */
static void con_puts(const char *s)
{
	volatile char *b = (volatile char *)TX_GPA;
	uint32_t n = 0;
	uint16_t head;

	while (s[n]) {
		b[n] = s[n];
		n++;
	}
	txq.next_desc = 0;
	head = vq_add(&txq, TX_GPA, n, 0);
	vq_offer(&txq, head);
	vq_kick(&txq);
	if (vq_wait(&txq, 1, SPIN))
		fail(1, "console transmit not completed", n);
}

static int put_str(char *line, int i, const char *s)
{
	while (*s)
		line[i++] = *s++;
	return i;
}

static int put_dec(char *line, int i, uint64_t n)
{
	char d[21];
	int j = 0;

	do {
		d[j++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (j)
		line[i++] = d[--j];
	return i;
}

/* "TAG n\n", or "TAG n TAG2 m\n" if tag2, as one console line. */
static void con_line(const char *tag, uint64_t n, const char *tag2, uint64_t m)
{
	char line[80];
	int i = put_str(line, 0, tag);

	line[i++] = ' ';
	i = put_dec(line, i, n);
	if (tag2) {
		line[i++] = ' ';
		i = put_str(line, i, tag2);
		line[i++] = ' ';
		i = put_dec(line, i, m);
	}
	line[i++] = '\n';
	line[i] = 0;
	con_puts(line);
}

static void dev_start(uint64_t dev, uint32_t id, int failno)
{
	if (mmio_rd(dev, R_MAGIC) != VIRTIO_MAGIC || mmio_rd(dev, R_DEVICE_ID) != id)
		fail(failno, "device missing; id", mmio_rd(dev, R_DEVICE_ID));
	if (!virtio_reset(dev, SPIN))
		fail(failno, "status not 0 after reset", mmio_rd(dev, R_STATUS));
	virtio_ack(dev);
	if (!virtio_set_features(dev, 1ull << F_VERSION_1))
		fail(failno, "FEATURES_OK refused", mmio_rd(dev, R_STATUS));
}

static void queue_start(struct vq *q, uint64_t dev, uint32_t idx, uint16_t size, uint64_t ring,
			int failno)
{
	mmio_wr(dev, R_QUEUE_SEL, idx);
	if (mmio_rd(dev, R_QUEUE_NUM_MAX) < size)
		fail(failno, "queue too small", mmio_rd(dev, R_QUEUE_NUM_MAX));
	if (!vq_setup(q, dev, idx, size, ring))
		fail(failno, "QueueReady did not stick", idx);
}

static void setup(void)
{
	dev_start(CON_DEV, ID_CONSOLE, 2);
	queue_start(&rxq, CON_DEV, 0, SMALL_QSIZE, CON_RING(0), 2);
	queue_start(&txq, CON_DEV, 1, SMALL_QSIZE, CON_RING(1), 2);
	if (!virtio_driver_ok(CON_DEV))
		fail(2, "console DRIVER_OK did not stick", mmio_rd(CON_DEV, R_STATUS));

	dev_start(BLK_DEV, ID_BLK, 3);
	queue_start(&blkq, BLK_DEV, 0, BLK_QSIZE, BLK_RING, 3);
	if (!virtio_driver_ok(BLK_DEV))
		fail(3, "blk DRIVER_OK did not stick", mmio_rd(BLK_DEV, R_STATUS));
	nblocks = virtio_config64(BLK_DEV, 0) / (BLOCK / 512);
	if (nblocks < 2 * BATCH)
		fail(4, "disk too small; blocks", nblocks);

	dev_start(RNG_DEV, ID_RNG, 5);
	queue_start(&rngq, RNG_DEV, 0, SMALL_QSIZE, RNG_RING, 5);
	if (!virtio_driver_ok(RNG_DEV))
		fail(5, "rng DRIVER_OK did not stick", mmio_rd(RNG_DEV, R_STATUS));
	con_line("snapvirt ready blocks", nblocks, 0, 0);
}

/* Queues BATCH requests of one type for blocks k .. k + BATCH - 1, request
 * i using descriptors 3i .. 3i + 2, and kicks once. */
static void blk_batch(uint32_t type, uint64_t k)
{
	blkq.next_desc = 0;
	for (uint32_t i = 0; i < BATCH; i++) {
		volatile struct blk_hdr *h = (volatile struct blk_hdr *)(HDR_GPA + 16ul * i);
		uint64_t buf = (type == BLK_T_OUT ? WBUF_GPA : RBUF_GPA) + (uint64_t)BLOCK * i;
		uint16_t head;

		h->type = type;
		h->reserved = 0;
		h->sector = ((k + i) % nblocks) * (BLOCK / 512);
		*(volatile uint8_t *)(STAT_GPA + i) = 0xee; /* the device must overwrite it */
		head = vq_add(&blkq, HDR_GPA + 16ul * i, 16, D_NEXT);
		vq_add(&blkq, buf, BLOCK, (uint16_t)(D_NEXT | (type == BLK_T_IN ? D_WRITE : 0)));
		vq_add(&blkq, STAT_GPA + i, 1, D_WRITE);
		vq_push(&blkq, head);
	}
	vq_publish(&blkq);
	vq_kick(&blkq);
}

/* Waits for the batch and checks that each request came back once, OK. */
static void blk_wait(int failno)
{
	uint32_t seen = 0;

	if (vq_wait(&blkq, BATCH, SPIN))
		fail(failno, "batch not completed; used idx", vq_used_idx(&blkq));
	for (uint16_t j = 1; j <= BATCH; j++) {
		uint32_t id = vq_used_id(&blkq, (uint16_t)(blkq.used_seen - j));

		if (id % 3 || id / 3 >= BATCH || (seen & (1u << (id / 3))))
			fail(failno, "bad or repeated used id", id);
		seen |= 1u << (id / 3);
	}
	for (uint32_t i = 0; i < BATCH; i++)
		if (*(volatile uint8_t *)(STAT_GPA + i) != 0)
			fail(failno + 1, "request status", *(volatile uint8_t *)(STAT_GPA + i));
}

static void rng_queue(void)
{
	uint16_t head;

	memset((void *)RNG_GPA, 0, RNG_LEN);
	rngq.next_desc = 0;
	head = vq_add(&rngq, RNG_GPA, RNG_LEN, D_WRITE);
	vq_offer(&rngq, head);
	vq_kick(&rngq);
}

static void rng_check(void)
{
	uint8_t any = 0;

	if (vq_wait(&rngq, 1, SPIN))
		fail(20, "rng request not completed", vq_used_idx(&rngq));
	if (vq_used_len(&rngq, (uint16_t)(rngq.used_seen - 1)) != RNG_LEN)
		fail(21, "rng used len", vq_used_len(&rngq, (uint16_t)(rngq.used_seen - 1)));
	for (uint32_t i = 0; i < RNG_LEN; i++)
		any |= *(volatile uint8_t *)(RNG_GPA + i);
	if (!any)
		fail(22, "rng gave all zeros", rng_requests);
	rng_requests++;
}

void guest_main(uint64_t rdi, uint64_t limit);
void guest_main(uint64_t rdi, uint64_t limit)
{
	volatile uint64_t *phase = (volatile uint64_t *)PHASE_GPA;

	(void)rdi;
	setup();
	while (!limit || next_k < limit) {
		uint64_t k = next_k;

		for (uint32_t i = 0; i < BATCH; i++)
			for (uint64_t s = 0; s < BLOCK / 512; s++)
				fill_sector((volatile uint64_t *)(WBUF_GPA + (uint64_t)BLOCK * i + 512 * s),
					    k + i, s);
		rng_queue();
		*phase = 1;
		blk_batch(BLK_T_OUT, k);
		blk_wait(10);
		*phase = 0;
		memset((void *)RBUF_GPA, 0, BATCH * BLOCK);
		*phase = 2;
		blk_batch(BLK_T_IN, k);
		blk_wait(12);
		*phase = 0;
		for (uint32_t i = 0; i < BATCH; i++)
			for (uint64_t s = 0; s < BLOCK / 512; s++) {
				int w = check_sector(
				    (volatile uint64_t *)(RBUF_GPA + (uint64_t)BLOCK * i + 512 * s), k + i, s);

				if (w >= 0)
					fail(14, "read back differs; block, sector, word",
					     (k + i) << 16 | s << 8 | (uint64_t)w);
			}
		rng_check();
		next_k = k + BATCH;
		con_line("BLK", k, 0, 0);
	}
	con_line("DONE", next_k, "rng", rng_requests);
	guest_exit(0);
}
