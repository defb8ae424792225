/*
 * firedrill drill: a scenario live, steered from the interviewer's console.
 */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/timefmt.h"
#include "common/units.h"
#include "drill/drill.h"
#include "drill/server.h"
#include "generator/header.h"
#include "generator/scenario.h"
#include "recording/reader.h"
#include "sinks/sink.h"

static void notice(void *ctx, const char *msg)
{
	(void)ctx;
	fprintf(stderr, "firedrill: %s\n", msg);
}

#define MAX_PLANNED 64

struct planned {
	char name[129];
	int64_t at;
};

/* "NAME@OFFSET": an action of a drill's log, taken at a scenario offset. */
static int parse_action(const char *arg, struct planned *p, const char **why)
{
	const char *at = strrchr(arg, '@');
	if (!at || at == arg || (size_t)(at - arg) >= sizeof(p->name)) {
		*why = "expected NAME@OFFSET, e.g. rollback-orders@1h21m5s";
		return -1;
	}
	memcpy(p->name, arg, (size_t)(at - arg));
	p->name[at - arg] = '\0';
	return fd_units_duration(at + 1, &p->at, why);
}

/* The action log, seed and end of a drill's recording: a debrief runs it
 * again. */
static int read_log(const char *path, const struct fd_scenario *sc, struct planned *plan, size_t *n,
		    uint64_t *seed, int64_t *until, struct fd_error *err)
{
	struct fd_recording_reader *r = NULL;
	int rc = fd_recording_reader_open(path, &r, err);
	if (rc < 0)
		return rc;
	const Firedrill__V1__RecordingHeader *h = fd_recording_reader_header(r);
	if (!h->drill || strcmp(h->source_kind, "drill") != 0) {
		rc = fd_error_set(err, FD_EINPUT, "--actions-from %s: not the recording of a drill", path);
	} else if (strcmp(h->scenario_name, sc->name) != 0) {
		rc = fd_error_set(err, FD_EINPUT, "--actions-from %s: a drill of '%s', not of '%s'", path,
				  h->scenario_name, sc->name);
	} else if (h->drill->n_taken > MAX_PLANNED) {
		rc = fd_error_set(err, FD_EINPUT, "--actions-from %s: more than %d actions", path, MAX_PLANNED);
	} else {
		*n = 0;
		for (size_t i = 0; i < h->drill->n_taken; i++) {
			const Firedrill__V1__ActionTaken *t = h->drill->taken[i];
			snprintf(plan[*n].name, sizeof(plan[*n].name), "%s", t->name);
			plan[*n].at = (int64_t)t->time_unix_nano - (int64_t)h->start_time_unix_nano;
			(*n)++;
		}
		*seed = h->seed;
		*until = (int64_t)h->end_time_unix_nano - (int64_t)h->start_time_unix_nano;
	}
	fd_recording_reader_destroy(r);
	return rc;
}

/* The scale knobs a drill's recording was made with, to replay it as it
 * ran (the command line's knobs, when given, win). */
static int log_scale(const char *path, struct fd_scenario_scale *over, struct fd_error *err)
{
	struct fd_recording_reader *r = NULL;
	int rc = fd_recording_reader_open(path, &r, err);
	if (rc < 0)
		return rc;
	struct fd_scenario_scale logged;
	fd_scenario_header_scale(fd_recording_reader_header(r), &logged);
	fd_recording_reader_destroy(r);
	if (!fd_scenario_scale_any(over))
		*over = logged;
	return 0;
}

void cli_warn_behind(struct fd_drill *d)
{
	int64_t max = 0;
	fd_drill_behind(d, &max);
	if (max > 1000000000)
		fprintf(stderr,
			"firedrill: warning: fell behind real time by up to %.1f s: the simulation or "
			"the sinks did not keep up, so fewer records per second went out than the "
			"scenario's rate (a lower --rate or --scale, a faster sink, or a slower "
			"--speed)\n",
			(double)max / 1e9);
}

int cmd_drill(const struct verb *v, int argc, char **argv)
{
	enum { OPT_TO = 256, OPT_CONSOLE, OPT_HISTORY, OPT_SPEED, OPT_SEED, OPT_ACTION, OPT_FROM_LOG,
	       OPT_UNTIL, OPT_SCALE, OPT_RATE, OPT_RAMP };
	static const struct option options[] = {
		{"to", required_argument, NULL, OPT_TO},
		{"console", required_argument, NULL, OPT_CONSOLE},
		{"history", required_argument, NULL, OPT_HISTORY},
		{"speed", required_argument, NULL, OPT_SPEED},
		{"output", required_argument, NULL, 'o'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"action", required_argument, NULL, OPT_ACTION},
		{"actions-from", required_argument, NULL, OPT_FROM_LOG},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"scale", required_argument, NULL, OPT_SCALE},
		{"rate", required_argument, NULL, OPT_RATE},
		{"ramp", required_argument, NULL, OPT_RAMP},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *to[16], *console = NULL, *log_path = NULL;
	size_t n_to = 0, n_plan = 0;
	static struct planned plan[MAX_PLANNED];
	struct fd_drill_options o = {.speed = 1, .stop = &cli_stop_requested};
	struct fd_sink_context ctx = {.notice = notice, .stop = &cli_stop_requested, .paced = true};
	bool quiet = false, until_set = false;
	struct fd_scenario_scale over = {0};
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", options, NULL)) != -1) {
		const char *why = NULL;
		long long n;
		switch (c) {
		case OPT_TO:
			if (n_to == sizeof(to) / sizeof(to[0]))
				return cli_usage_error(v, "at most %zu --to sinks", n_to);
			to[n_to++] = optarg;
			break;
		case 'o': o.output = optarg; break;
		case OPT_CONSOLE: console = optarg; break;
		case OPT_HISTORY:
			if (fd_units_duration(optarg, &o.history_ns, &why) < 0)
				return cli_usage_error(v, "--history '%s': %s", optarg, why);
			o.history_set = true;
			break;
		case OPT_SPEED:
			if (fd_pace_parse_speed(optarg, &o.speed) < 0)
				return cli_usage_error(v, "--speed '%s': expected realtime, max or a factor like 60x",
						       optarg);
			break;
		case OPT_SEED:
			if (fd_units_integer(optarg, 0, INT64_MAX, &n, &why) < 0)
				return cli_usage_error(v, "--seed '%s': %s", optarg, why);
			o.seed = (uint64_t)n;
			o.seed_set = true;
			break;
		case OPT_ACTION:
			if (n_plan == MAX_PLANNED)
				return cli_usage_error(v, "at most %d --action", MAX_PLANNED);
			if (parse_action(optarg, &plan[n_plan], &why) < 0)
				return cli_usage_error(v, "--action '%s': %s", optarg, why);
			n_plan++;
			break;
		case OPT_FROM_LOG: log_path = optarg; break;
		case OPT_UNTIL:
			if (fd_units_duration(optarg, &o.until_ns, &why) < 0 || o.until_ns <= 0)
				return cli_usage_error(v, "--until '%s': %s", optarg, why ? why : "must be after the start");
			until_set = true;
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
		case 'q': quiet = true; break;
		case 'h': fputs(v->usage, stdout); return 0;
		case ':': return cli_usage_error(v, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(v, optind >= argc ? "missing SCENARIO (a .yaml file or a built-in name)"
							 : "expected one SCENARIO");
	/* a console alone is a rehearsal: nothing is sent anywhere */
	if (!n_to && !o.output && !console)
		return cli_usage_error(v, "nothing to send to: give --to SINK (e.g. kafka://HOST:9092, dir:out), -o DRILL.fdr or --console");
	if (log_path && n_plan)
		return cli_usage_error(v, "give --actions-from or --action, not both");
	int bad = cli_ramp_check(v, over.rate_from, over.rate, over.ramp_ns);
	if (bad)
		return bad;

	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	struct fd_drill *d = NULL;
	struct fd_drill_server *srv = NULL;
	struct fd_sink *sinks[16] = {0};
	struct fd_scenario_header hdr = {0};
	size_t n_sinks = 0, len = 0;
	const char *text = NULL;
	char *owned = NULL;
	int status = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	if ((log_path && log_scale(log_path, &over, &err) < 0) ||
	    cli_load_scenario(argv[optind], &over, &sc, &text, &len, &owned, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	if (log_path) {
		uint64_t seed = 0;
		int64_t end = 0;
		if (read_log(log_path, sc, plan, &n_plan, &seed, &end, &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
		if (!o.seed_set) {
			o.seed = seed;
			o.seed_set = true;
		}
		if (!until_set)
			o.until_ns = end;
	}
	o.scenario_text = text;
	o.scale = &over;

	/* The sinks see the scenario's header (a file: sink keeps it). */
	if (fd_scenario_header_init(&hdr, sc, o.seed_set ? o.seed : sc->seed, sc->start_ns, sc->start_ns,
				    text) < 0) {
		fprintf(stderr, "firedrill: out of memory\n");
		status = EXIT_RUNTIME;
		goto out;
	}
	cli_catch_stop_signals();
	hdr.header.source_kind = "drill";
	fd_scenario_header_set_scale(&hdr, &over);
	ctx.header = &hdr.header;
	for (size_t i = 0; i < n_to; i++) {
		if (fd_sink_open(to[i], &ctx, &sinks[n_sinks], &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
		n_sinks++;
	}
	o.sinks = sinks;
	o.n_sinks = n_sinks;
	if (fd_drill_create(sc, &o, &d, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	for (size_t i = 0; i < n_plan; i++)
		if (fd_drill_plan(d, plan[i].name, plan[i].at, &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
	if (console) {
		if (fd_drill_server_start(d, console, &srv, &err) < 0) {
			status = cli_fail(&err);
			goto out;
		}
		/* the one line a test or a person needs: where the console is */
		fprintf(stderr, "firedrill: console on %s\n", fd_drill_server_url(srv));
	}
	if (!quiet) {
		char h[32];
		fprintf(stderr, "firedrill: drill %s: backfilling %s, then %s%s\n", sc->name,
			fd_format_duration(h, sizeof(h), o.history_set ? o.history_ns : sc->join_at_ns),
			o.speed > 0 ? "real time" : "as fast as possible",
			o.speed > 0 && o.speed != 1 ? " (sped up)" : "");
	}
	int rc = fd_drill_run(d, &err);
	fd_drill_server_stop(srv);
	srv = NULL;
	if (rc < 0) {
		status = cli_fail(&err);
		goto out;
	}
	status = cli_close_sinks(sinks, n_sinks, status);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!quiet) {
		uint64_t rec[FD_SIGNAL_COUNT], bytes[FD_SIGNAL_COUNT];
		fd_drill_counts(d, rec, bytes);
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		char b[32], off[32];
		fprintf(stderr,
			"drill %s stopped at +%s: %" PRIu64 " records (traces %" PRIu64 ", metrics %" PRIu64
			", logs %" PRIu64 "), %s in %.1fs\n",
			sc->name, fd_format_duration(off, sizeof(off), fd_drill_offset(d)),
			rec[0] + rec[1] + rec[2], rec[0], rec[1], rec[2],
			fd_format_bytes(b, sizeof(b), bytes[0] + bytes[1] + bytes[2]), secs);
		cli_report_sinks(sinks, n_sinks);
		if (o.output)
			fprintf(stderr, "  %s: the drill's recording (replay it, or inspect --answer-key)\n",
				o.output);
	}
	cli_warn_behind(d);
out:
	fd_drill_server_stop(srv);
	fd_drill_destroy(d);
	for (size_t i = 0; i < n_sinks; i++)
		fd_sink_destroy(sinks[i]);
	fd_scenario_header_finish(&hdr);
	fd_scenario_destroy(sc);
	free(owned);
	return status;
}
