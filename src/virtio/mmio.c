/* virtio-mmio v2 register decoder: offsets and access widths to calls of the
 * virtio core. Every register value comes from the guest; the core checks
 * what it means, this file only that the access is a well-formed one. */
#include "virtio/mmio.h"

#include <endian.h>
#include <string.h>

static void set_lo(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffff00000000ull) | v;
}

static void set_hi(uint64_t *r, uint32_t v)
{
	*r = (*r & 0xffffffffull) | (uint64_t)v << 32;
}

/* Returns the queue to kick (>= 0) or -1. Lock held. */
static int64_t reg_write(struct virtio_dev *vd, uint64_t off, uint32_t v)
{
	struct virtio_queue *q;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vd->dev_feat_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_dev_write_driver_features(vd, off, v);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vd->drv_feat_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		vd->queue_sel = v; /* bounded where used, by virtio_dev_sel_queue */
		break;
	case VIRTIO_MMIO_QUEUE_NUM:
		q = virtio_dev_cfg_queue(vd, off, v);
		if (q)
			q->num = v; /* checked at QueueReady */
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		virtio_dev_write_queue_ready(vd, v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		return virtio_dev_check_notify(vd, off, v);
	case VIRTIO_MMIO_INTERRUPT_ACK:
		virtio_dev_ack_interrupt(vd, v);
		break;
	case VIRTIO_MMIO_STATUS:
		virtio_dev_write_status(vd, v);
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: {
		uint64_t *r;

		q = virtio_dev_cfg_queue(vd, off, v);
		if (!q)
			break;
		r = off < VIRTIO_MMIO_QUEUE_DRIVER_LOW   ? &q->desc
		    : off < VIRTIO_MMIO_QUEUE_DEVICE_LOW ? &q->driver
							 : &q->device;
		if (off & 4)
			set_hi(r, v);
		else
			set_lo(r, v);
		break;
	}
	case VIRTIO_MMIO_SHM_SEL:
	case VIRTIO_MMIO_QUEUE_RESET:
		/* No shared memory regions, RING_RESET not offered. */
		break;
	default:
		virtio_dev_illegal(vd, "write to a read-only or unknown register", off, v);
	}
	return -1;
}

static uint32_t reg_read(struct virtio_dev *vd, uint64_t off)
{
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vd->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_dev_read_device_features(vd);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return virtio_dev_sel_queue(vd) ? vd->ops->queue_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return virtio_dev_read_queue_ready(vd);
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vd->int_status;
	case VIRTIO_MMIO_STATUS:
		return virtio_dev_read_status(vd);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffu; /* no such region */
	case VIRTIO_MMIO_QUEUE_RESET:
		return 0;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vd->config_gen;
	default:
		virtio_dev_illegal(vd, "read of a write-only or unknown register", off, 0);
		return 0;
	}
}

/* Config space: any width the bus delivers (1/2/4/8), any alignment. Bytes
 * past the device's config end read as zero; a write reaching past it is
 * dropped whole. */
static void config_access(struct virtio_dev *vd, uint64_t off, uint8_t *data, uint32_t len,
			  bool write)
{
	uint64_t coff = off - VIRTIO_MMIO_CONFIG;
	uint32_t size = vd->ops->config_size;

	/* GUEST: coff < 0x100 (bus window), len <= 8. */
	if (write) {
		if (coff + len > size || !vd->ops->config_write) {
			virtio_dev_illegal(vd, "config write outside the writable config", off,
					   len);
			return;
		}
		vd->ops->config_write(vd->priv, (uint32_t)coff, data, len);
		return;
	}
	memset(data, 0, len);
	if (coff < size)
		vd->ops->config_read(vd->priv, (uint32_t)coff, data,
				     (uint32_t)MIN((uint64_t)len, size - coff));
}

static void mmio_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
	struct virtio_dev *vd = opaque;
	uint32_t v;

	if (off >= VIRTIO_MMIO_SIZE || len > 8 || off + len > VIRTIO_MMIO_SIZE) {
		memset(data, 0, MIN(len, 8u));
		return;
	}
	virtio_dev_lock(vd);
	if (off >= VIRTIO_MMIO_CONFIG) {
		config_access(vd, off, data, len, false);
	} else if (len != 4 || off % 4) {
		memset(data, 0, len);
		virtio_dev_illegal(vd, "register read that is not 32-bit aligned", off, len);
	} else {
		v = htole32(reg_read(vd, off));
		memcpy(data, &v, 4);
	}
	virtio_dev_unlock(vd);
}

static void mmio_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
	struct virtio_dev *vd = opaque;
	int64_t kick = -1;
	uint8_t buf[8];
	uint32_t v;

	if (off >= VIRTIO_MMIO_SIZE || len > 8 || off + len > VIRTIO_MMIO_SIZE)
		return;
	virtio_dev_lock(vd);
	if (off >= VIRTIO_MMIO_CONFIG) {
		memcpy(buf, data, len);
		config_access(vd, off, buf, len, true);
	} else if (len != 4 || off % 4) {
		virtio_dev_illegal(vd, "register write that is not 32-bit aligned", off, len);
	} else {
		memcpy(&v, data, 4);
		kick = reg_write(vd, off, le32toh(v));
	}
	virtio_dev_unlock(vd);

	/* Outside the lock: without eventfds (tests) the kick runs the queue
	 * here, taking the lock again. */
	if (kick >= 0)
		virtio_dev_kick(vd, (uint32_t)kick);
}

const struct bus_ops virtio_mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
};
