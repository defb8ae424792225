#!/bin/sh
# Hostile and unlucky input at the command line (issue 20): each case is an
# exit status and a message, and under the sanitizer build (CI runs this
# suite with ASan + UBSan, halting on the first report) it also proves that
# no undefined behaviour is reached on the way.
#
# Needs FIREDRILL (the binary) and SOURCE_ROOT (for the crafted recordings
# in fuzz/corpus/recording/, written by `test_hostile --write`).
set -u
: "${FIREDRILL:?FIREDRILL is not set}" "${SOURCE_ROOT:?SOURCE_ROOT is not set}"
dir=$(mktemp -d) # under $TMPDIR, or /tmp
trap 'rm -rf "$dir"' EXIT INT TERM
corpus=$SOURCE_ROOT/fuzz/corpus/recording
failed=0

fail() {
	echo "FAIL: $*" >&2
	failed=1
}

# expect STATUS PATTERN -- COMMAND...: runs it, checks the exit status and
# that stdout+stderr match the grep pattern (empty: anything).
expect() {
	want=$1 pattern=$2
	shift 3
	"$@" >"$dir/out" 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		fail "$* exited $got, expected $want:"
		sed 's/^/    /' "$dir/out" >&2
	elif [ -n "$pattern" ] && ! grep -q -- "$pattern" "$dir/out"; then
		fail "$* does not say '$pattern':"
		sed 's/^/    /' "$dir/out" >&2
	else
		echo "ok: $*"
	fi
}

F=$FIREDRILL
$F generate bad-deploy-errors --duration 2m -q -o "$dir/small.fdr" || fail "generate"

# ---- item 10: times at the ends of int64 -----------------------------------
# An offset past 2262 from a recording's start (any recording).
expect 2 "goes past the range of times" -- $F replay "$dir/small.fdr" --until 106751d --to dir:"$dir/o1"
# Records at INT64_MIN+1, 0 and INT64_MAX: rebased to now, the first cannot be.
expect 2 "cannot rebase the record time" -- $F replay "$corpus/extreme-times.fdr" --to dir:"$dir/o2"
# As they are: the dir: sink's batching window and the pacer see them all.
expect 0 "replayed 3 records" -- $F replay "$corpus/extreme-times.fdr" --rebase none --speed max \
	--to dir:"$dir/o3" --to stdout:otlp_json
expect 0 "replayed 2 records" -- $F replay "$corpus/extreme-times.fdr" --rebase none --speed max \
	--until 1970-01-01T00:00:01Z --to dir:"$dir/o4"
expect 0 "(106751d23h47m16s854ms)" -- $F inspect "$corpus/extreme-times.fdr"
# The timeline starts 5 ns before the end of time.
expect 0 "no events in the recorded" -- $F inspect --timeline "$corpus/extreme-start.fdr"
expect 0 "replayed 1 records" -- $F replay "$corpus/extreme-start.fdr" --to dir:"$dir/o5"
# An empty directory to record from (qsort of no names).
mkdir "$dir/empty"
expect 2 "has no .jsonl" -- $F record --from dir:"$dir/empty" -o "$dir/x.fdr"

# ---- item 11: other bad input ------------------------------------------------
# Broker addresses that cannot work: usage errors at once, not exit 1 after 32 s.
for uri in kafka://host:99999 kafka://127.0.0.1:-1 kafka://:9092; do
	expect 2 "kafka: broker" -- $F replay "$dir/small.fdr" --to "$uri"
	expect 2 "kafka: broker" -- $F record --from "$uri" -o "$dir/r.fdr"
done
# A FIFO as a recording: refused at once instead of waiting for a writer.
mkfifo "$dir/fifo"
expect 2 "not a regular file" -- timeout 20 $F inspect "$dir/fifo"
expect 2 "not a regular file" -- timeout 20 $F replay "$dir/fifo" --to dir:"$dir/o6"
# A UTF-16 scenario (libyaml would read it; the recording would keep it cut
# at its first NUL byte and inspect --timeline would then fail).
if command -v iconv >/dev/null 2>&1; then
	iconv -f UTF-8 -t UTF-16 "$SOURCE_ROOT/scenarios/bad-deploy-errors.yaml" >"$dir/u16.yaml"
	expect 2 "UTF-16 byte order mark" -- $F validate "$dir/u16.yaml"
	expect 2 "UTF-16 byte order mark" -- $F generate "$dir/u16.yaml" -o "$dir/u16.fdr"
fi
# Terminal escapes in a recording's title and answer key are shown, not sent.
esc=$(printf '\033')
sed -e 's/^title: .*/title: "evil \\e]0;pwned\\a \\e[2J title"/' \
	-e 's/description: "/description: "\\e[31m/' \
	"$SOURCE_ROOT/scenarios/bad-deploy-errors.yaml" >"$dir/esc.yaml"
$F generate "$dir/esc.yaml" --duration 31m -q -o "$dir/esc.fdr" || fail "generate esc.yaml"
for flag in "" --answer-key --timeline; do
	expect 0 "" -- $F inspect $flag "$dir/esc.fdr"
	if grep -q "$esc" "$dir/out"; then
		fail "inspect $flag prints an ESC byte from the recording"
	fi
done
expect 0 'evil \\x1b\]0;pwned\\x07 \\x1b\[2J title' -- $F inspect "$dir/esc.fdr"
expect 0 '\\x1b\[31mpayments' -- $F inspect --timeline "$dir/esc.fdr"
# An empty signal list is not "every signal".
expect 2 "name at least one of traces, metrics, logs" -- $F replay "$dir/small.fdr" --signals , --to dir:"$dir/o7"

exit $failed
