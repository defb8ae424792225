/* Sink URIs and options: the first line is a --to URI, each further line a
 * -X key=value property. Any bytes give an open sink (destroyed unclosed,
 * which discards its output) or an error naming the URI or option.
 *
 * Two guards keep the fuzzer inside its sandbox, and neither skips any
 * parsing of ours: file:/dir: paths, which a sink creates at open, are
 * put under a temporary directory (removed at exit; never the working
 * directory, where libFuzzer leaves its crash files), and those that could
 * leave it (absolute, or with "..") are not opened; and a last -X bootstrap.servers=127.0.0.1:1 makes
 * every kafka:// producer connect to a closed loopback port (refused at
 * once) instead of resolving fuzzed host names, which with no network can
 * block a broker thread in the resolver for seconds. The URI's broker list
 * is still parsed and checked by the sink before that override applies. */
#define _XOPEN_SOURCE 700 /* nftw */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz/fuzz.h"
#include "sinks/sink.h"

#define MAX_PROPS 16

/* The URI to open: a file:/dir: path moved under the sandbox; NULL when
 * it could leave it. Owned by the caller. */
static char *sandboxed(const char *uri, const char *sandbox)
{
	size_t scheme = !strncmp(uri, "dir:", 4) ? 4 : !strncmp(uri, "file:", 5) ? 5 : 0;
	if (!scheme)
		return strdup(uri);
	if (strstr(uri, "..") || uri[scheme] == '/' || uri[scheme] == '~')
		return NULL;
	size_t n = strlen(uri) + strlen(sandbox) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%.*s%s/%s", (int)scheme, uri, sandbox, uri + scheme);
	return s;
}

static char sandbox[] = "/tmp/fuzz-sink-uri-XXXXXX";

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void remove_sandbox(void)
{
	nftw(sandbox, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int in_sandbox;
	if (!in_sandbox) {
		if (!mkdtemp(sandbox))
			abort();
		atexit(remove_sandbox);
		in_sandbox = 1;
	}
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	/* each -X line is the option X.LINE, as the CLI passes -X */
	char *props[MAX_PROPS + 2];
	size_t n = 0;
	char *uri = text, *nl = strchr(text, '\n');
	while (nl && n < MAX_PROPS) {
		*nl = '\0';
		char *line = nl + 1;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		props[n] = malloc(strlen(line) + 3);
		if (props[n])
			sprintf(props[n++], "X.%s", line);
		if (nl)
			*nl = '\n';
	}
	if (nl)
		*nl = '\0';
	props[n++] = strdup("X.bootstrap.servers=127.0.0.1:1");
	props[n++] = strdup("delivery_timeout=1ms");
	char *open_uri = sandboxed(uri, sandbox);
	if (open_uri && props[n - 1] && props[n - 2]) {
		struct fd_sink_context ctx = {.options = (const char *const *)props, .n_options = n};
		struct fd_sink *s = NULL;
		struct fd_error err = {0};
		if (fd_sink_open(open_uri, &ctx, &s, &err) == 0)
			fd_sink_destroy(s);
	}
	free(open_uri);
	for (size_t i = 0; i < n; i++)
		free(props[i]);
	free(text);
	return 0;
}
