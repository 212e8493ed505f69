/* Save/restore helpers for virtio device tests (header-only, cmocka-free so
 * that fuzzers may use them too; functions return what they found and the
 * tests assert).
 *
 *   vst_pause(d), vst_resume(d)   what the device list does for one device
 *   vst_save(d, buf)              pauses d and appends its framed section
 *   vst_payload(frame)            offset of the payload in a framed section
 *   vst_bad_sections(...)         restores every truncation, an oversized
 *                                 section and each out-of-range core field
 *                                 of a good section into `victim` (a fresh
 *                                 device); returns the number of those that
 *                                 were accepted, changed the victim or gave
 *                                 no message (0 is a pass).
 *
 * Core payload layout (core_state.c), offsets from the payload start. */
#ifndef KITE_TESTS_VIRTIO_STATE_H
#define KITE_TESTS_VIRTIO_STATE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "state.h"
#include "virtio/core.h"

#define VST_OFFERED 0
#define VST_DRIVER_FEATURES 8
#define VST_NEGOTIATED 16
#define VST_STATUS 24
#define VST_INT_STATUS 28
#define VST_CONFIG_GEN 32
#define VST_NR_QUEUES 48
#define VST_Q0 52
#define VST_Q_SIZE 37 /* bytes per queue */
#define VST_Q_NUM 0
#define VST_Q_DESC 4
#define VST_Q_DRIVER 12
#define VST_Q_DEVICE 20
#define VST_Q_READY 28
#define VST_Q_LAST_AVAIL 29
#define VST_Q_USED 31
#define VST_Q_BROKEN 35
#define VST_Q_NOTIFY_OFF 36

static inline int vst_pause(struct device *d)
{
	int rc = d->ops->pause(d);

	if (!rc)
		d->paused = true;
	return rc;
}

static inline void vst_resume(struct device *d)
{
	d->paused = false;
	d->ops->resume(d);
}

static inline int vst_save(struct device *d, struct state_buf *b)
{
	int rc = vst_pause(d);

	return rc ? rc : device_save_one(d, b);
}

static inline size_t vst_payload(const uint8_t *frame)
{
	return 1u + frame[0] + 8u;
}

static inline uint64_t vst_get(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;

	memcpy(&v, p, width);
	return v;
}

static inline void vst_put(uint8_t *p, unsigned width, uint64_t v)
{
	memcpy(p, &v, width);
}

/* Restores data into victim, expecting a refusal that leaves it as new. */
static inline int vst_refused(struct device *victim, const uint8_t *data, size_t len,
			      const char *what)
{
	struct virtio_dev *vd = virtio_dev_from_device(victim);
	char err[200] = "";
	int rc = device_restore_one(victim, data, len, err, sizeof(err));
	int bad = 0;

	if (rc == 0 || !err[0])
		bad = 1;
	if (vd->status || vd->negotiated || vd->config_gen || vd->int_status ||
	    vd->queues[0].vq.ready)
		bad = 1;
	if (bad)
		fprintf(stderr, "vst: %s: rc %d, err \"%s\", status 0x%x\n", what, rc, err,
			vd->status);
	return bad;
}

struct vst_case {
	const char *what;
	uint32_t off; /* into the payload; queue fields at VST_Q0 + field */
	unsigned width;
	uint64_t value;
};

#define VST_AHEAD UINT64_MAX /* last_avail = used + queue size + 1 */

static inline int vst_bad_sections(struct device *victim, const uint8_t *frame, size_t len,
				   uint64_t mem_size)
{
	const struct vst_case cases[] = {
		{"offered features", VST_OFFERED, 8, 0},
		{"unoffered negotiated feature", VST_NEGOTIATED, 8, 1ull << 40 | 1ull << 32},
		{"negotiated without VERSION_1", VST_NEGOTIATED, 8, 0},
		{"status not reachable", VST_STATUS, 4, 0x7},
		{"status unknown bit", VST_STATUS, 4, 0x10f},
		{"NEEDS_RESET before FEATURES_OK", VST_STATUS, 4, 0x43},
		{"status 0 with a ready queue", VST_STATUS, 4, 0},
		{"interrupt status", VST_INT_STATUS, 4, 4},
		{"queue count", VST_NR_QUEUES, 4, 9},
		{"queue size 0", VST_Q0 + VST_Q_NUM, 4, 0},
		{"queue size not a power of two", VST_Q0 + VST_Q_NUM, 4, 24},
		{"queue size above the maximum", VST_Q0 + VST_Q_NUM, 4, 65536},
		{"descriptor table misaligned", VST_Q0 + VST_Q_DESC, 8, 0x1008},
		{"descriptor table outside RAM", VST_Q0 + VST_Q_DESC, 8, 1ull << 40},
		{"avail ring misaligned", VST_Q0 + VST_Q_DRIVER, 8, 0x2001},
		{"used ring past the end of RAM", VST_Q0 + VST_Q_DEVICE, 8, mem_size - 8},
		{"used ring address wraps", VST_Q0 + VST_Q_DEVICE, 8, UINT64_MAX - 3},
		{"ready 2", VST_Q0 + VST_Q_READY, 1, 2},
		{"last_avail more than a queue ahead", VST_Q0 + VST_Q_LAST_AVAIL, 2, VST_AHEAD},
		{"broken 2", VST_Q0 + VST_Q_BROKEN, 1, 2},
		{"notify_off 2", VST_Q0 + VST_Q_NOTIFY_OFF, 1, 2},
	};
	size_t p = vst_payload(frame), plen = len - p;
	uint8_t *buf = malloc(len + 1);
	int bad = 0;

	/* Every truncation, with the frame's length telling the truth... */
	for (size_t n = 0; n < plen; n++) {
		memcpy(buf, frame, p + n);
		vst_put(buf + p - 4, 4, n);
		bad += vst_refused(victim, buf, p + n, "truncated");
		/* ...and with the frame claiming the full length. */
		memcpy(buf, frame, p + n);
		bad += vst_refused(victim, buf, p + n, "truncated frame");
	}
	/* One byte too many. */
	memcpy(buf, frame, len);
	buf[len] = 0;
	vst_put(buf + p - 4, 4, plen + 1);
	bad += vst_refused(victim, buf, len + 1, "oversized");
	/* A version from the future. */
	memcpy(buf, frame, len);
	vst_put(buf + p - 8, 4, 2);
	bad += vst_refused(victim, buf, len, "version 2");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = cases[i].value;

		memcpy(buf, frame, len);
		if (v == VST_AHEAD)
			v = vst_get(frame + p + VST_Q0 + VST_Q_USED, 2) +
			    vst_get(frame + p + VST_Q0 + VST_Q_NUM, 4) + 1;
		vst_put(buf + p + cases[i].off, cases[i].width, v);
		bad += vst_refused(victim, buf, len, cases[i].what);
	}
	free(buf);
	return bad;
}

#endif
