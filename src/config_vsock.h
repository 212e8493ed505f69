/* --vsock's value (config_vsock.c): the guest CID and the host socket of
 * the virtio-vsock device. config.h includes this for struct vm_config. */
#ifndef KITE_CONFIG_VSOCK_H
#define KITE_CONFIG_VSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* Room for the --vsock value, kept (split in place) for the path. */
#define CONFIG_VSOCK_SPEC_MAX 512
/* The longest uds PATH: room for "_4294967295", the suffix of a
 * guest-initiated connection's listener, after it in a sockaddr_un. */
#define CONFIG_VSOCK_PATH_MAX 96

/* --vsock cid=N,uds=PATH into *cid and *uds (a pointer into buf, where
 * the value is copied); *uds must be NULL on entry, else it was given
 * twice. -EINVAL with one line in err, *uds NULL again. */
int config_parse_vsock(const char *spec, uint64_t *cid, const char **uds, char *buf, size_t buflen,
		       char *err, size_t errlen) MUST_CHECK;

#endif
