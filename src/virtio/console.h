/* virtio-console (VIRTIO 1.2 section 5.3), single port, no multiport: the
 * guest's hvc0. transmitq bytes go to the caller's sink; host input is
 * placed in receiveq buffers, with backpressure when the guest has none. */
#ifndef KITE_VIRTIO_CONSOLE_H
#define KITE_VIRTIO_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "guest_mem.h"
#include "virtio/mmio.h"

#define VIRTIO_ID_CONSOLE 3

struct virtio_console_host {
	/* Guest output, written through at once. Required. */
	void (*out)(void *ctx, const uint8_t *buf, size_t n);
	/* Optional: after virtio_console_receive() took less than it was
	 * offered, called (on the event loop, with the transport lock held:
	 * it must not call back into the device) once the guest posts
	 * receive buffers. */
	void (*rx_space)(void *ctx);
	void *ctx;
};

struct virtio_console;

int virtio_console_new(struct virtio_console **out, const struct guest_mem *gm,
		       const struct virtio_console_host *host, const char *name) MUST_CHECK;
struct virtio_mmio *virtio_console_transport(struct virtio_console *c);
/* Host input: takes as much as the guest's receive buffers hold and returns
 * how many bytes it took. Call on the event-loop thread. */
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf, size_t n);
void virtio_console_free(struct virtio_console *c);

#endif
