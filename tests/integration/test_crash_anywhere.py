"""Crash anywhere, converge (docs/reliability.md, "Crash anywhere"): the server is killed with
SIGKILL at seeded, reproducible crash points (src/common/crash_point.h) while a stack is
created, refreshed, scaled out, updated with replacements, scaled in (draining) and deleted, and
while images are imported (by root and by another user), instances are launched and terminated
and the images are deregistered. After each kill a server
started again on the same data directory, with the user's command repeated as a user would,
must reach the desired state, and nothing may be left over: no process, mount, cgroup, disk or
listening address of an instance that is not running, no process of the server's left after
it, no resource lost, no stack failure, every instance's user data run, and never more
instances in a group than its desired capacity.

How it runs: a first pass through the phases traces the crash points each passes
(TIDE_CRASH_TRACE), from the server's start to the phase's end. Then, from a seed (printed; set
TIDE_CRASH_SEED to replay a run), each later pass through the phases picks one point per phase:
a point name, then one of its passes (`name#K`), and starts the server with TIDE_CRASH_AT set to
it. One line per kill point is printed. To replay one kill point, run with its seed:
TIDE_CRASH_SEED=<seed> TIDE_CRASH_ONLY=<kill number> (the other runs go without a kill).
TIDE_CRASH_KEEP=1 keeps the data directory and the server's log.

The `launch` phase runs its servers with `--disks copy` (every other phase with the machine's
overlayfs): its instances' disks are copies made on the instance controller's worker, so that
kills land in the middle of a copy (disk.copy.entry) and after it (provider.prepare.disk).
"""

import base64
import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import (TIDE, CliError, TideServer, TideTestCase, free_port, signed_headers)

ROOT = os.geteuid() == 0
CYCLES = int(os.environ.get("TIDE_CRASH_CYCLES", "6"))  # kill passes through the phases
SEED = int(os.environ.get("TIDE_CRASH_SEED") or random.SystemRandom().randrange(1, 1 << 31))
ONLY = int(os.environ.get("TIDE_CRASH_ONLY", "0"))  # replay: only this kill number kills
CONVERGE = 40.0  # seconds a phase may take to converge after the restart
COPY_PHASES = {"launch"}  # phases whose servers make instance disks as copies (--disks copy)

APP = """import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(os.environ.get("TIDE_INSTANCE_ID", "").encode())
    def log_message(self, *a):
        pass
http.server.HTTPServer((os.environ["HOST"], int(os.environ["PORT"])), H).serve_forever()
"""

STACK = """\
Parameters:
  Port: {Type: Number}
  Size: {Type: Number}
  TargetPort: {Type: Number}
Resources:
  AppImage:
    Type: Tide::EC2::Image
    Properties:
      SourceDirectory: app
      RunCommand: python3 server.py
      Port: 8080
      HealthCheckPath: /health
  AppTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: !Ref AppImage
        InstanceType: t3.nano
        UserData: {"Fn::Base64": "#!/bin/sh\\necho ran >> user-data-ran.txt\\n"}
  Web:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Port: !Ref TargetPort
      HealthCheckPath: /health
      HealthCheckIntervalSeconds: 0.2
      HealthCheckTimeoutSeconds: 0.1
      HealthyThresholdCount: 2
      TargetGroupAttributes:
        - {Key: deregistration_delay.timeout_seconds, Value: 0}
  LB:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: !Ref Port
      DefaultActions:
        - {Type: forward, TargetGroupArn: !Ref Web}
  Group:
    Type: AWS::AutoScaling::AutoScalingGroup
    DependsOn: Listener
    Properties:
      LaunchTemplate:
        LaunchTemplateId: !Ref AppTemplate
        Version: !GetAtt AppTemplate.LatestVersionNumber
      MinSize: !Ref Size
      MaxSize: 4
      DesiredCapacity: !Ref Size
      TargetGroupARNs: [!Ref Web]
Outputs:
  GroupName:
    Value: !Ref Group
"""

USER_DATA = "#!/bin/sh\necho ran >> user-data-ran.txt\n"
LIVE = ("pending", "running", "stopping", "shutting-down")
CAPACITY = ("Pending", "Pending:Wait", "Pending:Proceed", "InService")


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError:
        return b"" if "b" in mode else ""


class Server(TideServer):
    """TideServer with an environment of its own; a server killed before its first line is
    reported as `died`, not as an error."""

    def __init__(self, data_dir, env, *extra):
        self.data_dir = data_dir
        self.log_path = data_dir + ".log"
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [TIDE, "server", "--data-dir", data_dir, "--api", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL, env=env)
        line = self.proc.stdout.readline().decode()
        self.died = "listening on" not in line
        if self.died:
            self.proc.wait(timeout=30)
            self.endpoint = None
            return
        self.endpoint = line.split("listening on ")[1].strip()
        self.banner = line + self._drain_banner()


class Killed(Exception):
    """The server died under a phase's driver."""


@unittest.skipUnless(ROOT, "orphan processes, mounts, cgroups and instance uids are root's")
class CrashAnywhereTest(TideTestCase):
    server_args = ("--termination-grace", "0.5", "--terminated-retention", "3600")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tide-crash-")
        self.data_dir = os.path.join(self.tmp, "data")
        self.server = None
        self.addCleanup(self._end)
        app = os.path.join(self.tmp, "app")
        os.makedirs(app)
        with open(os.path.join(app, "server.py"), "w") as f:
            f.write(APP)
        # Something to copy for a while: image import is killed mid-copy too.
        for n in range(40):
            with open(os.path.join(app, f"asset-{n:02}.bin"), "wb") as f:
                f.write(bytes([n]) * 65536)
        self.app = app
        # What a user other than root imports (read with its rights, copied by a child process
        # of the server running as that user): big enough that the copy outlasts a kill.
        os.chmod(self.tmp, 0o755)
        self.user_app = os.path.join(self.tmp, "user-app")
        os.makedirs(self.user_app)
        shutil.copy(os.path.join(app, "server.py"), self.user_app)
        with open(os.path.join(self.user_app, "big.bin"), "wb") as f:
            f.write(os.urandom(1 << 20) * 48)
        for d in (app, self.user_app):
            for n in os.listdir(d):
                os.chmod(os.path.join(d, n), 0o644)
        self.stack_path = os.path.join(self.tmp, "crash.yaml")
        with open(self.stack_path, "w") as f:
            f.write(STACK)
        self.port = free_port()
        self.known = set()  # every instance id this server ever described
        self.phase_args = ()  # the server options of the phase that runs
        self.violations = []

    def _end(self):
        if self.server is None or self.server.proc.poll() is not None:
            if self.server is not None:
                self.server.stop()
            self.server = self.start({})
        try:
            self.tide("down", self.stack_path, check=False)
            self.terminate_all()
        except BaseException:
            # Instances may still run on it: a server started on it later removes them.
            print(f"cleanup failed: {self.tmp} is kept", flush=True)
            raise
        finally:
            self.server.stop()
        if not os.environ.get("TIDE_CRASH_KEEP"):  # set: the data directory and log stay
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- servers ------------------------------------------------------------------------------
    def start(self, extra_env):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIDE_CRASH")}
        env.update(extra_env)
        for _ in range(3):
            s = Server(self.data_dir, env, *self.server_args, *self.phase_args)
            if not s.died or not extra_env.get("TIDE_CRASH_AT"):
                self.assertFalse(s.died, read(self.data_dir + ".log")[-2000:])
                return s
            s.stop()
            return s  # killed during start-up: the caller restarts it
        raise AssertionError("unreachable")

    def api_or_die(self, action, params=None):
        """ok(), but a server that is gone raises Killed."""
        try:
            status, body = self.api(action, params)
        except OSError as e:
            if self.gone():
                raise Killed(str(e))
            raise
        if status != 200:
            raise AssertionError(f"{action}: {status} {body}")
        return body

    def cli(self, *args):
        try:
            return self.tide(*args)
        except CliError as e:
            if self.gone():
                raise Killed(e.stderr)
            raise

    def gone(self):
        """Whether the server has died (after a failed request): a process killed with SIGKILL
        closes its sockets a moment before it can be waited for."""
        if self.server.proc.poll() is not None:
            return True
        try:
            self.api("DescribeAutoScalingGroups")
            return False  # it answers: the failure was the request's own
        except OSError:
            pass
        try:
            self.server.proc.wait(timeout=5)
            return True
        except subprocess.TimeoutExpired:
            return False

    # -- what there is ------------------------------------------------------------------------
    def instances(self):
        out = []
        for r in self.api_or_die("DescribeInstances")["Reservations"]:
            out.extend(r["Instances"])
        self.known.update(i["InstanceId"] for i in out)
        return out

    def groups(self):
        return self.api_or_die("DescribeAutoScalingGroups")["AutoScalingGroups"]

    def resources(self):
        """{kind: set of ids} of everything but instances."""
        return {
            "image": {i["ImageId"] for i in self.api_or_die("DescribeImages")["Images"]},
            "template": {t["LaunchTemplateId"] for t in
                         self.api_or_die("DescribeLaunchTemplates")["LaunchTemplates"]},
            "target group": {t["TargetGroupArn"] for t in
                             self.api_or_die("DescribeTargetGroups")["TargetGroups"]},
            "load balancer": {lb["LoadBalancerArn"] for lb in
                              self.api_or_die("DescribeLoadBalancers")["LoadBalancers"]},
            "group": {g["AutoScalingGroupName"] for g in self.groups()},
            "stack": {s["StackName"] for s in self.api_or_die("DescribeStacks")["Stacks"]},
        }

    def observe_capacity(self, bound):
        """Every group's instances on their way into or in service, against `bound` (the largest
        desired capacity of the phase)."""
        for g in self.groups():
            n = sum(1 for i in g["Instances"] if i["LifecycleState"] in CAPACITY)
            if n > bound:
                self.violations.append(f"group {g['AutoScalingGroupName']} has {n} instances "
                                       f"in service or pending, desired at most {bound}")

    # -- the phases: each drives the user's command (again after a restart: repeated as a user
    # would) and says when the desired state is reached ------------------------------------------
    def stack(self):
        stacks = self.api_or_die("DescribeStacks")["Stacks"]
        return stacks[0] if stacks else None

    def up(self, size, target_port=8080):
        """A changed target port replaces the target group, the listener and the group's
        attachment (an update that deletes and makes resources, not only changes them)."""
        self.cli("up", self.stack_path, "-p", f"Port={self.port}", "-p", f"Size={size}",
                 "-p", f"TargetPort={target_port}")

    def group_done(self, size, target_port=8080):
        st = self.stack()
        if st is None or st["StackStatus"] not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            return False
        groups = self.groups()
        if len(groups) != 1 or groups[0]["DesiredCapacity"] != size:
            return False
        tgs = self.api_or_die("DescribeTargetGroups")["TargetGroups"]
        if ([t["Port"] for t in tgs] != [target_port] or
                groups[0]["TargetGroupARNs"] != [tgs[0]["TargetGroupArn"]]):
            return False
        running = {i["InstanceId"] for i in self.instances() if i["State"]["Name"] == "running"}
        members = groups[0]["Instances"]
        return (len(members) == size and all(m["LifecycleState"] == "InService" and
                                              m["InstanceId"] in running for m in members)
                and not any(i["State"]["Name"] in LIVE and i["State"]["Name"] != "running"
                            for i in self.instances()))

    def refresh_start(self):
        g = self.groups()[0]["AutoScalingGroupName"]
        refreshes = self.api_or_die("DescribeInstanceRefreshes",
                                    {"AutoScalingGroupName": g})["InstanceRefreshes"]
        if len(refreshes) > self.refreshes_before:
            return  # recorded before the kill: it goes on
        status, body = self.api("StartInstanceRefresh", {
            "AutoScalingGroupName": g,
            "Preferences": {"MinHealthyPercentage": 50, "MaxHealthyPercentage": 100,
                            "InstanceWarmup": 0}})
        if status != 200 and "InstanceRefreshInProgress" not in json.dumps(body):
            raise AssertionError(f"StartInstanceRefresh: {status} {body}")

    def refresh_done(self):
        groups = self.groups()
        if not groups:
            return False
        refreshes = self.api_or_die("DescribeInstanceRefreshes", {
            "AutoScalingGroupName": groups[0]["AutoScalingGroupName"]})["InstanceRefreshes"]
        if len(refreshes) <= self.refreshes_before:
            return False
        if refreshes[0]["Status"] in ("Failed", "Cancelled", "RollbackSuccessful"):
            self.violations.append(f"the instance refresh ended {refreshes[0]['Status']}: "
                                   f"{refreshes[0].get('StatusReason')}")
            return True
        return refreshes[0]["Status"] == "Successful" and self.group_done(2)

    def down(self):
        try:
            self.cli("down", self.stack_path)
        except CliError as e:
            if "does not exist" not in e.stderr:  # deleted before the kill: done
                raise

    def down_done(self):
        return (self.stack() is None and not self.groups() and
                not any(i["State"]["Name"] in LIVE for i in self.instances()) and
                not any(self.resources().values()))

    def image(self, name="crash"):
        images = [i for i in self.api_or_die("DescribeImages")["Images"] if i["Name"] == name]
        return images[0] if images else None

    def image_create_as_user(self):
        """CreateImage sent by a process of uid 65534 (nobody): the server reads the source
        with that uid's rights, in a child process of its own."""
        if self.image("crash-user") is not None:
            return
        body = json.dumps({"Name": "crash-user", "SourceDirectory": self.user_app,
                           "RunCommand": "python3 server.py"}).encode()
        headers = signed_headers(self.server, body, {"X-Amz-Target": "CreateImage"})
        args = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "curl",
                "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                "--data-binary", "@-", self.server.endpoint + "/"]
        for k, v in headers.items():
            args += ["-H", f"{k}: {v}"]
        p = subprocess.run(args, input=body, capture_output=True, timeout=60)
        if p.stdout != b"200":
            if self.gone():
                raise Killed(p.stderr.decode())
            raise AssertionError(f"CreateImage as uid 65534: {p.stdout} {p.stderr}")

    def image_as_user_done(self):
        img = self.image("crash-user")
        return img is not None and img["State"] == "available"

    def image_create(self):
        if self.image() is None:
            self.cli("image", "create", "--name", "crash", "--from", self.app, "--run",
                     "python3 server.py")

    def image_done(self):
        img = self.image()
        return img is not None and img["State"] == "available"

    def tagged(self):
        return [i for i in self.instances()
                if {"Key": "crash", "Value": self.run_tag} in i.get("Tags", [])]

    def run_instances(self):
        if not self.tagged():
            self.api_or_die("RunInstances", {
                "ImageId": self.image()["ImageId"], "InstanceType": "t3.nano", "MinCount": 2,
                "MaxCount": 2, "UserData": base64.b64encode(USER_DATA.encode()).decode(),
                "TagSpecifications": [{"ResourceType": "instance", "Tags": [
                    {"Key": "crash", "Value": self.run_tag}]}]})

    def run_done(self):
        return sum(1 for i in self.tagged() if i["State"]["Name"] == "running") == 2 and not any(
            i["State"]["Name"] in LIVE and i["State"]["Name"] != "running"
            for i in self.instances())

    def terminate(self):
        live = [i["InstanceId"] for i in self.tagged() if i["State"]["Name"] in LIVE]
        if live:
            self.api_or_die("TerminateInstances", {"InstanceIds": live})
            # Tags go with them: the next cycle's run must not count these.

    def terminate_done(self):
        return not any(i["State"]["Name"] in LIVE for i in self.instances())

    def deregister(self):
        for name in ("crash", "crash-user"):
            img = self.image(name)
            if img is not None:
                self.api_or_die("DeregisterImage", {"ImageId": img["ImageId"]})

    def deregister_done(self):
        images_dir = os.path.join(self.data_dir, "images")
        stored = set(os.listdir(images_dir)) if os.path.isdir(images_dir) else set()
        return (self.image() is None and self.image("crash-user") is None and
                stored <= self.stored_baseline)

    def phases(self):
        """(name, drive, done, capacity bound, kinds of resources the phase removes)."""
        return [
            ("stack-create", lambda: self.up(2), lambda: self.group_done(2), 2, set()),
            ("instance-refresh", self.refresh_start, self.refresh_done, 2, set()),
            ("scale-out", lambda: self.up(3), lambda: self.group_done(3), 3, set()),
            ("stack-replace", lambda: self.up(3, 8081), lambda: self.group_done(3, 8081), 3,
             {"target group"}),
            ("scale-in-drain", lambda: self.up(1, 8081), lambda: self.group_done(1, 8081), 3,
             set()),
            ("stack-delete", self.down, self.down_done, 1,
             {"image", "template", "target group", "load balancer", "group", "stack"}),
            ("image-import", self.image_create, self.image_done, 0, set()),
            ("image-import-as-user", self.image_create_as_user, self.image_as_user_done, 0,
             set()),
            ("launch", self.run_instances, self.run_done, 0, set()),
            ("terminate", self.terminate, self.terminate_done, 0, set()),
            ("deregister-image", self.deregister, self.deregister_done, 0, {"image"}),
        ]

    # -- leftovers ----------------------------------------------------------------------------
    def leftovers(self):
        """What is left of instances that are not running: processes, cgroups, mounts, disks,
        listening addresses."""
        running, addresses, found = set(), set(), []
        for i in self.instances():
            if i["State"]["Name"] == "running":
                running.add(i["InstanceId"])
                addresses.add((i["PrivateIpAddress"], i["Port"]))
                # Its user data ran (at its first start, as its own uid, in its disk).
                if "ran" not in read(os.path.join(i["WorkingDirectory"], "user-data-ran.txt")):
                    found.append(f"{i['InstanceId']}: its user data never ran")
        ours = set(self.known)
        inst_dir = os.path.join(os.path.realpath(self.data_dir), "instances")
        if os.path.isdir(inst_dir):
            ours.update(n for n in os.listdir(inst_dir) if n.startswith("i-"))
        sockets = {}  # socket inode -> pid
        for pid in filter(str.isdigit, os.listdir("/proc")):
            env = read(f"/proc/{pid}/environ", "rb").split(b"\0")
            iid = next((e[17:].decode() for e in env if e.startswith(b"TIDE_INSTANCE_ID=")), None)
            cg = re.search(r"/tide/(i-[0-9a-f]+)", read(f"/proc/{pid}/cgroup"))
            iid = iid or (cg.group(1) if cg else None)
            status = read(f"/proc/{pid}/status")
            uid = re.search(r"^Uid:\s+(\d+)", status, re.M)
            if iid in ours and iid not in running and "State:\tZ" not in status:
                found.append(f"process {pid} of {iid} (uid {uid.group(1) if uid else '?'})")
            if iid in ours or pid == str(self.server.proc.pid):
                try:
                    for fd in os.listdir(f"/proc/{pid}/fd"):
                        link = os.readlink(f"/proc/{pid}/fd/{fd}")
                        if link.startswith("socket:["):
                            sockets[link[8:-1]] = (pid, iid)
                except OSError:
                    pass
        for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
            for controller in [""] + sorted(os.listdir(root)) if os.path.isdir(root) else []:
                d = os.path.join(root, controller, "tide")
                if os.path.isdir(d):
                    for n in os.listdir(d):
                        if n in ours and n not in running:
                            found.append(f"cgroup {d}/{n}")
        for line in read("/proc/self/mountinfo").splitlines():
            point = line.split()[4]
            if point.startswith(inst_dir + "/"):
                iid = point[len(inst_dir) + 1:].split("/")[0]
                if iid not in running:
                    found.append(f"mount {point}")
        found += self.strays()
        images_dir = os.path.join(self.data_dir, "images")
        if os.path.isdir(images_dir):
            found += [f"unfinished import {images_dir}/{n}" for n in os.listdir(images_dir)
                      if n.startswith(".tmp-")]
        if os.path.isdir(inst_dir):
            for n in os.listdir(inst_dir):
                if n.startswith("i-") and n not in running:
                    found.append(f"disk {inst_dir}/{n}")
        # A crash is no failure: the stack never rolled back or failed a resource.
        if self.stack() is not None:
            events = self.api_or_die("DescribeStackEvents", {"StackName": "crash"})["StackEvents"]
            found += [f"stack event {e['LogicalResourceId']} {e['ResourceStatus']}: "
                      f"{e.get('ResourceStatusReason', '')}" for e in events
                      if "FAILED" in e["ResourceStatus"] or "ROLLBACK" in e["ResourceStatus"]]
        # Listening sockets on tide's addresses: an instance's only on its own address while
        # it runs; the server's only for a load balancer's listener that is described.
        listeners = set()
        for lb in self.api_or_die("DescribeLoadBalancers")["LoadBalancers"]:
            for l in self.api_or_die("DescribeListeners",
                                     {"LoadBalancerArn": lb["LoadBalancerArn"]})["Listeners"]:
                listeners.add(l["Port"])
        for line in read("/proc/net/tcp").splitlines()[1:]:
            f = line.split()
            if f[3] != "0A":
                continue
            hexip, hexport = f[1].split(":")
            ip = ".".join(str(b) for b in reversed(bytes.fromhex(hexip)))
            port = int(hexport, 16)
            if not (ip.startswith("127.1.") or ip.startswith("127.2.")) or f[9] not in sockets:
                continue
            pid, iid = sockets[f[9]]
            if iid is None and port not in listeners:
                found.append(f"the server listens on {ip}:{port} for no listener")
            elif iid is not None and ((ip, port) not in addresses and iid not in running):
                found.append(f"{iid} (not running) listens on {ip}:{port}")
        return found

    # -- one phase, killed or not -------------------------------------------------------------
    def run_phase(self, phase, env):
        """Starts a server with env, drives the phase until it is done or the server dies.
        Returns whether the server was killed."""
        name, drive, done, bound, _ = phase
        self.phase_args = ("--disks", "copy") if name in COPY_PHASES else ()
        self.server = self.start(env)
        if self.server.died:
            return True
        try:
            drive()
            deadline = time.monotonic() + CONVERGE
            while not done():
                self.observe_capacity(bound)
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name}: not converged in {CONVERGE} s")
                time.sleep(0.05)
            self.observe_capacity(bound)
        except (Killed, OSError, CliError):
            if not self.gone():
                raise
        if self.server.proc.poll() is None:
            return False  # the point was not reached: the server still runs
        self.server.stop()
        # Nothing the server started outlives it but instances (a copy it forked must end too).
        self.violations += self.strays()
        return True

    def strays(self):
        """Processes working in the data directory that are no instance's."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            instance = (b"TIDE_INSTANCE_ID=" in read(f"/proc/{pid}/environ", "rb") or
                        "/tide/i-" in read(f"/proc/{pid}/cgroup"))
            if (cwd.startswith(os.path.realpath(self.data_dir) + "/") and not instance
                    and "State:\tZ" not in read(f"/proc/{pid}/status")
                    and (self.server is None or pid != str(self.server.proc.pid))):
                found.append(f"process {pid} works in {cwd} for no instance")
        return found

    def converge(self, phase):
        """After a kill: a server without crash points, the phase's command again, the desired
        state within CONVERGE seconds, then no leftovers."""
        name, drive, done, bound, _ = phase
        self.phase_args = ("--disks", "copy") if name in COPY_PHASES else ()
        self.server = self.start({})
        start = time.monotonic()
        drive()
        self.command_took = time.monotonic() - start
        while not done():
            self.observe_capacity(bound)
            if time.monotonic() - start > CONVERGE:
                raise AssertionError(f"{name}: not converged {CONVERGE} s after the restart; "
                                     f"log: {read(self.data_dir + '.log')[-3000:]}")
            time.sleep(0.05)
        self.observe_capacity(bound)
        left = self.settled_leftovers(start + 2 * CONVERGE)
        return time.monotonic() - start, left

    def settled_leftovers(self, deadline):
        """leftovers() once it is empty, or as it is at the deadline: what is left goes within a
        controller pass or two."""
        self.transient = []
        while True:
            left = self.leftovers()
            if not left or time.monotonic() > deadline:
                return left
            self.transient = self.transient or left
            time.sleep(0.1)

    def test_crash_anywhere_converges(self):
        t0 = time.monotonic()
        print(f"\ncrash anywhere: seed {SEED} (TIDE_CRASH_SEED={SEED} replays this run)",
              flush=True)
        rng = random.Random(SEED)
        self.refreshes_before = 0
        traces = {}
        # The trace pass: each phase on a fresh server, every point passed written down.
        for phase in self.phases():
            self.run_tag = "trace"
            path = os.path.join(self.tmp, f"trace-{phase[0]}")
            self.assertFalse(self.run_phase(phase, {"TIDE_CRASH_TRACE": path}))
            self.assertEqual(self.settled_leftovers(time.monotonic() + CONVERGE), [], phase[0])
            before, refreshes = self.resources(), self.refresh_count()
            if phase[0] == "stack-delete":  # the files of tide's own base image stay
                self.stored_baseline = set(os.listdir(os.path.join(self.data_dir, "images")))
            self.server.stop()
            points = {}
            for line in read(path).splitlines():
                point, k = line.split("\t")
                points[point] = max(points.get(point, 0), int(k))
            traces[phase[0]] = points
            print(f"  trace {phase[0]}: {sum(points.values())} passes of {len(points)} points: "
                  + ", ".join(f"{p} x{k}" for p, k in sorted(points.items())), flush=True)
        trace_time = time.monotonic() - t0

        killed, runs, failures = 0, 0, []
        for cycle in range(CYCLES):
            for phase in self.phases():
                name = phase[0]
                if name == "launch":
                    self.run_tag = f"cycle-{cycle}"
                points = traces[name]
                point = rng.choice(sorted(points))
                at = f"{point}#{rng.randint(1, points[point])}"
                runs += 1
                if ONLY and runs != ONLY:
                    at = None
                self.refreshes_before = refreshes
                trace = os.path.join(self.tmp, f"kill-{runs}")
                env = {"TIDE_CRASH_TRACE": trace}
                if at:
                    env["TIDE_CRASH_AT"] = at
                self.violations = []
                t = time.monotonic()
                died = self.run_phase(phase, env)
                if not died:
                    self.server.stop()
                last = (read(trace).splitlines() or ["(none)"])[-1].replace("\t", "#")
                took, left = self.converge(phase)
                after = self.resources()
                lost = [f"{kind} {rid}" for kind, ids in before.items() if kind not in phase[4]
                        for rid in ids - after[kind]]
                if phase[4]:
                    lost += [f"{kind} {rid} (should be gone)" for kind in phase[4]
                             for rid in before[kind] & after[kind]]
                problems = left + lost + self.violations
                before, refreshes = after, self.refresh_count()
                self.server.stop()
                killed += died
                print(f"  kill {runs:2} {name:17} at {at or '-':32} "
                      f"{'killed at ' + last if died else 'not reached':44} "
                      f"converged {took:4.1f} s (the command {self.command_took:4.1f} s; "
                      f"{time.monotonic() - t:4.1f} s in all)"
                      + ("" if not problems else "  PROBLEMS: " + "; ".join(problems))
                      + ("" if problems or not self.transient else
                         "  (for a moment: " + "; ".join(self.transient) + ")"),
                      flush=True)
                if problems:
                    failures.append(f"kill {runs} ({name} at {at}): " + "; ".join(problems))
        print(f"crash anywhere: {killed} kills in {runs} runs, seed {SEED}, "
              f"{time.monotonic() - t0:.0f} s ({trace_time:.0f} s tracing)", flush=True)
        self.assertEqual(failures, [])
        if not ONLY:
            self.assertGreaterEqual(killed, 50)

    def refresh_count(self):
        groups = self.groups()
        if not groups:
            return 0
        return len(self.api_or_die("DescribeInstanceRefreshes", {
            "AutoScalingGroupName": groups[0]["AutoScalingGroupName"]})["InstanceRefreshes"])


if __name__ == "__main__":
    unittest.main()
