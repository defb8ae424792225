/*
 * Rewriting a recording: renaming, scrubbing, shifting, cutting and
 * dropping by rules (rewrite/rules.h), and checking what still looks like
 * personal data or a secret.
 *
 * Every record and every distinct resource is decoded, every string in it
 * visited (attribute values at any depth, log bodies, span names, status
 * messages), rewritten and packed again; identifiers (trace, span, parent
 * ids) are bytes and are never touched, so traces stay whole and logs keep
 * pointing at their spans. The header is rewritten the same way (the
 * scenario text and the answer key name services and hosts too) and gains a
 * RewriteNote: when, by which tool, with which rule names.
 */
#ifndef FD_REWRITE_H
#define FD_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "recording/reader.h"
#include "rewrite/rules.h"

struct fd_rewrite_options {
	const struct fd_rewrite_rules *rules;
	bool has_from, has_until;
	int64_t from, until; /* recording time, unix ns: keep [from, until) */
	const char *tool;    /* "firedrill 0.1.0", for the header note */
	int64_t now_ns;      /* when, for the header note */
};

struct fd_rewrite_stats {
	uint64_t in[FD_SIGNAL_COUNT], out[FD_SIGNAL_COUNT];
	uint64_t outside_window, dropped_service, dropped_signal;
	uint64_t strings_changed; /* strings rewritten by renames or value rules */
	uint64_t attrs_dropped, attrs_hashed, attrs_replaced;
	uint64_t values_hashed, values_replaced; /* value-rule matches */
};

/* Reads in to the end and writes the rewritten recording at out_path
 * (through a temporary file: nothing is left there on failure). */
int fd_rewrite_run(struct fd_recording_reader *in, const char *out_path,
		   const struct fd_rewrite_options *o, struct fd_rewrite_stats *st,
		   struct fd_error *err);

/* What --check found: per place and kind, a count and one masked example. */
struct fd_rewrite_finding {
	char *place;      /* "attributes.url.full", "resource.host.ip", "body", "header" */
	const char *kind; /* "email", ..., or a user rule's name */
	uint64_t count;
	char example[32];
};

struct fd_rewrite_findings {
	struct fd_rewrite_finding *v; /* sorted by count, most first */
	size_t n;
	uint64_t strings;             /* strings scanned */
};

/* Scans every string of the recording (header included) for the built-in
 * kinds and the value rules of extra (may be NULL). */
int fd_rewrite_check(struct fd_recording_reader *in, const struct fd_rewrite_rules *extra,
		     struct fd_rewrite_findings *out, struct fd_error *err);
void fd_rewrite_findings_finish(struct fd_rewrite_findings *f);

#endif
