/* libFuzzer target for src/virtio/console.c: fuzzed queue layouts and guest
 * memory on both queues, kicks, and host input arriving at any moment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virtio/console.h"

#define MEM_SIZE 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sunk;

static void out(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	/* Touch every byte so ASan sees any out-of-bounds buffer. */
	for (size_t i = 0; i < n; i++)
		sunk += buf[i];
}

static void wr32(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(t, off, (const uint8_t *)&v, 4);
}

static void bring_up(struct virtio_mmio *t, const uint8_t *op)
{
	wr32(t, VIRTIO_MMIO_STATUS, 0);
	wr32(t, VIRTIO_MMIO_STATUS, 1);
	wr32(t, VIRTIO_MMIO_STATUS, 3);
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)op[3] << 24);
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	wr32(t, VIRTIO_MMIO_STATUS, 0xb);
	for (uint32_t q = 0; q < 2; q++) {
		uint16_t base = (uint16_t)((op[4 + 2 * q] | op[5 + 2 * q] << 8) & 0xf000);

		wr32(t, VIRTIO_MMIO_QUEUE_SEL, q);
		wr32(t, VIRTIO_MMIO_QUEUE_NUM, 1u << (op[2 + q] % 7));
		wr32(t, VIRTIO_MMIO_QUEUE_DESC_LOW, base);
		wr32(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, base + 0x800u);
		wr32(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, base + 0xc00u);
		wr32(t, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr32(t, VIRTIO_MMIO_STATUS, 0xf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct virtio_console_host host = {out, NULL, NULL};
	struct virtio_console *c;
	struct virtio_mmio *t;
	struct guest_mem gm;
	size_t pos = 0;

	if (!mem) {
		mem = aligned_alloc(4096, MEM_SIZE);
		log_set_level(LOG_ERROR);
	}
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data, size < MEM_SIZE ? size : MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	if (virtio_console_new(&c, &gm, &host, "fuzz-console") < 0)
		abort();
	t = virtio_console_transport(c);
	while (pos + 12 <= size) {
		const uint8_t *op = data + pos;

		pos += 12;
		switch (op[0] % 5) {
		case 0:
			bring_up(t, op);
			break;
		case 1:
			virtio_mmio_queue_notify(t, op[1] % 3);
			break;
		case 2:
			virtio_console_receive(c, op + 1, op[1] % 12);
			break;
		case 3:
			memcpy(mem + ((op[1] | (uint32_t)op[2] << 8) % (MEM_SIZE - 8)), op + 4, 8);
			break;
		default:
			virtio_mmio_ops.write(t, (op[1] | (uint64_t)op[2] << 8) % VIRTIO_MMIO_SIZE,
					      op + 4, 1u << (op[3] & 3));
			break;
		}
	}
	virtio_console_free(c);
	return 0;
}
