#!/usr/bin/env python3
"""A loopback https server that answers Prometheus' instant-query API, for the TLS test of the
static binary (scripts/ship-check.sh). Its certificate is signed by a test CA made at test time,
so a client trusts it only through --prometheus-ca-file.

    tls-promql-server.py CERT KEY PORT_FILE QUERY_LOG

Binds 127.0.0.1 on a free port and writes the port to PORT_FILE; every query it is sent is
appended to QUERY_LOG. Every query answers one sample, 45 at 2026-01-01T00:00:00Z. It serves
until killed, and stops by itself after 300 seconds in any case.
"""
import json
import os
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

cert, key, port_file, query_log = sys.argv[1:5]
T = 1767225600


class Handler(BaseHTTPRequestHandler):
    def answer(self, params):
        with open(query_log, "a") as log:
            log.write(" ".join(params.get("query", [""])) + "\n")
        body = json.dumps(
            {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}, "value": [T, "45"]}]}}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.answer(parse_qs(urlparse(self.path).query))

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.answer(parse_qs(self.rfile.read(length).decode()))

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
threading.Timer(300, server.shutdown).start()
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))


os.replace(port_file + ".tmp", port_file)
server.serve_forever()
