/* CRC-32C (Castagnoli), the checksum of every block in a recording. */
#ifndef FD_CRC32C_H
#define FD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc = 0. Matches the common CRC-32C test vector
 * ("123456789" -> 0xE3069283). */
uint32_t fd_crc32c(uint32_t crc, const void *data, size_t len);

#endif
