/* libFuzzer target for the parsers of the vCPU and VM snapshot sections
 * (vcpu_state_parse, vm_state_parse), without KVM. The first byte picks
 * the parser and this "host's" XSAVE size; the rest is the section. An
 * accepted vCPU section must have its counts inside their arrays and an
 * XSAVE area of exactly the host's size; a refused one must say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/vcpu_state.h"
#include "arch/x86/vm_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t xsave_sizes[] = {0, 4096, 2696 + 4096, 11008};
	struct vcpu_state_host host;
	struct state_reader r;
	uint8_t sel;

	if (size < 1)
		return 0;
	sel = data[0];
	state_reader_init(&r, data + 1, size - 1, "fuzz");
	if (sel & 0x80) {
		struct vm_state s;

		if (vm_state_parse(&r, &s)) {
			if (!r.msg[0])
				abort();
		} else if ((s.flags & VM_STATE_F_IRQCHIP) &&
			   (s.chips[0].chip_id != 0 || s.chips[2].chip_id != 2)) {
			abort();
		}
		return 0;
	}
	host.xsave_size = xsave_sizes[sel & 3];
	host.xcrs = sel & 4;
	{
		struct vcpu_kvm_state *s;

		if (vcpu_state_parse(&r, &host, &s)) {
			if (s || !r.msg[0])
				abort();
			return 0;
		}
		if (s->nmsrs > VCPU_STATE_MAX_MSRS || s->ncpuid > VCPU_STATE_MAX_CPUID ||
		    s->ncpuid == 0)
			abort();
		if ((s->flags & VCPU_STATE_F_XSAVE) &&
		    (s->xsave_size != host.xsave_size || !s->xsave))
			abort();
		/* Touch every byte the parser claims to own. */
		if (s->xsave_size && (s->xsave[0] ^ s->xsave[s->xsave_size - 1]) == 0x1ff)
			abort();
		vcpu_state_free(s);
	}
	return 0;
}
