/* The memory map section of a snapshot: its encoder (used while the memory
 * file is written) and its hostile-input parser, totals and printout. The
 * parser refuses anything but one exact tiling of [0, ram_size) so that
 * memfile_map can trust every range it is given. */
#include "snapshot/memmap.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"zero", "data", "base"};

void memmap_writer_begin(struct memmap_writer *w, struct state_buf *b, uint64_t ram_size,
			 uint32_t flags)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
	w->ram_size = ram_size;
	state_put_u64(b, ram_size);
	state_put_u32(b, MEMMAP_PAGE);
	state_put_u32(b, flags);
	w->nr_at = b->len;
	state_put_u32(b, 0);
}

static void flush(struct memmap_writer *w)
{
	if (!w->len)
		return;
	state_put_u64(w->b, w->off);
	state_put_u64(w->b, w->len);
	state_put_u32(w->b, w->kind);
	w->nr++;
	w->len = 0;
}

void memmap_writer_add(struct memmap_writer *w, uint64_t off, uint64_t len, uint32_t kind)
{
	if (!len)
		return;
	if (w->len && w->kind == kind && w->off + w->len == off) {
		w->len += len;
		return;
	}
	flush(w);
	w->off = off;
	w->len = len;
	w->kind = kind;
}

uint32_t memmap_writer_count(const struct memmap_writer *w)
{
	return w->nr + (w->len ? 1 : 0);
}

int memmap_writer_end(struct memmap_writer *w)
{
	uint32_t nr;
	uint64_t end = w->off + w->len;

	flush(w);
	if (w->b->err)
		return w->b->err;
	if (end != w->ram_size)
		return -EINVAL;
	nr = htole32(w->nr);
	memcpy(w->b->data + w->nr_at, &nr, sizeof(nr));
	return 0;
}

static void parse_header(struct state_reader *r, struct memmap *m, size_t len)
{
	uint64_t max;

	m->ram_size = state_get_u64(r);
	m->page_size = state_get_u32(r);
	m->flags = state_get_u32(r);
	m->nr_ranges = state_get_u32(r);
	if (r->err)
		return;
	if (!state_check(
		r, m->ram_size && m->ram_size % MEMMAP_PAGE == 0 && m->ram_size <= MEMMAP_RAM_MAX,
		"ram_size", m->ram_size) ||
	    !state_check(r, m->page_size == MEMMAP_PAGE, "page size", m->page_size) ||
	    !state_check(r, !(m->flags & ~MEMMAP_DIFF), "flags", m->flags))
		return;
	max = MEMMAP_MAX_RANGES(m->ram_size);
	if (!state_check(r, m->nr_ranges >= 1 && m->nr_ranges <= max, "nr_ranges", m->nr_ranges))
		return;
	/* Checked before anything is allocated: the ranges must be exactly
	 * the rest of the section. */
	if ((uint64_t)m->nr_ranges * MEMMAP_RANGE_BYTES != len - r->off)
		state_fail(r, "%" PRIu32 " ranges need %" PRIu64 " bytes, the section has %zu",
			   m->nr_ranges, (uint64_t)m->nr_ranges * MEMMAP_RANGE_BYTES, len - r->off);
}

static void parse_range(struct state_reader *r, struct memmap *m, uint32_t i, uint64_t *end)
{
	struct memmap_range *g = &m->ranges[i];

	g->offset = state_get_u64(r);
	g->length = state_get_u64(r);
	g->kind = state_get_u32(r);
	if (r->err)
		return;
	if (g->offset != *end)
		state_fail(r, "range %" PRIu32 " starts at %#" PRIx64 ", expected %#" PRIx64, i,
			   g->offset, *end);
	else if (!g->length || g->length % MEMMAP_PAGE || g->length > m->ram_size - *end)
		state_fail(r, "range %" PRIu32 " length %#" PRIx64 " bad (RAM %#" PRIx64 ")", i,
			   g->length, m->ram_size);
	else if (g->kind > MEMMAP_BASE)
		state_fail(r, "range %" PRIu32 " kind %" PRIu32 " unknown", i, g->kind);
	else if (g->kind == MEMMAP_BASE && !(m->flags & MEMMAP_DIFF))
		state_fail(r, "range %" PRIu32 " is base in a full snapshot", i);
	else if (i && m->ranges[i - 1].kind == g->kind)
		state_fail(r, "ranges %" PRIu32 " and %" PRIu32 " of one kind not coalesced", i - 1,
			   i);
	*end += g->length;
}

int memmap_parse(const void *p, size_t len, struct memmap *out, char *err, size_t errlen)
{
	struct state_reader r;
	uint64_t end = 0;
	int ret;

	memset(out, 0, sizeof(*out));
	state_reader_init(&r, p, len, "memory map");
	parse_header(&r, out, len);
	if (!r.err) {
		out->ranges = calloc(out->nr_ranges, sizeof(*out->ranges));
		if (!out->ranges) {
			snprintf(err, errlen, "memory map: out of memory for %" PRIu32 " ranges",
				 out->nr_ranges);
			memmap_free(out);
			return -ENOMEM;
		}
	}
	for (uint32_t i = 0; !r.err && i < out->nr_ranges; i++)
		parse_range(&r, out, i, &end);
	if (!r.err && end != out->ram_size)
		state_fail(&r, "ranges end at %#" PRIx64 ", RAM at %#" PRIx64, end, out->ram_size);
	ret = state_end(&r, err, errlen);
	if (ret)
		memmap_free(out);
	return ret;
}

void memmap_free(struct memmap *m)
{
	free(m->ranges);
	memset(m, 0, sizeof(*m));
}

void memmap_totals(const struct memmap *m, uint64_t *data, uint64_t *zero, uint64_t *base)
{
	uint64_t t[3] = {0, 0, 0};

	for (uint32_t i = 0; i < m->nr_ranges; i++)
		if (m->ranges[i].kind <= MEMMAP_BASE)
			t[m->ranges[i].kind] += m->ranges[i].length;
	if (zero)
		*zero = t[MEMMAP_ZERO];
	if (data)
		*data = t[MEMMAP_DATA];
	if (base)
		*base = t[MEMMAP_BASE];
}

#define PRINT_RANGES 16

void memmap_print(const struct memmap *m, FILE *out)
{
	uint64_t data, zero, base;

	memmap_totals(m, &data, &zero, &base);
	fprintf(out,
		"memory: %s, %" PRIu64 " MiB RAM, %" PRIu32 " ranges: data %" PRIu64
		" KiB, zero %" PRIu64 " KiB, base %" PRIu64 " KiB\n",
		m->flags & MEMMAP_DIFF ? "diff" : "full", m->ram_size >> 20, m->nr_ranges,
		data >> 10, zero >> 10, base >> 10);
	for (uint32_t i = 0; i < m->nr_ranges && i < PRINT_RANGES; i++) {
		const struct memmap_range *g = &m->ranges[i];

		fprintf(out, "  0x%012" PRIx64 "-0x%012" PRIx64 " %s\n", g->offset,
			g->offset + g->length, g->kind <= MEMMAP_BASE ? kind_names[g->kind] : "?");
	}
	if (m->nr_ranges > PRINT_RANGES)
		fprintf(out, "  ... %" PRIu32 " more ranges\n", m->nr_ranges - PRINT_RANGES);
}
