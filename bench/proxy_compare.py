#!/usr/bin/env python3
"""proxy_compare.py: tide's balancer against HAProxy and nginx, side by side, on loopback.

What it runs (all on 127.0.0.1, every process in its own session, stopped by process-group id
when the script ends, fails or is interrupted):
  backends     --backends nginx instances (one process each) serving GET /ok (200 "ok") and
               GET /16k.bin (16384 bytes, sendfile), access log off, unlimited keep-alive
  haproxy-1t   haproxy, nbthread 1 / 2, mode http, balance roundrobin, http-reuse always
  haproxy-2t
  haproxy-aa   an identical second haproxy-1t: the A/A control (its ratios are the noise floor)
  nginx-1w     nginx as a proxy, worker_processes 1 / 2, upstream keepalive 256,
  nginx-2w     proxy_http_version 1.1, Connection "" (keep-alive to the backends)
  tide-1t      build/tide balance --threads 1 / 2 (no --forwarded-headers: no added header)
  tide-2t
  direct       wrk straight to backend 1: what a proxy that costs nothing would reach
None of the proxies adds a header; each passes the request's Host on unchanged.

Cases (wrk -t1 -c64 --timeout 2s --latency):
  tiny    GET /ok, keep-alive                  per-request overhead
  16k     GET /16k.bin, keep-alive             moving a body through the proxy
  close   GET /ok with Connection: close      a new client connection per request
  idle    --idle keep-alive client connections held open at once: memory per idle connection

Method: all contenders start at once and stay up (an idle proxy costs next to nothing). Per case,
each contender gets one unrecorded warm-up slice, then the load hops between them in slices of
--slice seconds, in the order A B C .. C B A .. for --rounds rounds, so that the speed changes of
a shared machine hit all of them alike. Per slice it records wrk's figures, the proxy's CPU time
(utime+stime of every process in its session, from /proc), the backends' accepted connections
(nginx stub_status) and the CPU used by other processes on the machine. Ratios are taken per
round against the baseline's slice of the same round; the table shows their median and
interquartile range.

Pinning (2 or more CPUs, change with --gen-cpus, --proxy-cpus, --proxy2-cpus, --no-pin): wrk
alone on CPU 0; the backends and the single-thread proxies on CPU 1; the two-thread proxies on
CPUs 0,1 (their second thread competes with wrk).

--profile runs none of this: it measures tide-1t alone, under valgrind --tool=callgrind
(instructions per request), strace -c (syscalls per request) and perf record (where the CPU goes,
kernel included), on the tiny, 16k and close cases (apt-get install valgrind strace linux-perf).

Needs: python3 (standard library only), haproxy, nginx, wrk, taskset (util-linux), ss (iproute2)
  sudo bench/proxy_compare.py --install     # apt-get install haproxy nginx wrk
It never uses the system's haproxy or nginx configuration or services. docs/performance.md
explains how to read the table.
"""

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
ALL_CASES = ["tiny", "16k", "close", "idle"]
CASE_PATH = {"tiny": "/ok", "16k": "/16k.bin", "close": "/ok"}
BODY_16K = 16384


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---- processes ---------------------------------------------------------------------------------


class Processes:
    """Every process the benchmark starts: each in its own session, so that its process-group id
    stops it and everything it forked, and its session id finds all of them in /proc."""

    def __init__(self):
        self.started = []  # Popen objects

    def start(self, argv, cpus, log_path, env=None):
        if cpus is not None:
            argv = ["taskset", "-c", cpus] + argv
        with open(log_path, "ab") as out:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                 start_new_session=True, env=env)
        self.started.append(p)
        return p

    def stop_all(self):
        for p in self.started:
            if p.poll() is None or self._group_alive(p.pid):
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        for p in self.started:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            if self._group_alive(p.pid):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
        self.started = []

    @staticmethod
    def _group_alive(pgid):
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False


def proc_stats():
    """{session id: (cpu seconds, rss bytes)} over all processes in /proc."""
    out = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[0] is field 3 (state) of proc(5): session is field 6, utime 14, stime 15,
        # rss 24 (pages).
        sid = int(fields[3])
        cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
        rss = int(fields[21]) * page
        c, r = out.get(sid, (0.0, 0))
        out[sid] = (c + cpu, r + rss)
    return out


def machine_busy():
    """Busy CPU seconds of the whole machine since boot (all CPUs), from /proc/stat."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    # user nice system idle iowait irq softirq steal guest guest_nice: busy is user + nice +
    # system + irq + softirq (guest time is already in user; steal is not this machine's work).
    t = [int(x) for x in parts] + [0] * 10
    return (t[0] + t[1] + t[2] + t[5] + t[6]) / CLK_TCK


# ---- HTTP helpers ------------------------------------------------------------------------------


def read_response(sock):
    """Reads one HTTP/1.1 response with a Content-Length body; returns (status, body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed in the body")
        body += chunk
    return status, body[:length]


def http_get(port, path, timeout=2.0):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % path).encode())
        return read_response(s)


def backend_accepts(port):
    """Connections the backend nginx accepted so far, including the one asking."""
    _, body = http_get(port, "/stub_status")
    # "Active connections: 1 \nserver accepts handled requests\n 7 7 12 \n..."
    return int(body.split(b"\n")[2].split()[0])


def wait_ready(port, proc, seconds=15.0):
    """True once GET /ok through `port` returns 200 "ok" (bounded: `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            if http_get(port, "/ok", timeout=1.0) == (200, b"ok"):
                return True
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.05)
    return False


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- configurations ----------------------------------------------------------------------------

NGINX_TEMP_PATHS = """
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
"""


def backend_config(d, name, port, nofile):
    return """daemon off;
master_process off;
worker_processes 1;
pid {d}/{name}.pid;
error_log {d}/{name}.error.log warn;
worker_rlimit_nofile {nofile};
events {{ worker_connections {conns}; }}
http {{
  access_log off;
  sendfile on;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
{temp}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    root {d}/www;
    location = /ok {{ default_type text/plain; return 200 "ok"; }}
    location = /16k.bin {{ }}
    location = /stub_status {{ stub_status; }}
  }}
}}
""".format(d=d, name=name, port=port, nofile=nofile, conns=nofile - 64,
           temp=NGINX_TEMP_PATHS.format(d=d))


def nginx_proxy_config(d, name, port, workers, backends, nofile, maxconn):
    servers = "".join("    server 127.0.0.1:%d;\n" % b for b in backends)
    return """daemon off;
worker_processes {workers};
pid {d}/{name}.pid;
error_log {d}/{name}.error.log warn;
worker_rlimit_nofile {nofile};
events {{ worker_connections {conns}; }}
http {{
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
{temp}
  upstream backends {{
{servers}    keepalive 256;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
  }}
  server {{
    listen 127.0.0.1:{port} backlog=4096;
    location / {{
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
    }}
  }}
}}
""".format(d=d, name=name, port=port, workers=workers, nofile=nofile,
           conns=min(maxconn, nofile - 64), servers=servers, temp=NGINX_TEMP_PATHS.format(d=d))


def haproxy_config(port, threads, backends, maxconn, nofile):
    servers = "".join(" server b%d 127.0.0.1:%d\n" % (i + 1, b) for i, b in enumerate(backends))
    # haproxy asks for 2 descriptors per maxconn and, by default (strict-limits), refuses to
    # start without them; the idle case needs one per client connection plus a few to the
    # backends, so the hard limit (ulimit-n) is enough.
    return """global
 nbthread {threads}
 maxconn {maxconn}
 ulimit-n {nofile}
 no strict-limits
defaults
 mode http
 maxconn {maxconn}
 timeout connect 5s
 timeout client 300s
 timeout server 300s
 timeout http-keep-alive 300s
 http-reuse always
frontend fe
 bind 127.0.0.1:{port}
 default_backend be
backend be
 balance roundrobin
{servers}""".format(port=port, threads=threads, maxconn=maxconn, nofile=nofile, servers=servers)


# ---- contenders --------------------------------------------------------------------------------


class Contender:
    def __init__(self, name, kind, threads):
        self.name = name
        self.kind = kind  # haproxy, nginx, tide, direct
        self.threads = threads
        self.port = None
        self.proc = None
        self.cpus = None

    @property
    def sid(self):
        return self.proc.pid if self.proc is not None else None


def all_contenders(aa):
    out = [
        Contender("haproxy-1t", "haproxy", 1),
        Contender("haproxy-2t", "haproxy", 2),
        Contender("nginx-1w", "nginx", 1),
        Contender("nginx-2w", "nginx", 2),
        Contender("tide-1t", "tide", 1),
        Contender("tide-2t", "tide", 2),
        Contender("direct", "direct", 1),
    ]
    if aa:
        out.append(Contender("haproxy-aa", "haproxy", 1))
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.procs = Processes()
        self.dir = tempfile.mkdtemp(prefix="proxy-compare-")
        os.chmod(self.dir, 0o755)  # nginx workers may run as another user
        for sub in ("www", "tmp"):
            os.mkdir(os.path.join(self.dir, sub))
        with open(os.path.join(self.dir, "www", "16k.bin"), "wb") as f:
            f.write(bytes((i * 7 + 13) & 0xFF for i in range(BODY_16K)))
        self.backend_ports = []
        self.backend_procs = []
        self.contenders = []
        self.slices = []
        self.idle = []
        self.nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        # haproxy's maxconn and nginx's worker_connections: both preallocate per connection.
        self.maxconn = max(args.idle + 1000, 8000)

    def cpus(self, role):
        if self.args.no_pin or (os.cpu_count() or 1) < 2:
            return None
        return {"gen": self.args.gen_cpus, "proxy": self.args.proxy_cpus,
                "proxy2": self.args.proxy2_cpus, "backend": self.args.backend_cpus}[role]

    def path(self, name):
        return os.path.join(self.dir, name)

    def start_backends(self):
        for i in range(self.args.backends):
            port = free_port()
            name = "backend%d" % (i + 1)
            with open(self.path(name + ".conf"), "w") as f:
                f.write(backend_config(self.dir, name, port, self.nofile))
            p = self.procs.start(["nginx", "-p", self.dir, "-e", self.path(name + ".error.log"),
                                  "-c", self.path(name + ".conf")],
                                 self.cpus("backend"), self.path(name + ".log"))
            if not wait_ready(port, p):
                raise SystemExit("backend %s did not start; see %s" % (name, self.dir))
            self.backend_ports.append(port)
            self.backend_procs.append(p)

    def start_contenders(self, contenders, baseline):
        """Starts each contender (those that start join self.contenders); the baseline must."""
        for c in contenders:
            if self.start_contender(c):
                self.contenders.append(c)
        if baseline not in [c.name for c in self.contenders]:
            raise SystemExit("the baseline %s did not start" % baseline)

    def start_contender(self, c):
        if c.kind == "direct":
            c.port = self.backend_ports[0]
            return True
        c.port = free_port()
        c.cpus = self.cpus("proxy" if c.threads == 1 else "proxy2")
        logf = self.path(c.name + ".log")
        if c.kind == "haproxy":
            cfg = self.path(c.name + ".cfg")
            with open(cfg, "w") as f:
                f.write(haproxy_config(c.port, c.threads, self.backend_ports, self.maxconn,
                                       self.nofile))
            argv = ["haproxy", "-db", "-f", cfg]
        elif c.kind == "nginx":
            cfg = self.path(c.name + ".conf")
            with open(cfg, "w") as f:
                f.write(nginx_proxy_config(self.dir, c.name, c.port, c.threads,
                                           self.backend_ports, self.nofile, self.maxconn))
            argv = ["nginx", "-p", self.dir, "-e", self.path(c.name + ".error.log"), "-c", cfg]
        else:
            targets = ",".join("127.0.0.1:%d" % b for b in self.backend_ports)
            argv = [self.args.tide, "balance", "--port", str(c.port), "--targets", targets,
                    "--threads", str(c.threads)]
        c.proc = self.procs.start(argv, c.cpus, logf)
        if not wait_ready(c.port, c.proc):
            with open(logf, errors="replace") as f:
                log("%s did not answer GET /ok within 15 s; dropped. Its output:\n%s"
                    % (c.name, f.read()[-2000:]))
            return False
        return True

    # ---- throughput slices --------------------------------------------------------------------

    def wrk_fixed(self, c, case, seconds, connections):
        saved = self.args.connections
        self.args.connections = connections
        try:
            return self.wrk(c, case, seconds)
        finally:
            self.args.connections = saved

    def wrk(self, c, case, seconds):
        argv = ["wrk", "-t%d" % self.args.wrk_threads, "-c%d" % self.args.connections,
                "-d%ds" % seconds, "--timeout", "2s", "--latency"]
        if case == "close":
            argv += ["-H", "Connection: close"]
        argv.append("http://127.0.0.1:%d%s" % (c.port, CASE_PATH[case]))
        if self.cpus("gen") is not None:
            argv = ["taskset", "-c", self.cpus("gen")] + argv
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
        self.procs.started.append(p)
        try:
            out, _ = p.communicate(timeout=seconds + 30)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            self.procs.started.remove(p)
        return parse_wrk(out.decode(errors="replace"))

    def slice(self, c, case, rnd):
        sids = set(p.pid for p in self.backend_procs)
        before = proc_stats()
        busy0 = machine_busy()
        acc0 = [backend_accepts(b) for b in self.backend_ports]
        kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        w = self.wrk(c, case, self.args.slice)
        elapsed = time.monotonic() - t0
        kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        acc1 = [backend_accepts(b) for b in self.backend_ports]
        busy1 = machine_busy()
        after = proc_stats()

        def cpu_of(sid):
            return after.get(sid, (0.0, 0))[0] - before.get(sid, (0.0, 0))[0]

        proxy_cpu = cpu_of(c.sid) if c.sid is not None else None
        backend_cpu = sum(cpu_of(s) for s in sids)
        ours = sum(cpu_of(x.sid) for x in self.contenders if x.sid is not None) + backend_cpu
        ours += (kids1.ru_utime + kids1.ru_stime) - (kids0.ru_utime + kids0.ru_stime)
        ours += (self1.ru_utime + self1.ru_stime) - (self0.ru_utime + self0.ru_stime)
        others = max(0.0, (busy1 - busy0) - ours) / (elapsed * (os.cpu_count() or 1))
        # Each stub_status request is itself one accepted connection.
        new_backend = sum(a1 - a0 - 1 for a0, a1 in zip(acc0, acc1))
        rec = dict(case=case, contender=c.name, round=rnd, elapsed=elapsed, **w)
        rec["proxy_cpu_s"] = proxy_cpu
        rec["backend_cpu_s"] = backend_cpu
        rec["others_load"] = others
        rec["backend_new_conns"] = new_backend
        return rec

    def run_case(self, case):
        live = [c for c in self.contenders if c.port is not None]
        for c in live:  # warm-up: pools filled, caches warm; not recorded
            self.slice(c, case, -1)
        for rnd in range(self.args.rounds):
            order = live if rnd % 2 == 0 else list(reversed(live))
            for c in order:
                rec = self.slice(c, case, rnd)
                self.slices.append(rec)
                if self.args.verbose:
                    log("%-6s r%-2d %-11s %8.0f req/s  %s us/req  errors %d" % (
                        case, rnd, c.name, rec["rps"],
                        "-" if rec["proxy_cpu_s"] is None or not rec["requests"] else
                        "%.1f" % (rec["proxy_cpu_s"] * 1e6 / rec["requests"]), rec["errors"]))
            if not self.args.verbose:
                log("  %s: round %d/%d done" % (case, rnd + 1, self.args.rounds))

    # ---- idle connections ---------------------------------------------------------------------

    def idle_case(self):
        n = self.args.idle
        for c in self.contenders:
            if c.kind == "direct" or c.port is None:
                continue
            if c.proc.poll() is not None:
                log("%s has exited; no idle measurement" % c.name)
                continue
            self.idle.append(self.measure_idle(c, n))
            log("  idle: %s done" % c.name)

    def measure_idle(self, c, n):
        time.sleep(1.0)  # whatever the last slice left behind settles
        rss0 = proc_stats().get(c.sid, (0, 0))[1]
        socks = []
        failed = 0
        try:
            for _ in range(n):
                s = socket.socket()
                try:
                    s.settimeout(5)
                    s.connect(("127.0.0.1", c.port))
                    s.sendall(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    if read_response(s) != (200, b"ok"):
                        raise ConnectionError("unexpected response")
                    s.setblocking(False)
                    socks.append(s)
                except (OSError, ValueError, IndexError):
                    failed += 1
                    s.close()
            time.sleep(1.0)
            rss1 = proc_stats().get(c.sid, (0, 0))[1]
            sk = socket_memory(c.port)
            held = 0
            for s in socks:
                try:
                    if s.recv(1, socket.MSG_PEEK) == b"":
                        continue  # the proxy closed it
                except BlockingIOError:
                    pass
                except OSError:
                    continue
                held += 1
        finally:
            for s in socks:
                # RST instead of FIN: no TIME_WAIT left behind on this side for 10 000 ports.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
        rec = dict(contender=c.name, opened=len(socks), failed=failed, held=held,
                   rss_before=rss0, rss_after=rss1, skmem=sk)
        per = max(held, 1)
        rec["rss_per_conn"] = (rss1 - rss0) / per
        rec["skmem_per_conn"] = sk["bytes"] / max(sk["sockets"], 1) if sk else None
        return rec

    # ---- report -------------------------------------------------------------------------------

    def report(self):
        base = self.args.baseline
        lines = []
        cases = [x for x in self.args.cases if x != "idle"]
        if cases:
            lines.append("| case | contender | req/s | p50 ms | p99 ms | proxy us/req | cpu ratio "
                         "| req/s ratio [IQR] | p99 ratio | bconn/kreq | errors |")
            lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        summary = []
        for case in cases:
            recs = [r for r in self.slices if r["case"] == case]
            direct = [r["rps"] for r in recs if r["contender"] == "direct"]
            direct_rps = statistics.median(direct) if direct else None
            for c in self.contenders:
                mine = [r for r in recs if r["contender"] == c.name]
                if not mine:
                    continue
                s = summarize(mine, [r for r in recs if r["contender"] == base],
                              c.name == base)
                s.update(case=case, contender=c.name)
                summary.append(s)
                mark = " (*)" if (direct_rps and c.name != "direct"
                                  and s["rps"] >= 0.85 * direct_rps) else ""
                cells = [case, c.name + mark, "%.0f" % s["rps"], "%.2f" % s["p50_ms"],
                         "%.2f" % s["p99_ms"], fmt(s["us_per_req"], "%.1f"),
                         fmt(s["cpu_ratio"], "%.2f"), ratio_text(s["rps_ratio"], s["rps_iqr"]),
                         fmt(s["p99_ratio"], "%.2f"), "%.1f" % s["bconn_per_kreq"],
                         "%d" % s["errors"]]
                lines.append("| " + " | ".join(cells) + " |")
        if self.idle:
            if lines:
                lines.append("")
            lines.append("Idle keep-alive client connections (one request each, then idle):")
            lines.append("")
            lines.append("| contender | held | RSS before MiB | RSS after MiB | added RSS B/conn "
                         "| socket buffers B/conn | added total B/conn | vs %s "
                         "| RSS after / held B |" % base)
            lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
            base_total = None
            for r in self.idle:
                r["total_per_conn"] = r["rss_per_conn"] + (r["skmem_per_conn"] or 0)
                if r["contender"] == base:
                    base_total = r["total_per_conn"]
            for r in self.idle:
                vs = "-"
                if base_total and r["total_per_conn"] > 0:
                    vs = "%.2f" % (r["total_per_conn"] / base_total)
                lines.append("| %s | %d | %.1f | %.1f | %.0f | %s | %.0f | %s | %.0f |" % (
                    r["contender"], r["held"], r["rss_before"] / 2**20, r["rss_after"] / 2**20,
                    r["rss_per_conn"], fmt(r["skmem_per_conn"], "%.0f"), r["total_per_conn"], vs,
                    r["rss_after"] / max(r["held"], 1)))
        return "\n".join(lines), summary

    def other_load_lines(self):
        out = []
        for case in self.args.cases:
            recs = [r["others_load"] for r in self.slices if r["case"] == case]
            if recs:
                out.append("%s: other processes used %.0f%% of the machine's CPU (median of "
                           "slices, max %.0f%%)" % (case, 100 * statistics.median(recs),
                                                    100 * max(recs)))
        return out


# ---- profile: instructions and syscalls per request of tide-1t ----------------------------------


def profile(bench, args):
    """tide balance (1 thread) under callgrind, then under strace -c, then under perf record,
    for the tiny, 16k and close cases: instructions (user space) and syscalls per request, and
    where the CPU goes. The first two are counts, not times, so they repeat on a noisy machine.
    Load: wrk -c8 for --slice seconds after a warm-up; counters are zeroed after the warm-up
    (callgrind_control -z) or counting starts then (strace -p)."""
    targets = ",".join("127.0.0.1:%d" % b for b in bench.backend_ports)
    rows = []
    for case in [c for c in args.cases if c in ("tiny", "16k", "close")]:
        row = {"case": case}
        c = Contender("tide-1t", "tide", 1)
        c.port = free_port()
        out = bench.path("callgrind.%s.out" % case)
        argv = ["valgrind", "--tool=callgrind", "--compress-strings=no", "--compress-pos=no",
                "--callgrind-out-file=" + out, args.tide,
                "balance", "--port", str(c.port), "--targets", targets, "--threads", "1"]
        c.proc = bench.procs.start(argv, bench.cpus("proxy"), bench.path("callgrind.log"))
        if not wait_ready(c.port, c.proc, seconds=120):
            raise SystemExit("tide under valgrind did not start; see %s" % bench.dir)
        bench.wrk_fixed(c, case, 2, 8)
        subprocess.run(["callgrind_control", "-z", str(c.proc.pid)], capture_output=True)
        w = bench.wrk_fixed(c, case, args.slice, 8)
        subprocess.run(["callgrind_control", "-d", str(c.proc.pid)], capture_output=True)
        os.killpg(c.proc.pid, signal.SIGTERM)
        c.proc.wait(timeout=60)
        dumps = [f for f in os.listdir(bench.dir) if f.startswith("callgrind.%s.out" % case)]
        ir = None
        for f in dumps:  # the -d dump is the one with a ".1" suffix (the final one is the exit)
            if f.endswith(".1"):
                with open(bench.path(f)) as fh:
                    for line in fh:
                        if line.startswith("summary:") or line.startswith("totals:"):
                            ir = int(line.split()[1])
        row["callgrind_requests"] = w["requests"]
        row["instructions"] = ir
        row["instructions_per_request"] = ir / w["requests"] if ir and w["requests"] else None
        row["callgrind_file"] = [bench.path(f) for f in dumps if f.endswith(".1")]

        c.port = free_port()
        c.proc = bench.procs.start([args.tide, "balance", "--port", str(c.port), "--targets",
                                    targets, "--threads", "1"], bench.cpus("proxy"),
                                   bench.path("strace-tide.log"))
        if not wait_ready(c.port, c.proc):
            raise SystemExit("tide did not start; see %s" % bench.dir)
        bench.wrk_fixed(c, case, 1, 8)
        sout = bench.path("strace.%s.txt" % case)
        tracer = bench.procs.start(["strace", "-c", "-f", "-o", sout, "-p", str(c.proc.pid)],
                                   None, bench.path("strace.log"))
        time.sleep(1.0)  # attached (strace prints nothing when it is ready)
        w = bench.wrk_fixed(c, case, args.slice, 8)
        os.killpg(tracer.pid, signal.SIGINT)
        tracer.wait(timeout=30)
        os.killpg(c.proc.pid, signal.SIGTERM)
        c.proc.wait(timeout=10)
        calls = {}
        with open(sout) as fh:
            for line in fh:
                parts = line.split()
                if len(parts) >= 5 and parts[0][0].isdigit() and not parts[-1].startswith("-"):
                    name = parts[-1]
                    if name != "total":
                        calls[name] = int(parts[3])
        row["strace_requests"] = w["requests"]
        row["syscalls_per_request"] = {k: v / max(w["requests"], 1) for k, v in
                                       sorted(calls.items(), key=lambda kv: -kv[1])}
        if shutil.which("perf"):
            row["perf_report"] = perf_profile(bench, args, c, case, targets)
        rows.append(row)
        log("  profile: %s done" % case)
    for row in rows:
        print("%s: %s instructions per request (callgrind, user space, %d requests); "
              "%.2f syscalls per request (strace -c, %d requests): %s" % (
                  row["case"], fmt(row["instructions_per_request"], "%.0f"),
                  row["callgrind_requests"], sum(row["syscalls_per_request"].values()),
                  row["strace_requests"], ", ".join("%s %.2f" % kv for kv in
                                                    row["syscalls_per_request"].items()
                                                    if kv[1] >= 0.01)))
        print("  callgrind_annotate %s | head -40" % " ".join(row["callgrind_file"]))
        if row.get("perf_report"):
            print("  perf (cpu-clock, kernel included): %s" % row["perf_report"])
    return rows


def perf_profile(bench, args, c, case, targets):
    """Where tide-1t's CPU time goes, kernel included: perf record (cpu-clock samples, call
    graphs) over one wrk slice; returns the path of `perf report` by symbol, self time."""
    c.port = free_port()
    c.proc = bench.procs.start([args.tide, "balance", "--port", str(c.port), "--targets",
                                targets, "--threads", "1"], bench.cpus("proxy"),
                               bench.path("perf-tide.log"))
    if not wait_ready(c.port, c.proc):
        raise SystemExit("tide did not start; see %s" % bench.dir)
    bench.wrk_fixed(c, case, 1, args.connections)
    data = bench.path("perf.%s.data" % case)
    rec = bench.procs.start(["perf", "record", "-e", "cpu-clock", "-F", "1999", "-g", "-o", data,
                             "-p", str(c.proc.pid)], None, bench.path("perf.log"))
    time.sleep(1.0)
    w = bench.wrk_fixed(c, case, args.slice, args.connections)
    os.killpg(rec.pid, signal.SIGINT)
    rec.wait(timeout=60)
    os.killpg(c.proc.pid, signal.SIGTERM)
    c.proc.wait(timeout=10)
    report = bench.path("perf.%s.txt" % case)
    with open(report, "w") as f:
        f.write("# %d requests (wrk -c%d, %d s)\n" % (w["requests"], args.connections,
                                                      args.slice))
        f.flush()
        subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio", "-g", "none",
                        "--sort", "dso,sym", "--percent-limit", "0.7"], stdout=f,
                       stderr=subprocess.DEVNULL)
    return report


def socket_memory(port):
    """Kernel socket buffer memory of the proxy's accepted connections (local port `port`), from
    `ss -tm`: rmem_alloc + wmem_queued + forward_alloc + optmem per socket (skmem r, w, f, o)."""
    if shutil.which("ss") is None:
        return None
    out = subprocess.run(["ss", "-tmnH", "state", "established", "( sport = :%d )" % port],
                         capture_output=True, text=True).stdout
    sockets = 0
    total = 0
    for m in re.finditer(r"skmem:\(([^)]*)\)", out):
        fields = dict(re.match(r"([a-z]+)(\d+)", x).groups() for x in m.group(1).split(","))
        total += sum(int(fields.get(k, 0)) for k in ("r", "w", "f", "o"))
        sockets += 1
    return {"sockets": sockets, "bytes": total}


def parse_wrk(text):
    def num(pattern, default=0.0):
        m = re.search(pattern, text, re.M)
        return float(m.group(1)) if m else default

    def latency_ms(pct):
        m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % pct, text, re.M)
        if not m:
            return None
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        errors += sum(int(x) for x in m.groups())
    errors += int(num(r"Non-2xx or 3xx responses: (\d+)"))
    requests = int(num(r"^\s*(\d+) requests in"))
    if requests == 0 and "requests in" not in text:
        log("wrk said:\n" + text)
    return dict(requests=requests, rps=num(r"^Requests/sec:\s+([\d.]+)"),
                p50_ms=latency_ms(50), p99_ms=latency_ms(99), errors=errors)


def quartiles(xs):
    xs = sorted(xs)
    if len(xs) == 1:
        return xs[0], xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], statistics.median(xs), q[2]


def summarize(mine, base, is_base):
    by_round = {r["round"]: r for r in base}

    def us(r):
        if r["proxy_cpu_s"] is None or r["requests"] == 0:
            return None
        return r["proxy_cpu_s"] * 1e6 / r["requests"]

    rps_ratios, cpu_ratios, p99_ratios = [], [], []
    for r in mine:
        b = by_round.get(r["round"])
        if b is None:
            continue
        if b["rps"] > 0:
            rps_ratios.append(r["rps"] / b["rps"])
        if us(r) and us(b):
            cpu_ratios.append(us(b) / us(r))
        if r["p99_ms"] and b["p99_ms"]:
            p99_ratios.append(r["p99_ms"] / b["p99_ms"])
    usr = [us(r) for r in mine if us(r) is not None]
    requests = sum(r["requests"] for r in mine)
    out = dict(
        slices=len(mine),
        rps=statistics.median(r["rps"] for r in mine),
        rps_min=min(r["rps"] for r in mine), rps_max=max(r["rps"] for r in mine),
        p50_ms=statistics.median(r["p50_ms"] or 0 for r in mine),
        p99_ms=statistics.median(r["p99_ms"] or 0 for r in mine),
        us_per_req=statistics.median(usr) if usr else None,
        errors=sum(r["errors"] for r in mine),
        bconn_per_kreq=1000.0 * sum(r["backend_new_conns"] for r in mine) / max(requests, 1),
        rps_ratio=None, rps_iqr=None, cpu_ratio=None, p99_ratio=None)
    if rps_ratios:
        lo, med, hi = quartiles(rps_ratios)
        out["rps_ratio"], out["rps_iqr"] = med, (lo, hi)
    if cpu_ratios:
        out["cpu_ratio"] = statistics.median(cpu_ratios)
    if p99_ratios:
        out["p99_ratio"] = statistics.median(p99_ratios)
    if is_base:
        out["rps_iqr"] = None
    return out


def fmt(v, f):
    return "-" if v is None else f % v


def ratio_text(med, iqr):
    if med is None:
        return "-"
    if iqr is None:
        return "%.2f" % med
    return "%.2f [%.2f-%.2f]" % (med, iqr[0], iqr[1])


def versions(tide):
    def first_line(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    rev = first_line(["git", "-C", REPO, "describe", "--always", "--dirty"])
    return {"haproxy": first_line(["haproxy", "-v"]), "nginx": first_line(["nginx", "-v"]),
            "wrk": first_line(["wrk", "-v"]), "tide": "%s (%s)" % (tide, rev),
            "kernel": platform.release(), "cpus": os.cpu_count()}


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < need:
        raise SystemExit("need %d open files for --idle, but the hard limit (ulimit -Hn) is %d: "
                         "raise it or lower --idle" % (need, hard))


def install(packages=("haproxy", "nginx", "wrk"), note=""):
    """apt-get install (with sudo unless root) what a benchmark runs; tls_compare.py too."""
    argv = ["apt-get", "install", "-y", *packages]
    if os.geteuid() != 0:
        argv = ["sudo"] + argv
    print("+ " + " ".join(argv), flush=True)
    rc = subprocess.call(argv)
    if rc == 0:
        print("Installed. " + note + "The benchmark uses its own configurations in a temporary "
              "directory and never the system services; if apt started them and you do not "
              "want them: systemctl disable --now haproxy nginx")
    return rc


def choose_contenders(ap, args, contenders):
    """The contenders --only keeps (the baseline always), after checking --baseline and --only
    name known ones (ap.error otherwise)."""
    names = [c.name for c in contenders]
    if args.baseline not in names:
        ap.error("--baseline must be one of " + ", ".join(names))
    if not args.only:
        return contenders
    only = set(x for x in args.only.split(",") if x)
    bad = only - set(names)
    if bad:
        ap.error("unknown contender %s (%s)" % (",".join(sorted(bad)), ", ".join(names)))
    only.add(args.baseline)
    return [c for c in contenders if c.name in only]


def run_guarded(bench, args, name, info, body):
    """Runs body(started) (it returns the exit status) after logging the start and the versions;
    whatever happens the bench's processes are stopped and its directory removed (kept with
    --keep). SIGINT and SIGTERM interrupt it: status 130."""
    stopping = []

    def on_signal(signum, frame):
        if not stopping:
            stopping.append(signum)
            raise KeyboardInterrupt()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    try:
        log("%s: %s; temp dir %s" % (name, started, bench.dir))
        for k, v in info.items():
            log("  %s: %s" % (k, v))
        return body(started)
    except KeyboardInterrupt:
        log("interrupted; stopping everything")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        bench.procs.stop_all()
        if args.keep:
            log("kept %s" % bench.dir)
        else:
            shutil.rmtree(bench.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="See the docstring at the top of this file and docs/performance.md.")
    ap.add_argument("--install", action="store_true",
                    help="apt-get install haproxy nginx wrk (with sudo unless root), then exit")
    ap.add_argument("--rounds", type=int, default=15, help="rounds per case (default 15)")
    ap.add_argument("--slice", type=int, default=2, help="seconds of wrk per slice (default 2)")
    ap.add_argument("--cases", default=",".join(ALL_CASES),
                    help="comma list of tiny,16k,close,idle (default: all)")
    ap.add_argument("--only", default="",
                    help="comma list of contenders (haproxy-1t, haproxy-2t, nginx-1w, nginx-2w, "
                         "tide-1t, tide-2t, direct, haproxy-aa); the baseline is always kept")
    ap.add_argument("--no-aa", action="store_true", help="no A/A control (haproxy-aa)")
    ap.add_argument("--baseline", default="haproxy-1t", help="ratios are against this contender")
    ap.add_argument("--json", metavar="FILE", help="write every slice and the summary here")
    ap.add_argument("--tide", default=os.path.join(REPO, "build", "tide"),
                    help="the tide binary (default: build/tide of this tree)")
    ap.add_argument("--idle", type=int, default=10000,
                    help="idle client connections per proxy in the idle case (default 10000)")
    ap.add_argument("--backends", type=int, default=2, help="backend nginx instances (default 2)")
    ap.add_argument("-c", "--connections", type=int, default=64, help="wrk connections (64)")
    ap.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (1)")
    ap.add_argument("--gen-cpus", default="0", help="CPUs of wrk (default 0)")
    ap.add_argument("--proxy-cpus", default="1", help="CPUs of single-thread proxies (default 1)")
    ap.add_argument("--proxy2-cpus", default="0,1", help="CPUs of 2-thread proxies (default 0,1)")
    ap.add_argument("--backend-cpus", default="1", help="CPUs of the backends (default 1)")
    ap.add_argument("--no-pin", action="store_true", help="no taskset: the scheduler decides")
    ap.add_argument("--profile", action="store_true",
                    help="instead of the comparison: tide-1t's instructions per request "
                         "(valgrind callgrind), syscalls per request (strace -c) and perf "
                         "samples, on the tiny, 16k and close cases of --cases, --slice seconds "
                         "of wrk each (use --slice 5 --keep to keep the profiles)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every slice")
    args = ap.parse_args()
    if args.install:
        return install()

    args.cases = [x for x in args.cases.split(",") if x]
    bad = [x for x in args.cases if x not in ALL_CASES]
    if bad:
        ap.error("unknown case %s (tiny, 16k, close, idle)" % ",".join(bad))
    if args.rounds < 1 or args.slice < 1 or args.backends < 1 or args.idle < 0:
        ap.error("--rounds, --slice and --backends must be >= 1, --idle >= 0")
    contenders = choose_contenders(ap, args, all_contenders(not args.no_aa))
    tools = ("nginx", "wrk", "taskset", "valgrind", "callgrind_control", "strace") \
        if args.profile else ("haproxy", "nginx", "wrk", "taskset")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        ap.error("not installed: %s (bench/proxy_compare.py --install)" % " ".join(missing))
    if any(c.kind == "tide" for c in contenders) and not os.access(args.tide, os.X_OK):
        ap.error("no tide binary at %s (scripts/build.sh, or --tide PATH)" % args.tide)
    if "idle" not in args.cases:
        args.idle = 0
    raise_nofile(args.idle + 1024)

    bench = Bench(args)
    info = versions(args.tide)

    def run(started):
        bench.start_backends()
        if args.profile:
            rows = profile(bench, args)
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(dict(started=started, argv=sys.argv[1:], versions=info,
                                   profile=rows), f, indent=1)
            return 0
        bench.start_contenders(contenders, args.baseline)
        for case in args.cases:
            log("case %s" % case)
            if case == "idle":
                bench.idle_case()
            else:
                bench.run_case(case)
        table, summary = bench.report()
        print("proxy_compare.py %s" % " ".join(sys.argv[1:]))
        print("%s; %s; %s; %s; %s; kernel %s, %s CPUs" % (
            started, info["haproxy"], info["nginx"], info["wrk"], info["tide"], info["kernel"],
            info["cpus"]))
        print()
        print(table)
        print()
        for line in bench.other_load_lines():
            print(line)
        print("(*): at least 85 % of direct's req/s: the load generator, not the proxy, limits.")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(dict(started=started, argv=sys.argv[1:], versions=info,
                               slices=bench.slices, summary=summary, idle=bench.idle), f,
                          indent=1)
        return 0

    return run_guarded(bench, args, "proxy_compare", info, run)


if __name__ == "__main__":
    sys.exit(main())
