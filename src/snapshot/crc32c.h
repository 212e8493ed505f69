/* CRC32C (Castagnoli, as iSCSI and ext4 use it) for the snapshot file's
 * header, section table and payloads. One entry point that picks the SSE4.2
 * instruction when the CPU has it; both paths are exposed so the tests can
 * hold them to each other. */
#ifndef KITE_SNAPSHOT_CRC32C_H
#define KITE_SNAPSHOT_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* crc is the value returned for the bytes before p (0 to start), so
 * crc32c(crc32c(0, a, na), b, nb) == crc32c(0, ab, na + nb). */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

/* The two implementations behind crc32c(); crc32c_hw only when
 * crc32c_hw_available(). */
uint32_t crc32c_sw(uint32_t crc, const void *p, size_t n);
uint32_t crc32c_hw(uint32_t crc, const void *p, size_t n);
bool crc32c_hw_available(void);

#endif
