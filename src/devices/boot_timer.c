/* The boot-timer port. See boot_timer.h. */
#include "devices/boot_timer.h"

#include <errno.h>
#include <stdlib.h>
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
	__atomic_fetch_add(&t->marks, 1, __ATOMIC_RELAXED);
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
	memset(t, 0, sizeof(*t));
	t->mark = mark;
	t->ctx = ctx;
}

/* The struct device: no guest-visible state, so an empty section. */

static struct boot_timer *to_bt(const struct device *d)
{
	return container_of(d, struct boot_timer, dev);
}

static void bt_stats(struct device *d, struct device_stats *out)
{
	device_stat(out, "marks", __atomic_load_n(&to_bt(d)->marks, __ATOMIC_RELAXED));
}

const struct device_ops boot_timer_device_ops = {
	.kind = "boot_timer",
	.state_version = 1,
	.destroy = device_free_destroy,
	.pause = device_nop_pause,
	.resume = device_nop_resume,
	.save = device_empty_save,
	.restore = device_empty_restore,
	.stats = bt_stats,
};

int boot_timer_new(void (*mark)(void *ctx, uint32_t value), void *ctx, const char *name,
		   struct boot_timer **out)
{
	struct boot_timer *t = malloc(sizeof(*t));

	if (!t)
		return -ENOMEM;
	boot_timer_init(t, mark, ctx);
	device_init(&t->dev, &boot_timer_device_ops, name);
	*out = t;
	return 0;
}
