/*
 * The drill's control API and console, over HTTP (libmicrohttpd, its own
 * thread):
 *
 *   GET  /                   the interviewer's console (one page, from the binary)
 *   GET  /api/scenario       prompt, hints, answer key, actions and their verdicts
 *   GET  /api/state[?since=S] clock, actions, events so far, 10 s figures after offset S
 *   POST /api/actions/NAME   200 {"name", "effective_at_s", "effective_time"};
 *                            404 unknown action; 409 already taken; 410 drill over
 *   POST /api/stop           202: the drill stops (fd_drill_run returns)
 *
 * Answers are JSON (errors as {"error": "..."}), never cached.
 */
#ifndef FD_DRILL_SERVER_H
#define FD_DRILL_SERVER_H

#include <stddef.h>

#include "common/error.h"
#include "drill/drill.h"

struct fd_drill_server;

/* Listens on "HOST:PORT" (HOST an IPv4 address, "localhost" or empty for
 * every interface; PORT 0 picks a free one) for drill d, which must outlive
 * the server. Errors: FD_EINPUT for a malformed address, FD_ERUNTIME when it
 * cannot listen. */
int fd_drill_server_start(struct fd_drill *d, const char *address, struct fd_drill_server **out,
			  struct fd_error *err);

/* "http://127.0.0.1:8080/" */
const char *fd_drill_server_url(const struct fd_drill_server *s);

/* Stops serving (waits for the requests under way). Accepts NULL. */
void fd_drill_server_stop(struct fd_drill_server *s);

#endif
