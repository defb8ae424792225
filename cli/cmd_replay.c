/*
 * firedrill replay: a recording into sinks, paced, rebased, filtered.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/live_stats.h"
#include "recording/reader.h"
#include "replay/replay.h"
#include "common/uri_options.h"
#include "sinks/sink.h"
#include "common/timefmt.h"
#include "common/timemath.h"
#include "common/units.h"

static void notice(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "firedrill: %s\n", msg);
}

struct progress_ctx {
	struct cli_live *live; /* NULL: no live statistics */
	bool print;            /* the progress line on a terminal */
	int64_t first, length;
	int64_t t0;
	int64_t last_t;       /* previous progress call, for the rate over the last interval */
	uint64_t last_records;
};

/* With --rate: how far behind the rate's schedule the replay is now (ns). */
static int64_t behind(const struct fd_pacer *p, int64_t now)
{
	if (p->rate.rate <= 0 || !p->started)
		return 0;
	int64_t due = p->wall0 + fd_rate_due(&p->rate, p->paced);
	return now > due ? now - due : 0;
}

static void progress(void *ctx, const struct fd_pacer *p, int64_t record_time, uint64_t records,
		     uint64_t bytes)
{
	struct progress_ctx *pc = ctx;
	int64_t now = p->clock->now(p->clock->ctx);
	cli_live_position(pc->live, record_time - pc->first,
			  p->rate.rate > 0 && p->started ? fd_rate_at(&p->rate, now - p->wall0) : 0,
			  p->rate.rate > 0 ? behind(p, now) : (p->speed > 0 ? p->last_late : 0));
	if (!pc->print)
		return;
	double secs = (double)(now - pc->t0) / 1e9;
	char pos[32], late[32];
	fd_format_duration(pos, sizeof(pos), fd_time_sub_sat(record_time, pc->first));
	if (p->rate.rate > 0) {
		double dt = (double)(now - (pc->last_t ? pc->last_t : pc->t0)) / 1e9;
		double now_rate = dt > 0 ? (double)(records - pc->last_records) / dt : 0;
		int64_t lag = behind(p, now);
		fd_format_duration(late, sizeof(late), lag);
		fprintf(stderr, "\rreplaying: at %s of the recording, %" PRIu64 " records, target %.0f/s, "
				"achieved %.0f/s, %.1f MB/s%s%s   ",
			pos, records, fd_rate_at(&p->rate, now - p->wall0), now_rate,
			secs > 0 ? (double)bytes / secs / 1e6 : 0,
			lag > 1000000000 ? ", BEHIND by " : "", lag > 1000000000 ? late : "");
		pc->last_t = now;
		pc->last_records = records;
		return;
	}
	fd_format_duration(late, sizeof(late), p->max_late);
	fprintf(stderr, "\rreplaying: at %s of the recording, %" PRIu64 " records, %.0f records/s, "
			"%.1f MB/s, max lateness %s   ",
		pos, records, secs > 0 ? (double)records / secs : 0,
		secs > 0 ? (double)bytes / secs / 1e6 : 0, late);
}

/* --linger: the sinks stay up (kafka://embedded's broker, scrape:'s
 * endpoint: they serve until destroyed) for d after the summary, or until
 * SIGINT or SIGTERM. The flag is polled, since the signal may be taken by
 * one of the sinks' threads and not interrupt this one's sleep. */
static void linger(int64_t d)
{
	char b[32];
	fprintf(stderr, "firedrill: keeping the sinks up for %s (interrupt to stop)\n",
		fd_format_duration(b, sizeof(b), d));
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (cli_stop_requested) {
			fprintf(stderr, "firedrill: linger interrupted\n");
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left = d - ((int64_t)(now.tv_sec - t0.tv_sec) * 1000000000 +
				    (now.tv_nsec - t0.tv_nsec));
		if (left <= 0)
			break;
		if (left > 100000000)
			left = 100000000;
		struct timespec ts = {0, (long)left};
		nanosleep(&ts, NULL);
	}
}

/* A time on the recording's axis: RFC 3339, or an offset such as "10m"
 * from the recording's start. */
static int parse_point(const char *s, int64_t origin, int64_t *out, const char **why)
{
	if (fd_units_timestamp(s, out, why) == 0)
		return 0;
	int64_t d;
	if (fd_units_duration(s, &d, why) == 0) {
		if (!fd_time_add(origin, d, out)) {
			*why = "the offset goes past the range of times (years 1677 to 2262)";
			return -1;
		}
		return 0;
	}
	*why = "expected an RFC 3339 time (2026-01-15T14:00:00Z) or an offset from the start (10m)";
	return -1;
}

void cli_sinks_usage(FILE *out)
{
	fprintf(out, "\nSinks:\n");
	for (const struct fd_sink_descriptor *const *d = fd_sink_descriptors; *d; d++) {
		if (!(*d)->open)
			continue; /* planned */
		fprintf(out, "  %s\n      %s\n", (*d)->synopsis, (*d)->summary);
		if ((*d)->help)
			fputs((*d)->help, out);
	}
}

/* The sink URI's descriptor, or NULL (fd_sink_open reports it). */
static const struct fd_sink_descriptor *descriptor_of(const char *uri)
{
	char scheme[64];
	if (fd_uri_scheme(uri, scheme, sizeof(scheme)))
		return fd_sink_descriptor_find(scheme);
	size_t len = strlen(uri);
	return len > 4 && !strcmp(uri + len - 4, ".fdr") ? fd_sink_descriptor_find("file") : NULL;
}

/* An option from a flag that no --to sink takes is a mistake, not a
 * no-op (-X with no kafka:// sink). */
static int check_taken(const struct verb *v, char *const *opts, const char *const *flags,
		       size_t n_opts, const char *const *to, size_t n_to)
{
	for (size_t i = 0; i < n_opts; i++) {
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)strcspn(opts[i], "="), opts[i]);
		bool taken = false;
		for (size_t j = 0; j < n_to && !taken; j++) {
			const struct fd_sink_descriptor *d = descriptor_of(to[j]);
			taken = d && fd_uri_options_find(d->options, SIZE_MAX, key) >= 0;
		}
		if (!taken)
			return cli_usage_error(v, "%s applies to kafka:// sinks only, and no --to is one",
					       flags[i]);
	}
	return 0;
}

volatile sig_atomic_t cli_stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	cli_stop_requested = 1; /* only a flag: the loops and sinks notice and wind down */
}

void cli_catch_stop_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cli_close_sinks(struct fd_sink **sinks, size_t n, int status)
{
	for (size_t i = 0; i < n; i++) {
		struct fd_error e = {0};
		if (fd_sink_close(sinks[i], &e) < 0) {
			int s = cli_fail(&e);
			if (!status || s == EXIT_RUNTIME)
				status = s;
		}
	}
	return status;
}

void cli_report_sinks(struct fd_sink **sinks, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char line[512];
		fd_sink_report(sinks[i], line, sizeof(line));
		fprintf(stderr, "  %s%s%s\n", sinks[i]->uri, line[0] ? ": " : "", line);
	}
}

int cli_ramp_option(const struct verb *v, const char *arg, int64_t *ramp_ns)
{
	const char *why = NULL;
	if (fd_units_duration(arg, ramp_ns, &why) < 0 || *ramp_ns <= 0)
		return cli_usage_error(v, "--ramp '%s': %s", arg, why ? why : "must be longer than 0");
	return 0;
}

int cli_ramp_check(const struct verb *v, double from, double to, int64_t ramp_ns)
{
	if (ramp_ns && from == to)
		return cli_usage_error(v, "--ramp needs a ramp in --rate, such as --rate 10k/s..200k/s");
	if (from != to && !ramp_ns)
		return cli_usage_error(v, "--rate '%g/s..%g/s' is a ramp: give its duration with --ramp D",
				       from, to);
	return 0;
}

int cli_parse_shard(const char *arg, unsigned *shard, unsigned *shards)
{
	unsigned i, total;
	char extra;
	if (sscanf(arg, "%u/%u%c", &i, &total, &extra) != 2 || total == 0 || i >= total ||
	    total > 100000)
		return -1;
	*shard = i;
	*shards = total;
	return 0;
}

int cmd_replay(const struct verb *v, int argc, char **argv)
{
	enum { OPT_TO = 256, OPT_SPEED, OPT_REBASE, OPT_FROM, OPT_UNTIL, OPT_LOOP, OPT_SIGNALS,
	       OPT_SERVICE, OPT_SHARD, OPT_DELIVERY, OPT_LINGER, OPT_RATE, OPT_RAMP, OPT_STATS,
	       OPT_SELF_METRICS, OPT_COPIES, OPT_CHURN };
	static const struct option options[] = {
		{"to", required_argument, NULL, OPT_TO},
		{"speed", required_argument, NULL, OPT_SPEED},
		{"rate", required_argument, NULL, OPT_RATE},
		{"ramp", required_argument, NULL, OPT_RAMP},
		{"rebase", required_argument, NULL, OPT_REBASE},
		{"from", required_argument, NULL, OPT_FROM},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"loop", required_argument, NULL, OPT_LOOP},
		{"signals", required_argument, NULL, OPT_SIGNALS},
		{"service", required_argument, NULL, OPT_SERVICE},
		{"shard", required_argument, NULL, OPT_SHARD},
		{"delivery-timeout", required_argument, NULL, OPT_DELIVERY},
		{"linger", required_argument, NULL, OPT_LINGER},
		{"stats", optional_argument, NULL, OPT_STATS},
		{"self-metrics", required_argument, NULL, OPT_SELF_METRICS},
		{"copies", required_argument, NULL, OPT_COPIES},
		{"churn", required_argument, NULL, OPT_CHURN},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *to[16], *from = NULL, *until = NULL, *rebase = "start-now";
	/* Flags that are sink options (-X K=V is X.K=V): each as given and
	 * the flag, then as "KEY=VALUE" for the context (owned). */
	const char *flag_args[65], *flags[65];
	char *opts[65] = {0};
	size_t n_to = 0, n_flag_opts = 0;
	int64_t linger_ns = 0;
	struct fd_replay_options o = {.speed = 1, .stop = &cli_stop_requested};
	struct fd_sink_context ctx = {.notice = notice, .stop = &cli_stop_requested};
	struct cli_live_config lc = {.command = "replay"};
	struct fd_scale_options scale = {.copies = 1};
	struct cli_live *live = NULL;
	bool quiet = false, have_speed = false;
	int64_t ramp_ns = 0;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":X:qh", options, NULL)) != -1) {
		const char *why = NULL;
		long long n;
		switch (c) {
		case OPT_TO:
			if (n_to == sizeof(to) / sizeof(to[0]))
				return cli_usage_error(v, "at most %zu --to sinks", n_to);
			to[n_to++] = optarg;
			break;
		case 'X':
		case OPT_DELIVERY:
			if (c == 'X' && (optarg[0] == '=' || !strchr(optarg, '=')))
				return cli_usage_error(v, "-X: expected KEY=VALUE");
			if (n_flag_opts == sizeof(flags) / sizeof(flags[0]))
				return cli_usage_error(v, "too many -X properties");
			flags[n_flag_opts] = c == 'X' ? "-X" : "--delivery-timeout";
			flag_args[n_flag_opts++] = optarg;
			break;
		case OPT_SPEED:
			if (fd_pace_parse_speed(optarg, &o.speed) < 0)
				return cli_usage_error(v, "--speed '%s': expected realtime, max or a factor like 10x",
						       optarg);
			have_speed = true;
			break;
		case OPT_RATE:
			if (fd_rate_parse(optarg, &o.rate, &why) < 0)
				return cli_usage_error(v, "--rate '%s': %s", optarg, why);
			break;
		case OPT_RAMP: {
			int rc = cli_ramp_option(v, optarg, &ramp_ns);
			if (rc)
				return rc;
			break;
		}
		case OPT_REBASE: rebase = optarg; break;
		case OPT_FROM: from = optarg; break;
		case OPT_UNTIL: until = optarg; break;
		case OPT_LOOP:
			if (fd_units_integer(optarg, 1, 1000000, &n, &why) < 0)
				return cli_usage_error(v, "--loop '%s': %s", optarg, why);
			o.loops = (unsigned)n;
			break;
		case OPT_SIGNALS: {
			char *list = strdup(optarg), *save = NULL;
			unsigned mask = 0;
			if (!list)
				return EXIT_RUNTIME;
			for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				enum fd_signal s;
				if (fd_signal_parse(tok, &s) < 0) {
					int rc = cli_usage_error(v, "--signals: unknown signal '%s' (traces, metrics, logs)",
								 tok);
					free(list);
					return rc;
				}
				mask |= 1u << s;
			}
			free(list);
			if (!mask) /* "," or "": not "every signal", which 0 means */
				return cli_usage_error(v, "--signals '%s': name at least one of traces, metrics, logs",
						       optarg);
			o.signals |= mask;
			break;
		}
		case OPT_SERVICE: o.service = optarg; break;
		case OPT_SHARD:
			if (cli_parse_shard(optarg, &o.shard, &o.shards) < 0)
				return cli_usage_error(v, "--shard '%s': expected I/N with 0 <= I < N", optarg);
			break;
		case OPT_LINGER:
			if (fd_units_duration(optarg, &linger_ns, &why) < 0)
				return cli_usage_error(v, "--linger '%s': %s", optarg, why);
			break;
		case OPT_STATS:
			if (cli_live_parse_interval(optarg, &lc.interval_ns, &why) < 0)
				return cli_usage_error(v, "--stats='%s': %s", optarg, why);
			break;
		case OPT_SELF_METRICS: lc.self_metrics = optarg; break;
		case OPT_COPIES:
			if (fd_units_integer(optarg, 1, 100000, &n, &why) < 0)
				return cli_usage_error(v, "--copies '%s': %s", optarg, why);
			scale.copies = (unsigned)n;
			o.scale = &scale;
			break;
		case OPT_CHURN:
			if (fd_units_churn(optarg, &scale.churn_per_hour, &why) < 0)
				return cli_usage_error(v, "--churn '%s': %s", optarg, why);
			o.scale = &scale;
			break;
		case 'q': quiet = true; break;
		case 'h': cli_print_usage(v, stdout); return 0;
		case ':': return cli_usage_error(v, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(v, optind >= argc ? "missing FILE.fdr" : "expected one FILE.fdr");
	if (!n_to)
		return cli_usage_error(v, "nothing to send to: give --to SINK (e.g. dir:out, kafka://HOST:9092)");
	if (o.rate.rate > 0 && have_speed)
		return cli_usage_error(v, "--rate and --speed both set the pace: give one");
	int bad = cli_ramp_check(v, o.rate.from_rate, o.rate.rate, ramp_ns);
	if (bad)
		return bad;
	o.rate.ramp_ns = ramp_ns;

	struct fd_error err = {0};
	struct fd_recording_reader *r = NULL;
	struct fd_sink *sinks[16] = {0};
	size_t n_sinks = 0;
	int status = 0;
	for (size_t i = 0; i < n_flag_opts && status == 0; i++) {
		const char *a = flag_args[i];
		size_t kn = strcspn(a, "=");
		opts[i] = flags[i][1] == 'X' ? cli_option("X.", a, kn, a + kn + 1)
					      : cli_option("delivery_timeout", "", 0, a);
		if (!opts[i])
			status = EXIT_RUNTIME;
	}
	if (status == 0)
		status = check_taken(v, opts, flags, n_flag_opts, to, n_to);
	if (status == 0 && cli_live_check(&lc, &err) < 0)
		status = cli_fail(&err);
	if (status)
		goto out;
	ctx.options = (const char *const *)opts;
	ctx.n_options = n_flag_opts;
	if (fd_recording_reader_open(argv[optind], &r, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	int64_t origin = h->start_time_unix_nano ? (int64_t)h->start_time_unix_nano
			 : ix ? (int64_t)ix->summary->first_time_unix_nano : 0;
	const char *why = NULL;
	if (from && parse_point(from, origin, &o.from, &why) < 0) {
		status = cli_usage_error(v, "--from '%s': %s", from, why);
		goto out;
	}
	o.has_from = from != NULL;
	if (until && parse_point(until, origin, &o.until, &why) < 0) {
		status = cli_usage_error(v, "--until '%s': %s", until, why);
		goto out;
	}
	o.has_until = until != NULL;
	if (o.has_from && o.has_until && o.until <= o.from) {
		status = cli_usage_error(v, "--until must be after --from");
		goto out;
	}
	if (!strcmp(rebase, "start-now"))
		o.rebase = FD_REBASE_START_NOW;
	else if (!strcmp(rebase, "end-now"))
		o.rebase = FD_REBASE_END_NOW;
	else if (!strcmp(rebase, "none"))
		o.rebase = FD_REBASE_NONE;
	else if (fd_units_timestamp(rebase, &o.rebase_at, &why) == 0)
		o.rebase = FD_REBASE_AT;
	else {
		status = cli_usage_error(v, "--rebase '%s': expected start-now, end-now, none or an RFC 3339 time",
					 rebase);
		goto out;
	}
	/* Before the sinks open: a signal while one connects or creates its
	 * file then stops the replay at its first record, and every sink is
	 * closed (its temporary file removed or renamed), instead of the
	 * default action leaving a PATH.tmp-XXXXXX behind. */
	cli_catch_stop_signals();
	ctx.header = h;
	ctx.live_stats = lc.interval_ns > 0 || lc.self_metrics;
	ctx.paced = o.speed > 0 || o.rate.rate > 0;
	for (size_t i = 0; i < n_to; i++) {
		if (fd_sink_open(to[i], &ctx, &sinks[n_sinks], &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
		n_sinks++;
	}

	if (ctx.live_stats) {
		if (cli_live_start(&lc, sinks, n_sinks, &live, &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
	}
	struct progress_ctx pc = {.first = origin, .live = live,
				  .print = !quiet && isatty(2) && lc.interval_ns == 0};
	if (pc.print || live) {
		o.progress = progress;
		o.progress_ctx = &pc;
		pc.t0 = fd_clock_monotonic.now(NULL);
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct fd_replay_stats st;
	int rc = fd_replay_run(r, sinks, n_sinks, &o, &st, &err);
	if (pc.print)
		fprintf(stderr, "\r%*s\r", 100, "");
	uint64_t replayed = st.records[0] + st.records[1] + st.records[2];
	/* A damaged block after some records: Kafka and stdout have sent
	 * those already, so every sink keeps them (dir: and file: commit
	 * their files) and the error says where the rest was lost. */
	bool keep = rc < 0 && st.read_error && replayed > 0;
	if (rc < 0 && !keep) {
		status = cli_fail(&err);
		goto out;
	}
	status = cli_close_sinks(sinks, n_sinks, status);
	cli_live_stop(live); /* after close: its lines show the deliveries draining */
	live = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!quiet) {
		uint64_t n = st.records[0] + st.records[1] + st.records[2];
		uint64_t bytes = st.bytes[0] + st.bytes[1] + st.bytes[2];
		char b[32], shift[32];
		fd_format_duration(shift, sizeof(shift), st.shift);
		fprintf(stderr,
			"replayed %" PRIu64 " records (traces %" PRIu64 ", metrics %" PRIu64 ", logs %" PRIu64
			"), %s in %.2fs (%.0f records/s) to %zu sink%s; rebased by %s%s\n",
			n, st.records[0], st.records[1], st.records[2], fd_format_bytes(b, sizeof(b), bytes),
			secs, secs > 0 ? (double)n / secs : 0, n_sinks, n_sinks == 1 ? "" : "s", shift,
			st.stopped ? "; stopped early" : "");
		for (int sig = 0; sig < FD_SIGNAL_COUNT; sig++)
			if (st.records[sig])
				fprintf(stderr, "  %-8s %10" PRIu64 " records %12s\n",
					fd_signal_name((enum fd_signal)sig), st.records[sig],
					fd_format_bytes(b, sizeof(b), st.bytes[sig]));
		cli_report_sinks(sinks, n_sinks);
		if (o.rate.rate > 0) {
			fprintf(stderr, "rate: target %.0f records/s%s, achieved %.0f records/s overall\n",
				o.rate.rate, o.rate.ramp_ns ? " after the ramp" : "",
				secs > 0 ? (double)n / secs : 0);
			if (st.pacer.max_late > 1000000000)
				fprintf(stderr,
					"firedrill: warning: fell behind the rate by up to %.1f s: the sinks did "
					"not keep up (p99 lateness %.3f s)\n",
					(double)st.pacer.max_late / 1e9,
					(double)fd_pacer_quantile(&st.pacer, 0.99) / 1e9);
		}
		if (o.speed > 0 || o.rate.rate > 0)
			fprintf(stderr, "lateness behind schedule: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
				(double)fd_pacer_quantile(&st.pacer, 0.5) / 1e6,
				(double)fd_pacer_quantile(&st.pacer, 0.99) / 1e6,
				(double)st.pacer.max_late / 1e6);
	}
	/* as inspect says it: a file cut short replays what it holds */
	const struct fd_recording_stats *rs = fd_recording_reader_stats(r);
	if (rs->cut_short)
		fprintf(stderr,
			"firedrill: warning: %s is cut short at byte %" PRIu64 " (%s): replayed the %" PRIu64
			" records before it\n",
			argv[optind], rs->cut_offset, rs->cut_reason, replayed);
	if (keep) {
		int s = cli_fail(&err);
		fprintf(stderr,
			"firedrill: the sinks kept the %" PRIu64 " records replayed before it; the rest of "
			"the recording was not replayed\n",
			replayed);
		if (!status || s == EXIT_RUNTIME)
			status = s;
	}
	if (st.stopped && status == 0)
		status = 130;
	if (linger_ns > 0 && !st.stopped && !keep)
		linger(linger_ns);
out:
	cli_live_stop(live);
	for (size_t i = 0; i < n_sinks; i++)
		fd_sink_destroy(sinks[i]);
	fd_recording_reader_destroy(r);
	for (size_t i = 0; i < n_flag_opts; i++)
		free(opts[i]);
	return status;
}
