/*
 * firedrill rewrite: a recording renamed, scrubbed, shifted or cut by rules,
 * so that a real incident can leave the company as a drill; --check lists
 * what still looks like personal data or a secret.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/units.h"
#include "fd_config.h"
#include "recording/reader.h"
#include "rewrite/rewrite.h"

/* A time on the recording's axis: RFC 3339 or an offset from its start. */
static int resolve_point(const char *s, int64_t origin, int64_t *out)
{
	const char *why;
	if (fd_units_timestamp(s, out, &why) == 0)
		return 0;
	int64_t d;
	if (fd_units_duration(s, &d, &why) == 0) {
		*out = origin + d;
		return 0;
	}
	return -1;
}

static int64_t recording_start(struct fd_recording_reader *r)
{
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	if (ix && ix->summary && ix->summary->first_time_unix_nano)
		return (int64_t)ix->summary->first_time_unix_nano;
	return (int64_t)fd_recording_reader_header(r)->start_time_unix_nano;
}

static int run_check(const char *path, const struct fd_rewrite_rules *rules)
{
	struct fd_error err = {0};
	struct fd_recording_reader *r;
	if (fd_recording_reader_open(path, &r, &err) < 0)
		return cli_fail(&err);
	struct fd_rewrite_findings f;
	int status;
	if (fd_rewrite_check(r, rules, &f, &err) < 0) {
		status = cli_fail(&err);
	} else {
		printf("%s: %" PRIu64 " strings scanned\n", path, f.strings);
		if (!f.n) {
			printf("nothing looks like personal data or a secret\n");
		} else {
			printf("%-40s %-14s %10s  %s\n", "where", "looks like", "count", "example");
			for (size_t i = 0; i < f.n; i++)
				printf("%-40s %-14s %10" PRIu64 "  %s\n", f.v[i].place, f.v[i].kind, f.v[i].count,
				       f.v[i].example);
		}
		status = f.n ? EXIT_RUNTIME : 0;
	}
	fd_rewrite_findings_finish(&f);
	fd_recording_reader_destroy(r);
	return status;
}

int cmd_rewrite(const struct verb *v, int argc, char **argv)
{
	enum { OPT_RULES = 256, OPT_RULE, OPT_CHECK, OPT_SHIFT, OPT_FROM, OPT_UNTIL };
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"rules", required_argument, NULL, OPT_RULES},
		{"rule", required_argument, NULL, OPT_RULE},
		{"check", no_argument, NULL, OPT_CHECK},
		{"shift", required_argument, NULL, OPT_SHIFT},
		{"from", required_argument, NULL, OPT_FROM},
		{"until", required_argument, NULL, OPT_UNTIL},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct fd_rewrite_rules rules = {0};
	struct fd_error err = {0};
	const char *out = NULL, *rules_path = NULL;
	bool check = false, quiet = false;
	int status = 0, c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", options, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case OPT_RULES:
			if (rules_path) {
				status = cli_usage_error(v, "--rules given twice");
				goto done;
			}
			rules_path = optarg;
			if (fd_rewrite_rules_load(&rules, optarg, &err) < 0) {
				status = cli_fail(&err);
				goto done;
			}
			break;
		case OPT_RULE:
			if (fd_rewrite_rules_add(&rules, optarg, &err) < 0) {
				status = err.code == FD_EINPUT ? cli_usage_error(v, "%s", err.msg) : cli_fail(&err);
				goto done;
			}
			break;
		case OPT_CHECK: check = true; break;
		case OPT_SHIFT:
		case OPT_FROM:
		case OPT_UNTIL: {
			char rule[300];
			snprintf(rule, sizeof(rule), "%s:%s",
				 c == OPT_SHIFT ? "shift" : c == OPT_FROM ? "from" : "until", optarg);
			if (fd_rewrite_rules_add(&rules, rule, &err) < 0) {
				status = err.code == FD_EINPUT ? cli_usage_error(v, "%s", err.msg) : cli_fail(&err);
				goto done;
			}
			break;
		}
		case 'q': quiet = true; break;
		case 'h': fputs(v->usage, stdout); goto done;
		case ':': status = cli_usage_error(v, "option '%s' needs a value", argv[optind - 1]); goto done;
		default: status = cli_usage_error(v, "unknown option '%s'", argv[optind - 1]); goto done;
		}
	}
	if (optind != argc - 1) {
		status = cli_usage_error(v, optind >= argc ? "missing IN.fdr" : "expected one IN.fdr");
		goto done;
	}
	const char *in_path = argv[optind];
	if (check) {
		if (out) {
			status = cli_usage_error(v, "--check reads only: no -o");
			goto done;
		}
		status = run_check(in_path, &rules);
		goto done;
	}
	if (!out) {
		status = cli_usage_error(v, "missing -o OUT.fdr");
		goto done;
	}
	if (!rules.n_names && !rules.shift_ns && !rules.from && !rules.until) {
		status = cli_usage_error(v, "no rules: give --rules RULES.yaml or --rule (e.g. --rule builtin)");
		goto done;
	}
	bool hashes = false;
	for (size_t i = 0; i < rules.n_attrs; i++)
		hashes |= rules.attrs[i].action == FD_REWRITE_HASH;
	for (size_t i = 0; i < rules.n_values; i++)
		hashes |= rules.values[i].action == FD_REWRITE_HASH;
	if (hashes && !fd_rewrite_rules_have_key(&rules)) {
		status = cli_usage_error(v, "hashing needs a secret key: set FIREDRILL_REWRITE_KEY, or "
					    "key_env:/key_file: in the rules (without one, pseudonyms of "
					    "emails or ids could be reversed by guessing)");
		goto done;
	}
	struct fd_recording_reader *r;
	if (fd_recording_reader_open(in_path, &r, &err) < 0) {
		status = cli_fail(&err);
		goto done;
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct fd_rewrite_options o = {
		.rules = &rules,
		.tool = "firedrill " FD_VERSION,
		.now_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec,
	};
	int64_t origin = recording_start(r);
	if (rules.from) {
		if (resolve_point(rules.from, origin, &o.from) < 0) {
			status = cli_usage_error(v, "from '%s': expected an RFC 3339 time or an offset like 10m",
						 rules.from);
			goto close;
		}
		o.has_from = true;
	}
	if (rules.until) {
		if (resolve_point(rules.until, origin, &o.until) < 0) {
			status = cli_usage_error(v, "until '%s': expected an RFC 3339 time or an offset like 50m",
						 rules.until);
			goto close;
		}
		o.has_until = true;
	}
	struct fd_rewrite_stats st;
	if (fd_rewrite_run(r, out, &o, &st, &err) < 0) {
		status = cli_fail(&err);
		goto close;
	}
	if (!quiet) {
		fprintf(stderr,
			"rewrote %s -> %s: %" PRIu64 " of %" PRIu64 " records kept (traces %" PRIu64
			", metrics %" PRIu64 ", logs %" PRIu64 ")\n",
			in_path, out, st.out[0] + st.out[1] + st.out[2], st.in[0] + st.in[1] + st.in[2],
			st.out[0], st.out[1], st.out[2]);
		fprintf(stderr,
			"  %" PRIu64 " strings rewritten; values: %" PRIu64 " hashed, %" PRIu64
			" replaced; attributes: %" PRIu64 " dropped, %" PRIu64 " hashed, %" PRIu64
			" replaced\n",
			st.strings_changed, st.values_hashed, st.values_replaced, st.attrs_dropped,
			st.attrs_hashed, st.attrs_replaced);
		if (st.outside_window || st.dropped_service || st.dropped_signal)
			fprintf(stderr,
				"  left out: %" PRIu64 " outside the window, %" PRIu64 " of dropped services, %" PRIu64
				" of dropped signals\n",
				st.outside_window, st.dropped_service, st.dropped_signal);
	}
close:
	fd_recording_reader_destroy(r);
done:
	fd_rewrite_rules_finish(&rules);
	return status;
}
