/* The debug-exit port. See debug_exit.h. */
#include "devices/debug_exit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void debug_exit_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0xff, len);
}

static void debug_exit_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct debug_exit *d = opaque;

	(void)offset;
	if (len) {
		__atomic_fetch_add(&d->exits, 1, __ATOMIC_RELAXED);
		vm_stopper_fire(&d->stopper, VM_STOP_DEBUG_EXIT, data[0]);
	}
}

const struct bus_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

void debug_exit_init(struct debug_exit *d, const struct vm_stopper *stopper)
{
	memset(d, 0, sizeof(*d));
	if (stopper)
		d->stopper = *stopper;
}

/* The struct device: no state, so an empty section. */

static struct debug_exit *to_dbg(const struct device *d)
{
	return container_of(d, struct debug_exit, dev);
}

static void dbg_stats(struct device *d, struct device_stats *out)
{
	device_stat(out, "exits", __atomic_load_n(&to_dbg(d)->exits, __ATOMIC_RELAXED));
}

const struct device_ops debug_exit_device_ops = {
	.kind = "debug_exit",
	.state_version = 1,
	.destroy = device_free_destroy,
	.pause = device_nop_pause,
	.resume = device_nop_resume,
	.save = device_empty_save,
	.restore = device_empty_restore,
	.stats = dbg_stats,
};

int debug_exit_new(const struct vm_stopper *stopper, const char *name, struct debug_exit **out)
{
	struct debug_exit *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	debug_exit_init(d, stopper);
	device_init(&d->dev, &debug_exit_device_ops, name);
	*out = d;
	return 0;
}
