/* libFuzzer target for the snapshot file container: arbitrary bytes through
 * snap_parse and the inspector's printing (to /dev/null). An accepted file
 * must be exactly what snap_encode makes of what was parsed from it, since
 * the format has one canonical layout: that checks every offset, length,
 * checksum and padding byte the parser let through. The first byte's low
 * bit asks for the checksums to be made right before parsing, so that the
 * mutations reach the layout checks behind them. A seed corpus is any file
 * snap_encode wrote. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/crc32c.h"
#include "snapshot/inspect.h"
#include "snapshot/snapfile.h"

static void check_accepted(const uint8_t *buf, size_t size, const struct snap_file *f)
{
	size_t len = 0;
	void *again = NULL;
	char err[256];

	if (f->nr < 0 || f->nr > SNAP_MAX_SECTIONS || f->len != size || f->buf)
		abort();
	for (int i = 0; i < f->nr; i++) {
		const uint8_t *d = f->secs[i].data;

		if (d < buf || f->secs[i].len > size || (size_t)(d - buf) > size - f->secs[i].len)
			abort();
		if ((d - buf) % SNAP_SEC_ALIGN)
			abort();
		if (snap_find(f, f->secs[i].type) !=
		    (f->secs[i].type <= SNAP_SEC_KNOWN_MAX ? &f->secs[i] : NULL))
			abort();
	}
	if (snap_encode(&f->host, f->secs, f->nr, &again, &len, err, sizeof(err)))
		abort();
	if (len != size || memcmp(again, buf, size) != 0)
		abort();
	free(again);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Payload CRCs first (they are in the table), then the table's, then the
 * header's, each only where the bytes are there to hold it. */
static void fix_checksums(uint8_t *b, size_t size)
{
	uint32_t nr;
	size_t tlen;

	if (size < SNAP_HEADER_LEN)
		return;
	memcpy(&nr, b + 20, 4);
	put32(b + SNAP_HEADER_LEN - 4, crc32c(0, b, SNAP_HEADER_LEN - 4));
	if (nr > SNAP_MAX_SECTIONS || size < SNAP_HEADER_LEN + SNAP_TABLE_LEN(nr))
		return;
	tlen = SNAP_TABLE_LEN(nr) - 4;
	for (uint32_t i = 0; i < nr; i++) {
		uint8_t *e = b + SNAP_HEADER_LEN + i * SNAP_ENTRY_LEN;
		struct snap_raw_entry r;

		snap_decode_entry(e, &r);
		if (r.off <= size && r.len <= size - r.off)
			put32(e + 12, crc32c(0, b + r.off, r.len));
	}
	put32(b + SNAP_HEADER_LEN + tlen, crc32c(0, b + SNAP_HEADER_LEN, tlen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct snap_file f;
	char err[256], err2[256];
	uint8_t *buf;
	int rc, fix;

	if (!null)
		null = fopen("/dev/null", "w");
	if (!null)
		abort();
	if (size < 1)
		return 0;
	fix = data[0] & 1;
	data++;
	size--;
	/* An exact-size copy, so ASan sees any read past the end. */
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (fix)
		fix_checksums(buf, size);
	err[0] = 0;
	rc = snap_parse(buf, size, &f, err, sizeof(err));
	if (rc == 0)
		check_accepted(buf, size, &f);
	else if (rc != -EINVAL || !err[0] || strnlen(err, sizeof(err)) >= sizeof(err) || f.nr)
		abort();
	if (snap_inspect_buf(buf, size, null, err2, sizeof(err2)) != rc)
		abort();
	free(buf);
	return 0;
}
