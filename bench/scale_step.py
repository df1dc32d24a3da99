#!/usr/bin/env python3
"""scale_step: how fast tide's Auto Scaling reacts to a load step, end to end.

Starts its own `tide server` (temporary data directory, free ports), brings up
examples/shop/stack.yaml (2 to 10 t3.micro instances, 10 s alarm periods, health checks every
0.5 s), lets it settle, then steps the load from 20 to 150 requests a second of heavy pages
(`tide load`) and prints, from the moment of the step:
  - when the group's desired capacity first grows (the CPU alarm fired and its policy ran),
  - when the new instance is InService (launched and running),
  - when the new target is healthy in the load balancer (it serves traffic).
It is a benchmark, not a test: it prints figures and asserts nothing. Everything it starts is
stopped by its process id at the end; the stack is removed with `tide down`.

Usage: bench/scale_step.py [--tide build/tide] [--work 5000] [--rate 150] [--timeout 180]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tide", default=os.path.join(ROOT, "build", "tide"))
    ap.add_argument("--work", type=int, default=5000, help="hashing rounds per request")
    ap.add_argument("--rate", type=int, default=150, help="requests per second after the step")
    ap.add_argument("--timeout", type=float, default=180, help="seconds to wait for each event")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tide-scale-step-")
    api, port = free_port(), free_port()
    env = dict(os.environ, TIDE_ENDPOINT=f"http://127.0.0.1:{api}",
               TIDE_DATA_DIR=os.path.join(tmp, "data"))
    server = subprocess.Popen([args.tide, "server", "--data-dir", os.path.join(tmp, "data"),
                               "--api", f"127.0.0.1:{api}"], stdout=subprocess.PIPE,
                              stderr=open(os.path.join(tmp, "server.log"), "w"),
                              stdin=subprocess.DEVNULL)
    load = None

    def tide(*a):
        return subprocess.run([args.tide, *a], env=env, capture_output=True, text=True,
                              check=True, timeout=300).stdout

    def tide_json(*a):
        return json.loads(tide(*a, "--output", "json"))

    try:
        server.stdout.readline()  # listening
        tide("up", os.path.join(ROOT, "examples", "shop", "stack.yaml"), "--stack-name", "bench",
             "-p", f"Port={port}", "-p", "HealthCheckInterval=0.5", "-p",
             "HealthCheckTimeout=0.25")
        group = next(o["OutputValue"] for o in tide_json("stack", "describe", "bench")
                     ["Stacks"][0]["Outputs"] if o["OutputKey"] == "GroupName")

        def healthy():
            return sum(1 for d in tide_json("tg", "health", "bench-ShopTargets")
                       ["TargetHealthDescriptions"] if d["TargetHealth"]["State"] == "healthy")

        def wait(what, predicate):
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                if predicate():
                    return time.monotonic()
                time.sleep(0.25)
            raise RuntimeError(f"timed out waiting for {what}")

        wait("two healthy targets", lambda: healthy() >= 2)
        time.sleep(25)  # let the alarms see a quiet baseline (their periods are 10 s)
        print(f"tide scale_step: group {group}, load {args.rate} req/s of work={args.work} "
              f"on 2 x t3.micro (0.25 core each), alarm periods 10 s x 3")
        load = subprocess.Popen(
            [args.tide, "load", f"http://127.0.0.1:{port}/?work={args.work}", "--profile",
             f"steady:{args.rate}:{int(args.timeout) + 60}s", "--timeout", "10"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL)
        t0 = time.monotonic()

        def group_state():
            return tide_json("asg", "ls")["AutoScalingGroups"][0]

        t_desired = wait("desired capacity to grow", lambda: group_state()["DesiredCapacity"] > 2)
        t_service = wait("a third instance in service", lambda: sum(
            1 for i in group_state()["Instances"] if i["LifecycleState"] == "InService") > 2)
        t_healthy = wait("a third healthy target", lambda: healthy() > 2)
        print(f"  load step -> desired capacity grows:   {t_desired - t0:6.1f} s")
        print(f"  load step -> new instance InService:   {t_service - t0:6.1f} s")
        print(f"  load step -> new target healthy:       {t_healthy - t0:6.1f} s")
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"scale_step: {e}", file=sys.stderr)
        return 1
    finally:
        if load is not None:
            load.send_signal(signal.SIGTERM)
            load.wait(timeout=30)
        try:
            tide("down", "--stack-name", "bench")
        except Exception as e:  # the figures are printed; say what was not cleaned
            print(f"scale_step: tide down failed: {e}", file=sys.stderr)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
