/* Device buses: registration with overlap checks and lookup by binary search. */
#include "bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
}

void bus_free(struct bus *b)
{
	free(b->ranges);
	b->ranges = NULL;
	b->nr = b->cap = 0;
}

int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct bus_ops *ops,
	    void *opaque, const char *name)
{
	uint64_t end;
	int pos;

	if (len == 0 || __builtin_add_overflow(base, len - 1, &end) || !ops)
		return -EINVAL;
	/* First range whose base is above ours. */
	for (pos = 0; pos < b->nr && b->ranges[pos].base <= base; pos++)
		;
	if (pos > 0) {
		const struct bus_range *prev = &b->ranges[pos - 1];
		if (prev->base + (prev->len - 1) >= base)
			return -EEXIST;
	}
	if (pos < b->nr && b->ranges[pos].base <= end)
		return -EEXIST;
	if (b->nr == b->cap) {
		int ncap = b->cap ? b->cap * 2 : 8;
		struct bus_range *n = realloc(b->ranges, (size_t)ncap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		b->ranges = n;
		b->cap = ncap;
	}
	memmove(&b->ranges[pos + 1], &b->ranges[pos],
		(size_t)(b->nr - pos) * sizeof(b->ranges[0]));
	b->ranges[pos] = (struct bus_range){base, len, ops, opaque, name};
	b->nr++;
	return 0;
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr)
{
	int lo = 0, hi = b->nr - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		const struct bus_range *r = &b->ranges[mid];

		if (addr < r->base)
			hi = mid - 1;
		else if (addr - r->base >= r->len)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

int bus_access(struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, int is_write)
{
	const struct bus_range *r = bus_find(b, addr);
	uint64_t off;

	/* GUEST: addr and len come from the exit; the access must lie inside
	 * one device's range (off + len <= r->len, checked without overflow). */
	if (r) {
		off = addr - r->base;
		if (len <= r->len - off) {
			if (is_write) {
				if (r->ops->write)
					r->ops->write(r->opaque, off, data, len);
			} else if (r->ops->read) {
				r->ops->read(r->opaque, off, data, len);
			} else {
				memset(data, 0xff, len);
			}
			return 0;
		}
		__atomic_add_fetch(&b->split_accesses, 1, __ATOMIC_RELAXED);
		log_guest(b->name, "access at 0x%llx len %u straddles the end of %s",
			  (unsigned long long)addr, len, r->name);
	}
	if (is_write) {
		__atomic_add_fetch(&b->unclaimed_writes, 1, __ATOMIC_RELAXED);
	} else {
		__atomic_add_fetch(&b->unclaimed_reads, 1, __ATOMIC_RELAXED);
		memset(data, 0xff, len);
	}
	return -ENOENT;
}
