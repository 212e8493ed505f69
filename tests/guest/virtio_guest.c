/* Test guest (tests/integration/virtio.sh): a polling virtio-mmio driver in
 * freestanding C for 64-bit CPL 3 (--mode long-user --load 0x100000). kite
 * identity-maps 0-4 GiB for user mode, so the guest touches its rings and the
 * device window at 0xd0000000 directly. No interrupts: completions are found
 * by polling the used ring, always with a bounded spin so that a broken
 * device fails the test instead of hanging it.
 *
 * rdi selects the job: 1 blk-rw, 2 blk-ro, 3 rng, 4 malicious (broken chains
 * against virtio-blk; kite must stay up and recover after a reset).
 * Output goes to COM1; the result is the debug-exit status (port 0x501):
 * 0 for success, 16 + N for failure number N (each printed with a reason). */
#include <stdint.h>

#include "guest_rt.h"

#define DEV_BASE 0xd0000000ul

#define F_VERSION_1 32
#define BLK_F_RO 5
#define BLK_F_FLUSH 9
#define BLK_T_IN 0u
#define BLK_T_OUT 1u
#define BLK_T_FLUSH 4u
#define BLK_T_GET_ID 8u
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define QSIZE 64u
#define DESC_GPA 0x200000ul  /* 64 * 16 bytes */
#define AVAIL_GPA 0x201000ul /* 4 + 2 * 64 + 2 */
#define USED_GPA 0x202000ul  /* 4 + 8 * 64 + 2 */
#define HDR_GPA 0x210000ul   /* request headers, 16 bytes each */
#define STAT_GPA 0x211000ul  /* status bytes, one per request */
#define BUF_GPA 0x220000ul   /* data buffers */
#define BIG_GPA 0x300000ul   /* 512 KiB, for the in-flight-reset case */
#define USED_SPIN 400000000ul
#define STATUS_SPIN 20000ul

static void *gpa(uint64_t a)
{
	return (void *)a;
}

/* --- device registers --- */

static uint64_t dev_base = DEV_BASE;

static uint32_t rd(uint32_t off)
{
	return mmio_rd(dev_base, off);
}

static void wr(uint32_t off, uint32_t v)
{
	mmio_wr(dev_base, off, v);
}

/* --- split virtqueue, driver side --- */

static volatile struct desc *const vdesc = (volatile struct desc *)DESC_GPA;
static volatile uint16_t *const vavail = (volatile uint16_t *)AVAIL_GPA; /* flags idx ring[] */
static volatile uint16_t *const vused = (volatile uint16_t *)USED_GPA;  /* flags idx, elems */
static uint16_t avail_idx, used_seen, next_desc;

static uint32_t used_id(uint16_t slot)
{
	return *(volatile uint32_t *)(USED_GPA + 4 + 8ul * (slot % QSIZE));
}

static uint32_t used_len(uint16_t slot)
{
	return *(volatile uint32_t *)(USED_GPA + 8 + 8ul * (slot % QSIZE));
}

static uint16_t used_idx(void)
{
	barrier();
	return vused[1];
}

static void rings_clear(void)
{
	memset(gpa(DESC_GPA), 0, 0x3000);
	avail_idx = used_seen = next_desc = 0;
}

/* Fills the next free descriptor; returns its index. Chains are built by
 * linking the previous one to it. */
static uint16_t desc_add(uint64_t addr, uint32_t len, uint16_t flags)
{
	uint16_t i = next_desc++ % QSIZE;

	vdesc[i].addr = addr;
	vdesc[i].len = len;
	vdesc[i].flags = flags;
	vdesc[i].next = (uint16_t)((i + 1) % QSIZE);
	return i;
}

static void avail_put(uint16_t head)
{
	vavail[2 + avail_idx % QSIZE] = head;
	barrier(); /* ring entry before index (x86 is TSO) */
	avail_idx++;
	vavail[1] = avail_idx;
	barrier();
}

static void kick(void)
{
	wr(R_QUEUE_NOTIFY, 0);
}

/* Waits until `n` more used entries appeared; returns 0 or -1 on timeout. */
static int wait_used(uint16_t n)
{
	uint16_t want = (uint16_t)(used_seen + n);

	for (uint64_t i = 0; i < USED_SPIN; i++) {
		if ((uint16_t)(used_idx() - used_seen) >= n) {
			barrier(); /* read elements and buffers after the index */
			used_seen = want;
			return 0;
		}
		cpu_relax();
	}
	return -1;
}

/* --- device set-up --- */

static uint32_t status_poll(uint32_t bits)
{
	uint32_t s = 0;

	for (uint64_t i = 0; i < STATUS_SPIN; i++) {
		s = rd(R_STATUS);
		if (s & bits)
			break;
		cpu_relax();
	}
	return s;
}

static uint64_t dev_features(void)
{
	uint64_t f;

	wr(R_DEV_FEATURES_SEL, 1);
	f = (uint64_t)rd(R_DEV_FEATURES) << 32;
	wr(R_DEV_FEATURES_SEL, 0);
	return f | rd(R_DEV_FEATURES);
}

/* A reset with requests in flight completes when they are back: wait for
 * Status to read 0, as a driver must (VIRTIO 1.2, 4.2.3.1). */
static void dev_reset(void)
{
	wr(R_STATUS, 0);
	for (uint64_t i = 0; i < USED_SPIN && rd(R_STATUS) != 0; i++)
		cpu_relax();
	if (rd(R_STATUS) != 0)
		fail(1, "status not 0 after reset", rd(R_STATUS));
}

/* Probe, reset, negotiate `want` (must be offered), set up queue 0 and go
 * DRIVER_OK. Returns the offered features. */
static uint64_t dev_init(uint32_t device_id, uint64_t want)
{
	uint64_t offered;
	uint32_t max;

	if (rd(R_MAGIC) != 0x74726976u)
		fail(2, "bad magic", rd(R_MAGIC));
	if (rd(R_VERSION) != 2)
		fail(3, "bad version", rd(R_VERSION));
	if (rd(R_DEVICE_ID) != device_id)
		fail(4, "unexpected device id", rd(R_DEVICE_ID));
	dev_reset();
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	offered = dev_features();
	if (!(offered & (1ull << F_VERSION_1)))
		fail(5, "VERSION_1 not offered", offered);
	if ((offered & want) != want)
		fail(6, "feature not offered", offered);
	wr(R_DRV_FEATURES_SEL, 0);
	wr(R_DRV_FEATURES, (uint32_t)want);
	wr(R_DRV_FEATURES_SEL, 1);
	wr(R_DRV_FEATURES, (uint32_t)(want >> 32));
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (!(rd(R_STATUS) & S_FEATURES_OK))
		fail(7, "FEATURES_OK did not stick", rd(R_STATUS));

	wr(R_QUEUE_SEL, 0);
	if (rd(R_QUEUE_READY) != 0)
		fail(8, "queue 0 ready after reset", 0);
	max = rd(R_QUEUE_NUM_MAX);
	if (max < QSIZE)
		fail(9, "QueueNumMax too small", max);
	rings_clear();
	if (!vq_program(dev_base, 0, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA))
		fail(10, "QueueReady did not stick", rd(R_STATUS));
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	if (rd(R_STATUS) != (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		fail(11, "DRIVER_OK did not stick", rd(R_STATUS));
	return offered;
}

/* --- virtio-blk requests --- */

struct blk_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

/* Queues request `slot` (its own header and status byte) with up to two
 * data buffers; returns the head. data_write: device writes the data. */
static uint16_t blk_queue(uint32_t slot, uint32_t type, uint64_t sector, uint64_t buf,
			  uint32_t len, int split)
{
	volatile struct blk_hdr *h = gpa(HDR_GPA + 16ul * slot);
	volatile uint8_t *st = gpa(STAT_GPA + slot);
	uint16_t dflag = (type == BLK_T_OUT) ? 0 : D_WRITE;
	uint16_t head;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*st = 0xee; /* the device must overwrite it */
	head = desc_add(HDR_GPA + 16ul * slot, 16, D_NEXT);
	if (len && split) {
		desc_add(buf, len / 2, dflag | D_NEXT);
		desc_add(buf + len / 2, len - len / 2, dflag | D_NEXT);
	} else if (len) {
		desc_add(buf, len, dflag | D_NEXT);
	}
	desc_add(STAT_GPA + slot, 1, D_WRITE);
	avail_put(head);
	return head;
}

static uint8_t blk_status(uint32_t slot)
{
	return *(volatile uint8_t *)gpa(STAT_GPA + slot);
}

/* One request, waited for; returns its status byte. */
static uint8_t blk_do(int failno, uint32_t type, uint64_t sector, uint64_t buf, uint32_t len,
		      int split)
{
	uint16_t head;

	next_desc = 0;
	head = blk_queue(0, type, sector, buf, len, split);
	kick();
	if (wait_used(1))
		fail(failno, "request timed out; status", rd(R_STATUS));
	if (used_id((uint16_t)(used_seen - 1)) != head)
		fail(failno, "used id is not the head", used_id((uint16_t)(used_seen - 1)));
	return blk_status(0);
}

static uint64_t blk_capacity(void)
{
	uint32_t gen, lo, hi;

	do {
		gen = rd(R_CONFIG_GEN);
		lo = rd(R_CONFIG);
		hi = rd(R_CONFIG + 4);
	} while (rd(R_CONFIG_GEN) != gen);
	return (uint64_t)hi << 32 | lo;
}

/* The test script fills sector 100 with "KITE-PRE" then bytes 0x10.. */
static void blk_check_prefilled(int failno)
{
	volatile uint8_t *b = gpa(BUF_GPA + 0x10000);
	uint8_t st;

	memset((void *)b, 0, 512);
	st = blk_do(failno, BLK_T_IN, 100, BUF_GPA + 0x10000, 512, 0);
	if (st != BLK_S_OK)
		fail(failno, "read of sector 100: status", st);
	if (b[0] != 'K' || b[1] != 'I' || b[7] != 'E' || b[8] != 0x10 || b[511] != (uint8_t)(0x10 + 503))
		fail(failno, "sector 100 content", *(volatile uint64_t *)b);
}

static void sector_pattern(volatile uint8_t *p, uint32_t s)
{
	static const char tag[] = "KITE-WR";

	for (int i = 0; i < 7; i++)
		p[i] = (uint8_t)tag[i];
	p[7] = (uint8_t)('0' + s);
	for (int i = 8; i < 512; i++)
		p[i] = (uint8_t)('A' + s);
}

static void job_blk_rw(void)
{
	uint64_t cap;
	volatile uint8_t *rb = gpa(BUF_GPA + 0x8000);
	volatile uint8_t *want = gpa(BUF_GPA);
	volatile uint8_t *id = gpa(BUF_GPA + 0x11000);
	uint16_t heads[8];
	uint8_t st;

	dev_init(2, (1ull << F_VERSION_1) | (1ull << BLK_F_FLUSH));
	cap = blk_capacity();
	puts_("capacity ");
	putdec(cap);
	puts_("\n");
	if (cap < 128)
		fail(20, "capacity too small", cap);

	/* Eight writes in one batch, one kick. */
	for (uint32_t s = 0; s < 8; s++)
		sector_pattern(want + 512 * s, s);
	next_desc = 0;
	for (uint32_t s = 0; s < 8; s++)
		heads[s] = blk_queue(s, BLK_T_OUT, s, BUF_GPA + 512 * s, 512, 0);
	kick();
	if (wait_used(8))
		fail(21, "batch write timed out; status", rd(R_STATUS));
	for (uint32_t s = 0; s < 8; s++) {
		int found = 0;

		for (uint16_t k = 1; k <= 8; k++)
			found |= used_id((uint16_t)(used_seen - k)) == heads[s];
		if (!found)
			fail(22, "write head missing from used ring", heads[s]);
		if (blk_status(s) != BLK_S_OK)
			fail(23, "write status", blk_status(s));
	}
	puts_("OK write sectors 0-7\n");

	/* One 4 KiB read split over two buffers. */
	memset((void *)rb, 0, 4096);
	st = blk_do(24, BLK_T_IN, 0, BUF_GPA + 0x8000, 4096, 1);
	if (st != BLK_S_OK)
		fail(25, "read-back status", st);
	if (used_len((uint16_t)(used_seen - 1)) != 4097)
		fail(26, "read-back used len", used_len((uint16_t)(used_seen - 1)));
	for (uint32_t i = 0; i < 4096; i++)
		if (rb[i] != want[i])
			fail(27, "read-back mismatch at byte", i);
	puts_("OK read back sectors 0-7\n");

	blk_check_prefilled(28);
	puts_("sector100 ");
	puthexbytes(gpa(BUF_GPA + 0x10000), 16);
	puts_("\n");

	memset((void *)id, 0, 21);
	st = blk_do(29, BLK_T_GET_ID, 0, BUF_GPA + 0x11000, 20, 0);
	if (st != BLK_S_OK)
		fail(30, "GET_ID status", st);
	puts_("serial ");
	for (int i = 0; i < 20 && id[i]; i++)
		putc_((char)id[i]);
	puts_("\n");

	st = blk_do(31, BLK_T_FLUSH, 0, 0, 0, 0);
	if (st != BLK_S_OK)
		fail(32, "FLUSH status", st);
	puts_("OK flush\n");

	/* Errors the device reports without giving up on the queue. */
	st = blk_do(33, BLK_T_IN, cap, BUF_GPA + 0x8000, 512, 0);
	if (st != BLK_S_IOERR)
		fail(34, "read past the end: status", st);
	st = blk_do(35, BLK_T_IN, cap - 1, BUF_GPA + 0x8000, 1024, 0);
	if (st != BLK_S_IOERR)
		fail(36, "read straddling the end: status", st);
	st = blk_do(37, 0x7777, 0, BUF_GPA + 0x8000, 512, 0);
	if (st != BLK_S_UNSUPP)
		fail(38, "unknown request type: status", st);
	st = blk_do(39, BLK_T_IN, 0, BUF_GPA + 0x8000, 100, 0);
	if (st != BLK_S_IOERR)
		fail(40, "read of 100 bytes: status", st);
	if (rd(R_STATUS) & S_NEEDS_RESET)
		fail(41, "NEEDS_RESET after well-formed requests", rd(R_STATUS));
	puts_("OK errors reported\n");

	/* Read the last sector: the range check must allow it. */
	st = blk_do(42, BLK_T_IN, cap - 1, BUF_GPA + 0x8000, 512, 0);
	if (st != BLK_S_OK)
		fail(43, "read of the last sector: status", st);
	puts_("OK blk-rw\n");
}

static void job_blk_ro(void)
{
	volatile uint8_t *b = gpa(BUF_GPA);
	uint64_t offered;
	uint8_t st;

	offered = dev_init(2, (1ull << F_VERSION_1) | (1ull << BLK_F_RO));
	if (!(offered & (1ull << BLK_F_RO)))
		fail(50, "RO not offered", offered);
	puts_("OK RO offered\n");
	for (uint32_t i = 0; i < 512; i++)
		b[i] = 0x5a;
	st = blk_do(51, BLK_T_OUT, 0, BUF_GPA, 512, 0);
	if (st != BLK_S_IOERR)
		fail(52, "write to a read-only disk: status", st);
	st = blk_do(53, BLK_T_OUT, 100, BUF_GPA, 512, 0);
	if (st != BLK_S_IOERR)
		fail(54, "write to a read-only disk: status", st);
	puts_("OK write refused\n");
	blk_check_prefilled(55);
	puts_("OK blk-ro\n");
}

static void job_rng(void)
{
	volatile uint8_t *a = gpa(BUF_GPA), *b = gpa(BUF_GPA + 0x1000);
	int nonzero = 0, differ = 0;

	dev_init(4, 1ull << F_VERSION_1);
	for (int r = 0; r < 2; r++) {
		uint16_t head;
		uint64_t buf = r ? BUF_GPA + 0x1000 : BUF_GPA;

		memset(gpa(buf), 0, 64);
		next_desc = 0;
		head = desc_add(buf, 64, D_WRITE);
		avail_put(head);
		kick();
		if (wait_used(1))
			fail(60, "rng request timed out; status", rd(R_STATUS));
		if (used_len((uint16_t)(used_seen - 1)) != 64)
			fail(61, "rng used len", used_len((uint16_t)(used_seen - 1)));
		puts_("rng ");
		puthexbytes(gpa(buf), 64);
		puts_("\n");
	}
	for (int i = 0; i < 64; i++) {
		nonzero |= a[i] | b[i];
		differ |= a[i] != b[i];
	}
	if (!nonzero)
		fail(62, "rng gave zeros", 0);
	if (!differ)
		fail(63, "rng gave the same bytes twice", 0);
	puts_("OK rng\n");
}

/* --- malicious driver --- */

#define BLK_FEATURES ((1ull << F_VERSION_1) | (1ull << BLK_F_FLUSH))

/* After an attack: the device must flag NEEDS_RESET (or at least not
 * complete the request); then a reset and a normal read must work. */
static void expect_broken(int failno, const char *what, uint16_t used_before)
{
	uint32_t s = status_poll(S_NEEDS_RESET);

	puts_(what);
	if (s & S_NEEDS_RESET) {
		puts_(": NEEDS_RESET\n");
	} else {
		puts_(": ignored\n");
		if (used_idx() != used_before)
			fail(failno, "broken chain was completed; used idx", used_idx());
	}
	dev_reset();
	dev_init(2, BLK_FEATURES);
	blk_check_prefilled(failno + 1);
	puts_("OK recovered\n");
}

static void job_malicious(void)
{
	uint16_t head, u;
	uint8_t st;

	/* Features the device did not offer: FEATURES_OK must not stick. */
	dev_reset();
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEATURES_SEL, 0);
	wr(R_DRV_FEATURES, 1u | (1u << 9));
	wr(R_DRV_FEATURES_SEL, 1);
	wr(R_DRV_FEATURES, 1u);
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	if (rd(R_STATUS) & S_FEATURES_OK)
		fail(70, "FEATURES_OK accepted an unoffered feature", rd(R_STATUS));
	puts_("OK unoffered feature refused\n");

	dev_init(2, BLK_FEATURES);
	blk_check_prefilled(71);
	puts_("OK baseline read\n");

	/* 1. A descriptor whose next points to itself. */
	next_desc = 0;
	u = used_idx();
	head = desc_add(HDR_GPA, 16, D_NEXT);
	vdesc[head].next = head;
	avail_put(head);
	kick();
	expect_broken(72, "self loop", u);

	/* 2. A two-descriptor loop through writable buffers. */
	next_desc = 0;
	u = used_idx();
	head = desc_add(HDR_GPA, 16, D_NEXT);
	desc_add(BUF_GPA, 512, D_WRITE | D_NEXT); /* next = 2 */
	desc_add(STAT_GPA, 1, D_WRITE | D_NEXT);   /* next = 3 */
	vdesc[2].next = 1;
	avail_put(head);
	kick();
	expect_broken(74, "two-step loop", u);

	/* 3. Head index out of range in the avail ring. */
	u = used_idx();
	avail_put(QSIZE + 7);
	kick();
	expect_broken(76, "head out of range", u);

	/* 4. A buffer address far outside RAM. */
	next_desc = 0;
	u = used_idx();
	head = blk_queue(0, BLK_T_IN, 0, 0xfffffffff000ul, 512, 0);
	kick();
	expect_broken(78, "buffer outside RAM", u);

	/* 5. A buffer in the MMIO hole (the device window itself). */
	next_desc = 0;
	u = used_idx();
	head = blk_queue(0, BLK_T_IN, 0, DEV_BASE, 512, 0);
	kick();
	expect_broken(80, "buffer in the MMIO hole", u);

	/* 6. A buffer that wraps the address space. */
	next_desc = 0;
	u = used_idx();
	head = blk_queue(0, BLK_T_IN, 0, 0xfffffffffffffe00ul, 0x400, 0);
	kick();
	expect_broken(82, "buffer wrapping the address space", u);

	/* 7. avail.idx jumped far ahead. */
	u = used_idx();
	avail_idx = (uint16_t)(avail_idx + 1000);
	vavail[1] = avail_idx;
	barrier();
	kick();
	expect_broken(84, "avail idx far ahead", u);

	/* 8. A readable buffer after a writable one. */
	next_desc = 0;
	u = used_idx();
	head = desc_add(HDR_GPA, 16, D_NEXT);
	desc_add(STAT_GPA, 1, D_WRITE | D_NEXT);
	desc_add(BUF_GPA, 512, D_NEXT);
	desc_add(STAT_GPA + 1, 1, D_WRITE);
	avail_put(head);
	kick();
	expect_broken(86, "readable after writable", u);

	/* 9. A queue layout outside RAM: QueueReady must not take it. */
	dev_reset();
	wr(R_STATUS, S_ACK);
	wr(R_STATUS, S_ACK | S_DRIVER);
	wr(R_DRV_FEATURES_SEL, 0);
	wr(R_DRV_FEATURES, (uint32_t)BLK_FEATURES);
	wr(R_DRV_FEATURES_SEL, 1);
	wr(R_DRV_FEATURES, (uint32_t)(BLK_FEATURES >> 32));
	wr(R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	wr(R_QUEUE_SEL, 0);
	wr(R_QUEUE_NUM, QSIZE);
	wr(R_DESC_LO, 0xfffff000u);
	wr(R_DESC_HI, 0xffffu);
	wr(R_DRIVER_LO, (uint32_t)AVAIL_GPA);
	wr(R_DRIVER_HI, 0);
	wr(R_DEVICE_LO, (uint32_t)USED_GPA);
	wr(R_DEVICE_HI, 0);
	wr(R_QUEUE_READY, 1);
	if (rd(R_QUEUE_READY) != 0)
		fail(88, "queue with rings outside RAM became ready", 0);
	expect_broken(88, "rings outside RAM", 0);

	/* 10. Notify for a queue that does not exist, and an odd-sized
	 * register write: ignored, the queue keeps working without reset. */
	wr(R_QUEUE_NOTIFY, 5);
	*(volatile uint8_t *)(dev_base + R_QUEUE_NOTIFY) = 0;
	*(volatile uint16_t *)(dev_base + R_STATUS) = 0;
	if (rd(R_STATUS) != (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK))
		fail(90, "status changed by bad writes", rd(R_STATUS));
	blk_check_prefilled(91);
	puts_("OK bad register writes ignored\n");

	/* 11. Reset while a large read is in flight: its late completion
	 * must not land in the new rings. */
	next_desc = 0;
	blk_queue(0, BLK_T_IN, 0, BIG_GPA, 512 * 1024, 0);
	kick();
	dev_reset();
	dev_init(2, BLK_FEATURES);
	next_desc = 0;
	head = blk_queue(1, BLK_T_IN, 100, BUF_GPA + 0x10000, 512, 0);
	kick();
	if (wait_used(1))
		fail(92, "read after in-flight reset timed out", rd(R_STATUS));
	st = blk_status(1);
	if (st != BLK_S_OK || used_id(0) != head)
		fail(93, "read after in-flight reset", st);
	/* Give a stale completion time to (wrongly) show up. */
	for (uint64_t i = 0; i < 2000; i++)
		(void)rd(R_STATUS);
	if (used_idx() != 1)
		fail(94, "stale completion pushed into the new queue; used idx", used_idx());
	puts_("OK reset with a request in flight\n");

	/* 12. Writes to device-readable-only registers and out-of-window
	 * offsets: ignored. */
	wr(R_MAGIC, 0);
	wr(R_DEVICE_ID, 7);
	wr(0x1fc, 0x12345678);
	if (rd(R_MAGIC) != 0x74726976u || rd(R_DEVICE_ID) != 2)
		fail(95, "read-only registers changed", rd(R_DEVICE_ID));
	blk_check_prefilled(96);
	puts_("OK malicious\n");
}

void guest_main(uint64_t mode)
{
	switch (mode) {
	case 1:
		job_blk_rw();
		break;
	case 2:
		job_blk_ro();
		break;
	case 3:
		job_rng();
		break;
	case 4:
		job_malicious();
		break;
	default:
		fail(100, "unknown mode in rdi", mode);
	}
	guest_exit(0);
}
