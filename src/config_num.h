/* Number parsers of the configuration (config_num.c): no side effects,
 * -EINVAL for what is not a number, -ERANGE for one too large. */
#ifndef KITE_CONFIG_NUM_H
#define KITE_CONFIG_NUM_H

#include <stdint.h>

#include "compiler.h"

/* Decimal or 0x-hex, the whole string, no sign, no overflow. */
int config_parse_u64(const char *s, uint64_t *out) MUST_CHECK;
/* "256M", "1G", "4096K", "512" (MiB when bare). Bytes out. */
int config_parse_size(const char *s, uint64_t *out) MUST_CHECK;
/* A byte count: decimal or 0x-hex with an optional K/M/G suffix; bare = bytes. */
int config_parse_bytes(const char *s, uint64_t *out) MUST_CHECK;

#endif
