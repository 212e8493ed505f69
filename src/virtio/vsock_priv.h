/* Internals shared by the virtio-vsock files. They stand in layers, each
 * calling only those below it: vsock_pkt.c (the wire rules), vsock_conn.c
 * (the connection table), vsock_rx.c (kite's packets for the guest),
 * vsock_timer.c (deadlines and sweeps), vsock_host.c (the Unix listener,
 * connections and their sockets), and vsock.c on top (the device: queues,
 * the guest's packets, state). Everything here is touched with the device
 * lock held, on the event-loop thread. */
#ifndef KITE_VIRTIO_VSOCK_PRIV_H
#define KITE_VIRTIO_VSOCK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "virtio/core.h"
#include "virtio/vsock.h"
#include "virtio/vsock_pkt.h"

/* Our receive buffer per connection, advertised to the guest as buf_alloc:
 * guest data the host socket did not take yet waits here, so the guest's
 * credit bounds kite's memory (at most VSOCK_MAX_CONNS of these). */
#define VSOCK_BUF_ALLOC (64u * 1024u)
#define VSOCK_RST_QUEUE 64u
#define VSOCK_HASH 256u
/* Host-initiated connections get local ports from here up (as the guest
 * sees them: the source port of kite's packets). */
#define VSOCK_LOCAL_PORT_BASE (1u << 30)
/* How long a half-open connection may wait: a host client for its
 * CONNECT line, kite for the guest's answer to a REQUEST or to a
 * SHUTDOWN after the host hung up, a closing guest for the host to take
 * the data still buffered. Then it is closed (and the guest reset). */
#define VSOCK_HALF_OPEN_MS 5000u

enum vsock_conn_state {
	CONN_CMD,     /* host client: waiting for its CONNECT line */
	CONN_REQUEST, /* OP_REQUEST queued or sent, waiting for the guest */
	CONN_EST,     /* streams spliced */
	CONN_CLOSING, /* guest closed: flushing buffered data, then RST */
};

/* Control packets a connection owes the guest. */
#define PEND_REQUEST 1u
#define PEND_RESPONSE 2u
#define PEND_CREDIT_UPDATE 4u
#define PEND_CREDIT_REQUEST 8u
#define PEND_SHUTDOWN 16u

struct vsock_conn {
	struct virtio_vsock *v;
	int fd;
	bool watched;   /* fd is on the event loop */
	uint32_t events; /* what it is watched for */
	enum vsock_conn_state state;
	uint32_t local_port; /* host side: source port of kite's packets */
	uint32_t peer_port;  /* guest side */
	uint32_t pending;    /* PEND_* */
	bool queued;         /* on the device's RX list */
	bool readable;       /* host data waiting: EPOLLIN off until drained */
	bool host_eof, host_hup;
	bool guest_no_rx, guest_no_tx; /* the guest's SHUTDOWN flags */
	bool credit_asked;
	/* Host to guest: the guest's buffer as it last told us. */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	/* Guest to host: received from the guest, written to the socket,
	 * and the fwd_cnt the guest last heard. */
	uint32_t rx_cnt, fwd_cnt, last_fwd_sent;
	uint8_t *buf; /* VSOCK_BUF_ALLOC bytes when allocated */
	uint32_t buf_off, buf_len; /* unsent bytes are buf[buf_off, buf_len) */
	char line[VSOCK_CONNECT_MAX];
	uint32_t line_len;
	uint64_t deadline_ns; /* half-open until then; 0: not half-open */
	uint32_t epoch;       /* the device's epoch when it was made */
	struct vsock_conn *hnext, *rnext;
};

struct vsock_rst {
	uint32_t local_port, peer_port;
};

struct vsock_stats {
	uint64_t conns_total, rx_bytes, tx_bytes, rx_packets, tx_packets;
	uint64_t rst_sent, rst_dropped, bad_packets, credit_violations;
	uint64_t rx_starved, refused, events_sent, host_rejected, timeouts, bad_rx_buffers;
};

struct virtio_vsock {
	struct virtio_dev vd;
	struct evloop *loop;
	uint64_t guest_cid;
	char *uds_path;
	int listen_fd;
	int timer_fd;        /* half-open deadlines, ticking while any is set */
	bool timer_armed;
	uint32_t half_open_ms;
	/* A driver reset runs on a vCPU thread, which must not touch the
	 * event loop: it only starts a new epoch, and the loop thread closes
	 * the connections of older ones (lookups never see them). */
	uint32_t epoch;
	bool listen_paused; /* accept failed for want of fds: retried on a tick */
	struct vsock_conn *hash[VSOCK_HASH];
	uint32_t nr_conns;
	uint32_t next_port;
	struct vsock_conn *rx_head, *rx_tail;
	struct vsock_rst rsts[VSOCK_RST_QUEUE];
	uint32_t rst_head, nr_rsts;
	bool rx_starved;    /* no RX buffer: wait for the guest's RX kick */
	bool event_pending; /* TRANSPORT_RESET owed (after a restore) */
	struct vsock_stats st;
	struct virtq_chain chain;
};

/* vsock_conn.c */
struct vsock_conn *vsock_conn_find(struct virtio_vsock *v, uint32_t local, uint32_t peer);
void vsock_conn_hash_add(struct vsock_conn *c);
void vsock_conn_hash_del(struct vsock_conn *c);
void vsock_conn_free(struct vsock_conn *c);
void vsock_queue_rst(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port);
/* Ends c at once: the host socket is closed and the guest gets a RST. */
void vsock_conn_reset(struct vsock_conn *c);
void vsock_conn_free_all(struct virtio_vsock *v);
/* Whether guest data waits in c's buffer for the host socket. */
bool vsock_conn_buffered(const struct vsock_conn *c);
void vsock_conn_update_events(struct vsock_conn *c);
/* Owes the guest the `pend` packets (and data, if readable): onto the RX list. */
void vsock_conn_queue(struct vsock_conn *c, uint32_t pend);
/* Whether c has data for the guest and the guest has room for it. */
bool vsock_conn_wants_rx(const struct vsock_conn *c);

/* vsock_rx.c */
/* Copies up to n bytes at offset off of the chain's readable (write=false)
 * or writable buffers from/to p; returns the bytes copied. */
uint32_t vsock_chain_copy(const struct virtq_chain *c, bool write, uint32_t off, void *p,
			  uint32_t n);
/* iovecs over at most `limit` bytes of the chain's readable or writable
 * buffers from offset off; returns how many, *len the bytes they cover. */
int vsock_chain_iov(const struct virtq_chain *c, bool write, uint32_t off, uint32_t limit,
		    struct iovec *iov, int max, uint32_t *len);
/* Fills RX buffers with what is owed, until none is owed or left. */
void vsock_rx_process(struct virtio_vsock *v);
/* The TRANSPORT_RESET event, if owed and the guest posted a buffer. */
void vsock_event_process(struct virtio_vsock *v);

/* vsock_timer.c */
int vsock_timer_open(struct virtio_vsock *v) MUST_CHECK;
/* Ticking (every 250 ms) or not; lock held. */
void vsock_timer_set(struct virtio_vsock *v, bool on);
void vsock_timer_close(struct virtio_vsock *v);
/* Any thread, lock held: has the loop thread sweep soon (a reset). */
void vsock_timer_soon(struct virtio_vsock *v);
/* c is half-open from now (deadline in half_open_ms), or no longer. */
void vsock_conn_half_open(struct vsock_conn *c, bool on);

/* vsock_host.c */
int vsock_listen_open(struct virtio_vsock *v) MUST_CHECK;
void vsock_listen_close(struct virtio_vsock *v);
/* The guest asks for host port `local` from its port `peer`: a connection
 * to the listener at PATH_<local>; 0, or -errno (the guest gets a RST). */
int vsock_conn_connect(struct virtio_vsock *v, uint32_t local, uint32_t peer,
		       struct vsock_conn **out) MUST_CHECK;
/* The guest accepted a host-initiated connection: "OK <port>\n" out. */
int vsock_conn_accepted(struct vsock_conn *c) MUST_CHECK;
/* Guest payload for the host socket (what the socket does not take is
 * buffered; credit guarantees it fits). 0, or -errno: reset the conn. */
int vsock_conn_to_host(struct vsock_conn *c, const struct iovec *iov, int nr,
		       uint32_t len) MUST_CHECK;
/* The guest's SHUTDOWN flags took effect on the socket (half-close). */
void vsock_conn_shut_host(struct vsock_conn *c);
/* Sends a CREDIT_UPDATE if the guest's view of our buffer is getting small. */
void vsock_conn_credit_check(struct vsock_conn *c);

#endif
