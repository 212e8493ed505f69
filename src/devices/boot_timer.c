/* The boot-timer port. See boot_timer.h. */
#include "devices/boot_timer.h"

#include <string.h>

static void boot_timer_read(void *opaque, uint64_t offset, uint8_t *data, uint32_t len)
{
	(void)opaque;
	(void)offset;
	memset(data, 0, len);
}

static void boot_timer_write(void *opaque, uint64_t offset, const uint8_t *data, uint32_t len)
{
	struct boot_timer *t = opaque;
	uint32_t value = 0, i;

	(void)offset;
	/* GUEST: len is at most 8 (bus.h); only the low 4 bytes are used. */
	for (i = 0; i < len && i < 4; i++)
		value |= (uint32_t)data[i] << (8 * i);
	if (t->mark)
		t->mark(t->ctx, value);
}

const struct bus_ops boot_timer_ops = {
	.read = boot_timer_read,
	.write = boot_timer_write,
};

void boot_timer_init(struct boot_timer *t, void (*mark)(void *ctx, uint32_t value),
		     void *ctx)
{
	t->mark = mark;
	t->ctx = ctx;
}
