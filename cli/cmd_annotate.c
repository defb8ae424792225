/*
 * firedrill annotate: a brief and a measured answer key for a recording no
 * scenario produced, so a captured incident becomes a drill like the
 * built-in ones.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>

#include "cli/cli.h"
#include "recording/reader.h"
#include "rewrite/annotate.h"

int cmd_annotate(const struct verb *v, int argc, char **argv)
{
	static const struct option options[] = {
		{"brief", required_argument, NULL, 'b'},
		{"output", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *brief = NULL, *out = NULL;
	bool quiet = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:o:qh", options, NULL)) != -1) {
		switch (c) {
		case 'b': brief = optarg; break;
		case 'o': out = optarg; break;
		case 'q': quiet = true; break;
		case 'h': fputs(v->usage, stdout); return 0;
		case ':': return cli_usage_error(v, "option '%s' needs a value", argv[optind - 1]);
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return cli_usage_error(v, optind >= argc ? "missing IN.fdr" : "expected one IN.fdr");
	if (!brief)
		return cli_usage_error(v, "missing --brief BRIEF.yaml");
	if (!out)
		return cli_usage_error(v, "missing -o OUT.fdr");
	struct fd_error err = {0};
	struct fd_recording_reader *r;
	if (fd_recording_reader_open(argv[optind], &r, &err) < 0)
		return cli_fail(&err);
	/* offsets in the brief count from the declared start (a generated
	 * recording's scenario start), else from the first record */
	const Firedrill__V1__BlockIndex *ix = fd_recording_reader_index(r);
	int64_t origin = (int64_t)fd_recording_reader_header(r)->start_time_unix_nano;
	if (!origin && ix && ix->summary)
		origin = (int64_t)ix->summary->first_time_unix_nano;
	struct fd_brief *b = NULL;
	struct fd_annotate_stats st;
	int status = 0;
	if (fd_brief_load(brief, origin, &b, &err) < 0 || fd_annotate_run(r, b, out, &st, &err) < 0)
		status = cli_fail(&err);
	else if (!quiet)
		fprintf(stderr,
			"annotated %s -> %s: %" PRIu64 " records, %" PRIu64
			" spans of the key endpoints, %zu figures (firedrill inspect --answer-key %s)\n",
			argv[optind], out, st.records, st.endpoint_spans, st.figures, out);
	fd_brief_destroy(b);
	fd_recording_reader_destroy(r);
	return status;
}
