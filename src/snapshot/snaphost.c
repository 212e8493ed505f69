/* The host signature of a snapshot (struct snap_host, snapfile.h): what a
 * saved vCPU and VM state depends on in the host that saved it. KVM's
 * supported CPUID and MSR list are reduced to a count and a CRC32C over a
 * sorted copy, since KVM does not promise an order; the sizes of the KVM
 * structs the state sections copy byte for byte catch a kernel whose
 * structs grew. Restoring on a host that differs would hand the guest a
 * CPU it did not boot with, so the check names the first difference. */
#include "snapshot/snapfile.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <linux/kvm.h>

#include "snapshot/crc32c.h"

/* KVM answers with a few hundred of each; these only stop a broken kernel
 * from making kite allocate without end. */
#define CPUID_MAX 4096
#define MSR_MAX 16384

#define ANOTHER_HOST "snapshot taken on another host: "

static const char *const struct_names[SNAP_SZ_NR] = {
    "kvm_regs",	      "kvm_sregs",	"kvm_fpu",	   "kvm_xsave",
    "kvm_xcrs",	      "kvm_debugregs",	"kvm_lapic_state", "kvm_vcpu_events",
    "kvm_clock_data", "kvm_pit_state2", "kvm_irqchip",
};

const char *snap_host_struct_name(int i)
{
	return i >= 0 && i < SNAP_SZ_NR ? struct_names[i] : "?";
}

static int cmp_cpuid(const void *a, const void *b)
{
	const struct kvm_cpuid_entry2 *x = a, *y = b;

	if (x->function != y->function)
		return x->function < y->function ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Little-endian words, so the value is the file format's, not the CPU's. */
static uint32_t crc_words(uint32_t crc, const uint32_t *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t le = htole32(w[i]);

		crc = crc32c(crc, &le, sizeof(le));
	}
	return crc;
}

/* KVM fills in the APIC ID of the host CPU the ioctl happened to run on;
 * the VMM sets each vCPU's own, so these bits say nothing about the host. */
static void drop_apic_ids(struct kvm_cpuid_entry2 *e)
{
	switch (e->function) {
	case 0x1:
		e->ebx &= 0x00ffffff; /* initial APIC ID */
		break;
	case 0xb:
	case 0x1f:
		e->edx = 0; /* x2APIC ID */
		break;
	case 0x8000001e:
		e->eax = e->ebx = e->ecx = 0; /* extended APIC, core and node IDs */
		break;
	}
}

static void hash_cpuid(struct kvm_cpuid2 *c, struct snap_host *out)
{
	uint32_t crc = 0;

	qsort(c->entries, c->nent, sizeof(c->entries[0]), cmp_cpuid);
	for (uint32_t i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		drop_apic_ids(e);
		/* Not the padding: only what KVM reports counts. */
		uint32_t w[] = {e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx};

		crc = crc_words(crc, w, ARRAY_SIZE(w));
	}
	out->cpuid_nent = c->nent;
	out->cpuid_crc = crc;
}

/* KVM fails with E2BIG until nent is at least what it has, and says not
 * how many that is: grow until it fits. */
static int probe_cpuid(int kvm_fd, struct snap_host *out)
{
	for (uint32_t nent = 64; nent <= CPUID_MAX; nent *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));
		int rc = 0;

		if (!c)
			return -ENOMEM;
		c->nent = nent;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0)
			rc = -errno;
		else if (c->nent > nent)
			rc = -EIO;
		else
			hash_cpuid(c, out);
		free(c);
		if (rc != -E2BIG)
			return rc;
	}
	return -E2BIG;
}

static int probe_msrs(int kvm_fd, struct snap_host *out)
{
	struct kvm_msr_list probe = {.nmsrs = 0};
	struct kvm_msr_list *l;
	uint32_t n;
	int rc = 0;

	/* With room for none, KVM answers E2BIG and the count it needs. */
	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	n = probe.nmsrs;
	if (n > MSR_MAX)
		return -E2BIG;
	l = calloc(1, sizeof(*l) + (n ? n : 1) * sizeof(l->indices[0]));
	if (!l)
		return -ENOMEM;
	l->nmsrs = n;
	if (n && ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0)
		rc = -errno;
	else if (l->nmsrs > n)
		rc = -EIO;
	if (!rc) {
		qsort(l->indices, l->nmsrs, sizeof(l->indices[0]), cmp_u32);
		out->msr_nent = l->nmsrs;
		out->msr_crc = crc_words(0, l->indices, l->nmsrs);
	}
	free(l);
	return rc;
}

int snap_host_probe(int kvm_fd, uint32_t tsc_khz, struct snap_host *out)
{
	int r, rc;

	memset(out, 0, sizeof(*out));
	r = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	if (r < 0)
		return -errno;
	out->kvm_api_version = r;
	out->tsc_khz = tsc_khz;
	rc = probe_cpuid(kvm_fd, out);
	if (!rc)
		rc = probe_msrs(kvm_fd, out);
	if (rc)
		return rc;
	/* Without XSAVE2 the area is the fixed 4 KiB of struct kvm_xsave. */
	r = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	out->size[SNAP_SZ_XSAVE] = r > 0 ? (uint32_t)r : sizeof(struct kvm_xsave);
	out->size[SNAP_SZ_REGS] = sizeof(struct kvm_regs);
	out->size[SNAP_SZ_SREGS] = sizeof(struct kvm_sregs);
	out->size[SNAP_SZ_FPU] = sizeof(struct kvm_fpu);
	out->size[SNAP_SZ_XCRS] = sizeof(struct kvm_xcrs);
	out->size[SNAP_SZ_DEBUGREGS] = sizeof(struct kvm_debugregs);
	out->size[SNAP_SZ_LAPIC] = sizeof(struct kvm_lapic_state);
	out->size[SNAP_SZ_VCPU_EVENTS] = sizeof(struct kvm_vcpu_events);
	out->size[SNAP_SZ_CLOCK] = sizeof(struct kvm_clock_data);
	out->size[SNAP_SZ_PIT2] = sizeof(struct kvm_pit_state2);
	out->size[SNAP_SZ_IRQCHIP] = sizeof(struct kvm_irqchip);
	return 0;
}

static int first_size_diff(const struct snap_host *s, const struct snap_host *h)
{
	for (int i = 0; i < SNAP_SZ_NR; i++)
		if (s->size[i] != h->size[i])
			return i;
	return -1;
}

/* The order puts first what makes the saved bytes unusable outright. */
int snap_host_check(const struct snap_host *saved, const struct snap_host *here, char *err,
		    size_t errlen)
{
	const struct snap_host *s = saved, *h = here;
	int sz = first_size_diff(s, h);

	if (s->kvm_api_version != h->kvm_api_version)
		snprintf(err, errlen, ANOTHER_HOST "KVM API version %u there, %u here",
			 s->kvm_api_version, h->kvm_api_version);
	else if (sz >= 0)
		snprintf(err, errlen, ANOTHER_HOST "struct %s %u bytes there, %u here",
			 struct_names[sz], s->size[sz], h->size[sz]);
	else if (s->cpuid_nent != h->cpuid_nent || s->cpuid_crc != h->cpuid_crc)
		snprintf(err, errlen,
			 ANOTHER_HOST "CPUID differs (%u entries, checksum 0x%08x there; "
				      "%u entries, 0x%08x here)",
			 s->cpuid_nent, s->cpuid_crc, h->cpuid_nent, h->cpuid_crc);
	else if (s->msr_nent != h->msr_nent || s->msr_crc != h->msr_crc)
		snprintf(err, errlen,
			 ANOTHER_HOST "MSR list differs (%u MSRs, checksum 0x%08x there; "
				      "%u MSRs, 0x%08x here)",
			 s->msr_nent, s->msr_crc, h->msr_nent, h->msr_crc);
	/* 0 is "not measured": only two measurements can disagree. */
	else if (s->tsc_khz && h->tsc_khz && s->tsc_khz != h->tsc_khz)
		snprintf(err, errlen, ANOTHER_HOST "TSC %u kHz there, %u kHz here", s->tsc_khz,
			 h->tsc_khz);
	else
		return 0;
	return -EINVAL;
}
