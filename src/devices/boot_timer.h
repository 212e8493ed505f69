/* The boot-timer port: a guest (or its init) writes anything to ports
 * 0x510..0x513 to mark a point in its boot, and the caller's mark() records
 * the time. The value passed is the written data as a little-endian integer
 * of the access width (an 8-byte write keeps its low 4 bytes), wherever in
 * the 4 ports it lands. Reads return 0. mark() runs on the vCPU thread.
 *
 * As a struct device (boot_timer_new): the marks are the host's record, not
 * guest-visible state, so the section is empty (version 1); pause has
 * nothing to stop. */
#ifndef KITE_DEVICES_BOOT_TIMER_H
#define KITE_DEVICES_BOOT_TIMER_H

#include <stdint.h>

#include "bus.h"
#include "compiler.h"
#include "device.h"

#define BOOT_TIMER_PORT 0x510
#define BOOT_TIMER_NR_PORTS 4

struct boot_timer {
	struct device dev;
	void (*mark)(void *ctx, uint32_t value);
	void *ctx;
	uint64_t marks; /* writes; atomic */
};

extern const struct bus_ops boot_timer_ops; /* bus_add(pio, 0x510, 4, ...) */
extern const struct device_ops boot_timer_device_ops;

void boot_timer_init(struct boot_timer *t, void (*mark)(void *ctx, uint32_t value),
		     void *ctx);
/* A heap device named `name`, freed by its destroy op. */
int boot_timer_new(void (*mark)(void *ctx, uint32_t value), void *ctx, const char *name,
		   struct boot_timer **out) MUST_CHECK;

#endif
