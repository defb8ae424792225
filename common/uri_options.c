#include "common/uri_options.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/suggest.h"

static bool matches(const char *name, const char *key)
{
	size_t n = strlen(name);
	if (n >= 2 && strcmp(name + n - 2, ".*") == 0) /* a family: "X.*" */
		return strncmp(key, name, n - 1) == 0 && key[n - 1] != '\0';
	return strcmp(key, name) == 0;
}

static bool is_family(const char *name)
{
	size_t n = strlen(name);
	return n >= 2 && strcmp(name + n - 2, ".*") == 0;
}

const char *fd_uri_scheme(const char *uri, char *scheme, size_t n)
{
	const char *colon = strchr(uri, ':');
	size_t len = colon ? (size_t)(colon - uri) : 0;
	if (n)
		scheme[0] = '\0';
	if (len == 0 || len >= n)
		return NULL;
	memcpy(scheme, uri, len);
	scheme[len] = '\0';
	return colon + 1;
}

int fd_uri_options_find(const char *const *names, size_t n, const char *key)
{
	for (size_t i = 0; i < n && names[i]; i++)
		if (matches(names[i], key))
			return (int)i;
	return -1;
}

static int unknown(const struct fd_uri_options *o, const char *key, struct fd_error *err)
{
	char known[512];
	size_t off = 0;
	known[0] = '\0';
	for (size_t i = 0; i < o->n && off < sizeof(known); i++)
		off += (size_t)snprintf(known + off, sizeof(known) - off, "%s%s", i ? ", " : "",
					o->names[i]);
	const char *best = fd_suggest(key, o->names, o->n);
	return fd_error_set(err, FD_EINPUT, "%s '%s': unknown option '%s'%s%s%s%s (known: %s)", o->kind,
			    o->uri, key, o->what ? o->what : "", best ? " (did you mean '" : "",
			    best ? best : "", best ? "'?)" : "", known);
}

/* One KEY=VALUE entry, modified in place (the '=' becomes a NUL). extra:
 * from outside the URI, where an unknown key belongs to someone else. */
static int one(const struct fd_uri_options *o, char *kv, bool extra, struct fd_error *err)
{
	char *eq = strchr(kv, '=');
	if (eq)
		*eq = '\0';
	if (!eq || eq == kv || eq[1] == '\0')
		return fd_error_set(err, FD_EINPUT, "%s '%s': option '%s' needs KEY=VALUE", o->kind,
				    o->uri, kv);
	int idx = fd_uri_options_find(o->names, o->n, kv);
	if (idx < 0)
		return extra ? 0 : unknown(o, kv, err);
	if (o->seen && !is_family(o->names[idx])) {
		if (o->seen[idx])
			return fd_error_set(err, FD_EINPUT, "%s '%s': option '%s' given twice", o->kind,
					    o->uri, kv);
		o->seen[idx] = true;
	}
	return o->fn(o->ctx, (size_t)idx, kv, eq + 1, err);
}

int fd_uri_options_parse(const struct fd_uri_options *o, const char *query, struct fd_error *err)
{
	if (!query || !*query)
		return 0;
	char *copy = strdup(query);
	if (!copy)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = 0;
	char *save = NULL;
	for (char *kv = strtok_r(copy, "&", &save); kv && rc == 0; kv = strtok_r(NULL, "&", &save))
		rc = one(o, kv, false, err);
	free(copy);
	return rc;
}

int fd_uri_options_extra(const struct fd_uri_options *o, const char *const *list, size_t n,
			 struct fd_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *kv = strdup(list[i]);
		if (!kv)
			return fd_error_set(err, FD_ERUNTIME, "out of memory");
		rc = one(o, kv, true, err);
		free(kv);
	}
	return rc;
}
