/* /dev/kvm: opening it, checking the API version and every capability kite
 * relies on, up front, with a message that names what is missing. */
#ifndef KITE_KVM_H
#define KITE_KVM_H

#include <stddef.h>

#include "compiler.h"

struct kvm {
	int fd;
	int vcpu_mmap_size;
	int max_vcpus;
	int nr_vcpus_recommended;
};

/* need_irqchip: also require the in-kernel irqchip, PIT, irqfd. */
int kvm_open(struct kvm *k, const char *path, int need_irqchip, char *err,
	     size_t errlen) MUST_CHECK;
void kvm_close(struct kvm *k);

#endif
