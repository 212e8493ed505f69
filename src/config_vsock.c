/* --vsock cid=N,uds=PATH: the virtio-vsock device's guest CID and the Unix
 * socket of its host side (Firecracker's hybrid vsock). Apart from
 * config.c only to keep that file short; same rules: parsing only, one
 * line of error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "config_num.h"
#include "config_vsock.h"

_Static_assert(CONFIG_VSOCK_PATH_MAX == sizeof(((struct sockaddr_un *)0)->sun_path) - 1 - 11,
	       "a uds path leaves room for \"_<port>\" and the NUL");

static int vfail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "--vsock: %s", what);
	return -EINVAL;
}

static int parse_cid(const char *s, uint64_t *out, char *err, size_t errlen)
{
	uint64_t cid;

	/* 0-2 are the hypervisor's, the reserved and the host's; 2^32 - 1
	 * is VMADDR_CID_ANY; the spec zeroes the upper 32 bits. */
	if (config_parse_u64(s, &cid) || cid < 3 || cid >= UINT32_MAX) {
		snprintf(err, errlen, "--vsock cid=%s: expected a guest CID, 3 to 4294967294", s);
		return -EINVAL;
	}
	*out = cid;
	return 0;
}

int config_parse_vsock(const char *spec, uint64_t *cid, const char **uds, char *buf, size_t buflen,
		       char *err, size_t errlen)
{
	char *opt, *save = NULL;

	if (*uds)
		return vfail(err, errlen, "given twice (one vsock device per machine)");
	if (strlen(spec) >= buflen)
		return vfail(err, errlen, "the value is too long");
	strcpy(buf, spec);
	*cid = 0;
	for (opt = strtok_r(buf, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strncmp(opt, "cid=", 4)) {
			if (parse_cid(opt + 4, cid, err, errlen))
				return -EINVAL;
		} else if (!strncmp(opt, "uds=", 4)) {
			*uds = opt + 4;
		} else {
			snprintf(err, errlen, "--vsock: unknown option '%s' (cid=N, uds=PATH)",
				 opt);
			return -EINVAL;
		}
	}
	if (!*cid || !*uds || !(*uds)[0]) {
		*uds = NULL;
		return vfail(err, errlen, "expected cid=N,uds=PATH");
	}
	if (strlen(*uds) > CONFIG_VSOCK_PATH_MAX) {
		snprintf(err, errlen, "--vsock uds=%s: path longer than %d bytes", *uds,
			 CONFIG_VSOCK_PATH_MAX);
		*uds = NULL;
		return -EINVAL;
	}
	return 0;
}
