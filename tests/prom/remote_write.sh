#!/bin/sh
# prom-rw: end to end against Debian's Prometheus (2.42) with
# --web.enable-remote-write-receiver, started here on loopback:
#   1. backfill: the whole latency-after-release recording with --rebase
#      end-now --speed max into a fresh Prometheus without an out-of-order
#      window (series come in time order, so none is needed); every sample
#      sent is queried back, and the checkout p95 is ~200 ms before the
#      release and ~4 s after it;
#   2. a wrong path: the 404 is an error naming the status and the body;
#   3. live: a short recording with --rebase start-now at its own pace
#      into a Prometheus with a 10m out-of-order window; its samples are
#      there, at "now";
#   4. then a backfill of 2 h into that one: Prometheus answers
#      "500 too old sample" for what is beyond its window; the sink drops
#      those requests without retrying forever, exits 1 and says how many
#      samples it dropped; what it says it sent is what Prometheus holds.
# Needs FIREDRILL and SOURCE_ROOT.
. "$(dirname "$0")/lib.sh"
fd=$FIREDRILL

"$fd" generate latency-after-release -o "$t/lar.fdr" -q || { echo "FAIL: generate"; exit 1; }
"$fd" generate latency-after-release --duration 50s -o "$t/live.fdr" -q || { echo "FAIL: generate"; exit 1; }

printf 'global:\n  scrape_interval: 15s\n' >"$t/plain.yml"
prom_start "$t/plain.yml" --web.enable-remote-write-receiver
"$fd" replay "$t/lar.fdr" --to "prom-rw:http://$PROM/api/v1/write" --speed max --rebase end-now \
	--signals metrics >"$t/backfill.out" 2>&1; got=$?
[ $got = 0 ] && ok "backfill: exit 0" || bad "backfill: exit $got: $(cat "$t/backfill.out")"
sent=$(sent_samples "$t/backfill.out")
held=$(prom_count_samples 4h)
echo "backfill: sent ${sent:-?} samples, Prometheus holds $held"
[ -n "$sent" ] && [ "$sent" -gt 1000000 ] && [ "$held" = "$sent" ] &&
	ok "every sample sent is in Prometheus" || bad "sent $sent, held $held"
# the recording ends now: the release was 1 h ago
p95='histogram_quantile(0.95, sum by (le) (rate(http_server_request_duration_seconds_bucket{job="shop/gateway",http_route="/checkout"}[5m] offset OFF)))'
before=$(prom_query "$(echo "$p95" | sed 's/OFF/70m/')" | awk '{print $NF}')
after=$(prom_query "$(echo "$p95" | sed 's/OFF/10m/')" | awk '{print $NF}')
echo "checkout p95 70 min ago: ${before:-none} s, 10 min ago: ${after:-none} s"
in_range "${before:-0}" 0.1 0.35 && ok "p95 before the release is about 200 ms" || bad "p95 before: $before"
in_range "${after:-0}" 3 6 && ok "p95 after the release is about 4 s" || bad "p95 after: $after"

"$fd" replay "$t/live.fdr" --to "prom-rw:http://$PROM/api/v1/wrong" --speed max \
	--signals metrics >"$t/404.out" 2>&1; got=$?
[ $got = 1 ] && grep -q "prom-rw:http://$PROM/api/v1/wrong'.*HTTP 404: 404 page not found" "$t/404.out" &&
	ok "a 404 is an error naming the status and the body" || bad "404: exit $got: $(cat "$t/404.out")"
prom_stop

# nobody listening: retried with backoff, then a clear failure
"$fd" replay "$t/live.fdr" --to "prom-rw:http://$PROM/api/v1/write?retries=2" --speed max \
	--signals metrics >"$t/down.out" 2>&1; got=$?
[ $got = 1 ] && grep -q "gave up after 3 attempts in .*Couldn't connect to server" "$t/down.out" &&
	ok "a receiver that is down: 3 attempts, then exit 1" || bad "down: exit $got: $(cat "$t/down.out")"

# 503 and 429 are retried (the same body again), then delivered; the
# protocol's headers are on every request
python3 "$SOURCE_ROOT/tests/prom/fake_receiver.py" "$t/fake.port" "$t/fake.log" 503 429 503 &
fake=$!
i=0
until [ -s "$t/fake.port" ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
"$fd" replay "$t/live.fdr" --to "prom-rw:http://127.0.0.1:$(cat "$t/fake.port")/api/v1/write?max_samples=1000000&tenant=a&header=X-Scope-OrgID:t1&user=u&password=pw" \
	--speed max --signals metrics >"$t/fake.out" 2>&1; got=$?
kill $fake; wait $fake 2>/dev/null
statuses=$(awk '{printf "%s ", $1}' "$t/fake.log")
bodies=$(awk '{print $6}' "$t/fake.log" | sort -u | wc -l)
headers=$(awk '{print $2, $3, $4}' "$t/fake.log" | sort -u)
[ $got = 0 ] && [ "$statuses" = "503 429 503 204 " ] && [ "$bodies" = 1 ] &&
	ok "503, 429, 503 retried with the same request, then delivered" ||
	bad "retries: exit $got, statuses '$statuses', $bodies bodies: $(cat "$t/fake.out")"
[ "$headers" = "snappy application/x-protobuf 0.1.0" ] && ok "remote write headers" ||
	bad "headers: $headers"
# header=, basic auth and the URL's own query string; no secret printed
extra=$(awk '{print $7, $8, $9}' "$t/fake.log" | sort -u)
[ "$extra" = "/api/v1/write?tenant=a t1 Basic_dTpwdw==" ] && ok "header=, user=/password=, URL query" ||
	bad "header=, auth, query: $extra"
grep -q "password=\*\*\*" "$t/fake.out" && ! grep -q "pw" "$t/fake.out" &&
	ok "the password is not printed" || bad "password shown: $(cat "$t/fake.out")"

rm -rf "$t/data"
printf 'global:\n  scrape_interval: 15s\nstorage:\n  tsdb:\n    out_of_order_time_window: 10m\n' \
	>"$t/ooo10m.yml"
prom_start "$t/ooo10m.yml" --web.enable-remote-write-receiver
"$fd" replay "$t/live.fdr" --to "prom-rw:http://$PROM/api/v1/write" --rebase start-now \
	>"$t/live.out" 2>&1; got=$?
[ $got = 0 ] && ok "live: exit 0" || bad "live: exit $got: $(cat "$t/live.out")"
live=$(sent_samples "$t/live.out")
held=$(prom_count_samples 10m)
echo "live: sent ${live:-?} samples, Prometheus holds $held in the last 10 minutes"
[ -n "$live" ] && [ "$live" -gt 0 ] && [ "$held" = "$live" ] &&
	ok "live samples are in Prometheus, stamped now" || bad "live: sent $live, held $held"

"$fd" replay "$t/lar.fdr" --to "prom-rw:http://$PROM/api/v1/write" --speed max --rebase end-now \
	--signals metrics >"$t/old.out" 2>&1; got=$?
dropped=$(sed -n 's/.*: \([0-9]*\) of \([0-9]*\) samples rejected by .* and dropped (first: HTTP 500: too old sample)/\1/p' "$t/old.out")
of=$(sed -n 's/.*: \([0-9]*\) of \([0-9]*\) samples rejected by .* and dropped.*/\2/p' "$t/old.out")
sent=$(sent_samples "$t/old.out")
echo "beyond the window: exit $got, ${dropped:-?} of ${of:-?} dropped, ${sent:-?} sent"
[ $got = 1 ] && [ -n "$dropped" ] && [ "$dropped" -gt 0 ] && [ "$of" -gt "$dropped" ] &&
	ok "500 too old sample: dropped, counted, exit 1" || bad "too old: exit $got: $(cat "$t/old.out")"
held=$(prom_count_samples 4h)
[ "$held" = "$((live + sent))" ] && ok "Prometheus holds exactly what was reported sent ($held)" ||
	bad "held $held, reported sent $live + $sent"
exit $fail
