#!/usr/bin/env python3
"""import_latency: how long the API takes to answer while a large image is imported.

Starts its own `tide server` (temporary data directory, free API port, --auth none), writes a
source directory of `--gib` GiB (default 1) of random data in 64 MiB files, and calls
CreateImage on it. From then until the image is available it sends DescribeImages, one every
`--pause-ms` (default 10; 0: back to back), one connection per request as the CLI does, and
records each answer's latency. It prints the
number of requests, their median, 99th percentile and slowest latency, and how long the import
took.

With `--launch`, the server runs with `--disks copy` (each instance gets its own copy of its
image's tree: the mode used without root, where overlayfs is not available) and after the
import the benchmark launches one instance of the big image and measures the same way until
the instance is running (the copy runs on the instance controller's worker; the instance is
pending meanwhile).

It is a benchmark, not a test: it prints figures and asserts nothing. Everything it starts is
ended by its process id, and its directories are removed.

Usage: bench/import_latency.py [--tide build/tide] [--gib 1] [--pause-ms 10] [--launch]
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def call(endpoint, action, params):
    body = json.dumps(params).encode()
    req = urllib.request.Request(endpoint + "/", data=body, method="POST",
                                 headers={"X-Amz-Target": action,
                                          "Content-Type": "application/x-amz-json-1.1"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def report(what, latencies):
    ms = sorted(x * 1000 for x in latencies)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    print(f"{what}: {len(ms)} requests, median {statistics.median(ms):.1f} ms, "
          f"p99 {p99:.1f} ms, slowest {ms[-1]:.1f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tide", default=os.path.join(ROOT, "build", "tide"))
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--pause-ms", type=float, default=10.0)
    ap.add_argument("--launch", action="store_true")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tide-import-latency-")
    server = None
    try:
        source = os.path.join(tmp, "source")
        os.mkdir(source)
        total = int(args.gib * (1 << 30))
        chunk = 64 << 20
        n = 0
        while n * chunk < total:
            with open(os.path.join(source, f"blob-{n:03d}"), "wb") as f:
                f.write(os.urandom(min(chunk, total - n * chunk)))
            n += 1
        data = os.path.join(tmp, "data")
        server = subprocess.Popen(
            [args.tide, "server", "--data-dir", data, "--api", "127.0.0.1:0", "--auth", "none",
             "--address-registry", os.path.join(tmp, "registry"),
             *(["--disks", "copy"] if args.launch else [])],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        line = server.stdout.readline().decode()
        if "listening on" not in line:
            raise SystemExit(f"import_latency: the server did not start: {line!r}")
        endpoint = line.split("listening on ")[1].strip()
        # The built-in base image first, so that only the big import runs during the measure.
        deadline = time.monotonic() + 120
        while call(endpoint, "DescribeImages", {"Owners": ["amazon"]})["Images"][0][
                "State"] != "available":
            if time.monotonic() > deadline:
                raise SystemExit("import_latency: the base image did not become available")
            time.sleep(0.1)

        started = time.monotonic()
        image = call(endpoint, "CreateImage", {"Name": "big", "SourceDirectory": source,
                                               "RunCommand": "true"})["ImageId"]
        latencies = []
        while True:
            t = time.monotonic()
            state = call(endpoint, "DescribeImages", {"ImageIds": [image]})["Images"][0]["State"]
            latencies.append(time.monotonic() - t)
            if state != "pending":
                break
            if time.monotonic() - started > 900:
                raise SystemExit("import_latency: the import took more than 900 s")
            time.sleep(args.pause_ms / 1000)
        took = time.monotonic() - started
        print(f"import of {args.gib:g} GiB ({n} files): {state} after {took:.2f} s")
        report("DescribeImages during it", latencies)
        if args.launch:
            started = time.monotonic()
            run = call(endpoint, "RunInstances", {"ImageId": image, "InstanceType": "t3.nano",
                                                  "Port": 1})
            instance = run["Instances"][0]["InstanceId"]
            latencies = []
            while True:
                t = time.monotonic()
                found = call(endpoint, "DescribeInstances", {"InstanceIds": [instance]})
                latencies.append(time.monotonic() - t)
                if found["Reservations"][0]["Instances"][0]["State"]["Name"] != "pending":
                    break
                if time.monotonic() - started > 900:
                    raise SystemExit("import_latency: the launch took more than 900 s")
                time.sleep(args.pause_ms / 1000)
            print(f"launch with its own copy of the image: out of pending after "
                  f"{time.monotonic() - started:.2f} s")
            report("DescribeInstances during it", latencies)
            call(endpoint, "TerminateInstances", {"InstanceIds": [instance]})
            deadline = time.monotonic() + 120
            while call(endpoint, "DescribeInstances", {"InstanceIds": [instance]})[
                    "Reservations"][0]["Instances"][0]["State"]["Name"] != "terminated":
                if time.monotonic() > deadline:
                    raise SystemExit("import_latency: the instance did not terminate")
                time.sleep(0.1)
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=120)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
