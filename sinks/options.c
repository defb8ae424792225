#include "sinks/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/suggest.h"

static int unknown(const char *uri, const char *key, const char *const *names, size_t n,
		   const char *what, struct fd_error *err)
{
	char known[512];
	size_t o = 0;
	known[0] = '\0';
	for (size_t i = 0; i < n && o < sizeof(known); i++)
		o += (size_t)snprintf(known + o, sizeof(known) - o, "%s%s", i ? ", " : "", names[i]);
	const char *best = fd_suggest(key, names, n);
	return fd_error_set(err, FD_EINPUT, "sink '%s': unknown option '%s'%s%s%s%s (known: %s)", uri,
			    key, what ? what : "", best ? " (did you mean '" : "", best ? best : "",
			    best ? "'?)" : "", known);
}

int fd_sink_options(const char *uri, const char *query, const char *const *names, size_t n,
		    bool *seen, const char *what, fd_sink_option_fn fn, void *ctx,
		    struct fd_error *err)
{
	if (!query || !*query)
		return 0;
	char *copy = strdup(query);
	if (!copy)
		return fd_error_set(err, FD_ERUNTIME, "out of memory");
	int rc = 0;
	char *save = NULL;
	for (char *kv = strtok_r(copy, "&", &save); kv && rc == 0; kv = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = '\0';
		if (!eq || eq == kv || eq[1] == '\0') {
			rc = fd_error_set(err, FD_EINPUT, "sink '%s': option '%s' needs KEY=VALUE", uri,
					  kv);
			break;
		}
		size_t idx = n;
		for (size_t i = 0; i < n; i++)
			if (strcmp(kv, names[i]) == 0)
				idx = i;
		if (idx == n) {
			rc = unknown(uri, kv, names, n, what, err);
			break;
		}
		if (seen && seen[idx]) {
			rc = fd_error_set(err, FD_EINPUT, "sink '%s': option '%s' given twice", uri, kv);
			break;
		}
		if (seen)
			seen[idx] = true;
		rc = fn(ctx, idx, kv, eq + 1, err);
	}
	free(copy);
	return rc;
}
