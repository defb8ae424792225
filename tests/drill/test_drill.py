#!/usr/bin/env python3
"""`firedrill drill` end to end, at 60x: the control API, the simulation
steered by an action, the sinks, the debrief.

1. latency-after-release live at 60x with its console: /api/scenario and
   /api/state answer; an unknown action is 404, rollback-orders is 200 with
   the moment it takes effect, taking it again is 409; the live figures and
   what a file: sink received (read back through replay as OTLP JSON) both
   show POST /checkout p95 back near 200 ms after the rollback; POST
   /api/stop ends the drill with status 0, the sinks closed and the -o
   recording written with the action log.
2. The debrief: `drill --actions-from` the live recording gives the same
   bytes; `inspect --answer-key` shows the action with its before and after;
   `inspect --html` writes a page with the data.
3. A wrong action (scale-checkout) leaves p95 where it was, as measured in
   the output.
4. A stop flushes every sink: dir: (OTLP JSON), file: and the recording hold
   records up to where the drill stopped.
"""
import datetime
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from drillutil import Drill, check, fail, p95_between, root_spans, run  # noqa: E402

NS = 1_000_000_000
HISTORY = 64 * 60    # joins 4 minutes into the incident (release at 1h, 5 min rollout)


def ts(rfc3339):
    return int(datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * NS)


def live(tmp):
    sink = os.path.join(tmp, "sink.fdr")
    rec = os.path.join(tmp, "drill.fdr")
    d = Drill(["latency-after-release", "--to", "file:" + sink, "--speed", "60x",
               "--history", "%ds" % HISTORY, "-o", rec], tmp)
    try:
        sc = d.get("/api/scenario")
        check(sc["scenario"] == "latency-after-release", "scenario: %s" % sc["scenario"])
        names = {a["name"]: a for a in sc["actions"]}
        check(names.get("rollback-orders", {}).get("verdict") == "fixes",
              "rollback-orders is not the fix: %s" % names)
        check(sc["prompt"] and sc["endpoints"][0] == "gateway POST /checkout", "scenario view: %s" % sc)
        status, headers, body = d.request("GET", "/")
        check(status == 200 and b"<svg" not in body[:0] and b"firedrill" in body,
              "GET / does not serve the console")
        check(headers.get("Content-Type", "").startswith("text/html"), "console type")

        s = d.wait_offset(HISTORY + 120)
        for key in ("scenario", "title", "offset_s", "sim_time", "speed", "actions", "events", "figures"):
            check(key in s, "state has no %s" % key)
        check(s["speed"] == 60 and s["running"] and s["phase"] == "live", "state: %s" % s["phase"])
        check(all(a["taken_at"] is None for a in s["actions"]), "an action taken already")
        check(any(e["name"] == "orders-release" for e in s["events"]), "no release in the events")

        status, body = d.post("/api/actions/no-such-action")
        check(status == 404, "unknown action: %d %s" % (status, body))
        status, body = d.post("/api/actions/rollback-orders")
        check(status == 200, "rollback-orders: %d %s" % (status, body))
        at = body["effective_at_s"]
        check(s["offset_s"] + 60 <= at <= s["offset_s"] + 120, "effective at %s, state at %s" % (at, s["offset_s"]))
        check(body["effective_time"].endswith("Z"), "effective_time %s" % body["effective_time"])
        status, body = d.post("/api/actions/rollback-orders")
        check(status == 409, "taken twice: %d %s" % (status, body))

        # the rollout is 3 minutes; wait for 8 minutes of recovery
        s = d.wait_offset(at + 3 * 60 + 8 * 60)
        act = [a for a in s["actions"] if a["name"] == "rollback-orders"][0]
        check(act["taken_at"] == at and act["done_at"] == at + 180, "action state: %s" % act)
        check(any(e["action"] and e["name"] == "rollback-orders" for e in s["events"]), "action not in the events")
        w = s["figures"]["endpoints"][0]["windows"]
        # from the end of the release's 5-minute rollout (1h05m) on: the action is
        # taken 1-2 minutes after HISTORY (1h04m), and during the rollout p95 is
        # still climbing through 1 s as pods take the new version
        before = [x["p95"] for x in w if max(at - 300, 65 * 60) <= x["t"] < at]
        after = [x["p95"] for x in w if at + 300 <= x["t"] < s["offset_s"] - 10]
        check(before and after, "no windows around the action")
        check(min(before) > 1.0, "live p95 before the rollback: %s" % before)
        check(max(after) < 0.4, "live p95 after the rollback: %s" % after)
        shift = ts(s["sink_time"]) - ts(s["sim_time"])
        start = ts(s["sim_time"]) - int(s["offset_s"] * NS)
        stop_offset = s["offset_s"]
        d.stop()
    finally:
        d.kill()

    # what the file: sink got, stamped by the drill: the same story
    spans = root_spans(sink, tmp, "gateway", "POST /checkout")
    t_at = start + shift + int(at * NS)
    b, nb = p95_between(spans, t_at - 5 * 60 * NS, t_at)
    a, na = p95_between(spans, t_at + 5 * 60 * NS, start + shift + int(stop_offset * NS))
    print("output: p95 before %.3fs (%d spans), after %.3fs (%d spans)" % (b, nb, a, na))
    check(nb > 100 and na > 100, "too few spans: %d, %d" % (nb, na))
    check(b > 1.5, "output p95 before the rollback %.3f s" % b)
    check(a < 0.35, "output p95 after the rollback %.3f s" % a)
    return rec, at


def debrief(tmp, rec, at):
    again = os.path.join(tmp, "again.fdr")
    run(["drill", "latency-after-release", "--actions-from", rec, "--speed", "max", "-o", again, "-q"])
    with open(rec, "rb") as f1, open(again, "rb") as f2:
        check(f1.read() == f2.read(), "the debrief is not byte-identical to the live drill")
    p = run(["inspect", "--answer-key", rec])
    out = p.stdout
    check("drill log" in out and "rollback-orders" in out and "[fixes]" in out, "answer key: " + out)
    section = out[out.index("drill log"):]
    check("before" in section and "after" in section and "p95" in section, "no before/after: " + section)
    page = run(["inspect", "--html", rec]).stdout
    check(page.startswith("<!DOCTYPE html>") and "window.FD_STATIC = {" in page, "not the report page")
    check('"rollback-orders"' in page and "</html>" in page, "report without the action")
    check("http://" not in page.replace("http://www.w3.org/2000/svg", ""), "the page loads something")
    # a replay of the drill's recording works like any other
    run(["replay", rec, "--to", "dir:" + os.path.join(tmp, "replayed"), "--speed", "max", "--signals",
         "metrics", "-q"])


def wrong_action(tmp):
    """scale-checkout at the same moment, in a debrief run: p95 stays up."""
    sink = os.path.join(tmp, "wrong-sink.fdr")
    at = HISTORY + 180
    run(["drill", "latency-after-release", "--action", "scale-checkout@%ds" % at, "--until",
         "%ds" % (at + 15 * 60), "--speed", "max", "--history", "%ds" % HISTORY, "-o", sink, "-q"])
    spans = root_spans(sink, tmp, "gateway", "POST /checkout")
    start = 1768482000 * NS  # the scenario's start: -o is in scenario time
    t_at = start + at * NS
    b, nb = p95_between(spans, t_at - 5 * 60 * NS, t_at)
    a, na = p95_between(spans, t_at + 5 * 60 * NS, t_at + 15 * 60 * NS)
    print("wrong action: p95 before %.3fs (%d), after %.3fs (%d)" % (b, nb, a, na))
    check(nb > 100 and na > 100, "too few spans")
    check(b > 1.5 and a > 1.5, "scale-checkout changed p95: %.3f -> %.3f" % (b, a))


def stop_flushes(tmp):
    """Every sink has the end of the drill once it exits after /api/stop."""
    out = os.path.join(tmp, "out")
    sink = os.path.join(tmp, "flush.fdr")
    rec = os.path.join(tmp, "flush-drill.fdr")
    d = Drill(["latency-after-release", "--to", "dir:%s?format=otlp_json&batch_window=1h" % out,
               "--to", "file:" + sink, "--speed", "60x", "--history", "2m", "-o", rec], tmp)
    try:
        s = d.wait_offset(4 * 60)
        d.stop()
    finally:
        d.kill()
    stop = ts(json.loads(run(["inspect", "--json", rec]).stdout)["declared_end"])
    shift = ts(s["sink_time"]) - ts(s["sim_time"])
    # every signal's file is complete, and the metrics reach the last
    # scrape before the stop
    for name in ("metrics", "traces", "logs"):
        with open(os.path.join(out, name + ".jsonl")) as f:
            lines = f.read().splitlines()
        check(lines and all(line.endswith("}") for line in lines), "%s.jsonl cut short" % name)
        if name == "metrics":
            last = max(int(x) for x in re.findall(r'"timeUnixNano":"(\d+)"', lines[-1]))
            check(last >= stop + shift - 16 * NS, "dir: metrics end %d s before the stop" %
                  ((stop + shift - last) // NS))
    for path in (sink, rec):
        run(["inspect", "--verify", path])
        info = json.loads(run(["inspect", "--json", path]).stdout)
        check(info["records"]["metrics"] > 0 and info["has_index"], "%s is not complete" % path)


def main():
    tmp = tempfile.mkdtemp(prefix="drill-test-")
    try:
        rec, at = live(tmp)
        debrief(tmp, rec, at)
        wrong_action(tmp)
        stop_flushes(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
