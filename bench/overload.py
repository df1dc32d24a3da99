#!/usr/bin/env python3
"""The overload case, side by side: goodput and p99 of a balancer in front of slow targets.

Two backends stand in for small instances: each serves at most --workers requests at once,
taking --service-ms each (so together they serve 2 * workers * 1000 / service_ms req/s), and
like a real application server they queue what they cannot serve yet and finish every request
they accepted, even for a client that has gone. An open-loop load generator offers a sale
spike: --calm-seconds at --calm-load times that capacity, then a step to --overload times it
for --seconds, one new connection per request; a client that has no answer after
--client-timeout-ms gives up and closes (a user leaving).

Contenders, all on one thread, all round robin over the same backends, every tide one with
queue timeout --queue-timeout-ms:
  tide           `tide balance` as it comes: the adaptive limit (the default)
  tide-fixed     `tide balance --max-concurrency W` (W = the backends' workers, as HAProxy's
                 maxconn below): a limit tuned by hand
  tide-off       `tide balance --max-concurrency 0`: no limit, no queue
  haproxy-maxconn haproxy 2.6 with `maxconn W` per server, `timeout queue`, abortonclose

Prints per contender: goodput (2xx answered in time, per second of the spike), 503s, clients
that gave up, the p50 / p99 / max of the 2xx answers and how many of them took longer than the
queue timeout; then, second by second from the step, each
contender's 2xx count and the p99 of those (by the second the request was sent). Standard
library only; everything on 127.0.0.1; every process it starts is stopped by its process-group
id.

  bench/overload.py --tide ./build/tide [--seconds 10] [--overload 3] [--calm-seconds 3]
"""
import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time


# ---- the backend: a slow application server --------------------------------------------------

async def serve_backend(port, workers, service_ms):
    sem = asyncio.Semaphore(workers)
    body = b"ok"

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                async with sem:  # the work happens even if the client has gone
                    await asyncio.sleep(service_ms / 1000)
                close = b"connection: close" in head.lower()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n" +
                             (b"Connection: close\r\n" if close else b"") + b"\r\n" + body)
                await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


# ---- the load generator -----------------------------------------------------------------------

async def one_request(port, timeout, results, t0):
    start = time.monotonic()
    writer = None
    try:
        async def go():
            nonlocal writer
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n")
            await writer.drain()
            line = await reader.readline()
            await reader.read()  # to the end (Connection: close)
            return int(line.split()[1]) if line else 0
        status = await asyncio.wait_for(go(), timeout)
        results.append((start - t0, status, time.monotonic() - start))
    except asyncio.TimeoutError:
        results.append((start - t0, -1, timeout))  # gave up and left
    except (ConnectionError, OSError, ValueError, IndexError):
        results.append((start - t0, 0, time.monotonic() - start))
    finally:
        if writer is not None:
            writer.close()


async def offer_load(port, phases, timeout):
    """phases: [(rate, seconds)], one after the other; results' times are from the first."""
    results = []
    tasks = []
    t0 = time.monotonic()
    dues = []
    start = 0.0
    for rate, seconds in phases:
        dues += [start + i / rate for i in range(int(rate * seconds))]
        start += seconds
    for due in dues:
        delay = t0 + due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one_request(port, timeout, results, t0)))
    await asyncio.gather(*tasks)
    return results


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


# ---- contenders -------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, deadline_s=10):
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def start(cmd):
    return subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def haproxy_config(port, backends, maxconn, queue_timeout_ms):
    servers = "\n".join(f"  server s{i} 127.0.0.1:{b} maxconn {maxconn}"
                        for i, b in enumerate(backends))
    return f"""global
  nbthread 1
  maxconn 5000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout queue {queue_timeout_ms}ms
frontend f
  bind 127.0.0.1:{port}
  default_backend b
backend b
  balance roundrobin
  http-reuse always
  option abortonclose
{servers}
"""


def main():
    if "--serve-backend" in sys.argv:  # a backend process: no scratch directory
        run(None)
        return
    tmp = tempfile.mkdtemp(prefix="tide-overload-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tide", default="./build/tide")
    ap.add_argument("--seconds", type=float, default=10, help="length of the spike")
    ap.add_argument("--overload", type=float, default=3.0, help="offered load / capacity")
    ap.add_argument("--calm-seconds", type=float, default=3, help="before the spike")
    ap.add_argument("--calm-load", type=float, default=0.5, help="load / capacity before it")
    ap.add_argument("--workers", type=int, default=4, help="requests a backend serves at once")
    ap.add_argument("--service-ms", type=float, default=20)
    ap.add_argument("--client-timeout-ms", type=float, default=1000)
    ap.add_argument("--queue-timeout-ms", type=int, default=500)
    ap.add_argument("--only", default="tide,tide-fixed,tide-off,haproxy-maxconn")
    ap.add_argument("--serve-backend", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_backend:
        asyncio.run(serve_backend(args.serve_backend, args.workers, args.service_ms))
        return

    capacity = 2 * args.workers * 1000 / args.service_ms
    rate = capacity * args.overload
    timeout = args.client_timeout_ms / 1000

    def tide(*limit):
        return lambda port, b: [
            args.tide, "balance", "--threads", "1", "--port", str(port), "--targets",
            ",".join(f"127.0.0.1:{x}" for x in b), "--queue-timeout-ms",
            str(args.queue_timeout_ms), *limit]

    contenders = {
        "tide": tide(),
        "tide-fixed": tide("--max-concurrency", str(args.workers)),
        "tide-off": tide("--max-concurrency", "0"),
        "haproxy-maxconn": lambda port, b: ["haproxy", "-db", "-f", write_haproxy(port, b)],
    }

    def write_haproxy(port, b):
        path = os.path.join(tmp, "haproxy.cfg")
        with open(path, "w") as f:
            f.write(haproxy_config(port, b, args.workers, args.queue_timeout_ms))
        return path

    calm = capacity * args.calm_load
    phases = [(rate, args.seconds)]
    if args.calm_seconds > 0 and calm > 0:
        phases.insert(0, (calm, args.calm_seconds))
    step = args.calm_seconds if len(phases) == 2 else 0.0
    print(f"backends: 2 x {args.workers} workers x {args.service_ms:g} ms = {capacity:.0f} req/s;"
          f" offered {calm:.0f} req/s for {step:g} s, then {rate:.0f} req/s ({args.overload:g}x)"
          f" for {args.seconds:g} s, one connection per request; clients leave after"
          f" {args.client_timeout_ms:g} ms; queue timeout {args.queue_timeout_ms} ms")
    per_second = {}
    print(f"{'contender':<16} {'sent':>6} {'goodput/s':>10} {'503':>6} {'gave up':>8} "
          f"{'errors':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'>queue':>7}", flush=True)
    for name in args.only.split(","):
        if name == "haproxy-maxconn" and shutil.which("haproxy") is None:
            print("haproxy-maxconn: skipped (no haproxy; apt-get install haproxy)")
            continue
        # Fresh backends per contender: nothing left over from the previous one's flood.
        backends = [free_port(), free_port()]
        procs = [start([sys.executable, __file__, "--serve-backend", str(b), "--workers",
                        str(args.workers), "--service-ms", str(args.service_ms)])
                 for b in backends]
        port = free_port()
        try:
            for b in backends:
                if not wait_listening(b):
                    sys.exit("a backend did not start")
            procs.append(start(contenders[name](port, backends)))
            if not wait_listening(port):
                print(f"{name}: did not start ({' '.join(contenders[name](port, backends))})")
                continue
            results = asyncio.run(offer_load(port, phases, timeout))
        finally:
            for p in procs:
                stop(p)
        results = [(t - step, st, lat) for t, st, lat in results if t >= step]  # the spike
        seconds = int(args.seconds)
        per_second[name] = [
            [lat for t, st, lat in results if int(t) == s and 200 <= st < 300]
            for s in range(seconds)]
        ok = [lat for _, st, lat in results if 200 <= st < 300]
        r = (name, len(results), len(ok) / args.seconds,
             sum(1 for _, st, _ in results if st == 503),
             sum(1 for _, st, _ in results if st == -1),
             sum(1 for _, st, _ in results if st == 0),
             percentile(ok, 50) * 1000, percentile(ok, 99) * 1000,
             max(ok, default=float("nan")) * 1000,
             sum(1 for lat in ok if lat * 1000 > args.queue_timeout_ms))
        print(f"{r[0]:<16} {r[1]:>6} {r[2]:>10.0f} {r[3]:>6} {r[4]:>8} {r[5]:>7} "
              f"{r[6]:>8.0f} {r[7]:>8.0f} {r[8]:>8.0f} {r[9]:>7}", flush=True)
    if not per_second:
        return
    print(f"\nsecond by second from the step: 2xx answered in time / p99 ms of those "
          f"(capacity {capacity:.0f} req/s; within 10 %: >= {0.9 * capacity:.0f})")
    print(f"{'s':>3} " + " ".join(f"{n:>18}" for n in per_second))
    for s in range(int(args.seconds)):
        cells = []
        for n, seconds in per_second.items():
            ok = seconds[s]
            cells.append(f"{len(ok):>8} / {percentile(ok, 99) * 1000:>7.0f}")
        print(f"{s:>3} " + " ".join(f"{c:>18}" for c in cells))


if __name__ == "__main__":
    main()
