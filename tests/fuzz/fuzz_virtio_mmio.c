/* libFuzzer target for src/virtio/mmio.c: random register access sequences
 * (any offset, width, value) interleaved with guest-memory writes and queue
 * kicks, against a virtio-rng device on fuzz-provided guest memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "virtio/mmio.h"
#include "virtio/rng.h"

#define MEM_SIZE 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void wr32(struct virtio_mmio *t, uint64_t off, uint32_t v)
{
	virtio_mmio_ops.write(t, off, (const uint8_t *)&v, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	struct guest_mem gm;
	struct virtio_rng *r;
	struct virtio_mmio *t;
	size_t pos = 0;

	if (!mem) {
		mem = aligned_alloc(4096, MEM_SIZE);
		log_set_level(LOG_ERROR);
	}
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data, size < MEM_SIZE ? size : MEM_SIZE);
	gm_init_wrap(&gm, mem, MEM_SIZE);
	if (virtio_rng_new(&r, &gm, NULL, 0, "fuzz-rng") < 0)
		abort();
	t = virtio_rng_transport(r);

	while (pos + 12 <= size) {
		const uint8_t *op = data + pos;
		uint64_t off = (op[1] | (uint64_t)op[2] << 8) % (VIRTIO_MMIO_SIZE + 8);
		uint32_t len = 1u << (op[3] & 3);
		uint8_t val[8];

		memcpy(val, op + 4, 8);
		pos += 12;
		switch (op[0] % 6) {
		case 0:
			virtio_mmio_ops.read(t, off, val, len);
			break;
		case 1:
			virtio_mmio_ops.write(t, off, val, len);
			break;
		case 2: /* an aligned 32-bit register write, the common case */
			virtio_mmio_ops.write(t, off & 0xfc, val, 4);
			break;
		case 3: /* the ioeventfd path, any queue index */
			virtio_mmio_queue_notify(t, op[1] % 3);
			break;
		case 4: /* the guest changes memory between accesses */
			memcpy(mem + ((op[1] | (uint32_t)op[2] << 8) % (MEM_SIZE - 8)), val, 8);
			break;
		case 5: { /* a legal bring-up with fuzzed queue layout */
			uint32_t a, b;

			memcpy(&a, val, 4);
			memcpy(&b, val + 4, 4);
			wr32(t, VIRTIO_MMIO_STATUS, 0);
			wr32(t, VIRTIO_MMIO_STATUS, 1);
			wr32(t, VIRTIO_MMIO_STATUS, 3);
			wr32(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
			wr32(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)op[3] << 24);
			wr32(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
			wr32(t, VIRTIO_MMIO_DRIVER_FEATURES, 1);
			wr32(t, VIRTIO_MMIO_STATUS, 0xb);
			wr32(t, VIRTIO_MMIO_QUEUE_SEL, 0);
			wr32(t, VIRTIO_MMIO_QUEUE_NUM, 1u << (op[2] % 10));
			wr32(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (a & 0xffff) & ~15u);
			wr32(t, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (a >> 16) & ~1u);
			wr32(t, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (b & 0xffff) & ~3u);
			wr32(t, VIRTIO_MMIO_QUEUE_READY, 1);
			wr32(t, VIRTIO_MMIO_STATUS, 0xf);
			break;
		}
		}
	}
	virtio_rng_free(r);
	return 0;
}
