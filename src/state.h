/* Device state sections: a growable writer for save and a bounds-checked
 * reader for restore. Every field is little-endian and fixed-size. The
 * reader treats its input as hostile: a read past the end, a value out of
 * range (state_check) or bytes left over (state_end) set a sticky error
 * with one line of explanation, and every later read returns zeros, so a
 * restore function reads all its fields first and checks once. */
#ifndef KITE_STATE_H
#define KITE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* No device section is anywhere near this; a larger claim is refused
 * before anything is allocated. */
#define STATE_SECTION_MAX (1u << 20)

struct state_buf {
	uint8_t *data;
	size_t len, cap;
	int err; /* -ENOMEM once an append failed; the buffer is then useless */
};

void state_buf_init(struct state_buf *b);
void state_buf_free(struct state_buf *b);
void state_put_u8(struct state_buf *b, uint8_t v);
void state_put_u16(struct state_buf *b, uint16_t v);
void state_put_u32(struct state_buf *b, uint32_t v);
void state_put_u64(struct state_buf *b, uint64_t v);
void state_put_i64(struct state_buf *b, int64_t v);
void state_put_bytes(struct state_buf *b, const void *p, size_t n);

struct state_reader {
	const uint8_t *p;
	size_t len, off;
	const char *what; /* prefix of the error message: the section's owner */
	int err;          /* 0, or -EINVAL once anything was wrong */
	char msg[160];
};

void state_reader_init(struct state_reader *r, const void *p, size_t len, const char *what);
uint8_t state_get_u8(struct state_reader *r);
uint16_t state_get_u16(struct state_reader *r);
uint32_t state_get_u32(struct state_reader *r);
uint64_t state_get_u64(struct state_reader *r);
int64_t state_get_i64(struct state_reader *r);
void state_get_bytes(struct state_reader *r, void *dst, size_t n);
/* A bounded sub-reader over the next n bytes (the parent skips them). */
void state_get_reader(struct state_reader *r, struct state_reader *sub, size_t n);
/* Records "<what>: <field> <value> out of range" unless ok. Returns ok. */
bool state_check(struct state_reader *r, bool ok, const char *field, uint64_t value);
/* Sets a formatted error (first one wins). */
void state_fail(struct state_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends a section: bytes left over are an error ("oversized"). Returns 0 or
 * -EINVAL; copies the message to err when there is one. */
int state_end(struct state_reader *r, char *err, size_t errlen) MUST_CHECK;

#endif
