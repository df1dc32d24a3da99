"""The shop: a small web app for tide's example stack.

Each request does a little CPU work (like rendering a product page) and says which instance
answered. It listens where tide tells it to: HOST and PORT, and knows its instance id from
TIDE_INSTANCE_ID. Standard library only, so the image needs nothing installed.

  GET /            a product page; ?work=N does N rounds of hashing (default 2000)
  GET /health      200 "ok" (for health checks)
  GET /whoami      the instance id alone
"""

import hashlib
import http.server
import json
import os
import signal
import socketserver
import sys
import time
import urllib.parse

HOST = os.environ.get("HOST", "127.0.0.1")
PORT = int(os.environ.get("PORT", "8080"))
INSTANCE = os.environ.get("TIDE_INSTANCE_ID", "local")
STARTED = time.time()


def work(rounds):
    digest = INSTANCE.encode()
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:16]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # head and body leave at once (no delayed-ACK stall)

    def reply(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Instance-Id", INSTANCE)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/health":
            self.reply(200, "ok\n", "text/plain")
            return
        if url.path == "/whoami":
            self.reply(200, INSTANCE + "\n", "text/plain")
            return
        if url.path != "/":
            self.reply(404, json.dumps({"error": "not found", "instance": INSTANCE}) + "\n")
            return
        query = urllib.parse.parse_qs(url.query)
        try:
            rounds = max(0, min(int(query.get("work", ["2000"])[0]), 10_000_000))
        except ValueError:
            self.reply(400, json.dumps({"error": "work must be a number"}) + "\n")
            return
        page = {
            "instance": INSTANCE,
            "product": "tide-pool sunglasses",
            "price": "19.99",
            "receipt": work(rounds),
            "uptime_s": round(time.time() - STARTED, 1),
        }
        self.reply(200, json.dumps(page) + "\n")

    def log_message(self, fmt, *args):
        pass  # one line per request would flood the console log


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    server = Server((HOST, PORT), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"shop {INSTANCE} listening on http://{HOST}:{PORT}", flush=True)
    try:
        server.serve_forever()
    finally:
        print(f"shop {INSTANCE} stopping", flush=True)


if __name__ == "__main__":
    main()
