/* The VM generation ID: 16 random bytes in guest memory that change
 * whenever the machine may be a copy of another, so that the guest reseeds
 * its random generator instead of producing the same "random" numbers,
 * keys and UUIDs as every other clone of the same snapshot. Linux (5.18+,
 * drivers/virt/vmgenid.c) maps the ID at the address the DSDT's VGEN device
 * gives, reads it at probe, and on the device's notification (0x80) reads it
 * again and, if it changed, calls add_vmfork_randomness.
 *
 * Any restore is a new generation. The device cannot tell a clone from the
 * machine that wrote the snapshot coming back, and both must differ from
 * the snapshot: every restore writes a NEW random ID (never the saved
 * one) and marks a notification pending; resume then re-writes the current
 * ID (so a memory image loaded after the device section cannot put the
 * old one back) and raises the Generic Event Device's edge interrupt once,
 * whose _EVT notifies VGEN. vmgenid_regenerate does the same without a
 * restore.
 *
 * Section, version 1 (24 bytes): u64 guest-physical address of the ID,
 * then the 16 bytes of the current ID. A restore refuses an address other
 * than this machine's (the guest's driver would read the wrong page) and an
 * all-zero ID (never one this device wrote), and changes nothing unless the
 * whole section is good.
 *
 * Threads: the event loop (or the only thread, in tests) calls every
 * function; the vCPUs never touch the device (the guest only reads the
 * memory). */
#ifndef KITE_DEVICES_VMGENID_H
#define KITE_DEVICES_VMGENID_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "device.h"
#include "guest_mem.h"
#include "vm_event.h"

#define VMGENID_SIZE 16
#define VMGENID_ALIGN 8

struct vmgenid_config {
	struct guest_mem *gm; /* must outlive the device */
	uint64_t gpa;	      /* of the ID: 8-byte aligned, within one page */
	struct irq_line irq;  /* the Generic Event Device's edge GSI */
};

struct vmgenid {
	struct device dev;
	struct guest_mem *gm;
	struct irq_line irq;
	uint64_t gpa;
	uint8_t id[VMGENID_SIZE];
	bool pending; /* a new ID the guest has not been told about */
	uint64_t generations, notifications;
};

extern const struct device_ops vmgenid_device_ops;

/* A heap device named `name` that has written its first random ID into
 * guest memory. -EINVAL for a misplaced gpa or one guest RAM does not
 * cover, -ENOMEM, or getrandom's -errno. */
int vmgenid_new(const struct vmgenid_config *c, const char *name, struct vmgenid **out) MUST_CHECK;

/* A new generation without a restore: writes a new random ID, then
 * notifies the guest now, or at resume if the device is paused. 0, -EINVAL
 * if d is not a vmgenid device, or getrandom's -errno (nothing changed). */
int vmgenid_regenerate(struct device *d) MUST_CHECK;

#endif
