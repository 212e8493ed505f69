/* The KVM half of a machine's state: the VM section (clock, PIT, PIC and
 * IOAPIC) and one section per vCPU, saved from a paused machine and
 * restored into a fresh one before its vCPUs start (arch/x86/vm_state.c,
 * vcpu_state.c). Everything is parsed and checked before any of it is
 * applied. The snapshot issue builds its file on these. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "arch/x86/vcpu_state.h"
#include "arch/x86/vm_state.h"
#include "vm.h"

static bool vcpus_idle(struct vm *vm, enum vcpu_state want)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		if (vcpu_get_state(&vm->vcpus[i]) != want)
			return false;
	return true;
}

int vm_save_cpu_state(struct vm *vm, struct state_buf *out)
{
	int rc;

	if (!(vm->paused && vcpus_idle(vm, VCPU_PAUSED)) && !vcpus_idle(vm, VCPU_CREATED))
		return -EBUSY;
	rc = vm_state_save(vm->vm_fd, vm->irqchip, out);
	state_put_u32(out, (uint32_t)vm->nr_vcpus);
	for (int i = 0; !rc && i < vm->nr_vcpus; i++)
		rc = vcpu_state_save(vm->vcpus[i].fd, vm->host->kvm.fd, out);
	return rc ? rc : out->err;
}

int vm_restore_cpu_state(struct vm *vm, const void *data, size_t len, char *err, size_t errlen)
{
	struct vcpu_kvm_state **vs = NULL;
	struct vcpu_state_host host;
	struct state_reader r;
	struct vm_state ms;
	char what[16];
	uint32_t n;
	int rc;

	if (vm->cpu_restored || vm->nr_started || !vcpus_idle(vm, VCPU_CREATED)) {
		snprintf(err, errlen, "cpu state: the vCPUs already ran or were restored");
		return -EBUSY;
	}
	vcpu_state_host_probe(vm->host->kvm.fd, &host);
	state_reader_init(&r, data, len, "vm");
	rc = vm_state_parse(&r, &ms);
	n = state_get_u32(&r);
	/* GUEST: the vCPU count must be this machine's (from the config). */
	if (!r.err && n != (uint32_t)vm->nr_vcpus)
		state_fail(&r, "%u vCPU sections, this machine has %d vCPUs", n, vm->nr_vcpus);
	if (r.err)
		return state_end(&r, err, errlen);
	vs = calloc((size_t)vm->nr_vcpus, sizeof(*vs));
	if (!vs)
		return -ENOMEM;
	for (int i = 0; !r.err && i < vm->nr_vcpus; i++) {
		snprintf(what, sizeof(what), "vcpu%d", i);
		r.what = what;
		rc = vcpu_state_parse(&r, &host, &vs[i]);
	}
	r.what = "cpu state";
	rc = state_end(&r, err, errlen);
	if (!rc)
		rc = vm_state_apply(vm->vm_fd, vm->irqchip, &ms, vm->clock_realtime, err, errlen);
	for (int i = 0; !rc && i < vm->nr_vcpus; i++)
		rc = vcpu_state_apply(vm->vcpus[i].fd, vs[i], err, errlen);
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_state_free(vs[i]);
	free(vs);
	if (!rc)
		vm->cpu_restored = 1;
	return rc;
}
