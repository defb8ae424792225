#!/bin/sh
# annotate end to end, on a captured incident: ten minutes around the
# release of latency-after-release go through files into `record` (a
# recording no scenario produced), get a brief, and the answer key's figures
# must equal an independent computation from the OTLP JSON the capture read.
set -u
fd=$FIREDRILL
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$fd" generate latency-after-release --duration 65m -o "$t/g.fdr" -q || fail generate
"$fd" replay "$t/g.fdr" --from 55m --until 65m --signals traces --rebase none --speed max -q \
	--to "dir:$t/cap?format=otlp_json" || fail replay
"$fd" record --from "dir:$t/cap" -o "$t/captured.fdr" -q || fail record
"$fd" inspect --answer-key "$t/captured.fdr" >/dev/null 2>&1 && fail "a capture has no answer key yet"

cat >"$t/brief.yaml" <<'YAML'
title: Checkout slow after a release
prompt: "p95 of POST /checkout went from 200 ms to 4 s. What do you do?"
root_cause: orders v1.15.0 queries orders without the index
trigger: {what: orders v1.15.0 rolled out, at: 5m}
mitigation: roll orders back to v1.14.2
verification: POST /checkout p95 back to about 200 ms
investigation: [impact, recent change, where the time went]
endpoints: ["gateway POST /checkout", "orders POST /orders"]
YAML
"$fd" annotate "$t/captured.fdr" --brief "$t/brief.yaml" -o "$t/drill.fdr" -q || fail annotate
"$fd" inspect --answer-key "$t/drill.fdr" >"$t/key.txt" || fail "inspect --answer-key"
grep -q 'root cause     orders v1.15.0' "$t/key.txt" || fail "brief text missing"
grep -q 'where the added time went' "$t/key.txt" || { cat "$t/key.txt"; fail "no added time"; }
"$fd" inspect --json "$t/drill.fdr" >"$t/key.json" || fail "inspect --json"

python3 - "$t/cap/traces.jsonl" "$t/key.json" <<'PY' || fail "figures differ from the independent computation"
import json, math, sys
spans = {"gateway POST /checkout": {}, "orders POST /orders": {}}
first = None
for line in open(sys.argv[1]):
    for rs in json.loads(line)["resourceSpans"]:
        svc = next(a["value"]["stringValue"] for a in rs["resource"]["attributes"] if a["key"] == "service.name")
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                start, end = int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"])
                first = end if first is None else min(first, end)
                key = svc + " " + s["name"]
                if key in spans and s.get("kind") == 2:
                    spans[key].setdefault("all", []).append((start, end, s))
# offsets in the brief count from the first record of the capture
trigger = first + 5 * 60 * 10**9
def failed(s):
    if s.get("status", {}).get("code") == 2:
        return True
    for a in s.get("attributes", []):
        if a["key"] == "http.response.status_code":
            return int(a["value"]["intValue"]) >= 500
    return False
want = {}
for ep, d in spans.items():
    for phase, sel in (("before", lambda st: st < trigger), ("during", lambda st: st >= trigger)):
        xs = [(e - s) / 1e9 for s, e, _ in d["all"] if sel(s)]
        errs = sum(1 for s, e, sp in d["all"] if sel(s) and failed(sp))
        xs.sort()
        q = lambda p: xs[max(math.ceil(p * len(xs)), 1) - 1]
        want[(ep, phase)] = {"requests": len(xs), "p50": q(.5), "p95": q(.95), "p99": q(.99),
                             "error_rate": errs / len(xs)}
def find(o, key):
    if isinstance(o, dict):
        if key in o: return o[key]
        for v in o.values():
            r = find(v, key)
            if r is not None: return r
    return None
got = {}
for f in find(json.load(open(sys.argv[2])), "measured"):
    got[(f["subject"], f["phase"], f["name"])] = f["value"]
checked = 0
for (ep, phase), figs in want.items():
    for name, v in figs.items():
        g = got.get((ep, phase, name))
        assert g is not None, (ep, phase, name)
        assert abs(g - v) <= 1e-9 * max(1, abs(v)), (ep, phase, name, g, v)
        checked += 1
b = want[("gateway POST /checkout", "before")]["p95"]
d = want[("gateway POST /checkout", "during")]["p95"]
assert b < 0.5 and d > 4 * b, (b, d)  # the release rolls out over the window
print("annotate: %d figures equal the independent computation (checkout p95 %.3f s -> %.3f s)" % (checked, b, d))
PY

# a bad brief: exit 2 naming the place, no output
printf 'trigger: {what: x, at: soon}\nendpoints: ["gateway POST /checkout"]\n' >"$t/bad.yaml"
"$fd" annotate "$t/captured.fdr" --brief "$t/bad.yaml" -o "$t/x.fdr" 2>"$t/err"; rc=$?
[ $rc -eq 2 ] || fail "bad brief: exit $rc, want 2"
grep -q 'bad.yaml:1:' "$t/err" || { cat "$t/err"; fail "bad brief: no file:line"; }
[ -e "$t/x.fdr" ] && fail "bad brief: an output file was left"
echo ok
