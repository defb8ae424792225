"""Helpers for the drill tests: run `firedrill drill` with its console, talk
to the control API, read what the sinks got."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

FIREDRILL = os.environ.get("FIREDRILL", "firedrill")


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Drill:
    """`firedrill drill ... --console 127.0.0.1:0`, its URL read from stderr."""

    def __init__(self, args, tmp):
        self.errpath = os.path.join(tmp, "drill-stderr.txt")
        self.err = open(self.errpath, "w+")
        cmd = [FIREDRILL, "drill"] + args + ["--console", "127.0.0.1:0"]
        print("+ " + " ".join(cmd), file=sys.stderr)
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        self.url = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and self.url is None:
            if self.proc.poll() is not None:
                fail("drill exited early (%d): %s" % (self.proc.returncode, self.stderr()))
            m = re.search(r"console on (http://\S+/)", self.stderr())
            if m:
                self.url = m.group(1)
            else:
                time.sleep(0.1)
        check(self.url, "no console URL in: " + self.stderr())

    def stderr(self):
        self.err.flush()
        with open(self.errpath) as f:
            return f.read()

    def request(self, method, path):
        req = urllib.request.Request(self.url + path.lstrip("/"), method=method,
                                     data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                body = r.read()
                return r.status, r.headers, body
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get(self, path):
        status, headers, body = self.request("GET", path)
        check(status == 200, "GET %s: %d %s" % (path, status, body[:200]))
        check(headers.get("Content-Type", "").startswith("application/json"),
              "GET %s: not JSON: %s" % (path, headers.get("Content-Type")))
        return json.loads(body)

    def post(self, path):
        status, _, body = self.request("POST", path)
        return status, json.loads(body) if body else None

    def state(self):
        return self.get("/api/state")

    def wait_offset(self, offset_s, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.state()
            if s["offset_s"] >= offset_s:
                return s
            time.sleep(0.2)
        fail("the drill did not reach offset %ds in %ds" % (offset_s, timeout))

    def stop(self, timeout=300):
        status, body = self.post("/api/stop")
        check(status == 202, "POST /api/stop: %d %s" % (status, body))
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("drill did not exit after /api/stop")
        check(rc == 0, "drill exit status %d after stop: %s" % (rc, self.stderr()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def run(args, **kw):
    print("+ firedrill " + " ".join(args), file=sys.stderr)
    p = subprocess.run([FIREDRILL] + args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        fail("firedrill %s: exit %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p


def percentile(values, q):
    v = sorted(values)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(round(q * len(v) + 0.5)) - 1))
    return v[k]


def root_spans(recording, tmp, service, name):
    """(start unix ns, duration s, error) of the root server spans `name` of
    `service` in a recording, read back as OTLP JSON through replay."""
    out = tempfile.mkdtemp(dir=tmp)
    run(["replay", recording, "--to", "dir:%s?format=otlp_json" % out, "--signals", "traces",
         "--service", service, "--speed", "max", "--rebase", "none", "-q"])
    spans = []
    with open(os.path.join(out, "traces.jsonl")) as f:
        for line in f:
            req = json.loads(line)
            for rs in req.get("resourceSpans", []):
                for ss in rs.get("scopeSpans", []):
                    for sp in ss.get("spans", []):
                        if sp.get("parentSpanId") or sp.get("kind") != 2 or sp.get("name") != name:
                            continue
                        start, end = int(sp["startTimeUnixNano"]), int(sp["endTimeUnixNano"])
                        err = sp.get("status", {}).get("code") == 2
                        spans.append((start, (end - start) / 1e9, err))
    return spans


def p95_between(spans, t0, t1):
    v = [d for (s, d, _) in spans if t0 <= s < t1]
    return percentile(v, 0.95), len(v)
