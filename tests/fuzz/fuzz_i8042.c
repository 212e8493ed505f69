/* libFuzzer target for the i8042 controller: random reads and writes of the
 * data and command ports. Checks that irq lines only see changes and that a
 * reset only comes with a reset request. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "devices/i8042.h"

static int levels[16];

static void f_irq(void *ctx, unsigned int gsi, int level)
{
	(void)ctx;
	if (gsi >= 16 || (level != 0 && level != 1) || levels[gsi] == level)
		abort();
	levels[gsi] = level;
}

static void f_stop(void *ctx, enum vm_stop_reason r, int status)
{
	(void)ctx;
	if (r != VM_STOP_RESET || status != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct i8042_config cfg = {
		.stopper = {.fn = f_stop},
		.kbd_irq = {.set = f_irq, .gsi = I8042_KBD_IRQ},
		.aux_irq = {.set = f_irq, .gsi = I8042_AUX_IRQ},
	};
	struct i8042 k;
	size_t i = 0;

	levels[I8042_KBD_IRQ] = levels[I8042_AUX_IRQ] = 0;
	if (i8042_init(&k, &cfg))
		return 0;
	while (i < size) {
		uint8_t op = data[i++], v = 0;
		const struct bus_ops *ops = (op & 1) ? &i8042_cmd_ops : &i8042_data_ops;

		if (op & 2) {
			if (i < size)
				v = data[i++];
			ops->write(&k, 0, &v, 1);
		} else {
			ops->read(&k, 0, &v, 1);
		}
	}
	i8042_free(&k);
	return 0;
}
