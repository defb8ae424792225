/*
 * firedrill generate / validate / list: scenarios in, records out.
 */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "generator/builtin.h"
#include "cli/cli.h"
#include "cli/live_stats.h"
#include "drill/drill.h"
#include "replay/pace.h"
#include "replay/replay.h"
#include "fd_config.h"
#include "common/json.h"
#include "firedrill/v1/firedrill.pb-c.h"
#include "generator/header.h"
#include "generator/scenario.h"
#include "generator/sim.h"
#include "sinks/sink.h"
#include "common/timefmt.h"
#include "common/units.h"

/* A scenario argument is a file when one exists at that path, else the name
 * of a built-in scenario. */
int cli_load_scenario(const char *arg, const struct fd_scenario_scale *over, struct fd_scenario **out,
		      const char **text, size_t *len, char **owned, struct fd_error *err)
{
	struct stat st;
	*owned = NULL;
	if (stat(arg, &st) == 0) {
		size_t n;
		int rc = fd_scenario_read(arg, owned, &n, err);
		if (rc < 0)
			return rc;
		*text = *owned;
		*len = n;
		return fd_scenario_parse_scaled(arg, *owned, n, over, out, err);
	}
	int e = errno; /* stat's */
	const struct fd_builtin *b = fd_builtin_find(arg);
	/* a path that cannot be looked at (a directory we may not search) is
	 * not taken for a built-in's name */
	if (!b && e != ENOENT && e != ENOTDIR)
		return fd_error_set(err, FD_ERUNTIME, "%s: cannot open: %s", arg, strerror(e));
	if (!b) {
		char names[512] = "";
		for (const struct fd_builtin *x = fd_builtins; x->name; x++) {
			strncat(names, names[0] ? ", " : "", sizeof(names) - strlen(names) - 1);
			strncat(names, x->name, sizeof(names) - strlen(names) - 1);
		}
		return fd_error_set(err, FD_EINPUT,
				    "'%s' is neither a scenario file nor a built-in scenario (built-in: %s)",
				    arg, names);
	}
	*text = b->text;
	*len = b->len;
	return fd_scenario_parse_scaled(b->file, b->text, b->len, over, out, err);
}

int cli_scale_option(const struct verb *v, bool scale, const char *arg, struct fd_scenario_scale *over)
{
	const char *why = NULL;
	if (scale) {
		/* KEY=VALUE[,KEY=VALUE...] */
		char buf[512];
		if (strlen(arg) >= sizeof(buf))
			return cli_usage_error(v, "--scale '%.40s...': too long", arg);
		strcpy(buf, arg);
		for (char *kv = strtok(buf, ","); kv; kv = strtok(NULL, ","))
			if (fd_scenario_scale_set(over, kv, &why) < 0)
				return cli_usage_error(v, "--scale '%s': %s", kv, why);
		if (!buf[0])
			return cli_usage_error(v, "--scale '': expected KEY=VALUE such as services=40");
		return 0;
	}
	/* replay's syntax; here requests/s of simulated traffic. A ramp's
	 * duration comes with --ramp (cli_ramp_check) */
	struct fd_rate r;
	if (fd_rate_parse(arg, &r, &why) < 0)
		return cli_usage_error(v, "--rate '%s': expected requests per second such as 2000/s or 5k/s, "
					  "or a ramp such as 1k/s..20k/s", arg);
	over->rate_from = r.from_rate;
	over->rate = r.rate;
	return 0;
}

/* "scale: 45 services (40 background) x 20 instances, 2000 requests/s, ..."
 * when any knob is set: what the run simulated beyond the file's story. */
static void print_scale(const struct fd_scenario *sc)
{
	const struct fd_scenario_scale *k = &sc->scale;
	if (!fd_scenario_scale_any(k))
		return;
	double rate = 0;
	for (size_t i = 0; i < sc->n_traffic; i++)
		rate += sc->traffic[i].rate;
	fprintf(stderr, "scale: %zu services (%zu background)", sc->n_services, sc->n_services - sc->n_own_services);
	if (k->instances)
		fprintf(stderr, " x %d instances", k->instances);
	if (k->ramp_ns > 0) {
		char d[32];
		/* the entries hold the ramp's end rate (scaled by it) */
		fprintf(stderr, ", %.6g -> %.6g requests/s over %s", rate * k->rate_from / k->rate, rate,
			fd_format_duration(d, sizeof(d), k->ramp_ns));
	} else {
		fprintf(stderr, ", %.6g requests/s", rate);
	}
	if (k->users)
		fprintf(stderr, ", %" PRIu64 " users", k->users);
	if (k->paths)
		fprintf(stderr, ", %" PRIu64 " ids per path parameter", k->paths);
	if (k->customers)
		fprintf(stderr, ", %d customers", k->customers);
	if (k->churn > 0)
		fprintf(stderr, ", %g%% of the pods replaced an hour", k->churn * 100);
	fputc('\n', stderr);
}

static void notice(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "firedrill: %s\n", msg);
}

/* Simulated time per step. A signal stops the run between two steps; a
 * step of the heaviest built-in takes well under a second. */
#define STEP_NS (10 * 1000000000LL)

struct fanout {
	struct fd_sink **sinks;
	size_t n;
	uint64_t records;
	bool progress;
	struct cli_live *live; /* NULL: no live statistics */
	unsigned shard, shards; /* --shard: only records of shard (replay's rule) */
	uint64_t other_shards; /* records left to the other shards */
	int64_t start, end;
	struct timespec last;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int emit_all(void *ctx, const struct fd_record *rec, struct fd_error *err)
{
	struct fanout *f = ctx;
	if (f->shards > 1 && fd_replay_shard_of(rec, f->shards) != f->shard) {
		f->other_shards++;
		return 0;
	}
	for (size_t i = 0; i < f->n; i++) {
		int rc = fd_sink_write(f->sinks[i], rec, err);
		if (rc < 0)
			return rc;
	}
	f->records++;
	if (f->live && (f->records & 1023) == 0)
		cli_live_position(f->live, rec->time_ns - f->start, 0, 0);
	if (f->progress && (f->records & 0xffff) == 0) {
		double pos = (double)(rec->time_ns - f->start) / (double)(f->end - f->start);
		char t[32];
		fprintf(stderr, "\rgenerating: %5.1f%% of the timeline, %" PRIu64 " records (at %s)   ",
			100 * (pos < 0 ? 0 : pos > 1 ? 1 : pos), f->records,
			fd_format_duration(t, sizeof(t), rec->time_ns - f->start));
	}
	return 0;
}

struct forever {
	const struct fd_scenario_scale *over;
	bool seed_set;
	uint64_t seed;
	double speed;
	const char *output;
	const char *const *to;
	size_t n_to;
	bool quiet;
	const struct cli_live_config *lc;
	unsigned shard, shards;
};

static int64_t drill_position(void *d, int64_t *behind_ns)
{
	*behind_ns = fd_drill_behind(d, NULL); /* both under the drill's lock */
	return fd_drill_offset(d);
}

/* --duration forever: the drill's engine with the timeline as written and
 * no actions, from offset 0 stamped now, in real time (times --speed) until
 * Ctrl-C or SIGTERM; then the sinks are flushed and closed (exit 0). The
 * engine keeps memory flat however long it runs. */
static int run_forever(const struct verb *v, const char *scenario, const struct forever *f)
{
	(void)v;
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	struct fd_drill *d = NULL;
	struct fd_sink *sinks[16] = {0};
	struct fd_scenario_header hdr = {0};
	struct cli_live *live = NULL;
	size_t n_sinks = 0, len = 0;
	const char *text = NULL;
	char *owned = NULL;
	int status = 0;
	if (cli_live_check(f->lc, &err) < 0 ||
	    cli_load_scenario(scenario, f->over, &sc, &text, &len, &owned, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	if (fd_scenario_header_init(&hdr, sc, f->seed_set ? f->seed : sc->seed, sc->start_ns,
				    sc->start_ns, text) < 0) {
		status = cli_fail(&(struct fd_error){.code = FD_ERUNTIME, .msg = "out of memory"});
		goto out;
	}
	fd_scenario_header_set_scale(&hdr, f->over);
	cli_catch_stop_signals();
	struct fd_sink_context ctx = {.header = &hdr.header, .notice = notice,
				      .live_stats = f->lc->interval_ns > 0 || f->lc->self_metrics,
				      .stop = &cli_stop_requested, .paced = true};
	for (size_t i = 0; i < f->n_to; i++) {
		if (fd_sink_open(f->to[i], &ctx, &sinks[n_sinks], &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
		n_sinks++;
	}
	struct fd_drill_options o = {
		.seed_set = f->seed_set, .seed = f->seed, .speed = f->speed, .history_set = true,
		.stop = &cli_stop_requested, .output = f->output, .scenario_text = text, .scale = f->over,
		.sinks = sinks,
		.n_sinks = n_sinks, .scripted = true, .shard = f->shard, .shards = f->shards,
	};
	if (fd_drill_create(sc, &o, &d, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	if (ctx.live_stats) {
		/* the drill's loop publishes no position: the lines ask it */
		struct cli_live_config lc = *f->lc;
		lc.position = drill_position;
		lc.position_ctx = d;
		if (cli_live_start(&lc, sinks, n_sinks, &live, &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
	}
	if (!f->quiet) {
		fprintf(stderr, "firedrill: generating %s from now on%s; Ctrl-C stops\n", sc->name,
			f->speed != 1 ? " (sped up)" : ", in real time");
		print_scale(sc);
	}
	if (fd_drill_run(d, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	status = cli_close_sinks(sinks, n_sinks, status);
	cli_live_stop(live);
	live = NULL;
	if (!f->quiet) {
		uint64_t rec[FD_SIGNAL_COUNT], bytes[FD_SIGNAL_COUNT];
		fd_drill_counts(d, rec, bytes);
		char b[32], off[32];
		fprintf(stderr,
			"generated %s for %s of scenario time: %" PRIu64 " records (traces %" PRIu64
			", metrics %" PRIu64 ", logs %" PRIu64 "), %s\n",
			sc->name, fd_format_duration(off, sizeof(off), fd_drill_offset(d)),
			rec[0] + rec[1] + rec[2], rec[0], rec[1], rec[2],
			fd_format_bytes(b, sizeof(b), bytes[0] + bytes[1] + bytes[2]));
		cli_report_sinks(sinks, n_sinks);
	}
	cli_warn_behind(d);
out:
	cli_live_stop(live);
	fd_drill_destroy(d);
	for (size_t i = 0; i < n_sinks; i++)
		fd_sink_destroy(sinks[i]);
	fd_scenario_header_finish(&hdr);
	fd_scenario_destroy(sc);
	free(owned);
	return status;
}

int cmd_generate(const struct verb *v, int argc, char **argv)
{
	enum { OPT_SEED = 256, OPT_START, OPT_DURATION, OPT_TO, OPT_QUIET, OPT_STATS,
	       OPT_SELF_METRICS, OPT_SHARD, OPT_SPEED, OPT_SCALE, OPT_RATE, OPT_RAMP };
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"start", required_argument, NULL, OPT_START},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"to", required_argument, NULL, OPT_TO},
		{"stats", optional_argument, NULL, OPT_STATS},
		{"shard", required_argument, NULL, OPT_SHARD},
		{"speed", required_argument, NULL, OPT_SPEED},
		{"self-metrics", required_argument, NULL, OPT_SELF_METRICS},
		{"scale", required_argument, NULL, OPT_SCALE},
		{"rate", required_argument, NULL, OPT_RATE},
		{"ramp", required_argument, NULL, OPT_RAMP},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct fd_sim_options so = {0};
	struct fd_scenario_scale over = {0};
	const char *output = NULL, *to[16];
	size_t n_to = 0;
	bool quiet = false;
	struct cli_live_config lc = {.command = "generate"};
	unsigned shard = 0, shards = 0;
	bool forever = false, speed_set = false;
	double speed = 1;
	struct cli_live *live = NULL;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", options, NULL)) != -1) {
		const char *why = NULL;
		switch (c) {
		case 'o': output = optarg; break;
		case 'q': quiet = true; break;
		case OPT_SEED: {
			long long n;
			if (fd_units_integer(optarg, 0, INT64_MAX, &n, &why) < 0)
				return cli_usage_error(v, "--seed '%s': %s", optarg, why);
			so.seed = (uint64_t)n;
			so.seed_set = true;
			break;
		}
		case OPT_START:
			if (fd_units_timestamp(optarg, &so.start_ns, &why) < 0)
				return cli_usage_error(v, "--start '%s': %s", optarg, why);
			so.start_set = true;
			break;
		case OPT_DURATION:
			if (!strcmp(optarg, "forever")) {
				forever = true;
				break;
			}
			if (fd_units_duration(optarg, &so.duration_ns, &why) < 0)
				return cli_usage_error(v, "--duration '%s': %s", optarg, why);
			if (so.duration_ns <= 0)
				return cli_usage_error(v, "--duration '%s': must be longer than 0", optarg);
			break;
		case OPT_TO:
			if (n_to == sizeof(to) / sizeof(to[0]))
				return cli_usage_error(v, "at most %zu --to sinks", n_to);
			to[n_to++] = optarg;
			break;
		case OPT_STATS:
			if (cli_live_parse_interval(optarg, &lc.interval_ns, &why) < 0)
				return cli_usage_error(v, "--stats='%s': %s", optarg, why);
			break;
		case OPT_SELF_METRICS: lc.self_metrics = optarg; break;
		case OPT_SPEED:
			if (fd_pace_parse_speed(optarg, &speed) < 0 || speed <= 0)
				return cli_usage_error(v, "--speed '%s': expected realtime or a factor like 10x",
						       optarg);
			speed_set = true;
			break;
		case OPT_SHARD:
			if (cli_parse_shard(optarg, &shard, &shards) < 0)
				return cli_usage_error(v, "--shard '%s': expected I/N with 0 <= I < N", optarg);
			break;
		case OPT_SCALE:
		case OPT_RATE: {
			int rc = cli_scale_option(v, c == OPT_SCALE, optarg, &over);
			if (rc)
				return rc;
			break;
		}
		case OPT_RAMP: {
			int rc = cli_ramp_option(v, optarg, &over.ramp_ns);
			if (rc)
				return rc;
			break;
		}
		case 'h': fputs(v->usage, stdout); return 0;
		case ':': return cli_usage_error(v, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(v, optind >= argc ? "missing SCENARIO (a .yaml file or a built-in name)"
							 : "expected one SCENARIO");
	int bad = cli_ramp_check(v, over.rate_from, over.rate, over.ramp_ns);
	if (bad)
		return bad;
	if (!output && !n_to)
		return cli_usage_error(v, "nothing to write: give -o OUT.fdr or --to SINK");
	if (speed_set && !forever)
		return cli_usage_error(v, "--speed paces --duration forever only (a finite run goes as fast "
					  "as it can; replay paces a recording)");
	if (forever) {
		if (so.start_set)
			return cli_usage_error(v, "--duration forever starts now: leave out --start");
		struct forever f = {.over = &over, .seed_set = so.seed_set, .seed = so.seed, .speed = speed,
				    .output = output, .to = to, .n_to = n_to, .quiet = quiet, .lc = &lc,
				    .shard = shard, .shards = shards};
		return run_forever(v, argv[optind], &f);
	}

	struct fd_error err = {0};
	if (cli_live_check(&lc, &err) < 0)
		return cli_fail(&err);
	/* The sinks (the recording writer's copy of each record) and the
	 * pending records' heap on a second core; same records, same bytes. */
	so.emit_thread = true;
	struct fd_scenario *sc = NULL;
	struct fd_sim *sim = NULL;
	struct fd_sink *sinks[17] = {0};
	struct fd_scenario_header hdr = {0};
	size_t n_sinks = 0;
	const char *text = NULL;
	char *owned = NULL;
	size_t len = 0;
	int status = 0;
	double t0 = now_s();

	if (cli_load_scenario(argv[optind], &over, &sc, &text, &len, &owned, &err) < 0 ||
	    fd_sim_create(sc, &so, &sim, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	/* No wall-clock time in it: the same scenario and seed give the same bytes. */
	if (fd_scenario_header_init(&hdr, sc, fd_sim_seed(sim), fd_sim_start(sim), fd_sim_end(sim), text) < 0) {
		status = cli_fail(&(struct fd_error){.code = FD_ERUNTIME, .msg = "out of memory"});
		goto out;
	}
	/* the knobs given here, so that inspect and drill report read the
	 * scenario as it was simulated */
	fd_scenario_header_set_scale(&hdr, &over);
	cli_catch_stop_signals();
	struct fd_sink_context ctx = {.header = &hdr.header, .notice = notice,
				      .live_stats = lc.interval_ns > 0 || lc.self_metrics,
				      .stop = &cli_stop_requested};
	char uri[4096];
	if (output) {
		snprintf(uri, sizeof(uri), "file:%s", output);
		if (fd_sink_open(uri, &ctx, &sinks[n_sinks], &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
		n_sinks++;
	}
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
	struct fanout fan = {.sinks = sinks, .n = n_sinks, .live = live, .shard = shard, .shards = shards,
			     .progress = !quiet && isatty(2) && !lc.interval_ns,
			     .start = fd_sim_start(sim), .end = fd_sim_end(sim)};
	/* SIGINT or SIGTERM stops the simulation where it is, and what was
	 * simulated is finished (the requests under way, the last scrapes,
	 * the answer key) and written as a whole run is: the sinks are
	 * closed, their files take their names. Steps do not change the
	 * records (fd_sim_advance). */
	int64_t at = fd_sim_start(sim), end = fd_sim_end(sim);
	int rc = 0;
	while (rc == 0 && at < end && !cli_stop_requested) {
		at = end - at > STEP_NS ? at + STEP_NS : end;
		rc = fd_sim_advance(sim, at, emit_all, &fan, &err);
	}
	bool stopped = at < end;
	if (rc == 0)
		rc = fd_sim_finish(sim, at, emit_all, &fan, &err);
	if (rc < 0) {
		if (fan.progress)
			fputc('\n', stderr);
		status = cli_fail(&err);
		goto out;
	}
	if (fan.progress)
		fprintf(stderr, "\r%*s\r", 79, "");
	const struct fd_sim_figure *figs;
	size_t n_figs = fd_sim_figures(sim, &figs);
	for (size_t i = 0; i < n_sinks; i++) {
		for (size_t f = 0; f < n_figs; f++) {
			/* the recording header's type; the sink copies it */
			Firedrill__V1__Figure pf = FIREDRILL__V1__FIGURE__INIT;
			pf.name = (char *)figs[f].name;
			pf.subject = (char *)figs[f].subject;
			pf.phase = (char *)figs[f].phase;
			pf.unit = (char *)figs[f].unit;
			pf.value = figs[f].value;
			if (fd_sink_add_figure(sinks[i], &pf, &err) < 0)
				break;
		}
		if (err.code || fd_sink_close(sinks[i], &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
	}
	cli_live_stop(live); /* after close: its lines show the deliveries draining */
	live = NULL;
	if (!quiet && n_sinks) {
		const struct fd_sink_stats *st = &sinks[0]->stats;
		uint64_t n = st->records[0] + st->records[1] + st->records[2];
		uint64_t bytes = st->bytes[0] + st->bytes[1] + st->bytes[2];
		double secs = now_s() - t0;
		char b[32], d[32], tail[96] = "";
		if (stopped)
			snprintf(tail, sizeof(tail), "; stopped by a signal at %s of the timeline",
				 fd_format_duration(d, sizeof(d), at - fd_sim_start(sim)));
		fprintf(stderr,
			"generated %s %s: %" PRIu64 " records (traces %" PRIu64 ", metrics %" PRIu64
			", logs %" PRIu64 "), %s of OTLP payload in %.2fs (%.0f records/s, %.1f MiB/s) from %" PRIu64
			" requests%s\n",
			sc->name, fd_format_duration(d, sizeof(d), fd_sim_end(sim) - fd_sim_start(sim)), n,
			st->records[0], st->records[1], st->records[2], fd_format_bytes(b, sizeof(b), bytes),
			secs, secs > 0 ? (double)n / secs : 0, secs > 0 ? (double)bytes / secs / 1048576 : 0,
			fd_sim_requests(sim), tail);
		print_scale(sc);
		if (shards > 1)
			fprintf(stderr, "shard %u of %u: %" PRIu64 " records left to the other shards\n",
				shard, shards, fan.other_shards);
	}
	if (stopped)
		status = 130;
out:
	cli_live_stop(live);
	for (size_t i = 0; i < n_sinks; i++)
		fd_sink_destroy(sinks[i]);
	fd_sim_destroy(sim);
	fd_scenario_header_finish(&hdr);
	fd_scenario_destroy(sc);
	free(owned);
	return status;
}

int cmd_validate(const struct verb *v, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(v->usage, stdout);
			return 0;
		}
	if (argc < 2)
		return cli_usage_error(v, "missing SCENARIO.yaml");
	int status = 0;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error(v, "unknown option '%s'", argv[i]);
		struct fd_error err = {0};
		struct fd_scenario *sc = NULL;
		if (fd_scenario_load(argv[i], &sc, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			status = err.code == FD_EINPUT ? EXIT_USAGE : EXIT_RUNTIME;
			continue;
		}
		char d[32];
		printf("%s: ok: %s, %zu services, %zu endpoints, %zu events, %s\n", argv[i], sc->name,
		       sc->n_services, sc->n_endpoints, sc->n_events,
		       fd_format_duration(d, sizeof(d), sc->duration_ns));
		fd_scenario_destroy(sc);
	}
	return status;
}

int cmd_list(const struct verb *v, int argc, char **argv)
{
	bool json = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(v->usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--json"))
			json = true;
		else
			return cli_usage_error(v, "unknown argument '%s'", argv[i]);
	}
	struct fd_json j;
	fd_json_init(&j, stdout, true);
	if (json)
		fd_json_array_begin(&j);
	int status = 0;
	int width = 0; /* the longest name: the columns line up */
	for (const struct fd_builtin *b = fd_builtins; b->name; b++)
		if ((int)strlen(b->name) > width)
			width = (int)strlen(b->name);
	for (const struct fd_builtin *b = fd_builtins; b->name; b++) {
		struct fd_error err = {0};
		struct fd_scenario *sc = NULL;
		if (fd_scenario_parse(b->file, b->text, b->len, &sc, &err) < 0) {
			/* A broken built-in is our bug; say which and go on. */
			fprintf(stderr, "firedrill: built-in %s: %s\n", b->name, err.msg);
			status = EXIT_RUNTIME;
			continue;
		}
		char d[32];
		fd_format_duration(d, sizeof(d), sc->duration_ns);
		if (json) {
			fd_json_object_begin(&j);
			fd_json_key(&j, "name");
			fd_json_string(&j, b->name);
			fd_json_key(&j, "title");
			fd_json_string(&j, sc->title);
			fd_json_key(&j, "duration");
			fd_json_string(&j, d);
			fd_json_key(&j, "services");
			fd_json_uint(&j, sc->n_services);
			fd_json_object_end(&j);
		} else {
			printf("%-*s %-6s %s\n", width, b->name, d, sc->title ? sc->title : "");
		}
		fd_scenario_destroy(sc);
	}
	if (json)
		fd_json_array_end(&j);
	return status;
}
