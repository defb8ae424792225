#include "common/grow.h"

#include <stdint.h>
#include <stdlib.h>

bool fd_grow(void **v, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 64;
	if (size && c > SIZE_MAX / size)
		return false;
	void *p = realloc(*v, c * size);
	if (!p)
		return false;
	*v = p;
	*cap = c;
	return true;
}
