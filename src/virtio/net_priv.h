/* virtio-net internals shared by net.c (the device: config, features,
 * offloads, state, stats), net_rx.c, net_tx.c and net_limit.c (the rate
 * limits). net.c calls down into the others; they never call net.c. All
 * fields are under the core's lock. */
#ifndef KITE_VIRTIO_NET_PRIV_H
#define KITE_VIRTIO_NET_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "ratelimit.h"
#include "virtio/net.h"

#define NET_QUEUE_MAX 256u
#define NET_CONFIG_SIZE 12u /* mac[6], status, max_virtqueue_pairs, mtu */
/* iovecs one readv may take (the kernel's UIO_MAXIOV). */
#define NET_RX_IOV_MAX 1024u
/* Frames per RX pass before other work runs (the queue is re-signalled). */
#define NET_RX_BATCH 64u

/* One direction's limiter: a bytes bucket (frame bytes) and an ops bucket
 * (frames), and the timerfd that brings the queue back. */
struct net_limit {
	struct virtio_net *n;
	uint32_t qidx;
	struct rate_limiter_config cfg;
	struct rate_limiter rl;
	int timer_fd; /* -1 without a limit or without a loop */
	bool armed;
	uint64_t wait_ns; /* the wait last armed (tests) */
	uint64_t events;  /* times the limit held the queue */
};

/* An RX chain popped for the frame being received: its writable buffers
 * are iov[iov0 .. iov0 + niov). */
struct net_held {
	uint16_t head;
	uint32_t gen;
	uint32_t len;
	uint32_t iov0, niov;
};

struct net_stats {
	uint64_t rx_bytes, rx_packets, rx_dropped, rx_errors, rx_no_buffer;
	uint64_t tx_bytes, tx_packets, tx_dropped, tx_errors;
};

struct virtio_net {
	struct virtio_dev vd;
	int fd;
	struct evloop *loop;
	int (*set_offload)(int fd, unsigned offloads);
	uint64_t (*now)(void);
	uint8_t config[NET_CONFIG_SIZE];
	bool has_mac;
	uint32_t mtu;	    /* as configured, 0 = not offered */
	uint32_t frame_mtu; /* what frames are sized by: mtu, else 1500 */
	bool watching;	    /* the tap is in the loop's set (EPOLLIN) */
	unsigned offloads;
	struct net_limit lim[2]; /* [VIRTIO_NET_RXQ], [VIRTIO_NET_TXQ] */
	struct net_stats st;
	struct virtq_chain chain;
	/* RX pass scratch: chains popped and not yet used; given back to the
	 * ring at the end of each pass so that nothing stays in flight. */
	struct net_held held[NET_QUEUE_MAX];
	uint32_t nheld, niov;
	uint64_t held_len;
	struct iovec iov[NET_RX_IOV_MAX];
	struct iovec txiov[IOV_MAX]; /* the header copy, then the frame */
};

/* net_rx.c */
int net_rx_pass(struct virtio_net *n);
/* Lock held. Starts or stops watching the tap for input. */
void net_rx_watch(struct virtio_net *n, bool on);
/* Whether the RX queue can take frames now (the core's own checks). */
bool net_rx_live(const struct virtio_net *n);
/* net_tx.c */
int net_tx_pass(struct virtio_net *n);

/* net_limit.c: the rate limits. May a frame of `bytes` go now (it costs
 * one op too)? Else the timer is armed. peek: only look (RX, before a
 * read); otherwise the tokens are taken. */
bool net_limit_take(struct virtio_net *n, uint32_t qidx, uint64_t bytes, bool peek);
/* Sets up queue q's limiter from cfg (NULL or all zero: bps, a bytes
 * bucket of one second's worth; bps 0 too: none; a timerfd only with a
 * loop). */
int net_limit_init(struct virtio_net *n, uint32_t q, uint64_t bps,
		   const struct rate_limiter_config *cfg) MUST_CHECK;
void net_limit_free(struct virtio_net *n, uint32_t q);
void net_limit_disarm(struct net_limit *l);

#endif
