/* libFuzzer target for src/virtio/queue.c: random guest memory and ring
 * layout, then pop/iov/push/notify loops as a device would run them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/queue.h"
#include "virtq_driver.h"

#define MEM_SIZE 65536u

static uint64_t rd(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtq_chain chain;
	struct guest_mem gm;
	struct virtq q;
	struct iovec iov[VIRTQ_CHAIN_MAX];
	uint64_t desc, avail, used;
	uint32_t qsize;
	uint8_t flags;
	int no, ni;

	if (size < 12)
		return 0;
	flags = data[0];
	qsize = 1u << (data[1] % 17); /* 1..65536: 65536 must be refused */
	if (data[1] & 0x80)
		qsize = data[1] | (uint32_t)data[2] << 8; /* also non-powers */
	desc = rd(data + 3, 2);
	avail = rd(data + 5, 2);
	used = rd(data + 7, 2);
	if (!(flags & 0x10)) { /* mostly keep the rings aligned */
		desc &= ~15ull;
		avail &= ~1ull;
		used &= ~3ull;
	}
	if (flags & 0x20)
		desc |= 0xffffffffffff0000ull; /* out of RAM, maybe wrapping */
	data += 9;
	size -= 9;
	vqd_fuzz_ram(&gm, MEM_SIZE, data, size);
	virtq_init(&q, &gm, NULL);
	if (virtq_enable(&q, qsize, VIRTQ_MAX_SIZE, desc, avail, used, flags & 1, flags & 2) < 0)
		return 0;
	/* More pops than the ring holds: exercises wrap, flood and empty. */
	for (int i = 0; i < 70; i++) {
		int r = virtq_pop(&q, &chain);

		if (r <= 0)
			break;
		if (virtq_chain_iov(&chain, iov, VIRTQ_CHAIN_MAX, &no, &ni) < 0)
			abort();
		if ((uint32_t)(no + ni) != chain.nr)
			abort();
		/* Touch every byte a device could: ASan catches a bad bound. */
		for (int k = 0; k < no + ni; k++) {
			volatile uint8_t sink;
			uint8_t *b = iov[k].iov_base;

			if (iov[k].iov_len) {
				sink = b[0];
				sink = b[iov[k].iov_len - 1];
				(void)sink;
			}
			if (k >= no && iov[k].iov_len)
				b[iov[k].iov_len - 1] = 0x5a;
		}
		virtq_push(&q, chain.head, chain.in_len);
		if (flags & 4)
			(void)virtq_should_notify(&q);
	}
	(void)virtq_should_notify(&q);
	virtq_disable(&q);
	return 0;
}
