/* CRC-32C (Castagnoli), the checksum of every block in a recording. */
#ifndef FD_CRC32C_H
#define FD_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: start with crc = 0. Matches the common CRC-32C test vector
 * ("123456789" -> 0xE3069283). */
uint32_t fd_crc32c(uint32_t crc, const void *data, size_t len);

/* The same in portable C (slicing-by-8 tables), what fd_crc32c runs where
 * the CPU has no CRC-32C instruction; public so tests check both. */
uint32_t fd_crc32c_portable(uint32_t crc, const void *data, size_t len);

#endif
