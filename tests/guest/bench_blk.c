/* Benchmark guest (bench/run, virtio-blk group): a polling virtio-blk driver
 * in freestanding C for 64-bit CPL 3 (--mode long-user --load 0x100000,
 * linked with virtio_guest.ld), that keeps `qd` requests in flight and runs a
 * fixed job, timed by two boot-timestamp writes (port 0x510: 1 before the
 * first request, 2 after the last completion), so that kite's --timestamps
 * lines give the elapsed time without any TSC arithmetic.
 *
 * Registers (kite --reg):
 *   rdi  mode: 1 seq-read, 2 seq-write, 3 rand-read, 4 rand-write
 *   rsi  request size in bytes (multiple of 4096, at most 4 MiB)
 *   rdx  number of requests
 *   rcx  queue depth (1..64; qd * size at most 128 MiB)
 * Sequential request i covers bytes [i * size, (i + 1) * size) modulo the
 * disk; random ones start at a size-aligned block drawn from the same
 * xorshift64* sequence as bench/blk_host.c (seed BLK_SEED).
 *
 * Each 4 KiB block of a write starts with its own byte offset on the disk
 * (as a little-endian u64), the rest holds a fixed pattern; every read checks
 * that stamp, so the image must have been written in full by bench/blk_host
 * seq-write (or by this guest) first. A wrong stamp, a bad status or a timeout
 * ends the guest with status 16 + N, printed on COM1; success is status 0.
 *
 * No interrupts: the driver polls the used ring. VIRTIO_F_EVENT_IDX is
 * negotiated, so the driver kicks (a QueueNotify write, caught by kite's
 * ioeventfd) only when the device asked for one, and keeps used_event out of
 * reach so that the device never has a reason to interrupt. */
#include <stdint.h>

#include "virtq_guest.h"

#define DEV_BASE 0xd0000000ul

/* Guest memory layout (inside the default 256 MiB). Every request slot s
 * owns descriptors 3s (header), 3s+1 (data), 3s+2 (status) and the data
 * buffer BUF_GPA + s * size, so a completed head gives back its slot. */
#define QSIZE 256u
#define MAX_QD 64u
#define RING_GPA 0x200000ul /* desc, avail at +0x1000, used at +0x2000 */
#define HDR_GPA 0x210000ul  /* request headers, 16 bytes each */
#define STAT_GPA 0x211000ul /* status bytes, one per slot */
#define BUF_GPA 0x400000ul  /* data buffers */
#define BUF_MAX (128ul << 20)
#define BLOCK 4096ul

#define BLK_SEED 0x9e3779b97f4a7c15ull

/* A used-ring poll reads RAM only (no exit): bound it generously, in
 * iterations without progress. */
#define USED_SPIN 2000000000ul

static struct vq vq;

static void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}

static uint32_t rd(uint32_t off)
{
	return mmio_rd(DEV_BASE, off);
}

static void dev_init(void)
{
	uint64_t want = (1ull << F_VERSION_1) | (1ull << F_EVENT_IDX);
	uint32_t max;

	if (rd(R_MAGIC) != VIRTIO_MAGIC)
		fail(1, "bad magic", rd(R_MAGIC));
	if (rd(R_VERSION) != 2)
		fail(2, "bad version", rd(R_VERSION));
	if (rd(R_DEVICE_ID) != 2)
		fail(3, "slot 0 is not virtio-blk; device id", rd(R_DEVICE_ID));
	mmio_wr(DEV_BASE, R_STATUS, 0);
	virtio_ack(DEV_BASE);
	if ((virtio_features(DEV_BASE) & want) != want)
		fail(4, "VERSION_1 or EVENT_IDX not offered", virtio_features(DEV_BASE));
	if (!virtio_set_features(DEV_BASE, want))
		fail(5, "FEATURES_OK did not stick", rd(R_STATUS));
	mmio_wr(DEV_BASE, R_QUEUE_SEL, 0);
	max = rd(R_QUEUE_NUM_MAX);
	if (max < QSIZE)
		fail(6, "QueueNumMax too small", max);
	if (!vq_setup(&vq, DEV_BASE, 0, QSIZE, RING_GPA))
		fail(7, "QueueReady did not stick", rd(R_STATUS));
	if (!virtio_driver_ok(DEV_BASE))
		fail(8, "DRIVER_OK did not stick", rd(R_STATUS));
}

/* --- the job --- */

static uint64_t rng_state = BLK_SEED;

/* xorshift64*, the same as bench/blk_host.c. */
static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t mode;
static uint64_t size, nblocks;
static uint64_t slot_off[MAX_QD];

static uint64_t next_offset(uint64_t i)
{
	if (mode == 1 || mode == 2)
		return (i % nblocks) * size;
	return (rng_next() >> 11) % nblocks * size;
}

/* Stamps each 4 KiB block of a write buffer with its disk offset. */
static void stamp(volatile uint64_t *buf, uint64_t off)
{
	for (uint64_t b = 0; b < size / BLOCK; b++)
		buf[b * (BLOCK / 8)] = off + b * BLOCK;
}

static void check(const volatile uint64_t *buf, uint64_t off)
{
	for (uint64_t b = 0; b < size / BLOCK; b++)
		if (buf[b * (BLOCK / 8)] != off + b * BLOCK)
			fail(40, "read data: wrong stamp at disk offset", off + b * BLOCK);
}

/* Queues request i in slot s (descriptors are linked once, up front). */
static void submit(uint32_t s, uint64_t i)
{
	volatile struct blk_hdr *h = (volatile struct blk_hdr *)(HDR_GPA + 16ul * s);
	uint64_t off = next_offset(i);

	slot_off[s] = off;
	if (mode == 2 || mode == 4)
		stamp((volatile uint64_t *)(BUF_GPA + s * size), off);
	h->sector = off / 512;
	*(volatile uint8_t *)(STAT_GPA + s) = 0xee;
	vq_push(&vq, (uint16_t)(3 * s));
}

static void setup_slots(uint32_t qd)
{
	int write = mode == 2 || mode == 4;

	for (uint32_t s = 0; s < qd; s++) {
		volatile struct blk_hdr *h = (volatile struct blk_hdr *)(HDR_GPA + 16ul * s);

		h->type = write ? BLK_T_OUT : BLK_T_IN;
		h->reserved = 0;
		vq.next_desc = (uint16_t)(3 * s);
		vq_add(&vq, HDR_GPA + 16ul * s, 16, D_NEXT);
		vq_add(&vq, BUF_GPA + s * size, (uint32_t)size,
		       (uint16_t)(D_NEXT | (write ? 0 : D_WRITE)));
		vq_add(&vq, STAT_GPA + s, 1, D_WRITE);
	}
	/* The pattern behind the stamps, written once; for reads too, so that
	 * the first touch of every buffer page (a fault in kite's memfd and
	 * in KVM) happens before the clock starts, as in bench/blk_host. */
	for (uint64_t *p = (uint64_t *)BUF_GPA; p < (uint64_t *)(BUF_GPA + qd * size); p++)
		*p = 0x6b6974652d626c6bull; /* "klb-etik" */
}

static void run(uint64_t count, uint32_t qd)
{
	uint64_t submitted = 0, done = 0;
	uint16_t old = vq.avail_idx;

	*vq_used_event(&vq) = (uint16_t)(vq.used_seen + 0x8000);
	outl(0x510, 1);
	for (uint32_t s = 0; s < qd && submitted < count; s++)
		submit(s, submitted++);
	vq_kick_if_needed(&vq, old);
	while (done < count) {
		uint16_t now;
		uint64_t spin = 0;

		while ((now = vq_used_idx(&vq)) == vq.used_seen) {
			if (++spin == USED_SPIN)
				fail(30, "requests timed out; completed", done);
			cpu_relax();
		}
		barrier(); /* elements and buffers after the index */
		old = vq.avail_idx;
		for (; vq.used_seen != now; vq.used_seen++) {
			uint32_t head = vq_used_id(&vq, vq.used_seen);
			uint32_t s = head / 3;
			int write = mode == 2 || mode == 4;

			if (head % 3 || s >= qd)
				fail(31, "used id is not one of our heads", head);
			if (*(volatile uint8_t *)(STAT_GPA + s) != 0)
				fail(32, "request status", *(volatile uint8_t *)(STAT_GPA + s));
			if (vq_used_len(&vq, vq.used_seen) != (write ? 1 : size + 1))
				fail(33, "used len", vq_used_len(&vq, vq.used_seen));
			if (!write)
				check((volatile uint64_t *)(BUF_GPA + s * size), slot_off[s]);
			done++;
			if (submitted < count)
				submit(s, submitted++);
		}
		*vq_used_event(&vq) = (uint16_t)(vq.used_seen + 0x8000);
		vq_kick_if_needed(&vq, old);
	}
	outl(0x510, 2);
}

void guest_main(uint64_t rdi, uint64_t rsi, uint64_t rdx, uint64_t rcx)
{
	uint64_t cap;

	mode = (uint32_t)rdi;
	size = rsi;
	if (mode < 1 || mode > 4)
		fail(10, "unknown mode in rdi", rdi);
	if (size == 0 || size % BLOCK || size > (4ul << 20))
		fail(11, "bad request size in rsi", rsi);
	if (rcx == 0 || rcx > MAX_QD || rcx * size > BUF_MAX)
		fail(12, "bad queue depth in rcx", rcx);
	dev_init();
	cap = virtio_config64(DEV_BASE, 0);
	nblocks = cap * 512 / size;
	if (nblocks == 0)
		fail(13, "disk smaller than one request; sectors", cap);
	setup_slots((uint32_t)rcx);
	run(rdx, (uint32_t)rcx);
	puts_("bench_blk done ");
	putdec(rdx);
	puts_("\n");
	guest_exit(0);
}
