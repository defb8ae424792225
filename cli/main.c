#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "fd_config.h"

static int cmd_help(const struct verb *v, int argc, char **argv);
static int cmd_version(const struct verb *v, int argc, char **argv);

const struct verb verbs[] = {
	{"list", "list the built-in scenarios: name, title, duration",
	 "Usage: firedrill list [--json]\n"
	 "\n"
	 "List the built-in scenarios (name, title, duration).\n"
	 "\n"
	 "Options:\n"
	 "  --json        print one JSON object\n"
	 "  -h, --help    show this help\n",
	 cmd_list},
	{"validate", "check a scenario file; errors as file:line:col: message",
	 "Usage: firedrill validate SCENARIO.yaml...\n"
	 "\n"
	 "Check scenario files without generating anything. Every problem is\n"
	 "reported as FILE:LINE:COL: MESSAGE; exit status 2 when any file is bad.\n"
	 "\n"
	 "Options:\n"
	 "  -h, --help    show this help\n",
	 cmd_validate},
	{"generate", "simulate a scenario and record (or stream) its telemetry",
	 "Usage: firedrill generate SCENARIO.yaml|NAME -o OUT.fdr [options]\n"
	 "\n"
	 "Simulate the incident a scenario describes and record its traces, metrics\n"
	 "and logs. NAME is a built-in scenario (see `firedrill list`).\n"
	 "\n"
	 "Options:\n"
	 "  -o, --output FILE    write the recording to FILE (.fdr)\n"
	 "  --seed N             random seed (default: the scenario's)\n"
	 "  --start TIME         first timestamp, RFC 3339 (default: the scenario's)\n"
	 "  --duration D         simulate D instead of the scenario's duration\n"
	 "  --duration forever   a soak test: from now on, in real time, until Ctrl-C\n"
	 "                       or SIGTERM (sinks flushed and closed, exit 0); the\n"
	 "                       timeline runs as written, memory stays flat\n"
	 "  --speed Nx           with forever: N times real time\n"
	 "  --rate R             the traffic's mean rate, requests/s (2000/s, 5k/s),\n"
	 "                       over the scenario's and scale.rate; instances keep\n"
	 "                       their load (more CPU and connections each); or a\n"
	 "                       ramp A..B (1k/s..20k/s) with\n"
	 "  --ramp D             its duration: the rate goes linearly from A to B\n"
	 "                       over the first D of scenario time, then holds B\n"
	 "                       (instances sized for the higher of A and B)\n"
	 "  --scale K=V[,K=V]    scale knobs over the scenario's scale: (repeatable):\n"
	 "                       services=N (background services added), instances=N\n"
	 "                       (every service), users=N (user.id values), paths=N\n"
	 "                       (ids per route parameter), customers=N (a customer\n"
	 "                       dimension: metric series); counts take k and M;\n"
	 "                       churn=P%/h (P% of the pods replaced an hour, new\n"
	 "                       names: new series)\n"
	 "  --to SINK            also stream to SINK (repeatable); see `replay --help`\n"
	 "  --shard I/N          send only shard I of N (0 <= I < N) as replay --shard\n"
	 "                       does: traces by trace id, metrics and logs by\n"
	 "                       resource. Every shard simulates the whole system (the\n"
	 "                       requests share pools, queues and breakers), so the N\n"
	 "                       shards together send each record exactly once and\n"
	 "                       split the sinks' work (encoding, sending)\n"
	 "  --stats[=D]          every D (1s): per sink, records/s, MB/s, send\n"
	 "                       latency p50/p99, bytes in flight and queued,\n"
	 "                       retries and errors\n"
	 "  --self-metrics ADDR  serve the same as Prometheus metrics at\n"
	 "                       http://ADDR/metrics ([HOST]:PORT; port 0: any)\n"
	 "  -q, --quiet          no progress line and no summary\n"
	 "  -h, --help           show this help\n",
	 cmd_generate},
	{"drill", "run a scenario live, steered from the interviewer's console",
	 "Usage: firedrill drill SCENARIO.yaml|NAME --to SINK... [options]\n"
	 "\n"
	 "Run a scenario live: its first --history is generated at once, stamped to\n"
	 "end now, then it goes on in real time (times --speed) until stopped. The\n"
	 "interviewer takes the scenario's actions (roll back, scale out...) from the\n"
	 "console; they change the telemetry from the next minute on. Sinks as in\n"
	 "`replay --help` (Kafka settings in the URI: X.KEY=VALUE,\n"
	 "delivery_timeout=D). Timeline events marked as mitigations are left out.\n"
	 "\n"
	 "Options:\n"
	 "  --to SINK            where to send records (repeatable)\n"
	 "  --console HOST:PORT  serve the console and the control API (port 0: any)\n"
	 "  --history D          backfill D of the scenario (default: its join_at)\n"
	 "  --speed S            realtime (default), Nx (e.g. 60x) or max\n"
	 "  -o, --output FILE    record the drill (scenario time, with the action\n"
	 "                       log) to FILE.fdr\n"
	 "  --seed N             random seed (default: the scenario's)\n"
	 "  --until D            stop by itself at scenario offset D\n"
	 "  --scale K=V[,K=V]    scale knobs, as generate takes them (see generate\n"
	 "                       --help); stored in the recording\n"
	 "  --rate R             the traffic's mean rate, requests/s, as generate\n"
	 "  --ramp D             with --rate A..B: a ramp, as generate (scenario\n"
	 "                       time from offset 0: the history is part of it)\n"
	 "  --action NAME@D      take action NAME at offset D (repeatable): a debrief\n"
	 "  --actions-from FILE  take the actions of a drill's recording, with its\n"
	 "                       seed and scale, and stop where it stopped: the\n"
	 "                       same bytes\n"
	 "  -q, --quiet          no summary\n"
	 "  -h, --help           show this help\n"
	 "\n"
	 "Stop with Ctrl-C or POST /api/stop: the sinks are flushed and closed and\n"
	 "the recording written (exit status 0).\n",
	 cmd_drill},
	{"inspect", "describe a recording: metadata, counts, time range, size",
	 "Usage: firedrill inspect FILE.fdr [options]\n"
	 "\n"
	 "Print a recording's header, metadata, record counts per signal, time\n"
	 "range, blocks, bytes per record and compression ratio. A file cut short\n"
	 "is read up to its last complete block, with a warning; a corrupt block is\n"
	 "reported by number and byte offset (exit status 2).\n"
	 "\n"
	 "Options:\n"
	 "  --json          print the same as one JSON object\n"
	 "  --answer-key    print the interviewer's brief and the measured figures\n"
	 "  --verify        read and check every block, and the index against them\n"
	 "  --timeline      print the scenario's timeline of events\n"
	 "  --html          write a self-contained HTML page to stdout: the timeline,\n"
	 "                  answer key, action log and charts of the key endpoints\n"
	 "  -h, --help      show this help\n",
	 cmd_inspect},
	{"replay", "stream a recording into Kafka, files or stdout",
	 "Usage: firedrill replay FILE.fdr --to SINK [--to SINK...] [options]\n"
	 "\n"
	 "Stream a recording into one or more sinks with its original timing.\n"
	 "A SINK is a URI with its options in its query: SINK?k=v&k=v (the\n"
	 "sinks and their options are listed below).\n"
	 "\n"
	 "Options:\n"
	 "  --to SINK               where to send records (repeatable)\n"
	 "  --speed S               realtime (default), Nx (e.g. 10x) or max\n"
	 "  --rate R                records per second instead of the recording's\n"
	 "                          timing: 100k/s, or a ramp 10k/s..200k/s with\n"
	 "  --ramp D                the ramp's duration (then R is held)\n"
	 "  --rebase R              start-now (default), end-now, TIME or none\n"
	 "  --from T, --until T     only this window (RFC 3339, or offset like 10m)\n"
	 "  --loop N                repeat N times, each shifted by the length\n"
	 "  --signals LIST          traces,metrics,logs (default: all)\n"
	 "  --service NAME          only this service's records\n"
	 "  --shard I/N             only shard I of N (traces by trace id,\n"
	 "                          metrics and logs by resource)\n"	 "  --copies N              send the system N times over: copy K's instances\n"
	 "                          get the suffix -cK (N times the series), its\n"
	 "                          traces other ids; --rate counts every copy\n"
	 "  --churn P%/h            replace P% of the instances an hour (new pods,\n"
	 "                          new series: -gG); with --copies or alone\n"
	 "  -X KEY=VALUE            librdkafka property for every kafka:// sink\n"
	 "                          (in one sink's URI: X.KEY=VALUE)\n"
	 "  --delivery-timeout D    delivery_timeout=D for every kafka:// sink\n"
	 "  --linger D              keep kafka://embedded and scrape: up D after\n"
	 "                          the summary, or until interrupted\n"
	 "  --stats[=D]             every D (1s): per sink, records/s, MB/s, send\n"
	 "                          latency p50/p99, bytes in flight and queued,\n"
	 "                          retries and errors (instead of the progress line)\n"
	 "  --self-metrics ADDR     serve the same as Prometheus metrics at\n"
	 "                          http://ADDR/metrics ([HOST]:PORT; port 0: any)\n"
	 "  -q, --quiet             no progress line and no summary\n"
	 "  -h, --help              show this help\n"
	 "\n"
	 "Exit status: 0 all delivered, 1 records not delivered (count printed),\n"
	 "2 bad usage or input, 130 interrupted (what was read is flushed).\n",
	 cmd_replay, cli_sinks_usage},
	{"record", "capture OTLP from Kafka, files or an OTLP/HTTP receiver",
	 "Usage: firedrill record --from SOURCE -o OUT.fdr [options]\n"
	 "\n"
	 "Capture real telemetry into a recording that replays like a generated one.\n"
	 "Each message (Kafka message, JSON line, protobuf frame) is one OTLP export\n"
	 "request; it is split into records, resources are stored once, and records\n"
	 "are put in time order within --reorder-window. A malformed message is\n"
	 "reported with its place (topic/partition@offset, file:line) and skipped.\n"
	 "A SOURCE is a URI with its options in its query: SOURCE?k=v&k=v (the\n"
	 "sources and their options are listed below).\n"
	 "Files: OTLP JSON lines or length-delimited protobuf (4-byte big-endian\n"
	 "length before each request), as the collector's file exporter writes\n"
	 "them; the signal comes from the file name (traces*, metrics*, logs*) or\n"
	 "from each request.\n"
	 "\n"
	 "Options:\n"
	 "  --from SOURCE         where to read (required)\n"
	 "  -o, --output FILE     write the recording to FILE (.fdr; required)\n"
	 "  --duration D          stop after D of wall-clock time\n"
	 "  --max-records N       stop after N records\n"
	 "  --until-idle D        stop when nothing arrives for D\n"
	 "  --reorder-window D    hold records D to sort them by time (5s); later\n"
	 "                        ones are kept out of order and counted\n"
	 "  -q, --quiet           no progress line and no summary\n"
	 "  -h, --help            show this help\n"
	 "Flags for the kafka:// source's options (the same as in its URI):\n"
	 "  --topics LIST         topics=LIST\n"
	 "  --format F            format=F\n"
	 "  --group NAME          group=NAME\n"
	 "  --start beginning|end start=beginning|end\n"
	 "  --start-time T        start_time=T\n"
	 "  -X KEY=VALUE          X.KEY=VALUE (a librdkafka consumer property)\n"
	 "\n"
	 "Exit status: 0 recorded (malformed messages are counted, not fatal),\n"
	 "1 runtime failure (nothing is left under FILE), 2 bad usage or input,\n"
	 "130 interrupted (FILE holds everything read until then).\n",
	 cmd_record, cli_sources_usage},
	{"compare", "what a pipeline lost, duplicated, reordered or changed",
	 "Usage: firedrill compare SENT.fdr RECEIVED.fdr [--json]\n"
	 "\n"
	 "The verdict of a pipeline test: SENT.fdr is what was replayed into the\n"
	 "pipeline, RECEIVED.fdr what `firedrill record` captured behind it.\n"
	 "Records are matched by identity (spans by trace and span id, logs by\n"
	 "service, time, severity, trace context and body, metrics by service,\n"
	 "instance, name and time) and counted per signal and per service: lost,\n"
	 "duplicated, unexpected, reordered, changed; for changed records, each\n"
	 "field the pipeline dropped, rewrote or added.\n"
	 "\n"
	 "Options:\n"
	 "  --json        print the same as one JSON object\n"
	 "  -h, --help    show this help\n"
	 "\n"
	 "Exit status: 0 every record arrived once and unchanged (reordering\n"
	 "allowed), 1 something was lost, duplicated, unexpected or changed,\n"
	 "2 bad usage or a bad recording.\n",
	 cmd_compare},
	{"rewrite", "rename, scrub, shift or cut a recording; --check for personal data",
	 "Usage: firedrill rewrite IN.fdr -o OUT.fdr [--rules RULES.yaml] [--rule R...]\n"
	 "       firedrill rewrite --check IN.fdr [--rules RULES.yaml]\n"
	 "\n"
	 "Turn a recorded incident into a drill that can leave the company:\n"
	 "rename services, hosts, pods and namespaces everywhere they occur,\n"
	 "hash (keyed) or replace personal data and secrets, shift time, cut a\n"
	 "window, drop services or signals. Trace and span ids are kept, so\n"
	 "traces stay whole and logs keep pointing at their spans. The header\n"
	 "records the rewrite and its rule names, never the values.\n"
	 "\n"
	 "Options:\n"
	 "  -o, --output FILE   the rewritten recording\n"
	 "  --rules FILE        rules in YAML (docs/rewrite.md)\n"
	 "  --rule R            one rule, repeatable: builtin (hash every kind\n"
	 "                      below), email, ipv4, ipv6, card, jwt, bearer,\n"
	 "                      uuid, rename:OLD=NEW, hash:KEY, drop:KEY,\n"
	 "                      replace:KEY=VALUE, drop-service:NAME,\n"
	 "                      drop-signal:SIGNAL, regex:ERE (KEY is a glob)\n"
	 "  --shift D           move every timestamp by D (-30d, 2h)\n"
	 "  --from T, --until T keep this window (RFC 3339, or offset like 10m)\n"
	 "  --check             list what still looks like personal data or a\n"
	 "                      secret, with a masked example; exit 1 if any\n"
	 "  -q, --quiet         no summary\n"
	 "  -h, --help          show this help\n"
	 "\n"
	 "Hashing needs a secret key: FIREDRILL_REWRITE_KEY, or key_env: or\n"
	 "key_file: in the rules. The same value always gets the same pseudonym.\n",
	 cmd_rewrite},
	{"annotate", "attach a brief and a measured answer key to a recording",
	 "Usage: firedrill annotate IN.fdr --brief BRIEF.yaml -o OUT.fdr\n"
	 "\n"
	 "Turn a recorded incident into a drill: the brief (prompt, root cause,\n"
	 "trigger and its time, mitigation, verification, investigation steps,\n"
	 "red herrings, evidence, key endpoints) becomes the answer key, and the\n"
	 "figures are measured from the recorded spans: requests, p50, p95, p99\n"
	 "and error rate of each endpoint before, during and after, and where\n"
	 "the added time went. See docs/rewrite.md.\n"
	 "\n"
	 "Options:\n"
	 "  -b, --brief FILE    the brief (YAML)\n"
	 "  -o, --output FILE   the annotated recording\n"
	 "  -q, --quiet         no summary\n"
	 "  -h, --help          show this help\n",
	 cmd_annotate},
	{"help", "show help for a command",
	 "Usage: firedrill help [COMMAND]\n"
	 "\n"
	 "Show the list of commands, or one command's help.\n",
	 cmd_help},
	{"version", "print the version",
	 "Usage: firedrill version\n"
	 "\n"
	 "Print firedrill's version and the recording format it writes.\n",
	 cmd_version},
	{NULL, NULL, NULL, NULL, NULL},
};

static void main_usage(FILE *out)
{
	fprintf(out,
		"Usage: firedrill COMMAND [options]\n"
		"\n"
		"Synthesize, record and replay the telemetry of production incidents.\n"
		"\n"
		"Commands:\n");
	for (const struct verb *v = verbs; v->name; v++)
		fprintf(out, "  %-10s %s\n", v->name, v->summary);
	fprintf(out, "\nRun 'firedrill COMMAND --help' for a command's options.\n"
		     "Exit status: 0 success, 1 runtime failure, 2 bad usage or input.\n");
}

void cli_print_usage(const struct verb *v, FILE *out)
{
	fputs(v->usage, out);
	if (v->usage_more)
		v->usage_more(out);
}

char *cli_option(const char *prefix, const char *key, size_t kn, const char *value)
{
	size_t pn = strlen(prefix), vn = strlen(value);
	char *kv = malloc(pn + kn + vn + 2);
	if (!kv)
		return NULL;
	memcpy(kv, prefix, pn);
	memcpy(kv + pn, key, kn);
	kv[pn + kn] = '=';
	memcpy(kv + pn + kn + 1, value, vn + 1);
	return kv;
}

int cli_fail(const struct fd_error *err)
{
	fprintf(stderr, "firedrill: %s\n", err->msg[0] ? err->msg : "unknown error");
	return err->code == FD_EINPUT ? EXIT_USAGE : EXIT_RUNTIME;
}

int cli_usage_error(const struct verb *v, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "firedrill %s: ", v->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'firedrill %s --help'.\n", v->name);
	return EXIT_USAGE;
}

static const struct verb *find_verb(const char *name)
{
	for (const struct verb *v = verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

static int cmd_help(const struct verb *v, int argc, char **argv)
{
	if (argc < 2) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_print_usage(v, stdout);
		return 0;
	}
	const struct verb *w = find_verb(argv[1]);
	if (!w) {
		fprintf(stderr, "firedrill help: unknown command '%s'\n", argv[1]);
		return EXIT_USAGE;
	}
	cli_print_usage(w, stdout);
	return 0;
}

static int cmd_version(const struct verb *v, int argc, char **argv)
{
	(void)v;
	(void)argv;
	if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
		return cli_usage_error(v, "unexpected argument '%s'", argv[1]);
	if (argc > 1) {
		fputs(v->usage, stdout);
		return 0;
	}
	printf("firedrill %s (recording format 1.0)\n", FD_VERSION);
	return 0;
}

/* Sends allocate a buffer per message or file chunk (100 KiB to a few MiB)
 * and free it soon after, the Kafka sink on librdkafka's thread. glibc's
 * defaults give the heap's top back to the kernel each time and fault the
 * pages in again at the next send: a fifth of a Kafka replay's time (issue
 * 17). Keeping up to 16 MiB free at the top, and mapping separately only
 * buffers past 8 MiB, costs a few MiB of resident memory. */
static void tune_malloc(void)
{
#ifdef M_TRIM_THRESHOLD
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	mallopt(M_TRIM_THRESHOLD, 16 << 20);
#endif
}

int main(int argc, char **argv)
{
	tune_malloc();
	if (argc < 2) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		main_usage(stdout);
		return 0;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0)
		name = "version";
	const struct verb *v = find_verb(name);
	if (!v) {
		fprintf(stderr, "firedrill: unknown command '%s'\nTry 'firedrill --help'.\n", name);
		return EXIT_USAGE;
	}
	return v->run(v, argc - 1, argv + 1);
}
