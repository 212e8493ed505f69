/* Opening /dev/kvm and checking what kite needs from it. */
#include "kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct cap {
	int id;
	const char *name;
	int irqchip_only;
};

static const struct cap caps[] = {
	{KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY", 0},
	{KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR", 0},
	{KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID", 0},
	{KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT", 0},
	{KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE", 0},
	{KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD", 0},
	{KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP", 1},
	{KVM_CAP_PIT2, "KVM_CAP_PIT2", 1},
	{KVM_CAP_IRQFD, "KVM_CAP_IRQFD", 1},
	{KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING", 1},
};

int kvm_open(struct kvm *k, const char *path, int need_irqchip, char *err, size_t errlen)
{
	int v;

	memset(k, 0, sizeof(*k));
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open %s: %s%s", path, strerror(e),
			 e == ENOENT ? " (is KVM enabled on this host?)"
			 : (e == EACCES || e == EPERM) ? " (add yourself to the kvm group)" : "");
		return -e;
	}
	v = ioctl(k->fd, KVM_GET_API_VERSION, 0);
	if (v != KVM_API_VERSION) {
		snprintf(err, errlen, "%s: KVM API version %d, kite needs %d%s", path, v,
			 KVM_API_VERSION, v < 0 ? " (is this a KVM device?)" : "");
		kvm_close(k);
		return -ENOTSUP;
	}
	for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
		if (caps[i].irqchip_only && !need_irqchip)
			continue;
		if (ioctl(k->fd, KVM_CHECK_EXTENSION, caps[i].id) <= 0) {
			snprintf(err, errlen, "%s lacks %s, which kite needs", path, caps[i].name);
			kvm_close(k);
			return -ENOTSUP;
		}
	}
	k->vcpu_mmap_size = ioctl(k->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (k->vcpu_mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(err, errlen, "%s: bad KVM_GET_VCPU_MMAP_SIZE", path);
		kvm_close(k);
		return -ENOTSUP;
	}
	k->nr_vcpus_recommended = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	k->max_vcpus = ioctl(k->fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (k->max_vcpus <= 0)
		k->max_vcpus = k->nr_vcpus_recommended > 0 ? k->nr_vcpus_recommended : 4;
	return 0;
}

void kvm_close(struct kvm *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}
