/* Virtio devices of the machine: a table of kinds, each creating its
 * devices from the config, and the wiring every virtio-mmio device shares
 * (ioeventfd per queue, one irqfd, the MMIO window on the bus). Adding a
 * kind is its device file plus one row in `kinds` below. */
#include "machine_virtio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/x86/board.h"
#include "irq.h"
#include "log.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "backends/tap.h"
#include "virtio/mmio.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "virtio/vsock.h"

struct vslot {
	struct machine_slot slot;
	struct virtio_dev *vd;
	char name[DEVICE_NAME_MAX];
	int irqfd;
	uint32_t nr_ioeventfds;
};

struct machine_virtio {
	struct machine *m;
	int nr;
	struct vslot slots[BOARD_VIRTIO_MAX];
};

static void irqfd_set(void *ctx, unsigned int gsi, int level)
{
	struct vslot *s = ctx;
	uint64_t one = 1;

	(void)gsi;
	/* An irqfd trigger is a whole edge; the falling half is a no-op. */
	if (level && s->irqfd >= 0 && write(s->irqfd, &one, sizeof(one)) < 0)
		log_guest(s->name, "irqfd write: %s", strerror(errno));
}

static int ioeventfd(struct machine *m, struct vslot *s, uint32_t q, bool assign)
{
	return irq_ioeventfd(m->irq, s->slot.base + VIRTIO_MMIO_QUEUE_NOTIFY, q,
			     virtio_dev_queue_eventfd(s->vd, q), assign);
}

/* Registers the device, then wires it into KVM and onto the bus. */
static int attach(struct machine_virtio *mv, struct vslot *s, struct device *dev, char *err,
		  size_t errlen)
{
	struct machine *m = mv->m;
	struct irq_line line = {irqfd_set, s, s->slot.gsi};
	int rc;

	rc = device_list_add(m->devices, dev);
	if (rc) {
		dev->ops->destroy(dev);
		snprintf(err, errlen, "%s: %s", s->name, strerror(-rc));
		return rc;
	}
	if (m->irq->enabled) {
		s->irqfd = irq_irqfd_create(m->irq, s->slot.gsi);
		if (s->irqfd < 0) {
			snprintf(err, errlen, "%s: irqfd for GSI %u: %s", s->name, s->slot.gsi,
				 strerror(-s->irqfd));
			return s->irqfd;
		}
	}
	/* Without an irqchip there is nowhere to deliver interrupts: polling
	 * test guests only. */
	virtio_dev_set_irq(s->vd, m->irq->enabled ? &line : NULL);
	rc = virtio_dev_setup_eventfds(s->vd, m->ev);
	if (rc) {
		snprintf(err, errlen, "%s: queue eventfds: %s", s->name, strerror(-rc));
		return rc;
	}
	for (uint32_t q = 0; q < s->vd->nr_queues; q++) {
		rc = ioeventfd(m, s, q, true);
		if (rc) {
			snprintf(err, errlen, "%s: KVM_IOEVENTFD: %s", s->name, strerror(-rc));
			return rc;
		}
		s->nr_ioeventfds++;
	}
	rc = bus_add(m->mmio, s->slot.base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, s->vd, s->name);
	if (rc)
		snprintf(err, errlen, "%s: cannot place at 0x%llx: %s", s->name,
			 (unsigned long long)s->slot.base, strerror(-rc));
	return rc;
}

/* The next window and GSI of the board, named kind + per-kind index. */
static struct vslot *next_slot(struct machine_virtio *mv, const char *kind, int idx)
{
	struct machine *m = mv->m;
	struct vslot *s = &mv->slots[mv->nr];

	s->slot = (struct machine_slot){board_virtio_base(mv->nr), BOARD_VIRTIO_STRIDE,
					board_virtio_gsi(mv->nr)};
	s->irqfd = -1;
	snprintf(s->name, sizeof(s->name), "%s%d", kind, idx);
	m->slots[m->nr_slots++] = s->slot;
	mv->nr++;
	return s;
}

static int make_blk(struct machine_virtio *mv, int i, char *err, size_t errlen)
{
	struct machine *m = mv->m;
	const struct disk_config *dc = &m->cfg->disks[i];
	struct virtio_blk_opts o = {
		.path = dc->path, .image = &m->disks[i], .read_only = dc->read_only,
		.serial = dc->serial, .poll_ns = dc->poll_us * 1000ull, .bps = dc->bps,
		.iops = dc->iops, .burst = dc->burst, .rl = &dc->rl,
	};
	struct vslot *s = next_slot(mv, "blk", i);
	struct virtio_blk *b;
	int rc;

	rc = virtio_blk_new(&b, m->gm, m->ev, &o, s->name);
	if (rc) {
		snprintf(err, errlen, "--disk %s: %s", dc->path,
			 rc == -EBUSY ? "the image is in use by another process (locked)"
				      : strerror(-rc));
		return rc;
	}
	s->vd = virtio_blk_vdev(b);
	return attach(mv, s, virtio_blk_device(b), err, errlen);
}

static int make_rng(struct machine_virtio *mv, int i, char *err, size_t errlen)
{
	struct machine *m = mv->m;
	const struct rate_limiter_config *rl = &m->cfg->rng_rl;
	struct vslot *s = next_slot(mv, "rng", i);
	struct virtio_rng *r;
	int rc;

	/* PUT /entropy's limiter when it limits anything, else --rng's rate. */
	if (rl->bandwidth.size || rl->ops.size)
		rc = virtio_rng_new_limited(&r, m->gm, m->ev, rl, s->name);
	else
		rc = virtio_rng_new(&r, m->gm, m->ev, m->cfg->rng_rate, s->name);
	if (rc) {
		snprintf(err, errlen, "--rng: %s", strerror(-rc));
		return rc;
	}
	s->vd = virtio_rng_vdev(r);
	return attach(mv, s, virtio_rng_device(r), err, errlen);
}

static bool console_out(void *ctx, const uint8_t *buf, size_t n)
{
	return hostio_write(ctx, buf, n);
}

static size_t console_receive(void *dev, const uint8_t *buf, size_t n)
{
	return virtio_console_receive(dev, buf, n);
}

static void console_tx_space(void *ctx)
{
	virtio_console_tx_space(ctx);
}

static int make_console(struct machine_virtio *mv, int i, char *err, size_t errlen)
{
	struct machine *m = mv->m;
	struct virtio_console_host host = {console_out, hostio_rx_space, m->io};
	struct vslot *s = next_slot(mv, "console", i);
	struct virtio_console *c;
	int rc;

	rc = virtio_console_new(&c, m->gm, &host, s->name);
	if (rc) {
		snprintf(err, errlen, "--console virtio: %s", strerror(-rc));
		return rc;
	}
	s->vd = virtio_console_vdev(c);
	rc = attach(mv, s, virtio_console_device(c), err, errlen);
	if (!rc)
		rc = hostio_on_space(m->io, console_tx_space, c);
	if (!rc)
		hostio_set_input(m->io, console_receive, c);
	return rc;
}

static int make_net(struct machine_virtio *mv, int i, char *err, size_t errlen)
{
	struct machine *m = mv->m;
	const struct net_config *nc = &m->cfg->nets[i];
	struct virtio_net_opts o = {
		.set_offload = tap_set_offload, .mac = nc->has_mac ? nc->mac : NULL,
		.mtu = nc->mtu, .rx_rl = &nc->rx_rl, .tx_rl = &nc->tx_rl,
	};
	struct vslot *s = next_slot(mv, "net", i);
	struct virtio_net *n;
	int rc;

	/* Opened for each machine built (a restart too); fd= is dup'ed, so
	 * the caller's stays open for the next one. */
	rc = tap_open(nc->tap, nc->fd, &o.fd, err, errlen);
	if (rc)
		return rc;
	rc = virtio_net_new(&n, m->gm, m->ev, &o, s->name);
	if (rc) {
		snprintf(err, errlen, "--net tap=%s: %s", nc->tap, strerror(-rc));
		return rc;
	}
	s->vd = virtio_net_vdev(n);
	return attach(mv, s, virtio_net_device(n), err, errlen);
}

static int make_vsock(struct machine_virtio *mv, int i, char *err, size_t errlen)
{
	struct machine *m = mv->m;
	struct vslot *s = next_slot(mv, "vsock", i);
	struct virtio_vsock *v;
	int rc;

	rc = virtio_vsock_new(&v, m->gm, m->ev, m->cfg->vsock_cid, m->cfg->vsock_uds, s->name);
	if (rc) {
		snprintf(err, errlen, "--vsock uds=%s: %s", m->cfg->vsock_uds,
			 rc == -EADDRINUSE ? "the path exists (remove it, or pick another)"
					   : strerror(-rc));
		return rc;
	}
	s->vd = virtio_vsock_vdev(v);
	return attach(mv, s, virtio_vsock_device(v), err, errlen);
}

static int nr_disks(const struct vm_config *c)
{
	return c->nr_disks;
}

static int nr_nets(const struct vm_config *c)
{
	return c->nr_nets;
}

static int nr_rngs(const struct vm_config *c)
{
	return !!c->rng;
}

static int nr_consoles(const struct vm_config *c)
{
	return c->console == CONSOLE_VIRTIO;
}

static int nr_vsocks(const struct vm_config *c)
{
	return c->vsock_uds != NULL;
}

/* The virtio kinds, in the order their devices get windows and GSIs. */
static const struct {
	int (*count)(const struct vm_config *c);
	int (*make)(struct machine_virtio *mv, int i, char *err, size_t errlen);
} kinds[] = {
	{nr_disks, make_blk},
	{nr_rngs, make_rng},
	{nr_consoles, make_console},
	{nr_vsocks, make_vsock},
	{nr_nets, make_net},
};

int machine_virtio_create(struct machine *m, struct machine_virtio **out, char *err,
			  size_t errlen)
{
	struct machine_virtio *mv = calloc(1, sizeof(*mv));
	int total = 0, rc = 0;

	*out = mv;
	if (!mv)
		return -ENOMEM;
	mv->m = m;
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		total += kinds[k].count(m->cfg);
	if (total > BOARD_VIRTIO_MAX || total > MACHINE_MMIO_SLOTS) {
		snprintf(err, errlen, "at most %d virtio devices", BOARD_VIRTIO_MAX);
		return -EINVAL;
	}
	for (size_t k = 0; k < ARRAY_SIZE(kinds) && !rc; k++)
		for (int i = 0; i < kinds[k].count(m->cfg) && !rc; i++)
			rc = kinds[k].make(mv, i, err, errlen);
	return rc;
}

void machine_virtio_destroy(struct machine_virtio *mv)
{
	if (!mv)
		return;
	for (int i = mv->nr - 1; i >= 0; i--) {
		struct vslot *s = &mv->slots[i];

		for (uint32_t q = s->nr_ioeventfds; q-- > 0;)
			if (ioeventfd(mv->m, s, q, false))
				log_debug(s->name, "ioeventfd deassign failed");
		if (s->irqfd >= 0)
			close(s->irqfd);
	}
	free(mv);
}
