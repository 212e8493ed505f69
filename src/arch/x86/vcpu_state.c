/* One vCPU's KVM state as a snapshot section: save, a pure parser, apply. */
#include "arch/x86/vcpu_state.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* MSRs that CPUID implies but that older kernels leave out of
 * KVM_GET_MSR_INDEX_LIST: the SYSCALL/SYSENTER set, PAT, TSC_AUX, the APIC
 * base, and KVM's paravirtual MSRs (kvmclock, async PF, steal time, PV EOI,
 * poll control). Whatever KVM_GET_MSRS refuses is dropped at save. */
static const uint32_t extra_msrs[] = {
    MSR_IA32_TSC_, 0x1b,       0x3b,
    0x174,	   0x175,      0x176,
    0x1a0,	   0x277,      MSR_IA32_TSC_DEADLINE_,
    0xc0000081,	   0xc0000082, 0xc0000083,
    0xc0000084,	   0xc0000102, 0xc0000103,
    0x4b564d00,	   0x4b564d01, 0x4b564d02,
    0x4b564d03,	   0x4b564d04, 0x4b564d05,
    0x4b564d06,
};

void vcpu_state_host_probe(int kvm_fd, struct vcpu_state_host *h)
{
	int n;

	memset(h, 0, sizeof(*h));
	n = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (n >= (int)sizeof(struct kvm_xsave))
		h->xsave_size = (uint32_t)n;
	else if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0)
		h->xsave_size = sizeof(struct kvm_xsave);
	h->xcrs = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The index list plus extra_msrs, sorted, without duplicates. */
static int msr_indexes(int kvm_fd, uint32_t **out, uint32_t *nout)
{
	struct kvm_msr_list probe = {0}, *l;
	uint32_t *idx, n = 0, total;

	if (ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
		return -errno;
	if (probe.nmsrs > VCPU_STATE_MAX_MSRS)
		probe.nmsrs = VCPU_STATE_MAX_MSRS;
	l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(uint32_t));
	if (!l)
		return -ENOMEM;
	l->nmsrs = probe.nmsrs;
	if (probe.nmsrs && ioctl(kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
		int rc = -errno;

		free(l);
		return rc;
	}
	total = l->nmsrs + (uint32_t)ARRAY_SIZE(extra_msrs);
	idx = malloc(total * sizeof(*idx));
	if (!idx) {
		free(l);
		return -ENOMEM;
	}
	memcpy(idx, l->indices, l->nmsrs * sizeof(*idx));
	memcpy(idx + l->nmsrs, extra_msrs, sizeof(extra_msrs));
	free(l);
	qsort(idx, total, sizeof(*idx), cmp_u32);
	for (uint32_t i = 0; i < total; i++)
		if (n == 0 || idx[i] != idx[n - 1])
			idx[n++] = idx[i];
	*out = idx;
	*nout = MIN(n, VCPU_STATE_MAX_MSRS);
	return 0;
}

/* KVM's paravirtual MSRs (kvmclock, async PF, steal time, PV EOI, poll
 * control, async PF vector) read 0 until the guest enables them, and KVM
 * may refuse a host write of 0 to one the guest never used (0x4b564d06 on
 * this host's KVM). 0 is their state in a new vCPU, which restore always
 * targets, so a 0 is not saved. */
static bool pv_reset(const struct kvm_msr_entry *e)
{
	return e->data == 0 && e->index >= 0x4b564d00 && e->index <= 0x4b564d06;
}

/* Reads every MSR KVM_GET_MSRS accepts. KVM stops at the first one it
 * refuses and returns how many it read: that one is dropped and the rest
 * read again, so a list of n costs about n/accepted-run ioctls. */
static int read_msrs(int vcpu_fd, int kvm_fd, struct vcpu_state_msr *msrs, uint32_t *nmsrs)
{
	struct kvm_msrs *m;
	uint32_t *idx = NULL, n = 0, got = 0;
	int rc = msr_indexes(kvm_fd, &idx, &n);

	if (rc)
		return rc;
	m = calloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
	if (!m) {
		free(idx);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n;) {
		int r;

		m->nmsrs = n - i;
		for (uint32_t j = 0; j < m->nmsrs; j++)
			m->entries[j] = (struct kvm_msr_entry){.index = idx[i + j]};
		r = ioctl(vcpu_fd, KVM_GET_MSRS, m);
		if (r < 0) {
			rc = -errno;
			break;
		}
		for (int j = 0; j < r; j++)
			if (!pv_reset(&m->entries[j]))
				msrs[got++] = (struct vcpu_state_msr){m->entries[j].index,
								      m->entries[j].data};
		i += (uint32_t)r + ((uint32_t)r < m->nmsrs);
	}
	free(m);
	free(idx);
	*nmsrs = got;
	return rc;
}

/* A TSC deadline of 0 restored as 0 would disarm a timer the guest armed
 * and that KVM reports as 0 once it fired but before the interrupt was
 * taken: the saved TSC makes it fire at once instead. */
static void fix_tsc_deadline(struct vcpu_kvm_state *s)
{
	uint64_t tsc = 0;
	bool have_tsc = false;

	for (uint32_t i = 0; i < s->nmsrs; i++)
		if (s->msrs[i].index == MSR_IA32_TSC_) {
			tsc = s->msrs[i].data;
			have_tsc = true;
		}
	for (uint32_t i = 0; have_tsc && i < s->nmsrs; i++)
		if (s->msrs[i].index == MSR_IA32_TSC_DEADLINE_ && s->msrs[i].data == 0)
			s->msrs[i].data = tsc;
}

static int read_cpuid(int vcpu_fd, struct vcpu_kvm_state *s)
{
	struct kvm_cpuid2 *c =
	    calloc(1, sizeof(*c) + VCPU_STATE_MAX_CPUID * sizeof(struct kvm_cpuid_entry2));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->nent = VCPU_STATE_MAX_CPUID;
	if (ioctl(vcpu_fd, KVM_GET_CPUID2, c) < 0) {
		rc = -errno;
	} else if (c->nent == 0 || c->nent > VCPU_STATE_MAX_CPUID) {
		rc = -ERANGE;
	} else {
		s->ncpuid = c->nent;
		for (uint32_t i = 0; i < c->nent; i++) {
			const struct kvm_cpuid_entry2 *e = &c->entries[i];

			s->cpuid[i] = (struct vcpu_state_cpuid){
			    e->function, e->index, e->flags, e->eax, e->ebx, e->ecx, e->edx};
		}
	}
	free(c);
	return rc;
}

/* Everything in save order, events last: anything KVM queued while the
 * other registers were read is in them. */
static int read_state(int vcpu_fd, int kvm_fd, struct vcpu_kvm_state *s)
{
	struct kvm_mp_state mp;
	struct vcpu_state_host h;
	int rc, khz;

	vcpu_state_host_probe(kvm_fd, &h);
	if (ioctl(vcpu_fd, KVM_GET_MP_STATE, &mp) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_REGS, &s->regs) < 0 ||
	    ioctl(vcpu_fd, KVM_GET_SREGS, &s->sregs) < 0)
		return -errno;
	s->mp_state = mp.mp_state;
	if (h.xsave_size) {
		s->xsave = calloc(1, h.xsave_size);
		if (!s->xsave)
			return -ENOMEM;
		s->xsave_size = h.xsave_size;
		s->flags |= VCPU_STATE_F_XSAVE;
		if (ioctl(vcpu_fd,
			  h.xsave_size > sizeof(struct kvm_xsave) ? KVM_GET_XSAVE2 : KVM_GET_XSAVE,
			  s->xsave) < 0)
			return -errno;
	} else if (ioctl(vcpu_fd, KVM_GET_FPU, &s->fpu) < 0) {
		return -errno;
	}
	if (h.xcrs) {
		if (ioctl(vcpu_fd, KVM_GET_XCRS, &s->xcrs) < 0)
			return -errno;
		s->flags |= VCPU_STATE_F_XCRS;
	}
	if (ioctl(vcpu_fd, KVM_GET_DEBUGREGS, &s->debugregs) < 0)
		return -errno;
	/* Without the in-kernel irqchip there is no LAPIC to save. */
	if (ioctl(vcpu_fd, KVM_GET_LAPIC, &s->lapic) == 0)
		s->flags |= VCPU_STATE_F_LAPIC;
	else if (errno != ENXIO && errno != EINVAL)
		return -errno;
	rc = read_msrs(vcpu_fd, kvm_fd, s->msrs, &s->nmsrs);
	if (rc)
		return rc;
	fix_tsc_deadline(s);
	rc = read_cpuid(vcpu_fd, s);
	if (rc)
		return rc;
	khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
	s->tsc_khz = khz > 0 ? (uint32_t)khz : 0;
	if (ioctl(vcpu_fd, KVM_GET_VCPU_EVENTS, &s->events) < 0)
		return -errno;
	return 0;
}

static void put_blob(struct state_buf *b, const void *p, uint32_t n)
{
	state_put_u32(b, n);
	state_put_bytes(b, p, n);
}

static void write_payload(struct state_buf *b, const struct vcpu_kvm_state *s)
{
	state_put_u32(b, s->flags);
	state_put_u32(b, s->mp_state);
	put_blob(b, &s->regs, sizeof(s->regs));
	put_blob(b, &s->sregs, sizeof(s->sregs));
	if (s->flags & VCPU_STATE_F_XSAVE)
		put_blob(b, s->xsave, s->xsave_size);
	else
		put_blob(b, &s->fpu, sizeof(s->fpu));
	put_blob(b, &s->xcrs, (s->flags & VCPU_STATE_F_XCRS) ? sizeof(s->xcrs) : 0);
	put_blob(b, &s->debugregs, sizeof(s->debugregs));
	put_blob(b, &s->lapic, (s->flags & VCPU_STATE_F_LAPIC) ? sizeof(s->lapic) : 0);
	state_put_u32(b, s->nmsrs);
	for (uint32_t i = 0; i < s->nmsrs; i++) {
		state_put_u32(b, s->msrs[i].index);
		state_put_u64(b, s->msrs[i].data);
	}
	state_put_u32(b, s->ncpuid);
	for (uint32_t i = 0; i < s->ncpuid; i++) {
		const struct vcpu_state_cpuid *c = &s->cpuid[i];

		state_put_u32(b, c->function);
		state_put_u32(b, c->index);
		state_put_u32(b, c->flags);
		state_put_u32(b, c->eax);
		state_put_u32(b, c->ebx);
		state_put_u32(b, c->ecx);
		state_put_u32(b, c->edx);
	}
	state_put_u32(b, s->tsc_khz);
	put_blob(b, &s->events, sizeof(s->events));
}

int vcpu_state_save(int vcpu_fd, int kvm_fd, struct state_buf *out)
{
	struct vcpu_kvm_state *s = calloc(1, sizeof(*s));
	struct state_buf p;
	int rc;

	if (!s)
		return -ENOMEM;
	state_buf_init(&p);
	rc = read_state(vcpu_fd, kvm_fd, s);
	if (rc)
		goto out;
	write_payload(&p, s);
	rc = p.err;
	if (rc)
		goto out;
	if (p.len > STATE_SECTION_MAX) {
		rc = -E2BIG;
		goto out;
	}
	state_put_u8(out, sizeof(VCPU_STATE_NAME) - 1);
	state_put_bytes(out, VCPU_STATE_NAME, sizeof(VCPU_STATE_NAME) - 1);
	state_put_u32(out, VCPU_STATE_VERSION);
	state_put_u32(out, (uint32_t)p.len);
	state_put_bytes(out, p.data, p.len);
	rc = out->err;
out:
	state_buf_free(&p);
	vcpu_state_free(s);
	return rc;
}

void vcpu_state_free(struct vcpu_kvm_state *s)
{
	if (!s)
		return;
	free(s->xsave);
	free(s);
}

/* A size field that must be exactly `want`. */
static bool get_size(struct state_reader *r, const char *field, uint32_t want)
{
	uint32_t v = state_get_u32(r);

	if (!r->err && v != want)
		state_fail(r, "%s size %u, expected %u", field, v, want);
	return !r->err;
}

static void get_blob(struct state_reader *r, const char *field, void *dst, uint32_t n)
{
	if (get_size(r, field, n))
		state_get_bytes(r, dst, n);
}

static void parse_fpu(struct state_reader *r, const struct vcpu_state_host *host,
		      struct vcpu_kvm_state *s)
{
	if (!(s->flags & VCPU_STATE_F_XSAVE)) {
		get_blob(r, "fpu", &s->fpu, sizeof(s->fpu));
		return;
	}
	if (!host->xsave_size || host->xsave_size > VCPU_STATE_MAX_XSAVE) {
		state_fail(r, "xsave state present, this host's KVM has no XSAVE");
		return;
	}
	/* GUEST: the area is as large as this host's KVM says, exactly. */
	if (!get_size(r, "xsave", host->xsave_size))
		return;
	s->xsave = calloc(1, host->xsave_size);
	if (!s->xsave) {
		state_fail(r, "out of memory");
		return;
	}
	s->xsave_size = host->xsave_size;
	state_get_bytes(r, s->xsave, s->xsave_size);
}

static void parse_msrs(struct state_reader *r, struct vcpu_kvm_state *s)
{
	uint32_t n = state_get_u32(r);

	/* GUEST: nmsrs bounded by VCPU_STATE_MAX_MSRS (the array's size). */
	if (!state_check(r, n <= VCPU_STATE_MAX_MSRS, "nmsrs", n))
		return;
	for (uint32_t i = 0; i < n && !r->err; i++) {
		s->msrs[i].index = state_get_u32(r);
		s->msrs[i].data = state_get_u64(r);
		if (i > 0 && !r->err && s->msrs[i].index <= s->msrs[i - 1].index)
			state_fail(r, "msr %u index %#x not above the previous one", i,
				   s->msrs[i].index);
	}
	s->nmsrs = r->err ? 0 : n;
}

static void parse_cpuid(struct state_reader *r, struct vcpu_kvm_state *s)
{
	uint32_t n = state_get_u32(r);

	/* GUEST: entries bounded by KVM's KVM_MAX_CPUID_ENTRIES. */
	if (!state_check(r, n >= 1 && n <= VCPU_STATE_MAX_CPUID, "cpuid entries", n))
		return;
	for (uint32_t i = 0; i < n && !r->err; i++) {
		struct vcpu_state_cpuid *c = &s->cpuid[i];

		c->function = state_get_u32(r);
		c->index = state_get_u32(r);
		c->flags = state_get_u32(r);
		c->eax = state_get_u32(r);
		c->ebx = state_get_u32(r);
		c->ecx = state_get_u32(r);
		c->edx = state_get_u32(r);
	}
	s->ncpuid = r->err ? 0 : n;
}

static void parse_payload(struct state_reader *r, const struct vcpu_state_host *host,
			  struct vcpu_kvm_state *s)
{
	s->flags = state_get_u32(r);
	if (!state_check(r, !(s->flags & ~VCPU_STATE_F_ALL), "flags", s->flags))
		return;
	s->mp_state = state_get_u32(r);
	state_check(r, s->mp_state <= VCPU_STATE_MP_MAX, "mp_state", s->mp_state);
	get_blob(r, "regs", &s->regs, sizeof(s->regs));
	get_blob(r, "sregs", &s->sregs, sizeof(s->sregs));
	parse_fpu(r, host, s);
	if (s->flags & VCPU_STATE_F_XCRS) {
		if (!host->xcrs)
			state_fail(r, "xcrs present, this host's KVM has no KVM_CAP_XCRS");
		get_blob(r, "xcrs", &s->xcrs, sizeof(s->xcrs));
		state_check(r, s->xcrs.nr_xcrs <= KVM_MAX_XCRS, "nr_xcrs", s->xcrs.nr_xcrs);
	} else {
		get_size(r, "xcrs", 0);
	}
	get_blob(r, "debugregs", &s->debugregs, sizeof(s->debugregs));
	get_blob(r, "lapic", &s->lapic, (s->flags & VCPU_STATE_F_LAPIC) ? sizeof(s->lapic) : 0);
	parse_msrs(r, s);
	parse_cpuid(r, s);
	s->tsc_khz = state_get_u32(r);
	get_blob(r, "events", &s->events, sizeof(s->events));
}

int vcpu_state_parse(struct state_reader *in, const struct vcpu_state_host *host,
		     struct vcpu_kvm_state **out)
{
	char name[sizeof(VCPU_STATE_NAME) - 1];
	struct state_reader sub;
	struct vcpu_kvm_state *s;
	uint32_t version, len;
	uint8_t nl;

	*out = NULL;
	nl = state_get_u8(in);
	if (!state_check(in, nl == sizeof(name), "section name length", nl))
		return in->err;
	state_get_bytes(in, name, sizeof(name));
	if (!in->err && memcmp(name, VCPU_STATE_NAME, sizeof(name)))
		state_fail(in, "not a vcpu section (%.4s)", name);
	version = state_get_u32(in);
	if (!in->err && (version == 0 || version > VCPU_STATE_VERSION))
		state_fail(in, "section version %u not supported (1..%u)", version,
			   VCPU_STATE_VERSION);
	len = state_get_u32(in);
	/* GUEST: the payload length bounded by STATE_SECTION_MAX and by what
	 * is left (state_get_reader). */
	state_check(in, len <= STATE_SECTION_MAX, "payload length", len);
	state_get_reader(in, &sub, len);
	if (in->err)
		return in->err;
	s = calloc(1, sizeof(*s));
	if (!s) {
		state_fail(in, "out of memory");
		return -ENOMEM;
	}
	parse_payload(&sub, host, s);
	if (state_end(&sub, NULL, 0)) {
		in->err = sub.err;
		memcpy(in->msg, sub.msg, sizeof(in->msg));
		vcpu_state_free(s);
		return in->err;
	}
	*out = s;
	return 0;
}

static int fail(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "vcpu: %s: %s", what, strerror(e));
	return -e;
}

static int set_cpuid(int vcpu_fd, const struct vcpu_kvm_state *s)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + s->ncpuid * sizeof(struct kvm_cpuid_entry2));
	int rc = 0;

	if (!c)
		return -ENOMEM;
	c->nent = s->ncpuid;
	for (uint32_t i = 0; i < s->ncpuid; i++) {
		const struct vcpu_state_cpuid *e = &s->cpuid[i];

		c->entries[i] = (struct kvm_cpuid_entry2){.function = e->function,
							  .index = e->index,
							  .flags = e->flags,
							  .eax = e->eax,
							  .ebx = e->ebx,
							  .ecx = e->ecx,
							  .edx = e->edx};
	}
	if (ioctl(vcpu_fd, KVM_SET_CPUID2, c) < 0)
		rc = -errno;
	free(c);
	return rc;
}

/* KVM scales the TSC only with KVM_CAP_TSC_CONTROL (absent on some hosts):
 * a guest whose TSC would run at another rate is refused, not run wrong. */
static int set_tsc_khz(int vcpu_fd, const struct vcpu_kvm_state *s, char *err, size_t errlen)
{
	int cur = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);

	if (!s->tsc_khz || (cur > 0 && (uint32_t)cur == s->tsc_khz))
		return 0;
	if (ioctl(vcpu_fd, KVM_SET_TSC_KHZ, (unsigned long)s->tsc_khz) < 0) {
		snprintf(err, errlen,
			 "vcpu: tsc_khz %u differs from this host's %d and KVM "
			 "cannot scale it: %s",
			 s->tsc_khz, cur, strerror(errno));
		return -errno;
	}
	return 0;
}

static int set_msrs(int vcpu_fd, const struct vcpu_kvm_state *s, char *err, size_t errlen)
{
	struct kvm_msrs *m = calloc(1, sizeof(*m) + s->nmsrs * sizeof(struct kvm_msr_entry));
	int r;

	if (!m)
		return -ENOMEM;
	m->nmsrs = s->nmsrs;
	for (uint32_t i = 0; i < s->nmsrs; i++)
		m->entries[i] =
		    (struct kvm_msr_entry){.index = s->msrs[i].index, .data = s->msrs[i].data};
	r = ioctl(vcpu_fd, KVM_SET_MSRS, m);
	free(m);
	if (r < 0)
		return fail(err, errlen, "KVM_SET_MSRS", errno);
	if ((uint32_t)r < s->nmsrs) {
		snprintf(err, errlen, "vcpu: KVM_SET_MSRS refused msr %#x (%u of %u set)",
			 s->msrs[r].index, (unsigned)r, s->nmsrs);
		return -EINVAL;
	}
	return 0;
}

int vcpu_state_apply(int vcpu_fd, const struct vcpu_kvm_state *s, char *err, size_t errlen)
{
	struct kvm_mp_state mp = {.mp_state = s->mp_state};
	int rc;

	rc = set_cpuid(vcpu_fd, s);
	if (rc)
		return fail(err, errlen, "KVM_SET_CPUID2", -rc);
	rc = set_tsc_khz(vcpu_fd, s, err, errlen);
	if (rc)
		return rc;
	if (ioctl(vcpu_fd, KVM_SET_MP_STATE, &mp) < 0)
		return fail(err, errlen, "KVM_SET_MP_STATE", errno);
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &s->sregs) < 0)
		return fail(err, errlen, "KVM_SET_SREGS", errno);
	if (ioctl(vcpu_fd, KVM_SET_REGS, &s->regs) < 0)
		return fail(err, errlen, "KVM_SET_REGS", errno);
	/* Right after regs: KVM_SET_REGS drops a pending exception. */
	if (ioctl(vcpu_fd, KVM_SET_VCPU_EVENTS, &s->events) < 0)
		return fail(err, errlen, "KVM_SET_VCPU_EVENTS", errno);
	if (s->flags & VCPU_STATE_F_XSAVE) {
		if (ioctl(vcpu_fd, KVM_SET_XSAVE, s->xsave) < 0)
			return fail(err, errlen, "KVM_SET_XSAVE", errno);
	} else if (ioctl(vcpu_fd, KVM_SET_FPU, &s->fpu) < 0) {
		return fail(err, errlen, "KVM_SET_FPU", errno);
	}
	if ((s->flags & VCPU_STATE_F_XCRS) && ioctl(vcpu_fd, KVM_SET_XCRS, &s->xcrs) < 0)
		return fail(err, errlen, "KVM_SET_XCRS", errno);
	if (ioctl(vcpu_fd, KVM_SET_DEBUGREGS, &s->debugregs) < 0)
		return fail(err, errlen, "KVM_SET_DEBUGREGS", errno);
	if ((s->flags & VCPU_STATE_F_LAPIC) && ioctl(vcpu_fd, KVM_SET_LAPIC, &s->lapic) < 0)
		return fail(err, errlen, "KVM_SET_LAPIC", errno);
	return set_msrs(vcpu_fd, s, err, errlen);
}

int vcpu_state_restore(int vcpu_fd, int kvm_fd, struct state_reader *in, char *err, size_t errlen)
{
	struct vcpu_state_host host;
	struct vcpu_kvm_state *s;
	int rc;

	vcpu_state_host_probe(kvm_fd, &host);
	rc = vcpu_state_parse(in, &host, &s);
	if (rc) {
		snprintf(err, errlen, "%s", in->msg);
		return rc;
	}
	rc = vcpu_state_apply(vcpu_fd, s, err, errlen);
	vcpu_state_free(s);
	return rc;
}
