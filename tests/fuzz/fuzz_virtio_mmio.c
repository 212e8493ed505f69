/* libFuzzer target for src/virtio/mmio.c: random register access sequences
 * (any offset, width, value) interleaved with guest-memory writes and queue
 * kicks, against a virtio-rng device on fuzz-provided guest memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/mmio.h"
#include "virtio/rng.h"
#include "virtq_driver.h"

#define MEM_SIZE 65536u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *mem;
	struct guest_mem gm;
	struct virtio_rng *r;
	struct virtio_dev *t;
	size_t pos = 0;

	mem = vqd_fuzz_ram(&gm, MEM_SIZE, data, size);
	if (virtio_rng_new(&r, &gm, NULL, 0, "fuzz-rng") < 0)
		abort();
	t = virtio_rng_vdev(r);

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
			virtio_dev_queue_notify(t, op[1] % 3);
			break;
		case 4: /* the guest changes memory between accesses */
			memcpy(mem + ((op[1] | (uint32_t)op[2] << 8) % (MEM_SIZE - 8)), val, 8);
			break;
		case 5: { /* a legal bring-up with fuzzed queue layout */
			uint32_t a, b;
			struct vqd q;

			memcpy(&a, val, 4);
			memcpy(&b, val + 4, 4);
			q = (struct vqd){.size = 1u << (op[2] % 10),
					 .desc = (a & 0xffff) & ~15u,
					 .avail = (a >> 16) & ~1u,
					 .used = (b & 0xffff) & ~3u};
			vqd_wr(t, VIRTIO_MMIO_STATUS, 0);
			vqd_bring_up(t, VQD_VERSION_1 | (uint32_t)op[3] << 24, &q, 1);
			break;
		}
		}
	}
	virtio_rng_free(r);
	return 0;
}
