/* libFuzzer target for the 8250 UART: random register reads and writes
 * mixed with host input and snapshot round trips. Checks that the irq line
 * only ever sees changes, the FIFO stays bounded and save/restore is exact. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/serial8250.h"

static int last_level;
static size_t out_bytes;

static bool f_out(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	(void)buf;
	out_bytes += n;
	return true;
}

static void f_irq(void *ctx, unsigned int gsi, int level)
{
	(void)ctx;
	(void)gsi;
	if (level != 0 && level != 1)
		abort();
	if (level == last_level) /* only changes may be signalled */
		abort();
	last_level = level;
}

static void f_rx_space(void *ctx)
{
	(void)ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct serial8250_config cfg = {
		.irq = {.set = f_irq, .gsi = 4},
		.out = f_out,
		.rx_space = f_rx_space,
	};
	struct serial8250 s;
	size_t i = 0;

	last_level = 0;
	if (serial8250_init(&s, &cfg))
		return 0;
	while (i < size) {
		uint8_t op = data[i++];
		unsigned int reg = (op >> 2) & 7;
		uint8_t buf[8] = {0};

		switch (op & 3) {
		case 0:
			serial8250_ops.read(&s, reg, buf, 1 + (op >> 5 & 1));
			break;
		case 1:
			if (i < size)
				buf[0] = data[i++];
			serial8250_ops.write(&s, reg, buf, 1);
			break;
		case 2: {
			size_t n = MIN((size_t)(op >> 2) % 24, size - i);
			size_t took = serial8250_receive(&s, data + i, n);

			if (took > n)
				abort();
			i += n;
			break;
		}
		case 3: {
			struct serial8250_state a, b;

			serial8250_save(&s, &a);
			if (a.rx_count > SERIAL8250_FIFO_SIZE)
				abort();
			if ((a.lsr & 0x60) != 0x60)
				abort();
			if (serial8250_restore(&s, &a))
				abort();
			serial8250_save(&s, &b);
			if (memcmp(&a, &b, sizeof(a)))
				abort();
			break;
		}
		}
	}
	serial8250_free(&s);
	return 0;
}
