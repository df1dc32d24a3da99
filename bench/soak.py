#!/usr/bin/env python3
"""soak: hours, not minutes. Does tide stay flat while its group cycles under load?

Starts its own `tide server` (temporary data directory, free ports), brings up the example
stack (examples/shop/stack.yaml, MinSize --min-size, MaxSize --max-size), suspends the group's
alarm-driven scaling (SuspendProcesses AlarmNotification, so that the cycle is the bench's
own), and for --minutes sends --rate requests a second (`tide load`) while the group's desired
capacity goes from its minimum to its maximum and back every --cycle seconds. Every --sample
seconds it prints one line: the group's desired and in-service counts, the server's resident
memory, open files and threads (the load balancer runs inside the server process), and the
requests that failed in that stretch. At the end it prints:
  - memory and open files over time: the first and the last quarter of the run side by side,
    and the most each reached (flat means the last quarter is no higher than the first);
  - leaked instances: after the last scale-in and after `tide down`, processes, cgroups and
    mounts that belong to no running instance (none expected);
  - failed requests, split into those within --grace seconds after a scale-in began (the
    deregistration delay ends there and instances are killed) and the rest (none expected).
It is a benchmark, not a test: it prints figures and asserts nothing. Everything it starts is
stopped by its process id at the end.

Usage: bench/soak.py [--tide build/tide] [--minutes 30] [--cycle 120] [--rate 60]
                     [--work 200] [--min-size 2] [--max-size 6] [--sample 15]
                     [--server-args '--metric-retention 600 --terminated-retention 60']

The server keeps 1 s metric data for 3 hours (docs/metrics.md), so its memory grows for its
first 3 hours; --server-args '--metric-retention 600' shows the level within a shorter run.
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
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    """(resident MiB, open files, threads) of a process."""
    rss = threads = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("Threads:"):
                threads = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd")), threads


def leftovers(data_dir, running_ids, ours):
    """What belongs to no running instance: tide cgroups of the soak's instances (`ours`: other
    servers on the host, tests for example, have their own), mounts under the data directory and
    instance processes (uid 200000 and up) whose instance is not running."""
    found = []
    for root in ("/sys/fs/cgroup/cpu/tide", "/sys/fs/cgroup/memory/tide", "/sys/fs/cgroup/pids/tide",
                 "/sys/fs/cgroup/unified/tide", "/sys/fs/cgroup/tide"):
        try:
            for name in os.listdir(root):
                if name in ours and name not in running_ids:
                    found.append(f"cgroup {root}/{name}")
        except OSError:
            pass
    real = os.path.realpath(data_dir)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if point.startswith(real + "/") and not any(i in point for i in running_ids):
                found.append(f"mount {point}")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
            if uid >= 200000:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    env = f.read().split(b"\0")
                iid = next((e[17:].decode() for e in env if e.startswith(b"TIDE_INSTANCE_ID=")),
                           "?")
                if iid not in running_ids and os.path.realpath(
                        os.readlink(f"/proc/{pid}/cwd")).startswith(real):
                    found.append(f"process {pid} of {iid}")
        except OSError:
            pass
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tide", default=os.path.join(ROOT, "build", "tide"))
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--cycle", type=int, default=120, help="seconds from min to max and back")
    ap.add_argument("--rate", type=int, default=60, help="requests per second")
    ap.add_argument("--work", type=int, default=200, help="hashing rounds per request")
    ap.add_argument("--min-size", type=int, default=2)
    ap.add_argument("--max-size", type=int, default=6)
    ap.add_argument("--sample", type=int, default=15, help="seconds between samples")
    ap.add_argument("--server-args", default="",
                    help="more tide server options, e.g. '--metric-retention 600'")
    ap.add_argument("--grace", type=int, default=15,
                    help="seconds after a scale-in begins whose failures are the killed ones'")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tide-soak-")
    # A copy of the binary: a rebuild during a long run must not pull it from under the CLI.
    shutil.copy2(args.tide, os.path.join(tmp, "tide"))
    args.tide = os.path.join(tmp, "tide")
    data_dir = os.path.join(tmp, "data")
    api, port = free_port(), free_port()
    env = dict(os.environ, TIDE_ENDPOINT=f"http://127.0.0.1:{api}", TIDE_DATA_DIR=data_dir)
    server = subprocess.Popen([args.tide, "server", "--data-dir", data_dir,
                               "--api", f"127.0.0.1:{api}", *args.server_args.split()],
                              stdout=subprocess.PIPE,
                              stderr=open(os.path.join(tmp, "server.log"), "w"),
                              stdin=subprocess.DEVNULL)
    load = None
    stack_up = True  # (tide down is harmless when tide up never ran)

    def tide(*a):
        return subprocess.run([args.tide, *a], env=env, capture_output=True, text=True,
                              check=True, timeout=300).stdout

    def tide_json(*a):
        return json.loads(tide(*a, "--output", "json"))

    try:
        server.stdout.readline()  # listening
        tide("up", os.path.join(ROOT, "examples", "shop", "stack.yaml"), "--stack-name", "soak",
             "-p", f"Port={port}", "-p", f"MinSize={args.min_size}", "-p",
             f"MaxSize={args.max_size}")
        group = next(o["OutputValue"] for o in tide_json("stack", "describe", "soak")
                     ["Stacks"][0]["Outputs"] if o["OutputKey"] == "GroupName")
        suspended = suspend_alarms(tide, env, group)

        def group_state():
            return tide_json("asg", "ls")["AutoScalingGroups"][0]

        deadline = time.monotonic() + 180
        while sum(1 for d in tide_json("tg", "health", "soak-ShopTargets")
                  ["TargetHealthDescriptions"] if d["TargetHealth"]["State"] == "healthy") \
                < args.min_size:
            if time.monotonic() > deadline:
                raise RuntimeError("the group's first instances never turned healthy")
            time.sleep(0.5)

        seconds = int(args.minutes * 60)
        print(f"tide soak: {args.minutes:g} min, {args.rate} req/s of work={args.work}, group "
              f"{group} cycled {args.min_size}..{args.max_size} every {args.cycle} s"
              f"{'' if suspended else ' (alarms NOT suspended: boto3 missing)'}; server pid "
              f"{server.pid} (the load balancer runs inside it)")
        load = subprocess.Popen(
            [args.tide, "load", f"http://127.0.0.1:{port}/?work={args.work}", "--rate",
             str(args.rate), "--duration", f"{seconds}s", "--timeout", "5s", "--output", "json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            stdin=subprocess.DEVNULL)
        failures = []  # (second of the run, failed requests in it)
        report = {}

        def read_progress():
            for line in load.stderr:
                f = line.split()
                if len(f) > 1 and f[0].endswith("s") and f[0][:-1].isdigit():
                    bad = sum(int(f[f.index(k) + 1]) for k in ("5xx", "timeouts", "conn-errors")
                              if k in f)
                    if bad:
                        failures.append((int(f[0][:-1]), bad))

        reader = threading.Thread(target=read_progress, daemon=True)
        reader.start()
        t0 = time.monotonic()
        scale_ins = []  # seconds of the run at which a scale-in began
        samples = []
        ours = set()  # every instance of the group seen
        next_sample = 0
        high = None
        print(f"{'time':>6} {'desired':>7} {'in service':>10} {'RSS MiB':>8} {'files':>6} "
              f"{'threads':>7} {'failed':>6}")
        while load.poll() is None:
            now = time.monotonic() - t0
            want_high = int(now // (args.cycle / 2)) % 2 == 0
            if want_high != high:
                high = want_high
                tide("asg", "set-desired", group, str(args.max_size if high else args.min_size))
                if not high:
                    scale_ins.append(now)
            if now >= next_sample:
                state = group_state()
                rss, files, threads = proc_status(server.pid)
                failed = sum(n for s, n in failures if s > now - args.sample)
                in_service = sum(1 for i in state["Instances"]
                                 if i["LifecycleState"] == "InService")
                samples.append((now, rss, files))
                ours.update(i["InstanceId"] for i in state["Instances"])
                print(f"{now:6.0f} {state['DesiredCapacity']:7d} {in_service:10d} {rss:8.1f} "
                      f"{files:6d} {threads:7d} {failed:6d}", flush=True)
                next_sample += args.sample
            time.sleep(0.5)
        out = load.stdout.read()
        load.wait(timeout=60)
        reader.join(timeout=10)
        report = json.loads(out) if out.strip() else {}
        load = None

        print_summary(args, samples, failures, scale_ins, report)
        tide("asg", "set-desired", group, str(args.min_size))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            live = [i for r in tide_json("instance", "ls")["Reservations"]
                    for i in r["Instances"] if i["State"]["Name"] != "terminated"]
            if len(live) <= args.min_size:
                break
            time.sleep(1)
        running = {i["InstanceId"] for i in live}
        ours.update(i["InstanceId"] for r in tide_json("instance", "ls")["Reservations"]
                    for i in r["Instances"])
        left = leftovers(data_dir, running, ours)
        print(f"  after the last scale-in: {len(live)} instances not terminated (the minimum is "
              f"{args.min_size}); leftovers: {len(left)}" + "".join(f"\n    {x}" for x in left))
        tide("down", "--stack-name", "soak")
        stack_up = False
        left = leftovers(data_dir, set(), ours)
        print(f"  after tide down: leftovers: {len(left)}" + "".join(f"\n    {x}" for x in left))
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as e:
        print(f"soak: {e}", file=sys.stderr)
        return 1
    finally:
        if load is not None:
            load.send_signal(signal.SIGTERM)
            load.wait(timeout=30)
        if stack_up:  # instances outlive their server: remove them first
            subprocess.run([args.tide, "down", "--stack-name", "soak"], env=env, timeout=300,
                           capture_output=True)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)


def suspend_alarms(tide, env, group):
    """Suspends the group's AlarmNotification process (boto3 signed with the server's key), so
    that only the bench changes its capacity. False when boto3 is absent."""
    try:
        import boto3
    except ImportError:
        return False
    creds = dict(line.replace("export ", "").split("=", 1)
                 for line in tide("credentials").splitlines() if "=" in line)
    client = boto3.client("autoscaling", endpoint_url=env["TIDE_ENDPOINT"],
                          region_name="us-east-1",
                          aws_access_key_id=creds["AWS_ACCESS_KEY_ID"].strip("'\""),
                          aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"].strip("'\""))
    client.suspend_processes(AutoScalingGroupName=group, ScalingProcesses=["AlarmNotification"])
    return True


def print_summary(args, samples, failures, scale_ins, report):
    n = len(samples)
    if n >= 4:
        first, last = samples[:n // 4], samples[-(n // 4):]

        def mean(rows, k):
            return sum(r[k] for r in rows) / len(rows)
        print(f"  server RSS:   first quarter {mean(first, 1):7.1f} MiB, last quarter "
              f"{mean(last, 1):7.1f} MiB, most {max(r[1] for r in samples):7.1f} MiB")
        print(f"  open files:   first quarter {mean(first, 2):7.1f}, last quarter "
              f"{mean(last, 2):7.1f}, most {max(r[2] for r in samples)}")
    near = sum(n for s, n in failures if any(0 <= s - t <= args.grace for t in scale_ins))
    total = sum(n for _, n in failures)
    print(f"  requests: {report.get('Requests', '?')} sent, {report.get('Succeeded', '?')} "
          f"succeeded, {report.get('Failed', '?')} failed (codes {report.get('Codes', {})}); "
          f"p99 {report.get('LatencyMs', {}).get('p99', '?')} ms")
    print(f"  failed within {args.grace} s after a scale-in began: {near}; at other times: "
          f"{total - near}")


if __name__ == "__main__":
    sys.exit(main())
