/*
 * A brief and an answer key for a recording that no scenario produced (a
 * captured incident): the interviewer's text from a YAML brief, and the
 * figures measured from the recorded spans themselves, in the form
 * generated recordings carry, so `inspect --answer-key` shows both alike.
 *
 * Figures, for each key endpoint ("SERVICE SPAN-NAME" of server spans, such
 * as "gateway POST /checkout"), before the trigger, during (until the
 * mitigation, or the end) and after the mitigation: requests, p50, p95, p99
 * (nearest rank over span durations) and error rate (spans with status
 * ERROR or an HTTP status >= 500); and where the added time went: the
 * operations whose mean duration grew most during the incident, per request
 * of the first endpoint.
 */
#ifndef FD_REWRITE_ANNOTATE_H
#define FD_REWRITE_ANNOTATE_H

#include "common/error.h"
#include "recording/reader.h"

struct fd_brief;

/* Reads a brief. Times ("at:") are RFC 3339 or offsets from origin_ns (the
 * recording's first record). Errors: FD_EINPUT "file:line:col: ...". */
int fd_brief_load(const char *path, int64_t origin_ns, struct fd_brief **out, struct fd_error *err);
void fd_brief_destroy(struct fd_brief *b);

struct fd_annotate_stats {
	uint64_t records;
	uint64_t endpoint_spans; /* server spans of the key endpoints */
	size_t figures;
};

/* Copies in to out_path with the brief as its answer key and the measured
 * figures in its summary (through a temporary file). */
int fd_annotate_run(struct fd_recording_reader *in, const struct fd_brief *b, const char *out_path,
		    struct fd_annotate_stats *st, struct fd_error *err);

#endif
