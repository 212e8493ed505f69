/* Unit tests for src/virtio/net*.c against the host-side virtqueue driver,
 * with a datagram socketpair as the tap (one datagram = one frame with its
 * vnet header, as a tap with IFF_VNET_HDR reads and writes them) and a
 * recorder in place of TUNSETOFFLOAD. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net_fixture.h"

static void test_config_features(void **s)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 7};
	struct virtio_net *n = make(mac, 9000, 0, 0, "net0");
	struct virtio_dev *t = virtio_net_vdev(n);
	uint64_t want = F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MTU) |
			F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_GUEST_TSO4) |
			F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_HOST_TSO4) |
			F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_MRG_RXBUF) |
			F(VIRTIO_NET_F_STATUS) | F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_INDIRECT_DESC) |
			F(VIRTIO_F_VERSION_1);
	uint64_t offered;

	(void)s;
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_DEVICE_ID), 1);
	vqd_wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	offered = vqd_rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
	vqd_wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	offered |= (uint64_t)vqd_rd(t, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	assert_int_equal(offered, want);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG), 0x00000002);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG + 4), 0x00010700); /* mac 4-5, status */
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_CONFIG + 8), 9000u << 16 | 1);
	virtio_net_free(n);
	/* Neither MAC nor MTU given: neither offered. */
	n = make(NULL, 0, 0, 0, NULL);
	t = virtio_net_vdev(n);
	vqd_wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_DEVICE_FEATURES) &
			     (F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MTU)),
			 0);
	virtio_net_free(n);
}

static void test_tx(void **s)
{
	struct virtio_net *n = make(NULL, 0, 0, 0, NULL);
	struct virtio_dev *t = up(n, BASE);
	uint8_t got[2000];

	(void)s;
	tx_frame(0, 60, 0);
	tx_frame(1, 1519, 0);			       /* over mtu + 18 without HOST_TSO */
	tx_frame(2, 10, 0);			       /* shorter than an Ethernet header */
	tx_frame(3, 100, VIRTIO_NET_HDR_F_NEEDS_CSUM); /* CSUM not negotiated */
	tx_frame(4, 1518, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(vqd_used_idx(&q[1]), 5);
	assert_int_equal(recv(peer, got, sizeof(got), 0), HDR + 60);
	assert_int_equal(got[HDR], 0xa0);
	assert_int_equal(recv(peer, got, sizeof(got), 0), HDR + 1518);
	assert_int_equal(got[HDR + 1517], 0xa4);
	assert_int_equal(recv(peer, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(stat(n, "tx_packets"), 2);
	assert_int_equal(stat(n, "tx_bytes"), 60 + 1518);
	assert_int_equal(stat(n, "tx_dropped"), 3);
	/* A write error (the peer is gone) is counted; the device goes on. */
	close(peer);
	peer = -1;
	tx_frame(5, 60, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(vqd_used_idx(&q[1]), 6);
	assert_int_equal(stat(n, "tx_errors"), 1);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_STATUS), 0xf);
	virtio_net_free(n);
}

static void test_tx_writable_buffer_dropped(void **s)
{
	struct virtio_net *n = make(NULL, 0, 0, 0, NULL);
	struct virtio_dev *t = up(n, BASE);

	(void)s;
	vqd_set_desc(&q[1], 0, TXBUF, 100, VIRTQ_DESC_F_NEXT, 1);
	vqd_set_desc(&q[1], 1, TXBUF + 0x1000, 100, VIRTQ_DESC_F_WRITE, 0);
	vqd_offer(&q[1], 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(vqd_used_idx(&q[1]), 1);
	assert_int_equal(stat(n, "tx_dropped"), 1);
	virtio_net_free(n);
}

static uint16_t num_buffers(uint32_t desc)
{
	uint16_t v;

	memcpy(&v, mem + BUF + 4096u * desc + 10, 2);
	return v;
}

static void test_rx_single(void **s)
{
	struct virtio_net *n = make(NULL, 0, 0, 0, NULL);
	struct virtio_dev *t = up(n, BASE);

	(void)s;
	post_rx(0, 1530);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	host_send(NULL, 1514, 7);
	virtio_net_tap_ready(n);
	assert_int_equal(vqd_used_idx(&q[0]), 1);
	assert_int_equal(vqd_used_len(&q[0], 0), HDR + 1514);
	assert_int_equal(num_buffers(0), 1);
	assert_int_equal(mem[BUF + HDR], 7);
	assert_int_equal(mem[BUF + HDR + 1513], (uint8_t)(7 + 1513));
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_INTERRUPT_STATUS) & 1, 1);
	/* A buffer too small for a full frame without MRG_RXBUF is returned
	 * unused; the frame waits in the tap. */
	post_rx(1, 1000);
	host_send(NULL, 100, 1);
	virtio_net_tap_ready(n);
	assert_int_equal(vqd_used_idx(&q[0]), 2);
	assert_int_equal(vqd_used_len(&q[0], 1), 0);
	assert_int_equal(stat(n, "rx_packets"), 1);
	assert_int_equal(stat(n, "rx_no_buffer"), 1);
	post_rx(2, 1530);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&q[0]), 3);
	assert_int_equal(vqd_used_len(&q[0], 2), HDR + 100);
	virtio_net_free(n);
}

/* GUEST_TSO4 makes a full frame 64 KiB: 17 buffers of 4 KiB. A 9000-byte
 * frame spans three of them with num_buffers 3, the rest go back to the
 * ring and the next frame starts at the fourth. */
static void test_rx_mergeable(void **s)
{
	uint64_t f = BASE | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) |
		     F(VIRTIO_NET_F_GUEST_TSO4);
	struct virtio_net *n = make(NULL, 0, 0, 0, NULL);
	struct virtio_dev *t = up(n, f);

	(void)s;
	for (uint16_t i = 0; i < 16; i++)
		post_rx(i, 4096);
	host_send(NULL, 9000, 3);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* 16 buffers are one short of a full frame: nothing read. */
	assert_int_equal(vqd_used_idx(&q[0]), 0);
	assert_int_equal(stat(n, "rx_no_buffer"), 1);
	for (uint16_t i = 16; i < 20; i++)
		post_rx(i, 4096);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&q[0]), 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(vqd_used_elem(&q[0], i).id, i);
	assert_int_equal(vqd_used_len(&q[0], 0), 4096);
	assert_int_equal(vqd_used_len(&q[0], 1), 4096);
	assert_int_equal(vqd_used_len(&q[0], 2), HDR + 9000 - 8192);
	assert_int_equal(num_buffers(0), 3);
	assert_int_equal(mem[BUF + 4096 + 100], (uint8_t)(3 + 4096 - HDR + 100));
	assert_int_equal(mem[BUF + 2 * 4096 + 100], (uint8_t)(3 + 2 * 4096 - HDR + 100));
	host_send(NULL, 60, 9);
	virtio_net_tap_ready(n);
	assert_int_equal(vqd_used_idx(&q[0]), 4);
	assert_int_equal(vqd_used_elem(&q[0], 3).id, 3);
	assert_int_equal(num_buffers(3), 1);
	assert_int_equal(stat(n, "rx_bytes"), 9060);
	virtio_net_free(n);
}

/* Frames the driver did not accept (GSO without GUEST_TSO4, a partial
 * checksum without GUEST_CSUM) are dropped; the buffers take the next. */
static void test_rx_unaccepted_offload(void **s)
{
	struct virtio_net_hdr gso = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
				     .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				     .gso_size = 1448};
	struct virtio_net_hdr csum = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM};
	struct virtio_net_hdr valid = {.flags = VIRTIO_NET_HDR_F_DATA_VALID};
	struct virtio_net *n = make(NULL, 0, 0, 0, NULL);
	struct virtio_dev *t = up(n, BASE);
	struct virtio_net_hdr got;

	(void)s;
	post_rx(0, 1530);
	host_send(&gso, 200, 0);
	host_send(&csum, 200, 0);
	host_send(&valid, 200, 5);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&q[0]), 1);
	assert_int_equal(stat(n, "rx_dropped"), 2);
	memcpy(&got, mem + BUF, HDR);
	assert_int_equal(got.flags, 0); /* DATA_VALID needs GUEST_CSUM */
	assert_int_equal(mem[BUF + HDR], 5);
	virtio_net_free(n);
}

static void test_offloads_follow_features(void **s)
{
	struct virtio_net *n = make(NULL, 0, 0, 0, NULL);
	struct virtio_dev *t;

	(void)s;
	t = up(n, BASE | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) |
		      F(VIRTIO_NET_F_GUEST_TSO6));
	assert_int_equal(last_offload, TAP_OFF_CSUM | TAP_OFF_TSO4 | TAP_OFF_TSO6);
	assert_int_equal(virtio_net_offloads(n), last_offload);
	vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(last_offload, 0);
	t = up(n, BASE | F(VIRTIO_NET_F_GUEST_CSUM));
	assert_int_equal(last_offload, TAP_OFF_CSUM);
	vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
	t = up(n, BASE);
	assert_int_equal(last_offload, 0);
	virtio_net_free(n);
}

static void test_tx_rate_limit(void **s)
{
	struct virtio_net *n = make(NULL, 0, 0, 1000, NULL);
	struct virtio_dev *t = up(n, BASE);
	uint8_t got[2000];

	(void)s;
	tx_frame(0, 600, 0);
	tx_frame(1, 600, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	/* 1000 B/s: the first passes, the second waits in the ring. */
	assert_int_equal(vqd_used_idx(&q[1]), 1);
	assert_int_equal(stat(n, "tx_rate_limited"), 1);
	fake_ns += 100000000ull; /* 100 ms: 100 more tokens, 500 in all */
	virtio_net_limit_fire(n, VIRTIO_NET_TXQ);
	assert_int_equal(vqd_used_idx(&q[1]), 1);
	fake_ns += 100000000ull;
	virtio_net_limit_fire(n, VIRTIO_NET_TXQ);
	assert_int_equal(vqd_used_idx(&q[1]), 2);
	assert_int_equal(recv(peer, got, sizeof(got), 0), HDR + 600);
	assert_int_equal(recv(peer, got, sizeof(got), 0), HDR + 600);
	virtio_net_free(n);
}

static void test_rx_rate_limit(void **s)
{
	struct virtio_net *n = make(NULL, 0, 2000, 0, NULL);
	struct virtio_dev *t = up(n, BASE);

	(void)s;
	for (uint16_t i = 0; i < 3; i++)
		post_rx(i, 1530);
	for (int i = 0; i < 3; i++)
		host_send(NULL, 1000, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	/* A full frame is 1518 bytes: 2000 tokens admit one read. */
	assert_int_equal(vqd_used_idx(&q[0]), 1);
	assert_int_equal(stat(n, "rx_rate_limited"), 1);
	fake_ns += 600000000ull; /* 1200 more tokens: 2200 */
	virtio_net_limit_fire(n, VIRTIO_NET_RXQ);
	assert_int_equal(vqd_used_idx(&q[0]), 2);
	virtio_net_free(n);
}

/* Traffic, save, restore into a fresh device on the same guest memory: the
 * next frames land in the next used slots and the offloads are set again. */
static void test_save_restore(void **s)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1}, mac2[6] = {2, 0, 0, 0, 0, 2};
	uint64_t f = BASE | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_MRG_RXBUF);
	struct virtio_net *a = make(mac, 0, 0, 5000, "net0"), *b, *victim;
	struct virtio_dev *t = up(a, f);
	struct state_buf buf;
	char err[200] = "";

	(void)s;
	post_rx(0, 1530);
	host_send(NULL, 100, 0);
	tx_frame(0, 60, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	assert_int_equal(vqd_used_idx(&q[0]), 1);
	state_buf_init(&buf);
	assert_int_equal(vst_save(virtio_net_device(a), &buf), 0);
	virtio_net_free(a);

	b = make(mac, 0, 0, 5000, "net0");
	last_offload = 0xff;
	assert_int_equal(
	    device_restore_one(virtio_net_device(b), buf.data, buf.len, err, sizeof(err)), 0);
	assert_int_equal(last_offload, TAP_OFF_CSUM);
	vst_resume(virtio_net_device(b));
	t = virtio_net_vdev(b);
	assert_int_equal(vqd_rd(t, VIRTIO_MMIO_STATUS), 0xf);
	post_rx(1, 1530);
	host_send(NULL, 200, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	assert_int_equal(vqd_used_idx(&q[0]), 2);
	assert_int_equal(vqd_used_elem(&q[0], 1).id, 1);
	assert_int_equal(vqd_used_len(&q[0], 1), HDR + 200);
	virtio_net_free(b);

	/* Bad sections, and a device with another MAC or limit, refused. */
	victim = make(mac, 0, 0, 5000, "net0");
	assert_int_equal(vst_bad_sections(virtio_net_device(victim), buf.data, buf.len, MEM_SIZE),
			 0);
	virtio_net_free(victim);
	victim = make(mac2, 0, 0, 5000, "net0");
	assert_int_equal(vst_refused(virtio_net_device(victim), buf.data, buf.len, "mac"), 0);
	virtio_net_free(victim);
	victim = make(mac, 0, 0, 0, "net0");
	assert_int_equal(vst_refused(virtio_net_device(victim), buf.data, buf.len, "limit"), 0);
	virtio_net_free(victim);
	state_buf_free(&buf);
}

static void test_hdr_checks(void **s)
{
	uint64_t csum = F(VIRTIO_NET_F_CSUM), tso = csum | F(VIRTIO_NET_F_HOST_TSO4);
	struct virtio_net_hdr h = {0};

	(void)s;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 14, 0, 1500), 0);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 13, 0, 1500), -EINVAL);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 1518, 0, 1500), 0);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 1519, 0, 1500), -EINVAL);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 65554, tso, 1500), 0);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 65555, tso, 1500), -EINVAL);
	h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h.csum_start = 34;
	h.csum_offset = 16;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, 0, 1500), -EINVAL);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, csum, 1500), 0);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 51, csum, 1500), -EINVAL);
	h.csum_start = 0xffff;
	h.csum_offset = 0xffff;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, csum, 1500), -EINVAL);
	h.csum_start = 34;
	h.csum_offset = 16;
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, csum, 1500), -EINVAL);
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, tso, 1500), -EINVAL); /* size 0 */
	h.gso_size = 1448;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, tso, 1500), 0);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, tso, 1500), -EINVAL);
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, tso, 1500), -EINVAL);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, tso, 1500), -EINVAL);
	h = (struct virtio_net_hdr){.flags = 0x80};
	assert_int_equal(virtio_net_hdr_tx_check(&h, 100, tso, 1500), -EINVAL);

	h = (struct virtio_net_hdr){.flags = 0xff};
	assert_int_equal(virtio_net_hdr_rx_fix(&h, 0), -EINVAL);
	h.flags = 0xfe;
	assert_int_equal(virtio_net_hdr_rx_fix(&h, F(VIRTIO_NET_F_GUEST_CSUM)), 0);
	assert_int_equal(h.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	h.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
	assert_int_equal(virtio_net_hdr_rx_fix(&h, F(VIRTIO_NET_F_GUEST_TSO4)), -EINVAL);
	assert_int_equal(virtio_net_hdr_rx_fix(&h, F(VIRTIO_NET_F_GUEST_TSO6)), 0);
}

static int fcntl_closed(int fd)
{
	return fcntl(fd, F_GETFD) < 0 && errno == EBADF;
}

static void test_bad_opts(void **s)
{
	struct virtio_net_opts o = {.mtu = 67};
	struct virtio_net *n;
	int sv[2];

	(void)s;
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	o.fd = sv[0];
	assert_int_equal(virtio_net_new(&n, &gm, NULL, &o, NULL), -EINVAL);
	/* The device closed its fd on the way out. */
	assert_int_equal(fcntl_closed(sv[0]), 1);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_config_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_writable_buffer_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_single, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_mergeable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_unaccepted_offload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_offloads_follow_features, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tx_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rx_rate_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_restore, setup, teardown),
	    cmocka_unit_test(test_hdr_checks),
	    cmocka_unit_test_setup_teardown(test_bad_opts, setup, teardown),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
