/* libFuzzer target for the working set file parser: arbitrary bytes through
 * workset_parse, against the RAM size the file claims (to get past that
 * check) or a fixed one (to exercise it), picked by the first byte; what is
 * accepted must be sorted, disjoint, page-aligned ranges inside RAM. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/workset.h"

static void check(const struct workset *ws, uint64_t ram)
{
	uint64_t end = 0;

	if (ws->ram_size != ram || (ws->nr_ranges && !ws->ranges))
		abort();
	for (uint32_t i = 0; i < ws->nr_ranges; i++) {
		const struct workset_range *g = &ws->ranges[i];

		if (g->offset < end || g->offset % 4096 || !g->length || g->length % 4096 ||
		    g->offset + g->length > ram || g->offset + g->length < g->offset)
			abort();
		end = g->offset + g->length;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct workset ws;
	uint64_t ram = 1ull << 30;
	uint8_t *buf;
	char err[160];

	if (size < 1)
		return 0;
	if (data[0] & 1 && size >= 1 + 20)
		memcpy(&ram, data + 1 + 12, sizeof(ram)); /* the file's own (x86: LE) */
	size--;
	buf = malloc(size ? size : 1);
	memcpy(buf, data + 1, size);
	err[0] = 0;
	if (workset_parse(buf, size, ram, &ws, err, sizeof(err)) == 0) {
		check(&ws, ram);
		workset_free(&ws);
	} else if (!err[0] || ws.ranges) {
		abort();
	}
	free(buf);
	return 0;
}
