#!/usr/bin/env python3
"""Every PromQL query of a Grafana dashboard returns data from a Prometheus.

usage: dashboard_check.py HOST:PORT DASHBOARD.json START END

Runs each panel target, the annotations and the template variable's
label_values() as range queries over [START, END] (RFC 3339) with Grafana's
variables substituted ($__rate_interval -> 1m, four scrape intervals of
15 s; $job -> .*, its "All" value), prints one line per query and exits 1
when one returns no data. Extra checks for the seed scenario: the deploy
annotation shows orders v1.15.0 and marks nothing in the first minutes of
data (every job "appears" then; that is not a deploy), the latency panel
has the checkout route.
"""
import json
import sys
import urllib.parse
import urllib.request

prom, path, start, end = sys.argv[1:5]


def api(endpoint, **params):
    url = "http://%s/api/v1/%s?%s" % (prom, endpoint, urllib.parse.urlencode(params))
    with urllib.request.urlopen(url, timeout=60) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError("%s: %s" % (url, body))
    return body["data"]


def subst(expr):
    return expr.replace("$__rate_interval", "1m").replace("$job", ".*")


def series(expr):
    return api("query_range", query=subst(expr), start=start, end=end, step="60")["result"]


dash = json.load(open(path))
failed = 0


def check(what, result, extra=None):
    global failed
    good = len(result) > 0 and (extra is None or extra(result))
    failed |= not good
    print("%s: %s: %d series" % ("ok" if good else "FAIL", what, len(result)))


for var in dash["templating"]["list"]:
    if var["type"] == "query":
        q = var["query"]["query"]
        metric, label = q[len("label_values("):-1].split(", ")
        values = api("label/%s/values" % label, **{"match[]": metric, "start": start, "end": end})
        check("variable $%s (%s)" % (var["name"], q), values)

for p in dash["panels"]:
    for t in p.get("targets", []):
        extra = None
        if "http_server_request_duration_seconds_bucket" in t["expr"]:
            extra = lambda r: any(s["metric"].get("http_route") == "/checkout" for s in r)
        check("panel '%s' %s" % (p["title"], t["refId"]), series(t["expr"]), extra)

def deploys_only(r):
    """The release is marked, and nothing in the first minutes of data: a job
    whose version has no predecessor was not deployed."""
    first = min(float(v[0]) for s in r for v in s["values"]) if r else 0
    seen = any(s["metric"].get("service_version") == "v1.15.0" and
               s["metric"].get("job", "").endswith("/orders") for s in r)
    early = [s["metric"] for s in r for v in s["values"] if float(v[0]) < first + 120 and
             float(v[0]) < start_s + 300]
    if early:
        print("  marks in the first minutes of data: %s" % early)
    return seen and not early


start_s = __import__("datetime").datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
for a in dash["annotations"]["list"]:
    check("annotation '%s'" % a["name"], series(a["expr"]), deploys_only)
sys.exit(1 if failed else 0)
