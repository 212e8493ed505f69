/* libFuzzer target for the virtio devices' restore (core_state.c and each
 * device's own fields): hostile section bytes into virtio-blk, virtio-rng,
 * virtio-console, virtio-vsock or virtio-net (data[0] % 5 picks the device), then, when the section was
 * accepted, the restored device is resumed and driven with a few kicks,
 * register writes and host input on guest memory that also comes from the
 * input. data[0] & 4 overlays the input on a valid saved section instead of
 * using it raw, which reaches the checks behind the first field. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/disk_raw.h"
#include "log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"
#include "virtio_state.h"
#include "virtq_driver.h"

#define MEM_SIZE 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool sink(void *ctx, const uint8_t *buf, size_t n)
{
	uint8_t sum = 0;

	(void)ctx;
	for (size_t i = 0; i < n; i++)
		sum += buf[i]; /* ASan sees a bad buffer */
	return (n + sum) & 1;
}

static uint8_t *mem;
static struct guest_mem gm;
static struct virtio_blk *blk;
static struct virtio_rng *rng;
static struct virtio_console *con;
static struct virtio_vsock *vsock;
static struct virtio_net *net;
static int net_peer = -1; /* the "tap" side of virtio-net's socketpair */
static struct evloop loop;
static struct device *devs[5];
static struct state_buf good[5]; /* a valid section per device */

static void make_good(int i)
{
	struct virtio_dev *vd = virtio_dev_from_device(devs[i]);
	struct vqd q[3] = {{mem, 16, 0x1000, 0x2000, 0x3000},
			   {mem, 8, 0x4000, 0x5000, 0x6000},
			   {mem, 8, 0x7000, 0x7400, 0x7800}};

	vqd_wr(vd, VIRTIO_MMIO_STATUS, 0);
	vqd_bring_up(vd, VQD_VERSION_1 | VIRTIO_BIT(VIRTIO_F_EVENT_IDX), q, vd->nr_queues);
	state_buf_init(&good[i]);
	if (vst_save(devs[i], &good[i]) < 0)
		abort();
	vst_resume(devs[i]);
}

static void init(void)
{
	struct virtio_blk_opts o = {.serial = "fuzz"};
	struct virtio_console_host h = {sink, NULL, NULL};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct virtio_net_opts no = {.mac = mac, .mtu = 1500, .rx_bps = 8192, .tx_bps = 8192};
	char path[64], vpath[64];
	int fd = memfd_create("kite-fuzz-disk", 0), sv[2];

	log_set_level(LOG_ERROR);
	mem = aligned_alloc(4096, MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	o.path = path;
	if (virtio_blk_new(&blk, &gm, NULL, &o, "blk0") < 0 ||
	    virtio_rng_new(&rng, &gm, NULL, 0, "rng0") < 0 ||
	    virtio_console_new(&con, &gm, &h, "console0") < 0)
		abort();
	snprintf(vpath, sizeof(vpath), "/tmp/kite-fuzz-restore-vsock.%d", (int)getpid());
	unlink(vpath);
	if (ev_init(&loop) < 0 || virtio_vsock_new(&vsock, &gm, &loop, 3, vpath, "vsock0") < 0)
		abort();
	devs[0] = virtio_blk_device(blk);
	devs[1] = virtio_rng_device(rng);
	devs[2] = virtio_console_device(con);
	devs[3] = virtio_vsock_device(vsock);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	no.fd = sv[0];
	net_peer = sv[1];
	if (virtio_net_new(&net, &gm, NULL, &no, "net0") < 0)
		abort();
	devs[4] = virtio_net_device(net);
	for (int i = 0; i < 5; i++)
		make_good(i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_dev *vd;
	struct device *d;
	uint8_t *frame;
	size_t len, p;
	char err[200];
	int which;

	if (!mem)
		init();
	if (size < 2)
		return 0;
	which = data[0] % 5;
	d = devs[which];
	vd = virtio_dev_from_device(d);
	p = vst_payload(good[which].data);
	if (data[0] & 4) {
		/* The fuzz bytes XORed over a valid payload. */
		len = good[which].len;
		frame = malloc(len);
		memcpy(frame, good[which].data, len);
		for (size_t i = 1; i < size && p + i - 1 < len; i++)
			frame[p + i - 1] ^= data[i];
	} else {
		/* The fuzz bytes as the whole payload. */
		len = p + size - 1;
		frame = malloc(len);
		memcpy(frame, good[which].data, p);
		memcpy(frame + p, data + 1, size - 1);
		vst_put(frame + p - 4, 4, size - 1);
	}
	/* Guest memory: the rings the good section names, then the input. */
	memset(mem, 0, MEM_SIZE);
	memcpy(mem + 0x8000, data, size < MEM_SIZE - 0x8000 ? size : MEM_SIZE - 0x8000);
	if (device_restore_one(d, frame, len, err, sizeof(err)) == 0) {
		vst_resume(d);
		for (uint32_t q = 0; q < vd->nr_queues; q++)
			vqd_wr(vd, VIRTIO_MMIO_QUEUE_NOTIFY, q);
		if (which == 2) {
			virtio_console_receive(con, data, size < 16 ? size : 16);
			virtio_console_tx_space(con);
		}
		if (which == 4) {
			static uint8_t sink_buf[70000];
			uint8_t f[80] = {0};

			(void)send(net_peer, f, sizeof(f), MSG_DONTWAIT);
			virtio_net_tap_ready(net);
			while (recv(net_peer, sink_buf, sizeof(sink_buf), MSG_DONTWAIT) >= 0) {
			}
		}
		vqd_wr(vd, VIRTIO_MMIO_INTERRUPT_ACK, 3);
		if (which == 0)
			virtio_blk_drain(blk);
	} else {
		/* Refused: the device must still be usable. */
		d->paused = false;
		d->ops->resume(d);
	}
	/* Back to a clean device for the next input. */
	vqd_wr(vd, VIRTIO_MMIO_STATUS, 0);
	if (which == 0)
		virtio_blk_drain(blk);
	if (vqd_rd(vd, VIRTIO_MMIO_STATUS) != 0)
		abort(); /* a reset that never completes */
	free(frame);
	return 0;
}
