#!/bin/sh
# fdr-synth end to end (run by bench/meson.build with FIREDRILL and FDR_SYNTH
# set): what fdr-synth says it wrote is what `firedrill inspect` reads back,
# as text and as JSON; the same seed gives a byte-identical file, another
# seed a different one; bad options exit 2.
set -eu
: "${FIREDRILL:?FIREDRILL is not set}" "${FDR_SYNTH:?FDR_SYNTH is not set}"
dir=$(mktemp -d "${TMPDIR:-/tmp}/fdsynth-XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

out=$("$FDR_SYNTH" -o "$dir/a.fdr" -n 20000 --seed 5 --services 4 --block-size 65536)
echo "$out"
# "fdr-synth: wrote N records (traces T, metrics M, logs L) to ..."
counts=$(printf '%s\n' "$out" | sed -n 's/^fdr-synth: wrote \([0-9]*\) records (traces \([0-9]*\), metrics \([0-9]*\), logs \([0-9]*\)).*/\1 \2 \3 \4/p')
[ -n "$counts" ] || fail "cannot parse: $out"
set -- $counts
[ "$1" -eq 20000 ] || fail "wrote $1 records, asked for 20000"
[ $(($2 + $3 + $4)) -eq 20000 ] || fail "signal counts do not add up: $counts"

text=$("$FIREDRILL" inspect "$dir/a.fdr")
printf '%s\n' "$text" | grep -qx "records      $1 (traces $2, metrics $3, logs $4)" ||
	fail "inspect does not show the counts $counts:
$text"
printf '%s\n' "$text" | grep -qx "source       synthetic" || fail "source: $text"
printf '%s\n' "$text" | grep -qx "seed         5" || fail "seed: $text"
printf '%s\n' "$text" | grep -qx "dictionary   8 resources, 1 scopes" || fail "resources: $text"

if command -v python3 >/dev/null 2>&1; then
	"$FIREDRILL" inspect --json "$dir/a.fdr" >"$dir/a.json"
	python3 -c 'import json,sys; json.load(sys.stdin)' <"$dir/a.json" || fail "invalid JSON"
	got=$(python3 -c 'import json,sys
d = json.load(sys.stdin); r = d["records"]
print(r["total"], r["traces"], r["metrics"], r["logs"], d["seed"], d["source"], d["resources"])' <"$dir/a.json")
	[ "$got" = "$1 $2 $3 $4 5 synthetic 8" ] || fail "inspect --json: $got, expected $counts 5 synthetic 8"
fi

"$FDR_SYNTH" -q -o "$dir/b.fdr" -n 20000 --seed 5 --services 4 --block-size 65536
cmp -s "$dir/a.fdr" "$dir/b.fdr" || fail "the same seed gave different files"
"$FDR_SYNTH" -q -o "$dir/c.fdr" -n 20000 --seed 6 --services 4 --block-size 65536
cmp -s "$dir/a.fdr" "$dir/c.fdr" && fail "another seed gave the same file"

# usage errors exit 2 and leave no file
for args in "-n 5" "-o $dir/x.fdr" "-o $dir/x.fdr -n five" "-o $dir/x.fdr -n 5 --bogus" \
	"-o $dir/x.fdr -n 5 --services 0" "-o $dir/x.fdr -n 5 --block-size" "-o $dir/x.fdr -n -1"; do
	set +e
	"$FDR_SYNTH" $args >/dev/null 2>"$dir/err"
	st=$?
	set -e
	[ "$st" -eq 2 ] || fail "fdr-synth $args: exit $st, expected 2"
	[ -s "$dir/err" ] || fail "fdr-synth $args: no message"
	[ ! -e "$dir/x.fdr" ] || fail "fdr-synth $args left a file"
done
"$FDR_SYNTH" --help | grep -q '^Usage: fdr-synth' || fail "--help"
# an unwritable destination: a runtime failure, exit 1
set +e
"$FDR_SYNTH" -o "$dir/missing/x.fdr" -n 5 2>/dev/null
st=$?
set -e
[ "$st" -eq 1 ] || fail "unwritable output: exit $st, expected 1"
echo "ok"
