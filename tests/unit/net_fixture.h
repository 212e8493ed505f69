/* The test bench of the virtio-net unit tests (test_net.c,
 * test_net_limit.c): guest memory with the host-side virtqueue driver, a
 * datagram socketpair as the tap (one datagram = one frame with its vnet
 * header), a recorder in place of TUNSETOFFLOAD and a fake clock. */
#ifndef TEST_NET_FIXTURE_H
#define TEST_NET_FIXTURE_H

#include "backends/tap.h"
#include "virtio/net.h"
#include "virtq_driver.h"
#include "virtio_state.h"

#define MEM_SIZE (2u << 20)
#define QSIZE 32u
#define BUF 0x10000u /* RX buffers: BUF + 4096 * i */
#define TXBUF 0x100000u
#define F(b) VIRTIO_BIT(b)
#define BASE (VQD_VERSION_1 | F(VIRTIO_F_EVENT_IDX))
#define HDR VIRTIO_NET_HDR_LEN

static uint8_t *mem;
static struct guest_mem gm;
static struct vqd q[2];
static int peer = -1;
static unsigned offload_calls, last_offload;
static uint64_t fake_ns = 1000000000ull;

static inline int record_offload(int fd, unsigned off)
{
	(void)fd;
	offload_calls++;
	last_offload = off;
	return 0;
}

static inline uint64_t fake_now(void)
{
	return fake_ns;
}

static inline int setup(void **s)
{
	(void)s;
	mem = aligned_alloc(4096, MEM_SIZE);
	memset(mem, 0, MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	q[0] = (struct vqd){mem, QSIZE, 0x1000, 0x2000, 0x3000};
	q[1] = (struct vqd){mem, QSIZE, 0x4000, 0x5000, 0x6000};
	offload_calls = last_offload = 0;
	return 0;
}

static inline int teardown(void **s)
{
	(void)s;
	free(mem);
	if (peer >= 0)
		close(peer);
	peer = -1;
	return 0;
}

/* A device on a fresh socketpair; rx_rl/tx_rl (may be NULL) as opts. */
static inline struct virtio_net *make_rl(const uint8_t *mac, uint32_t mtu, uint64_t rx_bps,
					 uint64_t tx_bps, const struct rate_limiter_config *rx_rl,
					 const struct rate_limiter_config *tx_rl, const char *name)
{
	struct virtio_net_opts o = {.set_offload = record_offload,
				    .mac = mac,
				    .mtu = mtu,
				    .rx_bps = rx_bps,
				    .tx_bps = tx_bps,
				    .rx_rl = rx_rl,
				    .tx_rl = tx_rl,
				    .now = fake_now};
	struct virtio_net *n;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	o.fd = sv[0];
	if (peer >= 0)
		close(peer);
	peer = sv[1];
	assert_int_equal(virtio_net_new(&n, &gm, NULL, &o, name), 0);
	return n;
}

static inline struct virtio_net *make(const uint8_t *mac, uint32_t mtu, uint64_t rx_bps,
				      uint64_t tx_bps, const char *name)
{
	return make_rl(mac, mtu, rx_bps, tx_bps, NULL, NULL, name);
}

static inline struct virtio_dev *up(struct virtio_net *n, uint64_t f)
{
	struct virtio_dev *t = virtio_net_vdev(n);

	memset(mem, 0, 0x7000);
	assert_int_equal(vqd_bring_up(t, f, q, 2), 0xf);
	return t;
}

/* A frame of len bytes (without header) from the "host": byte i is
 * (seed + i), the header as given. */
static inline void host_send(const struct virtio_net_hdr *h, uint32_t len, uint8_t seed)
{
	static uint8_t f[HDR + 70000];
	struct virtio_net_hdr zero = {0};

	memcpy(f, h ? h : &zero, HDR);
	for (uint32_t i = 0; i < len; i++)
		f[HDR + i] = (uint8_t)(seed + i);
	assert_int_equal(send(peer, f, HDR + len, 0), (ssize_t)(HDR + len));
}

static inline void post_rx(uint16_t i, uint32_t len)
{
	vqd_set_desc(&q[0], i, BUF + 4096u * i, len, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&q[0], i);
}

static inline uint64_t stat(struct virtio_net *n, const char *key)
{
	struct device_stats st = {0};
	struct device *d = virtio_net_device(n);

	d->ops->stats(d, &st);
	for (int i = 0; i < st.nr; i++)
		if (!strcmp(st.v[i].key, key))
			return st.v[i].value;
	fail_msg("no stat %s", key);
	return 0;
}

/* A frame in one chain: header and data in separate buffers. */
static inline void tx_frame(uint16_t d, uint32_t len, uint8_t flags)
{
	struct virtio_net_hdr h = {.flags = flags};

	memcpy(mem + TXBUF + 0x20000u * d, &h, HDR);
	memset(mem + TXBUF + 0x20000u * d + 0x100, 0xa0 + d, len);
	vqd_set_desc(&q[1], 2 * d, TXBUF + 0x20000u * d, HDR, VIRTQ_DESC_F_NEXT, 2 * d + 1);
	vqd_set_desc(&q[1], 2 * d + 1, TXBUF + 0x20000u * d + 0x100, len, 0, 0);
	vqd_offer(&q[1], 2 * d);
}

#endif
