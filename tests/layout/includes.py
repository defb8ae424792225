#!/usr/bin/env python3
"""Every quoted include of our own code is path-qualified from the tree's
root ("otlp/batch.h", never "batch.h" or "../otlp/batch.h"), so that the
layer views of scripts/layer-view.py decide what a file can see. The
compiler enforces the direction; this catches the two ways around it: a
bare name (resolved next to the including file) and a relative path."""
import os
import re
import subprocess
import sys

root = sys.argv[1]
files = subprocess.run(["git", "-C", root, "ls-files", "*.c", "*.h"],
                       capture_output=True, text=True)
paths = files.stdout.split() if files.returncode == 0 else [
    os.path.relpath(os.path.join(d, f), root)
    for d, _, fs in os.walk(root) for f in fs if f.endswith((".c", ".h"))]
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
bad = 0
for rel in paths:
    if rel.startswith(("schemas/", "build")):
        continue
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = inc.match(line)
            if not m:
                continue
            name = m.group(1)
            if name == "fd_config.h":
                continue
            if "/" not in name or ".." in name.split("/"):
                print(f"{rel}:{n}: include \"{name}\" is not path-qualified from the root")
                bad += 1
            elif not os.path.exists(os.path.join(root, name)) and not name.startswith(
                    ("opentelemetry/", "firedrill/")):
                print(f"{rel}:{n}: include \"{name}\" names no file of the tree")
                bad += 1
print(f"{len(paths)} files, {bad} bad includes")
sys.exit(1 if bad else 0)
