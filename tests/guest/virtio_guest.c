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

#include "virtq_guest.h"

#define DEV_BASE 0xd0000000ul

#define BLK_F_RO 5
#define BLK_F_FLUSH 9
#define BLK_T_FLUSH 4u
#define BLK_T_GET_ID 8u
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define QSIZE 64u
#define RING_GPA 0x200000ul /* desc, avail at +0x1000, used at +0x2000 */
#define HDR_GPA 0x210000ul  /* request headers, 16 bytes each */
#define STAT_GPA 0x211000ul /* status bytes, one per request */
#define BUF_GPA 0x220000ul  /* data buffers */
#define BIG_GPA 0x300000ul  /* 512 KiB, for the in-flight-reset case */
#define USED_SPIN 400000000ul
#define STATUS_SPIN 20000ul

static void *gpa(uint64_t a)
{
	return (void *)a;
}

static uint64_t dev_base = DEV_BASE;
static struct vq vq;

static uint32_t rd(uint32_t off)
{
	return mmio_rd(dev_base, off);
}

static void wr(uint32_t off, uint32_t v)
{
	mmio_wr(dev_base, off, v);
}

/* The used entry before the next one to be consumed. */
static uint32_t last_used_id(void)
{
	return vq_used_id(&vq, (uint16_t)(vq.used_seen - 1));
}

static uint32_t last_used_len(void)
{
	return vq_used_len(&vq, (uint16_t)(vq.used_seen - 1));
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

static void dev_reset(void)
{
	if (!virtio_reset(dev_base, USED_SPIN))
		fail(1, "status not 0 after reset", rd(R_STATUS));
}

/* Probe, reset, negotiate `want` (must be offered), set up queue 0 and go
 * DRIVER_OK. Returns the offered features. */
static uint64_t dev_init(uint32_t device_id, uint64_t want)
{
	uint64_t offered;
	uint32_t max;

	if (rd(R_MAGIC) != VIRTIO_MAGIC)
		fail(2, "bad magic", rd(R_MAGIC));
	if (rd(R_VERSION) != 2)
		fail(3, "bad version", rd(R_VERSION));
	if (rd(R_DEVICE_ID) != device_id)
		fail(4, "unexpected device id", rd(R_DEVICE_ID));
	dev_reset();
	virtio_ack(dev_base);
	offered = virtio_features(dev_base);
	if (!(offered & (1ull << F_VERSION_1)))
		fail(5, "VERSION_1 not offered", offered);
	if ((offered & want) != want)
		fail(6, "feature not offered", offered);
	if (!virtio_set_features(dev_base, want))
		fail(7, "FEATURES_OK did not stick", rd(R_STATUS));

	wr(R_QUEUE_SEL, 0);
	if (rd(R_QUEUE_READY) != 0)
		fail(8, "queue 0 ready after reset", 0);
	max = rd(R_QUEUE_NUM_MAX);
	if (max < QSIZE)
		fail(9, "QueueNumMax too small", max);
	if (!vq_setup(&vq, dev_base, 0, QSIZE, RING_GPA))
		fail(10, "QueueReady did not stick", rd(R_STATUS));
	if (!virtio_driver_ok(dev_base))
		fail(11, "DRIVER_OK did not stick", rd(R_STATUS));
	return offered;
}

/* --- virtio-blk requests --- */

/* Queues request `slot` (its own header and status byte) with up to two
 * data buffers; returns the head. data_write: device writes the data. */
static uint16_t blk_queue(uint32_t slot, uint32_t type, uint64_t sector, uint64_t buf, uint32_t len,
			  int split)
{
	volatile struct blk_hdr *h = gpa(HDR_GPA + 16ul * slot);
	volatile uint8_t *st = gpa(STAT_GPA + slot);
	uint16_t dflag = (type == BLK_T_OUT) ? 0 : D_WRITE;
	uint16_t head;

	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	*st = 0xee; /* the device must overwrite it */
	head = vq_add(&vq, HDR_GPA + 16ul * slot, 16, D_NEXT);
	if (len && split) {
		vq_add(&vq, buf, len / 2, dflag | D_NEXT);
		vq_add(&vq, buf + len / 2, len - len / 2, dflag | D_NEXT);
	} else if (len) {
		vq_add(&vq, buf, len, dflag | D_NEXT);
	}
	vq_add(&vq, STAT_GPA + slot, 1, D_WRITE);
	vq_offer(&vq, head);
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

	vq.next_desc = 0;
	head = blk_queue(0, type, sector, buf, len, split);
	vq_kick(&vq);
	if (vq_wait(&vq, 1, USED_SPIN))
		fail(failno, "request timed out; status", rd(R_STATUS));
	if (last_used_id() != head)
		fail(failno, "used id is not the head", last_used_id());
	return blk_status(0);
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
	if (b[0] != 'K' || b[1] != 'I' || b[7] != 'E' || b[8] != 0x10 ||
	    b[511] != (uint8_t)(0x10 + 503))
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
	cap = virtio_config64(dev_base, 0);
	puts_("capacity ");
	putdec(cap);
	puts_("\n");
	if (cap < 128)
		fail(20, "capacity too small", cap);

	/* Eight writes in one batch, one kick. */
	for (uint32_t s = 0; s < 8; s++)
		sector_pattern(want + 512 * s, s);
	vq.next_desc = 0;
	for (uint32_t s = 0; s < 8; s++)
		heads[s] = blk_queue(s, BLK_T_OUT, s, BUF_GPA + 512 * s, 512, 0);
	vq_kick(&vq);
	if (vq_wait(&vq, 8, USED_SPIN))
		fail(21, "batch write timed out; status", rd(R_STATUS));
	for (uint32_t s = 0; s < 8; s++) {
		int found = 0;

		for (uint16_t k = 1; k <= 8; k++)
			found |= vq_used_id(&vq, (uint16_t)(vq.used_seen - k)) == heads[s];
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
	if (last_used_len() != 4097)
		fail(26, "read-back used len", last_used_len());
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
		vq.next_desc = 0;
		head = vq_add(&vq, buf, 64, D_WRITE);
		vq_offer(&vq, head);
		vq_kick(&vq);
		if (vq_wait(&vq, 1, USED_SPIN))
			fail(60, "rng request timed out; status", rd(R_STATUS));
		if (last_used_len() != 64)
			fail(61, "rng used len", last_used_len());
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
		if (vq_used_idx(&vq) != used_before)
			fail(failno, "broken chain was completed; used idx", vq_used_idx(&vq));
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
	virtio_ack(dev_base);
	if (virtio_set_features(dev_base, (1ull << 32) | 1u | (1u << 9)))
		fail(70, "FEATURES_OK accepted an unoffered feature", rd(R_STATUS));
	puts_("OK unoffered feature refused\n");

	dev_init(2, BLK_FEATURES);
	blk_check_prefilled(71);
	puts_("OK baseline read\n");

	/* 1. A descriptor whose next points to itself. */
	vq.next_desc = 0;
	u = vq_used_idx(&vq);
	head = vq_add(&vq, HDR_GPA, 16, D_NEXT);
	vq_desc(&vq, head)->next = head;
	vq_offer(&vq, head);
	vq_kick(&vq);
	expect_broken(72, "self loop", u);

	/* 2. A two-descriptor loop through writable buffers. */
	vq.next_desc = 0;
	u = vq_used_idx(&vq);
	head = vq_add(&vq, HDR_GPA, 16, D_NEXT);
	vq_add(&vq, BUF_GPA, 512, D_WRITE | D_NEXT); /* next = 2 */
	vq_add(&vq, STAT_GPA, 1, D_WRITE | D_NEXT);  /* next = 3 */
	vq_desc(&vq, 2)->next = 1;
	vq_offer(&vq, head);
	vq_kick(&vq);
	expect_broken(74, "two-step loop", u);

	/* 3. Head index out of range in the avail ring. */
	u = vq_used_idx(&vq);
	vq_offer(&vq, QSIZE + 7);
	vq_kick(&vq);
	expect_broken(76, "head out of range", u);

	/* 4. A buffer address far outside RAM. */
	vq.next_desc = 0;
	u = vq_used_idx(&vq);
	head = blk_queue(0, BLK_T_IN, 0, 0xfffffffff000ul, 512, 0);
	vq_kick(&vq);
	expect_broken(78, "buffer outside RAM", u);

	/* 5. A buffer in the MMIO hole (the device window itself). */
	vq.next_desc = 0;
	u = vq_used_idx(&vq);
	head = blk_queue(0, BLK_T_IN, 0, DEV_BASE, 512, 0);
	vq_kick(&vq);
	expect_broken(80, "buffer in the MMIO hole", u);

	/* 6. A buffer that wraps the address space. */
	vq.next_desc = 0;
	u = vq_used_idx(&vq);
	head = blk_queue(0, BLK_T_IN, 0, 0xfffffffffffffe00ul, 0x400, 0);
	vq_kick(&vq);
	expect_broken(82, "buffer wrapping the address space", u);

	/* 7. avail.idx jumped far ahead. */
	u = vq_used_idx(&vq);
	vq.avail_idx = (uint16_t)(vq.avail_idx + 1000);
	vq_publish(&vq);
	vq_kick(&vq);
	expect_broken(84, "avail idx far ahead", u);

	/* 8. A readable buffer after a writable one. */
	vq.next_desc = 0;
	u = vq_used_idx(&vq);
	head = vq_add(&vq, HDR_GPA, 16, D_NEXT);
	vq_add(&vq, STAT_GPA, 1, D_WRITE | D_NEXT);
	vq_add(&vq, BUF_GPA, 512, D_NEXT);
	vq_add(&vq, STAT_GPA + 1, 1, D_WRITE);
	vq_offer(&vq, head);
	vq_kick(&vq);
	expect_broken(86, "readable after writable", u);

	/* 9. A queue layout outside RAM: QueueReady must not take it. */
	dev_reset();
	virtio_ack(dev_base);
	(void)virtio_set_features(dev_base, BLK_FEATURES);
	(void)vq_program(dev_base, 0, QSIZE, 0xfffffffff000ul, RING_GPA + VQ_AVAIL,
			 RING_GPA + VQ_USED);
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
	vq.next_desc = 0;
	blk_queue(0, BLK_T_IN, 0, BIG_GPA, 512 * 1024, 0);
	vq_kick(&vq);
	dev_reset();
	dev_init(2, BLK_FEATURES);
	vq.next_desc = 0;
	head = blk_queue(1, BLK_T_IN, 100, BUF_GPA + 0x10000, 512, 0);
	vq_kick(&vq);
	if (vq_wait(&vq, 1, USED_SPIN))
		fail(92, "read after in-flight reset timed out", rd(R_STATUS));
	st = blk_status(1);
	if (st != BLK_S_OK || vq_used_id(&vq, 0) != head)
		fail(93, "read after in-flight reset", st);
	/* Give a stale completion time to (wrongly) show up. */
	for (uint64_t i = 0; i < 2000; i++)
		(void)rd(R_STATUS);
	if (vq_used_idx(&vq) != 1)
		fail(94, "stale completion pushed into the new queue; used idx", vq_used_idx(&vq));
	puts_("OK reset with a request in flight\n");

	/* 12. Writes to device-readable-only registers and out-of-window
	 * offsets: ignored. */
	wr(R_MAGIC, 0);
	wr(R_DEVICE_ID, 7);
	wr(0x1fc, 0x12345678);
	if (rd(R_MAGIC) != VIRTIO_MAGIC || rd(R_DEVICE_ID) != 2)
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
