/* libFuzzer target for the snapshot memory map section: arbitrary bytes
 * through memmap_parse, and whatever it accepts checked against the
 * invariants memfile_map relies on (an exact tiling of RAM), then totalled
 * and printed. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/memfile.h"

static void check(const struct memmap *m)
{
	uint64_t end = 0, data, zero, base;

	if (!m->ram_size || m->ram_size % MEMMAP_PAGE || !m->nr_ranges ||
	    m->nr_ranges > MEMMAP_MAX_RANGES(m->ram_size))
		abort();
	for (uint32_t i = 0; i < m->nr_ranges; i++) {
		const struct memmap_range *g = &m->ranges[i];

		if (g->offset != end || !g->length || g->length % MEMMAP_PAGE ||
		    g->kind > MEMMAP_BASE ||
		    (g->kind == MEMMAP_BASE && !(m->flags & MEMMAP_DIFF)) ||
		    (i && m->ranges[i - 1].kind == g->kind))
			abort();
		end += g->length;
	}
	memmap_totals(m, &data, &zero, &base);
	if (end != m->ram_size || data + zero + base != m->ram_size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees any read past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	struct memmap m;
	char err[160];
	FILE *null;

	memcpy(buf, data, size);
	err[0] = 0;
	if (memmap_parse(buf, size, &m, err, sizeof(err)) == 0) {
		check(&m);
		null = fopen("/dev/null", "w");
		if (null) {
			memmap_print(&m, null);
			fclose(null);
		}
		memmap_free(&m);
	} else if (!err[0] || m.ranges || strnlen(err, sizeof(err)) >= sizeof(err)) {
		abort();
	}
	free(buf);
	return 0;
}
