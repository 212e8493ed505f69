/* The filters as this build loads them: every role's BPF in both modes,
 * and the system call names of the SIGSYS report. seccomp_gen writes them
 * at build time (seccomp_filters.c in the build directory) from the rules
 * of seccomp_roles.c; seccomp.c loads them. */
#ifndef KITE_SANDBOX_SECCOMP_BPF_H
#define KITE_SANDBOX_SECCOMP_BPF_H

#include <linux/filter.h>
#include <stdint.h>

#include "sandbox/seccomp.h"

struct seccomp_bpf {
	const struct sock_filter *insns;
	unsigned short len;
};

/* [role][0]: --seccomp on (a violation traps); [role][1]: log. */
extern const struct seccomp_bpf seccomp_bpf[SECCOMP_ROLE_COUNT][2];

/* System call numbers the report can name (x86-64 has fewer). */
#define SECCOMP_NAMED 512
#define SECCOMP_UNNAMED 0xffff
/* Call nr's name is seccomp_names + seccomp_name_at[nr], unless that is
 * SECCOMP_UNNAMED. */
extern const uint16_t seccomp_name_at[SECCOMP_NAMED];
extern const char seccomp_names[];

#endif
