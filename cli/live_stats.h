/*
 * Live statistics of a run's sinks, for load tests: a line per sink every
 * interval (--stats) and firedrill's own Prometheus endpoint
 * (--self-metrics HOST:PORT), so that a load test shows on the dashboards
 * it loads.
 *
 * Both read the sinks' counters (struct fd_sink_stats, struct
 * fd_sink_live: atomics) from a thread of their own, so a sink that blocks
 * the writing thread (a full Kafka queue, a slow HTTP receiver) does not
 * stop the figures that show it blocking.
 */
#ifndef FD_CLI_LIVE_STATS_H
#define FD_CLI_LIVE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "sinks/sink.h"

struct cli_live_config {
	int64_t interval_ns;      /* print every interval; 0 = do not print */
	const char *self_metrics; /* [HOST]:PORT to serve /metrics on, or NULL */
	const char *command;      /* "replay", "generate", "drill": a label */
	/* Where the stream is (record time since its start), for a writer
	 * whose loop cannot call cli_live_position (generate --duration
	 * forever runs in the drill's): called from the statistics threads
	 * before each line and scrape, so it must be thread-safe; it also
	 * says how far (ns) the stream trails its schedule. May be NULL. */
	int64_t (*position)(void *ctx, int64_t *behind_ns);
	void *position_ctx;
};

struct cli_live;

/* --stats[=INTERVAL]: NULL (no value) is every second. Returns 0, or -1
 * with *why. */
int cli_live_parse_interval(const char *arg, int64_t *interval_ns, const char **why);

/* Checks c->self_metrics before anything is opened: FD_EINPUT naming
 * --self-metrics. */
int cli_live_check(const struct cli_live_config *c, struct fd_error *err);

/* Starts printing and serving (and says on stderr where the metrics are).
 * sinks are borrowed: stop before destroying
 * them. Errors: FD_EINPUT for a malformed address (the message names
 * --self-metrics), FD_ERUNTIME when it cannot listen. */
int cli_live_start(const struct cli_live_config *c, struct fd_sink *const *sinks, size_t n,
		   struct cli_live **out, struct fd_error *err);

/* From the writing thread, as often as convenient: where the stream is
 * (record time since its start), the target rate (records/s, 0 = none)
 * and how far behind its schedule the stream is. */
void cli_live_position(struct cli_live *l, int64_t offset_ns, double target_rate,
		       int64_t behind_ns);

/* "HOST:PORT" the endpoint listens on (its port when 0 was asked), or
 * NULL without --self-metrics. */
const char *cli_live_address(const struct cli_live *l);

/* Prints the last interval, stops the thread and the endpoint, frees.
 * Accepts NULL. */
void cli_live_stop(struct cli_live *l);

#endif
