/* The pure rules of virtio-vsock packets and of the CONNECT line (see
 * vsock_pkt.h). Every value checked here comes from the guest or from a
 * host client and is hostile until it passes. */
#include "virtio/vsock_pkt.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_LEN, "vsock header is 44 bytes");

/* Control ops carry no payload; a len on them would desynchronise a
 * device that trusted it. */
static bool op_has_payload(uint16_t op)
{
	return op == VSOCK_OP_RW;
}

enum vsock_bad vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid,
			       uint32_t payload_avail)
{
	if (h->src_cid != guest_cid)
		return VSOCK_BAD_SRC_CID;
	if (h->dst_cid != VSOCK_HOST_CID)
		return VSOCK_BAD_DST_CID;
	if (h->type != VSOCK_TYPE_STREAM)
		return VSOCK_BAD_TYPE;
	if (h->op == VSOCK_OP_INVALID || h->op > VSOCK_OP_MAX)
		return VSOCK_BAD_OP;
	/* GUEST: len bounded by the packet maximum and by what the chain
	 * holds after the header (payload_avail, from virtq_pop's sums). */
	if (h->len > VSOCK_MAX_PKT || h->len > payload_avail)
		return VSOCK_BAD_LEN;
	if (h->len && !op_has_payload(h->op))
		return VSOCK_BAD_LEN;
	if (h->op == VSOCK_OP_SHUTDOWN &&
	    (h->flags & ~(VSOCK_SHUTDOWN_RCV | VSOCK_SHUTDOWN_SEND)))
		return VSOCK_BAD_FLAGS;
	return VSOCK_OK;
}

const char *vsock_bad_name(enum vsock_bad why)
{
	static const char *const names[] = {
		[VSOCK_OK] = "ok",
		[VSOCK_BAD_SRC_CID] = "source CID is not the guest's",
		[VSOCK_BAD_DST_CID] = "destination CID is not the host",
		[VSOCK_BAD_TYPE] = "not a stream packet",
		[VSOCK_BAD_OP] = "unknown op",
		[VSOCK_BAD_LEN] = "bad length",
		[VSOCK_BAD_FLAGS] = "bad shutdown flags",
	};

	return (unsigned)why < ARRAY_SIZE(names) ? names[why] : "?";
}

uint32_t vsock_credit_free(uint32_t peer_buf_alloc, uint32_t tx_cnt, uint32_t peer_fwd_cnt)
{
	/* Wrapping difference: bytes sent and not yet consumed by the peer. */
	uint32_t in_flight = tx_cnt - peer_fwd_cnt;

	if (in_flight > peer_buf_alloc)
		return 0;
	return peer_buf_alloc - in_flight;
}

static int parse_port(const char *s, size_t n, uint32_t *port)
{
	uint64_t v = 0;

	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -EINVAL;
	*port = (uint32_t)v;
	return 0;
}

int vsock_parse_connect(const char *buf, size_t n, uint32_t *port)
{
	static const char word[] = "connect ";
	const size_t wl = sizeof(word) - 1;
	const char *nl = memchr(buf, '\n', MIN(n, (size_t)VSOCK_CONNECT_MAX));
	size_t len;

	/* What arrived so far must already be a prefix of the line. */
	if (strncasecmp(buf, word, MIN(n, wl)) != 0)
		return -EINVAL;
	if (!nl)
		return n < VSOCK_CONNECT_MAX ? 0 : -EINVAL;
	len = (size_t)(nl - buf);
	if (len < wl || parse_port(buf + wl, len - wl, port) < 0)
		return -EINVAL;
	return (int)len + 1;
}
