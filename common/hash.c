#include "common/hash.h"

uint64_t fd_hash64(const void *data, size_t len)
{
	/* FNV-1a, finished with a murmur-style avalanche so that the low bits
	 * used for slots and shards are well mixed. Stable across runs and
	 * machines: shard assignment depends on it. */
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}
