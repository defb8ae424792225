# Shared by the Prometheus end-to-end tests (sourced): a scratch directory,
# a free loopback port, a real `prometheus` started on it and killed on
# exit, and PromQL queries through its HTTP API.
# Needs FIREDRILL in the environment; prometheus and promtool on PATH.
set -u
fail=0
t=$(mktemp -d)
prom_pid=
cleanup() {
	if [ -n "$prom_pid" ]; then
		kill "$prom_pid" 2>/dev/null
		wait "$prom_pid" 2>/dev/null
	fi
	rm -rf "$t"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for tool in prometheus promtool python3 curl; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done

ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }

# A port nobody listens on now (the kernel's pick, then released).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# prom_start CONFIG_YAML [extra prometheus flags]: starts Prometheus on a
# free loopback port with its data in $t/data; sets PROM (host:port).
prom_start() {
	cfg=$1
	shift
	PROM=127.0.0.1:$(free_port)
	mkdir -p "$t/data"
	prometheus --config.file="$cfg" --storage.tsdb.path="$t/data" \
		--storage.tsdb.retention.time=100y --web.listen-address="$PROM" \
		"$@" >"$t/prometheus.log" 2>&1 &
	prom_pid=$!
	i=0
	until curl -sf "http://$PROM/-/ready" >/dev/null; do
		i=$((i + 1))
		if [ $i -gt 150 ] || ! kill -0 "$prom_pid" 2>/dev/null; then
			echo "FAIL: prometheus did not start:"
			tail -20 "$t/prometheus.log"
			exit 1
		fi
		sleep 0.2
	done
}

prom_stop() {
	kill "$prom_pid" 2>/dev/null
	wait "$prom_pid" 2>/dev/null
	prom_pid=
}

# prom_query QUERY [TIME]: the values of an instant query, one per line
# ("labels value"); nothing when the result is empty.
prom_query() {
	if [ $# -gt 1 ]; then
		set -- "$1" --data-urlencode "time=$2"
	fi
	q=$1
	shift
	curl -sf "http://$PROM/api/v1/query" --data-urlencode "query=$q" "$@" |
		python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"]:
    m = ",".join("%s=%s" % kv for kv in sorted(s["metric"].items()))
    print(m, s["value"][1])'
}

# in_range VALUE LO HI: LO <= VALUE <= HI (floats).
in_range() {
	python3 -c 'import sys; v,lo,hi=map(float,sys.argv[1:]); sys.exit(0 if lo<=v<=hi else 1)' "$@"
}

# prom_count_samples RANGE [TIME]: the samples Prometheus holds in the
# RANGE before TIME (default now), summed over every metric name. One
# python3 asks for every name (count_over_time drops the name, so one
# query over all names is refused: "vector cannot contain metrics with the
# same labelset"); a curl and a python3 per name, some 200 names, made the
# test take up to 450 s of its 600 on a loaded machine.
prom_count_samples() {
	python3 - "$PROM" "$1" "${2:-}" <<'PY'
import json, sys, urllib.parse, urllib.request
prom, rng, at = sys.argv[1:4]
def get(path, **q):
    url = "http://%s%s?%s" % (prom, path, urllib.parse.urlencode(q))
    r = json.load(urllib.request.urlopen(url, timeout=60))
    assert r["status"] == "success", r
    return r["data"]
total = 0
for name in get("/api/v1/label/__name__/values"):
    q = {"query": "sum(count_over_time(%s[%s]))" % (name, rng)}
    if at:
        q["time"] = at
    for s in get("/api/v1/query", **q)["result"]:
        total += int(float(s["value"][1]))
print(total)
PY
}

# sent_samples FILE: the samples a prom-rw: sink reports as sent.
sent_samples() {
	sed -n 's/.*prom-rw:.*: \([0-9]*\) samples of .* sent in.*/\1/p' "$1"
}

# prom_query_range QUERY START END STEP: "time value" lines of the first
# series of a range query (nothing when empty).
prom_query_range() {
	curl -sf "http://$PROM/api/v1/query_range" --data-urlencode "query=$1" \
		--data-urlencode "start=$2" --data-urlencode "end=$3" --data-urlencode "step=$4" |
		python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["status"] == "success", r
for s in r["data"]["result"][:1]:
    for t, v in s["values"]:
        print(t, v)'
}
