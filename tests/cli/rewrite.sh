#!/bin/sh
# rewrite end to end: a recording with personal data planted in every place
# it hides (plant-pii) is found by --check kind by kind, comes out of
# `rewrite --rule builtin` with none of it left in any output format, with
# consistent pseudonyms; renaming a generated incident keeps every trace and
# every log's trace context exactly as it was.
set -u
fd=$FIREDRILL
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$PLANT_PII" "$t/p.fdr" >"$t/planted" || fail plant
echo "ip-203-0-113-7" >>"$t/planted" # an internal host name: renamed, not scrubbed

# --check finds every planted kind, and exits 1
"$fd" rewrite --check "$t/p.fdr" >"$t/check" 2>&1; rc=$?
[ $rc -eq 1 ] || { cat "$t/check"; fail "check before: exit $rc, want 1"; }
for kind in email ipv4 ipv6 card jwt bearer uuid; do
	grep -q " $kind " "$t/check" || { cat "$t/check"; fail "--check missed $kind"; }
done
for place in resource.host.ip attributes.url.full attributes.db.query.text body attributes.customer.id \
	attributes.http.request.header.authorization Status.message Span.name; do
	grep -q "^$place " "$t/check" || { cat "$t/check"; fail "--check missed a finding in $place"; }
done
grep -q 'jane.doe' "$t/check" && fail "--check printed an unmasked value"

# every output format of the original shows the planted values (the grep works)
dump() { # recording dir
	"$fd" replay "$1" --rebase none --speed max -q --to "dir:$2/json?format=otlp_json" \
		--to "dir:$2/ecs?format=ecs" --to "dir:$2/text?format=text" \
		--to "dir:$2/om?format=openmetrics" || fail "replay $1"
}
dump "$t/p.fdr" "$t/before"
while read -r lit; do
	grep -rqF -- "$lit" "$t/before" || fail "the original output lacks '$lit': the scan proves nothing"
done <"$t/planted"

# without a key, hashing is refused
env -u FIREDRILL_REWRITE_KEY "$fd" rewrite "$t/p.fdr" -o "$t/nokey.fdr" --rule builtin 2>"$t/err"; rc=$?
[ $rc -eq 2 ] || fail "no key: exit $rc, want 2"
[ -e "$t/nokey.fdr" ] && fail "no key: an output file was left"

export FIREDRILL_REWRITE_KEY=test-key-not-secret
"$fd" rewrite "$t/p.fdr" -o "$t/s.fdr" --rule builtin --rule rename:ip-203-0-113-7=node-a -q ||
	fail "rewrite"
"$fd" rewrite --check "$t/s.fdr" >"$t/check2" 2>&1; rc=$?
[ $rc -eq 0 ] || { cat "$t/check2"; fail "check after: exit $rc, want 0"; }
dump "$t/s.fdr" "$t/after"
while read -r lit; do
	if grep -rlF -- "$lit" "$t/after"; then fail "'$lit' is still in the output above"; fi
done <"$t/planted"
grep -rqF node-a "$t/after" || fail "the host rename is missing"
# one value, one pseudonym: the planted email appears in 3 spans
n=$(grep -o 'u[0-9a-f]\{10\}@example.invalid' "$t/after/json/traces.jsonl" | sort | uniq -c | awk '$1 == 3' | wc -l)
[ "$n" -ge 1 ] || fail "the same email did not get the same pseudonym in every span"
"$fd" inspect --json "$t/s.fdr" >"$t/inspect.json" || fail inspect
grep -q 'values.email' "$t/inspect.json" || grep -q 'values.email' "$t/s.fdr" || true

# a bad rules file: exit 2 naming the place
printf 'values:\n  - pattern: emial\n' >"$t/bad.yaml"
"$fd" rewrite "$t/p.fdr" -o "$t/x.fdr" --rules "$t/bad.yaml" 2>"$t/err"; rc=$?
[ $rc -eq 2 ] || fail "bad rules: exit $rc, want 2"
grep -q 'bad.yaml:2:' "$t/err" || { cat "$t/err"; fail "bad rules: no file:line"; }
[ -e "$t/x.fdr" ] && fail "bad rules: an output file was left"

# renaming a generated incident keeps every trace whole and every log's context
"$fd" generate latency-after-release --duration 2m -o "$t/g.fdr" -q || fail generate
cat >"$t/rules.yaml" <<'YAML'
rename:
  services: {checkout: cart, orders: purchases, payments: billing}
  namespaces: {shop: store}
time:
  shift: -30d
YAML
"$fd" rewrite "$t/g.fdr" -o "$t/g2.fdr" --rules "$t/rules.yaml" -q || fail "rename"
"$fd" replay "$t/g.fdr" --rebase none --speed max -q --to "dir:$t/g?format=otlp_json" || fail replay
"$fd" replay "$t/g2.fdr" --rebase none --speed max -q --to "dir:$t/g2?format=otlp_json" || fail replay
python3 - "$t/g" "$t/g2" <<'PY' || fail "correlation"
import json, sys
def load(d):
    spans, logs, services = set(), [], set()
    for line in open(d + "/traces.jsonl"):
        for rs in json.loads(line)["resourceSpans"]:
            for a in rs["resource"]["attributes"]:
                if a["key"] == "service.name": services.add(a["value"]["stringValue"])
            for ss in rs["scopeSpans"]:
                for s in ss["spans"]:
                    spans.add((s["traceId"], s["spanId"], s.get("parentSpanId", "")))
    for line in open(d + "/logs.jsonl"):
        for rl in json.loads(line)["resourceLogs"]:
            for sl in rl["scopeLogs"]:
                for l in sl["logRecords"]:
                    logs.append((l.get("traceId", ""), l.get("spanId", "")))
    return spans, sorted(logs), services
a, b = load(sys.argv[1]), load(sys.argv[2])
assert a[0] == b[0], "span ids or parents changed"
assert a[1] == b[1], "log trace context changed"
ids = {(t, s) for t, s, _ in b[0]}
parents_ok = sum(1 for t, s, p in b[0] if not p or (t, p) in ids)
logs_ok = sum(1 for t, s in b[1] if not t or (t, s) in ids)
assert {"cart", "purchases", "billing"} <= b[2] and not ({"checkout", "orders", "payments"} & b[2]), b[2]
print("rename: %d spans, %d logs, same ids and parents; %d/%d logs point at a span in the window"
      % (len(b[0]), len(b[1]), logs_ok, len(b[1])))
PY
echo ok
