#!/bin/sh
# End to end through the binary and the real protocol: replay a generated
# recording into `record --from otlp-http://` (protobuf and JSON, gzip or
# not) and get the same set of records back (recset-cmp: byte for byte
# through protobuf, canonically through JSON); the receiver's answers to
# bad requests (curl): 400 for a malformed body (counted and reported by
# record), 404, 405, 415; inspect names the source; SIGINT ends the retries.
# Needs FIREDRILL and RECSET_CMP in the environment.
set -u
fail=0
t=$(mktemp -d)
bg=
trap '[ -n "$bg" ] && kill $bg 2>/dev/null; rm -rf "$t"' EXIT
check() { # description; the command's status $got must be $want
	if [ "$got" != "$want" ]; then
		echo "FAIL: $1 (status $got, want $want)"; fail=1
	else
		echo "ok: $1"
	fi
}
fd=$FIREDRILL

"$fd" generate latency-after-release --duration 2m -o "$t/a.fdr" -q || exit 1
total=$("$fd" inspect --json "$t/a.fdr" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"]["total"])')

# Starts `record --from otlp-http://127.0.0.1:0` with the extra options
# given; sets $port and $bg once it listens.
start_receiver() {
	out=$1; shift
	"$fd" record --from otlp-http://127.0.0.1:0 -o "$out" --duration 300s "$@" 2>"$t/rec.err" &
	bg=$!
	port=
	for i in $(seq 1 200); do
		port=$(sed -n 's|.*receiving OTLP/HTTP on http://127.0.0.1:\([0-9]*\).*|\1|p' "$t/rec.err")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { echo "FAIL: the receiver did not start: $(cat "$t/rec.err")"; fail=1; }
}

for enc in proto json; do
	for comp in gzip none; do
		start_receiver "$t/r-$enc-$comp.fdr" --max-records "$total"
		[ -n "$port" ] || continue
		"$fd" replay "$t/a.fdr" --to "otlp-http://127.0.0.1:$port?encoding=$enc&compression=$comp" \
			--speed max --rebase none -q; got=$? want=0
		check "replay to otlp-http ($enc, $comp)"
		wait $bg; got=$? want=0; bg=
		check "record --from otlp-http until --max-records ($enc, $comp)"
		opt=; [ $enc = json ] && opt=--canonical
		"$RECSET_CMP" "$t/a.fdr" "$t/r-$enc-$comp.fdr" $opt >"$t/out"; got=$? want=0
		check "OTLP/HTTP round trip: the same records ($enc, $comp: $(cat "$t/out"))"
	done
done

"$fd" inspect "$t/r-proto-gzip.fdr" >"$t/out"; got=$? want=0
check "inspect a recording captured over OTLP/HTTP"
grep -q "^source       otlp-http" "$t/out" || { echo "FAIL: inspect: $(cat "$t/out")"; fail=1; }

# Answers to bad requests; a malformed body is reported and counted.
start_receiver "$t/bad.fdr" --until-idle 5s
if [ -n "$port" ]; then
	u=http://127.0.0.1:$port
	code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
	got=$(code -X POST --data-binary 'junk' -H 'Content-Type: application/x-protobuf' "$u/v1/traces") want=400
	check "a malformed request is answered 400"
	got=$(code "$u/v1/traces") want=405
	check "GET is answered 405"
	got=$(code -X POST --data-binary '{}' -H 'Content-Type: application/json' "$u/v2/traces") want=404
	check "an unknown path is answered 404"
	got=$(code -X POST --data-binary '{}' -H 'Content-Type: text/plain' "$u/v1/logs") want=415
	check "an unknown Content-Type is answered 415"
	got=$(code -X POST --data-binary '{}' -H 'Content-Type: application/json' "$u/v1/logs") want=200
	check "an empty JSON request is answered 200"
	wait $bg; got=$? want=0; bg=
	check "record until idle"
	grep -q "malformed message skipped: request 1 (POST /v1/traces from 127.0.0.1:" "$t/rec.err" &&
		grep -q "malformed messages skipped: 1" "$t/rec.err" ||
		{ echo "FAIL: malformed report: $(cat "$t/rec.err")"; fail=1; }
fi

"$fd" record --from otlp-http://127.0.0.1:99999 -o "$t/x.fdr" 2>/dev/null; got=$? want=2
check "a bad port exits 2"
"$fd" record --from otlp-http://127.0.0.1:0 -o "$t/x.fdr" --topics a 2>/dev/null; got=$? want=2
check "--topics with otlp-http exits 2"

# Ctrl-C ends the retries: nobody listens and the first retry is an hour
# away; SIGINT gives up the waiting requests (their records fail, exit 1)
# instead of waiting out the backoff (before: an hour, the test's timeout)
dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$fd" replay "$t/a.fdr" --to "otlp-http://127.0.0.1:$dead?retry_initial=1h&retry_max=1h&retry_elapsed=2h" \
	--speed max 2>"$t/int.err" &
pid=$!
sleep 3
kill -INT $pid
wait $pid; got=$? want=1
check "SIGINT while requests wait for a retry"
grep -q "interrupted: not retried" "$t/int.err" ||
	{ echo "FAIL: interrupted message: $(cat "$t/int.err")"; fail=1; }
exit $fail
