/*
 * The built-in scenarios: the fixtures/ YAML files compiled into the binary (see
 * fixtures/embed.py), so `firedrill generate NAME` needs no file.
 */
#ifndef FD_BUILTIN_H
#define FD_BUILTIN_H

#include <stddef.h>

struct fd_builtin {
	const char *name; /* "latency-after-release" */
	const char *file; /* "fixtures/latency-after-release.yaml", for messages */
	const char *text;
	size_t len;
};

/* Terminated by an entry whose name is NULL. */
extern const struct fd_builtin fd_builtins[];

/* The built-in scenario with this name, or NULL. */
const struct fd_builtin *fd_builtin_find(const char *name);

#endif
