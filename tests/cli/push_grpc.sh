#!/bin/sh
# otlp-grpc:// against an independent peer: Google's gRPC for Python
# (tests/grpc/otlp_server.py, Debian's python3-grpcio). A replay arrives
# whole (the server's files, read back with record --from dir:, hold the
# same records as the recording), with gzip or not; as the OTLP
# specification says, UNAVAILABLE (with and without RetryInfo),
# RESOURCE_EXHAUSTED with RetryInfo, CANCELLED, DEADLINE_EXCEEDED, ABORTED,
# OUT_OF_RANGE and DATA_LOSS are retried without loss or duplicates, and
# the summary counts the retries; RESOURCE_EXHAUSTED without RetryInfo and
# INVALID_ARGUMENT are final (counted, exit 1); a partial success is
# counted (exit 1); UNAUTHENTICATED stops.
# Needs FIREDRILL and RECSET_CMP; skips without /usr/bin/python3's grpc.
set -u
fail=0
t=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$t"' EXIT
py=/usr/bin/python3
if ! $py -c 'import grpc' 2>/dev/null; then
	echo "SKIP: python3-grpcio is not installed (scripts/install-deps installs it)"
	exit 77
fi
check() {
	if [ "$got" != "$want" ]; then
		echo "FAIL: $1 (status $got, want $want)"; fail=1
	else
		echo "ok: $1"
	fi
}
fd=$FIREDRILL
here=$(dirname "$0")

"$fd" generate latency-after-release --duration 1m -o "$t/a.fdr" -q || exit 1

# server ANSWER...: starts the peer with a fresh output directory $t/out
server() {
	[ -n "$srv" ] && { kill $srv 2>/dev/null; wait $srv 2>/dev/null; }
	rm -rf "$t/out" "$t/port"; mkdir "$t/out"
	$py "$here/../grpc/otlp_server.py" "$t/port" "$t/out" "$@" 2>"$t/server.err" &
	srv=$!
	i=0
	until [ -s "$t/port" ] || [ $i -gt 100 ]; do sleep 0.1; i=$((i + 1)); done
	port=$(cat "$t/port")
}

# same NAME: what the server kept is the whole recording
same() {
	"$fd" record --from "dir:$t/out" -o "$t/r.fdr" -q 2>"$t/rec.err"; got=$? want=0
	check "$1: the server's files read back"
	"$RECSET_CMP" "$t/a.fdr" "$t/r.fdr" >"$t/cmp"; got=$? want=0
	check "$1: the same records ($(cat "$t/cmp"))"
}

for comp in none gzip; do
	server
	"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?compression=$comp&batch_records=500" \
		--speed max --rebase none 2>"$t/out.err"; got=$? want=0
	check "replay to otlp-grpc ($comp)"
	same "compression=$comp"
done

server unavailable exhausted-retry unavailable
"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?retry_initial=10ms&concurrency=1" \
	--speed max --rebase none 2>"$t/out.err"; got=$? want=0
check "UNAVAILABLE and RESOURCE_EXHAUSTED with RetryInfo are retried"
grep -q "3 retries" "$t/out.err" || { echo "FAIL: retries: $(cat "$t/out.err")"; fail=1; }
same "after retries"

server unavailable-retry cancelled deadline aborted out-of-range data-loss
"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?retry_initial=10ms&concurrency=1" \
	--speed max --rebase none 2>"$t/out.err"; got=$? want=0
check "every code the specification retries is retried"
grep -q "0 failed, 6 retries" "$t/out.err" || { echo "FAIL: retries: $(cat "$t/out.err")"; fail=1; }
same "after the specification's retryable codes"

server invalid
"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?concurrency=1" \
	--speed max --rebase none --signals traces 2>"$t/out.err"; got=$? want=1
check "INVALID_ARGUMENT is final"
grep -q "records failed in 1 requests (first: .*gRPC INVALID_ARGUMENT: scripted: invalid)" "$t/out.err" &&
	grep -q ", 0 retries" "$t/out.err" || { echo "FAIL: invalid message: $(cat "$t/out.err")"; fail=1; }

server exhausted
"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?concurrency=1" \
	--speed max --rebase none --signals traces 2>"$t/out.err"; got=$? want=1
check "RESOURCE_EXHAUSTED without RetryInfo is final"
grep -q "[0-9]* records failed in 1 requests (first: http://127.0.0.1:$port/opentelemetry.proto.collector.trace.v1.TraceService/Export: gRPC RESOURCE_EXHAUSTED: scripted: no retry info)" "$t/out.err" ||
	{ echo "FAIL: exhausted message: $(cat "$t/out.err")"; fail=1; }

server partial:7
"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?concurrency=1" \
	--speed max --rebase none --signals logs 2>"$t/out.err"; got=$? want=1
check "a partial success exits 1"
grep -q "rejected by the receiver (partial success): 0 spans, 0 data points, 7 log records (first: 7 log records: scripted rejection)" "$t/out.err" ||
	{ echo "FAIL: partial message: $(cat "$t/out.err")"; fail=1; }

server unauthenticated unauthenticated unauthenticated unauthenticated
"$fd" replay "$t/a.fdr" --to "otlp-grpc://127.0.0.1:$port?concurrency=1&batch_records=10&header=authorization:Bearer%20t0ken" \
	--speed max --rebase none 2>"$t/out.err"; got=$? want=1
check "UNAUTHENTICATED stops the replay"
grep -q "gRPC UNAUTHENTICATED: scripted: who are you (stopped" "$t/out.err" &&
	! grep -q t0ken "$t/out.err" || { echo "FAIL: unauthenticated message: $(cat "$t/out.err")"; fail=1; }
exit $fail
