/* Unit tests for src/virtio/blk_limit.c: virtio-blk's rate limit on a
 * file-backed disk, driven through the transport with a fake clock. The
 * refill timer is fired by hand after moving the clock by the wait it was
 * armed for, so the measured rates are exact simulated ones: no wall-clock
 * timing anywhere. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/disk_raw.h"
#include "virtio/blk.h"
#include "virtq_driver.h"
#include "virtio_state.h"

#define MEM_SIZE (4u << 20)
#define QSIZE 64u
#define DESC 0x1000u
#define AVAIL 0x2000u
#define USED 0x3000u
#define HDR 0x10000u
#define STATUS 0x18000u
#define DATA 0x100000u
#define IMG_SIZE (1u << 20)
#define NCHAIN 16u /* chain k: descriptors 3k..3k+2 */
#define REQ_MAX 0x10000u
#define NS 1000000000ull

static uint64_t fake_ns;

static uint64_t fake_now(void)
{
	return fake_ns;
}

struct fx {
	char path[64];
	uint8_t *mem;
	struct guest_mem gm;
	struct virtio_blk *b;
	struct virtio_dev *t;
	struct vqd vq;
	uint16_t seen; /* used entries looked at */
};

static void make_image(struct fx *f)
{
	uint8_t *buf = calloc(1, IMG_SIZE);
	int fd;

	strcpy(f->path, "/tmp/kite-test-blk-limit-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < IMG_SIZE; i++)
		buf[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(write(fd, buf, IMG_SIZE), IMG_SIZE);
	close(fd);
	free(buf);
}

static int new_dev(struct fx *f, uint64_t bps, uint64_t iops, uint64_t burst)
{
	struct virtio_blk_opts o = {.path = f->path,
				    .disk_flags = DISK_RAW_NO_URING,
				    .bps = bps,
				    .iops = iops,
				    .burst = burst,
				    .now = fake_now};
	int rc = virtio_blk_new(&f->b, &f->gm, NULL, &o, "blk0");

	if (!rc)
		f->t = virtio_blk_vdev(f->b);
	return rc;
}

static void fx_open(struct fx *f, uint64_t bps, uint64_t iops, uint64_t burst)
{
	memset(f, 0, sizeof(*f));
	fake_ns = 1000 * NS;
	make_image(f);
	f->mem = aligned_alloc(4096, MEM_SIZE);
	memset(f->mem, 0, MEM_SIZE);
	gm_init_wrap(&f->gm, f->mem, MEM_SIZE);
	assert_int_equal(new_dev(f, bps, iops, burst), 0);
	f->vq = (struct vqd){f->mem, QSIZE, DESC, AVAIL, USED};
	assert_int_equal(
	    vqd_bring_up(f->t, VQD_VERSION_1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX), &f->vq, 1), 0xf);
}

static void fx_close(struct fx *f)
{
	virtio_blk_free(f->b);
	unlink(f->path);
	free(f->mem);
}

/* Offers chain k: a request of `type` with `len` data bytes at sector 8k. */
static void offer(struct fx *f, uint16_t k, uint32_t type, uint32_t len)
{
	uint64_t sector = 8ull * k, hdr = HDR + 16u * k, status = STATUS + k;
	uint16_t d = (uint16_t)(3 * k);
	uint16_t wr = type == VIRTIO_BLK_T_OUT ? 0 : VIRTQ_DESC_F_WRITE;
	uint32_t zero = 0;

	memcpy(f->mem + hdr, &type, 4);
	memcpy(f->mem + hdr + 4, &zero, 4);
	memcpy(f->mem + hdr + 8, &sector, 8);
	f->mem[status] = 0xee;
	vqd_set_desc(&f->vq, d, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(len ? d + 1 : d + 2));
	if (len)
		vqd_set_desc(&f->vq, d + 1u, DATA + (uint64_t)REQ_MAX * k, len,
			     wr | VIRTQ_DESC_F_NEXT, (uint16_t)(d + 2));
	vqd_set_desc(&f->vq, d + 2u, status, 1, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&f->vq, d);
}

static void kick(struct fx *f)
{
	vqd_wr(f->t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_blk_drain(f->b);
}

/* Moves the clock to when the armed timer fires, and fires it. */
static void advance(struct fx *f)
{
	uint64_t w = virtio_blk_limit_wait_ns(f->b);

	assert_true(w > 0);
	fake_ns += w;
	virtio_blk_limit_fire(f->b);
	virtio_blk_drain(f->b);
}

/* The chain completed next, or -1 when none did. */
static int next_done(struct fx *f)
{
	struct virtq_used_elem e;

	if (f->seen == vqd_used_idx(&f->vq))
		return -1;
	e = vqd_used_elem(&f->vq, f->seen++);
	assert_int_equal(e.id % 3, 0);
	assert_int_equal(f->mem[STATUS + e.id / 3], VIRTIO_BLK_S_OK);
	return (int)(e.id / 3);
}

#define SECS 7 /* the first second spends the full bucket; 6 measured */

/* Keeps NCHAIN requests of `len` bytes queued for SECS simulated seconds,
 * resubmitting each as it completes, and counts completions per second. */
static void run(struct fx *f, uint32_t type, uint32_t len, uint64_t bytes[SECS],
		uint64_t reqs[SECS])
{
	uint64_t start = fake_ns;
	int k;

	memset(bytes, 0, SECS * sizeof(bytes[0]));
	memset(reqs, 0, SECS * sizeof(reqs[0]));
	for (uint16_t i = 0; i < NCHAIN; i++)
		offer(f, i, type, len);
	kick(f);
	for (;;) {
		bool any = false;

		while ((k = next_done(f)) >= 0) {
			uint64_t sec = (fake_ns - start) / NS;

			if (sec < SECS) {
				bytes[sec] += len;
				reqs[sec]++;
			}
			offer(f, (uint16_t)k, type, len);
			any = true;
		}
		if (any) {
			kick(f);
			continue;
		}
		if (fake_ns - start >= SECS * NS)
			break;
		advance(f);
	}
}

/* Every measured second, and their mean, within 15% of `limit`. */
static void check_rate(const char *what, const uint64_t per_sec[SECS], double limit)
{
	double sum = 0;

	for (int s = 1; s < SECS; s++) {
		double ratio = (double)per_sec[s] / limit;

		printf("# %s second %d: %llu (ratio %.3f)\n", what, s,
		       (unsigned long long)per_sec[s], ratio);
		assert_true(ratio > 0.85 && ratio < 1.15);
		sum += (double)per_sec[s];
	}
	printf("# %s mean over %d s: ratio %.4f\n", what, SECS - 1, sum / (SECS - 1) / limit);
	assert_true(sum / (SECS - 1) / limit > 0.85 && sum / (SECS - 1) / limit < 1.15);
}

static void test_bps_rate(void **s)
{
	struct fx f;
	uint64_t bytes[SECS], reqs[SECS];

	(void)s;
	/* Not a multiple of the request size: seconds hold 24 or 25. */
	fx_open(&f, 100000, 0, 0);
	run(&f, VIRTIO_BLK_T_IN, 4096, bytes, reqs);
	check_rate("bps=100000 reads of 4 KiB", bytes, 100000);
	fx_close(&f);
	fx_open(&f, 1 << 20, 0, 0);
	run(&f, VIRTIO_BLK_T_OUT, 65536, bytes, reqs);
	check_rate("bps=1MiB writes of 64 KiB", bytes, 1 << 20);
	fx_close(&f);
}

static void test_iops_rate(void **s)
{
	struct fx f;
	uint64_t bytes[SECS], reqs[SECS];

	(void)s;
	fx_open(&f, 0, 37, 0);
	run(&f, VIRTIO_BLK_T_IN, 512, bytes, reqs);
	check_rate("iops=37 reads of 512 B", reqs, 37);
	fx_close(&f);
	/* Both limits: the tighter one (iops here) sets the pace. */
	fx_open(&f, 1 << 20, 50, 0);
	run(&f, VIRTIO_BLK_T_IN, 4096, bytes, reqs);
	check_rate("iops=50 under bps=1MiB", reqs, 50);
	fx_close(&f);
	/* GET_ID costs an operation and no bytes. */
	fx_open(&f, 4096, 20, 0);
	run(&f, VIRTIO_BLK_T_GET_ID, 20, bytes, reqs);
	check_rate("iops=20 GET_ID", reqs, 20);
	fx_close(&f);
}

/* The one-time burst comes on top of the first full bucket, once. */
static void test_burst(void **s)
{
	struct fx f;
	int n = 0, k;

	(void)s;
	fx_open(&f, 65536, 0, 131072);
	for (uint16_t i = 0; i < NCHAIN; i++)
		offer(&f, i, VIRTIO_BLK_T_IN, 4096);
	kick(&f);
	for (bool any = true; any;) {
		any = false;
		while ((k = next_done(&f)) >= 0) {
			offer(&f, (uint16_t)k, VIRTIO_BLK_T_IN, 4096);
			n++;
			any = true;
		}
		kick(&f);
	}
	assert_int_equal(n, (65536 + 131072) / 4096);
	advance(&f);			 /* then 4 KiB per 1/16 s */
	assert_true(next_done(&f) >= 0); /* which chain: the backend's order */
	assert_int_equal(next_done(&f), -1);
	fx_close(&f);
}

/* A parked request blocks those behind it, even free ones (FLUSH and
 * GET_ID cost no bytes): requests start in the guest's order. */
static void test_order_kept(void **s)
{
	struct fx f;
	struct device_stats st = {0};
	struct device *d;
	unsigned done;

	(void)s;
	fx_open(&f, 8192, 0, 0);
	offer(&f, 0, VIRTIO_BLK_T_IN, 8192); /* empties the bucket */
	offer(&f, 1, VIRTIO_BLK_T_IN, 4096); /* parked */
	offer(&f, 2, VIRTIO_BLK_T_FLUSH, 0);
	offer(&f, 3, VIRTIO_BLK_T_GET_ID, 20);
	kick(&f);
	assert_int_equal(next_done(&f), 0);
	assert_int_equal(next_done(&f), -1);
	assert_int_equal(virtio_blk_inflight(f.b), 0);
	assert_int_equal(f.t->queues[0].inflight, 1); /* the parked chain */
	kick(&f); /* a kick changes nothing before the tokens are there */
	assert_int_equal(next_done(&f), -1);
	assert_int_equal(virtio_blk_limit_wait_ns(f.b), NS / 2);
	advance(&f);
	/* All three go now (GET_ID completes inline, before the I/O). */
	done = 0;
	for (int k; (k = next_done(&f)) >= 0;)
		done |= 1u << k;
	assert_int_equal(done, 0xe);
	assert_int_equal(f.mem[DATA + REQ_MAX], (uint8_t)(8 * 512 * 7 + 1));
	d = virtio_blk_device(f.b);
	d->ops->stats(d, &st);
	assert_string_equal(st.v[st.nr - 1].key, "throttled");
	assert_int_equal(st.v[st.nr - 1].value, 1);
	fx_close(&f);
}

/* Pause gives the parked request back to the ring: nothing in flight, the
 * save succeeds, and a device restored from it (limiter state included:
 * still no tokens) takes the request again once they come. */
static void test_pause_parked(void **s)
{
	struct fx f;
	struct state_buf buf;
	char err[200] = "";

	(void)s;
	fx_open(&f, 8192, 0, 0);
	offer(&f, 0, VIRTIO_BLK_T_IN, 8192);
	offer(&f, 1, VIRTIO_BLK_T_IN, 4096);
	kick(&f);
	assert_int_equal(next_done(&f), 0);
	assert_int_equal(f.t->queues[0].vq.last_avail_idx, 2);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_blk_device(f.b), &buf), 0); /* pauses */
	assert_int_equal(f.t->queues[0].vq.last_avail_idx, 1);
	assert_int_equal(virtio_dev_inflight(f.t), 0);
	assert_int_equal(virtio_blk_limit_wait_ns(f.b), 0); /* timer stopped */
	virtio_blk_free(f.b);				    /* the image is locked while open */

	fake_ns += NS / 4; /* half the tokens needed */
	assert_int_equal(new_dev(&f, 8192, 0, 0), 0);
	assert_int_equal(
	    device_restore_one(virtio_blk_device(f.b), buf.data, buf.len, err, sizeof(err)), 0);
	vst_resume(virtio_blk_device(f.b)); /* re-kicks: parked again */
	assert_int_equal(next_done(&f), -1);
	assert_int_equal(f.t->queues[0].vq.last_avail_idx, 2);
	assert_int_equal(virtio_blk_limit_wait_ns(f.b), NS / 2); /* restore counts from now */
	advance(&f);
	assert_int_equal(next_done(&f), 1);
	assert_int_equal(f.mem[DATA + REQ_MAX], (uint8_t)(8 * 512 * 7 + 1));
	state_buf_free(&buf);
	fx_close(&f);
}

/* A reset waits for the parked request like for any in flight; the timer
 * drops it without writing anything, and the reset completes. */
static void test_reset_parked(void **s)
{
	struct fx f;

	(void)s;
	fx_open(&f, 8192, 0, 0);
	offer(&f, 0, VIRTIO_BLK_T_IN, 8192);
	offer(&f, 1, VIRTIO_BLK_T_IN, 4096);
	kick(&f);
	assert_int_equal(next_done(&f), 0);
	vqd_wr(f.t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vqd_rd(f.t, VIRTIO_MMIO_STATUS), 0xf); /* not yet */
	advance(&f);
	assert_int_equal(vqd_rd(f.t, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vqd_used_idx(&f.vq), 1);
	assert_int_equal(f.mem[STATUS + 1], 0xee);
	fx_close(&f);
}

/* The limits are the device's configuration: a section saved under others
 * is refused; a burst needs a bytes bucket. */
static void test_config_checks(void **s)
{
	struct fx f;
	struct state_buf buf;
	struct virtio_blk *a;
	char err[200] = "";

	(void)s;
	fx_open(&f, 8192, 10, 0);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_blk_device(f.b), &buf), 0);
	virtio_blk_free(f.b);
	assert_int_equal(new_dev(&f, 8192, 20, 0), 0);
	assert_int_equal(
	    device_restore_one(virtio_blk_device(f.b), buf.data, buf.len, err, sizeof(err)),
	    -EINVAL);
	assert_non_null(strstr(err, "rate limit"));
	a = f.b;
	assert_int_equal(new_dev(&f, 0, 10, 4096), -EINVAL);
	f.b = a;
	state_buf_free(&buf);
	fx_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bps_rate),	  cmocka_unit_test(test_iops_rate),
	    cmocka_unit_test(test_burst),	  cmocka_unit_test(test_order_kept),
	    cmocka_unit_test(test_pause_parked),  cmocka_unit_test(test_reset_parked),
	    cmocka_unit_test(test_config_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
