/* Placing virtio-mmio devices in the VM and wiring their notifications:
 * guest kicks arrive through KVM ioeventfds (no userspace exit), interrupts
 * leave through KVM irqfds; both are served on the event-loop thread. */
#include "vm_virtio.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "arch/x86/board.h"
#include "irq.h"
#include "log.h"
#include "hostio.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"

struct vdev {
	struct vm_virtio_slot slot;
	struct virtio_mmio *t;
	struct virtio_blk *blk;
	struct virtio_rng *rng;
	struct virtio_console *con;
	int irqfd;
	int nr_ioeventfds;
	char name[16];
};

struct vm_virtio {
	struct machine *m;
	int nr;
	struct vdev devs[BOARD_VIRTIO_MAX];
};

static void irqfd_set(void *ctx, unsigned int gsi, int level)
{
	struct vdev *d = ctx;
	uint64_t one = 1;

	(void)gsi;
	/* An irqfd trigger is a whole edge; the falling half is a no-op. */
	if (level && d->irqfd >= 0 && write(d->irqfd, &one, sizeof(one)) < 0)
		log_guest(d->name, "irqfd write: %s", strerror(errno));
}

static int ioeventfd(struct machine *m, struct vdev *d, uint32_t q, bool assign)
{
	return irq_ioeventfd(m->irq, d->slot.base + VIRTIO_MMIO_QUEUE_NOTIFY, q,
			     virtio_mmio_queue_eventfd(d->t, q), assign);
}

static int wire(struct machine *m, struct vdev *d, char *err, size_t errlen)
{
	struct irq_line line = {irqfd_set, d, d->slot.gsi};
	int rc;

	d->irqfd = -1;
	if (m->irq->enabled) {
		d->irqfd = irq_irqfd_create(m->irq, d->slot.gsi);
		if (d->irqfd < 0) {
			snprintf(err, errlen, "%s: irqfd for GSI %u: %s", d->name, d->slot.gsi,
				 strerror(-d->irqfd));
			return d->irqfd;
		}
	}
	/* Without an irqchip there is nowhere to deliver interrupts: polling
	 * test guests only. */
	virtio_mmio_set_irq(d->t, m->irq->enabled ? &line : NULL);
	rc = virtio_mmio_setup_eventfds(d->t, m->ev);
	if (rc) {
		snprintf(err, errlen, "%s: queue eventfds: %s", d->name, strerror(-rc));
		return rc;
	}
	for (uint32_t q = 0; q < d->t->nr_queues; q++) {
		rc = ioeventfd(m, d, q, true);
		if (rc) {
			snprintf(err, errlen, "%s: KVM_IOEVENTFD: %s", d->name, strerror(-rc));
			return rc;
		}
		d->nr_ioeventfds++;
	}
	rc = bus_add(m->mmio, d->slot.base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, d->t, d->name);
	if (rc)
		snprintf(err, errlen, "%s: cannot place at 0x%llx: %s", d->name,
			 (unsigned long long)d->slot.base, strerror(-rc));
	return rc;
}

static struct vdev *next_slot(struct vm_virtio *v, const char *kind)
{
	struct vdev *d = &v->devs[v->nr];

	d->slot.base = board_virtio_base(v->nr);
	d->slot.gsi = board_virtio_gsi(v->nr);
	d->slot.kind = kind;
	d->irqfd = -1;
	snprintf(d->name, sizeof(d->name), "virtio-%s%d", kind, v->nr);
	v->m->slots[v->m->nr_slots++] = (struct machine_slot){d->slot.base, BOARD_VIRTIO_STRIDE,
							      d->slot.gsi};
	v->nr++;
	return d;
}

static size_t console_receive(void *dev, const uint8_t *buf, size_t n)
{
	return virtio_console_receive(dev, buf, n);
}

static void console_out(void *ctx, const uint8_t *buf, size_t n)
{
	hostio_write(ctx, buf, n);
}

static int create_console(struct machine *m, struct vdev *d, char *err, size_t errlen)
{
	struct virtio_console_host host;
	int rc;

	host.out = console_out;
	host.rx_space = hostio_rx_space;
	host.ctx = m->io;
	rc = virtio_console_new(&d->con, m->gm, &host, d->name);
	if (rc) {
		snprintf(err, errlen, "--console virtio: %s", strerror(-rc));
		return rc;
	}
	d->t = virtio_console_transport(d->con);
	rc = wire(m, d, err, errlen);
	if (!rc)
		hostio_set_input(m->io, console_receive, d->con);
	return rc;
}

int vm_virtio_create(struct machine *m, struct vm_virtio **out, char *err, size_t errlen)
{
	const struct vm_config *cfg = m->cfg;
	struct vm_virtio *v = calloc(1, sizeof(*v));
	int rc = 0;

	*out = v;
	if (!v)
		return -ENOMEM;
	v->m = m;
	if (cfg->nr_disks + !!cfg->rng + (cfg->console == CONSOLE_VIRTIO) > BOARD_VIRTIO_MAX) {
		snprintf(err, errlen, "at most %d virtio devices", BOARD_VIRTIO_MAX);
		return -EINVAL;
	}
	for (int i = 0; i < cfg->nr_disks && !rc; i++) {
		const struct disk_config *dc = &cfg->disks[i];
		struct virtio_blk_opts o = {
			.path = dc->path, .read_only = dc->read_only, .serial = dc->serial,
			.poll_ns = dc->poll_us * 1000ull,
		};
		struct vdev *d = next_slot(v, "blk");

		rc = virtio_blk_new(&d->blk, m->gm, m->ev, &o, d->name);
		if (rc) {
			snprintf(err, errlen, "--disk %s: %s", dc->path,
				 rc == -EBUSY ? "the image is in use by another process (locked)"
					      : strerror(-rc));
			break;
		}
		d->t = virtio_blk_transport(d->blk);
		rc = wire(m, d, err, errlen);
	}
	if (!rc && cfg->rng) {
		struct vdev *d = next_slot(v, "rng");

		rc = virtio_rng_new(&d->rng, m->gm, m->ev, cfg->rng_rate, d->name);
		if (rc) {
			snprintf(err, errlen, "--rng: %s", strerror(-rc));
		} else {
			d->t = virtio_rng_transport(d->rng);
			rc = wire(m, d, err, errlen);
		}
	}
	if (!rc && cfg->console == CONSOLE_VIRTIO)
		rc = create_console(m, next_slot(v, "console"), err, errlen);
	return rc;
}

void vm_virtio_destroy(struct vm_virtio *v)
{
	if (!v)
		return;
	for (int i = v->nr - 1; i >= 0; i--) {
		struct vdev *d = &v->devs[i];

		for (int q = d->nr_ioeventfds - 1; q >= 0; q--)
			if (ioeventfd(v->m, d, (uint32_t)q, false))
				log_debug(d->name, "ioeventfd deassign failed");
		if (d->blk)
			virtio_blk_free(d->blk);
		if (d->rng)
			virtio_rng_free(d->rng);
		if (d->con)
			virtio_console_free(d->con);
		if (d->irqfd >= 0)
			close(d->irqfd);
	}
	free(v);
}

int vm_virtio_count(const struct vm_virtio *v)
{
	return v ? v->nr : 0;
}

const struct vm_virtio_slot *vm_virtio_slot(const struct vm_virtio *v, int i)
{
	return &v->devs[i].slot;
}
