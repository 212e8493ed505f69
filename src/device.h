/* The device model: every device of a VM, legacy or virtio, is a struct
 * device with a unique name (serial0, rtc0, i8042, blk0, rng0, console0...)
 * and a const ops table. The name is the device's log prefix, its metrics
 * key and its API id. A struct device_list owns the VM's devices in
 * creation order: pause, resume, save and stats walk it forwards, destroy
 * walks it backwards.
 *
 * Threads. pause, resume, save and restore run on one thread at a time, the
 * event-loop thread once the VM runs (or the only thread, in tests), with
 * every vCPU already paused (see vcpu.h): register accesses cannot race
 * them. A device's own worker (the event loop's callbacks) is what pause
 * stops.
 *
 * Save/restore. A device writes its state as one section with a version
 * (ops->state_version); the list frames sections as
 *   u8 name length, name, u32 version, u32 payload length, payload
 * and restore hands each device a reader bounded to its payload. Restore
 * treats every byte as hostile: out-of-range values are refused with a
 * message (state_check), nothing of the device changes unless the whole
 * section is good, and a section that is too short or too long is an
 * error. A restored device stays paused until resume. */
#ifndef KITE_DEVICE_H
#define KITE_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "state.h"

#define DEVICE_NAME_MAX 16
#define DEVICE_STATS_MAX 32

struct device_stat {
	const char *key; /* static string */
	uint64_t value;
};

struct device_stats {
	int nr;
	struct device_stat v[DEVICE_STATS_MAX];
};

/* Appends one counter; silently ignores more than DEVICE_STATS_MAX. */
void device_stat(struct device_stats *s, const char *key, uint64_t value);

struct device;

struct device_ops {
	const char *kind;       /* "serial8250", "virtio-blk", ... */
	uint32_t state_version; /* of the section save writes */
	/* Frees everything the device owns, including the struct that embeds
	 * the struct device. Runs after the vCPUs and the event loop stopped. */
	void (*destroy)(struct device *d);
	/* Takes nothing new and finishes (or parks) what is in flight; once it
	 * returns, the device touches neither guest memory nor its irq line
	 * until resume. 0 or -errno (a host failure). */
	int (*pause)(struct device *d) MUST_CHECK;
	/* Takes work again, including any that arrived while paused, and
	 * re-asserts an interrupt line that the state says is high. */
	void (*resume)(struct device *d);
	/* Writes the device's section payload (only while paused). */
	int (*save)(const struct device *d, struct state_buf *out) MUST_CHECK;
	/* Reads a payload written by save (any version <= state_version the
	 * device accepts). Errors go through the reader (state_fail,
	 * state_check); returns 0 or -EINVAL. The device is left unchanged on
	 * error, including an oversized payload: the caller's state_end comes
	 * after restore returned, so a restore calls state_end(in, NULL, 0)
	 * itself before it changes anything. */
	int (*restore)(struct device *d, struct state_reader *in, uint32_t version) MUST_CHECK;
	/* Per-instance counters. */
	void (*stats)(struct device *d, struct device_stats *out);
};

struct device {
	char name[DEVICE_NAME_MAX];
	const struct device_ops *ops;
	bool paused;
};

/* Ops for devices without state of their own (the registers are all
 * there is, and they hold nothing between accesses): nothing to pause or
 * resume, an empty section, and a destroy that frees the struct whose
 * first member is the struct device. */
int device_nop_pause(struct device *d) MUST_CHECK;
void device_nop_resume(struct device *d);
int device_empty_save(const struct device *d, struct state_buf *out) MUST_CHECK;
int device_empty_restore(struct device *d, struct state_reader *in, uint32_t version) MUST_CHECK;
void device_free_destroy(struct device *d);

/* Names the device ("%s%d"-style names are the caller's). */
void device_init(struct device *d, const struct device_ops *ops, const char *name);

struct device_list {
	struct device **v;
	int nr, cap;
};

void device_list_init(struct device_list *l);
/* -EEXIST for a name already in the list, -ENOMEM. The list owns d from
 * now on (destroyed with the list). */
int device_list_add(struct device_list *l, struct device *d) MUST_CHECK;
struct device *device_list_find(const struct device_list *l, const char *name);
/* Destroys every device, last added first, and frees the list. */
void device_list_destroy(struct device_list *l);
/* Pauses in creation order; on a failure resumes those already paused. */
int device_list_pause(struct device_list *l) MUST_CHECK;
void device_list_resume(struct device_list *l);
/* Every device's section, in list order. -EBUSY unless all are paused. */
int device_list_save(const struct device_list *l, struct state_buf *out) MUST_CHECK;
/* Restores from what device_list_save wrote: each section must name a
 * device of the list, once, with a version it accepts, and every device
 * must get one. Devices are paused first. err gets one line. A refused
 * snapshot leaves every device as it was (paused). */
int device_list_restore(struct device_list *l, const void *data, size_t len, char *err,
			size_t errlen) MUST_CHECK;
/* One device's section, framed as above (tests, fuzzers). */
int device_restore_one(struct device *d, const void *data, size_t len, char *err,
		       size_t errlen) MUST_CHECK;
int device_save_one(const struct device *d, struct state_buf *out) MUST_CHECK;
/* Calls fn for every device in order with its counters. */
void device_list_stats(struct device_list *l,
		       void (*fn)(void *ctx, const struct device *d, const struct device_stats *s),
		       void *ctx);

#endif
