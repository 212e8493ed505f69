/* virtio-vsock, the connection table: the hash of connections by port
 * pair, the list of those that owe the guest something, the queue of RSTs
 * for pairs kite does not know, and freeing a connection. The bottom of
 * the device's files (above vsock_pkt.c): vsock_rx.c, vsock_timer.c,
 * vsock_host.c and vsock.c call down into it, and it calls none of them.
 * All of it runs with the device lock held. */
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "virtio/vsock_priv.h"

static uint32_t bucket(uint32_t local, uint32_t peer)
{
	return ((local * 2654435761u) ^ peer) % VSOCK_HASH;
}

struct vsock_conn *vsock_conn_find(struct virtio_vsock *v, uint32_t local, uint32_t peer)
{
	for (struct vsock_conn *c = v->hash[bucket(local, peer)]; c; c = c->hnext)
		/* A client still typing its CONNECT line has no ports yet;
		 * a connection of an older epoch is on its way out. */
		if (c->state != CONN_CMD && c->epoch == v->epoch && c->local_port == local &&
		    c->peer_port == peer)
			return c;
	return NULL;
}

void vsock_conn_hash_del(struct vsock_conn *c)
{
	struct vsock_conn **pp = &c->v->hash[bucket(c->local_port, c->peer_port)];

	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	c->hnext = NULL;
}

void vsock_conn_hash_add(struct vsock_conn *c)
{
	struct vsock_conn **head = &c->v->hash[bucket(c->local_port, c->peer_port)];

	c->hnext = *head;
	*head = c;
}

static void rx_list_del(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;
	struct vsock_conn *prev = NULL;

	if (!c->queued)
		return;
	for (struct vsock_conn *p = v->rx_head; p; prev = p, p = p->rnext) {
		if (p != c)
			continue;
		if (prev)
			prev->rnext = c->rnext;
		else
			v->rx_head = c->rnext;
		if (v->rx_tail == c)
			v->rx_tail = prev;
		break;
	}
	c->queued = false;
}

void vsock_conn_free(struct vsock_conn *c)
{
	struct virtio_vsock *v = c->v;

	vsock_conn_hash_del(c);
	rx_list_del(c);
	if (c->watched)
		ev_del(v->loop, c->fd);
	close(c->fd);
	free(c->buf);
	free(c);
	v->nr_conns--;
}

void vsock_conn_free_all(struct virtio_vsock *v)
{
	for (uint32_t b = 0; b < VSOCK_HASH; b++)
		while (v->hash[b])
			vsock_conn_free(v->hash[b]);
	v->rx_head = v->rx_tail = NULL;
}

void vsock_conn_reset(struct vsock_conn *c)
{
	vsock_queue_rst(c->v, c->local_port, c->peer_port);
	vsock_conn_free(c);
}

bool vsock_conn_buffered(const struct vsock_conn *c)
{
	return c->buf_off != c->buf_len;
}

void vsock_conn_update_events(struct vsock_conn *c)
{
	uint32_t ev = 0;

	if (!c->watched)
		return;
	if (c->state == CONN_CMD ||
	    (c->state == CONN_EST && !c->readable && !c->host_eof && !c->guest_no_rx))
		ev |= EPOLLIN;
	if (vsock_conn_buffered(c))
		ev |= EPOLLOUT;
	if (ev != c->events && ev_mod(c->v->loop, c->fd, ev) == 0)
		c->events = ev;
}

void vsock_queue_rst(struct virtio_vsock *v, uint32_t local_port, uint32_t peer_port)
{
	if (v->nr_rsts == VSOCK_RST_QUEUE) {
		v->st.rst_dropped++;
		return;
	}
	v->rsts[(v->rst_head + v->nr_rsts++) % VSOCK_RST_QUEUE] =
		(struct vsock_rst){local_port, peer_port};
}

bool vsock_conn_wants_rx(const struct vsock_conn *c)
{
	return c->state == CONN_EST && c->readable && !c->host_eof && !c->guest_no_rx &&
	       vsock_credit_free(c->peer_buf_alloc, c->tx_cnt, c->peer_fwd_cnt) > 0;
}

void vsock_conn_queue(struct vsock_conn *c, uint32_t pend)
{
	struct virtio_vsock *v = c->v;

	c->pending |= pend;
	if (c->queued)
		return;
	c->queued = true;
	c->rnext = NULL;
	if (v->rx_tail)
		v->rx_tail->rnext = c;
	else
		v->rx_head = c;
	v->rx_tail = c;
}
