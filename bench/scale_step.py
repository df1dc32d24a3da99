#!/usr/bin/env python3
"""scale_step: how fast tide's Auto Scaling reacts to a load step, end to end.

Starts its own `tide server` (temporary data directory, free ports), brings up one of the
shop's stacks (2 to 10 t3.micro instances, health checks every 0.5 s), lets it settle, then
steps the load to --rate requests a second (`tide load`) and prints, from the moment of the step:
  - when the group's desired capacity first grows (the CPU alarm fired and its policy ran),
  - when the new instance is InService (launched and running),
  - when the new target is healthy in the load balancer (it serves traffic).
It is a benchmark, not a test: it prints figures and asserts nothing. Everything it starts is
stopped by its process id at the end; the stack is removed with `tide down`.

The policies (--policy):
  step      examples/shop/stack.yaml, the seed's 70/30 CPU rule: step policies on alarms of
            10 s periods (3 of 3 to scale out), heavy pages (?work=5000) to raise the CPU;
  tracking  examples/shop/tracking.yaml: target tracking on RequestCountPerTarget with
            --period second datapoints (default 1, tide's fast metrics; 10, 30 and 60 are AWS's)
            and a target of --per-instance requests per instance per second.

Usage: bench/scale_step.py [--tide build/tide] [--policy step|tracking] [--period 1]
                           [--per-instance 30] [--work N] [--rate N] [--timeout 180]
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
    ap.add_argument("--policy", choices=["step", "tracking"], default="step")
    ap.add_argument("--period", type=int, default=1, choices=[1, 10, 30, 60],
                    help="tracking: seconds per datapoint of the tracked metric")
    ap.add_argument("--per-instance", type=int, default=30,
                    help="tracking: the target, requests per instance per second")
    ap.add_argument("--work", type=int, help="hashing rounds per request "
                    "(default 10000 for step, 200 for tracking)")
    ap.add_argument("--rate", type=int, default=150, help="requests per second after the step")
    ap.add_argument("--timeout", type=float, default=180, help="seconds to wait for each event")
    args = ap.parse_args()
    if args.work is None:
        args.work = 10000 if args.policy == "step" else 200

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
        params = ["-p", f"Port={port}", "-p", "HealthCheckInterval=0.5", "-p",
                  "HealthCheckTimeout=0.25"]
        if args.policy == "step":
            stack = "stack.yaml"
            what = "70/30 CPU step policies, alarm periods 10 s x 3"
            settle = 25  # let the alarms see a quiet baseline (their periods are 10 s)
        else:
            stack = "tracking.yaml"
            params += ["-p", f"Period={args.period}", "-p",
                       f"RequestsPerInstance={args.per_instance * args.period}"]
            what = (f"target tracking, {args.per_instance} requests per instance per second, "
                    f"{args.period} s datapoints x 3")
            settle = 3 * args.period + 5
        tide("up", os.path.join(ROOT, "examples", "shop", stack), "--stack-name", "bench", *params)
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
        time.sleep(settle)
        print(f"tide scale_step: group {group}, load {args.rate} req/s of work={args.work} "
              f"on 2 x t3.micro (0.25 core each), {what}")
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
