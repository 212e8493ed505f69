/* CRC32C (polynomial 0x1EDC6F41, reflected 0x82F63B78, initial and final
 * value all ones). The SSE4.2 crc32 instruction computes exactly this CRC,
 * eight bytes per instruction; the byte-wise table is for CPUs without it.
 * The table is built at compile time rather than on first use so that no
 * lazy initialisation races between threads. */
#include "snapshot/crc32c.h"

#include <string.h>

#define POLY 0x82F63B78u

/* One shift of the bitwise CRC, branch-free so each level names c twice. */
#define T1(c) (((c) >> 1) ^ (POLY & (0u - ((c)&1))))
#define T8(c) T1(T1(T1(T1(T1(T1(T1(T1(c))))))))
#define R4(n) T8(n), T8(n + 1), T8(n + 2), T8(n + 3)
#define R16(n) R4(n), R4(n + 4), R4(n + 8), R4(n + 12)
#define R64(n) R16(n), R16(n + 16), R16(n + 32), R16(n + 48)

static const uint32_t table[256] = {R64(0u), R64(64u), R64(128u), R64(192u)};

uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;

	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t c = ~crc;

	for (; n >= 8; n -= 8, b += 8) {
		uint64_t v;

		/* memcpy: the buffer need not be 8-byte aligned. */
		memcpy(&v, b, sizeof(v));
		c = __builtin_ia32_crc32di(c, v);
	}
	for (; n; n--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *b++);
	return ~(uint32_t)c;
}

bool crc32c_hw_available(void)
{
	return __builtin_cpu_supports("sse4.2");
}

uint32_t crc32c(uint32_t crc, const void *p, size_t n)
{
	return crc32c_hw_available() ? crc32c_hw(crc, p, n) : crc32c_sw(crc, p, n);
}
