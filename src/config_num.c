/* Numbers as the command line and the config file write them: plain
 * decimal or 0x-hex, and sizes with a binary K/M/G(/T) suffix. Pure; shared
 * by config.c and the per-device parsers (config_net.c, config_vsock.c). */
#include "config_num.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int config_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	int base = 10;

	if (!s || !*s)
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -EINVAL;
	}
	/* strtoull accepts signs and leading spaces; we do not. */
	for (const char *p = s; *p; p++) {
		if (base == 16 ? !strchr("0123456789abcdefABCDEF", *p) : (*p < '0' || *p > '9'))
			return -EINVAL;
	}
	errno = 0;
	*out = strtoull(s, &end, base);
	if (errno || *end)
		return -ERANGE;
	return 0;
}

/* A number with an optional binary suffix (K, M, G; T when tera): bare
 * numbers count in units of bare_mul. */
static int parse_scaled(const char *s, uint64_t bare_mul, bool tera, uint64_t *out)
{
	char num[32];
	size_t n;
	uint64_t v, mul = bare_mul;
	int rc;

	if (!s || !*s)
		return -EINVAL;
	n = strlen(s);
	switch (s[n - 1]) {
	case 'k': case 'K': mul = 1ull << 10; n--; break;
	case 'm': case 'M': mul = 1ull << 20; n--; break;
	case 'g': case 'G': mul = 1ull << 30; n--; break;
	case 't': case 'T':
		if (tera) {
			mul = 1ull << 40;
			n--;
		}
		break;
	default: break;
	}
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = 0;
	rc = config_parse_u64(num, &v);
	if (rc)
		return rc;
	if (__builtin_mul_overflow(v, mul, out))
		return -ERANGE;
	return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	return parse_scaled(s, 1ull << 20, true, out);
}

/* A byte count for bps= and burst=: decimal or 0x-hex, optionally with a
 * binary K/M/G suffix; bare is bytes (unlike --memory's MiB). */
int config_parse_bytes(const char *s, uint64_t *out)
{
	return parse_scaled(s, 1, false, out);
}
