#!/bin/sh
# End to end into Kafka through the binary, read back with kcat (an
# independent client): kafka://embedded with --linger, shards into a
# standalone mock broker (disjoint traces, union is the whole), and a broker
# that is never there (exit 1, exact undelivered count).
# Needs FIREDRILL, KAFKA_MOCK and kcat on PATH.
set -u
fail=0
t=$(mktemp -d)
pids=
trap 'for p in $pids; do kill $p 2>/dev/null; done; rm -rf "$t"' EXIT
check() {
	if [ "$got" != "$want" ]; then
		echo "FAIL: $1 (got $got, want $want)"; fail=1
	else
		echo "ok: $1"
	fi
}
fd=$FIREDRILL
if ! command -v kcat >/dev/null; then
	echo "kcat not installed: scripts/install-deps installs it"; exit 1
fi

"$fd" generate latency-after-release --duration 3m -o "$t/a.fdr" -q || exit 1
count() { # signal -> records in the recording
	"$fd" inspect --json "$t/a.fdr" | python3 -c "import json,sys; print(json.load(sys.stdin)['records']['$1'])"
}
traces=$(count traces) logs=$(count logs)

# Waits until file $1 contains $2 (the replayer runs in the background).
wait_for() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 600 ] && { echo "FAIL: waited 60 s for '$2' in $1: $(cat "$1")"; return 1; }
		sleep 0.1
	done
}

# kafka://embedded: the summary is printed before the linger, while the
# broker is still up for consumers.
"$fd" replay "$t/a.fdr" --to 'kafka://embedded?format=otlp_json&partitions=4' --speed max \
	--rebase none --linger 120s 2>"$t/emb.err" &
emb=$!
pids="$pids $emb"
if wait_for "$t/emb.err" "keeping the sinks up"; then
	addr=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\).*/\1/p' "$t/emb.err" | head -1)
	grep -q "kafka://embedded.*: [0-9]* messages, .*, 0 failed" "$t/emb.err"; got=$? want=0
	check "embedded: summary before the linger, nothing failed"
	# every span has one startTimeUnixNano; every log record one observedTimeUnixNano
	got=$(kcat -C -b "$addr" -t otlp_spans -e -q | grep -o '"startTimeUnixNano"' | wc -l) want=$traces
	check "embedded: kcat reads every span"
	got=$(kcat -C -b "$addr" -t otlp_logs -e -q | grep -o '"observedTimeUnixNano"' | wc -l) want=$logs
	check "embedded: kcat reads every log record"
	got=$(kcat -C -b "$addr" -t otlp_metrics -e -q | grep -c '^{"resourceMetrics":') want=$(kcat -C -b "$addr" -t otlp_metrics -e -q -f 'x\n' | wc -l)
	check "embedded: every metrics message is one OTLP JSON export request"
	[ "$want" -gt 0 ] || { echo "FAIL: no metrics messages"; fail=1; }
	kill -INT $emb
	wait $emb; got=$? want=0
	check "embedded: interrupting the linger ends the run, exit 0"
	grep -q "linger interrupted" "$t/emb.err" || { echo "FAIL: no 'linger interrupted': $(cat "$t/emb.err")"; fail=1; }
else
	fail=1
fi

# Shards into one broker, each shard to topics of its own: every span key
# (trace id, partition=trace_id) is in exactly one shard, and together the
# shards carry every record exactly once. zstd keeps each keyed partition
# under the mock's 5 MiB retention.
"$KAFKA_MOCK" 1 6 >"$t/mock.out" 2>"$t/mock.err" &
mock=$!
pids="$pids $mock"
wait_for "$t/mock.out" ":" || fail=1
broker=$(head -1 "$t/mock.out")
for i in 0 1 2; do
	"$fd" replay "$t/a.fdr" --speed max --shard $i/3 -q \
		--to "kafka://$broker?format=otlp_json&compression=zstd&partition=trace_id,resource&topic_traces=s$i&topic_metrics=m$i&topic_logs=l$i" \
		2>"$t/shard.err"
	got=$? want=0
	check "shard $i/3 into the broker"
	kcat -C -b "$broker" -t s$i -e -q -f '%k\n' | sort -u >"$t/keys$i"
	kcat -C -b "$broker" -t s$i -e -q | grep -o '"startTimeUnixNano"' | wc -l >"$t/spans$i"
	kcat -C -b "$broker" -t l$i -e -q -f '%k\n' | sort -u >"$t/lkeys$i"
	kcat -C -b "$broker" -t l$i -e -q | grep -o '"observedTimeUnixNano"' | wc -l >"$t/logs$i"
	kcat -C -b "$broker" -t m$i -e -q | grep -o '"name"' | wc -l >"$t/names$i"
done
got=$(cat "$t/keys0" "$t/keys1" "$t/keys2" | sort | uniq -d | wc -l) want=0
check "shards: no trace id in two shards"
got=$(cat "$t/keys0" "$t/keys1" "$t/keys2" | grep -c '^[0-9a-f]\{32\}$') want=$(cat "$t/keys0" "$t/keys1" "$t/keys2" | wc -l)
check "shards: span keys are 32-digit lowercase hex trace ids"
[ "$want" -gt 100 ] || { echo "FAIL: only $want trace ids"; fail=1; }
got=$(($(cat "$t/spans0") + $(cat "$t/spans1") + $(cat "$t/spans2"))) want=$traces
check "shards: spans add up to the recording's"
got=$(cat "$t/lkeys0" "$t/lkeys1" "$t/lkeys2" | sort | uniq -d | wc -l) want=0
check "shards: no resource's logs in two shards"
got=$(($(cat "$t/logs0") + $(cat "$t/logs1") + $(cat "$t/logs2"))) want=$logs
check "shards: log records add up to the recording's"
for i in 0 1 2; do
	[ "$(cat "$t/names$i")" -gt 0 ] || { echo "FAIL: shard $i has no metrics"; fail=1; }
done
kill -TERM $mock
wait $mock; got=$? want=0
check "the mock broker shuts down cleanly"

# A broker that is never there: every record is accounted for as undelivered.
"$fd" replay "$t/a.fdr" --speed max -q --signals logs --to kafka://127.0.0.1:1 \
	--delivery-timeout 2s 2>"$t/gone.err"; got=$? want=1
check "broker never there: exit 1"
grep -q "$logs records in [0-9]* messages not delivered" "$t/gone.err" || {
	echo "FAIL: undelivered count (want $logs records): $(cat "$t/gone.err")"; fail=1; }
exit $fail
