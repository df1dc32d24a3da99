#!/usr/bin/env python3
"""store_writes: how many write transactions tide's SQLite store commits per second while
nothing changes.

Starts its own `tide server` (temporary data directory, free API port), makes an image of
examples/shop, runs N idle t3.nano instances (RunInstances MinCount=N, default 50) and waits
until every app answers. Then it measures twice, `--seconds` each (default 60):
  1. idle: the instances only (no load balancer; CPU sampling is all that runs);
  2. checked: the same instances registered in a target group that a listener forwards to,
     with health checks every `--interval` seconds (default 5, ELBv2's minimum), all healthy.
No requests are sent in either phase.

How it counts: `strace -f -y -s 8 -xx -e trace=pwrite64,fdatasync,fsync -p <server pid>`,
restricted to the descriptor of state.db-wal. SQLite in WAL mode appends one frame per page a
transaction changed (a 24-byte frame header, then the page); the last frame of a transaction,
its commit frame, carries the database size in header bytes 4..7, every other frame carries
zero there. So: commits = frame headers with a non-zero size field; pages = frame headers.
Transactions that only read append nothing and are not counted. Needs strace and permission
to trace the server (root, or ptrace_scope 0).

It is a benchmark, not a test: it prints figures and asserts nothing. Everything it starts is
ended by its process id; instances are terminated through the API before the server stops.
Run it under `flock /tmp/tide-integration.lock` on shared machines (instances take 127.1.x.y
addresses, as the integration tests' do).

Usage: bench/store_writes.py [--tide build/tide] [--instances 50] [--seconds 60] [--interval 5]
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"store_writes: timed out after {timeout} s waiting for {what}")
        time.sleep(0.25)


def answers(instance):
    url = f"http://{instance['PrivateIpAddress']}:{instance['Port']}/health"
    try:
        with urllib.request.urlopen(url, timeout=1.0) as r:
            return r.status == 200
    except OSError:
        return False


# One traced pwrite64 (-xx prints the path and the data as \xNN escapes):
# `PID pwrite64(7<\x2f...>, "\x00\x00...", 24, OFFSET) = 24`.
PWRITE = re.compile(r'pwrite64\(\d+<([^>]*)>, "((?:\\x[0-9a-f]{2})*)"(?:\.\.\.)?, (\d+), \d+\)')
SYNC = re.compile(r'f(?:data)?sync\(\d+<([^>]*)>')


def unescape(text):
    return bytes(int(h, 16) for h in re.findall(r"\\x([0-9a-f]{2})", text))


def trace_wal(pid, seconds, wal):
    """Traces the server for `seconds`; returns (commits, pages, syncs) on the WAL."""
    out = tempfile.NamedTemporaryFile(prefix="tide-strace-", suffix=".txt", delete=False)
    out.close()
    tracer = subprocess.Popen(["strace", "-f", "-y", "-s", "8", "-xx", "-o", out.name, "-e",
                               "trace=pwrite64,fdatasync,fsync", "-p", str(pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)  # the measuring window itself, not a wait for readiness
    tracer.send_signal(signal.SIGINT)
    tracer.wait(timeout=30)
    commits = pages = syncs = 0
    with open(out.name, errors="replace") as f:
        for line in f:
            m = SYNC.search(line)
            if m and unescape(m.group(1)) == wal:
                syncs += 1
                continue
            m = PWRITE.search(line)
            if not m or unescape(m.group(1)) != wal or int(m.group(3)) != 24:
                continue
            pages += 1
            header = unescape(m.group(2))
            if len(header) >= 8 and header[4:8] != b"\x00\x00\x00\x00":
                commits += 1
    os.unlink(out.name)
    return commits, pages, syncs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tide", default=os.path.join(ROOT, "build", "tide"))
    ap.add_argument("--instances", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60, help="length of each measuring window")
    ap.add_argument("--interval", type=float, default=5, help="health check interval, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if shutil.which("strace") is None:
        raise SystemExit("store_writes: needs strace")

    tmp = tempfile.mkdtemp(prefix="tide-store-writes-")
    data = os.path.join(tmp, "data")
    api = free_port()
    endpoint = f"http://127.0.0.1:{api}"
    env = dict(os.environ, TIDE_ENDPOINT=endpoint, TIDE_DATA_DIR=data)
    server = subprocess.Popen([args.tide, "server", "--data-dir", data, "--api",
                               f"127.0.0.1:{api}", "--termination-grace", "2"],
                              stdout=subprocess.PIPE,
                              stderr=open(os.path.join(tmp, "server.log"), "w"),
                              stdin=subprocess.DEVNULL)

    def tide(*a):
        p = subprocess.run([args.tide, *a], env=env, capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise SystemExit(f"store_writes: tide {' '.join(a)}: {p.stderr.strip()}")
        return p.stdout

    def tide_json(*a):
        return json.loads(tide(*a, "--output", "json"))

    def instances():
        req = urllib.request.Request(endpoint + "/", data=b"{}", method="POST",
                                     headers={"X-Amz-Target": "DescribeInstances"})
        with urllib.request.urlopen(req, timeout=30) as r:
            reservations = json.loads(r.read())["Reservations"]
        return [i for r in reservations for i in r["Instances"]]

    try:
        line = server.stdout.readline().decode()
        if "listening on" not in line:
            raise SystemExit(f"store_writes: the server did not start: {line!r}")
        image = tide_json("image", "create", "--name", "shop", "--from",
                          os.path.join(ROOT, "examples", "shop"), "--run",
                          "python3 server.py")["ImageId"]
        launched = tide_json("instance", "run", "--image-id", image, "--instance-type", "t3.nano",
                             "--count", str(args.instances), "--wait")["Instances"]
        ids = {i["InstanceId"] for i in launched}
        wait_for(lambda: all(answers(i) for i in instances() if i["InstanceId"] in ids), 300,
                 "every app to answer")
        wal = os.path.join(os.path.realpath(data), "state.db-wal").encode()

        c, p, s = trace_wal(server.pid, args.seconds, wal)
        print(f"idle:    {args.instances} instances, {args.seconds:.0f} s: {c} commits "
              f"({c / args.seconds:.2f}/s), {p} WAL pages ({p / args.seconds:.2f}/s), {s} syncs")

        tide("tg", "create", "--name", "web", "--port", "8080", "--interval",
             str(args.interval), "--timeout", str(min(2.0, args.interval / 2)),
             "--health-check-path", "/health",
             "--deregistration-delay", "1")
        tide("lb", "create", "--name", "idle")
        tide("listener", "create", "--lb", "idle", "--port", str(free_port()), "--forward", "web")
        tide("tg", "register", "web", *sorted(ids))

        def all_healthy():
            d = tide_json("tg", "health", "web")["TargetHealthDescriptions"]
            return len(d) == len(ids) and all(
                t["TargetHealth"]["State"] == "healthy" for t in d)

        wait_for(all_healthy, 120 + 2 * args.interval, "every target to be healthy")
        c, p, s = trace_wal(server.pid, args.seconds, wal)
        print(f"checked: {args.instances} instances, health checks every {args.interval:g} s, "
              f"{args.seconds:.0f} s: {c} commits ({c / args.seconds:.2f}/s), {p} WAL pages "
              f"({p / args.seconds:.2f}/s), {s} syncs")
    finally:
        if server.poll() is None:
            try:
                live = [i["InstanceId"] for i in instances()
                        if i["State"]["Name"] != "terminated"]
                if live:
                    tide("instance", "terminate", *live)
                    wait_for(lambda: all(i["State"]["Name"] == "terminated"
                                         for i in instances()), 120, "the instances to end")
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"kept {tmp}", file=sys.stderr)


if __name__ == "__main__":
    main()
