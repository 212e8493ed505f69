/* libFuzzer target for src/virtio/console.c: fuzzed queue layouts and guest
 * memory on both queues, kicks, and host input arriving at any moment. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/console.h"
#include "virtq_driver.h"

#define MEM_SIZE 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t sunk;

static bool out(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	/* Touch every byte so ASan sees any out-of-bounds buffer. */
	for (size_t i = 0; i < n; i++)
		sunk += buf[i];
	/* Now and then the host is "full" until the next tx_space. */
	return (sunk & 7) != 0;
}

/* Reset, then a legal bring-up of both queues with fuzzed sizes, layouts
 * and low feature bits. */
static void bring_up(struct virtio_dev *t, const uint8_t *op)
{
	struct vqd q[2];

	for (uint32_t i = 0; i < 2; i++) {
		uint16_t base = (uint16_t)((op[4 + 2 * i] | op[5 + 2 * i] << 8) & 0xf000);

		q[i] = (struct vqd){.size = 1u << (op[2 + i] % 7),
				    .desc = base,
				    .avail = base + 0x800u,
				    .used = base + 0xc00u};
	}
	vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
	vqd_bring_up(t, VQD_VERSION_1 | (uint32_t)op[3] << 24, q, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *mem;
	struct virtio_console_host host = {out, NULL, NULL};
	struct virtio_console *c;
	struct virtio_dev *t;
	struct guest_mem gm;
	size_t pos = 0;

	mem = vqd_fuzz_ram(&gm, MEM_SIZE, data, size);
	if (virtio_console_new(&c, &gm, &host, "fuzz-console") < 0)
		abort();
	t = virtio_console_vdev(c);
	while (pos + 12 <= size) {
		const uint8_t *op = data + pos;

		pos += 12;
		switch (op[0] % 6) {
		case 5:
			virtio_console_tx_space(c);
			break;
		case 0:
			bring_up(t, op);
			break;
		case 1:
			virtio_dev_queue_notify(t, op[1] % 3);
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
