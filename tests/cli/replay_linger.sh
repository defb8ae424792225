#!/bin/sh
# replay --linger with a scrape: sink: the summary comes first (its
# records/s counts the replay, not the wait), the endpoint still serves the
# last values during the linger, and SIGINT ends the linger (exit 0: the
# replay itself was complete). The sink once slept out the whole linger
# inside close, restarting its sleep on every signal.
# Needs FIREDRILL.
set -u
fail=0
t=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$t"' EXIT
fd=$FIREDRILL

# Waits (at most 60 s; a guard against hanging, not a measure) until file
# holds the pattern.
wait_for() {
	i=0
	until grep -q "$2" "$1"; do
		[ $i -ge 600 ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

"$fd" generate latency-after-release --duration 2m -o "$t/a.fdr" -q || { echo "FAIL: generate"; exit 1; }
"$fd" replay "$t/a.fdr" --to scrape:127.0.0.1:0 --speed max --rebase none --linger 1h 2>"$t/err" &
pid=$!
if wait_for "$t/err" "keeping the sinks up"; then
	echo "ok: the linger starts"
	grep -q "^replayed [0-9]* records" "$t/err" && echo "ok: the summary is printed before the linger" ||
		{ echo "FAIL: no summary before the linger: $(cat "$t/err")"; fail=1; }
	port=$(sed -n 's|.*serving /metrics on http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$t/err")
	python3 - "$port" >"$t/page" <<'PY'
import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=30).read().decode())
PY
	grep -q '^http_server_request_duration_seconds_bucket{' "$t/page" &&
		echo "ok: the endpoint serves during the linger" ||
		{ echo "FAIL: the page during the linger: $(head -c 500 "$t/page")"; fail=1; }
	kill -INT $pid
	i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 $pid 2>/dev/null; then
		echo "FAIL: SIGINT did not end the linger"; fail=1
	else
		wait $pid; got=$?
		pid=
		[ $got = 0 ] && echo "ok: SIGINT ends the linger, exit 0" ||
			{ echo "FAIL: exit $got after SIGINT: $(cat "$t/err")"; fail=1; }
		grep -q "linger interrupted" "$t/err" || { echo "FAIL: no 'linger interrupted'"; fail=1; }
	fi
else
	echo "FAIL: no linger within 60 s: $(cat "$t/err")"; fail=1
fi
exit $fail
