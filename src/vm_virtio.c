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

#include "irq.h"
#include "log.h"
#include "arch/x86/platform.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"
#include "vm.h"

struct vdev {
	struct vm_virtio_slot slot;
	struct virtio_dev *t;
	struct virtio_blk *blk;
	struct virtio_rng *rng;
	struct virtio_console *con;
	int irqfd;
	int nr_ioeventfds;
	char name[16];
	/* The platform's console sink (never full: it blocks instead). */
	void (*con_out)(void *ctx, const uint8_t *buf, size_t n);
	void (*con_rx_space)(void *ctx);
	void *con_ctx;
};

struct vm_virtio {
	struct vm *vm;
	int nr;
	struct vdev devs[VM_VIRTIO_MAX];
};

uint32_t vm_virtio_gsi(int i)
{
	/* 4 is COM1, 8 the RTC, 12 the i8042 aux port, 13 the FPU. */
	static const uint8_t gsis[VM_VIRTIO_MAX] = {5, 6, 7, 9, 10, 11, 14, 15,
						     16, 17, 18, 19, 20, 21, 22, 23};
	return gsis[i];
}

static void irqfd_set(void *ctx, unsigned int gsi, int level)
{
	struct vdev *d = ctx;
	uint64_t one = 1;

	(void)gsi;
	/* An irqfd trigger is a whole edge; the falling half is a no-op. */
	if (level && d->irqfd >= 0 && write(d->irqfd, &one, sizeof(one)) < 0)
		log_guest(d->name, "irqfd write: %s", strerror(errno));
}

static int ioeventfd(struct vm *vm, struct vdev *d, uint32_t q, int assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = q,
		.addr = d->slot.base + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.fd = virtio_dev_queue_eventfd(d->t, q),
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

static int wire(struct vm *vm, struct vdev *d, char *err, size_t errlen)
{
	struct irq_line line = {irqfd_set, d, d->slot.gsi};
	int rc;

	d->irqfd = -1;
	if (vm->irqchip) {
		d->irqfd = irq_irqfd_create(vm, d->slot.gsi);
		if (d->irqfd < 0) {
			snprintf(err, errlen, "%s: irqfd for GSI %u: %s", d->name, d->slot.gsi,
				 strerror(-d->irqfd));
			return d->irqfd;
		}
	}
	/* Without an irqchip there is nowhere to deliver interrupts: polling
	 * test guests only. */
	virtio_dev_set_irq(d->t, vm->irqchip ? &line : NULL);
	rc = virtio_dev_setup_eventfds(d->t, &vm->ev);
	if (rc) {
		snprintf(err, errlen, "%s: queue eventfds: %s", d->name, strerror(-rc));
		return rc;
	}
	for (uint32_t q = 0; q < d->t->nr_queues; q++) {
		rc = ioeventfd(vm, d, q, 1);
		if (rc) {
			snprintf(err, errlen, "%s: KVM_IOEVENTFD: %s", d->name, strerror(-rc));
			return rc;
		}
		d->nr_ioeventfds++;
	}
	rc = bus_add(&vm->mmio, d->slot.base, VIRTIO_MMIO_SIZE, &virtio_mmio_ops, d->t, d->name);
	if (rc)
		snprintf(err, errlen, "%s: cannot place at 0x%llx: %s", d->name,
			 (unsigned long long)d->slot.base, strerror(-rc));
	return rc;
}

static struct vdev *next_slot(struct vm_virtio *v, const char *kind)
{
	struct vdev *d = &v->devs[v->nr];

	d->slot.base = VM_VIRTIO_BASE + (uint64_t)v->nr * VM_VIRTIO_STRIDE;
	d->slot.gsi = vm_virtio_gsi(v->nr);
	d->slot.kind = kind;
	d->irqfd = -1;
	snprintf(d->name, sizeof(d->name), "virtio-%s%d", kind, v->nr);
	v->nr++;
	return d;
}

static size_t console_receive(void *dev, const uint8_t *buf, size_t n)
{
	return virtio_console_receive(dev, buf, n);
}

/* Until the host console gets an output buffer with a high-water mark: the
 * platform's sink blocks instead of saying it is full. */
static bool console_sink(void *ctx, const uint8_t *buf, size_t n)
{
	struct vdev *d = ctx;

	d->con_out(d->con_ctx, buf, n);
	return true;
}

static void console_rx_space(void *ctx)
{
	struct vdev *d = ctx;

	d->con_rx_space(d->con_ctx);
}

static int create_console(struct vm *vm, struct vdev *d, char *err, size_t errlen)
{
	struct virtio_console_host host = {.out = console_sink, .rx_space = console_rx_space,
					   .ctx = d};
	int rc;

	platform_console_host(vm->plat, &d->con_out, &d->con_rx_space, &d->con_ctx);
	rc = virtio_console_new(&d->con, &vm->gm, &host, d->name);
	if (rc) {
		snprintf(err, errlen, "--console virtio: %s", strerror(-rc));
		return rc;
	}
	d->t = virtio_console_vdev(d->con);
	rc = wire(vm, d, err, errlen);
	if (!rc)
		platform_console_input(vm->plat, console_receive, d->con);
	return rc;
}

int vm_virtio_create(struct vm *vm, struct vm_virtio **out, char *err, size_t errlen)
{
	const struct vm_config *cfg = vm->cfg;
	struct vm_virtio *v = calloc(1, sizeof(*v));
	int rc = 0;

	*out = v;
	if (!v)
		return -ENOMEM;
	v->vm = vm;
	if (cfg->nr_disks + !!cfg->rng + (cfg->console == CONSOLE_VIRTIO) > VM_VIRTIO_MAX) {
		snprintf(err, errlen, "at most %d virtio devices", VM_VIRTIO_MAX);
		return -EINVAL;
	}
	for (int i = 0; i < cfg->nr_disks && !rc; i++) {
		const struct disk_config *dc = &cfg->disks[i];
		struct virtio_blk_opts o = {
			.path = dc->path, .read_only = dc->read_only, .serial = dc->serial,
			.poll_ns = dc->poll_us * 1000ull,
		};
		struct vdev *d = next_slot(v, "blk");

		rc = virtio_blk_new(&d->blk, &vm->gm, &vm->ev, &o, d->name);
		if (rc) {
			snprintf(err, errlen, "--disk %s: %s", dc->path,
				 rc == -EBUSY ? "the image is in use by another process (locked)"
					      : strerror(-rc));
			break;
		}
		d->t = virtio_blk_vdev(d->blk);
		rc = wire(vm, d, err, errlen);
	}
	if (!rc && cfg->rng) {
		struct vdev *d = next_slot(v, "rng");

		rc = virtio_rng_new(&d->rng, &vm->gm, &vm->ev, cfg->rng_rate, d->name);
		if (rc) {
			snprintf(err, errlen, "--rng: %s", strerror(-rc));
		} else {
			d->t = virtio_rng_vdev(d->rng);
			rc = wire(vm, d, err, errlen);
		}
	}
	if (!rc && cfg->console == CONSOLE_VIRTIO)
		rc = create_console(vm, next_slot(v, "console"), err, errlen);
	return rc;
}

void vm_virtio_destroy(struct vm_virtio *v)
{
	if (!v)
		return;
	for (int i = v->nr - 1; i >= 0; i--) {
		struct vdev *d = &v->devs[i];

		for (int q = d->nr_ioeventfds - 1; q >= 0; q--)
			if (ioeventfd(v->vm, d, (uint32_t)q, 0))
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
