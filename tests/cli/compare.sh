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

# Bad input: exit 2, naming the file.
"$fd" compare "$t/sent.fdr" "$t/missing.fdr" 2>"$t/err"; rc=$?
[ $rc -eq 2 ] || fail "missing file: exit $rc, want 2"
grep -q missing.fdr "$t/err" || fail "missing file not named"
"$fd" compare "$t/sent.fdr" 2>/dev/null; rc=$?
[ $rc -eq 2 ] || fail "one argument: exit $rc, want 2"
echo ok
