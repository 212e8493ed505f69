/* The VM-wide KVM state as a snapshot section: save, a pure parser, apply. */
#include "arch/x86/vm_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

static void put_blob(struct state_buf *b, const void *p, uint32_t n)
{
	state_put_u32(b, n);
	state_put_bytes(b, p, n);
}

int vm_state_save(int vm_fd, bool irqchip, struct state_buf *out)
{
	struct vm_state s;
	struct state_buf p;
	int rc;

	memset(&s, 0, sizeof(s));
	if (ioctl(vm_fd, KVM_GET_CLOCK, &s.clock) < 0)
		return -errno;
	if (!(s.clock.flags & KVM_CLOCK_REALTIME)) {
		/* KVM pairs the two readings only on a TSC-clocked host; the
		 * moment right after the read is close enough for a restore's
		 * wall-clock catch-up (which is milliseconds at best anyway). */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		s.clock.realtime = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		s.clock.flags |= KVM_CLOCK_REALTIME;
	}
	if (irqchip) {
		s.flags |= VM_STATE_F_IRQCHIP;
		if (ioctl(vm_fd, KVM_GET_PIT2, &s.pit) < 0)
			return -errno;
		for (uint32_t i = 0; i < VM_STATE_NR_CHIPS; i++) {
			s.chips[i].chip_id = i;
			if (ioctl(vm_fd, KVM_GET_IRQCHIP, &s.chips[i]) < 0)
				return -errno;
		}
	}
	state_buf_init(&p);
	state_put_u32(&p, s.flags);
	put_blob(&p, &s.clock, sizeof(s.clock));
	if (irqchip) {
		put_blob(&p, &s.pit, sizeof(s.pit));
		for (int i = 0; i < VM_STATE_NR_CHIPS; i++)
			put_blob(&p, &s.chips[i], sizeof(s.chips[i]));
	}
	rc = p.err;
	if (!rc) {
		state_put_u8(out, sizeof(VM_STATE_NAME) - 1);
		state_put_bytes(out, VM_STATE_NAME, sizeof(VM_STATE_NAME) - 1);
		state_put_u32(out, VM_STATE_VERSION);
		state_put_u32(out, (uint32_t)p.len);
		state_put_bytes(out, p.data, p.len);
		rc = out->err;
	}
	state_buf_free(&p);
	return rc;
}

static void get_blob(struct state_reader *r, const char *field, void *dst, uint32_t n)
{
	uint32_t v = state_get_u32(r);

	if (!r->err && v != n)
		state_fail(r, "%s size %u, expected %u", field, v, n);
	state_get_bytes(r, dst, n);
}

static void parse_payload(struct state_reader *r, struct vm_state *s)
{
	static const char *const chip_names[VM_STATE_NR_CHIPS] = {"pic master", "pic slave",
								  "ioapic"};

	s->flags = state_get_u32(r);
	if (!state_check(r, !(s->flags & ~VM_STATE_F_IRQCHIP), "flags", s->flags))
		return;
	get_blob(r, "clock", &s->clock, sizeof(s->clock));
	if (!(s->flags & VM_STATE_F_IRQCHIP))
		return;
	get_blob(r, "pit", &s->pit, sizeof(s->pit));
	for (uint32_t i = 0; i < VM_STATE_NR_CHIPS; i++) {
		get_blob(r, chip_names[i], &s->chips[i], sizeof(s->chips[i]));
		if (!r->err && s->chips[i].chip_id != i)
			state_fail(r, "%s chip_id %u, expected %u", chip_names[i],
				   s->chips[i].chip_id, i);
	}
}

int vm_state_parse(struct state_reader *in, struct vm_state *s)
{
	char name[sizeof(VM_STATE_NAME) - 1];
	struct state_reader sub;
	uint32_t version, len;
	uint8_t nl;

	memset(s, 0, sizeof(*s));
	nl = state_get_u8(in);
	if (!state_check(in, nl == sizeof(name), "section name length", nl))
		return in->err;
	state_get_bytes(in, name, sizeof(name));
	if (!in->err && memcmp(name, VM_STATE_NAME, sizeof(name)))
		state_fail(in, "not a vm section (%.2s)", name);
	version = state_get_u32(in);
	if (!in->err && (version == 0 || version > VM_STATE_VERSION))
		state_fail(in, "section version %u not supported (1..%u)", version,
			   VM_STATE_VERSION);
	len = state_get_u32(in);
	/* GUEST: payload length bounded by STATE_SECTION_MAX and what is left. */
	state_check(in, len <= STATE_SECTION_MAX, "payload length", len);
	state_get_reader(in, &sub, len);
	if (in->err)
		return in->err;
	parse_payload(&sub, s);
	if (state_end(&sub, NULL, 0)) {
		in->err = sub.err;
		memcpy(in->msg, sub.msg, sizeof(in->msg));
	}
	return in->err;
}

static int fail(char *err, size_t errlen, const char *what, int e)
{
	snprintf(err, errlen, "vm: %s: %s", what, strerror(e));
	return -e;
}

int vm_state_apply(int vm_fd, bool irqchip, const struct vm_state *s, bool realtime, char *err,
		   size_t errlen)
{
	/* The clock value, and with realtime the saving host's wall-clock
	 * moment: KVM then adds the wall-clock time since (api.rst,
	 * KVM_SET_CLOCK), so the guest's clocks move on as across a pause.
	 * Without it (an in-process restore) the clock resumes where it was. */
	struct kvm_clock_data clock = {.clock = s->clock.clock};

	if (realtime && (s->clock.flags & KVM_CLOCK_REALTIME)) {
		clock.flags = KVM_CLOCK_REALTIME;
		clock.realtime = s->clock.realtime;
	}

	if (irqchip != !!(s->flags & VM_STATE_F_IRQCHIP)) {
		snprintf(err, errlen,
			 "vm: the section was saved %s the in-kernel irqchip and "
			 "this VM has %s",
			 irqchip ? "without" : "with", irqchip ? "one" : "none");
		return -EINVAL;
	}
	if (ioctl(vm_fd, KVM_SET_CLOCK, &clock) < 0)
		return fail(err, errlen, "KVM_SET_CLOCK", errno);
	if (!irqchip)
		return 0;
	if (ioctl(vm_fd, KVM_SET_PIT2, &s->pit) < 0)
		return fail(err, errlen, "KVM_SET_PIT2", errno);
	for (int i = 0; i < VM_STATE_NR_CHIPS; i++)
		if (ioctl(vm_fd, KVM_SET_IRQCHIP, &s->chips[i]) < 0)
			return fail(err, errlen, "KVM_SET_IRQCHIP", errno);
	return 0;
}

int vm_state_restore(int vm_fd, bool irqchip, struct state_reader *in, char *err, size_t errlen)
{
	struct vm_state s;
	int rc = vm_state_parse(in, &s);

	if (rc) {
		snprintf(err, errlen, "%s", in->msg);
		return rc;
	}
	return vm_state_apply(vm_fd, irqchip, &s, false, err, errlen);
}
