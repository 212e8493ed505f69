/* KVM_IRQ_LINE and irqfd wiring. */
#include "irq.h"

#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "vm.h"

static void kvm_line_set(void *ctx, unsigned int gsi, int level)
{
	struct vm *vm = ctx;
	struct kvm_irq_level l = {.irq = gsi, .level = (uint32_t)level};

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		log_guest("irq", "KVM_IRQ_LINE gsi %u: %s", gsi, strerror(errno));
}

struct irq_line irq_line_kvm(struct vm *vm, unsigned int gsi)
{
	if (!vm->irqchip)
		return (struct irq_line){NULL, NULL, gsi};
	return (struct irq_line){kvm_line_set, vm, gsi};
}

int irq_irqfd_create(struct vm *vm, unsigned int gsi)
{
	struct kvm_irqfd req = {.gsi = gsi};
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	req.fd = (uint32_t)fd;
	if (ioctl(vm->vm_fd, KVM_IRQFD, &req) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}
