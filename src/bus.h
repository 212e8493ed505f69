/* An address bus (one for port I/O, one for MMIO): sorted, non-overlapping
 * device ranges found by binary search. An access must fit inside one device;
 * unclaimed reads return all-ones and unclaimed writes are dropped and counted. */
#ifndef KITE_BUS_H
#define KITE_BUS_H

#include <stdint.h>

#include "compiler.h"

struct bus_ops {
	/* offset is relative to the device's base; len is 1, 2, 4 or 8. A read
	 * handler fills data[0..len); a write handler consumes it. */
	void (*read)(void *opaque, uint64_t offset, uint8_t *data, uint32_t len);
	void (*write)(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len);
};

struct bus_range {
	uint64_t base;
	uint64_t len;
	const struct bus_ops *ops;
	void *opaque;
	const char *name;
};

struct bus {
	const char *name;
	struct bus_range *ranges; /* sorted by base */
	int nr, cap;
	/* Guest-triggered; updated by vCPU threads, so atomics. */
	uint64_t unclaimed_reads;
	uint64_t unclaimed_writes;
	uint64_t split_accesses;
};

void bus_init(struct bus *b, const char *name);
void bus_free(struct bus *b);
/* -EINVAL for a zero or wrapping range, -EEXIST for an overlap. Ranges are
 * added during set-up only, before any vCPU runs. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
	    void *opaque, const char *name) MUST_CHECK;
const struct bus_range *bus_find(const struct bus *b, uint64_t addr);
/* Returns 0 when a device took the access, -ENOENT when none claimed it
 * (reads then see all-ones). */
int bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, int is_write);

#endif
