#!/bin/sh
# A pipeline test in three commands, end to end: replay into a "pipeline"
# (here files in the collector's file-exporter format), record behind it,
# compare. Intact, the verdict is clean (exit 0); with one OTLP request
# removed and one delivered twice, compare exits 1 with the exact counts
# (computed here independently from the JSON lines).
set -u
fd=$FIREDRILL
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$fd" generate latency-after-release --duration 3m -o "$t/sent.fdr" -q || fail generate
"$fd" replay "$t/sent.fdr" --to "dir:$t/out?format=otlp_json" --speed max --rebase none -q || fail replay
"$fd" record --from "dir:$t/out" -o "$t/recv.fdr" -q || fail record
"$fd" compare "$t/sent.fdr" "$t/recv.fdr" >"$t/verdict" 2>&1; rc=$?
[ $rc -eq 0 ] || { cat "$t/verdict"; fail "intact pipeline: exit $rc, want 0"; }
grep -q '^verdict: every record arrived once, unchanged' "$t/verdict" || fail "no clean verdict"

# Damage: drop the 2nd logs request, deliver the 4th twice.
mkdir "$t/bad"
cp "$t/out/traces.jsonl" "$t/out/metrics.jsonl" "$t/bad/"
awk 'NR == 2 { next } { print } NR == 4 { print }' "$t/out/logs.jsonl" >"$t/bad/logs.jsonl"
want=$(python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
n = lambda l: sum(len(s["logRecords"]) for r in json.loads(l)["resourceLogs"] for s in r["scopeLogs"])
print(n(lines[1]), n(lines[3]))' "$t/out/logs.jsonl")
lost=${want% *}
dup=${want#* }
"$fd" record --from "dir:$t/bad" -o "$t/bad.fdr" -q || fail "record damaged"
"$fd" compare --json "$t/sent.fdr" "$t/bad.fdr" >"$t/verdict.json" 2>&1; rc=$?
[ $rc -eq 1 ] || { cat "$t/verdict.json"; fail "damaged pipeline: exit $rc, want 1"; }
python3 - "$t/verdict.json" "$lost" "$dup" <<'PY' || fail "counts"
import json, sys
v = json.load(open(sys.argv[1]))
lost, dup = int(sys.argv[2]), int(sys.argv[3])
logs = v["signals"]["logs"]
assert not v["clean"], v
assert logs["lost"] == lost, (logs, lost)
assert logs["duplicated"] == dup, (logs, dup)
assert logs["changed"] == 0 and logs["unexpected"] == 0, logs
for s in ("traces", "metrics"):
    c = v["signals"][s]
    assert c["lost"] == c["duplicated"] == c["changed"] == c["unexpected"] == 0, (s, c)
    assert c["sent"] == c["matched"] > 0, (s, c)
assert sum(x["logs"]["lost"] for x in v["services"].values()) == lost
print("compare: lost %d, duplicated %d as planted" % (lost, dup))
PY

# Through an OTLP/HTTP receiver, whose recording keeps capture times:
# delays measured from the record times (the sent file has none) for every
# matched record; the captured file against itself measures from the sent
# capture times, and every delay is exactly 0.
"$fd" record --from otlp-http://127.0.0.1:0 -o "$t/http.fdr" --until-idle 3s 2>"$t/rec.err" &
bg=$!
port=
for i in $(seq 1 200); do
	port=$(sed -n 's|.*receiving OTLP/HTTP on http://127.0.0.1:\([0-9]*\).*|\1|p' "$t/rec.err")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "the receiver did not start: $(cat "$t/rec.err")"
"$fd" replay "$t/sent.fdr" --to "otlp-http://127.0.0.1:$port" --speed max --rebase none -q || fail "replay to otlp-http"
wait $bg || fail "record --from otlp-http: $(cat "$t/rec.err")"
"$fd" compare --json "$t/sent.fdr" "$t/http.fdr" >"$t/http.json" || fail "compare over otlp-http: $(cat "$t/http.json")"
"$fd" compare --json "$t/http.fdr" "$t/http.fdr" >"$t/self.json" || fail "compare captured with itself"
"$fd" compare "$t/sent.fdr" "$t/http.fdr" >"$t/http.txt" || fail "compare text"
grep -q "^delay: received capture time minus the record's own time" "$t/http.txt" || { cat "$t/http.txt"; fail "no delay in the text"; }
grep -q "^  gateway  *traces   p50 " "$t/http.txt" || { cat "$t/http.txt"; fail "no delay per service"; }
python3 - "$t/http.json" "$t/self.json" <<'PY' || fail "delays"
import json, sys
v, me = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert v["delay_basis"] == "record_time", v["delay_basis"]
assert me["delay_basis"] == "sent_capture", me["delay_basis"]
for s in ("traces", "metrics", "logs"):
    d, c = v["delay"][s], v["signals"][s]
    assert d["measured"] == c["matched"] > 0, (s, d, c)
    assert 0 < d["p50_ns"] <= d["p99_ns"] <= d["max_ns"], (s, d)
    assert sum(x["delay"][s]["measured"] for x in v["services"].values()) == d["measured"]
    z = me["delay"][s]
    assert z["measured"] == c["matched"] and z["p50_ns"] == z["p99_ns"] == z["max_ns"] == 0, (s, z)
print("compare: delays of", sum(v["delay"][s]["measured"] for s in v["delay"]), "records")
PY

# rewrite copies the capture times: the same delays through a rewritten capture
# (a rule that matches nothing, so the records are the same).
"$fd" rewrite "$t/http.fdr" -o "$t/http-rw.fdr" --rule drop-service:no-such-service -q || fail rewrite
"$fd" compare --json "$t/sent.fdr" "$t/http-rw.fdr" >"$t/rw.json" || fail "compare rewritten: $(cat "$t/rw.json")"
python3 - "$t/http.json" "$t/rw.json" <<'PY' || fail "rewrite lost the capture times"
import json, sys
v, rw = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert rw["delay"] == v["delay"], (rw["delay"], v["delay"])
PY

# Bad input: exit 2, naming the file.
"$fd" compare "$t/sent.fdr" "$t/missing.fdr" 2>"$t/err"; rc=$?
[ $rc -eq 2 ] || fail "missing file: exit $rc, want 2"
grep -q missing.fdr "$t/err" || fail "missing file not named"
"$fd" compare "$t/sent.fdr" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "one argument: exit $rc, want 2"
echo ok
