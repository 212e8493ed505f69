/* libFuzzer target for src/virtio/vsock*.c: fuzz-provided guest memory
 * holds the three queues' rings, the guest's packet headers and payloads
 * and its RX buffers; a vsock device processes them through the mmio
 * transport. A listener at PATH_1 lets guest requests to host port 1
 * open real connections, so data, shutdown, credit and RST paths run on
 * live connections too; a driver reset between inputs closes them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "virtio/vsock.h"
#include "virtq_driver.h"

#define MEM_SIZE 65536u
/* Queue q's rings packed into the first 3 KiB, so that short inputs
 * reach them: desc +0 (32 entries), avail +0x200, used +0x280. */
#define RING(q) (0x400u * (q))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int listen_at(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_1", path);
	unlink(sa.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 512) < 0)
		abort();
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	static struct guest_mem gm;
	static struct evloop loop;
	static struct virtio_vsock *v;
	static int lfd;
	struct virtio_dev *t;
	struct vqd q[3];
	uint8_t flags;
	int fd;

	if (!mem) {
		char path[64];

		log_set_level(LOG_ERROR);
		mem = aligned_alloc(4096, MEM_SIZE);
		gm_init_wrap(&gm, mem, MEM_SIZE);
		snprintf(path, sizeof(path), "/tmp/kite-fuzz-vsock.%d", (int)getpid());
		unlink(path);
		if (ev_init(&loop) < 0 || virtio_vsock_new(&v, &gm, &loop, 3, path, "fuzz-vsock") < 0)
			abort();
		lfd = listen_at(path);
	}
	if (size < 2)
		return 0;
	flags = data[0];
	t = virtio_vsock_vdev(v);
	vqd_wr(t, VIRTIO_MMIO_STATUS, 0); /* closes the previous input's connections */
	while ((fd = accept(lfd, NULL, NULL)) >= 0)
		close(fd);
	memset(mem, 0, MEM_SIZE);
	memcpy(mem, data + 1, size - 1 < MEM_SIZE ? size - 1 : MEM_SIZE);
	for (int i = 0; i < 3; i++)
		q[i] = (struct vqd){mem, 16u << ((flags >> (2 * i)) & 1), RING(i), RING(i) + 0x200,
				    RING(i) + 0x280};
	vqd_bring_up(t, VQD_VERSION_1 | (uint64_t)(flags & 0x40 ? 3u : 0u) << 28, q, 3);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 2);
	if (flags & 0x80) {
		/* More of the same ring: the guest moved avail.idx on. */
		vqd_avail(&q[1])[1] += (uint16_t)(flags & 0xf);
		vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
		vqd_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	}
	return 0;
}
