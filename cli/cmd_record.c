/*
 * firedrill record: OTLP telemetry from Kafka or files into a recording.
 * Parsing and reporting only; the work is sources/capture.c.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sources/capture.h"
#include "cli/cli.h"
#include "fd_config.h"
#include "sources/source.h"
#include "common/timefmt.h"
#include "common/units.h"

/* Malformed messages printed one by one; the rest are only counted. */
#define MAX_REPORTED 20

static volatile int stop_requested;

static void on_sigint(int sig)
{
	(void)sig;
	stop_requested = 1; /* only a flag: the capture loop notices within 100 ms */
}

struct report {
	uint64_t shown;
	bool progress_shown;
};

static void on_malformed(void *ctx, const char *where, const char *why)
{
	struct report *r = ctx;
	if (r->shown++ >= MAX_REPORTED)
		return;
	if (r->progress_shown) {
		fprintf(stderr, "\r%*s\r", 100, "");
		r->progress_shown = false;
	}
	fprintf(stderr, "firedrill: malformed message skipped: %s: %s\n", where, why);
}

static void on_notice(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "firedrill: %s\n", msg);
}

static void on_progress(void *ctx, const struct fd_capture_stats *st)
{
	struct report *r = ctx;
	fprintf(stderr, "\rrecording: %" PRIu64 " messages, %" PRIu64 " records, %" PRIu64
			" malformed, %" PRIu64 " late   ",
		st->messages, st->records[0] + st->records[1] + st->records[2], st->malformed,
		st->late);
	r->progress_shown = true;
}

static const char *end_reason(enum fd_capture_end e)
{
	switch (e) {
	case FD_CAPTURE_END_OF_INPUT: return "end of input";
	case FD_CAPTURE_MAX_RECORDS: return "--max-records reached";
	case FD_CAPTURE_DURATION: return "--duration elapsed";
	case FD_CAPTURE_IDLE: return "idle (--until-idle)";
	case FD_CAPTURE_STOPPED: return "interrupted";
	}
	return "?";
}

int cmd_record(const struct verb *v, int argc, char **argv)
{
	enum { OPT_FROM = 256, OPT_TOPICS, OPT_FORMAT, OPT_GROUP, OPT_START, OPT_START_TIME,
	       OPT_DURATION, OPT_MAX_RECORDS, OPT_IDLE, OPT_WINDOW };
	static const struct option options[] = {
		{"from", required_argument, NULL, OPT_FROM},
		{"output", required_argument, NULL, 'o'},
		{"topics", required_argument, NULL, OPT_TOPICS},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"group", required_argument, NULL, OPT_GROUP},
		{"start", required_argument, NULL, OPT_START},
		{"start-time", required_argument, NULL, OPT_START_TIME},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"max-records", required_argument, NULL, OPT_MAX_RECORDS},
		{"until-idle", required_argument, NULL, OPT_IDLE},
		{"reorder-window", required_argument, NULL, OPT_WINDOW},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *from = NULL, *output = NULL, *props[64];
	size_t n_props = 0;
	struct fd_source_options so = {.format = FD_OTLP_DETECT, .start = FD_START_BEGINNING};
	struct fd_capture_options co = {.window_ns = 5000000000LL, .stop = &stop_requested};
	bool quiet = false, start_given = false, format_given = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:X:qh", options, NULL)) != -1) {
		const char *why = NULL;
		long long n;
		switch (c) {
		case OPT_FROM: from = optarg; break;
		case 'o': output = optarg; break;
		case OPT_TOPICS: so.topics = optarg; break;
		case OPT_FORMAT:
			if (fd_otlp_format_parse(optarg, &so.format) < 0)
				return cli_usage_error(v, "--format '%s': expected otlp_proto, otlp_json or detect",
						       optarg);
			format_given = true;
			break;
		case OPT_GROUP:
			if (!*optarg)
				return cli_usage_error(v, "--group: empty name");
			so.group = optarg;
			break;
		case OPT_START:
			if (start_given)
				return cli_usage_error(v, "give one of --start and --start-time");
			start_given = true;
			if (!strcmp(optarg, "beginning"))
				so.start = FD_START_BEGINNING;
			else if (!strcmp(optarg, "end"))
				so.start = FD_START_END;
			else
				return cli_usage_error(v, "--start '%s': expected beginning or end (or use "
							  "--start-time TIME)", optarg);
			break;
		case OPT_START_TIME: {
			if (start_given)
				return cli_usage_error(v, "give one of --start and --start-time");
			start_given = true;
			int64_t t, ago;
			if (fd_units_timestamp(optarg, &t, &why) == 0) {
				so.start_time_ns = t;
			} else if (fd_units_duration(optarg, &ago, &why) == 0) {
				struct timespec now;
				clock_gettime(CLOCK_REALTIME, &now);
				so.start_time_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec - ago;
			} else {
				return cli_usage_error(v, "--start-time '%s': expected an RFC 3339 time "
							  "(2026-01-15T13:00:00Z) or a duration ago (10m)", optarg);
			}
			so.start = FD_START_TIME;
			break;
		}
		case OPT_DURATION:
			if (fd_units_duration(optarg, &co.duration_ns, &why) < 0 || co.duration_ns <= 0)
				return cli_usage_error(v, "--duration '%s': %s", optarg, why ? why : "must be positive");
			break;
		case OPT_MAX_RECORDS:
			if (fd_units_integer(optarg, 1, INT64_MAX, &n, &why) < 0)
				return cli_usage_error(v, "--max-records '%s': %s", optarg, why);
			co.max_records = (uint64_t)n;
			break;
		case OPT_IDLE:
			if (fd_units_duration(optarg, &co.idle_ns, &why) < 0 || co.idle_ns <= 0)
				return cli_usage_error(v, "--until-idle '%s': %s", optarg, why ? why : "must be positive");
			break;
		case OPT_WINDOW:
			if (fd_units_duration(optarg, &co.window_ns, &why) < 0 || co.window_ns < 0)
				return cli_usage_error(v, "--reorder-window '%s': %s", optarg,
						       why ? why : "must not be negative");
			break;
		case 'X':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return cli_usage_error(v, "-X '%s': expected KEY=VALUE", optarg);
			if (n_props == sizeof(props) / sizeof(props[0]))
				return cli_usage_error(v, "too many -X properties");
			props[n_props++] = optarg;
			break;
		case 'q': quiet = true; break;
		case 'h': fputs(v->usage, stdout); return 0;
		case ':': return cli_usage_error(v, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(v, "unexpected argument '%s'", argv[optind]);
	if (!from)
		return cli_usage_error(v, "missing --from SOURCE (kafka://HOST:PORT, dir:PATH, file:PATH or "
					  "otlp-http://HOST:PORT)");
	if (!output)
		return cli_usage_error(v, "missing -o OUT.fdr");
	bool kafka = !strncmp(from, "kafka://", 8);
	/* files say their format by their first byte and their signal by
	 * their name or content (docs/record.md) */
	if (!kafka && (so.topics || so.group || start_given || n_props || format_given))
		return cli_usage_error(v, "--topics, --format, --group, --start, --start-time and -X "
					  "apply to kafka:// sources only");
	so.kafka_props = props;
	so.n_kafka_props = n_props;
	so.notice = on_notice;

	struct fd_error err = {0};
	struct fd_source *src = NULL;
	if (fd_source_open(from, &so, &src, &err) < 0)
		return cli_fail(&err);

	struct sigaction sa = {.sa_handler = on_sigint};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct report rep = {0};
	co.generator = "firedrill " FD_VERSION;
	co.malformed = on_malformed;
	co.ctx = &rep;
	if (!quiet && isatty(2))
		co.progress = on_progress;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct fd_capture_stats st;
	int rc = fd_capture_run(src, output, &co, &st, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rep.progress_shown)
		fprintf(stderr, "\r%*s\r", 100, "");
	fd_source_destroy(src);
	if (rc < 0)
		return cli_fail(&err);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	uint64_t n = st.records[0] + st.records[1] + st.records[2];
	if (!quiet) {
		char b[32], late[32];
		fprintf(stderr,
			"recorded %" PRIu64 " records (traces %" PRIu64 ", metrics %" PRIu64 ", logs %" PRIu64
			") from %" PRIu64 " messages (%s), %" PRIu32 " resources, in %.2fs (%.0f records/s); "
			"stopped: %s\n",
			n, st.records[0], st.records[1], st.records[2], st.messages,
			fd_format_bytes(b, sizeof(b), st.bytes), st.resources, secs,
			secs > 0 ? (double)n / secs : 0, end_reason(st.end));
		for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++)
			if (st.records[sig])
				fprintf(stderr, "  %-8s %10" PRIu64 " records %12s\n",
					fd_signal_name((enum fd_signal)sig), st.records[sig],
					fd_format_bytes(b, sizeof(b), st.payload_bytes[sig]));
		fprintf(stderr, "  malformed messages skipped: %" PRIu64 "%s\n", st.malformed,
			st.malformed > MAX_REPORTED ? " (the first 20 are listed above)" : "");
		fprintf(stderr, "  records later than the reorder window: %" PRIu64 "%s%s%s\n", st.late,
			st.late ? " (kept out of order; the latest by " : "",
			st.late ? fd_format_duration(late, sizeof(late), st.max_late) : "",
			st.late ? ")" : "");
	}
	return st.end == FD_CAPTURE_STOPPED ? 130 : 0;
}
