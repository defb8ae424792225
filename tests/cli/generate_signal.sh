#!/bin/sh
# generate stopped by SIGINT or SIGTERM (issue 20 item 6): it stops like
# replay: what was simulated up to the signal is finished and written (a
# valid recording, the dir: files under their names), the summary says
# where it stopped, exit 130, and no temporary file is left. It used to die
# of the signal with no output but g.fdr.tmp-* and out/*.tmp-*.
# Needs FIREDRILL.
set -u
fail=0
t=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$t"' EXIT
fd=$FIREDRILL

# Waits (at most 60 s; a guard against hanging, not a measure) until the
# command succeeds.
wait_until() {
	i=0
	until eval "$1"; do
		[ $i -ge 600 ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

for sig in INT TERM; do
	rm -rf "$t/out" "$t"/g.fdr*
	# 30 days of simulated time: minutes of work, so the signal comes
	# in the middle
	"$fd" generate latency-after-release --duration 30d -o "$t/g.fdr" --to "dir:$t/out" \
		2>"$t/err" &
	pid=$!
	# a few blocks written: the simulation is under way
	if ! wait_until '[ "$(cat "$t"/g.fdr.tmp-* 2>/dev/null | wc -c)" -gt 200000 ]'; then
		echo "FAIL: SIG$sig: generate wrote nothing within 60 s: $(cat "$t/err")"
		fail=1
		continue
	fi
	kill -$sig $pid
	wait_until '! kill -0 $pid 2>/dev/null' || { echo "FAIL: SIG$sig did not stop generate"; fail=1; continue; }
	wait $pid
	got=$?
	pid=
	[ $got = 130 ] && echo "ok: SIG$sig: exit 130" || { echo "FAIL: SIG$sig: exit $got: $(cat "$t/err")"; fail=1; }
	grep -q "^generated latency-after-release .*; stopped by a signal at [0-9]" "$t/err" &&
		echo "ok: SIG$sig: the summary says where it stopped" ||
		{ echo "FAIL: SIG$sig: summary: $(cat "$t/err")"; fail=1; }
	left=$(find "$t" -name '*.tmp-*' | wc -l)
	[ "$left" = 0 ] && echo "ok: SIG$sig: no temporary file left" ||
		{ echo "FAIL: SIG$sig: temporary files left: $(find "$t" -name '*.tmp-*')"; fail=1; }
	if "$fd" inspect --verify "$t/g.fdr" >"$t/inspect" 2>"$t/ierr"; then
		grep -q "cut short" "$t/ierr" && { echo "FAIL: SIG$sig: the recording is cut short: $(cat "$t/ierr")"; fail=1; }
		n=$(sed -n 's/^generated .*: \([0-9]*\) records .*/\1/p' "$t/err")
		grep -q "^records *$n (" "$t/inspect" && echo "ok: SIG$sig: a valid recording of the $n records" ||
			{ echo "FAIL: SIG$sig: the recording does not hold the $n records: $(head -20 "$t/inspect")"; fail=1; }
	else
		echo "FAIL: SIG$sig: inspect --verify: $(cat "$t/ierr")"
		fail=1
	fi
	for f in traces.jsonl metrics.jsonl logs.jsonl; do
		[ -s "$t/out/$f" ] || { echo "FAIL: SIG$sig: no $t/out/$f"; fail=1; }
	done
done
exit $fail
