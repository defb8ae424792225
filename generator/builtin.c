#include "generator/builtin.h"

#include <string.h>

const struct fd_builtin *fd_builtin_find(const char *name)
{
	for (const struct fd_builtin *b = fd_builtins; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}
