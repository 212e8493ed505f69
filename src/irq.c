/* KVM_IRQ_LINE, irqfd and ioeventfd wiring. */
#include "irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"

static void kvm_line_set(void *ctx, unsigned int gsi, int level)
{
	struct irqchip *chip = ctx;
	struct kvm_irq_level l = {.irq = gsi, .level = (uint32_t)level};

	if (ioctl(chip->vm_fd, KVM_IRQ_LINE, &l) < 0)
		log_guest("irq", "KVM_IRQ_LINE gsi %u: %s", gsi, strerror(errno));
}

struct irq_line irq_line_kvm(struct irqchip *chip, unsigned int gsi)
{
	if (!chip->enabled)
		return (struct irq_line){NULL, NULL, gsi};
	return (struct irq_line){kvm_line_set, chip, gsi};
}

int irq_irqfd_create(struct irqchip *chip, unsigned int gsi)
{
	struct kvm_irqfd req = {.gsi = gsi};
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	req.fd = (uint32_t)fd;
	if (ioctl(chip->vm_fd, KVM_IRQFD, &req) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

int irq_ioeventfd(struct irqchip *chip, uint64_t addr, uint32_t datamatch, int fd, bool assign)
{
	struct kvm_ioeventfd io = {
		.datamatch = datamatch,
		.addr = addr,
		.len = 4,
		.fd = fd,
		.flags = KVM_IOEVENTFD_FLAG_DATAMATCH | (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(chip->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}
