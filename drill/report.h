/*
 * The static report of a recording (`firedrill inspect --html`): the
 * console's page with the recording's timeline, answer key, action log and
 * debrief figures, and the same charts, drawn from the recording's root
 * server spans (sampled traces: throughput is scaled back by the scenario's
 * trace_sampling). One self-contained HTML file.
 */
#ifndef FD_DRILL_REPORT_H
#define FD_DRILL_REPORT_H

#include <stdio.h>

#include "common/error.h"
#include "recording/reader.h"

/* Reads every record of r (bounded memory) and writes the page to out.
 * Errors: the reader's (FD_EINPUT for a corrupt recording), FD_ERUNTIME. */
int fd_report_html(struct fd_recording_reader *r, FILE *out, struct fd_error *err);

#endif
