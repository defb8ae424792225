/*
 * A recording's records as a sorted multiset, for round-trip tests: two
 * recordings hold "the same records" when these sets are equal, whatever
 * the order of records with equal times.
 *
 * exact: payload, resource and scope bytes as stored. canonical: each
 * decoded with protobuf-c and packed again (field order and default values
 * normalized), for a trip through OTLP/JSON, which re-encodes.
 */
#ifndef FD_TEST_RECSET_H
#define FD_TEST_RECSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct recset_item {
	int signal;
	int64_t time;
	uint8_t *key; /* resource, scope, payload bytes with length prefixes */
	size_t key_len;
};

struct recset {
	struct recset_item *items;
	size_t n, cap;
};

/* Loads and sorts; returns 0, or -1 (message on stderr). */
int recset_load(const char *path, bool canonical, struct recset *out);
void recset_free(struct recset *s);

/* Adds one record given by its parts (for records that arrive some other
 * way than in a recording: a test receiver's); sort before comparing.
 * Returns 0, or -1 when a part does not decode (canonical). */
int recset_add(struct recset *s, bool canonical, int signal, int64_t time, const uint8_t *resource,
	       size_t resource_len, const uint8_t *scope, size_t scope_len, const uint8_t *payload,
	       size_t payload_len);
void recset_sort(struct recset *s);

/* 0 when equal; otherwise prints the first difference to stderr and
 * returns -1. */
int recset_compare(const struct recset *a, const struct recset *b);

/* Writes every record of a recording to the sink at uri, as `firedrill
 * replay --rebase none --speed max` does. Returns 0, or -1 (message on
 * stderr). */
int recset_replay(const char *fdr, const char *uri);

#endif
