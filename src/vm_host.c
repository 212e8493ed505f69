/* Host resources, opened once per kite process before any machine and lent
 * to each machine in turn (struct vm_host, vm.h): /dev/kvm, the mapped
 * image, kernel and initrd, and every disk image opened and locked. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "arch/x86/kernel.h"
#include "log.h"
#include "vm.h"

static int open_disks(struct vm_host *h, const struct vm_config *cfg, struct error *e)
{
	for (int i = 0; i < cfg->nr_disks; i++) {
		const struct disk_config *dc = &cfg->disks[i];
		struct disk_image *img = &h->disks[i];
		int rc = disk_image_open(img, dc->path, dc->read_only);

		if (rc)
			return error_set(e, rc, error_blame_path(rc), "--disk %s: %s", dc->path,
					 rc == -EBUSY ? "the image is in use by another process "
							"(locked)"
						      : strerror(-rc));
		h->nr_disks = i + 1;
		if (img->size % 512)
			log_warn("disk", "%s: size %llu is not a multiple of 512; the last %llu "
				 "bytes are not visible to the guest", dc->path,
				 (unsigned long long)img->size,
				 (unsigned long long)(img->size % 512));
	}
	return 0;
}

int vm_host_open(struct vm_host *h, const struct vm_config *cfg, struct hostio *io,
		 struct error *e)
{
	int rc;

	memset(h, 0, sizeof(*h));
	h->kvm.fd = -1;
	h->io = io;
	/* A /dev/kvm that is missing, not permitted or lacking a capability
	 * kite needs is the user's to fix (another host, another path). */
	rc = kvm_open(&h->kvm, cfg->kvm_device, cfg->irqchip == IRQCHIP_ON, e->msg, sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, error_blame_path(rc));
	if (cfg->cpus > h->kvm.max_vcpus)
		return error_set(e, -EINVAL, BLAME_INPUT,
				 "--cpus %d: this host's KVM allows at most %d", cfg->cpus,
				 h->kvm.max_vcpus);
	/* Larger than any RAM: the loader says the image does not fit. */
	if (cfg->image)
		rc = host_file_map(&h->image, "image", cfg->image, UINT64_MAX, e->msg,
				   sizeof(e->msg));
	if (!rc && cfg->kernel)
		rc = host_file_map(&h->kernel, "kernel", cfg->kernel, KERNEL_FILE_MAX, e->msg,
				   sizeof(e->msg));
	if (!rc && cfg->initrd)
		rc = host_file_map(&h->initrd, "initrd", cfg->initrd, KERNEL_FILE_MAX, e->msg,
				   sizeof(e->msg));
	if (rc)
		return error_blame(e, rc, error_blame_path(rc));
	return open_disks(h, cfg, e);
}

void vm_host_close(struct vm_host *h)
{
	for (int i = 0; i < h->nr_disks; i++)
		disk_image_release(&h->disks[i]);
	h->nr_disks = 0;
	host_file_unmap(&h->initrd);
	host_file_unmap(&h->kernel);
	host_file_unmap(&h->image);
	kvm_close(&h->kvm);
}
