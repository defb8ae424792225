/*
 * firedrill compare: the verdict of a pipeline test. What was sent (the
 * recording replayed into the pipeline) against what came out (the
 * recording `firedrill record` made behind it): lost, duplicated,
 * unexpected, reordered and changed records, per signal and per service,
 * and which fields the pipeline dropped, rewrote or added.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/json.h"
#include "common/timefmt.h"
#include "compare/compare.h"
#include "recording/reader.h"

#define TOP_FIELDS 20

static void counts_json(struct fd_json *j, const struct fd_compare_counts *c)
{
	fd_json_object_begin(j);
	fd_json_key(j, "sent");
	fd_json_uint(j, c->sent);
	fd_json_key(j, "received");
	fd_json_uint(j, c->received);
	fd_json_key(j, "matched");
	fd_json_uint(j, c->matched);
	fd_json_key(j, "lost");
	fd_json_uint(j, c->lost);
	fd_json_key(j, "duplicated");
	fd_json_uint(j, c->duplicated);
	fd_json_key(j, "unexpected");
	fd_json_uint(j, c->unexpected);
	fd_json_key(j, "reordered");
	fd_json_uint(j, c->reordered);
	fd_json_key(j, "changed");
	fd_json_uint(j, c->changed);
	fd_json_object_end(j);
}

static void delay_json(struct fd_json *j, const struct fd_compare_delay *d)
{
	fd_json_object_begin(j);
	fd_json_key(j, "measured");
	fd_json_uint(j, d->measured);
	fd_json_key(j, "p50_ns");
	fd_json_int(j, d->p50);
	fd_json_key(j, "p99_ns");
	fd_json_int(j, d->p99);
	fd_json_key(j, "max_ns");
	fd_json_int(j, d->max);
	fd_json_object_end(j);
}

/* What the delays are measured from, as --json and the text name it. */
static const char *delay_basis(const struct fd_compare_result *r)
{
	if (r->delay_from_capture && r->delay_from_time)
		return "mixed";
	if (r->delay_from_capture)
		return "sent_capture";
	if (r->delay_from_time)
		return "record_time";
	return NULL;
}

static int print_json(const char *sent, const char *received, const struct fd_compare_result *r)
{
	struct fd_json j;
	fd_json_init(&j, stdout, true);
	fd_json_object_begin(&j);
	fd_json_key(&j, "sent");
	fd_json_string(&j, sent);
	fd_json_key(&j, "received");
	fd_json_string(&j, received);
	fd_json_key(&j, "clean");
	fd_json_bool(&j, fd_compare_clean(r));
	fd_json_key(&j, "signals");
	fd_json_object_begin(&j);
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		fd_json_key(&j, fd_signal_name((enum fd_signal)s));
		counts_json(&j, &r->total[s]);
	}
	fd_json_object_end(&j);
	fd_json_key(&j, "delay_basis");
	if (delay_basis(r))
		fd_json_string(&j, delay_basis(r));
	else
		fd_json_null(&j);
	fd_json_key(&j, "delay");
	fd_json_object_begin(&j);
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		fd_json_key(&j, fd_signal_name((enum fd_signal)s));
		delay_json(&j, &r->delay[s]);
	}
	fd_json_object_end(&j);
	fd_json_key(&j, "services");
	fd_json_object_begin(&j);
	for (size_t i = 0; i < r->n_services; i++) {
		fd_json_key(&j, r->services[i].name);
		fd_json_object_begin(&j);
		for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
			fd_json_key(&j, fd_signal_name((enum fd_signal)s));
			counts_json(&j, &r->services[i].by_signal[s]);
		}
		fd_json_key(&j, "delay");
		fd_json_object_begin(&j);
		for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
			fd_json_key(&j, fd_signal_name((enum fd_signal)s));
			delay_json(&j, &r->services[i].delay[s]);
		}
		fd_json_object_end(&j);
		fd_json_object_end(&j);
	}
	fd_json_object_end(&j);
	fd_json_key(&j, "fields");
	fd_json_array_begin(&j);
	for (size_t i = 0; i < r->n_fields; i++) {
		const struct fd_compare_field *f = &r->fields[i];
		fd_json_object_begin(&j);
		fd_json_key(&j, "signal");
		fd_json_string(&j, fd_signal_name(f->signal));
		fd_json_key(&j, "field");
		fd_json_string(&j, f->key);
		fd_json_key(&j, "dropped");
		fd_json_uint(&j, f->dropped);
		fd_json_key(&j, "rewritten");
		fd_json_uint(&j, f->rewritten);
		fd_json_key(&j, "added");
		fd_json_uint(&j, f->added);
		fd_json_object_end(&j);
	}
	fd_json_array_end(&j);
	fd_json_object_end(&j);
	fd_json_flush(&j);
	fputc('\n', stdout);
	return j.error ? -1 : 0;
}

/* A delay to the microsecond: "850us", "12.345ms", "1.500s"; from a
 * minute on in days to milliseconds ("324d1h2m3s4ms": an old record's age). */
static char *format_delay(char *buf, size_t n, int64_t ns)
{
	double a = ns < 0 ? -(double)ns : (double)ns;
	if (a >= 60e9)
		fd_format_duration(buf, n, ns);
	else if (a < 1e6)
		snprintf(buf, n, "%.0fus", (double)ns / 1e3);
	else if (a < 1e9)
		snprintf(buf, n, "%.3fms", (double)ns / 1e6);
	else
		snprintf(buf, n, "%.3fs", (double)ns / 1e9);
	return buf;
}

static void print_delays(const struct fd_compare_result *r)
{
	const char *basis = delay_basis(r);
	if (!basis)
		return;
	printf("\ndelay: received capture time minus %s\n",
	       !strcmp(basis, "sent_capture") ? "sent capture time (both ends recorded)"
	       : !strcmp(basis, "record_time")
		       ? "the record's own time (the sent recording has no capture times)"
		       : "sent capture time where the sent record has one, else the record's own time");
	printf("%-9s %11s %12s %12s %12s\n", "signal", "measured", "p50", "p99", "max");
	char a[32], b[32], c[32];
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		const struct fd_compare_delay *d = &r->delay[s];
		if (!d->measured)
			continue;
		printf("%-9s %11" PRIu64 " %12s %12s %12s\n", fd_signal_name((enum fd_signal)s),
		       d->measured, format_delay(a, sizeof(a), d->p50), format_delay(b, sizeof(b), d->p99),
		       format_delay(c, sizeof(c), d->max));
	}
	printf("by service:\n");
	for (size_t i = 0; i < r->n_services; i++)
		for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
			const struct fd_compare_delay *d = &r->services[i].delay[s];
			if (!d->measured)
				continue;
			printf("  %-24s %-8s p50 %s, p99 %s, max %s (%" PRIu64 " measured)\n",
			       r->services[i].name[0] ? r->services[i].name : "(none)",
			       fd_signal_name((enum fd_signal)s), format_delay(a, sizeof(a), d->p50),
			       format_delay(b, sizeof(b), d->p99), format_delay(c, sizeof(c), d->max),
			       d->measured);
		}
}

static bool counts_dirty(const struct fd_compare_counts *c)
{
	return c->lost || c->duplicated || c->unexpected || c->changed || c->reordered;
}

static void print_text(const char *sent, const char *received, const struct fd_compare_result *r)
{
	printf("sent:     %s\nreceived: %s\n\n", sent, received);
	printf("%-9s %11s %11s %11s %9s %10s %10s %9s %9s\n", "signal", "sent", "received", "matched",
	       "lost", "duplicated", "unexpected", "reordered", "changed");
	struct fd_compare_counts all = {0};
	for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
		const struct fd_compare_counts *c = &r->total[s];
		printf("%-9s %11" PRIu64 " %11" PRIu64 " %11" PRIu64 " %9" PRIu64 " %10" PRIu64
		       " %10" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
		       fd_signal_name((enum fd_signal)s), c->sent, c->received, c->matched, c->lost,
		       c->duplicated, c->unexpected, c->reordered, c->changed);
		all.lost += c->lost;
		all.duplicated += c->duplicated;
		all.unexpected += c->unexpected;
		all.reordered += c->reordered;
		all.changed += c->changed;
	}
	bool header = false;
	for (size_t i = 0; i < r->n_services; i++) {
		for (int s = 0; s < FD_SIGNAL_COUNT; s++) {
			const struct fd_compare_counts *c = &r->services[i].by_signal[s];
			if (!counts_dirty(c))
				continue;
			if (!header) {
				printf("\nby service:\n");
				header = true;
			}
			printf("  %-24s %-8s", r->services[i].name[0] ? r->services[i].name : "(none)",
			       fd_signal_name((enum fd_signal)s));
			const char *sep = " ";
			const struct {
				const char *what;
				uint64_t n;
			} parts[] = {{"lost", c->lost},           {"duplicated", c->duplicated},
				     {"unexpected", c->unexpected}, {"reordered", c->reordered},
				     {"changed", c->changed}};
			for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++)
				if (parts[p].n) {
					printf("%s%" PRIu64 " %s", sep, parts[p].n, parts[p].what);
					sep = ", ";
				}
			printf(" (of %" PRIu64 " sent)\n", c->sent);
		}
	}
	if (r->n_fields) {
		printf("\nfields changed on matched records:\n");
		for (size_t i = 0; i < r->n_fields && i < TOP_FIELDS; i++) {
			const struct fd_compare_field *f = &r->fields[i];
			printf("  %-8s %-40s", fd_signal_name(f->signal), f->key);
			const char *sep = " ";
			if (f->dropped)
				printf("%sdropped %" PRIu64, sep, f->dropped), sep = ", ";
			if (f->rewritten)
				printf("%srewritten %" PRIu64, sep, f->rewritten), sep = ", ";
			if (f->added)
				printf("%sadded %" PRIu64, sep, f->added);
			putchar('\n');
		}
		if (r->n_fields > TOP_FIELDS)
			printf("  ... %zu more (--json lists every field)\n", r->n_fields - TOP_FIELDS);
	}
	print_delays(r);
	if (fd_compare_clean(r))
		printf("\nverdict: every record arrived once, unchanged%s\n",
		       all.reordered ? " (some out of order)" : "");
	else
		printf("\nverdict: %" PRIu64 " lost, %" PRIu64 " duplicated, %" PRIu64
		       " unexpected, %" PRIu64 " changed, %" PRIu64 " reordered\n",
		       all.lost, all.duplicated, all.unexpected, all.changed, all.reordered);
}

int cmd_compare(const struct verb *v, int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option options[] = {
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case 'h': fputs(v->usage, stdout); return 0;
		default: return cli_usage_error(v, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cli_usage_error(v, "expected SENT.fdr and RECEIVED.fdr");
	const char *sent_path = argv[optind], *received_path = argv[optind + 1];
	struct fd_error err = {0};
	struct fd_recording_reader *sent = NULL, *received = NULL;
	struct fd_compare_result res = {0};
	int status;
	if (fd_recording_reader_open(sent_path, &sent, &err) < 0 ||
	    fd_recording_reader_open(received_path, &received, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	if (fd_compare_run(sent, received, &res, &err) < 0) {
		status = cli_fail(&err);
		goto out;
	}
	const struct fd_recording_reader *rd[2] = {sent, received};
	const char *names[2] = {sent_path, received_path};
	for (int i = 0; i < 2; i++) {
		const struct fd_recording_stats *st = fd_recording_reader_stats(rd[i]);
		if (st->cut_short)
			fprintf(stderr,
				"firedrill: warning: %s is cut short at byte %" PRIu64
				" (%s): compared what it holds\n",
				names[i], st->cut_offset, st->cut_reason);
	}
	if (json) {
		if (print_json(sent_path, received_path, &res) < 0) {
			status = EXIT_RUNTIME;
			goto out;
		}
	} else {
		print_text(sent_path, received_path, &res);
	}
	status = fd_compare_clean(&res) ? 0 : EXIT_RUNTIME;
out:
	fd_compare_result_finish(&res);
	fd_recording_reader_destroy(received);
	fd_recording_reader_destroy(sent);
	return status;
}
