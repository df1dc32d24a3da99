#!/usr/bin/env python3
"""warm_pool: how fast a warm pool's instance serves after a scale-out, against a cold launch.

Starts its own `tide server` (temporary data directory, free ports, --auth none on loopback)
and, for each pool state (Hibernated, Running, Stopped) and for a group without a pool (cold),
brings up a stack: an app that answers / with its instance id (it imports and prepares for about
--app-start seconds before it listens, as a real app loads its code), a load balancer with health
checks every 0.2 s, and a group of 1 to 2 instances with a warm pool of MaxGroupPreparedCapacity 2.
Each round waits until the pool's instance is in its state, then calls SetDesiredCapacity 2 and
measures the time until a request through the load balancer is answered by the new instance;
then it scales back to 1 and lets the pool fill again. It prints the median and the range per
mode. It is a benchmark, not a test: it asserts nothing. Everything it starts is stopped by its
process id at the end; each stack is removed with `tide down`.

Usage: bench/warm_pool.py [--tide build/tide] [--rounds 5] [--app-start 1.0]
                          [--modes Hibernated,Running,Stopped,cold]
"""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import textwrap
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

APP = textwrap.dedent("""\
    import http.server, os, time
    time.sleep(float(os.environ.get("APP_START", "0")))  # loading its code and data
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            body = os.environ["TIDE_INSTANCE_ID"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    http.server.ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), H).serve_forever()
    """)

STACK = textwrap.dedent("""\
    Parameters:
      Port: {{Type: Number}}
    Resources:
      Image:
        Type: Tide::EC2::Image
        Properties: {{SourceDirectory: app, RunCommand: python3 app.py, Port: 8080}}
      Template:
        Type: AWS::EC2::LaunchTemplate
        Properties:
          LaunchTemplateData:
            ImageId: !Ref Image
            InstanceType: t3.nano
            Environment: [{{Name: APP_START, Value: "{app_start}"}}]
      Targets:
        Type: AWS::ElasticLoadBalancingV2::TargetGroup
        Properties:
          Port: 8080
          HealthCheckIntervalSeconds: 0.2
          HealthCheckTimeoutSeconds: 0.15
          HealthyThresholdCount: 2
          TargetGroupAttributes: [{{Key: deregistration_delay.timeout_seconds, Value: 0}}]
      Balancer:
        Type: AWS::ElasticLoadBalancingV2::LoadBalancer
      Listener:
        Type: AWS::ElasticLoadBalancingV2::Listener
        Properties:
          LoadBalancerArn: !Ref Balancer
          Port: !Ref Port
          DefaultActions: [{{Type: forward, TargetGroupArn: !Ref Targets}}]
      Group:
        Type: AWS::AutoScaling::AutoScalingGroup
        DependsOn: Listener
        Properties:
          LaunchTemplate: {{LaunchTemplateId: !Ref Template, Version: !GetAtt Template.LatestVersionNumber}}
          MinSize: 1
          MaxSize: 2
          TargetGroupARNs: [!Ref Targets]
    {pool}Outputs:
      GroupName: {{Value: !Ref Group}}
    """)

POOL = textwrap.indent(textwrap.dedent("""\
    Warm:
      Type: AWS::AutoScaling::WarmPool
      Properties:
        AutoScalingGroupName: !Ref Group
        PoolState: {state}
        MaxGroupPreparedCapacity: 2
    """), "  ")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise RuntimeError(f"timed out waiting for {what}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tide", default=os.path.join(ROOT, "build", "tide"))
    ap.add_argument("--rounds", type=int, default=5, help="scale-outs measured per mode")
    ap.add_argument("--app-start", type=float, default=1.0,
                    help="seconds the app prepares before it listens")
    ap.add_argument("--modes", default="Hibernated,Running,Stopped,cold")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tide-warm-pool-")
    os.makedirs(os.path.join(tmp, "stack", "app"))
    with open(os.path.join(tmp, "stack", "app", "app.py"), "w") as f:
        f.write(APP)
    api = free_port()
    endpoint = f"http://127.0.0.1:{api}"
    env = dict(os.environ, TIDE_ENDPOINT=endpoint, TIDE_DATA_DIR=os.path.join(tmp, "data"))
    server = subprocess.Popen([args.tide, "server", "--data-dir", os.path.join(tmp, "data"),
                               "--api", f"127.0.0.1:{api}", "--auth", "none",
                               "--termination-grace", "2"],
                              stdout=subprocess.PIPE,
                              stderr=open(os.path.join(tmp, "server.log"), "w"),
                              stdin=subprocess.DEVNULL)

    def tide(*a):
        return subprocess.run([args.tide, *a], env=env, capture_output=True, text=True,
                              check=True, timeout=300).stdout

    def call(action, params):
        req = urllib.request.Request(endpoint + "/", data=json.dumps(params).encode(),
                                     method="POST", headers={"X-Amz-Target": action})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def get(port):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                return r.read().decode()
        except (urllib.error.URLError, OSError):
            return None

    results = {}
    try:
        banner = [server.stdout.readline().decode() for _ in range(7)]
        print("".join(line for line in banner if "warm pools" in line).strip())
        for mode in args.modes.split(","):
            port = free_port()
            path = os.path.join(tmp, "stack", f"{mode.lower()}.yaml")
            with open(path, "w") as f:
                f.write(STACK.format(app_start=args.app_start,
                                     pool="" if mode == "cold" else POOL.format(state=mode)))
            name = f"warm-{mode.lower()}"
            tide("up", path, "--stack-name", name, "-p", f"Port={port}")
            group = json.loads(tide("stack", "describe", name, "--output", "json"))[
                "Stacks"][0]["Outputs"][0]["OutputValue"]
            times = []
            for _ in range(args.rounds):
                def ready():
                    g = call("DescribeAutoScalingGroups",
                             {"AutoScalingGroupNames": [group]})["AutoScalingGroups"][0]
                    if [i["LifecycleState"] for i in g["Instances"]] != ["InService"]:
                        return None
                    if mode == "cold":
                        return get(port)
                    warm = call("DescribeWarmPool", {"AutoScalingGroupName": group})["Instances"]
                    return [i["LifecycleState"] for i in warm] == [f"Warmed:{mode}"] and get(port)
                first = wait_for(ready, 120, f"{mode}: one instance serving and the pool ready")
                started = time.monotonic()
                call("SetDesiredCapacity", {"AutoScalingGroupName": group, "DesiredCapacity": 2})
                wait_for(lambda: (get(port) or first) != first, 120,
                         f"{mode}: the new instance to serve", interval=0.002)
                times.append(time.monotonic() - started)
                call("SetDesiredCapacity", {"AutoScalingGroupName": group, "DesiredCapacity": 1})
                # The instance left is the oldest? Either way one serves; wait for one only.
                wait_for(lambda: len(call("DescribeAutoScalingGroups",
                                          {"AutoScalingGroupNames": [group]})[
                    "AutoScalingGroups"][0]["Instances"]) == 1, 120, f"{mode}: back to one")
            results[mode] = times
            tide("down", "--stack-name", name)
            print(f"{mode:>10}: median {statistics.median(times) * 1000:7.0f} ms  "
                  f"(min {min(times) * 1000:.0f}, max {max(times) * 1000:.0f}; "
                  f"{len(times)} scale-outs)", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nFrom SetDesiredCapacity to the new instance answering through the load balancer "
          f"(app start-up {args.app_start:g} s, health checks every 0.2 s):")
    for mode, times in results.items():
        print(f"  {mode:>10}  {statistics.median(times) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
