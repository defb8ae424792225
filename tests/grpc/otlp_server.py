#!/usr/bin/python3
"""An OTLP/gRPC receiver in Google's gRPC for Python (Debian's python3-grpcio):
an independent peer for firedrill's otlp-grpc:// sink (tests/cli/push_grpc.sh).

usage: otlp_server.py PORTFILE OUTDIR [ANSWER...]

Serves the three collector services' unary Export on a free loopback port
(written to PORTFILE). Each accepted request's message is appended to
OUTDIR/traces.pb, metrics.pb or logs.pb with a 4-byte big-endian length
before it, the framing `record --from dir:` reads. The Nth call gets the
Nth ANSWER, then every later one is accepted:
  ok                 accepted
  unavailable        UNAVAILABLE (retryable)
  unavailable-retry  UNAVAILABLE with a google.rpc.RetryInfo of 1 s (the
                     specification's throttling: retry after the delay)
  cancelled deadline aborted out-of-range data-loss
                     the other codes the OTLP specification retries
  invalid            INVALID_ARGUMENT (final)
  exhausted-retry    RESOURCE_EXHAUSTED with a google.rpc.RetryInfo of 1 s
  exhausted          RESOURCE_EXHAUSTED without RetryInfo (final)
  unauthenticated    UNAUTHENTICATED (final; the sink stops)
  partial:N          accepted, with a partial success of N rejected
Messages are not decoded here: the test decodes the files with firedrill
and compares them with what was sent.
"""
import os
import struct
import sys
import threading
from concurrent import futures

import grpc

portfile, outdir = sys.argv[1], sys.argv[2]
answers = list(sys.argv[3:])
lock = threading.Lock()
SIGNALS = {"trace": "traces", "metrics": "metrics", "logs": "logs"}
RETRYABLE = {"cancelled": grpc.StatusCode.CANCELLED,
             "deadline": grpc.StatusCode.DEADLINE_EXCEEDED,
             "aborted": grpc.StatusCode.ABORTED,
             "out-of-range": grpc.StatusCode.OUT_OF_RANGE,
             "data-loss": grpc.StatusCode.DATA_LOSS}


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def retry_info_status(code, message, seconds):
    duration = varint(1 << 3) + varint(seconds)                # Duration.seconds
    retry_info = field(1, duration)                            # RetryInfo.retry_delay
    any_ = field(1, b"type.googleapis.com/google.rpc.RetryInfo") + field(2, retry_info)
    return varint(1 << 3) + varint(code) + field(2, message.encode()) + field(3, any_)


def handler(signal):
    def export(request, context):
        with lock:
            answer = answers.pop(0) if answers else "ok"
        if answer == "unavailable":
            context.abort(grpc.StatusCode.UNAVAILABLE, "scripted: unavailable")
        if answer == "unavailable-retry":
            context.set_trailing_metadata(
                (("grpc-status-details-bin", retry_info_status(14, "come back later", 1)),))
            context.abort(grpc.StatusCode.UNAVAILABLE, "scripted: come back later")
        if answer in RETRYABLE:
            context.abort(RETRYABLE[answer], "scripted: " + answer)
        if answer == "invalid":
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "scripted: invalid")
        if answer == "exhausted-retry":
            context.set_trailing_metadata(
                (("grpc-status-details-bin", retry_info_status(8, "slow down", 1)),))
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "scripted: slow down")
        if answer == "exhausted":
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "scripted: no retry info")
        if answer == "unauthenticated":
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "scripted: who are you")
        with lock:
            with open(os.path.join(outdir, SIGNALS[signal] + ".pb"), "ab") as f:
                f.write(struct.pack(">I", len(request)) + request)
        if answer.startswith("partial:"):
            # Export*ServiceResponse{partial_success{rejected = 1; error_message = 2}}
            ps = varint(1 << 3) + varint(int(answer[8:])) + field(2, b"scripted rejection")
            return field(1, ps)
        return b""
    return export


services = []
for signal, service in (("trace", "TraceService"), ("metrics", "MetricsService"),
                        ("logs", "LogsService")):
    name = "opentelemetry.proto.collector.%s.v1.%s" % (signal, service)
    services.append(grpc.method_handlers_generic_handler(name, {
        "Export": grpc.unary_unary_rpc_method_handler(handler(signal)),
    }))

server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=services)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
with open(portfile + ".tmp", "w") as f:
    f.write(str(port))
os.rename(portfile + ".tmp", portfile)
server.wait_for_termination()
