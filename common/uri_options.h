/*
 * The ?k=v&k=v options of a sink or source URI, the same rules for every
 * one: each entry is KEY=VALUE, each key one of the names the sink or
 * source knows (else an error with a did-you-mean and the list of known
 * ones), none given twice. The sink or source only interprets values.
 *
 * A name ending in ".*" stands for a family: "X.*" takes every key that
 * starts with "X." (the Kafka sink's librdkafka properties); a family may
 * be given any number of times.
 *
 * Options may also come from outside the URI, from command-line flags
 * (-X, --topics...): fd_uri_options_extra applies those with the same
 * rules, so that a flag and the same option in the URI are "given twice".
 */
#ifndef FD_URI_OPTIONS_H
#define FD_URI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Called for each option in order, with the index of its name in names. */
typedef int (*fd_uri_option_fn)(void *ctx, size_t idx, const char *key, const char *value,
				struct fd_error *err);

struct fd_uri_options {
	const char *kind;         /* "sink" or "source", for messages */
	const char *uri;          /* as messages show it (secrets redacted) */
	const char *const *names; /* the known keys */
	size_t n;
	/* n flags, or NULL: set for options given before (e.g. a format named
	 * in the URI itself) and updated here. */
	bool *seen;
	/* Added after the key in the unknown-option message (" for
	 * format=openmetrics"), or NULL. */
	const char *what;
	fd_uri_option_fn fn;
	void *ctx;
};

/* Walks query (the text after '?'; NULL or "" is no options). Stops at
 * the first error (FD_EINPUT, or what fn returned). */
int fd_uri_options_parse(const struct fd_uri_options *o, const char *query, struct fd_error *err);

/* Applies the options of list (n entries, each "KEY=VALUE") whose key is
 * one of o->names, as if they were in the query; the others are left alone
 * (they are for another sink or source). */
int fd_uri_options_extra(const struct fd_uri_options *o, const char *const *list, size_t n,
			 struct fd_error *err);

/* A URI's scheme, its text before the first ':', copied into scheme (n
 * bytes). Returns the text after the ':', or NULL when there is no ':', the
 * scheme is empty or does not fit (scheme is then ""). */
const char *fd_uri_scheme(const char *uri, char *scheme, size_t n);

/* The index in names (n entries, or NULL-terminated when n is SIZE_MAX) of
 * the name key matches, or -1. */
int fd_uri_options_find(const char *const *names, size_t n, const char *key);

#endif
