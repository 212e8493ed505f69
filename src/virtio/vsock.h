/* virtio-vsock (device 19) with Firecracker's hybrid host side: the guest's
 * streams to CID 2 become Unix-socket connections. A host client connects
 * to uds_path and sends "CONNECT <port>\n" to reach guest port <port>
 * (answered "OK <local port>\n" once the guest accepts); a guest
 * connection to host port P goes to a listener at "<uds_path>_P". */
#ifndef KITE_VIRTIO_VSOCK_H
#define KITE_VIRTIO_VSOCK_H

#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "evloop.h"
#include "guest_mem.h"
#include "virtio/core.h"

/* At most this many connections at once (both directions together); a
 * host client beyond it is closed at once, a guest request gets a RST. */
#define VSOCK_MAX_CONNS 1023u

struct virtio_vsock;

/* guest_cid >= 3 (and < 2^32 - 1); uds_path is bound now (it must not
 * exist: -EADDRINUSE) and removed when the device goes. loop serves the
 * listener and the connections. */
int virtio_vsock_new(struct virtio_vsock **out, const struct guest_mem *gm, struct evloop *loop,
		     uint64_t guest_cid, const char *uds_path, const char *name) MUST_CHECK;
struct virtio_dev *virtio_vsock_vdev(struct virtio_vsock *v);
struct device *virtio_vsock_device(struct virtio_vsock *v);
/* How long a half-open connection may wait (default 5 s; tests). */
void virtio_vsock_set_half_open_ms(struct virtio_vsock *v, uint32_t ms);
/* Connections open now (tests). */
uint32_t virtio_vsock_nr_conns(struct virtio_vsock *v);
void virtio_vsock_free(struct virtio_vsock *v);

#endif
