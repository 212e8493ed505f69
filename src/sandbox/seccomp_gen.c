/* seccomp_gen: a build-time tool. Compiles every role's rules
 * (seccomp_roles.c) with libseccomp, in both modes (on: TRAP, log: LOG),
 * and writes them as C arrays of BPF, with the names of the system calls
 * for the SIGSYS report. kite loads these arrays as they are: nothing is
 * compiled, probed or resolved between exec and the guest's first
 * instruction, and kite does not load libseccomp at all.
 *
 * usage: seccomp_gen OUT.c */
#include <errno.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/seccomp.h"
#include "sandbox/seccomp_bpf.h"

static bool sanitizer_allows(int nr)
{
	for (const struct seccomp_rule *r = seccomp_sanitizer_rules; r->nr >= 0; r++)
		if (r->nr == nr)
			return true;
	return false;
}

static int add_rule(scmp_filter_ctx ctx, const struct seccomp_rule *r)
{
	int rc = 0;

	switch (r->check) {
	case SC_ANY:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0);
	case SC_ENOSYS:
		return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), r->nr, 0);
	case SC_NOBITS:
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->vals[0], 0));
	case SC_ALLBITS:
		return seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, r->nr, 1,
		    SCMP_CMP(r->arg, SCMP_CMP_MASKED_EQ, r->vals[0], r->vals[0]));
	case SC_EQ:
		for (unsigned i = 0; i < r->nr_vals && !rc; i++)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1,
					      SCMP_CMP(r->arg, SCMP_CMP_EQ, r->vals[i]));
		return rc;
	default:
		return -EINVAL;
	}
}

/* The calls each role makes most (once per VM exit, per event, per
 * transfer): tested first, before the rest of the list. */
static const int hot_vcpu[] = {SYS_ioctl, -1};
static const int hot_main[] = {SYS_epoll_wait, SYS_read,  SYS_write,  SYS_io_uring_enter,
			       SYS_ioctl,      SYS_readv, SYS_writev, -1};
static const int hot_disk[] = {SYS_preadv, SYS_pwritev, SYS_futex, -1};

static const int *hot_calls(enum seccomp_role r)
{
	switch (r) {
	case SECCOMP_ROLE_VCPU:
		return hot_vcpu;
	case SECCOMP_ROLE_MAIN:
	case SECCOMP_ROLE_MAIN_RESTART:
		return hot_main;
	case SECCOMP_ROLE_DISK:
		return hot_disk;
	default:
		return NULL;
	}
}

/* The role's filter, compiled by libseccomp. */
static int build(enum seccomp_role role, bool log, scmp_filter_ctx *out)
{
	uint32_t deny = log ? SCMP_ACT_LOG : SCMP_ACT_TRAP;
	const struct seccomp_rule *const *sets = seccomp_role_sets(role);
	const int *hot = hot_calls(role);
	scmp_filter_ctx ctx;
	int rc;

	if (!sets)
		return -EINVAL;
	ctx = seccomp_init(deny);
	if (!ctx)
		return -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, deny);
	/* The sanitizer's unconditional rules replace a role's checked ones. */
	for (const struct seccomp_rule *r = seccomp_sanitizer_rules; !rc && r->nr >= 0; r++)
		rc = add_rule(ctx, r);
	for (; !rc && *sets; sets++)
		for (const struct seccomp_rule *r = *sets; !rc && r->nr >= 0; r++)
			if (!sanitizer_allows(r->nr))
				rc = add_rule(ctx, r);
	for (int i = 0; !rc && hot && hot[i] >= 0; i++)
		rc = seccomp_syscall_priority(ctx, hot[i], (uint8_t)(255 - i));
	if (rc) {
		seccomp_release(ctx);
		return rc;
	}
	*out = ctx;
	return 0;
}

/* The role's program, through a temporary file (libseccomp 2.5 exports
 * only to a descriptor). */
static int program(enum seccomp_role r, bool log, struct sock_filter **insns, size_t *len)
{
	FILE *f = tmpfile();
	scmp_filter_ctx ctx;
	struct stat st;
	int rc;

	if (!f)
		return -errno;
	rc = build(r, log, &ctx);
	if (!rc) {
		rc = seccomp_export_bpf(ctx, fileno(f));
		seccomp_release(ctx);
	}
	if (!rc && fstat(fileno(f), &st) < 0)
		rc = -errno;
	if (!rc && (st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) ||
		    st.st_size / sizeof(struct sock_filter) > BPF_MAXINSNS))
		rc = -E2BIG;
	if (!rc && !(*insns = malloc((size_t)st.st_size)))
		rc = -ENOMEM;
	if (!rc && pread(fileno(f), *insns, (size_t)st.st_size, 0) != st.st_size) {
		free(*insns);
		rc = -EIO;
	}
	fclose(f);
	if (!rc)
		*len = (size_t)st.st_size / sizeof(struct sock_filter);
	return rc;
}

static int write_role(FILE *out, enum seccomp_role r, bool log)
{
	struct sock_filter *p = NULL;
	size_t len = 0;
	int rc = program(r, log, &p, &len);

	if (rc) {
		fprintf(stderr, "seccomp_gen: role %s (%s): %s\n", seccomp_role_name(r),
			log ? "log" : "on", strerror(-rc));
		return rc;
	}
	fprintf(out, "static const struct sock_filter role%d_%s[%zu] = {\n", r, log ? "log" : "on",
		len);
	for (size_t i = 0; i < len; i++)
		fprintf(out, "\t{0x%04x, %u, %u, 0x%08x},\n", p[i].code, p[i].jt, p[i].jf, p[i].k);
	fprintf(out, "};\n\n");
	free(p);
	return 0;
}

int main(int argc, char **argv)
{
	char *names[SECCOMP_NAMED];
	FILE *out;
	size_t at = 0;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: seccomp_gen OUT.c\n");
		return 2;
	}
	/* The program must not depend on the kernel of the machine that
	 * builds kite: level 3 (RET_LOG, RET_KILL_PROCESS) without probing. */
	if (seccomp_api_set(3)) {
		fprintf(stderr, "seccomp_gen: libseccomp lacks API level 3\n");
		return 1;
	}
	out = fopen(argv[1], "w");
	if (!out) {
		fprintf(stderr, "seccomp_gen: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fprintf(out, "/* Generated by seccomp_gen from seccomp_roles.c: do not edit. */\n"
		     "#include \"sandbox/seccomp_bpf.h\"\n\n");
	for (int r = 0; r < SECCOMP_ROLE_COUNT && !rc; r++)
		rc = write_role(out, r, false) ?: write_role(out, r, true);
	fprintf(out, "const struct seccomp_bpf seccomp_bpf[SECCOMP_ROLE_COUNT][2] = {\n");
	for (int r = 0; r < SECCOMP_ROLE_COUNT; r++)
		fprintf(out,
			"\t{{role%d_on, sizeof(role%d_on) / sizeof(role%d_on[0])},"
			" {role%d_log, sizeof(role%d_log) / sizeof(role%d_log[0])}},\n",
			r, r, r, r, r, r);
	fprintf(out, "};\n\n");
	/* The names: one string of NUL-ended names, and each call's offset. */
	for (int nr = 0; nr < SECCOMP_NAMED; nr++)
		names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
	fprintf(out, "const uint16_t seccomp_name_at[SECCOMP_NAMED] = {\n");
	for (int nr = 0; nr < SECCOMP_NAMED; nr++) {
		fprintf(out, "\t%zu,\n", names[nr] ? at : (size_t)SECCOMP_UNNAMED);
		if (names[nr])
			at += strlen(names[nr]) + 1;
	}
	fprintf(out, "};\n\nconst char seccomp_names[] =\n");
	for (int nr = 0; nr < SECCOMP_NAMED; nr++) {
		if (names[nr])
			fprintf(out, "\t\"%s\\0\"\n", names[nr]);
		free(names[nr]);
	}
	fprintf(out, "\t;\n");
	if (at >= SECCOMP_UNNAMED) {
		fprintf(stderr, "seccomp_gen: names take %zu bytes\n", at);
		rc = -E2BIG;
	}
	if (fclose(out) || rc) {
		unlink(argv[1]);
		return 1;
	}
	return 0;
}
