/* virtio-console (VIRTIO 1.2 section 5.3), single port, no multiport: the
 * guest's hvc0. transmitq bytes go to the caller's sink, with backpressure
 * when the host's output buffer is full; host input is placed in receiveq
 * buffers, with backpressure when the guest has none. */
#ifndef KITE_VIRTIO_CONSOLE_H
#define KITE_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "guest_mem.h"
#include "virtio/core.h"

#define VIRTIO_ID_CONSOLE 3

struct virtio_console_host {
	/* Guest output. Takes all n bytes; returns false when the host's
	 * output buffer is now above its high-water mark: the device then
	 * stops taking transmit chains (they stay in the ring, nothing is
	 * lost) until virtio_console_tx_space(). Runs on the event loop with
	 * the device lock held: it must not call back into the device.
	 * Required. */
	bool (*out)(void *ctx, const uint8_t *buf, size_t n);
	/* Optional: after virtio_console_receive() took less than it was
	 * offered, called (on the event loop, with the device lock held: it
	 * must not call back into the device) once the guest posts receive
	 * buffers. */
	void (*rx_space)(void *ctx);
	void *ctx;
};

struct virtio_console;

/* name: the device's name in the VM (log prefix, metrics key), e.g. console0. */
int virtio_console_new(struct virtio_console **out, const struct guest_mem *gm,
		       const struct virtio_console_host *host, const char *name) MUST_CHECK;
/* The virtio core of the device (transport opaque, eventfds, irq line). */
struct virtio_dev *virtio_console_vdev(struct virtio_console *c);
/* The device in the registry (its destroy op frees it). */
struct device *virtio_console_device(struct virtio_console *c);
/* Host input: takes as much as the guest's receive buffers hold and returns
 * how many bytes it took. Call on the event-loop thread. */
size_t virtio_console_receive(struct virtio_console *c, const uint8_t *buf, size_t n);
/* The host's output buffer drained below its low-water mark after out()
 * returned false: transmit resumes (on the event loop when eventfds are
 * set up, else on the calling thread). Any thread, but not from inside
 * out() or rx_space(). */
void virtio_console_tx_space(struct virtio_console *c);
void virtio_console_free(struct virtio_console *c);

#endif
