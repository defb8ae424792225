"""Reads a stream to its end as cheaply as Python can and prints the byte
count: from stdin ('-') or from the one client of a Unix stream socket at
PATH (created here). The benchmarks' common reader, so that loggen and
firedrill are measured against the same consumer."""
import os
import socket
import sys

buf = bytearray(1 << 20)
total = 0
if sys.argv[1] == "-":
    f = sys.stdin.buffer.raw
    while True:
        n = f.readinto(buf)
        if not n:
            break
        total += n
else:
    path = sys.argv[1]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    c, _ = s.accept()
    while True:
        n = c.recv_into(buf)
        if not n:
            break
        total += n
    os.unlink(path)
print(total)
