/* virtio-blk request parsing: every bound is checked (header length, sector
 * range with overflow, data length, read-only, discard/write-zeroes
 * segments) before the disk backend sees a request, and the header and
 * segments are copied out of guest memory once. */
#include <endian.h>
#include <string.h>

#include "log.h"
#include "virtio/blk_priv.h"

struct blk_outhdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
};
#define DWZ_F_UNMAP 1u

/* Copies `len` bytes out of the front of an iovec array and advances it
 * (the array is our own copy, so trimming the first entry is fine). The
 * caller checked that the array holds at least `len` bytes. */
static void iov_take(struct iovec **iov, int *cnt, void *dst, size_t len)
{
	uint8_t *d = dst;

	while (len && *cnt) {
		size_t n = MIN(len, (*iov)->iov_len);

		if (n) { /* zero-length buffers have no host pointer */
			memcpy(d, (*iov)->iov_base, n);
			d += n;
			len -= n;
			(*iov)->iov_base = (uint8_t *)(*iov)->iov_base + n;
			(*iov)->iov_len -= n;
		}
		if ((*iov)->iov_len == 0) {
			(*iov)++;
			(*cnt)--;
		}
	}
	__asm__ __volatile__("" ::: "memory"); /* use the copy, never re-read */
}

static void iov_give(struct iovec *iov, int cnt, const void *src, size_t len)
{
	const uint8_t *s = src;

	for (int i = 0; i < cnt && len; i++) {
		size_t n = MIN(len, iov[i].iov_len);

		if (!n)
			continue;
		memcpy(iov[i].iov_base, s, n);
		s += n;
		len -= n;
	}
}

/* GUEST: sector and nsec from the guest; true when [sector, sector+nsec)
 * lies inside the disk, overflow-safe. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t nsec)
{
	return sector <= b->capacity && nsec <= b->capacity - sector;
}

/* DISCARD / WRITE_ZEROES: exactly one segment (max_*_seg is 1). Returns a
 * status, or OK with r->d filled in for the backend. */
static uint8_t parse_dwz(struct virtio_blk *b, struct blk_req *r, uint32_t type,
			 struct iovec *out, int nout, uint32_t out_bytes)
{
	struct blk_dwz_seg seg;
	uint64_t sector;
	uint32_t num, flags;

	if (b->ro)
		return VIRTIO_BLK_S_IOERR;
	/* GUEST: out_bytes from the chain; exactly one 16-byte segment. */
	if (out_bytes != sizeof(seg))
		return VIRTIO_BLK_S_IOERR;
	iov_take(&out, &nout, &seg, sizeof(seg));
	sector = le64toh(seg.sector);
	num = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if (flags & ~DWZ_F_UNMAP)
		return VIRTIO_BLK_S_UNSUPP;
	if (type == VIRTIO_BLK_T_DISCARD && (flags & DWZ_F_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	/* GUEST: num bounded by the advertised max, range by capacity. */
	if (num > VIRTIO_BLK_MAX_DISCARD_SECTORS || !range_ok(b, sector, num))
		return VIRTIO_BLK_S_IOERR;
	/* Durable on completion without FLUSH, like writes (see parse). */
	r->d.dsync = !(b->vd.negotiated & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
	if (type == VIRTIO_BLK_T_DISCARD)
		r->d.op = DISK_DISCARD;
	else
		r->d.op = (flags & DWZ_F_UNMAP) ? DISK_WRITE_ZEROES_UNMAP : DISK_WRITE_ZEROES;
	r->d.off = sector * VIRTIO_BLK_SECTOR; /* < capacity * 512: no overflow */
	r->d.len = (uint64_t)num * VIRTIO_BLK_SECTOR;
	return VIRTIO_BLK_S_OK;
}

uint8_t blk_parse(struct virtio_blk *b, struct blk_req *r, const struct virtq_chain *c,
		     int nout, int nin)
{
	struct iovec *out = r->iov, *in = r->iov + nout;
	struct blk_outhdr hdr;
	uint32_t type, data_in, data_out;
	uint64_t sector;

	/* GUEST: out_len >= 16 before the header is read. */
	if (c->out_len < sizeof(hdr)) {
		log_guest(b->vd.name, "request header too short (%u bytes)", c->out_len);
		return VIRTIO_BLK_S_IOERR;
	}
	iov_take(&out, &nout, &hdr, sizeof(hdr));
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	data_out = c->out_len - (uint32_t)sizeof(hdr);
	data_in = c->in_len - 1; /* in_len >= 1 checked by the caller */

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT: {
		uint32_t len = type == VIRTIO_BLK_T_IN ? data_in : data_out;

		if (type == VIRTIO_BLK_T_OUT && b->ro)
			return VIRTIO_BLK_S_IOERR;
		/* GUEST: len a multiple of 512; range checked in sectors,
		 * so sector * 512 cannot overflow afterwards. */
		if (len % VIRTIO_BLK_SECTOR || !range_ok(b, sector, len / VIRTIO_BLK_SECTOR)) {
			log_guest(b->vd.name, "request beyond the disk or unaligned (sector %llu, "
				  "%u bytes)", (unsigned long long)sector, len);
			return VIRTIO_BLK_S_IOERR;
		}
		r->used_len = type == VIRTIO_BLK_T_IN ? data_in + 1 : 1;
		if (len == 0)
			return VIRTIO_BLK_S_OK;
		r->d.op = type == VIRTIO_BLK_T_IN ? DISK_READ : DISK_WRITE;
		r->d.iov = type == VIRTIO_BLK_T_IN ? in : out;
		r->d.iovcnt = type == VIRTIO_BLK_T_IN ? nin : nout;
		r->d.off = sector * VIRTIO_BLK_SECTOR;
		r->d.len = len;
		/* A driver that did not take FLUSH has no way to make data
		 * durable, so each write must be (VIRTIO 1.2, 5.2.6.2); the
		 * same holds for discard and write-zeroes (parse_dwz). */
		r->d.dsync = type == VIRTIO_BLK_T_OUT &&
			     !(b->vd.negotiated & VIRTIO_BIT(VIRTIO_BLK_F_FLUSH));
		return BLK_SUBMIT;
	}
	case VIRTIO_BLK_T_FLUSH:
		r->d.op = DISK_FLUSH;
		r->used_len = 1;
		return BLK_SUBMIT;
	case VIRTIO_BLK_T_GET_ID: {
		uint32_t n = MIN(data_in, (uint32_t)VIRTIO_BLK_ID_BYTES);

		iov_give(in, nin, b->id, n);
		r->used_len = n + 1;
		return VIRTIO_BLK_S_OK;
	}
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		uint8_t st = parse_dwz(b, r, type, out, nout, data_out);

		r->used_len = 1;
		if (st != VIRTIO_BLK_S_OK || r->d.len == 0)
			return st;
		return BLK_SUBMIT;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}
