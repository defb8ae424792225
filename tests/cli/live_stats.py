#!/usr/bin/env python3
"""replay --stats and --self-metrics end to end.

A rate-paced replay into three sinks (dir:, the embedded Kafka broker and a
Kafka broker nobody listens on, which loses every message after 2 s):

- /metrics, scraped twice during the run, passes `promtool check metrics`,
  its counters do not go back, its histograms are cumulative with _count
  equal to the +Inf bucket, and the sinks that send have send durations;
- the --stats lines name every sink each interval and add up: the errors
  of the dead broker's lines sum to the failed messages of its summary;
- a bad --self-metrics address and a too short --stats interval are usage
  errors (exit 2) naming the option, and no output is left behind;
- generate --duration forever's lines say where the stream is, and an
  ECS dir: sink (a line per record) has send latencies.

No assertion on wall-clock figures: rates and latencies are only checked
for being there and being consistent with the totals.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

FD = os.environ["FIREDRILL"]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def parse_metrics(text):
    """{(name, frozenset(labels)): value}"""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        check(m is not None, "unparsable metrics line: %r" % line)
        if not m:
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def promtool_check(text):
    promtool = shutil.which("promtool")
    if not promtool:
        print("promtool not installed: format checked by the parser only", file=sys.stderr)
        return
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       capture_output=True)
    check(p.returncode == 0, "promtool check metrics: %s %s" % (p.stdout, p.stderr))


def series(m, name, **labels):
    want = set(labels.items())
    return {k: v for k, v in m.items() if k[0] == name and want <= set(k[1])}


def seconds(d):
    """fd_format_duration's "1h2m3s" in seconds."""
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)(ms|d|h|m|s)", d))


def forever(tmp, line_re):
    """generate --duration forever: its stats lines say where the stream is
    (the drill's loop publishes no position: the lines ask the drill), and
    a line-per-record format (dir:?format=ecs) has send latencies."""
    out = os.path.join(tmp, "forever")
    sink = "dir:%s?format=ecs" % out
    q = subprocess.Popen([FD, "generate", "latency-after-release", "--duration", "forever",
                          "--speed", "60x", "--to", sink, "--stats"],
                         stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines = []
    t = threading.Thread(target=lambda: lines.extend(x.rstrip("\n") for x in q.stderr))
    t.start()
    deadline = time.monotonic() + 120
    while sum(1 for x in lines if x.startswith("stats ")) < 4 and time.monotonic() < deadline \
            and q.poll() is None:
        time.sleep(0.05)
    q.send_signal(signal.SIGTERM)
    rc = q.wait(120)
    t.join()
    check(rc == 0, "forever: exit %d\n%s" % (rc, "\n".join(lines)))
    stats = [x for x in lines if x.startswith("stats ")]
    # ", behind by D" follows when the stream fell behind real time (a loaded machine)
    pos = [re.search(r" at (\S+) of the stream(, behind by \S+)?$", x) for x in stats]
    check(len(stats) >= 4 and all(pos), "forever: stats lines without the stream position:\n%s"
          % "\n".join(lines))
    at = [seconds(m.group(1)) for m in pos if m]
    check(at == sorted(at) and at and at[-1] > 0, "forever: positions %s" % at)
    ecs = [m for m in map(line_re.match, lines) if m and m.group(1) == sink]
    check(len(ecs) == len(stats), "forever: %d lines of %s for %d intervals" % (len(ecs), sink, len(stats)))
    check(any(m.group(4) != "-" for m in ecs), "%s: no send p50:\n%s" % (sink, "\n".join(lines)))


def main():
    tmp = tempfile.mkdtemp(prefix="live-stats-")
    try:
        rec = os.path.join(tmp, "in.fdr")
        subprocess.run([FD, "generate", "latency-after-release", "--duration", "15m", "-o", rec,
                        "-q"], check=True)
        out = os.path.join(tmp, "out")
        dead = "kafka://127.0.0.1:1?delivery_timeout=2s"
        cmd = [FD, "replay", rec, "--until", "5m", "--rate", "8k/s",
               "--to", "dir:%s?format=otlp_json" % out, "--to", "kafka://embedded",
               "--to", dead, "--stats", "--self-metrics", "127.0.0.1:0"]
        p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        lines = []
        addr = threading.Event()
        found = {}

        def reader():
            for line in p.stderr:
                lines.append(line.rstrip("\n"))
                m = re.search(r"own metrics at (http://\S+/metrics)", line)
                if m:
                    found["url"] = m.group(1)
                    addr.set()
            addr.set()

        t = threading.Thread(target=reader)
        t.start()
        check(addr.wait(120) and "url" in found, "no 'own metrics at' line: %s" % lines)
        scrapes = []
        if "url" in found:
            for _ in range(2):
                # wait for a stats line between scrapes: counters must move
                n = sum(1 for x in lines if x.startswith("stats "))
                deadline = time.monotonic() + 60
                while sum(1 for x in lines if x.startswith("stats ")) == n and \
                        time.monotonic() < deadline and p.poll() is None:
                    time.sleep(0.05)
                if p.poll() is not None:
                    break
                with urllib.request.urlopen(found["url"], timeout=10) as r:
                    check(r.headers["Content-Type"].startswith("text/plain"),
                          "content type %s" % r.headers["Content-Type"])
                    scrapes.append(r.read().decode())
        rc = p.wait(300)
        t.join()
        err = "\n".join(lines)
        check(rc == 1, "exit status %d (1: the dead broker's records not delivered)\n%s" % (rc, err))
        check(len(scrapes) == 2, "scraped %d times during the run" % len(scrapes))

        sinks = ["dir:%s?format=otlp_json" % out, "kafka://embedded", dead]
        ms = [parse_metrics(s) for s in scrapes]
        for s in scrapes:
            promtool_check(s)
        for m in ms:
            for sink in sinks:
                b = series(m, "firedrill_sink_send_duration_seconds_bucket", sink=sink)
                les = sorted(b.items(), key=lambda kv: float(dict(kv[0][1])["le"].replace("+Inf", "inf")))
                vals = [v for _, v in les]
                check(vals == sorted(vals), "%s: buckets not cumulative %s" % (sink, vals))
                cnt = series(m, "firedrill_sink_send_duration_seconds_count", sink=sink)
                check(len(cnt) == 1 and vals and list(cnt.values())[0] == vals[-1],
                      "%s: _count %s, +Inf %s" % (sink, cnt, vals[-1:]))
            check(series(m, "firedrill_info", command="replay"), "no firedrill_info")
        if len(ms) == 2:
            a, b = ms
            for k, v in a.items():
                if k[0].endswith("_total") or k[0].endswith("_bucket") or k[0].endswith("_count"):
                    check(b.get(k, -1) >= v, "counter %s went from %s to %s" % (k, v, b.get(k)))
            for sink in sinks:
                r0 = sum(series(a, "firedrill_sink_records_total", sink=sink).values())
                r1 = sum(series(b, "firedrill_sink_records_total", sink=sink).values())
                check(r1 > r0, "%s: records_total did not move (%s, %s)" % (sink, r0, r1))
            for sink in sinks[:2]:
                c = sum(series(b, "firedrill_sink_send_duration_seconds_count", sink=sink).values())
                check(c > 0, "%s: no send durations" % sink)
            check(series(b, "firedrill_target_records_per_second")
                  and list(series(b, "firedrill_target_records_per_second").values())[0] == 8000,
                  "target rate: %s" % series(b, "firedrill_target_records_per_second"))

        # the stats lines: one block per interval, a line per sink
        blocks = [x for x in lines if x.startswith("stats ")]
        check(len(blocks) >= 3, "stats blocks: %d" % len(blocks))
        per = {s: [] for s in sinks}
        line_re = re.compile(r"^  (\S+): (\d+) records/s, ([\d.]+) MB/s, send p50 (\S+) p99 (\S+), "
                             r"in flight (.+), queued (.+), retries (\d+), errors (\d+)$")
        for x in lines:
            m = line_re.match(x)
            if m and m.group(1) in per:
                per[m.group(1)].append(m)
        for s in sinks:
            check(len(per[s]) == len(blocks), "%s: %d lines for %d intervals" % (s, len(per[s]), len(blocks)))
        check(any(m.group(4) != "-" for m in per["kafka://embedded"]), "embedded Kafka: no send p50")
        check(any(m.group(4) != "-" for m in per[sinks[0]]), "dir: no send p50")
        errors = sum(int(m.group(9)) for m in per[dead])
        summary = re.search(re.escape(dead) + r": (\d+) messages, .* (\d+) delivered, (\d+) failed", err)
        check(summary is not None, "no summary line for the dead broker:\n" + err)
        if summary:
            check(int(summary.group(3)) > 0 and errors == int(summary.group(3)),
                  "dead broker: errors in the lines %d, failed in the summary %s" % (errors, summary.group(3)))
        check(all(int(m.group(9)) == 0 for m in per["kafka://embedded"]), "embedded Kafka errors")

        # bad options: exit 2, the option named, nothing written
        for args, want in ((["--self-metrics", "example.com:80"], "--self-metrics 'example.com:80'"),
                           (["--self-metrics", "127.0.0.1"], "--self-metrics '127.0.0.1'"),
                           (["--stats=10ms"], "--stats='10ms'")):
            bad = os.path.join(tmp, "bad")
            q = subprocess.run([FD, "replay", rec, "--to", "dir:%s" % bad, "--speed", "max"] + args,
                               capture_output=True, text=True)
            check(q.returncode == 2 and want in q.stderr,
                  "%s: exit %d, %s" % (args, q.returncode, q.stderr.strip()))
            check(not os.path.exists(bad), "%s left %s" % (args, bad))

        forever(tmp, line_re)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d failures" % len(failures), file=sys.stderr)
        sys.exit(1)
    print("ok")


main()
