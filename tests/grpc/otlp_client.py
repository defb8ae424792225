#!/usr/bin/python3
"""An OTLP/gRPC client in Google's gRPC for Python (Debian's python3-grpcio):
an independent peer for `firedrill record --from otlp-grpc://`
(tests/cli/record_grpc.sh).

usage: otlp_client.py HOST:PORT send DIR [gzip] [THREADS]
       otlp_client.py HOST:PORT call METHOD HEX

send: every export request in DIR/traces.pb, metrics.pb and logs.pb (each
with a 4-byte big-endian length before it, as `dir:?format=otlp_proto`
writes them) as a unary Export of its collector service, from THREADS
threads (4) over one channel, compressed with gzip when asked; a call
answered UNAVAILABLE is tried again after 100 ms, as the OTLP
specification asks of exporters. Exits 0 when every call ended OK, else
prints the first failure and exits 1.

call: one call of METHOD (a full method path) with the request bytes HEX;
prints the status code's name and the details, e.g. "INVALID_ARGUMENT
malformed export request".
"""
import os
import struct
import sys
import threading
import time
from concurrent import futures

import grpc

SERVICES = (("traces", "trace", "TraceService"), ("metrics", "metrics", "MetricsService"),
            ("logs", "logs", "LogsService"))


def method(pkg, service):
    return "/opentelemetry.proto.collector.%s.v1.%s/Export" % (pkg, service)


def requests(directory):
    for name, pkg, service in SERVICES:
        path = os.path.join(directory, name + ".pb")
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        at = 0
        while at < len(data):
            (n,) = struct.unpack(">I", data[at:at + 4])
            yield method(pkg, service), data[at + 4:at + 4 + n]
            at += 4 + n


def main():
    target, verb = sys.argv[1], sys.argv[2]
    channel = grpc.insecure_channel(target)
    if verb == "call":
        call = channel.unary_unary(sys.argv[3])
        try:
            call(bytes.fromhex(sys.argv[4]), timeout=30)
            print("OK")
        except grpc.RpcError as e:
            print(e.code().name, e.details())
        return 0
    directory = sys.argv[3]
    compression = grpc.Compression.Gzip if "gzip" in sys.argv[4:] else grpc.Compression.NoCompression
    threads = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    calls = {}
    failures = []
    lock = threading.Lock()

    def export(m, body):
        if m not in calls:
            with lock:
                calls.setdefault(m, channel.unary_unary(m))
        for _ in range(100):
            try:
                calls[m](body, timeout=60, compression=compression)
                return
            except grpc.RpcError as e:
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    with lock:
                        failures.append("%s: %s %s" % (m, e.code().name, e.details()))
                    return
                time.sleep(0.1)
        with lock:
            failures.append("%s: still UNAVAILABLE after 100 tries" % m)

    with futures.ThreadPoolExecutor(max_workers=threads) as pool:
        for f in [pool.submit(export, m, b) for m, b in requests(directory)]:
            f.result()
    if failures:
        print("%d calls failed; first: %s" % (len(failures), failures[0]))
        return 1
    return 0


sys.exit(main())
