#!/bin/sh
# dir:?format=openmetrics end to end against the promtool and Prometheus
# Debian ships: the latency-after-release recording is written as
# OpenMetrics, imported with `promtool tsdb create-blocks-from openmetrics`
# (every sample written must arrive: promtool drops out-of-order samples
# and misreads millisecond timestamps with exit status 0, so the samples
# are counted with `promtool tsdb dump`), then Prometheus serves the blocks
# and the checkout p95 is queried before and after the release; then every
# PromQL query of dashboards/firedrill-services.json must return data.
# Needs FIREDRILL and SOURCE_ROOT.
. "$(dirname "$0")/lib.sh"
fd=$FIREDRILL

"$fd" generate latency-after-release -o "$t/lar.fdr" -q || { echo "FAIL: generate"; exit 1; }
"$fd" replay "$t/lar.fdr" --to "dir:$t/om?format=openmetrics" --speed max --rebase none \
	>"$t/replay.out" 2>&1 || { bad "replay into dir:?format=openmetrics"; cat "$t/replay.out"; exit 1; }
written=$(sed -n 's/.*format=openmetrics: \([0-9]*\) samples of.*/\1/p' "$t/replay.out")
[ -n "$written" ] && [ "$written" -gt 1000000 ] && ok "wrote $written samples" ||
	bad "samples written: '$written' ($(cat "$t/replay.out"))"
tail -1 "$t/om/metrics.om" | grep -qx '# EOF' && ok "# EOF last" || bad "# EOF is not the last line"
ls "$t/om" | grep -q tmp && bad "temporary file left in the output directory"

promtool tsdb create-blocks-from openmetrics "$t/om/metrics.om" "$t/data" >"$t/import.out" 2>&1 &&
	ok "promtool imports the file" || { bad "promtool import"; cat "$t/import.out"; }
mkdir -p "$t/data/wal" # tsdb dump opens the WAL, which a backfill does not write
imported=$(promtool tsdb dump "$t/data" 2>/dev/null | wc -l)
[ "$imported" = "$written" ] && ok "promtool tsdb dump: all $imported samples arrived" ||
	bad "samples written $written, imported $imported"

printf 'global:\n  scrape_interval: 15s\n' >"$t/prometheus.yml"
prom_start "$t/prometheus.yml"
p95='histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="shop/gateway",http_route="/checkout"}[5m])))'
before=$(prom_query "$p95" 2026-01-15T13:50:00Z | awk '{print $NF}')
after=$(prom_query "$p95" 2026-01-15T14:50:00Z | awk '{print $NF}')
echo "checkout p95 at 13:50: ${before:-none} s, at 14:50: ${after:-none} s"
in_range "${before:-0}" 0.1 0.35 && ok "p95 before the release is about 200 ms" || bad "p95 before: $before"
in_range "${after:-0}" 3 6 && ok "p95 after the release is about 4 s" || bad "p95 after: $after"
# the naming conventions, through Prometheus
for q in 'process_cpu_time_seconds_total' 'process_memory_usage_bytes' \
	'target_info{job="shop/orders",service_version="v1.15.0"}' \
	'http_server_request_duration_seconds_bucket{le="+Inf"}' \
	'http_server_request_duration_seconds_bucket{le="0.005"}'; do
	[ -n "$(prom_query "$q" 2026-01-15T14:50:00Z)" ] && ok "series $q" || bad "no series $q"
done
[ -z "$(prom_query 'http_server_request_duration_seconds_bucket{le="0.0050"}' 2026-01-15T14:50:00Z)" ] ||
	bad "le rendered in two ways"
# the Grafana dashboard: every panel's query returns data
python3 "$SOURCE_ROOT/tests/prom/dashboard_check.py" "$PROM" \
	"$SOURCE_ROOT/dashboards/firedrill-services.json" 2026-01-15T13:00:00Z 2026-01-15T15:00:00Z ||
	bad "dashboards/firedrill-services.json: a query returned no data"
exit $fail
