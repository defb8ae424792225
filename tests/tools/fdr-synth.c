/*
 * fdr-synth: writes a recording of N synthetic records (real OTLP payloads:
 * spans, metrics, log records from K services) through the library's
 * recording writer. Deterministic for a seed. The input of the benchmarks
 * ("1 million records read back in bounded memory") and of the CLI tests.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/synth.h"
#include "common/timefmt.h"

static const char usage[] =
	"Usage: fdr-synth -o OUT.fdr -n N [options]\n"
	"\n"
	"Write a recording of N synthetic records (spans, metrics, log records\n"
	"with real OTLP payloads). The same options give a byte-identical file.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE     the recording to write (.fdr)\n"
	"  -n, --records N       number of records\n"
	"  --seed S              random seed (default 1)\n"
	"  --services K          services (default 3)\n"
	"  --instances I         instances per service (default 2)\n"
	"  --block-size B        raw bytes per record block (default 1 MiB)\n"
	"  --level L             zstd level (default 3)\n"
	"  --step-us U           mean microseconds between records (default 1000)\n"
	"  -q, --quiet           print nothing on success\n"
	"  -h, --help            show this help\n";

static int parse_u64(const char *opt, const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-') {
		fprintf(stderr, "fdr-synth: %s: expected a non-negative integer, got '%s'\n", opt, s);
		return -1;
	}
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max) {
		fprintf(stderr, "fdr-synth: %s: '%s' is not an integer in 0..%" PRIu64 "\n", opt, s,
			max);
		return -1;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_SEED = 256, OPT_SERVICES, OPT_INSTANCES, OPT_BLOCK, OPT_LEVEL, OPT_STEP };
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"records", required_argument, NULL, 'n'},
		{"seed", required_argument, NULL, OPT_SEED},
		{"services", required_argument, NULL, OPT_SERVICES},
		{"instances", required_argument, NULL, OPT_INSTANCES},
		{"block-size", required_argument, NULL, OPT_BLOCK},
		{"level", required_argument, NULL, OPT_LEVEL},
		{"step-us", required_argument, NULL, OPT_STEP},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	uint64_t n = 0, v;
	int have_n = 0, quiet = 0;
	struct fd_synth_options so = {.seed = 1};
	struct fd_recording_writer_options wo = {0};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:n:qh", options, NULL)) != -1) {
		const char *name = optind > 0 ? argv[optind - 1] : "?";
		switch (c) {
		case 'o': out = optarg; break;
		case 'n':
			if (parse_u64("-n", optarg, UINT64_MAX, &n) < 0)
				return 2;
			have_n = 1;
			break;
		case OPT_SEED:
			if (parse_u64("--seed", optarg, UINT64_MAX, &so.seed) < 0)
				return 2;
			break;
		case OPT_SERVICES:
			if (parse_u64("--services", optarg, 10000, &v) < 0 || v == 0)
				goto bad_value;
			so.services = (unsigned)v;
			break;
		case OPT_INSTANCES:
			if (parse_u64("--instances", optarg, 1000, &v) < 0 || v == 0)
				goto bad_value;
			so.instances = (unsigned)v;
			break;
		case OPT_BLOCK:
			if (parse_u64("--block-size", optarg, 32u << 20, &v) < 0 || v == 0)
				goto bad_value;
			wo.block_size = (size_t)v;
			break;
		case OPT_LEVEL:
			if (parse_u64("--level", optarg, 19, &v) < 0 || v == 0)
				goto bad_value;
			wo.zstd_level = (int)v;
			break;
		case OPT_STEP:
			if (parse_u64("--step-us", optarg, 3600000000ULL, &v) < 0 || v == 0)
				goto bad_value;
			so.step_ns = (int64_t)v * 1000;
			break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		case ':':
			fprintf(stderr, "fdr-synth: option '%s' needs a value\nTry 'fdr-synth --help'.\n",
				name);
			return 2;
		default:
			fprintf(stderr, "fdr-synth: unknown option '%s'\nTry 'fdr-synth --help'.\n", name);
			return 2;
		}
		continue;
	bad_value:
		fprintf(stderr, "fdr-synth: %s: value out of range\n", name);
		return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "fdr-synth: unexpected argument '%s'\nTry 'fdr-synth --help'.\n",
			argv[optind]);
		return 2;
	}
	if (!out || !have_n) {
		fprintf(stderr, "fdr-synth: -o OUT.fdr and -n N are required\nTry 'fdr-synth --help'.\n");
		return 2;
	}

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct fd_error err = {0};
	struct fd_synth_result res;
	if (fd_synth_write_recording(out, n, &so, &wo, &res, &err) < 0) {
		fprintf(stderr, "fdr-synth: %s\n", err.msg);
		return err.code == FD_EINPUT ? 2 : 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!quiet) {
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		uint64_t payload = res.payload_bytes[0] + res.payload_bytes[1] + res.payload_bytes[2];
		char pb[32];
		FILE *f = fopen(out, "rb");
		long size = -1;
		if (f && fseek(f, 0, SEEK_END) == 0)
			size = ftell(f);
		if (f)
			fclose(f);
		char fb[32];
		printf("fdr-synth: wrote %" PRIu64 " records (traces %" PRIu64 ", metrics %" PRIu64
		       ", logs %" PRIu64 ") to %s: %s, %s of payload, %.2f s (%.0f records/s)\n",
		       n, res.records[0], res.records[1], res.records[2], out,
		       fd_format_bytes(fb, sizeof(fb), size < 0 ? 0 : (uint64_t)size),
		       fd_format_bytes(pb, sizeof(pb), payload), secs,
		       secs > 0 ? (double)n / secs : 0.0);
	}
	return 0;
}
