/* A tap device as virtio-net's backend: opened (or checked, when the
 * caller hands in an open fd) with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR and a
 * 12-byte vnet header, the size of virtio 1's struct virtio_net_hdr, so
 * that guest buffers go to readv/writev as they are. kite never creates a
 * tap: the user or the orchestrator does. */
#ifndef KITE_BACKENDS_TAP_H
#define KITE_BACKENDS_TAP_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define TAP_VNET_HDR_LEN 12

/* Offloads the reader (the guest) accepts, for tap_set_offload. */
#define TAP_OFF_CSUM 1u
#define TAP_OFF_TSO4 2u
#define TAP_OFF_TSO6 4u

/* Opens the existing tap `name` (fd < 0), or takes `fd`, which must be a
 * tap named `name` opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR. The
 * result is non-blocking and close-on-exec, its vnet header 12 bytes, its
 * offloads off. *out is the caller's to close (with fd >= 0 it is a dup:
 * the caller's fd stays open for a machine built again). On error, -errno
 * and one line in err. */
int tap_open(const char *name, int fd, int *out, char *err, size_t errlen) MUST_CHECK;
/* TUNSETOFFLOAD: which of TAP_OFF_* the tap may hand the reader (partial
 * checksums, TSO frames up to 64 KiB). 0 or -errno. */
int tap_set_offload(int fd, unsigned offloads) MUST_CHECK;

#endif
