#!/bin/sh
# End to end through the binary: record from dir: (OTLP JSON lines and
# length-delimited protobuf) what replay wrote of a generated recording: the
# same set of records back (recset-cmp: byte for byte through protobuf,
# canonically through JSON); malformed lines reported with file:line and
# counted; inspect shows the source (text and --json); usage errors exit 2;
# a full disk (RLIMIT_FSIZE) exits 1 and leaves no output; SIGINT while
# recording from Kafka (kafka://embedded of a lingering replay) exits 130
# with a valid recording, and a Kafka round trip gives the same records.
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

for fmt in otlp_json otlp_proto; do
	"$fd" replay "$t/a.fdr" --to "dir:$t/$fmt?format=$fmt" --speed max --rebase none -q || fail=1
	"$fd" record --from "dir:$t/$fmt" -o "$t/$fmt.fdr" 2>"$t/err"; got=$? want=0
	check "record --from dir: ($fmt)"
	grep -q "malformed messages skipped: 0" "$t/err" || { echo "FAIL: summary: $(cat "$t/err")"; fail=1; }
	opt=; [ $fmt = otlp_json ] && opt=--canonical
	"$RECSET_CMP" "$t/a.fdr" "$t/$fmt.fdr" $opt >"$t/out"; got=$? want=0
	check "the same records back ($fmt: $(cat "$t/out"))"
done

# inspect shows where a captured recording came from
"$fd" inspect "$t/otlp_json.fdr" >"$t/out"; got=$? want=0
check "inspect a captured recording"
grep -q "^source       file" "$t/out" && grep -q "^from         dir:$t/otlp_json" "$t/out" &&
	grep -q "traces.jsonl (otlp_json, [0-9]* messages, 0 malformed)" "$t/out" ||
	{ echo "FAIL: inspect text: $(cat "$t/out")"; fail=1; }
"$fd" inspect --json "$t/otlp_json.fdr" | python3 -c '
import json, sys
c = json.load(sys.stdin)["capture"]
assert c["uri"].startswith("dir:"), c
assert len(c["files"]) == 3 and c["malformed"] == 0, c
assert sum(f["messages"] for f in c["files"]) == c["messages"], c
' && echo "ok: inspect --json capture" || { echo "FAIL: inspect --json capture"; fail=1; }

# malformed lines are reported with file:line and counted; capture goes on
cp -r "$t/otlp_json" "$t/bad"
printf 'not json\n{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"xyz"}]}]}]}\n' >>"$t/bad/traces.jsonl"
lines=$(wc -l <"$t/bad/traces.jsonl")
"$fd" record --from "dir:$t/bad" -o "$t/bad.fdr" 2>"$t/err"; got=$? want=0
check "malformed lines do not stop a capture"
grep -q "traces.jsonl:$lines: resourceSpans\[0\].scopeSpans\[0\].spans\[0\].spanId" "$t/err" &&
	grep -q "malformed messages skipped: 2" "$t/err" || { echo "FAIL: malformed report: $(cat "$t/err")"; fail=1; }

# usage errors
"$fd" record -o "$t/x.fdr" 2>/dev/null; got=$? want=2
check "record without --from exits 2"
"$fd" record --from "dir:$t/otlp_json" 2>/dev/null; got=$? want=2
check "record without -o exits 2"
"$fd" record --from "dir:$t/otlp_json" -o "$t/x.fdr" --reorder-window fast 2>/dev/null; got=$? want=2
check "bad --reorder-window exits 2"
"$fd" record --from "dir:$t/otlp_json" -o "$t/x.fdr" --topics a 2>/dev/null; got=$? want=2
check "--topics with a file source exits 2"
"$fd" record --from "bogus:$t" -o "$t/x.fdr" 2>/dev/null; got=$? want=2
check "unknown source scheme exits 2"
"$fd" record --from "dir:$t/nothing-here" -o "$t/x.fdr" 2>/dev/null; got=$? want=2
check "missing directory exits 2"
"$fd" record --from "kafka://127.0.0.1:9" -o "$t/x.fdr" --topics spans_x 2>"$t/err"; got=$? want=2
check "--topics with a topic of unknown signal exits 2"
grep -q "traces=spans_x" "$t/err" || { echo "FAIL: --topics hint: $(cat "$t/err")"; fail=1; }
[ -e "$t/x.fdr" ] && { echo "FAIL: output after a usage error"; fail=1; }

# A full disk (RLIMIT_FSIZE, SIGXFSZ ignored so writes fail with EFBIG):
# a clear error, exit 1, and nothing left under the requested name.
mkdir "$t/full"
(cd "$t/full" && trap '' XFSZ && ulimit -f 1000 && "$fd" record --from "dir:$t/otlp_proto" -o big.fdr -q 2>"$t/err"); got=$? want=1
check "record onto a full disk exits 1"
grep -q "big.fdr': File too large" "$t/err" || { echo "FAIL: full-disk message: $(cat "$t/err")"; fail=1; }
left=$(find "$t/full" -type f | wc -l)
[ "$left" = 0 ] && echo "ok: no partial output on a full disk" || { echo "FAIL: $left files left on a full disk"; find "$t/full" -type f; fail=1; }

# SIGINT while recording from Kafka: the recording holds what was read.
"$fd" replay "$t/a.fdr" --to kafka://embedded --speed max --rebase none --linger 60s -q 2>"$t/broker" &
bg=$!
addr=
for i in $(seq 1 100); do
	addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$t/broker")
	[ -n "$addr" ] && grep -q "keeping the sinks up" "$t/broker" && break
	sleep 0.1
done
if [ -z "$addr" ]; then
	echo "FAIL: no embedded broker: $(cat "$t/broker")"; fail=1
else
	"$fd" record --from "kafka://$addr" -o "$t/int.fdr" -q 2>"$t/err" &
	pid=$!
	sleep 3
	kill -INT $pid
	wait $pid; got=$? want=130
	check "SIGINT while recording exits 130"
	n=$("$fd" inspect --json "$t/int.fdr" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"]["total"])')
	[ "${n:-0}" -gt 0 ] && echo "ok: the interrupted capture is a valid recording ($n records)" ||
		{ echo "FAIL: interrupted capture: $(cat "$t/err")"; fail=1; }
	"$fd" record --from "kafka://$addr" -o "$t/k.fdr" --until-idle 2s -q; got=$? want=0
	check "record from kafka://embedded until idle"
	"$RECSET_CMP" "$t/a.fdr" "$t/k.fdr" >"$t/out"; got=$? want=0
	check "Kafka round trip: the same records ($(cat "$t/out"))"
fi
exit $fail
