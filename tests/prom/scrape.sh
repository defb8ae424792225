#!/bin/sh
# scrape: end to end: a real Prometheus (Debian's 2.42) scrapes the
# endpoint every second while the 25 minutes around the release of
# latency-after-release replay at 30x (15 of them before it: at least 30 s
# of scrapes of the healthy system even on a loaded machine, where
# Prometheus's scrapes come late and a short window mixes in the release). From what Prometheus stored:
#   - the target was up and the families are there under their names;
#   - the incident unfolds: the checkout p95 computed from the scraped
#     histograms is ~200 ms at first and above 3 s later;
#   - counters stay cumulative (no reset of the gateway's request count);
#   - the old version's target_info goes stale after the rollout while
#     the target is still up.
# Needs FIREDRILL.
. "$(dirname "$0")/lib.sh"
fd=$FIREDRILL

"$fd" generate latency-after-release --duration 1h10m -o "$t/lar.fdr" -q || { echo "FAIL: generate"; exit 1; }
port=$(free_port)
cat >"$t/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: firedrill
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$port']
YML
prom_start "$t/prometheus.yml"
start=$(date +%s)
"$fd" replay "$t/lar.fdr" --to "scrape:127.0.0.1:$port" --from 45m --until 1h10m --speed 30x \
	--rebase start-now --linger 3s >"$t/replay.out" 2>&1; got=$?
end=$(date +%s)
[ $got = 0 ] && ok "replay into scrape: exit 0" || bad "replay: exit $got: $(cat "$t/replay.out")"
scrapes=$(sed -n 's/.*scrape:.*series served on port [0-9]*, scraped \([0-9]*\) times.*/\1/p' "$t/replay.out")
echo "the endpoint was scraped ${scrapes:-?} times"
[ "${scrapes:-0}" -gt 5 ] && ok "Prometheus scraped the endpoint" || bad "scrapes: $(cat "$t/replay.out")"

span="$((end - start + 5))s"
up=$(prom_query "max_over_time(up{job=\"firedrill\"}[$span])" | awk '{print $NF}')
[ "$up" = 1 ] && ok "target up" || bad "up: $up"
for q in 'http_server_request_duration_seconds_bucket{le="+Inf"}' 'process_cpu_time_seconds_total' \
	'db_client_connection_pending_requests' 'target_info'; do
	[ -n "$(prom_query "last_over_time(${q}[$span])")" ] && ok "scraped $q" || bad "no $q"
done
p95="histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job=\"shop/gateway\",http_route=\"/checkout\"}[10s])))"
lo=$(prom_query "min_over_time(${p95}[$span:1s])" | awk '{print $NF}')
hi=$(prom_query "max_over_time(${p95}[$span:1s])" | awk '{print $NF}')
echo "checkout p95 from the scrapes: lowest ${lo:-none} s, highest ${hi:-none} s"
in_range "${lo:-9}" 0.05 0.35 && ok "p95 about 200 ms before the release" || bad "lowest p95 $lo"
in_range "${hi:-0}" 3 8 && ok "p95 above 3 s after it" || bad "highest p95 $hi"
# (orders' counters do restart from 0 with the new version's processes)
resets=$(prom_query "sum(resets(http_server_request_duration_seconds_count{job=\"shop/gateway\"}[$span]))" | awk '{print $NF}')
[ "$resets" = 0 ] && ok "the gateway's request counts only grow" || bad "counter resets: $resets"
old='target_info{job="shop/orders",service_version="v1.14.2"}'
new='target_info{job="shop/orders",service_version="v1.15.0"}'
[ -n "$(prom_query_range "count($old)" "$start" "$end" 1)" ] && ok "old version seen" || bad "no $old"
gone=$(prom_query_range "count($new) and on() absent($old) and on() up{job=\"firedrill\"} == 1" \
	"$start" "$end" 1 | wc -l)
[ "$gone" -gt 0 ] && ok "the old version's target_info went stale after the rollout (${gone} s)" ||
	bad "old target_info never went stale"
exit $fail
