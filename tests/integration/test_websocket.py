"""WebSockets through the load balancer with the real binary: a WebSocket echo app (Python's
standard library and a hand-written handshake) runs in the instances of an Auto Scaling group;
a client upgrades through a listener rule, its tunnel survives a scale-out of the group, and
ends cleanly (the balancer's FIN) when its target is detached and the deregistration delay has
passed. docs/load-balancer.md "WebSockets and upgrades"."""

import base64
import hashlib
import os
import socket
import struct
import time

from harness import QUICK_CHECKS, TideTestCase, free_port, try_get, wait_for

# /health for the checks; a WebSocket upgrade on any other path: every text message is echoed
# as "<instance id> <message>".
APP = r'''
import base64, hashlib, http.server, os, struct
ID = os.environ['TIDE_INSTANCE_ID']
GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

def read_frame(f):
    h = f.read(2)
    if len(h) < 2:
        return None, None
    opcode, n = h[0] & 0x0f, h[1] & 0x7f
    if n == 126:
        n = struct.unpack('!H', f.read(2))[0]
    elif n == 127:
        n = struct.unpack('!Q', f.read(8))[0]
    mask = f.read(4) if h[1] & 0x80 else b'\0\0\0\0'
    data = bytes(b ^ mask[i % 4] for i, b in enumerate(f.read(n)))
    return opcode, data

def frame(opcode, data):
    n = len(data)
    head = bytes([0x80 | opcode])
    head += bytes([n]) if n < 126 else bytes([126]) + struct.pack('!H', n)
    return head + data

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        if self.headers.get('Upgrade', '').lower() != 'websocket':
            body = ID.encode()
            self.send_response(200)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        key = self.headers['Sec-WebSocket-Key']
        accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header('Upgrade', 'websocket')
        self.send_header('Connection', 'Upgrade')
        self.send_header('Sec-WebSocket-Accept', accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while True:
            opcode, data = read_frame(self.rfile)
            if opcode is None or opcode == 8:
                if opcode == 8:
                    self.wfile.write(frame(8, data[:2]))
                    self.wfile.flush()
                return
            if opcode == 1:
                self.wfile.write(frame(1, (ID + ' ').encode() + data))
                self.wfile.flush()
    def log_message(self, *a):
        pass

http.server.ThreadingHTTPServer((os.environ['HOST'], int(os.environ['PORT'])), H).serve_forever()
'''


class WebSocket:
    """A minimal client (RFC 6455): handshake, masked text frames, unmasked frames read."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: chat.example.com\r\n"
                           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise AssertionError(f"no upgrade answer: {self.buf!r}")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode()
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if not self.head.startswith("HTTP/1.1 101 ") or want not in self.head:
            raise AssertionError(f"not switched: {self.head!r}")

    def _take(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError()
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send_text(self, text):
        data = text.encode()
        mask = os.urandom(4)
        n = len(data)
        head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126
                                else bytes([0x80 | 126]) + struct.pack("!H", n))
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def recv_text(self):
        h = self._take(2)
        n = h[1] & 0x7f
        if n == 126:
            n = struct.unpack("!H", self._take(2))[0]
        return self._take(n).decode()

    def echo(self, text):
        self.send_text(text)
        return self.recv_text()

    def wait_eof(self, timeout):
        """Seconds until the balancer's FIN (a reset or a frame fails the test)."""
        start = time.monotonic()
        self.sock.settimeout(timeout)
        chunk = self.sock.recv(4096)
        if chunk:
            raise AssertionError(f"bytes instead of the end: {chunk!r}")
        return time.monotonic() - start

    def close(self):
        self.sock.close()


class WebSocketTest(TideTestCase):
    def setUp(self):
        super().setUp()
        image = self.make_image("chat", self.app_dir({"app.py": APP}), "python3 app.py")
        self.tide("template", "create", "--name", "chat", "--image-id", image,
                  "--instance-type", "t3.nano")
        self.tide("tg", "create", "--name", "chat", "--port", "8080", "--deregistration-delay",
                  "3", *QUICK_CHECKS)
        self.tide("lb", "create", "--name", "front")
        self.port = free_port()
        listener = self.tide_json("listener", "create", "--lb", "front", "--port",
                                  str(self.port), "--fixed-response", "404:no route")[
                                      "Listeners"][0]["ListenerArn"]
        tg = self.ok("DescribeTargetGroups", {"Names": ["chat"]})["TargetGroups"][0][
            "TargetGroupArn"]
        self.ok("CreateRule", {"ListenerArn": listener, "Priority": 10,
                               "Conditions": [{"Field": "path-pattern",
                                               "Values": ["/ws/*", "/health"]}],
                               "Actions": [{"Type": "forward", "TargetGroupArn": tg}]})
        self.tide("asg", "create", "--name", "chat", "--launch-template", "chat", "--min", "0",
                  "--max", "3", "--desired", "1", "--target-groups", "chat",
                  "--health-check-type", "ELB", "--grace", "5")

    def healthy(self):
        return {d["Target"]["Id"] for d in self.tide_json("tg", "health", "chat")[
            "TargetHealthDescriptions"] if d["TargetHealth"]["State"] == "healthy"}

    def in_service(self):
        g = self.tide_json("asg", "ls", "chat")["AutoScalingGroups"][0]
        return {i["InstanceId"] for i in g["Instances"] if i["LifecycleState"] == "InService"}

    def wait_healthy(self, n):
        return wait_for(lambda: (lambda ids: ids if len(ids) == n and ids == self.healthy()
                                 else None)(self.in_service()),
                        timeout=40, interval=0.1, what=f"{n} healthy targets")

    def test_tunnel_survives_scale_out_and_ends_after_deregistration(self):
        first = self.wait_healthy(1)
        wait_for(lambda: (try_get(self.port, "/health") or (0,))[0] == 200,
                 what="the rule to answer")
        self.assertEqual(try_get(self.port, "/elsewhere")[0], 404)  # the default action

        ws = WebSocket(self.port, "/ws/room")
        self.addCleanup(ws.close)
        (target,) = first
        self.assertEqual(ws.echo("hello"), f"{target} hello")

        # Scale out: the open tunnel stays on its target and keeps working; new WebSockets
        # reach both targets.
        self.tide("asg", "set-desired", "chat", "2")
        both = self.wait_healthy(2)
        self.assertTrue(first < both)
        for i in range(5):
            self.assertEqual(ws.echo(f"m{i}"), f"{target} m{i}")
        seen = set()
        for _ in range(6):
            other = WebSocket(self.port, "/ws/other")
            seen.add(other.echo("x").split()[0])
            other.close()
        self.assertEqual(seen, both)

        # The target is detached: it drains (the tunnel stays open for the deregistration delay
        # of 3 s), then it leaves and the tunnel ends with a FIN, not a reset.
        detached = time.monotonic()
        self.ok("DetachInstances", {"AutoScalingGroupName": "chat", "InstanceIds": [target],
                                    "ShouldDecrementDesiredCapacity": True})
        wait_for(lambda: any(d["Target"]["Id"] == target and
                             d["TargetHealth"]["State"] == "draining"
                             for d in self.tide_json("tg", "health", "chat")[
                                 "TargetHealthDescriptions"]), what="the target to drain")
        self.assertEqual(ws.echo("draining"), f"{target} draining")
        ws.wait_eof(timeout=20)
        self.assertGreaterEqual(time.monotonic() - detached, 2.5)  # not before the delay
        # New WebSockets go to the target that stays.
        (stays,) = both - {target}
        fresh = WebSocket(self.port, "/ws/again")
        self.assertEqual(fresh.echo("hi"), f"{stays} hi")
        fresh.close()
