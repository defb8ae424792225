/*
 * The command-line front end: a verb table, each verb parsing its own
 * options. Only this layer prints to the terminal and chooses exit statuses:
 * 0 success, 1 runtime failure, 2 bad usage or bad input.
 */
#ifndef FD_CLI_H
#define FD_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/error.h"

#define EXIT_RUNTIME 1
#define EXIT_USAGE 2

struct verb {
	const char *name;
	const char *summary; /* one line for `firedrill --help` */
	const char *usage;   /* full help for `firedrill VERB --help`, <= 80 columns */
	int (*run)(const struct verb *v, int argc, char **argv);
	/* Optional: prints more help after usage, made at run time (the
	 * sinks and sources, from their descriptors). */
	void (*usage_more)(FILE *out);
};

extern const struct verb verbs[];

/* Prints "firedrill: MSG" to stderr and returns the exit status for err. */
int cli_fail(const struct fd_error *err);

/* Prints "firedrill VERB: MSG\nTry 'firedrill VERB --help'." and returns 2. */
int cli_usage_error(const struct verb *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct fd_scenario;
struct fd_scenario_scale;
/* Loads SCENARIO.yaml, or a built-in scenario by name: *text and *len are its
 * source, *owned what to free afterwards (NULL for a built-in). over: scale
 * knobs from the command line over the file's (may be NULL). */
int cli_load_scenario(const char *arg, const struct fd_scenario_scale *over, struct fd_scenario **out,
		      const char **text, size_t *len, char **owned, struct fd_error *err);

int cmd_drill(const struct verb *v, int argc, char **argv);
int cmd_inspect(const struct verb *v, int argc, char **argv);
int cmd_generate(const struct verb *v, int argc, char **argv);
int cmd_validate(const struct verb *v, int argc, char **argv);
int cmd_list(const struct verb *v, int argc, char **argv);
int cmd_replay(const struct verb *v, int argc, char **argv);
int cmd_record(const struct verb *v, int argc, char **argv);
int cmd_compare(const struct verb *v, int argc, char **argv);
int cmd_rewrite(const struct verb *v, int argc, char **argv);
int cmd_annotate(const struct verb *v, int argc, char **argv);

/* Set by SIGINT or SIGTERM once cli_catch_stop_signals has run: the command's
 * loop and its sinks (fd_sink_context.stop) poll it and wind down, so every
 * output is finished and named, never left as PATH.tmp-XXXXXX. A command calls
 * it before its first sink or source opens. */
extern volatile sig_atomic_t cli_stop_requested;
void cli_catch_stop_signals(void);

struct fd_sink;
/* Closes every sink, even after one fails (each reports its own
 * delivery, on stderr); returns status, or the failure's exit status
 * (a runtime failure wins over bad input). */
int cli_close_sinks(struct fd_sink **sinks, size_t n, int status);
/* The sinks' report lines for a summary, on stderr. */
void cli_report_sinks(struct fd_sink **sinks, size_t n);

struct fd_drill;
/* A warning on stderr when a drill's (or generate --duration forever's)
 * real-time part fell behind the clock by more than a second. */
void cli_warn_behind(struct fd_drill *d);

/* --scale K=V[,K=V] (scale true) or --rate R, as generate and drill take
 * them, into *over (later ones win). --rate A..B sets rate_from A and rate
 * B (R: both R); the ramp's duration is --ramp's (cli_ramp_option into
 * over->ramp_ns, then cli_ramp_check). Returns 0, or the usage error's
 * exit status (the message printed). */
int cli_scale_option(const struct verb *v, bool scale, const char *arg, struct fd_scenario_scale *over);

/* --ramp D (replay, generate, drill): a duration above 0 into *ramp_ns.
 * Returns 0, or the usage error's exit status. */
int cli_ramp_option(const struct verb *v, const char *arg, int64_t *ramp_ns);
/* Once the options are read: a ramp in --rate (from != to) and --ramp come
 * together (ramp_ns 0: no --ramp). Returns 0, or the usage error's exit
 * status. */
int cli_ramp_check(const struct verb *v, double from, double to, int64_t ramp_ns);

/* --shard I/N: 0 <= I < N <= 100000. Returns 0, or -1. */
int cli_parse_shard(const char *arg, unsigned *shard, unsigned *shards);

/* v's whole help: usage, then usage_more. */
void cli_print_usage(const struct verb *v, FILE *out);

/* The sinks' and the sources' help, from their descriptors. */
void cli_sinks_usage(FILE *out);
void cli_sources_usage(FILE *out);

/* A flag that stands for a sink's or source's URI option (-X K=V is
 * X.K=V): "PREFIXKEY=VALUE" (key: kn bytes), malloc'd; NULL when out of
 * memory. */
char *cli_option(const char *prefix, const char *key, size_t kn, const char *value);

#endif
