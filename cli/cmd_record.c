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
#include "common/uri_options.h"
#include "sources/source.h"
#include "common/timefmt.h"
#include "common/units.h"

/* Malformed messages printed one by one; the rest are only counted. */
#define MAX_REPORTED 20

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

void cli_sources_usage(FILE *out)
{
	fprintf(out, "\nSources:\n");
	for (const struct fd_source_descriptor *const *d = fd_source_descriptors; *d; d++) {
		fprintf(out, "  %s\n      %s\n", (*d)->synopsis, (*d)->summary);
		if ((*d)->help)
			fputs((*d)->help, out);
	}
}

/* A flag the source does not take is a usage error: files say their
 * format by their first byte and have no topics. */
static int check_taken(const struct verb *v, const char *from, char *const *opts,
		       const char *const *flags, size_t n)
{
	char scheme[64];
	const struct fd_source_descriptor *d =
		fd_uri_scheme(from, scheme, sizeof(scheme)) ? fd_source_descriptor_find(scheme) : NULL;
	if (!d)
		return 0; /* fd_source_open says what is wrong with it */
	for (size_t i = 0; i < n; i++) {
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(opts[i], "="), opts[i]);
		if (fd_uri_options_find(d->options, SIZE_MAX, key) < 0)
			return cli_usage_error(v, "%s applies to kafka:// sources only", flags[i]);
	}
	return 0;
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
	const char *from = NULL, *output = NULL;
	/* Flags that are source options (--topics L is topics=L, -X K=V is
	 * X.K=V): each as given and its key, then as "KEY=VALUE" (owned). */
	const char *flag_args[70], *flags[70];
	char *opts[70] = {0};
	size_t n_flag_opts = 0;
	struct fd_capture_options co = {.window_ns = 5000000000LL, .stop = &cli_stop_requested};
	bool quiet = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:X:qh", options, NULL)) != -1) {
		const char *why = NULL;
		long long n;
		switch (c) {
		case OPT_FROM: from = optarg; break;
		case 'o': output = optarg; break;
		case OPT_TOPICS:
		case OPT_FORMAT:
		case OPT_GROUP:
		case OPT_START:
		case OPT_START_TIME:
		case 'X':
			if (c == 'X' && (optarg[0] == '=' || !strchr(optarg, '=')))
				return cli_usage_error(v, "-X: expected KEY=VALUE");
			if (n_flag_opts == sizeof(flags) / sizeof(flags[0]))
				return cli_usage_error(v, "too many -X properties");
			flags[n_flag_opts] = c == 'X'		? "-X"
					     : c == OPT_TOPICS	? "--topics"
					     : c == OPT_FORMAT	? "--format"
					     : c == OPT_GROUP	? "--group"
					     : c == OPT_START	? "--start"
								: "--start-time";
			flag_args[n_flag_opts++] = optarg;
			break;
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
		case 'q': quiet = true; break;
		case 'h': cli_print_usage(v, stdout); return 0;
		case ':': return cli_usage_error(v, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage_error(v, "unexpected argument '%s'", argv[optind]);
	if (!from)
		return cli_usage_error(v, "missing --from SOURCE (kafka://HOST:PORT, dir:PATH, file:PATH, "
					  "otlp-http://HOST:PORT or otlp-grpc://HOST:PORT)");
	if (!output)
		return cli_usage_error(v, "missing -o OUT.fdr");

	int status = 0;
	struct fd_source_context sc = {.notice = on_notice};
	for (size_t i = 0; i < n_flag_opts && status == 0; i++) {
		const char *a = flag_args[i];
		if (flags[i][1] == 'X') {
			size_t kn = strcspn(a, "=");
			opts[i] = cli_option("X.", a, kn, a + kn + 1);
		} else {
			/* --start-time is start_time= */
			char key[32];
			snprintf(key, sizeof(key), "%s", flags[i] + 2);
			for (char *p = key; *p; p++)
				*p = *p == '-' ? '_' : *p;
			opts[i] = cli_option("", key, strlen(key), a);
		}
		if (!opts[i])
			status = EXIT_RUNTIME;
	}
	status = status ? status : check_taken(v, from, opts, flags, n_flag_opts);
	if (status)
		goto out;
	sc.options = (const char *const *)opts;
	sc.n_options = n_flag_opts;

	struct fd_error err = {0};
	struct fd_source *src = NULL;
	cli_catch_stop_signals();
	if (fd_source_open(from, &sc, &src, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}


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
	if (rc < 0) {
		status = cli_fail(&err);
		goto out;
	}
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
	status = st.end == FD_CAPTURE_STOPPED ? 130 : 0;
out:
	for (size_t i = 0; i < n_flag_opts; i++)
		free(opts[i]);
	return status;
}
