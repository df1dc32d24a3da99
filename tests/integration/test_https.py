"""HTTPS listeners served by the real binary (docs/tls.md): two certificates made with openssl
and imported with `tide cert import`; curl (--resolve) and Python's ssl (server_hostname) get the
certificate SNI names, no SNI gets the default; TLS 1.3 and 1.2 are served, TLS 1.1 is refused
under ELBSecurityPolicy-TLS13-1-2-2021-06; X-Forwarded-Proto https reaches the target; an HTTP
listener redirects to HTTPS; a reimported certificate (rotation) leaves an open keep-alive
connection working while new connections get the new certificate; malformed TLS bytes and a
half handshake are closed without stalling other clients. HTTP/2 (ALPN h2, docs/load-balancer.md
"HTTP/2"): `curl --http2` is answered over HTTP/2, and h2load's multiplexed requests on two
connections are all 2xx."""

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import warnings

from harness import QUICK_CHECKS, TideTestCase, free_port, serving, wait_for

# Answers every path with the request's X-Forwarded-* fields (keep-alive, HTTP/1.1); /health
# for the checks.
APP = (
    "import http.server, os\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def do_GET(self):\n"
    "        body = ('proto=%s port=%s' % (self.headers.get('X-Forwarded-Proto'),\n"
    "                self.headers.get('X-Forwarded-Port'))).encode()\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers(); self.wfile.write(body)\n"
    "    def log_message(self, *a): pass\n"
    "http.server.ThreadingHTTPServer((os.environ['HOST'], int(os.environ['PORT'])), H)"
    ".serve_forever()\n")


def make_certificate(directory, name, tag=""):
    """A self-signed EC P-256 certificate for `name` (CN `name`+`tag`) and its key: paths."""
    cert = os.path.join(directory, name + tag + ".crt")
    key = os.path.join(directory, name + tag + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days",
                    "30", "-subj", "/CN=" + name + tag, "-addext", "subjectAltName=DNS:" + name],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def der(cert_path):
    with open(cert_path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def client_context(maximum=None, minimum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():  # (TLS 1.0 and 1.1 are deprecated: that is the point)
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum is not None:
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    return ctx


def handshake(port, server_hostname=None, ctx=None):
    """(peer certificate DER, TLS version) of a new connection."""
    ctx = ctx or client_context()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as s:
            return s.getpeercert(binary_form=True), s.version()


MISSING_TOOLS = shutil.which("openssl") is None or shutil.which("curl") is None
MISSING_H2LOAD = shutil.which("h2load") is None  # Debian's nghttp2-client (scripts/deps.sh)


class HttpsTest(TideTestCase):
    server_args = ("--termination-grace", "2", "--balancer-threads", "1")

    def setUp(self):
        super().setUp()
        if MISSING_TOOLS:
            self.skipTest("the openssl and curl commands are needed")
        self.tmp = tempfile.mkdtemp(prefix="tide-https-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        image = self.make_image("forwarded", self.app_dir({"app.py": APP}), "python3 app.py")
        out = self.tide_json("instance", "run", "--image-id", image, "--instance-type",
                             "t3.micro", "--wait")["Instances"]
        wait_for(lambda: serving(out[0], "/health"), what="the app to answer")
        self.tide("tg", "create", "--name", "web", "--port", "8080", *QUICK_CHECKS)
        self.tide("tg", "register", "web", out[0]["InstanceId"])
        self.tide("lb", "create", "--name", "front")
        self.certs = {}
        self.arns = {}
        for name in ("shop.example.test", "api.example.test"):
            self.certs[name] = make_certificate(self.tmp, name)
            self.arns[name] = self.tide("cert", "import", "--certificate", self.certs[name][0],
                                        "--private-key", self.certs[name][1]).stdout.strip()
        self.port = free_port()
        self.listener = self.tide_json(
            "listener", "create", "--lb", "front", "--port", str(self.port), "--certificate",
            self.arns["shop.example.test"], "--ssl-policy",
            "ELBSecurityPolicy-TLS13-1-2-2021-06", "--forward", "web")["Listeners"][0][
                "ListenerArn"]
        # (a target group is checked once a listener forwards to it)
        wait_for(lambda: all(d["TargetHealth"]["State"] == "healthy" for d in
                             self.tide_json("tg", "health", "web")["TargetHealthDescriptions"]),
                 what="the target to be healthy")
        self.ok("AddListenerCertificates", {
            "ListenerArn": self.listener,
            "Certificates": [{"CertificateArn": self.arns["api.example.test"]}]})
        wait_for(lambda: self.answers("api.example.test"), what="the HTTPS listener to answer")

    def answers(self, name):
        try:
            return handshake(self.port, name)[0] == der(self.certs[name][0])
        except OSError:
            return False

    def get(self, conn, path="/"):
        conn.request("GET", path, headers={"Host": "shop.example.test"})
        r = conn.getresponse()
        return r.status, r.read().decode()

    def test_sni_versions_forwarded_proto_and_redirect(self):
        # Python's ssl: SNI picks the certificate, none gets the default.
        for name in ("shop.example.test", "api.example.test"):
            self.assertEqual(handshake(self.port, name)[0], der(self.certs[name][0]))
        self.assertEqual(handshake(self.port, None)[0], der(self.certs["shop.example.test"][0]))
        self.assertEqual(handshake(self.port, "other.test")[0],
                         der(self.certs["shop.example.test"][0]))
        # curl with --resolve: the CN of the certificate it was served.
        for name in ("shop.example.test", "api.example.test"):
            out = subprocess.run(["curl", "-sSkv", "--max-time", "10", "--resolve",
                                  f"{name}:{self.port}:127.0.0.1", f"https://{name}:{self.port}/"],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertIn("CN=" + name, out.stderr)
            self.assertEqual(out.stdout, f"proto=https port={self.port}")
        # TLS 1.3 and 1.2 served; 1.1 refused by the policy.
        self.assertEqual(handshake(self.port, "shop.example.test")[1], "TLSv1.3")
        self.assertEqual(handshake(self.port, "shop.example.test",
                                   client_context(maximum=ssl.TLSVersion.TLSv1_2))[1], "TLSv1.2")
        with self.assertRaises(ssl.SSLError):
            handshake(self.port, "shop.example.test",
                      client_context(maximum=ssl.TLSVersion.TLSv1_1,
                                     minimum=ssl.TLSVersion.TLSv1))
        # X-Forwarded-Proto reaches the target, over one keep-alive connection.
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=client_context())
        try:
            for _ in range(3):
                self.assertEqual(self.get(conn), (200, f"proto=https port={self.port}"))
        finally:
            conn.close()
        # An HTTP listener redirecting to HTTPS.
        plain = free_port()
        self.ok("CreateListener", {
            "LoadBalancerArn": self.ok("DescribeLoadBalancers", {"Names": ["front"]})[
                "LoadBalancers"][0]["LoadBalancerArn"],
            "Protocol": "HTTP", "Port": plain,
            "DefaultActions": [{"Type": "redirect", "RedirectConfig": {
                "Protocol": "HTTPS", "Port": str(self.port), "StatusCode": "HTTP_301"}}]})

        def redirected():
            try:
                c = http.client.HTTPConnection("127.0.0.1", plain, timeout=5)
                c.request("GET", "/cart?item=3", headers={"Host": "shop.example.test"})
                r = c.getresponse()
                c.close()
                return r.status, r.getheader("Location")
            except OSError:
                return None

        wait_for(lambda: redirected() is not None, what="the HTTP listener to answer")
        self.assertEqual(redirected(),
                         (301, f"https://shop.example.test:{self.port}/cart?item=3"))
        out = subprocess.run(["curl", "-sSkL", "--max-time", "10", "--resolve",
                              f"shop.example.test:{plain}:127.0.0.1", "--resolve",
                              f"shop.example.test:{self.port}:127.0.0.1",
                              f"http://shop.example.test:{plain}/"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, f"proto=https port={self.port}", out.stderr)

    def test_rotation_keeps_open_connections(self):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=client_context())
        self.addCleanup(conn.close)
        self.assertEqual(self.get(conn)[0], 200)
        old = der(self.certs["shop.example.test"][0])
        self.assertEqual(conn.sock.getpeercert(binary_form=True), old)
        new_cert, new_key = make_certificate(self.tmp, "shop.example.test", "-v2")
        self.tide("cert", "import", "--arn", self.arns["shop.example.test"], "--certificate",
                  new_cert, "--private-key", new_key)
        wait_for(lambda: handshake(self.port, "shop.example.test")[0] == der(new_cert),
                 what="new connections to get the new certificate")
        self.assertEqual(handshake(self.port, None)[0], der(new_cert))  # the default's too
        for _ in range(3):  # the connection from before goes on with its session
            self.assertEqual(self.get(conn), (200, f"proto=https port={self.port}"))
        self.assertEqual(conn.sock.getpeercert(binary_form=True), old)

    def test_malformed_bytes_and_half_handshakes_stall_nobody(self):
        half = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(half.close)
        half.sendall(b"\x16\x03\x01\x02\x00\x01\x00")  # a ClientHello's first bytes, no more
        junk = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(junk.close)
        junk.sendall(b"\x17\x03\x03\x00\x05hello" * 4)  # application data before a handshake
        got = b""
        while True:
            chunk = junk.recv(4096)  # (the socket timeout bounds it: a timeout fails the test)
            if not chunk:
                break
            got += chunk
        self.assertFalse(got.startswith(b"HTTP/"))
        plain = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.addCleanup(plain.close)
        plain.sendall(b"GET / HTTP/1.1\r\nHost: shop.example.test\r\n\r\n")  # HTTP to HTTPS
        got = b""
        while True:
            chunk = plain.recv(4096)
            if not chunk:
                break
            got += chunk
        self.assertNotIn(b"HTTP/1.1", got)  # never answered in plain HTTP
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                           context=client_context())
        self.addCleanup(conn.close)
        self.assertEqual(self.get(conn), (200, f"proto=https port={self.port}"))

    def test_http2_curl_and_h2load(self):
        # curl over HTTP/2 (ALPN h2): the version it reports, the body from the HTTP/1.1 target.
        out = subprocess.run(["curl", "-sSk", "--http2", "--max-time", "10", "--resolve",
                              f"shop.example.test:{self.port}:127.0.0.1", "-w",
                              " version=%{http_version}",
                              f"https://shop.example.test:{self.port}/h2"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, f"proto=https port={self.port} version=2")
        # HTTP/1.1 clients of the same listener still get HTTP/1.1.
        out = subprocess.run(["curl", "-sSk", "--http1.1", "--max-time", "10", "-w",
                              " version=%{http_version}", f"https://127.0.0.1:{self.port}/"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout, f"proto=https port={self.port} version=1.1", out.stderr)
        if MISSING_H2LOAD:
            self.skipTest("h2load is not installed (Debian's nghttp2-client)")
        # h2load: 200 requests, 2 connections, 10 streams at once on each.
        out = subprocess.run(["h2load", "-c", "2", "-m", "10", "-n", "200",
                              f"https://127.0.0.1:{self.port}/load"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("200 succeeded", out.stdout, out.stdout)
        self.assertIn("status codes: 200 2xx", out.stdout, out.stdout)
        self.assertIn("Application protocol: h2", out.stdout, out.stdout)
