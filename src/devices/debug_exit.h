/* The debug-exit port (as QEMU's isa-debug-exit): a guest writes a byte to
 * port 0x501 and the VM stops with VM_STOP_DEBUG_EXIT and that byte as the
 * status; how the status maps to kite's exit code is the caller's business.
 * A wider write uses its low byte. Reads return 0xff.
 *
 * As a struct device (debug_exit_new): no state, an empty section (version
 * 1); pause has nothing to stop. */
#ifndef KITE_DEVICES_DEBUG_EXIT_H
#define KITE_DEVICES_DEBUG_EXIT_H

#include <stdint.h>

#include "bus.h"
#include "compiler.h"
#include "device.h"
#include "vm_event.h"

#define DEBUG_EXIT_PORT 0x501
#define DEBUG_EXIT_NR_PORTS 1

struct debug_exit {
	struct device dev;
	struct vm_stopper stopper;
	uint64_t exits; /* writes, i.e. stops requested; atomic */
};

extern const struct bus_ops debug_exit_ops; /* bus_add(pio, 0x501, 1, ...) */
extern const struct device_ops debug_exit_device_ops;

void debug_exit_init(struct debug_exit *d, const struct vm_stopper *stopper);
/* A heap device named `name`, freed by its destroy op. */
int debug_exit_new(const struct vm_stopper *stopper, const char *name,
		   struct debug_exit **out) MUST_CHECK;

#endif
