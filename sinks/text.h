/*
 * One human-readable line per record (format=text of dir: and stdout:):
 *
 *   TIME LEVEL SERVICE [trace=.. span=..] BODY key=value...        a log record
 *   TIME SPAN  SERVICE NAME 1.234ms [trace=.. span=..] [status=ERROR...] key=value...
 *   TIME METRIC SERVICE NAME VALUE key=value...       one line per data point
 *
 * Values are escaped so that a record never spans two lines, and quoted
 * when they would not read as one word. Written straight from the wire
 * bytes: bytes in a shape encoders do not write are re-encoded by
 * protobuf-c first (otlp/shape.h), so the text is what protobuf-c reads.
 */
#ifndef FD_SINKS_TEXT_H
#define FD_SINKS_TEXT_H

#include "otlp/pbwrite.h"
#include "stream/record.h"

/* Appends the line(s) of rec to out, without a final newline; work is
 * memory kept between calls (zeroed at first, pbw_finish each at the end).
 * Returns 0, or -1 when the payload is malformed; out->oom tells that
 * memory ran out. */
int fd_text_record(const struct fd_record *rec, struct pbw *out, struct pbw work[2]);

#endif
