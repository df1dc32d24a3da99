#!/usr/bin/env python3
"""console_cost: does a console open in a browser slow the load balancer down?

Starts its own `tide server` (--auth none, temporary data directory, free ports) and a stack
of two instances of tide's base image (`tide serve-static`, a fast C++ page) behind an
application load balancer. Then wrk drives the load balancer in short slices, rounds of
  closed   no browser
  open     headless Chromium showing the console (/console/), which polls the state and the
           charts' metrics every second and follows the event stream
  closed'  no browser again: the A/A control, the noise of this machine
and prints, per round and as medians, each slice's requests per second against the round's
`closed` slice, and the server's CPU time per request (user + system, from /proc; the balancer
runs in the server, so this is tide's own cost, apart from the browser's, which shares the
machine here and would not on a user's). The console costs nothing measurable when `open` lands within the band that
`closed'` spans. The browser is started before its slice and given --settle seconds to load
the page, so its start-up is not measured; it stays open through the slice.

It is a benchmark, not a test: it prints figures and asserts nothing. Every process it starts
is stopped by its process id at the end; the stack is removed with `tide down`.

Usage: bench/console_cost.py [--tide build/tide] [--rounds 7] [--slice 5] [--connections 32]
"""

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from devtools import chromium_path  # noqa: E402 (the browser tests' own lookup)
from harness import free_port  # noqa: E402
BASE_IMAGE = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"

STACK = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: two instances of tide's base image behind a load balancer
Parameters:
  Port: {Type: Number}
Resources:
  Template:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData: {ImageId: "resolve:ssm:%s", InstanceType: t3.large}
  Targets:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Port: 80
      Protocol: HTTP
      HealthCheckPath: /health
      HealthCheckIntervalSeconds: 2
      HealthCheckTimeoutSeconds: 1
      TargetGroupAttributes: [{Key: deregistration_delay.timeout_seconds, Value: 0}]
  Balancer:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
    Properties: {Name: cost}
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref Balancer
      Port: !Ref Port
      Protocol: HTTP
      DefaultActions: [{Type: forward, TargetGroupArn: !Ref Targets}]
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    Properties:
      MinSize: 2
      MaxSize: 2
      LaunchTemplate: {LaunchTemplateId: !Ref Template, Version: !GetAtt Template.LatestVersionNumber}
      TargetGroupARNs: [!Ref Targets]
""" % BASE_IMAGE


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tide", default=os.path.join(ROOT, "build", "tide"))
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--slice", type=int, default=5, help="seconds of wrk per slice")
    ap.add_argument("--settle", type=float, default=4, help="seconds for the page to load")
    ap.add_argument("--connections", type=int, default=32, help="wrk connections")
    args = ap.parse_args()
    for tool in ("wrk",):
        if shutil.which(tool) is None:
            sys.exit(f"console_cost: needs {tool} (apt-get install {tool})")
    if chromium_path() is None:
        sys.exit("console_cost: needs chromium (apt-get install chromium)")

    tmp = tempfile.mkdtemp(prefix="tide-console-cost-")
    api, port = free_port(), free_port()
    data = os.path.join(tmp, "data")
    env = dict(os.environ, TIDE_ENDPOINT=f"http://127.0.0.1:{api}", TIDE_DATA_DIR=data)
    server = subprocess.Popen([args.tide, "server", "--data-dir", data, "--auth", "none",
                               "--api", f"127.0.0.1:{api}"], stdout=subprocess.PIPE,
                              stderr=open(os.path.join(tmp, "server.log"), "w"),
                              stdin=subprocess.DEVNULL)
    browser = None
    stack = os.path.join(tmp, "stack.yaml")
    with open(stack, "w") as f:
        f.write(STACK)

    def tide(*a):
        return subprocess.run([args.tide, *a], env=env, capture_output=True, text=True,
                              check=True, timeout=300).stdout

    def open_browser():
        profile = os.path.join(tmp, f"chromium-{time.monotonic_ns()}")
        return subprocess.Popen(
            [chromium_path(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--remote-debugging-port=0",
             f"--user-data-dir={profile}", "--window-size=1366,768",
             f"http://127.0.0.1:{api}/console/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
            start_new_session=True)

    def close_browser(p):
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()

    def server_cpu_seconds():
        """The server's CPU time so far (user + system; the balancer runs in it)."""
        with open(f"/proc/{server.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    cpu_us = []  # the server's CPU per request of each slice, in order

    def wrk():
        before = server_cpu_seconds()
        out = subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.slice}s",
                              f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                             timeout=args.slice + 60).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        if not m:
            raise RuntimeError(f"wrk printed no rate:\n{out}")
        rate = float(m.group(1))
        cpu_us.append((server_cpu_seconds() - before) * 1e6 / (rate * args.slice))
        return rate

    try:
        server.stdout.readline()  # listening
        tide("up", stack, "--stack-name", "cost", "-p", f"Port={port}")
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the load balancer did not answer")
                time.sleep(0.5)
        urllib.request.urlopen(f"http://127.0.0.1:{api}/console/", timeout=5).read()
        wrk()  # warm-up
        print(f"tide console_cost: wrk -t1 -c{args.connections}, {args.slice} s slices, "
              f"{args.rounds} rounds: closed / open / closed' (req/s, and against closed)")
        ratios = {"open": [], "closed'": []}
        cpu = {"open": [], "closed'": []}
        for r in range(args.rounds):
            closed = wrk()
            browser = open_browser()
            time.sleep(args.settle)  # the page loads and starts polling: not measured
            opened = wrk()
            close_browser(browser)
            browser = None
            again = wrk()
            ratios["open"].append(opened / closed)
            ratios["closed'"].append(again / closed)
            c, o, a = cpu_us[-3:]
            cpu["open"].append(o / c)
            cpu["closed'"].append(a / c)
            print(f"  round {r + 1}: {closed:9.0f} {opened:9.0f} ({opened / closed:.3f}) "
                  f"{again:9.0f} ({again / closed:.3f});  server CPU per request "
                  f"{c:.1f} / {o:.1f} / {a:.1f} us", flush=True)
        aa = ratios["closed'"]
        print(f"req/s: median open/closed {statistics.median(ratios['open']):.3f}; A/A "
              f"closed'/closed median {statistics.median(aa):.3f}, band {min(aa):.3f}-{max(aa):.3f}")
        aa = cpu["closed'"]
        print(f"server CPU per request: median open/closed {statistics.median(cpu['open']):.3f}; "
              f"A/A median {statistics.median(aa):.3f}, band {min(aa):.3f}-{max(aa):.3f}")
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"console_cost: {e}", file=sys.stderr)
        if isinstance(e, subprocess.CalledProcessError):
            print(e.stdout, e.stderr, file=sys.stderr)
        return 1
    finally:
        if browser is not None:
            close_browser(browser)
        try:
            tide("down", "--stack-name", "cost")
        except Exception as e:
            print(f"console_cost: tide down failed: {e}", file=sys.stderr)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
