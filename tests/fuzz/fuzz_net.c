/* libFuzzer target for src/virtio/net*.c: fuzz-provided guest memory holds
 * both queues' descriptor tables, avail rings and buffers; a virtio-net
 * device over a datagram socketpair (standing in for the tap) gets frames
 * from the "host" whose vnet headers and lengths come from the input too,
 * with fuzz-chosen features, optional rate limits on a fake clock, and a
 * reset or a second round of kicks. The device must never write outside
 * guest RAM, crash, or send the host a frame the features do not allow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "virtio/net.h"
#include "virtq_driver.h"

#define MEM_SIZE 262144u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fake_ns = 1000000000ull;

static uint64_t fake_now(void)
{
	return fake_ns;
}

static int no_offload(int fd, unsigned off)
{
	(void)fd;
	(void)off;
	return 0;
}

/* Up to 4 frames for the device to read: a length byte pair and a header
 * from the input's tail, the rest of the frame from wherever. */
static void host_frames(int peer, const uint8_t *d, size_t n)
{
	static uint8_t f[70000];

	for (int i = 0; i < 4 && n >= 14; i++, d += 14, n -= 14) {
		uint32_t len = (uint32_t)(d[0] | d[1] << 8) * 2u;

		if (len > sizeof(f))
			len = sizeof(f);
		memset(f, 0x5a, len);
		memcpy(f, d + 2, len < 12 ? len : 12);
		if (send(peer, f, len, MSG_DONTWAIT) < 0)
			break;
	}
}

static void drain(int peer, uint64_t features)
{
	static uint8_t f[70000];
	ssize_t got;

	while ((got = recv(peer, f, sizeof(f), MSG_DONTWAIT)) >= 0) {
		struct virtio_net_hdr h;

		memcpy(&h, f, sizeof(h));
		/* Whatever the guest wrote, only allowed frames leave. */
		if (got < VIRTIO_NET_HDR_LEN ||
		    virtio_net_hdr_tx_check(&h, (uint32_t)got - VIRTIO_NET_HDR_LEN, features,
					    1500) < 0)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct guest_mem gm;
	struct virtio_net_opts o = {.set_offload = no_offload, .now = fake_now};
	struct virtio_net *n;
	struct virtio_dev *t;
	struct vqd q[2];
	uint64_t features;
	uint8_t flags, *mem;
	int sv[2];

	if (size < 5)
		return 0;
	flags = data[0];
	/* Device feature bits 0..23 from the input, the transport's by flags. */
	features = VQD_VERSION_1 | (uint64_t)(data[1] | data[2] << 8 | data[3] << 16) |
		   (uint64_t)(flags & 3) << 28;
	mem = vqd_fuzz_ram(&gm, MEM_SIZE, data + 4, size - 4);
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	o.fd = sv[0];
	if (flags & 4) {
		o.rx_bps = 4096;
		o.tx_bps = 2048;
	}
	if (virtio_net_new(&n, &gm, NULL, &o, "fuzz-net") < 0)
		abort();
	t = virtio_net_vdev(n);
	q[0] = (struct vqd){mem, 16, 0x0, 0x1000, 0x2000};
	q[1] = (struct vqd){mem, 16u << ((flags >> 3) & 1), 0x4000, 0x5000, 0x6000};
	vqd_bring_up(t, features, q, 2);
	host_frames(sv[1], data + (size > 60 ? size - 56 : size), size > 60 ? 56 : 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	virtio_net_tap_ready(n);
	if (flags & 0x10)
		vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
	if (flags & 0x20) {
		vqd_avail(&q[0])[1] += (uint16_t)(flags >> 6);
		vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	if (flags & 4) {
		fake_ns += 500000000ull;
		virtio_net_limit_fire(n, VIRTIO_NET_RXQ);
		virtio_net_limit_fire(n, VIRTIO_NET_TXQ);
	}
	drain(sv[1], t->negotiated);
	virtio_net_free(n);
	close(sv[1]);
	return 0;
}
