#!/usr/bin/env python3
"""A remote-write receiver that fails on purpose, for tests/prom/remote_write.sh.

usage: fake_receiver.py PORTFILE LOG STATUS...

Listens on a free loopback port (written to PORTFILE), answers the Nth POST
with the Nth STATUS (then 204 for every later one), and appends one line
per request to LOG: "status content-encoding content-type version length
sha256-of-body path x-scope-orgid authorization" (spaces in the last one as
_; "-" for a header that is not there).
"""
import hashlib
import http.server
import sys

portfile, log, statuses = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = statuses.pop(0) if statuses else 204
        with open(log, "a") as f:
            f.write("%d %s %s %s %d %s %s %s %s\n" % (
                status, self.headers.get("Content-Encoding"), self.headers.get("Content-Type"),
                self.headers.get("X-Prometheus-Remote-Write-Version"), len(body),
                hashlib.sha256(body).hexdigest(), self.path,
                self.headers.get("X-Scope-OrgID", "-"),
                self.headers.get("Authorization", "-").replace(" ", "_")))
        self.send_response(status)
        msg = b"" if status == 204 else b"try again later\n"
        self.send_header("Content-Length", str(len(msg)))
        self.end_headers()
        self.wfile.write(msg)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
server.serve_forever()
