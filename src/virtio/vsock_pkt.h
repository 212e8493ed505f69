/* virtio-vsock wire format (VIRTIO 1.2 section 5.10) and the pure checks
 * on it: the packet header a guest sends, credit arithmetic, and the
 * hybrid Unix-socket protocol's CONNECT line. Nothing here touches a
 * device or a socket, so every rule can be tested and fuzzed alone. */
#ifndef KITE_VIRTIO_VSOCK_PKT_H
#define KITE_VIRTIO_VSOCK_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define VIRTIO_ID_VSOCK 19

#define VSOCK_RXQ 0
#define VSOCK_TXQ 1
#define VSOCK_EVQ 2

#define VSOCK_HOST_CID 2u

#define VSOCK_TYPE_STREAM 1u

enum vsock_op {
	VSOCK_OP_INVALID = 0,
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
	VSOCK_OP_MAX = 7,
};

#define VSOCK_SHUTDOWN_RCV 1u
#define VSOCK_SHUTDOWN_SEND 2u

#define VSOCK_EVENT_TRANSPORT_RESET 0u

/* Most payload one guest packet may carry: what Linux sends at most
 * (VIRTIO_VSOCK_MAX_PKT_BUF_SIZE); a larger len is a hostile driver. */
#define VSOCK_MAX_PKT 65536u

/* Little-endian on the wire; kite runs on x86-64 only. */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define VSOCK_HDR_LEN 44u

/* Why a header was refused (counted per reason in the device's stats). */
enum vsock_bad {
	VSOCK_OK = 0,
	VSOCK_BAD_SRC_CID,  /* not the guest's own CID */
	VSOCK_BAD_DST_CID,  /* not the host (kite forwards nothing else) */
	VSOCK_BAD_TYPE,     /* not a stream (SEQPACKET is not offered) */
	VSOCK_BAD_OP,       /* 0 or unknown */
	VSOCK_BAD_LEN,      /* over VSOCK_MAX_PKT, over the chain, or payload on a control op */
	VSOCK_BAD_FLAGS,    /* SHUTDOWN flags beyond RCV|SEND */
};

/* Checks a guest header against the guest's CID and the payload bytes its
 * chain really carries after the header. VSOCK_OK or the first problem. */
enum vsock_bad vsock_hdr_check(const struct vsock_hdr *h, uint64_t guest_cid,
			       uint32_t payload_avail);
const char *vsock_bad_name(enum vsock_bad why);

/* Bytes the peer can still take: buf_alloc - (tx_cnt - fwd_cnt), all
 * counters modulo 2^32 as the spec keeps them. A peer whose fwd_cnt claims
 * more than was sent, or whose in-flight count exceeds buf_alloc (it
 * shrank its buffer), gets 0, never a huge wrapped value. */
uint32_t vsock_credit_free(uint32_t peer_buf_alloc, uint32_t tx_cnt, uint32_t peer_fwd_cnt);

/* The first line a host client sends on the Unix socket: "CONNECT <port>\n",
 * the word in any case, one space, a decimal port (no sign, no leading
 * zeros beyond "0", at most 2^32 - 1). buf holds n bytes received so far.
 * Returns the line's length including '\n' (port in *port), 0 when more
 * bytes are needed (no '\n' yet and n < VSOCK_CONNECT_MAX), or -EINVAL. */
#define VSOCK_CONNECT_MAX 32u
int vsock_parse_connect(const char *buf, size_t n, uint32_t *port) MUST_CHECK;

#endif
