"""A fault-injecting HTTP proxy in front of a Kubernetes API server, for Windlass's tests.

Clients speak plain HTTP to it (127.0.0.1 only); it forwards each request over HTTPS to the
server (trusting the CA it is given) and streams the answer back, so watches pass through
line by line. Faults are switched on with POST /__fault?mode=... :

  none           forward everything
  429            every other API request is answered 429 with Retry-After: 1
  503            every other API request is answered 503
  reset-watches  open watch connections are cut now (the mode stays)
  gone           the next watch answers one ERROR 410 event and ends (the mode stays)
  down           every request's connection is closed unanswered until mode changes
  expire-continue  a list asking for its next page (continue=...) is answered 410 Expired

GET /__stats answers JSON: requests forwarded per method, faults injected, watches cut, and the
lists seen: paged (limit=...), continued (continue=...) and whole (neither, not a watch).
"""

import http.client
import json
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TARGET_HOST, TARGET_PORT, CA_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
CONTEXT = ssl.create_default_context(cafile=CA_FILE)

state = {"mode": "none", "counter": 0, "gone": False}
stats = {"forwarded": {}, "injected": 0, "cut": 0, "paged": 0, "continued": 0, "whole": 0}
lock = threading.Lock()
watches = set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def control(self):
        url = urlparse(self.path)
        if url.path == "/__stats":
            with lock:
                self.reply(200, json.dumps(stats))
            return
        mode = parse_qs(url.query).get("mode", ["none"])[0]
        with lock:
            if mode == "gone":
                state["gone"] = True
            elif mode != "reset-watches":
                state["mode"] = mode
                state["counter"] = 0
            if mode == "reset-watches":
                for connection in list(watches):
                    try:
                        connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    stats["cut"] += 1
                watches.clear()
        self.reply(200, json.dumps({"mode": state["mode"]}))

    def handle_one(self):
        if self.path.startswith("/__"):
            return self.control()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        watch = "watch=1" in self.path or "watch=true" in self.path
        with lock:
            mode = state["mode"]
            state["counter"] += 1
            odd = state["counter"] % 2 == 1
            gone = watch and state["gone"]
            if gone:
                state["gone"] = False
        query = parse_qs(urlparse(self.path).query)
        if self.command == "GET" and not watch and "/__" not in self.path:
            with lock:
                if "continue" in query:
                    stats["continued"] += 1
                elif "limit" in query:
                    stats["paged"] += 1
                else:
                    stats["whole"] += 1
        if mode == "expire-continue" and "continue" in query:
            with lock:
                stats["injected"] += 1
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 410, "reason": "Expired",
                      "message": "The provided continue parameter is too old to display a consistent list result."}
            return self.reply(410, json.dumps(status))
        if mode == "down":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if mode in ("429", "503") and odd and not watch:
            with lock:
                stats["injected"] += 1
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": int(mode)}
            if mode == "429":
                status.update(reason="TooManyRequests", message="too many requests, please try again later")
                return self.reply(429, json.dumps(status), [("Retry-After", "1")])
            status.update(reason="ServiceUnavailable", message="the server is currently unable to handle the request")
            return self.reply(503, json.dumps(status))
        if gone:
            with lock:
                stats["injected"] += 1
            line = json.dumps({"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
                                                            "message": "too old resource version"}}) + "\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            data = line.encode()
            self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
            return
        with lock:
            stats["forwarded"][self.command] = stats["forwarded"].get(self.command, 0) + 1
        upstream = http.client.HTTPSConnection(TARGET_HOST, TARGET_PORT, context=CONTEXT, timeout=3600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection", "proxy-connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        response = upstream.getresponse()
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if watch:
            with lock:
                watches.add(self.connection)
        try:
            while True:
                chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
                if not chunk:
                    break
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
        finally:
            upstream.close()
            with lock:
                watches.discard(self.connection)

    def do_GET(self):
        self.handle_one()

    def do_POST(self):
        self.handle_one()

    def do_PUT(self):
        self.handle_one()

    def do_PATCH(self):
        self.handle_one()

    def do_DELETE(self):
        self.handle_one()


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("listening on %d" % server.server_address[1], flush=True)
server.serve_forever()
