#!/usr/bin/env python3
"""tls_compare.py: tide's balancer against HAProxy and nginx over TLS, side by side, on loopback.

The TLS sibling of bench/proxy_compare.py: the same backends, contenders, interleaved slices,
pinning and report (it imports that file's code), with the client side speaking TLS to every
proxy and the proxies speaking plain HTTP/1.1 with keep-alive to the nginx backends.

Contenders (all on 127.0.0.1, each in its own session, stopped by process-group id at the end):
  haproxy-1t   haproxy, nbthread 1 / 2, `bind ... ssl crt ... alpn h2,http/1.1`, mode http,
  haproxy-2t   balance roundrobin, http-reuse always (its default session cache, tickets on)
  haproxy-aa   an identical second haproxy-1t: the A/A control (its ratios are the noise floor)
  nginx-1w     nginx, worker_processes 1 / 2, `listen ... ssl http2`, upstream keepalive 256,
  nginx-2w     ssl_session_cache shared:SSL:10m, ssl_session_tickets on
  tide-1t      tide balance --threads 1 / 2 --https-cert FILE --https-key FILE --ssl-policy NAME;
  tide-2t      skipped with a message while `tide balance --help` has no --https-cert
  direct       nginx serving the responses itself over TLS (no proxy hop, no backend): what a
               TLS server that costs nothing beyond TLS reaches (in tls-new and tls-resume it
               pays for the handshakes like the proxies, so it is no ceiling there)
Every contender gets the same certificate (EC P-256, self-signed, made with openssl at start),
the same protocol (TLS 1.3 by default, --tls 1.2), the same cipher (TLS_AES_128_GCM_SHA256 for
TLS 1.3, ECDHE-ECDSA-AES128-GCM-SHA256 for TLS 1.2) and key exchange (X25519; P-256 is offered
too because TLS 1.2 clients name the certificate's curve there). haproxy and nginx are configured
to allow only that protocol and cipher; tide takes an AWS security policy by name (--ssl-policy,
ELBSecurityPolicy-TLS13-1-3-2021-06 for TLS 1.3, ELBSecurityPolicy-TLS13-1-2-2021-06 for TLS 1.2),
which allows more, so every load generator offers only that protocol, cipher and groups (wrk
through an OPENSSL_CONF file of the bench's, h2load and tide-tls-load through their options).
Before the cases, each contender is probed once: what it negotiated (protocol, cipher, group),
whether it resumes a session and whether it speaks h2 by ALPN; the report prints it.

Cases:
  tls-ka      wrk -t1 -c64 https GET /ok, keep-alive: per-request cost over an open TLS
              connection (record encryption, no handshakes)
  tls-16k     the same with GET /16k.bin: moving a 16 KiB body through TLS records
  tls-new     a new TLS connection per request with a full handshake (no resumption):
              handshakes per second, the cost of the ECDSA signature and key exchange
  tls-resume  a new TLS connection per request resuming the previous session (TLS 1.3 PSK from a
              session ticket, TLS 1.2 ticket): what resumption saves
  h2-mux      HTTP/2 over TLS, h2load -t1 -c16 -m16 GET /ok: 16 connections with 16 streams each,
              the proxy turning h2 streams into HTTP/1.1 requests; only contenders that
              negotiate h2 by ALPN (all of them, tide included: it offers h2 first)
  h2-e2e      HTTP/2 end to end: h2load over TLS as in h2-mux, through each proxy to backends
              that speak HTTP/2 cleartext with prior knowledge (h2c): the same nginx backends,
              each with a second `listen PORT http2`. Each proxy is a second instance of its
              contender (same name, same pinning, started when the case starts, up until the
              end), configured to speak h2c to those ports only (the backends' HTTP/1.1 ports
              are not in its configuration):
                haproxy   `server ... proto h2`, http-reuse always (pooled; haproxy multiplexes
                          streams on its backend connections)
                nginx     `grpc_pass grpc://backends` with upstream keepalive 256: nginx's only
                          HTTP/2-to-upstream path; it carries a plain GET /ok (a 200 "ok"),
                          one request at a time per upstream connection
                tide      `tide balance --protocol-version HTTP2`: h2c with prior knowledge, one
                          request at a time per target connection, pooled
                direct    as in h2-mux (nginx answering over TLS itself)
  grpc        the h2-e2e contenders (tide with --protocol-version GRPC) carrying a gRPC-shaped
              unary call: h2load POSTs a 5-byte-prefixed message from a file with
              content-type application/grpc and te: trailers to /grpc, which the nginx backends
              answer with 200, content-type application/grpc, a 5-byte-prefixed message (a
              static file), no content-length (as a gRPC server) and the trailer
              grpc-status: 0 (add_trailer); nginx's grpc_pass
              carries it as the gRPC proxy it is. h2load counts HTTP statuses, not grpc-status.
For tls-new and tls-resume the "req/s" column is connections (handshakes) per second.

The load generators: wrk for tls-ka and tls-16k (as proxy_compare). wrk cannot do tls-new: with
`Connection: close` it keeps one SSL object per connection slot and SSL_clear() keeps the
session, so every reconnection after the first resumes (checked with nginx's $ssl_session_reused:
572 of 576 connections resumed). openssl s_time makes one blocking connection at a time, which
measures the round trip, not the server; a Python ssl client spends more CPU per handshake than
the server does. So tls-new and tls-resume use build/tide-tls-load (bench/tls_load.cc, a CMake
target of this tree): one epoll loop with non-blocking OpenSSL, -c connections in flight, no
certificate chain verification, with or without offering the slot's last session ticket.
The client side of a full ECDSA handshake costs more than the server side (verifying a P-256
signature is about 2.7 times signing one), so with the generator on one CPU it may be the limit.
For every case the report gives the generator's CPU per request ("client us/req") and its CPU
time over the slice ("gen busy": near 100 %, it was the limit); rows marked (*) reached 85 % of
direct's rate (not in tls-new and tls-resume, where direct pays for the handshakes too) or the
generator was busy 90 % of the slice. Where the generator limits, compare the proxies' CPU per
request, not req/s.
h2-mux, h2-e2e and grpc use h2load (Debian's nghttp2-client); their p50/p99 come from its
--log-file.

Method (as proxy_compare): all contenders start at once and stay up. Per case, each contender
gets one unrecorded warm-up slice, then the load hops between them in slices of --slice seconds,
in the order A B C .. C B A .. for --rounds rounds. Per slice: the generator's figures, the
proxy's CPU time (every process in its session, from /proc), the backends' accepted connections
and the CPU used by other processes. Ratios are taken per round against the baseline's
(haproxy-1t) slice of the same round; the table shows their median and interquartile range.

Pinning (2 or more CPUs; --gen-cpus, --proxy-cpus, --proxy2-cpus, --backend-cpus, --no-pin):
the load generator alone on CPU 0; the backends, direct and the single-thread proxies on CPU 1;
the two-thread proxies on CPUs 0,1 (their second thread competes with the generator).

Needs: python3, haproxy, nginx, wrk, h2load (and nghttp for grpc), openssl, taskset, and
build/tide-tls-load
  sudo bench/tls_compare.py --install       # apt-get install haproxy nginx wrk nghttp2-client
  ninja -C build tide-tls-load
It never uses the system's haproxy or nginx configuration or services. docs/performance.md
("TLS") says how to run it and read the table.
"""

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy_compare as pc  # noqa: E402  (the backends, processes, slices and summaries)

REPO = pc.REPO
ALL_CASES = ["tls-ka", "tls-16k", "tls-new", "tls-resume", "h2-mux", "h2-e2e", "grpc"]
HANDSHAKES = ("tls-new", "tls-resume")  # cases where each request is a new TLS connection
H2_LOAD = ("h2-mux", "h2-e2e", "grpc")  # cases whose load is h2load over TLS with ALPN h2
H2_BACKENDS = ("h2-e2e", "grpc")  # cases whose proxies speak h2c to the backends
CASE_PATH = {"tls-ka": "/ok", "tls-16k": "/16k.bin", "tls-new": "/ok", "tls-resume": "/ok",
             "h2-mux": "/ok", "h2-e2e": "/ok", "grpc": "/grpc"}
# tide's --protocol-version per case (its targets' ProtocolVersion)
TIDE_PROTOCOL = {"h2-e2e": "HTTP2", "grpc": "GRPC"}
# gRPC messages: a 5-byte prefix (not compressed, 4-byte big-endian length), then the message
# (protobuf field 1, a string). The request is a file h2load posts; the response a static file.
GRPC_REQUEST = b"\x00\x00\x00\x00\x07\x0a\x05hello"
GRPC_RESPONSE = b"\x00\x00\x00\x00\x04\x0a\x02ok"
GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")
TLS13_SUITE = "TLS_AES_128_GCM_SHA256"
TLS12_CIPHER = "ECDHE-ECDSA-AES128-GCM-SHA256"
GROUPS = "X25519:P-256"  # X25519 gets the key share; TLS 1.2 also needs the certificate's curve
POLICY = {"1.3": "ELBSecurityPolicy-TLS13-1-3-2021-06",
          "1.2": "ELBSecurityPolicy-TLS13-1-2-2021-06"}
log = pc.log


# ---- TLS client helpers ------------------------------------------------------------------------


def client_context(alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def https_get(port, path, timeout=2.0, alpn=None):
    """GET over TLS (HTTP/1.1, Connection: close); returns (status, body, alpn)."""
    ctx = client_context(alpn)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            chosen = s.selected_alpn_protocol()
            if chosen == "h2":
                return None, b"", chosen
            s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                       % path).encode())
            status, body = pc.read_response(s)
            return status, body, chosen


def wait_ready_tls(port, proc, seconds=15.0):
    """True once GET /ok over TLS through `port` returns 200 "ok" (bounded: `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            status, body, _ = https_get(port, "/ok", timeout=1.0)
            if (status, body) == (200, b"ok"):
                return True
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.05)
    return False


def speaks_h2(port):
    try:
        return https_get(port, "/ok", alpn=["h2", "http/1.1"])[2] == "h2"
    except (OSError, ValueError, IndexError):
        return False


def tide_tls_flags(tide):
    """The TLS flags `tide balance --help` lists (empty when it has no TLS yet)."""
    try:
        out = subprocess.run([tide, "balance", "--help"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return set(f for f in ("--https-cert", "--https-key", "--ssl-policy", "--protocol-version")
               if f in out)


# ---- configurations ----------------------------------------------------------------------------


def client_openssl_conf(tls):
    """An OPENSSL_CONF for wrk and h2load: only the benchmark's protocol, cipher and groups."""
    version = "TLSv1.3" if tls == "1.3" else "TLSv1.2"
    return """openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MinProtocol = {v}
MaxProtocol = {v}
CipherString = {c12}
Ciphersuites = {c13}
Groups = {g}
""".format(v=version, c12=TLS12_CIPHER, c13=TLS13_SUITE, g=GROUPS)


def nginx_tls_lines(d, tls):
    return """    ssl_certificate {d}/cert.pem;
    ssl_certificate_key {d}/key.pem;
    ssl_protocols {v};
    ssl_ciphers {c12};
    ssl_conf_command Ciphersuites {c13};
    ssl_ecdh_curve {g};
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;
""".format(d=d, v="TLSv1.3" if tls == "1.3" else "TLSv1.2", c12=TLS12_CIPHER, c13=TLS13_SUITE,
           g=GROUPS)


def nginx_tls_proxy_config(d, name, port, workers, backends, nofile, maxconn, tls):
    """proxy_compare's nginx proxy, listening with TLS and HTTP/2."""
    plain = pc.nginx_proxy_config(d, name, port, workers, backends, nofile, maxconn)
    listen = "    listen 127.0.0.1:%d backlog=4096;\n" % port
    assert listen in plain
    return plain.replace(listen, "    listen 127.0.0.1:%d ssl http2 backlog=4096;\n%s"
                         % (port, nginx_tls_lines(d, tls)))


def nginx_direct_config(d, name, port, nofile, tls):
    """A backend's configuration (responses served by nginx itself), listening with TLS."""
    plain = with_grpc_location(pc.backend_config(d, name, port, nofile))
    listen = "    listen 127.0.0.1:%d backlog=4096;\n" % port
    assert listen in plain
    return plain.replace(listen, "    listen 127.0.0.1:%d ssl http2 backlog=4096;\n%s"
                         % (port, nginx_tls_lines(d, tls)))


def backend_h2_config(d, name, port, h2_port, nofile):
    """proxy_compare's backend, with a second listen speaking HTTP/2 cleartext with prior
    knowledge (h2c; nginx serves it on a non-ssl `http2` listen) and a gRPC-shaped /grpc."""
    plain = pc.backend_config(d, name, port, nofile)
    listen = "    listen 127.0.0.1:%d backlog=4096;\n" % port
    assert listen in plain
    return with_grpc_location(plain.replace(
        listen, listen + "    listen 127.0.0.1:%d http2 backlog=4096;\n" % h2_port))


def with_grpc_location(config):
    """/grpc answers a POST as a unary gRPC server would: 200, content-type application/grpc, a
    5-byte-prefixed message (www/grpc) and the trailer grpc-status: 0, without content-length.
    nginx's static module refuses POST with 405; error_page turns that into the file, served as
    GET. A sub_filter that never matches drops the file's content-length, last-modified and
    etag, as a gRPC server sends none (and tide drops the trailers of a response that has a
    content-length)."""
    ok = "    location = /ok "
    assert ok in config
    return config.replace(ok, "    location = /grpc { default_type application/grpc; "
                          "add_trailer grpc-status 0; error_page 405 =200 $uri; "
                          "sub_filter_types application/grpc; sub_filter \"no-such-text\" \"\"; "
                          "}\n" + ok)


def haproxy_tls_config(d, port, threads, backends, maxconn, nofile, tls):
    """proxy_compare's haproxy, its frontend bound with TLS and ALPN h2,http/1.1."""
    plain = pc.haproxy_config(port, threads, backends, maxconn, nofile)
    bind = " bind 127.0.0.1:%d\n" % port
    assert bind in plain
    v = "TLSv1.3" if tls == "1.3" else "TLSv1.2"
    return plain.replace(bind, " bind 127.0.0.1:%d ssl crt %s/haproxy.pem alpn h2,http/1.1 "
                         "ssl-min-ver %s ssl-max-ver %s ciphers %s ciphersuites %s curves %s\n"
                         % (port, d, v, v, TLS12_CIPHER, TLS13_SUITE, GROUPS))


def haproxy_h2_config(d, port, threads, h2_backends, maxconn, nofile, tls):
    """The TLS haproxy speaking HTTP/2 with prior knowledge to the backends' h2c ports."""
    cfg = haproxy_tls_config(d, port, threads, h2_backends, maxconn, nofile, tls)
    for i, b in enumerate(h2_backends):
        server = " server b%d 127.0.0.1:%d\n" % (i + 1, b)
        assert server in cfg
        cfg = cfg.replace(server, server[:-1] + " proto h2\n")
    return cfg


def nginx_h2_proxy_config(d, name, port, workers, h2_backends, nofile, maxconn, tls):
    """The TLS nginx proxy passing to the backends' h2c ports with grpc_pass (nginx's only
    HTTP/2-to-upstream path; it carries plain requests too), upstream keepalive as before."""
    cfg = nginx_tls_proxy_config(d, name, port, workers, h2_backends, nofile, maxconn, tls)
    http1 = """      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
"""
    assert http1 in cfg
    return cfg.replace(http1, "      grpc_pass grpc://backends;\n")


# ---- the bench ---------------------------------------------------------------------------------


class TlsBench(pc.Bench):
    def __init__(self, args):
        super().__init__(args)
        self.make_certificate()
        self.client_conf = self.path("client-openssl.cnf")
        with open(self.client_conf, "w") as f:
            f.write(client_openssl_conf(args.tls))
        self.client_env = dict(os.environ, OPENSSL_CONF=self.client_conf)
        self.negotiated = {}  # contender name: what the probe saw
        with open(self.path("www/grpc"), "wb") as f:
            f.write(GRPC_RESPONSE)
        self.grpc_request = self.path("grpc-request.bin")
        with open(self.grpc_request, "wb") as f:
            f.write(GRPC_REQUEST)
        self.backend_h2_ports = []  # each backend's h2c listen, beside backend_ports
        self.h2_contenders = {}  # case (h2-e2e, grpc): its contenders (direct shared)

    def make_certificate(self):
        r = subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", self.path("key.pem"), "-out", self.path("cert.pem"), "-days",
             "2", "-subj", "/CN=localhost", "-addext",
             "subjectAltName=DNS:localhost,IP:127.0.0.1"], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("openssl could not make the certificate:\n" + r.stderr)
        with open(self.path("haproxy.pem"), "w") as out:
            for name in ("cert.pem", "key.pem"):
                with open(self.path(name)) as f:
                    out.write(f.read())
        for name in ("key.pem", "haproxy.pem"):
            os.chmod(self.path(name), 0o644)  # nginx workers may run as another user

    def start_backends(self):
        """proxy_compare's backends, each with an h2c listen too (backend_h2_config)."""
        for i in range(self.args.backends):
            port, h2_port = pc.free_port(), pc.free_port()
            while h2_port == port:
                h2_port = pc.free_port()
            name = "backend%d" % (i + 1)
            with open(self.path(name + ".conf"), "w") as f:
                f.write(backend_h2_config(self.dir, name, port, h2_port, self.nofile))
            p = self.procs.start(["nginx", "-p", self.dir, "-e", self.path(name + ".error.log"),
                                  "-c", self.path(name + ".conf")],
                                 self.cpus("backend"), self.path(name + ".log"))
            if not pc.wait_ready(port, p):
                raise SystemExit("backend %s did not start; see %s" % (name, self.dir))
            self.backend_ports.append(port)
            self.backend_h2_ports.append(h2_port)
            self.backend_procs.append(p)

    def start_h2_contender(self, c, case):
        """A second instance of contender c for an h2c-to-backends case (h2-e2e, grpc): same
        name, threads and pinning, speaking HTTP/2 with prior knowledge to the backends' h2c
        ports only. Ready once h2load gets an answer through it. False when it cannot."""
        args = self.args
        c.port = pc.free_port()
        c.cpus = self.cpus("proxy" if c.threads == 1 else "proxy2")
        tag = "%s.%s" % (c.name, case)
        logf = self.path(tag + ".log")
        if c.kind == "haproxy":
            cfg = self.path(tag + ".cfg")
            with open(cfg, "w") as f:
                f.write(haproxy_h2_config(self.dir, c.port, c.threads, self.backend_h2_ports,
                                          self.maxconn, self.nofile, args.tls))
            argv = ["haproxy", "-db", "-f", cfg]
        elif c.kind == "nginx":
            cfg = self.path(tag + ".conf")
            with open(cfg, "w") as f:
                f.write(nginx_h2_proxy_config(self.dir, tag, c.port, c.threads,
                                              self.backend_h2_ports, self.nofile, self.maxconn,
                                              args.tls))
            argv = ["nginx", "-p", self.dir, "-e", self.path(tag + ".error.log"), "-c", cfg]
        else:
            flags = tide_tls_flags(args.tide)
            if not {"--https-cert", "--https-key", "--protocol-version"} <= flags:
                log("%s: %s not applicable: `%s balance --help` has no --https-cert or "
                    "--protocol-version" % (case, c.name, args.tide))
                c.port = None
                return False
            targets = ",".join("127.0.0.1:%d" % b for b in self.backend_h2_ports)
            argv = [args.tide, "balance", "--port", str(c.port), "--targets", targets,
                    "--threads", str(c.threads), "--https-cert", self.path("cert.pem"),
                    "--https-key", self.path("key.pem"), "--protocol-version",
                    TIDE_PROTOCOL[case]]
            policy = args.ssl_policy or POLICY[args.tls]
            if "--ssl-policy" in flags and policy != "none":
                argv += ["--ssl-policy", policy]
        c.proc = self.procs.start(argv, c.cpus, logf)
        seen = self.wait_ready_h2(c, case)
        if seen is None:
            with open(logf, errors="replace") as f:
                text = f.read()[-2000:]
            errlog = self.path(tag + ".error.log")
            if os.path.exists(errlog):
                with open(errlog, errors="replace") as f:
                    text += f.read()[-2000:]
            log("%s: %s not applicable: no 2xx answer to %s over h2 through it within 15 s. "
                "Its output:\n%s" % (case, c.name, CASE_PATH[case], text))
            c.port = None
            return False
        seen = dict(protocol=seen.get("protocol"), cipher=seen.get("cipher"),
                    group=seen.get("group"), resumes="-", h2=seen.get("alpn") == "h2")
        if case == "grpc":
            seen["grpc_status_trailer"] = self.grpc_trailer(c)
        self.negotiated["%s (%s)" % (c.name, case)] = seen
        return True

    def grpc_trailer(self, c):
        """Whether a gRPC call through c gets the backend's trailer grpc-status: 0 back (nghttp,
        of nghttp2-client as h2load; "?" without it): h2load counts only HTTP statuses."""
        if shutil.which("nghttp") is None:
            return "?"
        argv = ["nghttp", "-v", "-d", self.grpc_request]
        for h in GRPC_HEADERS:
            argv += ["-H", h]
        argv.append("https://127.0.0.1:%d%s" % (c.port, CASE_PATH["grpc"]))
        try:
            r = subprocess.run(argv, capture_output=True, timeout=5, env=self.client_env)
        except subprocess.TimeoutExpired:
            return "?"
        got = re.search(rb"recv \(stream_id=\d+\) grpc-status: 0$", r.stdout, re.M)
        return "yes" if got else "no"

    def wait_ready_h2(self, c, case, seconds=15.0):
        """h2load's figures for one request of the case's kind through c once it answers 2xx,
        None if it does not within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if c.proc is not None and c.proc.poll() is not None:
                return None
            argv = ["h2load", "-n1", "-c1", "--ciphers", TLS12_CIPHER, "--tls13-ciphers",
                    TLS13_SUITE, "--groups", GROUPS] + self.h2_request_args(case) + [
                        "https://127.0.0.1:%d%s" % (c.port, CASE_PATH[case])]
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=5,
                                   env=self.client_env)
                if re.search(r"^status codes: 1 2xx", r.stdout, re.M):
                    return parse_h2load(r.stdout, os.devnull)
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.05)
        return None

    def h2_request_args(self, case):
        """h2load's options that shape the request of an h2 case (grpc: a POSTed message)."""
        if case != "grpc":
            return []
        out = ["-d", self.grpc_request]
        for h in GRPC_HEADERS:
            out += ["-H", h]
        return out

    def start_contender(self, c):
        args = self.args
        c.port = pc.free_port()
        c.cpus = self.cpus("backend" if c.kind == "direct" else
                           "proxy" if c.threads == 1 else "proxy2")
        logf = self.path(c.name + ".log")
        if c.kind == "haproxy":
            cfg = self.path(c.name + ".cfg")
            with open(cfg, "w") as f:
                f.write(haproxy_tls_config(self.dir, c.port, c.threads, self.backend_ports,
                                           self.maxconn, self.nofile, args.tls))
            argv = ["haproxy", "-db", "-f", cfg]
        elif c.kind in ("nginx", "direct"):
            cfg = self.path(c.name + ".conf")
            with open(cfg, "w") as f:
                if c.kind == "nginx":
                    f.write(nginx_tls_proxy_config(self.dir, c.name, c.port, c.threads,
                                                   self.backend_ports, self.nofile,
                                                   self.maxconn, args.tls))
                else:
                    f.write(nginx_direct_config(self.dir, c.name, c.port, self.nofile, args.tls))
            argv = ["nginx", "-p", self.dir, "-e", self.path(c.name + ".error.log"), "-c", cfg]
        else:
            flags = tide_tls_flags(args.tide)
            if not {"--https-cert", "--https-key"} <= flags:
                log("%s skipped: `%s balance --help` has no --https-cert (no TLS in this build)"
                    % (c.name, args.tide))
                c.port = None
                return False
            targets = ",".join("127.0.0.1:%d" % b for b in self.backend_ports)
            argv = [args.tide, "balance", "--port", str(c.port), "--targets", targets,
                    "--threads", str(c.threads), "--https-cert", self.path("cert.pem"),
                    "--https-key", self.path("key.pem")]
            policy = args.ssl_policy or POLICY[args.tls]
            if "--ssl-policy" in flags and policy != "none":
                argv += ["--ssl-policy", policy]
        c.proc = self.procs.start(argv, c.cpus, logf)
        if not wait_ready_tls(c.port, c.proc):
            with open(logf, errors="replace") as f:
                log("%s did not answer GET /ok over TLS within 15 s; dropped. Its output:\n%s"
                    % (c.name, f.read()[-2000:]))
            c.port = None
            return False
        self.probe(c)
        return True

    def probe(self, c):
        """What c negotiates with the benchmark's clients, whether it resumes, whether it
        speaks h2 by ALPN."""
        c.h2 = speaks_h2(c.port)
        seen = dict(h2=c.h2)
        if os.access(self.args.tls_load, os.X_OK):
            full = self.tls_load(c, "/ok", 0.3, 2, resume=False, pinned=False)
            again = self.tls_load(c, "/ok", 0.3, 1, resume=True, pinned=False)
            seen.update(protocol=full.get("protocol"), cipher=full.get("cipher"),
                        group=full.get("group"),
                        resumes="%d of %d" % (again.get("resumed", 0), again.get("requests", 0)))
        self.negotiated[c.name] = seen

    # ---- load generators ----------------------------------------------------------------------

    def run_generator(self, argv, seconds, env=None):
        """Runs a load generator; returns its output and the CPU seconds it used (the only
        child reaped meanwhile: the contenders run until the end)."""
        if self.cpus("gen") is not None:
            argv = ["taskset", "-c", self.cpus("gen")] + argv
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True, env=env)
        self.procs.started.append(p)
        try:
            out, _ = p.communicate(timeout=seconds + 30)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            self.procs.started.remove(p)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
        return out.decode(errors="replace"), cpu

    def wrk(self, c, case, seconds):
        """The load of one slice (proxy_compare's Bench.slice calls this): by case."""
        if case in ("tls-new", "tls-resume"):
            return self.tls_load(c, CASE_PATH[case], seconds, self.args.connections,
                                 resume=case == "tls-resume")
        if case in H2_LOAD:
            return self.h2load(c, case, seconds)
        argv = ["wrk", "-t%d" % self.args.gen_threads, "-c%d" % self.args.connections,
                "-d%ds" % seconds, "--timeout", "2s", "--latency",
                "https://127.0.0.1:%d%s" % (c.port, CASE_PATH[case])]
        text, cpu = self.run_generator(argv, seconds, self.client_env)
        return dict(pc.parse_wrk(text), client_cpu_s=cpu)

    def tls_load(self, c, path, seconds, connections, resume, pinned=True):
        argv = [self.args.tls_load, "--port", str(c.port), "--path", path, "-c",
                str(connections), "-t", str(min(self.args.gen_threads, connections)), "-d",
                str(seconds), "--tls", self.args.tls, "--groups", GROUPS,
                "--tls13-ciphers", TLS13_SUITE, "--ciphers", TLS12_CIPHER]
        if resume:
            argv.append("--resume")
        if not pinned:
            saved, self.args.no_pin = self.args.no_pin, True
        try:
            text, cpu = self.run_generator(argv, seconds)
        finally:
            if not pinned:
                self.args.no_pin = saved
        try:
            j = json.loads(text.strip().splitlines()[-1])
        except (ValueError, IndexError):
            log("tide-tls-load said:\n" + text)
            return dict(requests=0, rps=0.0, p50_ms=None, p99_ms=None, errors=0)
        errors = sum(j[k] for k in ("non2xx", "connect_errors", "tls_errors", "io_errors",
                                    "timeouts"))
        return dict(requests=j["completed"], rps=j["rate"], p50_ms=j["p50_ms"],
                    p99_ms=j["p99_ms"], errors=errors, resumed=j["resumed"],
                    client_cpu_s=cpu, protocol=j["protocol"], cipher=j["cipher"],
                    group=j["group"])

    def h2load(self, c, case, seconds):
        logfile = self.path("h2load.%s.log" % c.name)
        if os.path.exists(logfile):
            os.unlink(logfile)
        argv = ["h2load", "-t%d" % min(self.args.gen_threads, self.args.h2_clients),
                "-c%d" % self.args.h2_clients, "-m%d" % self.args.h2_streams,
                "-D", str(seconds), "--ciphers", TLS12_CIPHER, "--tls13-ciphers", TLS13_SUITE,
                "--groups", GROUPS, "--log-file", logfile] + self.h2_request_args(case) + [
                    "https://127.0.0.1:%d%s" % (c.port, CASE_PATH[case])]
        text, cpu = self.run_generator(argv, seconds, self.client_env)
        return dict(parse_h2load(text, logfile), client_cpu_s=cpu)

    # ---- cases --------------------------------------------------------------------------------

    def run_case(self, case):
        if case == "h2-mux":
            for c in self.contenders:
                if c.port is not None and not c.h2:
                    log("h2-mux: %s skipped: it does not negotiate h2 by ALPN" % c.name)
        saved = self.contenders
        if case == "h2-mux":
            self.contenders = [c for c in saved if c.h2]
        elif case in H2_BACKENDS:
            self.contenders = self.h2_case_contenders(case)
        try:
            super().run_case(case)
        finally:
            self.contenders = saved

    def h2_case_contenders(self, case):
        """The contenders of an h2c-to-backends case: a second instance of each proxy, started
        now and up until the end (direct is the same one: it has no backends)."""
        if case not in self.h2_contenders:
            out = []
            for c in self.contenders:
                if c.kind == "direct":
                    if c.h2:
                        out.append(c)
                    continue
                twin = pc.Contender(c.name, c.kind, c.threads)
                if self.start_h2_contender(twin, case):
                    out.append(twin)
            self.h2_contenders[case] = out
        return self.h2_contenders[case]

    # ---- report -------------------------------------------------------------------------------

    def contender_names(self):
        """Every contender's name once, in start order (an h2c case's contenders carry the
        names of the ones they are a second instance of)."""
        out = []
        for c in self.contenders + [x for xs in self.h2_contenders.values() for x in xs]:
            if c.name not in out:
                out.append(c.name)
        return out

    def report(self):
        base = self.args.baseline
        lines = ["| case | contender | req/s | p50 ms | p99 ms | proxy us/req | cpu ratio "
                 "| req/s ratio [IQR] | p99 ratio | bconn/kreq | resumed | client us/req "
                 "| gen busy | errors |",
                 "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        summary = []
        for case in self.args.cases:
            recs = [r for r in self.slices if r["case"] == case]
            direct = [r["rps"] for r in recs if r["contender"] == "direct"]
            direct_rps = statistics.median(direct) if direct else None
            for name in self.contender_names():
                mine = [r for r in recs if r["contender"] == name]
                if not mine:
                    continue
                s = pc.summarize(mine, [r for r in recs if r["contender"] == base],
                                 name == base)
                requests = sum(r["requests"] for r in mine)
                resumed = None
                if "resumed" in mine[0]:
                    resumed = sum(r.get("resumed", 0) for r in mine) / max(requests, 1)
                client = [r["client_cpu_s"] * 1e6 / r["requests"] for r in mine
                          if r.get("client_cpu_s") is not None and r["requests"]]
                busy = [r["client_cpu_s"] / r["elapsed"] for r in mine
                        if r.get("client_cpu_s") is not None and r["elapsed"] > 0]
                s.update(case=case, contender=name, baseline=base, resumed_fraction=resumed,
                         client_us_per_req=statistics.median(client) if client else None,
                         generator_busy=statistics.median(busy) if busy else None)
                summary.append(s)
                # direct is a ceiling only where it does less than the proxies: not where
                # every request is a handshake, which it pays for too.
                near_direct = (direct_rps and name != "direct" and case not in HANDSHAKES
                               and s["rps"] >= 0.85 * direct_rps)
                busy_gen = (s["generator_busy"] is not None
                            and s["generator_busy"] >= 0.9 * self.args.gen_threads)
                mark = " (*)" if near_direct or busy_gen else ""
                cells = [case, name + mark, "%.0f" % s["rps"], "%.2f" % s["p50_ms"],
                         "%.2f" % s["p99_ms"], pc.fmt(s["us_per_req"], "%.1f"),
                         pc.fmt(s["cpu_ratio"], "%.2f"),
                         pc.ratio_text(s["rps_ratio"], s["rps_iqr"]),
                         pc.fmt(s["p99_ratio"], "%.2f"), "%.1f" % s["bconn_per_kreq"],
                         "-" if resumed is None else "%.0f%%" % (100 * resumed),
                         pc.fmt(s["client_us_per_req"], "%.1f"),
                         "-" if s["generator_busy"] is None else
                         "%.0f%%" % (100 * s["generator_busy"]), "%d" % s["errors"]]
                lines.append("| " + " | ".join(cells) + " |")
        # The two-thread rows against haproxy-2t, per round, as docs/performance.md gives them.
        pair_lines = []
        for case in self.args.cases:
            recs = [r for r in self.slices if r["case"] == case]
            two = [r for r in recs if r["contender"] == "tide-2t"]
            base2 = [r for r in recs if r["contender"] == "haproxy-2t"]
            if two and base2:
                p = pc.summarize(two, base2, False)
                summary.append(dict(p, case=case, contender="tide-2t", baseline="haproxy-2t"))
                pair_lines.append("%s: tide-2t against haproxy-2t (medians of per-round ratios): "
                                  "req/s %s, cpu %s, p99 %s" % (
                                      case, pc.ratio_text(p["rps_ratio"], p["rps_iqr"]),
                                      pc.fmt(p["cpu_ratio"], "%.2f"),
                                      pc.fmt(p["p99_ratio"], "%.2f")))
        if pair_lines:
            lines += [""] + pair_lines
        return "\n".join(lines), summary


def parse_h2load(text, logfile):
    def num(pattern, default=0.0):
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else default

    m = re.search(r"^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", text, re.M)
    if not m:
        log("h2load said:\n" + text)
        return dict(requests=0, rps=0.0, p50_ms=None, p99_ms=None, errors=0)
    succeeded, failed, errored, timeout = (int(m.group(i)) for i in (4, 5, 6, 7))
    non2xx = sum(int(x) for x in re.findall(r"(\d+) [345]xx", text))
    lat = []
    try:
        with open(logfile) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    lat.append(int(parts[2]) / 1000.0)  # start, status, elapsed us
    except OSError:
        pass
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * (len(lat) - 1) + 0.5))] if lat else None

    out = dict(requests=succeeded, rps=num(r"^finished in [\d.]+\w*, ([\d.]+) req/s"),
               p50_ms=pct(50), p99_ms=pct(99), errors=failed + errored + timeout + non2xx)
    for key, pattern in (("protocol", r"^TLS Protocol: (\S+)"), ("cipher", r"^Cipher: (\S+)"),
                         ("group", r"^Server Temp Key: (\S+)"),
                         ("alpn", r"^Application protocol: (\S+)")):
        mm = re.search(pattern, text, re.M)
        out[key] = mm.group(1) if mm else None
    return out


def versions(tide):
    info = pc.versions(tide)

    def first_line(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    info["h2load"] = first_line(["h2load", "--version"])
    info["openssl"] = first_line(["openssl", "version"])
    return info


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See the docstring at the top of this file and docs/performance.md (TLS).")
    ap.add_argument("--install", action="store_true",
                    help="apt-get install haproxy nginx wrk nghttp2-client openssl, then exit")
    ap.add_argument("--tls", default="1.3", choices=["1.3", "1.2"],
                    help="protocol version of every case (default 1.3)")
    ap.add_argument("--rounds", type=int, default=15, help="rounds per case (default 15)")
    ap.add_argument("--slice", type=int, default=2, help="seconds per slice (default 2)")
    ap.add_argument("--cases", default=",".join(ALL_CASES),
                    help="comma list of %s (default: all)" % ",".join(ALL_CASES))
    ap.add_argument("--only", default="",
                    help="comma list of contenders (haproxy-1t, haproxy-2t, nginx-1w, nginx-2w, "
                         "tide-1t, tide-2t, direct, haproxy-aa); the baseline is always kept")
    ap.add_argument("--aa", action="store_true",
                    help="the A/A control haproxy-aa (the default; see --no-aa)")
    ap.add_argument("--no-aa", action="store_true", help="no A/A control (haproxy-aa)")
    ap.add_argument("--baseline", default="haproxy-1t", help="ratios are against this contender")
    ap.add_argument("--json", metavar="FILE", help="write every slice and the summary here")
    ap.add_argument("--tide", default=os.path.join(REPO, "build", "tide"),
                    help="the tide binary (default: build/tide of this tree)")
    ap.add_argument("--ssl-policy", default="",
                    help="tide's --ssl-policy (default: %s for TLS 1.3, %s for TLS 1.2; 'none': "
                         "not passed)" % (POLICY["1.3"], POLICY["1.2"]))
    ap.add_argument("--tls-load", default=os.path.join(REPO, "build", "tide-tls-load"),
                    help="the tls-new/tls-resume load generator (ninja -C build tide-tls-load)")
    ap.add_argument("--backends", type=int, default=2, help="backend nginx instances (default 2)")
    ap.add_argument("-c", "--connections", type=int, default=64,
                    help="connections of wrk and tide-tls-load (64)")
    ap.add_argument("--h2-clients", type=int, default=16, help="h2load -c (16)")
    ap.add_argument("--h2-streams", type=int, default=16, help="h2load -m (16)")
    ap.add_argument("--gen-threads", type=int, default=1,
                    help="threads of wrk, h2load and tide-tls-load (default 1; with more CPUs "
                         "in --gen-cpus)")
    ap.add_argument("--gen-cpus", default="0", help="CPUs of the load generator (default 0)")
    ap.add_argument("--proxy-cpus", default="1", help="CPUs of single-thread proxies (default 1)")
    ap.add_argument("--proxy2-cpus", default="0,1", help="CPUs of 2-thread proxies (default 0,1)")
    ap.add_argument("--backend-cpus", default="1",
                    help="CPUs of the backends and direct (default 1)")
    ap.add_argument("--no-pin", action="store_true", help="no taskset: the scheduler decides")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every slice")
    args = ap.parse_args()
    if args.install:
        return pc.install(("haproxy", "nginx", "wrk", "nghttp2-client", "openssl"),
                          "Build the TLS load generator too: ninja -C build tide-tls-load. ")

    args.cases = [x for x in args.cases.split(",") if x]
    bad = [x for x in args.cases if x not in ALL_CASES]
    if bad:
        ap.error("unknown case %s (%s)" % (",".join(bad), ", ".join(ALL_CASES)))
    if args.rounds < 1 or args.slice < 1 or args.backends < 1 or args.gen_threads < 1:
        ap.error("--rounds, --slice, --backends and --gen-threads must be >= 1")
    # What proxy_compare's Bench reads and this bench does not use.
    args.idle, args.wrk_threads, args.profile = 0, args.gen_threads, False
    contenders = pc.choose_contenders(ap, args, pc.all_contenders(not args.no_aa))
    tools = ["haproxy", "nginx", "openssl", "taskset"]
    if {"tls-ka", "tls-16k"} & set(args.cases):
        tools.append("wrk")
    if set(H2_LOAD) & set(args.cases):
        tools.append("h2load")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        ap.error("not installed: %s (bench/tls_compare.py --install)" % " ".join(missing))
    if {"tls-new", "tls-resume"} & set(args.cases) and not os.access(args.tls_load, os.X_OK):
        ap.error("no load generator at %s (ninja -C build tide-tls-load, or --tls-load PATH)"
                 % args.tls_load)
    if any(c.kind == "tide" for c in contenders) and not os.access(args.tide, os.X_OK):
        log("no tide binary at %s: tide's contenders skipped (scripts/build.sh, or --tide PATH)"
            % args.tide)
        contenders = [c for c in contenders if c.kind != "tide"]
    pc.raise_nofile(4096)

    bench = TlsBench(args)
    info = versions(args.tide)

    def run(started):
        bench.start_backends()
        bench.start_contenders(contenders, args.baseline)
        for case in args.cases:
            log("case %s" % case)
            bench.run_case(case)
        table, summary = bench.report()
        print("tls_compare.py %s" % " ".join(sys.argv[1:]))
        print("%s; %s; %s; %s; %s; %s; %s; kernel %s, %s CPUs" % (
            started, info["haproxy"], info["nginx"], info["wrk"], info["h2load"],
            info["openssl"], info["tide"], info["kernel"], info["cpus"]))
        print("TLS %s, %s / %s, groups %s, EC P-256 certificate; tide --ssl-policy %s" % (
            args.tls, TLS13_SUITE, TLS12_CIPHER, GROUPS, args.ssl_policy or POLICY[args.tls]))
        print()
        for name, seen in bench.negotiated.items():
            print("negotiated with %s: %s %s %s, resumption %s, h2 by ALPN %s%s" % (
                name, seen.get("protocol", "?"), seen.get("cipher", "?"), seen.get("group", "?"),
                seen.get("resumes", "?"), "yes" if seen["h2"] else "no",
                ", grpc-status trailer back %s" % seen["grpc_status_trailer"]
                if "grpc_status_trailer" in seen else ""))
        print()
        print(table)
        print()
        for line in bench.other_load_lines():
            print(line)
        print("req/s: requests per second; in tls-new and tls-resume each request is a new "
              "connection (handshakes per second).")
        print("(*): the load generator, not the proxy, limits: it was busy 90 % of the slice or "
              "more, or (not in tls-new, tls-resume) the row reached 85 % of direct's rate.")
        print("gen busy: the load generator's CPU time over the slice's length (100 %: one CPU "
              "all the time, it was the limit).")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(dict(started=started, argv=sys.argv[1:], versions=info,
                               tls=dict(version=args.tls, tls13=TLS13_SUITE, tls12=TLS12_CIPHER,
                                        groups=GROUPS), negotiated=bench.negotiated,
                               slices=bench.slices, summary=summary), f, indent=1)
        return 0

    return pc.run_guarded(bench, args, "tls_compare", info, run)


if __name__ == "__main__":
    sys.exit(main())
