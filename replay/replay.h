/*
 * Replay: a recording through the pipeline into sinks.
 *
 *   reader (seek --from) -> filter (signals, service, shard i/n)
 *     -> rebase (shift every timestamp) -> pace (against a clock) -> sinks
 *
 * The reader runs on a thread of its own, a few chunks of records ahead
 * (replay/readahead.h): reading and decompressing overlap the sinks' work.
 *
 * Sharding is deterministic — traces by trace id, metrics and logs by
 * resource — so N replayers with --shard 0/N .. N-1/N together send every
 * record exactly once.
 */
#ifndef FD_REPLAY_H
#define FD_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "replay/pace.h"
#include "replay/scale.h"
#include "recording/reader.h"
#include "sinks/sink.h"

enum fd_rebase_mode {
	FD_REBASE_START_NOW, /* the first replayed record is stamped now */
	FD_REBASE_END_NOW,   /* the last replayed record is stamped now */
	FD_REBASE_AT,        /* the first replayed record is stamped rebase_at */
	FD_REBASE_NONE,
};

struct fd_replay_options {
	double speed; /* 1 = realtime, 10 = 10x, 0 = max */
	struct fd_rate rate; /* rate.rate > 0: pace by records/s instead of speed */
	enum fd_rebase_mode rebase;
	int64_t rebase_at;     /* FD_REBASE_AT: unix ns */
	int64_t wall_now;      /* unix ns "now" for START_NOW/END_NOW; 0 = the real clock */
	bool has_from, has_until;
	int64_t from, until;   /* recording time, unix ns: [from, until) */
	unsigned loops;        /* 0 or 1 = once */
	unsigned signals;      /* bit per enum fd_signal; 0 = all */
	const char *service;   /* only this service.name; NULL = all */
	unsigned shard, shards; /* shards 0 or 1 = no sharding */
	const struct fd_clock *clock; /* NULL = fd_clock_monotonic */
	/* Send every record as copies of the system, with churn (scale.h);
	 * NULL = as it is. --rate counts the copies. */
	const struct fd_scale_options *scale;
	volatile sig_atomic_t *stop;    /* set (e.g. by SIGINT) to stop reading */
	/* Called about twice a second when set: position and lateness. */
	void (*progress)(void *ctx, const struct fd_pacer *p, int64_t record_time,
			 uint64_t records, uint64_t bytes);
	void *progress_ctx;
};

struct fd_replay_stats {
	uint64_t records[FD_SIGNAL_COUNT];
	uint64_t bytes[FD_SIGNAL_COUNT];
	uint64_t filtered;      /* read but not sent (signals, service, shard) */
	int64_t first_time, last_time; /* recording times of the window replayed */
	int64_t shift;          /* rebase of the first loop, ns */
	int64_t length;         /* shift between loops, ns */
	bool stopped;           /* stopped by *stop */
	bool read_error;        /* the run failed on the recording (a corrupt block):
				 * the records before it went to the sinks */
	struct fd_pacer pacer;  /* lateness */
};

/* The shard a record belongs to, of n (traces by trace id, others by
 * resource bytes). */
unsigned fd_replay_shard_of(const struct fd_record *rec, unsigned n);

/* Runs the replay. The sinks are written and flushed but not closed (the
 * caller closes them, so it can report delivery per sink). Errors: the
 * reader's (FD_EINPUT for a corrupt recording; st->read_error is then set,
 * and closing the sinks keeps what came before), a sink's. */
int fd_replay_run(struct fd_recording_reader *r, struct fd_sink **sinks, size_t n_sinks,
		  const struct fd_replay_options *o, struct fd_replay_stats *st,
		  struct fd_error *err);

#endif
