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
bad "generate sets one traffic level" --rate 10/s..100/s
sed 's/^duration: 2h$/duration: 2h\nscale: {services: two}/' \
	"$(dirname "$0")/../../scenarios/latency-after-release.yaml" >"$t/bad.yaml"
"$fd" validate "$t/bad.yaml" 2>"$t/v.err"
check "validate a bad scale:" $? 2
grep -q "bad.yaml:[0-9]*:[0-9]*: scale.services: 'two'" "$t/v.err" ||
	{ echo "FAIL: validate: $(cat "$t/v.err")"; fail=1; }
exit $fail
