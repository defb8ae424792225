#!/bin/sh
# generate --scale and --rate (issue 18): the knobs reach the simulation
# (the summary's scale line and the records), the scenario file's scale:
# block is read and overridden, and bad knobs are usage errors (exit 2)
# that leave nothing behind. Needs FIREDRILL.
set -u
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fd=$FIREDRILL

check() { # what, got, want
	if [ "$2" != "$3" ]; then
		echo "FAIL: $1: got '$2', want '$3'"
		fail=1
	fi
}

# --rate sets the traffic level: four times the requests of the scenario's
# 100/s (noise and bursts aside) in the same scenario time
"$fd" generate latency-after-release --duration 2m -o "$t/a.fdr" 2>"$t/a.err"
check "generate" $? 0
"$fd" generate latency-after-release --duration 2m --rate 400/s -o "$t/r.fdr" 2>"$t/r.err"
check "generate --rate" $? 0
reqs() { sed -n 's/.* from \([0-9]*\) requests.*/\1/p' "$1"; }
a=$(reqs "$t/a.err") r=$(reqs "$t/r.err")
if [ -z "$a" ] || [ -z "$r" ] || [ $((r * 10)) -lt $((a * 35)) ] || [ $((r * 10)) -gt $((a * 45)) ]; then
	echo "FAIL: --rate 400/s: $r requests against $a as written (want about 4x)"
	fail=1
fi
grep -q '^scale: 6 services (0 background), 400 requests/s$' "$t/r.err" ||
	{ echo "FAIL: no scale line: $(cat "$t/r.err")"; fail=1; }
grep -q '^scale' "$t/a.err" && { echo "FAIL: a scale line without knobs"; fail=1; }

# --scale: the line says what was simulated; the resources show it
"$fd" generate latency-after-release --duration 1m -o "$t/s.fdr" \
	--scale services=9,instances=4 --scale users=1k,customers=50 2>"$t/s.err"
check "generate --scale" $? 0
grep -q '^scale: 9 services (3 background) x 4 instances, [0-9.]* requests/s, 1000 users, 50 customers$' "$t/s.err" ||
	{ echo "FAIL: scale line: $(cat "$t/s.err")"; fail=1; }
n=$("$fd" inspect "$t/s.fdr" | sed -n 's/^dictionary *\([0-9]*\) resources.*/\1/p')
if [ -z "$n" ] || [ "$n" -lt 36 ]; then
	echo "FAIL: 9 services x 4 instances: $n resources"
	fail=1
fi

# the file's scale: block, and the command line over it
sed 's/^duration: 2h$/duration: 2h\nscale: {services: 8, rate: 300\/s}/' \
	"$(dirname "$0")/../../scenarios/latency-after-release.yaml" >"$t/sc.yaml"
"$fd" validate "$t/sc.yaml" >/dev/null
check "validate a scale: block" $? 0
"$fd" generate "$t/sc.yaml" --duration 1m -o "$t/f.fdr" 2>"$t/f.err"
grep -q '^scale: 8 services (2 background), 300 requests/s$' "$t/f.err" ||
	{ echo "FAIL: the file's scale: $(cat "$t/f.err")"; fail=1; }
"$fd" generate "$t/sc.yaml" --duration 1m --rate 1k/s -o "$t/f.fdr" 2>"$t/f.err"
grep -q '^scale: 8 services (2 background), 1000 requests/s$' "$t/f.err" ||
	{ echo "FAIL: --rate over the file's: $(cat "$t/f.err")"; fail=1; }

# The command line's knobs are stored in the recording: inspect shows them
# and the timeline is the scaled scenario's (api's scale_out 2 -> 3 is
# 4 -> 6 with 4 instances); drill takes the same options, and a drill
# replayed from its recording (--actions-from) runs with them again.
cat >"$t/small.yaml" <<'EOF'
name: small
duration: 10m
seed: 3
traffic:
  - entry: gateway "GET /items/{id}"
    rate: 40/s
services:
  gateway:
    instances: 2
    endpoints:
      "GET /items/{id}":
        calls:
          - api "GET /items/{id}"
  api:
    instances: 2
    endpoints:
      "GET /items/{id}":
        self: {p50: 10ms, p95: 20ms}
timeline:
  - at: 7m
    name: more-api
    scale_out: {service: api, instances: 3}
EOF
"$fd" generate "$t/small.yaml" --duration 8m --scale instances=4,churn=30%/h --rate 60/s -o "$t/sm.fdr" 2>"$t/sm.err"
check "generate small --scale" $? 0
grep -q '^scale: 2 services (0 background) x 4 instances, 60 requests/s, 30% of the pods replaced an hour$' "$t/sm.err" ||
	{ echo "FAIL: churn in the scale line: $(cat "$t/sm.err")"; fail=1; }
"$fd" inspect "$t/sm.fdr" >"$t/sm.txt"
grep -q '^scale        instances=4,churn=30%/h,rate=60/s (given on the command line' "$t/sm.txt" ||
	{ echo "FAIL: inspect: no scale: $(cat "$t/sm.txt")"; fail=1; }
"$fd" inspect --timeline "$t/sm.fdr" >"$t/tl.txt"
grep -q 'scale_out more-api api -> 6 instances' "$t/tl.txt" ||
	{ echo "FAIL: the timeline is not the scaled one: $(cat "$t/tl.txt")"; fail=1; }
grep -q '^scaled: instances=4,churn=30%/h,rate=60/s' "$t/tl.txt" || { echo "FAIL: timeline: no scaled line"; fail=1; }
"$fd" inspect --answer-key "$t/sm.fdr" | grep -q '^scaled  *instances=4,churn=30%/h,rate=60/s$' ||
	{ echo "FAIL: answer key: no scaled line"; fail=1; }
"$fd" inspect --json "$t/sm.fdr" | python3 -c '
import json, sys
s = json.load(sys.stdin)["scale"]
assert s["instances"] == 4 and s["rate"] == 60 and abs(s["churn_per_hour"] - 0.3) < 1e-9 and s["services"] == 0, s' ||
	{ echo "FAIL: inspect --json scale"; fail=1; }
"$fd" generate "$t/small.yaml" --duration 8m -o "$t/sm0.fdr" 2>/dev/null
"$fd" inspect --timeline "$t/sm0.fdr" | grep -q 'scale_out more-api api -> 3 instances' ||
	{ echo "FAIL: unscaled timeline"; fail=1; }
"$fd" inspect --json "$t/sm0.fdr" | python3 -c 'import json, sys; assert json.load(sys.stdin)["scale"] is None' ||
	{ echo "FAIL: a scale without knobs"; fail=1; }
"$fd" drill "$t/small.yaml" --speed max --until 8m --history 1m -q -o "$t/d.fdr" --scale instances=4 --rate 60/s
check "drill --scale" $? 0
"$fd" inspect --timeline "$t/d.fdr" | grep -q 'scale_out more-api api -> 6 instances' ||
	{ echo "FAIL: drill: the timeline is not the scaled one"; fail=1; }
"$fd" drill "$t/small.yaml" --speed max --history 1m -q -o "$t/d2.fdr" --actions-from "$t/d.fdr"
check "drill --actions-from a scaled drill" $? 0
cmp -s "$t/d.fdr" "$t/d2.fdr" || { echo "FAIL: the replayed drill differs (scale not taken from its recording?)"; fail=1; }
"$fd" drill "$t/small.yaml" --speed max --until 1m -q -o "$t/bad.fdr" --scale instancs=4 2>"$t/bad.err"
check "drill --scale instancs=4 (exit)" $? 2
grep -q -- "--scale 'instancs=4': unknown knob" "$t/bad.err" || { echo "FAIL: drill bad scale: $(cat "$t/bad.err")"; fail=1; }
ls "$t" | grep -q '^bad.fdr' && { echo "FAIL: drill wrote bad.fdr"; fail=1; }

# --rate A..B --ramp D: the traffic's mean rate goes linearly from A to B
# over D (scenario time), then holds B. The shape minute by minute is
# scenario-scale's ramp_shape; here, that the options reach the
# simulation: 2m of a 20/s..400/s ramp over 4m is 115/s on average, 13800
# requests (the ramp inverted: 36600; ignored: 48000): within 15%, 3 sd of
# the scenario's 5% noise.
within() { # what, got, want: got within 15% of want
	if [ -z "$2" ] || [ $(($2 * 100)) -lt $(($3 * 85)) ] || [ $(($2 * 100)) -gt $(($3 * 115)) ]; then
		echo "FAIL: $1: $2 requests, want about $3"
		fail=1
	fi
}
"$fd" generate "$t/small.yaml" --duration 2m --rate 20/s..400/s --ramp 4m -o "$t/up.fdr" 2>"$t/up.err"
check "generate --rate 20/s..400/s --ramp 4m" $? 0
within "ramp up" "$(reqs "$t/up.err")" 13800
grep -q '^scale: 2 services (0 background), 20 -> 400 requests/s over 4m$' "$t/up.err" ||
	{ echo "FAIL: ramp: scale line: $(cat "$t/up.err")"; fail=1; }
# a ramp down is one too (the instances are sized for its start)
"$fd" generate "$t/small.yaml" --duration 2m --rate 400/s..20/s --ramp 4m -o "$t/down.fdr" 2>"$t/down.err"
check "generate --rate 400/s..20/s --ramp 4m" $? 0
within "ramp down" "$(reqs "$t/down.err")" 36600
# the same options, the same bytes, into a --to sink as into -o; another
# ramp, other bytes
"$fd" generate "$t/small.yaml" --duration 2m --rate 20/s..400/s --ramp 4m --to "file:$t/up2.fdr" -q
check "generate --to file: with a ramp" $? 0
cmp -s "$t/up.fdr" "$t/up2.fdr" || { echo "FAIL: the same ramp gave other bytes"; fail=1; }
"$fd" generate "$t/small.yaml" --duration 2m --rate 20/s..400/s --ramp 3m -o "$t/up3.fdr" -q
cmp -s "$t/up.fdr" "$t/up3.fdr" && { echo "FAIL: another ramp gave the same bytes"; fail=1; }
# the header keeps the ramp: inspect shows it, --timeline and --answer-key
# read the scenario with it
"$fd" inspect "$t/up.fdr" | grep -q '^scale        rate=20/s..400/s,ramp=4m (given on the command line' ||
	{ echo "FAIL: inspect: no ramp: $("$fd" inspect "$t/up.fdr")"; fail=1; }
"$fd" inspect --timeline "$t/up.fdr" | grep -q '^scaled: rate=20/s..400/s,ramp=4m' ||
	{ echo "FAIL: timeline: no ramp"; fail=1; }
"$fd" inspect --json "$t/up.fdr" | python3 -c '
import json, sys
s = json.load(sys.stdin)["scale"]
assert s["rate"] == 400 and s["rate_from"] == 20 and s["ramp_nano"] == 240 * 10**9, s' ||
	{ echo "FAIL: inspect --json: the ramp"; fail=1; }
"$fd" inspect --json "$t/sm.fdr" | python3 -c '
import json, sys
s = json.load(sys.stdin)["scale"]
assert s["rate_from"] is None and s["ramp_nano"] is None, s' ||
	{ echo "FAIL: inspect --json: a ramp without one"; fail=1; }
# drill takes the same option (scenario time, from offset 0) and replays it
# from its recording
"$fd" drill "$t/small.yaml" --speed max --until 3m --history 1m -q -o "$t/dr.fdr" --rate 20/s..400/s --ramp 4m
check "drill --rate 20/s..400/s --ramp 4m" $? 0
"$fd" drill "$t/small.yaml" --speed max --history 1m -q -o "$t/dr2.fdr" --actions-from "$t/dr.fdr"
cmp -s "$t/dr.fdr" "$t/dr2.fdr" || { echo "FAIL: the replayed drill differs (ramp not taken from its recording?)"; fail=1; }
"$fd" drill "$t/small.yaml" --speed max --until 1m -q -o "$t/bad.fdr" --rate 20/s..400/s 2>"$t/bad.err"
check "drill --rate A..B without --ramp (exit)" $? 2
grep -q -- "is a ramp: give its duration with --ramp D" "$t/bad.err" || { echo "FAIL: drill: $(cat "$t/bad.err")"; fail=1; }
ls "$t" | grep -q '^bad.fdr' && { echo "FAIL: drill wrote bad.fdr"; fail=1; }
# replay's --ramp goes through the same checks
"$fd" replay "$t/up.fdr" --to "dir:$t/rp" --rate 1k/s..2k/s --ramp 0 2>"$t/bad.err"
check "replay --ramp 0 (exit)" $? 2
grep -q -- "--ramp '0': must be longer than 0" "$t/bad.err" || { echo "FAIL: replay: $(cat "$t/bad.err")"; fail=1; }
[ -e "$t/rp" ] && { echo "FAIL: replay --ramp 0 made its sink"; fail=1; }

# bad knobs: exit 2, a message naming them, nothing written
bad() { # want-in-message, args...
	want=$1
	shift
	"$fd" generate latency-after-release --duration 1m -o "$t/bad.fdr" "$@" 2>"$t/bad.err"
	rc=$?
	check "generate $* (exit)" $rc 2
	grep -q -- "$want" "$t/bad.err" || { echo "FAIL: generate $*: no '$want' in: $(cat "$t/bad.err")"; fail=1; }
	ls "$t" | grep -q '^bad.fdr' && { echo "FAIL: generate $* wrote bad.fdr"; fail=1; }
}
bad "--scale 'servics=40': unknown knob" --scale servics=40
bad "--scale 'users=0'" --scale users=0
bad "--scale 'instances=5000': at most 1000" --scale instances=5000
bad "services=3 (given on the command line): the scenario has 6 services" --scale services=3
bad "--rate 'fast'" --rate fast
bad "--rate '10/s..100/s' is a ramp: give its duration with --ramp D" --rate 10/s..100/s
bad "--ramp needs a ramp in --rate" --ramp 5m
bad "--ramp needs a ramp in --rate" --rate 100/s --ramp 5m
bad "--ramp '0': must be longer than 0" --rate 10/s..100/s --ramp 0
bad "--ramp 'soon': expected a duration" --rate 10/s..100/s --ramp soon
bad "--rate '10/s..fast'" --rate 10/s..fast --ramp 5m
bad "option '--ramp' needs a value" --rate 10/s..100/s --ramp
bad "--scale 'churn=5/h': expected a percentage" --scale churn=5/h
bad "--scale 'churn=400000%/h': must be between" --scale churn=400000%/h
sed 's/^duration: 2h$/duration: 2h\nscale: {services: two}/' \
	"$(dirname "$0")/../../scenarios/latency-after-release.yaml" >"$t/bad.yaml"
"$fd" validate "$t/bad.yaml" 2>"$t/v.err"
check "validate a bad scale:" $? 2
grep -q "bad.yaml:[0-9]*:[0-9]*: scale.services: 'two'" "$t/v.err" ||
	{ echo "FAIL: validate: $(cat "$t/v.err")"; fail=1; }
exit $fail
