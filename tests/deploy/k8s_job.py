#!/usr/bin/env python3
"""deploy/kubernetes/generate-shards.yaml: the Indexed Job's command works.

The manifest is read as Kubernetes would (YAML), checked for what an
Indexed Job of shards needs (completionMode Indexed, the shard count in the
arguments equal to completions, parallelism running them all at once), and
its container arguments are run with the binary as Kubernetes would run
them: $(VAR) expanded from the container's env plus JOB_COMPLETION_INDEX
for each index. Two changes make it finite here: --duration 3m instead of
forever, and a file: sink instead of the Kafka cluster. The shards together
must then be the unsharded run, record for record (fdr-cat multisets).
A shard in forever mode must also start and stop cleanly on SIGTERM.
"""
import collections
import hashlib
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time

import yaml

FD = os.environ["FIREDRILL"]
FDR_CAT = os.environ["FDR_CAT"]
MANIFEST = os.path.join(os.environ["SOURCE_ROOT"], "deploy", "kubernetes", "generate-shards.yaml")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def records(path):
    b = subprocess.run([FDR_CAT, path], check=True, capture_output=True).stdout
    i = 0
    while i < len(b):
        sig, t, _res, n = struct.unpack_from('<BQII', b, i)
        i += 17
        yield hashlib.sha1(bytes([sig]) + struct.pack('<Q', t) + b[i:i + n]).digest()
        i += n


def expand(arg, env):
    # Kubernetes' $(VAR) in args; an unknown one stays as written
    return re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), m.group(0)), arg)


def main():
    with open(MANIFEST) as f:
        job = yaml.safe_load(f)
    spec = job["spec"]
    if job["kind"] != "Job" or spec.get("completionMode") != "Indexed":
        fail("not an Indexed Job")
    n = spec["completions"]
    if spec.get("parallelism") != n:
        fail("parallelism %s: the shards simulate one system together, all must run" % spec.get("parallelism"))
    (c,) = spec["template"]["spec"]["containers"]
    args = c["args"]
    env = {e["name"]: e["value"] for e in c.get("env", [])}
    i = args.index("--shard")
    if args[i + 1] != "$(JOB_COMPLETION_INDEX)/%d" % n:
        fail("--shard %s does not match completions %d" % (args[i + 1], n))
    if spec["template"]["spec"].get("restartPolicy") != "Never":
        fail("a restarted shard would send its part twice")

    tmp = tempfile.mkdtemp(prefix="k8s-job-")
    scenario = args[1]
    whole = collections.Counter(records(run_unsharded(tmp, scenario)))
    union = collections.Counter()
    for k in range(n):
        a = [expand(x, dict(env, JOB_COMPLETION_INDEX=str(k))) for x in args]
        a[a.index("--duration") + 1] = "3m"
        a[a.index("--to") + 1] = "file:%s/shard%d.fdr" % (tmp, k)
        if "--self-metrics" in a:
            a[a.index("--self-metrics") + 1] = "127.0.0.1:0"
        p = subprocess.run([FD] + a, capture_output=True, text=True)
        if p.returncode != 0:
            fail("shard %d: %s exited %d: %s" % (k, a, p.returncode, p.stderr))
        part = collections.Counter(records("%s/shard%d.fdr" % (tmp, k)))
        if not part:
            fail("shard %d is empty" % k)
        union += part
    if union != whole:
        fail("shards together: %d records, %d extra, %d missing" % (
            sum(union.values()), sum((union - whole).values()), sum((whole - union).values())))
    print("ok: %d shards from the manifest are the unsharded run (%d records)" % (n, sum(whole.values())))

    # forever, as in the pod: starts, sends, stops on SIGTERM with status 0
    a = [expand(x, dict(env, JOB_COMPLETION_INDEX="1")) for x in args]
    a[a.index("--to") + 1] = "dir:%s/forever?format=otlp_json" % tmp
    if "--self-metrics" in a:
        a[a.index("--self-metrics") + 1] = "127.0.0.1:0"
    p = subprocess.Popen([FD] + a + ["--speed", "600x"], stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(120)
    if p.returncode != 0:
        fail("forever shard: exit %d: %s" % (p.returncode, err))
    if not os.path.getsize("%s/forever/traces.jsonl" % tmp):
        fail("forever shard sent no spans")
    print("ok: a forever shard stops on SIGTERM with status 0")


def run_unsharded(tmp, scenario):
    out = "%s/all.fdr" % tmp
    subprocess.run([FD, "generate", scenario, "--duration", "3m", "-o", out, "-q"], check=True)
    return out


main()
