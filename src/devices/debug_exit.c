/* The debug-exit port. See debug_exit.h. */
#include "devices/debug_exit.h"

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
	if (len)
		vm_stopper_fire(&d->stopper, VM_STOP_DEBUG_EXIT, data[0]);
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
