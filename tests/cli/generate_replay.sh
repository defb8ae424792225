#!/bin/sh
# End to end through the binary: validate, list, generate (determinism, no
# partial output on failure), replay into a recording (identical records,
# shards, usage errors) and SIGINT (exit 130 with a valid recording).
# Needs FIREDRILL, FDR_CAT and SOURCE_ROOT in the environment.
set -u
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
check() { # description, then the command's status must be $want
	if [ "$got" != "$want" ]; then
		echo "FAIL: $1 (status $got, want $want)"; fail=1
	else
		echo "ok: $1"
	fi
}
fd=$FIREDRILL

"$fd" validate "$SOURCE_ROOT/scenarios/latency-after-release.yaml" >"$t/out" 2>&1; got=$? want=0
check "validate the built-in fixture"
grep -q ': ok: latency-after-release' "$t/out" || { echo "FAIL: validate output"; fail=1; }

printf 'name: x\nduration: 1h\nservices:\n  a:\n    instnaces: 2\n' >"$t/bad.yaml"
"$fd" validate "$t/bad.yaml" >"$t/out" 2>&1; got=$? want=2
check "validate a bad scenario exits 2"
grep -q "bad.yaml:5:5: .*instnaces.*did you mean 'instances'" "$t/out" || { echo "FAIL: validate message: $(cat "$t/out")"; fail=1; }

"$fd" list >"$t/out" 2>&1; got=$? want=0
check "list"
grep -q '^latency-after-release ' "$t/out" || { echo "FAIL: list output"; fail=1; }

"$fd" generate latency-after-release --duration 3m -o "$t/a.fdr" -q; got=$? want=0
check "generate 3 minutes"
"$fd" generate latency-after-release --duration 3m -o "$t/b.fdr" -q
cmp -s "$t/a.fdr" "$t/b.fdr"; got=$? want=0
check "same scenario and seed: byte-identical recordings"
"$fd" generate latency-after-release --duration 3m --seed 2 -o "$t/c.fdr" -q
cmp -s "$t/a.fdr" "$t/c.fdr"; got=$? want=1
check "another seed: another recording"

"$fd" generate "$t/bad.yaml" -o "$t/bad.fdr" 2>/dev/null; got=$? want=2
check "generate a bad scenario exits 2"
[ -e "$t/bad.fdr" ] && { echo "FAIL: partial output after a bad scenario"; fail=1; }
ls "$t" | grep -q tmp- && { echo "FAIL: temporary file left behind"; fail=1; }
"$fd" generate latency-after-release --duration 1m -o "$t/no/such/dir/x.fdr" 2>/dev/null; got=$? want=1
check "generate into a missing directory exits 1"
"$fd" generate latency-after-release --duration 0s -o "$t/x.fdr" 2>/dev/null; got=$? want=2
check "--duration 0s is bad usage"
"$fd" generate latency-after-release --bogus 2>/dev/null; got=$? want=2
check "unknown generate option exits 2"

"$fd" replay "$t/a.fdr" --to "file:$t/r.fdr" --speed max --rebase none -q; got=$? want=0
check "replay into a recording"
"$FDR_CAT" "$t/a.fdr" >"$t/a.bin" && "$FDR_CAT" "$t/r.fdr" >"$t/r.bin"
cmp -s "$t/a.bin" "$t/r.bin"; got=$? want=0
check "replayed records are identical with --rebase none"

total=$("$fd" inspect --json "$t/a.fdr" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"]["total"])')
sum=0
for i in 0 1 2; do
	"$fd" replay "$t/a.fdr" --to "file:$t/s$i.fdr" --speed max --rebase none --shard $i/3 -q || fail=1
	n=$("$fd" inspect --json "$t/s$i.fdr" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"]["total"])')
	sum=$((sum + n))
done
[ "$sum" = "$total" ] && echo "ok: shards add up ($sum)" || { echo "FAIL: shards add up to $sum, not $total"; fail=1; }
# Disjoint and complete: the shards' records, as a multiset of (signal,
# time, payload), are exactly the recording's.
for f in a s0 s1 s2; do "$FDR_CAT" "$t/$f.fdr" >"$t/$f.cat"; done
cat >"$t/union.py" <<'PY'

import collections, hashlib, struct, sys
def records(path):
    b = open(path, 'rb').read(); i = 0
    while i < len(b):
        sig, t, _res, n = struct.unpack_from('<BQII', b, i); i += 17
        yield hashlib.sha1(bytes([sig]) + struct.pack('<Q', t) + b[i:i + n]).digest(); i += n
whole = collections.Counter(records(sys.argv[1]))
shards = [collections.Counter(records(p)) for p in sys.argv[2:]]
# (records may repeat across resources, which fdr-cat does not show: the
# multiset sum is the test, an overlap would count twice)
union = sum(shards, collections.Counter())
if union != whole:
    print('FAIL: shards together: %d records, %d extra, %d missing' % (sum(union.values()),
          sum((union - whole).values()), sum((whole - union).values()))); sys.exit(1)
print('ok: shards are disjoint and their union is the recording (%d records)' % sum(whole.values()))
PY
python3 "$t/union.py" "$t/a.cat" "$t/s0.cat" "$t/s1.cat" "$t/s2.cat" || fail=1
# generate --shard: three processes simulate the same system and send
# disjoint parts; together they are the unsharded run, record for record.
for i in 0 1 2; do
	"$fd" generate latency-after-release --duration 3m --shard $i/3 -o "$t/g$i.fdr" -q || fail=1
	"$FDR_CAT" "$t/g$i.fdr" >"$t/g$i.cat"
	[ -s "$t/g$i.cat" ] || { echo "FAIL: generate shard $i/3 is empty"; fail=1; }
done
python3 "$t/union.py" "$t/a.cat" "$t/g0.cat" "$t/g1.cat" "$t/g2.cat" || fail=1
"$fd" generate latency-after-release --duration 1m --shard 0/0 -o "$t/gz.fdr" 2>/dev/null; got=$? want=2
check "generate --shard 0/0 exits 2"
[ -e "$t/gz.fdr" ] && { echo "FAIL: output left after a bad --shard"; fail=1; }

# --duration forever: a soak test's steady stream, stamped from now, until
# SIGTERM; then the sinks are flushed and closed and the status is 0.
before=$(date +%s)
"$fd" generate latency-after-release --duration forever --speed 600x \
	--to "dir:$t/fv?format=otlp_json" -q &
pid=$!
sleep 3
kill -TERM $pid
wait $pid; got=$? want=0
check "generate --duration forever stops on SIGTERM with status 0"
python3 - "$t/fv" "$before" <<'PY' || fail=1
import json, os, sys, time
d, before = sys.argv[1], int(sys.argv[2])
first = None
with open(os.path.join(d, "traces.jsonl")) as f:
    for n, line in enumerate(f, 1):
        req = json.loads(line)  # every line whole: the sink was closed
        for rs in req["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    t = int(sp["startTimeUnixNano"]) // 10**9
                    first = t if first is None else min(first, t)
if first is None or not (before - 120 <= first <= time.time() + 60):
    print("FAIL: forever's first span at %s, the run began at %d" % (first, before)); sys.exit(1)
print("ok: forever stamps from now (%d lines of spans)" % n)
PY
"$fd" generate latency-after-release --speed 10x -o "$t/sp.fdr" 2>/dev/null; got=$? want=2
check "--speed without --duration forever exits 2"
"$fd" generate latency-after-release --duration forever --start 2026-01-01T00:00:00Z --to "dir:$t/fz" 2>/dev/null; got=$? want=2
check "--duration forever with --start exits 2"
[ -e "$t/fz" ] || [ -e "$t/sp.fdr" ] && { echo "FAIL: output left after bad usage"; fail=1; }

# --copies 3: three times the records; --churn: more instances over time
"$fd" replay "$t/a.fdr" --to "file:$t/x3.fdr" --speed max --copies 3 --churn 3600%/h -q; got=$? want=0
check "replay --copies 3 --churn 3600%/h"
n3=$("$fd" inspect --json "$t/x3.fdr" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["records"]["total"])')
[ "$n3" = $((3 * total)) ] && echo "ok: three copies ($n3 records)" || { echo "FAIL: --copies 3 sent $n3, not $((3 * total))"; fail=1; }
"$fd" replay "$t/a.fdr" --to "file:$t/x0.fdr" --copies 0 2>/dev/null; got=$? want=2
check "--copies 0 exits 2"
"$fd" replay "$t/a.fdr" --to "file:$t/x0.fdr" --churn 5 2>/dev/null; got=$? want=2
check "--churn without %/h exits 2"

"$fd" replay "$t/a.fdr" --speed max 2>/dev/null; got=$? want=2
check "replay without --to exits 2"
"$fd" replay "$t/a.fdr" --to "file:$t/z.fdr" --speed fast 2>/dev/null; got=$? want=2
check "bad --speed exits 2"
"$fd" replay "$t/a.fdr" --to "bogus:x" 2>/dev/null; got=$? want=2
check "unknown sink scheme exits 2"
"$fd" replay "$t/a.fdr" --to "file:$t/z.fdr" --shard 3/3 2>/dev/null; got=$? want=2
check "bad --shard exits 2"

# A full disk (RLIMIT_FSIZE, with SIGXFSZ ignored so writes fail with EFBIG):
# a clear error, exit 1, and no partial output under the requested names.
mkdir "$t/full"
(cd "$t/full" && trap '' XFSZ && ulimit -f 1000 && "$fd" generate latency-after-release --duration 5m -o big.fdr 2>"$t/err"); got=$? want=1
check "generate onto a full disk exits 1"
grep -q "big.fdr': File too large" "$t/err" || { echo "FAIL: full-disk message: $(cat "$t/err")"; fail=1; }
(cd "$t/full" && trap '' XFSZ && ulimit -f 1000 && "$fd" replay "$t/a.fdr" --to dir:out --speed max -q 2>"$t/err"); got=$? want=1
check "replay to dir: onto a full disk exits 1"
grep -q "File too large" "$t/err" || { echo "FAIL: full-disk message: $(cat "$t/err")"; fail=1; }
left=$(find "$t/full" -type f | wc -l)
[ "$left" = 0 ] && echo "ok: no partial output on a full disk" || { echo "FAIL: $left files left on a full disk"; find "$t/full" -type f; fail=1; }

# An existing FIFO or device (-o /dev/null) is written as it is, never
# replaced by a renamed temporary file (as root that would turn /dev/null
# into a regular file); here a FIFO with a reader behind it.
mkfifo "$t/pipe"
cat "$t/pipe" >"$t/piped.fdr" &
reader=$!
"$fd" generate latency-after-release --duration 1m -o "$t/pipe" -q; got=$? want=0
check "generate into a FIFO"
if [ -p "$t/pipe" ]; then
	echo "ok: the FIFO is still a FIFO"
	wait $reader
else
	echo "FAIL: the FIFO was replaced"; fail=1
	kill $reader 2>/dev/null # it would wait for a writer forever
fi
"$fd" inspect --verify "$t/piped.fdr" >/dev/null 2>&1; got=$? want=0
check "what came through the FIFO is a valid recording"

# SIGINT mid-replay: stop reading, close the sinks, exit 130.
# The signal goes once the sink's temporary file exists: the handler is in
# place before the sinks open, and a slow start (a sanitizer build on a busy
# machine) would otherwise get SIGINT's default action.
"$fd" replay "$t/a.fdr" --to "file:$t/int.fdr" --speed realtime -q &
pid=$!
for _ in $(seq 600); do
	ls "$t"/int.fdr.tmp-* >/dev/null 2>&1 && break
	sleep 0.1
done
sleep 0.5
kill -INT $pid
wait $pid; got=$? want=130
check "SIGINT exits 130"
"$fd" inspect "$t/int.fdr" >"$t/out" 2>&1; got=$? want=0
check "the interrupted replay left a valid recording"
exit $fail
