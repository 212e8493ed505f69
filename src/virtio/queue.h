/* Split virtqueue (VIRTIO 1.2 section 2.7), device side. The rings live in
 * guest memory and the guest writes them concurrently and with hostile
 * intent: every index, length and address read from them is checked here
 * before a device sees it, and each value is fetched from guest memory once. */
#ifndef KITE_VIRTIO_QUEUE_H
#define KITE_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "compiler.h"
#include "guest_mem.h"
#include "virtio/virtio.h"

#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* Most buffers one chain may carry. The spec bounds a chain by the queue
 * size (up to 32768); kite also bounds it by IOV_MAX so that a chain always
 * fits one preadv/pwritev. Devices advertise limits well below this
 * (virtio-blk seg_max), so only a misbehaving driver reaches it. */
#define VIRTQ_CHAIN_MAX 1024u

/* Guest ring layouts (all little-endian; kite runs on x86-64 only). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* One guest buffer of a chain, already checked to lie inside guest RAM.
 * host is NULL for a zero-length buffer. */
struct virtq_buf {
	void *host;
	uint32_t len;
	bool write; /* device-writable ("in") */
};

struct virtq_chain {
	uint16_t head;     /* the id to give back through virtq_push */
	uint32_t gen;      /* the queue generation it was popped under */
	uint32_t nr;       /* buffers in buf[] */
	uint32_t nr_out;   /* device-readable buffers, all before the writable ones */
	uint32_t out_len;  /* bytes, device-readable */
	uint32_t in_len;   /* bytes, device-writable */
	struct virtq_buf buf[VIRTQ_CHAIN_MAX];
};

struct virtq {
	const struct guest_mem *gm;
	const char *name;        /* log prefix: the owning device's name */
	uint16_t size;           /* power of two; valid while ready */
	bool ready;
	bool broken;             /* guest error seen: no more pops until reset */
	bool event_idx;          /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;           /* VIRTIO_F_INDIRECT_DESC negotiated */
	uint32_t gen;            /* bumped on every disable: stale chains */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host pointers into guest RAM, cached at enable. Guest RAM is mapped
	 * once for the VM's lifetime (no hot-unplug, no remap), and enable
	 * checked each whole ring with gm_ptr, so the pointers stay valid;
	 * re-walking the regions on every ring access would buy nothing. */
	struct virtq_desc *desc;
	uint16_t *avail;         /* flags, idx, ring[size], used_event */
	uint16_t *used_hdr;      /* flags, idx */
	struct virtq_used_elem *used_ring;
	uint16_t *avail_event;
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used; /* used_idx at the last should_notify */
	bool notify_off;         /* device polling: driver told not to kick */
};

/* name (may be NULL: "virtq") prefixes the queue's guest-error messages and
 * must outlive the queue. */
void virtq_init(struct virtq *q, const struct guest_mem *gm, const char *name);
/* The layout checks of virtq_enable, without side effects (restore checks a
 * saved layout with them before changing anything). 0 or -EINVAL. */
int virtq_check(const struct guest_mem *gm, uint32_t size, uint32_t max_size, uint64_t desc,
		uint64_t avail, uint64_t used) MUST_CHECK;
/* Checks the layout the driver wrote and makes the queue ready. size must be
 * a power of two <= max_size (<= VIRTQ_MAX_SIZE); the rings must be aligned
 * (16/2/4) and lie entirely inside guest RAM. -EINVAL otherwise. */
int virtq_enable(struct virtq *q, uint32_t size, uint32_t max_size, uint64_t desc,
		 uint64_t avail, uint64_t used, bool event_idx, bool indirect) MUST_CHECK;
/* Not ready any more, not broken; chains popped before are now stale. */
void virtq_disable(struct virtq *q);

/* The device-side progress of a ready queue: what a snapshot must carry
 * besides the layout. */
struct virtq_state {
	uint16_t last_avail_idx, used_idx, signalled_used;
	bool broken, notify_off;
};

void virtq_get_state(const struct virtq *q, struct virtq_state *s);
/* Whether s is possible for a queue of `size`: the device never holds more
 * chains than the queue has entries (last_avail_idx - used_idx <= size), nor
 * signalled an index it has not reached. */
bool virtq_state_ok(uint32_t size, const struct virtq_state *s);
/* virtq_enable for a snapshot: the same layout checks, the indices checked
 * with virtq_state_ok, and unlike enable nothing is written into the rings
 * (guest memory already holds what the driver saw). -EINVAL otherwise, with
 * q unchanged. */
int virtq_restore(struct virtq *q, uint32_t size, uint32_t max_size, uint64_t desc,
		  uint64_t avail, uint64_t used, bool event_idx, bool indirect,
		  const struct virtq_state *s) MUST_CHECK;

/* 1: a chain was stored in *c; 0: nothing available; <0: guest error, and
 * the queue is then marked broken (every later pop fails too). */
int virtq_pop(struct virtq *q, struct virtq_chain *c) MUST_CHECK;
/* Device-readable iovecs first, then device-writable. Returns the count or
 * -ENOSPC when max is too small. */
int virtq_chain_iov(const struct virtq_chain *c, struct iovec *iov, int max, int *nr_out,
		    int *nr_in) MUST_CHECK;
/* Returns `head` to the driver with `len` bytes written. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for what was pushed since the last
 * call (EVENT_IDX's used_event, else the NO_INTERRUPT flag). */
bool virtq_should_notify(struct virtq *q);

/* Device-side polling. virtq_notify_off tells the driver that kicks are not
 * needed (avail_event kept one behind the buffers taken, or the used ring's
 * NO_NOTIFY flag), while the device looks at the avail ring itself.
 * virtq_notify_on asks for kicks again and returns whether buffers arrived
 * meanwhile that the device must still take (they will not be kicked). */
void virtq_notify_off(struct virtq *q);
bool virtq_notify_on(struct virtq *q);

#endif
