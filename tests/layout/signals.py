#!/usr/bin/env python3
"""A flag that a signal handler sets is `volatile sig_atomic_t`, the only
type C guarantees a handler may write (C11 7.14.1.1), and every pointer
that carries it (the stop fields of the replay, pacer and capture options)
says so. glibc's sig_atomic_t is an int, so the compiler cannot tell; this
reads the source: in a file that installs a handler (sigaction or signal),
every `static volatile` object is sig_atomic_t, and nowhere is there a
`volatile int *`."""
import os
import re
import sys

from tree import c_sources

root = sys.argv[1]
paths = c_sources(root)
static_volatile = re.compile(r"^\s*static\s+volatile\s+(\w+(?:\s+\w+)*?)\s+\**\s*\w+\s*[;=\[]")
volatile_int_ptr = re.compile(r"volatile\s+(?:signed\s+|unsigned\s+)?int\s*\*")
bad = 0
for rel in paths:
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        lines = f.read().split("\n")
    handler = any(re.search(r"\b(sigaction|signal)\s*\(", l) for l in lines)
    for n, line in enumerate(lines, 1):
        m = static_volatile.match(line)
        if handler and m and m.group(1) != "sig_atomic_t":
            print(f"{rel}:{n}: a signal flag must be volatile sig_atomic_t: {line.strip()}")
            bad += 1
        if volatile_int_ptr.search(line):
            print(f"{rel}:{n}: a pointer to a signal flag is volatile sig_atomic_t *: "
                  f"{line.strip()}")
            bad += 1
print(f"{len(paths)} files, {bad} signal flags of the wrong type")
sys.exit(1 if bad else 0)
