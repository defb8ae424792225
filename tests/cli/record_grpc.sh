#!/bin/sh
# record --from otlp-grpc:// end to end: Google's gRPC for Python
# (tests/grpc/otlp_client.py, Debian's python3-grpcio) exports a replay's
# requests, plain and gzip, over concurrent calls on one channel, and the
# recording holds the same records; firedrill's own otlp-grpc:// sink does
# the same round trip; the answers to bad calls: INVALID_ARGUMENT for a
# malformed request (counted and reported by record), UNIMPLEMENTED for
# another method, OK for an empty request.
# Needs FIREDRILL and RECSET_CMP; skips without /usr/bin/python3's grpc.
set -u
fail=0
t=$(mktemp -d)
bg=
trap '[ -n "$bg" ] && kill $bg 2>/dev/null; rm -rf "$t"' EXIT
py=/usr/bin/python3
if ! $py -c 'import grpc' 2>/dev/null; then
	echo "SKIP: python3-grpcio is not installed (scripts/install-deps installs it)"
	exit 77
fi
check() { # description; the command's status $got must be $want
	if [ "$got" != "$want" ]; then
		echo "FAIL: $1 (status $got, want $want)"; fail=1
	else
		echo "ok: $1"
	fi
}
fd=$FIREDRILL
client="$(dirname "$0")/../grpc/otlp_client.py"

"$fd" generate latency-after-release --duration 1m -o "$t/a.fdr" -q || exit 1
total=$("$fd" inspect --json "$t/a.fdr" | $py -c 'import json,sys; print(json.load(sys.stdin)["records"]["total"])')
"$fd" replay "$t/a.fdr" --to "dir:$t/in?format=otlp_proto&batch_records=200" --speed max \
	--rebase none -q || exit 1

# Starts `record --from otlp-grpc://127.0.0.1:0` with the options given;
# sets $port and $bg once it listens.
start_receiver() {
	out=$1; shift
	"$fd" record --from otlp-grpc://127.0.0.1:0 -o "$out" --duration 300s "$@" 2>"$t/rec.err" &
	bg=$!
	port=
	for i in $(seq 1 200); do
		port=$(sed -n 's|.*receiving OTLP/gRPC on 127.0.0.1:\([0-9]*\).*|\1|p' "$t/rec.err")
		[ -n "$port" ] && break
		sleep 0.1
	done
	[ -n "$port" ] || { echo "FAIL: the receiver did not start: $(cat "$t/rec.err")"; fail=1; }
}

for comp in none gzip; do
	start_receiver "$t/r-$comp.fdr" --max-records "$total"
	[ -n "$port" ] || continue
	$py "$client" "127.0.0.1:$port" send "$t/in" $comp 8 >"$t/client.out"; got=$? want=0
	check "grpcio exports to record --from otlp-grpc ($comp) $(cat "$t/client.out")"
	wait $bg; got=$? want=0; bg=
	check "record --from otlp-grpc until --max-records ($comp)"
	"$RECSET_CMP" "$t/a.fdr" "$t/r-$comp.fdr" >"$t/out"; got=$? want=0
	check "OTLP/gRPC from grpcio: the same records ($comp: $(cat "$t/out"))"
done

start_receiver "$t/r-sink.fdr" --max-records "$total"
if [ -n "$port" ]; then
	"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?concurrency=8" --speed max \
		--rebase none -q; got=$? want=0
	check "replay to otlp-grpc:// into record --from otlp-grpc://"
	wait $bg; got=$? want=0; bg=
	check "record until --max-records"
	"$RECSET_CMP" "$t/a.fdr" "$t/r-sink.fdr" >"$t/out"; got=$? want=0
	check "OTLP/gRPC round trip: the same records ($(cat "$t/out"))"
	"$fd" inspect "$t/r-sink.fdr" >"$t/out"
	grep -q "^source       otlp-grpc" "$t/out" || { echo "FAIL: inspect: $(cat "$t/out")"; fail=1; }
fi

# Answers to bad calls; a malformed request is reported and counted. Each
# call starts a Python: under load and the sanitizers that took over 5 s,
# and the receiver went idle before the last call.
start_receiver "$t/bad.fdr" --until-idle 20s
if [ -n "$port" ]; then
	call() { $py "$client" "127.0.0.1:$port" call "$@"; }
	traces=/opentelemetry.proto.collector.trace.v1.TraceService/Export
	got=$(call $traces 0a) want="INVALID_ARGUMENT malformed export request"
	[ "$got" = "$want" ] || echo "  got: $got"; [ "$got" = "$want" ]; got=$? want=0
	check "a malformed request is answered INVALID_ARGUMENT"
	got=$(call /opentelemetry.proto.collector.trace.v1.TraceService/Send "")
	case $got in UNIMPLEMENTED*) got=0 ;; *) echo "  got: $got"; got=1 ;; esac; want=0
	check "another method is answered UNIMPLEMENTED"
	got=$(call /opentelemetry.proto.collector.logs.v1.LogsService/Export "") want=OK
	[ "$got" = "$want" ] || echo "  got: $got"; [ "$got" = "$want" ]; got=$? want=0
	check "an empty request is answered OK"
	wait $bg; got=$? want=0; bg=
	check "record until idle"
	grep -q "malformed message skipped: call 1 (TraceService/Export from 127.0.0.1:" "$t/rec.err" &&
		grep -q "malformed messages skipped: 1" "$t/rec.err" ||
		{ echo "FAIL: malformed report: $(cat "$t/rec.err")"; fail=1; }
fi

"$fd" record --from otlp-grpc://127.0.0.1:99999 -o "$t/x.fdr" 2>/dev/null; got=$? want=2
check "a bad port exits 2"
"$fd" record --from otlp-grpc://127.0.0.1 -o "$t/x.fdr" 2>/dev/null; got=$? want=2
check "no port exits 2"
exit $fail
