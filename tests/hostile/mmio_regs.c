/* Hostile guest: the virtio-mmio register file of a virtio-blk. Every
 * offset read and written with 1-, 2-, 4- and 8-byte accesses, aligned
 * and not, one crossing the end of the window; read-only registers
 * written; queue set-up after DRIVER_OK and features after FEATURES_OK;
 * the status machine abused (steps skipped, bits cleared, FAILED and
 * NEEDS_RESET written by the driver, every feature bit asked for);
 * config space read and written out of range; windows with no device and
 * addresses with nothing at all. After each: a reset and the good read.
 * See README.md. */
#include "vq_attack.h"

static uint64_t rd(uint64_t a, int w)
{
	switch (w) {
	case 1:
		return *(volatile uint8_t *)a;
	case 2:
		return *(volatile uint16_t *)a;
	case 4:
		return *(volatile uint32_t *)a;
	default:
		return *(volatile uint64_t *)a;
	}
}

static void wr(uint64_t a, int w, uint64_t v)
{
	switch (w) {
	case 1:
		*(volatile uint8_t *)a = (uint8_t)v;
		break;
	case 2:
		*(volatile uint16_t *)a = (uint16_t)v;
		break;
	case 4:
		*(volatile uint32_t *)a = (uint32_t)v;
		break;
	default:
		*(volatile uint64_t *)a = v;
	}
}

/* The sum of everything read: the answer line shows the device answered. */
static uint64_t sweep_reads(uint64_t base, uint32_t from, uint32_t to, int w, uint32_t step)
{
	uint64_t sum = 0;

	for (uint32_t off = from; off + (uint32_t)w <= to; off += step)
		sum = sum * 31 + rd(base + off, w);
	return sum;
}

static void done(const char *name, const char *what, uint64_t v)
{
	answer(name, what, v);
	arena_check(name);
	blk_good(DEV, name);
}

/* Status writes in this order, then whatever the device made of them. */
static void status_seq(const char *name, const uint32_t *seq, int n)
{
	uint64_t got = 0;

	dev_reset(DEV);
	arena_clear();
	arena_snap();
	for (int i = 0; i < n; i++) {
		mmio_wr(DEV, R_STATUS, seq[i]);
		got = got << 8 | (mmio_rd(DEV, R_STATUS) & 0xff);
	}
	done(name, "Status after each write", got);
}

void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d);
void guest_main(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	static const int widths[] = {1, 2, 8};
	static const char *const rnames[] = {"read-width-1", "read-width-2", "read-width-8"};
	static const char *const wnames[] = {"write-width-1", "write-width-2", "write-width-8"};
	uint64_t cap;

	attack_setup("mmio_regs", a, b, c, d);
	cap = virtio_config64(DEV, 0);

	for (int i = 0; i < 3; i++) {
		dev_up(DEV, 0, 1, QS);
		arena_clear();
		arena_snap();
		done(rnames[i], "sum", sweep_reads(DEV, 0, 0x200, widths[i], (uint32_t)widths[i]));
	}
	dev_up(DEV, 0, 1, QS);
	arena_clear();
	arena_snap();
	done("read-unaligned-4", "sum",
	     sweep_reads(DEV, 1, 0x100, 4, 4) + sweep_reads(DEV, 2, 0x100, 4, 4) +
		 sweep_reads(DEV, 3, 0x100, 4, 4));
	arena_clear();
	arena_snap();
	done("read-across-window-end", "value", rd(DEV + 0xffc, 8) ^ rd(DEV + 0xfff, 2));

	/* Writes of all-ones and of zero to every offset, all widths, with
	 * the queue live (rings in the arena, so the device may write the
	 * used ring only). */
	for (int i = 0; i < 3; i++) {
		for (uint64_t v = 0; v < 2; v++) {
			attack_begin(0);
			arena_snap();
			for (uint32_t off = 0; off < 0x200; off += (uint32_t)widths[i])
				if (off != R_QUEUE_NOTIFY || v == 0)
					wr(DEV + off, widths[i], v ? ~0ull : 0);
			done(wnames[i], "Status", mmio_rd(DEV, R_STATUS));
		}
	}
	attack_begin(0);
	arena_snap();
	wr(DEV + 0xffd, 4, ~0ull);
	wr(DEV + 0xffc, 8, ~0ull);
	done("write-across-window-end", "Status", mmio_rd(DEV, R_STATUS));

	attack_begin(0);
	arena_snap();
	mmio_wr(DEV, R_MAGIC, 0);
	mmio_wr(DEV, R_VERSION, 7);
	mmio_wr(DEV, R_DEVICE_ID, 1);
	mmio_wr(DEV, R_QUEUE_NUM_MAX, 0xffff);
	mmio_wr(DEV, R_CONFIG_GEN, 5);
	done("write-read-only-registers", "magic, device id",
	     (uint64_t)mmio_rd(DEV, R_MAGIC) << 32 | mmio_rd(DEV, R_DEVICE_ID));

	/* Queue set-up after DRIVER_OK: a new size and new rings pointing at
	 * the MMIO hole, on queue 0 and on queue 1 that does not exist. */
	attack_begin(0);
	arena_snap();
	mmio_wr(DEV, R_QUEUE_SEL, 0);
	mmio_wr(DEV, R_QUEUE_NUM, 256);
	mmio_wr(DEV, R_DESC_LO, 0xd0000000u);
	mmio_wr(DEV, R_QUEUE_READY, 1);
	mmio_wr(DEV, R_QUEUE_SEL, 1);
	mmio_wr(DEV, R_QUEUE_NUM, 16);
	mmio_wr(DEV, R_QUEUE_READY, 1);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	attack_head0("queue-config-after-driver-ok");

	/* Features after FEATURES_OK: every bit, then DRIVER_OK. */
	dev_reset(DEV);
	arena_clear();
	arena_snap();
	virtio_ack(DEV);
	virtio_set_features(DEV, 1ull << F_VERSION_1);
	mmio_wr(DEV, R_DRV_FEATURES_SEL, 0);
	mmio_wr(DEV, R_DRV_FEATURES, 0xffffffffu);
	mmio_wr(DEV, R_DRV_FEATURES_SEL, 1);
	mmio_wr(DEV, R_DRV_FEATURES, 0xffffffffu);
	mmio_wr(DEV, R_DRV_FEATURES_SEL, 0x80000000u);
	mmio_wr(DEV, R_DRV_FEATURES, 0xffffffffu);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	done("features-after-features-ok", "Status", mmio_rd(DEV, R_STATUS));

	dev_reset(DEV);
	arena_clear();
	arena_snap();
	virtio_ack(DEV);
	done("every-feature-bit", "FEATURES_OK kept", (uint64_t)virtio_set_features(DEV, ~0ull));

	dev_reset(DEV);
	arena_clear();
	arena_snap();
	virtio_ack(DEV);
	done("no-version-1", "FEATURES_OK kept", (uint64_t)virtio_set_features(DEV, 0));

	{
		static const uint32_t s1[] = {S_DRIVER_OK};
		static const uint32_t s2[] = {S_ACK, S_ACK | S_DRIVER | S_DRIVER_OK};
		static const uint32_t s3[] = {S_FEATURES_OK, S_ACK | S_FEATURES_OK};
		static const uint32_t s4[] = {S_ACK, S_ACK | S_DRIVER,
					      S_ACK | S_DRIVER | S_FEATURES_OK, S_ACK | S_DRIVER,
					      S_ACK};
		static const uint32_t s5[] = {0x80, 0x40, 0xff, 0x7f, 0x30};
		static const uint32_t s6[] = {S_ACK, S_ACK | S_DRIVER | 0x40, 0xffffffffu};

		status_seq("status-driver-ok-first", s1, 1);
		status_seq("status-skip-features", s2, 2);
		status_seq("status-features-ok-first", s3, 2);
		status_seq("status-bits-cleared", s4, 5);
		status_seq("status-failed-needs-reset-all", s5, 5);
		status_seq("status-needs-reset-by-driver", s6, 3);
	}
	/* Bits cleared while the queue runs: DRIVER_OK taken back. */
	attack_begin(0);
	mmio_wr(DEV, R_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	put_desc(Q.ring, 0, HDR_AT, 16, D_NEXT, 1);
	put_desc(Q.ring, 1, STAT_AT, 1, D_WRITE, 0);
	attack_head0("driver-ok-cleared-live");

	/* Config space: every offset up to the end of the window, all widths,
	 * then writes of garbage; the capacity must not move. */
	dev_up(DEV, 0, 1, QS);
	arena_clear();
	arena_snap();
	done("config-reads", "sum",
	     sweep_reads(DEV, R_CONFIG, 0x1000, 1, 1) + sweep_reads(DEV, R_CONFIG, 0x1000, 2, 2) +
		 sweep_reads(DEV, R_CONFIG, 0x1000, 4, 4) +
		 sweep_reads(DEV, R_CONFIG, 0x1000, 8, 8) +
		 sweep_reads(DEV, R_CONFIG + 1, 0x200, 4, 4));
	dev_up(DEV, 0, 1, QS);
	arena_clear();
	arena_snap();
	for (uint32_t off = R_CONFIG; off < 0x1000; off += 4)
		mmio_wr(DEV, off, 0xdeadbeefu);
	for (uint32_t off = R_CONFIG; off < 0x200; off++)
		wr(DEV + off, 1, 0xa5);
	if (virtio_config64(DEV, 0) != cap)
		verdict_fail("config writes changed the capacity to", virtio_config64(DEV, 0));
	done("config-writes", "capacity", cap);

	/* A window with no device and addresses with nothing mapped. */
	arena_clear();
	arena_snap();
	{
		uint64_t empty = H.base + 31 * H.stride, sum = 0;
		static const uint64_t nothing[] = {0xd0100000ul, 0xe0000000ul, 0xfed00000ul,
						   0xfffff000ul};

		sum = sweep_reads(empty, 0, 0x200, 4, 4);
		for (uint32_t off = 0; off < 0x200; off += 4)
			mmio_wr(empty, off, 0xffffffffu);
		for (int i = 0; i < 4; i++) {
			sum += rd(nothing[i], 4) + rd(nothing[i] + 8, 8);
			wr(nothing[i], 4, 0x12345678);
			wr(nothing[i] + 8, 8, ~0ull);
		}
		done("nothing-there", "sum", sum);
	}
	verdict_pass();
}
