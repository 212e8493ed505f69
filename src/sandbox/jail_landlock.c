/* Landlock (jail_landlock.h). The constants and the ruleset layout are the
 * kernel's UAPI; they are spelled here because the build host's headers
 * may predate the ABI the running kernel offers. */
#include "sandbox/jail_landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_RULE_PATH_BENEATH 1

#define LL_FS_EXECUTE (1ull << 0)
#define LL_FS_WRITE_FILE (1ull << 1)
#define LL_FS_READ_FILE (1ull << 2)
#define LL_FS_READ_DIR (1ull << 3)
#define LL_FS_REMOVE_DIR (1ull << 4)
#define LL_FS_REMOVE_FILE (1ull << 5)
#define LL_FS_MAKE_DIR (1ull << 7)
#define LL_FS_MAKE_REG (1ull << 8)
#define LL_FS_MAKE_SOCK (1ull << 9)
#define LL_FS_ABI1 ((1ull << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ull << 13)      /* ABI 2 */
#define LL_FS_TRUNCATE (1ull << 14)   /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ull << 15)  /* ABI 5 */
#define LL_NET_BIND_TCP (1ull << 0)   /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ull << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ull << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ull << 1)

struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;	     /* ABI 6 */
};

struct ll_path_beneath {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

int jail_landlock_abi(void)
{
	long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

int jail_landlock_apply(bool allow_exec, char *err, size_t errlen)
{
	struct ll_ruleset_attr attr = {0};
	struct ll_path_beneath rule;
	int abi = jail_landlock_abi(), rs, root = -1, e;
	size_t size = sizeof(attr.handled_access_fs);
	uint64_t allow = LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_READ_DIR | LL_FS_REMOVE_DIR |
			 LL_FS_REMOVE_FILE | LL_FS_MAKE_DIR | LL_FS_MAKE_REG | LL_FS_MAKE_SOCK;

	if (abi <= 0)
		return 0;
	if (allow_exec)
		allow |= LL_FS_EXECUTE | LL_FS_READ_FILE;
	attr.handled_access_fs = LL_FS_ABI1 | (abi >= 2 ? LL_FS_REFER : 0);
	if (abi >= 3) {
		attr.handled_access_fs |= LL_FS_TRUNCATE;
		allow |= LL_FS_TRUNCATE; /* snapshot files are rewritten */
	}
	if (abi >= 5) {
		attr.handled_access_fs |= LL_FS_IOCTL_DEV;
		allow |= LL_FS_IOCTL_DEV; /* KVM and tun, opened at InstanceStart */
	}
	if (abi >= 4) { /* kite speaks no TCP: no rule allows any */
		attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	rs = (int)syscall(__NR_landlock_create_ruleset, &attr, size, 0);
	if (rs < 0) {
		e = errno;
		snprintf(err, errlen, "landlock: create ruleset (ABI %d): %s", abi, strerror(e));
		return -e;
	}
	/* Everything kite may still reach is beneath its new root. No exec,
	 * no device nodes, FIFOs or symlinks made, no renames across dirs. */
	root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	rule.allowed_access = allow;
	rule.parent_fd = root;
	if (root < 0 || syscall(__NR_landlock_add_rule, rs, LL_RULE_PATH_BENEATH, &rule, 0) ||
	    syscall(__NR_landlock_restrict_self, rs, 0)) {
		e = errno;
		snprintf(err, errlen, "landlock (ABI %d): %s", abi, strerror(e));
		if (root >= 0)
			close(root);
		close(rs);
		return -e;
	}
	close(root);
	close(rs);
	return abi;
}
