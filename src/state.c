/* Device state sections: little-endian writer and hostile-input reader. */
#include "state.h"

#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void state_buf_init(struct state_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void state_buf_free(struct state_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void state_put_bytes(struct state_buf *b, const void *p, size_t n)
{
	if (b->err || !n)
		return;
	if (n > b->cap - b->len) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *d;

		while (cap - b->len < n) {
			if (cap > SIZE_MAX / 2) {
				b->err = -ENOMEM;
				return;
			}
			cap *= 2;
		}
		d = realloc(b->data, cap);
		if (!d) {
			b->err = -ENOMEM;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void state_put_u8(struct state_buf *b, uint8_t v)
{
	state_put_bytes(b, &v, 1);
}

void state_put_u16(struct state_buf *b, uint16_t v)
{
	v = htole16(v);
	state_put_bytes(b, &v, 2);
}

void state_put_u32(struct state_buf *b, uint32_t v)
{
	v = htole32(v);
	state_put_bytes(b, &v, 4);
}

void state_put_u64(struct state_buf *b, uint64_t v)
{
	v = htole64(v);
	state_put_bytes(b, &v, 8);
}

void state_put_i64(struct state_buf *b, int64_t v)
{
	state_put_u64(b, (uint64_t)v);
}

void state_reader_init(struct state_reader *r, const void *p, size_t len, const char *what)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = p ? len : 0;
	r->what = what ? what : "state";
}

void state_fail(struct state_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->err)
		return;
	r->err = -EINVAL;
	n = snprintf(r->msg, sizeof(r->msg), "%s: ", r->what);
	if (n < 0 || (size_t)n >= sizeof(r->msg))
		return;
	va_start(ap, fmt);
	vsnprintf(r->msg + n, sizeof(r->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

void state_get_bytes(struct state_reader *r, void *dst, size_t n)
{
	if (!r->err && n > r->len - r->off)
		state_fail(r, "section truncated (%zu bytes, wanted %zu more at offset %zu)",
			   r->len, n, r->off);
	if (r->err) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, r->p + r->off, n);
	r->off += n;
}

uint8_t state_get_u8(struct state_reader *r)
{
	uint8_t v;

	state_get_bytes(r, &v, 1);
	return v;
}

uint16_t state_get_u16(struct state_reader *r)
{
	uint16_t v;

	state_get_bytes(r, &v, 2);
	return le16toh(v);
}

uint32_t state_get_u32(struct state_reader *r)
{
	uint32_t v;

	state_get_bytes(r, &v, 4);
	return le32toh(v);
}

uint64_t state_get_u64(struct state_reader *r)
{
	uint64_t v;

	state_get_bytes(r, &v, 8);
	return le64toh(v);
}

int64_t state_get_i64(struct state_reader *r)
{
	return (int64_t)state_get_u64(r);
}

void state_get_reader(struct state_reader *r, struct state_reader *sub, size_t n)
{
	if (!r->err && n > r->len - r->off)
		state_fail(r, "section truncated (%zu bytes, wanted %zu more at offset %zu)",
			   r->len, n, r->off);
	state_reader_init(sub, r->err ? NULL : r->p + r->off, r->err ? 0 : n, r->what);
	if (r->err) {
		sub->err = r->err;
		memcpy(sub->msg, r->msg, sizeof(sub->msg));
		return;
	}
	r->off += n;
}

bool state_check(struct state_reader *r, bool ok, const char *field, uint64_t value)
{
	if (!ok)
		state_fail(r, "%s %llu out of range", field, (unsigned long long)value);
	return ok;
}

int state_end(struct state_reader *r, char *err, size_t errlen)
{
	if (!r->err && r->off != r->len)
		state_fail(r, "section oversized (%zu bytes left over of %zu)", r->len - r->off,
			   r->len);
	if (r->err && err && errlen)
		snprintf(err, errlen, "%s", r->msg);
	return r->err;
}
