/*
 * drill/drill against a clock the test drives: the real-time part of a
 * drill (and of generate --duration forever) says how far it fell behind
 * the clock, and says nothing when it kept up. No wall time is read: the
 * clock is a counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "drill/drill.h"
#include "generator/builtin.h"
#include "generator/scenario.h"
#include "tests/support/testutil.h"

#define NS 1000000000LL

/* Runs latency-after-release from 10 minutes of history for 40 s of real
 * time on a clock that costs `cost` per look; returns the largest lag. */
static int64_t max_behind(int64_t cost, int64_t *now_behind)
{
	const struct fd_builtin *b = fd_builtin_find("latency-after-release");
	assert_non_null(b);
	struct fd_error err = {0};
	struct fd_scenario *sc = NULL;
	assert_int_equal(fd_scenario_parse(b->file, b->text, b->len, &sc, &err), 0);
	/* every look at the clock finds `cost` more gone: the simulation and
	 * the sinks take that long per step */
	struct tu_clock fc = {.now = 1000 * NS, .extra = cost};
	struct fd_clock clock = {tu_clock_now, tu_clock_sleep_until, &fc};
	struct fd_drill_options o = {
		.speed = 1, .history_set = true, .history_ns = 10 * 60 * NS,
		.until_ns = 10 * 60 * NS + 40 * NS, .wall_now = 1700000000LL * NS,
		.clock = &clock, .scripted = true,
	};
	struct fd_drill *d = NULL;
	assert_int_equal(fd_drill_create(sc, &o, &d, &err), 0);
	assert_int_equal(fd_drill_run(d, &err), 0);
	assert_int_equal(fd_drill_offset(d), o.until_ns);
	int64_t max = -1;
	*now_behind = fd_drill_behind(d, &max);
	fd_drill_destroy(d);
	fd_scenario_destroy(sc);
	return max;
}

static void keeps_up(void **state)
{
	(void)state;
	int64_t now = -1;
	assert_int_equal(max_behind(0, &now), 0);
	assert_int_equal(now, 0);
}

/* Every look at the clock costs 3 s where the tick is 0.1 s: the drill is
 * late by a few looks at every step and says so; it catches up in larger
 * steps, so the lag stays a few looks' worth, not growing with the run. */
static void falls_behind(void **state)
{
	(void)state;
	int64_t now = -1;
	int64_t max = max_behind(3 * NS, &now);
	print_message("behind by up to %.3f s, %.3f s at the end\n", (double)max / NS,
		      (double)now / NS);
	assert_true(max >= 3 * NS);
	assert_true(max <= 5 * 3 * NS);
	assert_true(now > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keeps_up),
		cmocka_unit_test(falls_behind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
