"""Helpers for tide's integration tests: a real `tide server` on a free port with its own data
directory, and the real `tide` CLI driven against it.

Every server and instance a test starts is ended by the test itself (instances through the
API, the server by its pid). Waits are bounded loops on readiness signals (the server's
"listening" line, instance states), never bare sleeps.
"""

import configparser
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

TIDE = os.environ.get("TIDE_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "tide")
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHOP = os.path.join(SOURCE_DIR, "examples", "shop")


def cli_env(server):
    """The environment in which `tide` talks to the server and signs with its key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return dict(env, TIDE_ENDPOINT=server.endpoint, TIDE_DATA_DIR=server.data_dir)


def server_key(server):
    """The server's access key and secret (from <data dir>/credentials), or None."""
    parser = configparser.ConfigParser()
    if not parser.read(os.path.join(server.data_dir, "credentials")):
        return None
    return parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"]


def signed_headers(server, body, headers, service="tide", region="us-east-1", key=None):
    """The headers of a POST / signed with SigV4 by botocore (Debian's python3-botocore) with
    the server's key, or `key` (access key, secret); unsigned when the server has none."""
    key = key or server_key(server)
    if key is None:
        return dict(headers)
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    request = AWSRequest(method="POST", url=server.endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(*key), service, region).add_auth(request)
    return dict(request.headers.items())


def wait_for(predicate, timeout=30.0, interval=0.05, what="condition"):
    """Polls predicate until it returns a true value; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class CliError(Exception):
    def __init__(self, code, stdout, stderr):
        super().__init__(f"tide exited {code}: {stderr.strip()}")
        self.code, self.stdout, self.stderr = code, stdout, stderr


class TideServer:
    """A tide server process on 127.0.0.1 with a free port and the given data directory."""

    def __init__(self, data_dir, *extra):
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir + ".log")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [TIDE, "server", "--data-dir", data_dir, "--api", "127.0.0.1:0", *extra],
            stdout=subprocess.PIPE, stderr=self.log, stdin=subprocess.DEVNULL)
        # The first line says where it listens: the readiness signal.
        line = self.proc.stdout.readline().decode()
        if "listening on" not in line:
            self.proc.wait(timeout=10)
            self.log.close()
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                raise AssertionError(f"tide server did not start: {line!r} {f.read()}")
        self.endpoint = line.split("listening on ")[1].strip()
        self.banner = line + self._drain_banner()

    def _drain_banner(self):
        lines = []
        for _ in range(5):
            lines.append(self.proc.stdout.readline().decode())
        return "".join(lines)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.close()


class TideTestCase(unittest.TestCase):
    """Starts a server per test; terminates every instance it made and stops the server after."""

    server_args = ("--termination-grace", "2")

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tide-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.data_dir = os.path.join(self.tmp, "data")
        self.server = TideServer(self.data_dir, *self.server_args)
        # A cleanup, not tearDown: it also runs when a subclass's setUp fails after this point,
        # so that no server or instance outlives the test.
        self.addCleanup(self._end_server)

    def _end_server(self):
        try:
            if self.server.proc.poll() is None:
                self.terminate_all()
        finally:
            self.server.stop()

    def restart_server(self, sig=signal.SIGTERM):
        self.server.stop(sig)
        self.server = TideServer(self.data_dir, *self.server_args)

    # -- the CLI ------------------------------------------------------------------------------
    def tide(self, *args, check=True):
        env = cli_env(self.server)
        p = subprocess.run([TIDE, *args], capture_output=True, text=True, env=env, timeout=180,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise CliError(p.returncode, p.stdout, p.stderr)
        return p

    def tide_json(self, *args):
        return json.loads(self.tide(*args, "--output", "json").stdout)

    def tide_fails(self, *args):
        """Runs a command that must fail; returns its one-line error."""
        p = self.tide(*args, check=False)
        self.assertNotEqual(p.returncode, 0, f"tide {' '.join(args)} should have failed")
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one error line, got {p.stderr!r}")
        self.assertTrue(lines[0].startswith("tide: "), lines[0])
        return lines[0]

    # -- the API ------------------------------------------------------------------------------
    def api(self, action, params=None, raw_body=None, timeout=30):
        body = raw_body if raw_body is not None else json.dumps(params or {}).encode()
        req = urllib.request.Request(self.server.endpoint + "/", data=body, method="POST",
                                     headers=signed_headers(self.server, body,
                                                            {"X-Amz-Target": action}))
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def ok(self, action, params=None):
        status, body = self.api(action, params)
        self.assertEqual(status, 200, body)
        return body

    def instances(self):
        out = []
        for r in self.ok("DescribeInstances")["Reservations"]:
            out.extend(r["Instances"])
        return out

    def instance(self, instance_id):
        return self.ok("DescribeInstances", {"InstanceIds": [instance_id]})[
            "Reservations"][0]["Instances"][0]

    def wait_state(self, instance_id, state, timeout=30):
        return wait_for(lambda: (lambda i: i if i["State"]["Name"] == state else None)(
            self.instance(instance_id)), timeout, what=f"{instance_id} to be {state}")

    def terminate_all(self):
        """Ends everything the test made: groups first (they would launch replacements), then
        every instance, waiting until each is gone."""
        for g in self.ok("DescribeAutoScalingGroups")["AutoScalingGroups"]:
            self.api("DeleteAutoScalingGroup",
                     {"AutoScalingGroupName": g["AutoScalingGroupName"], "ForceDelete": True})
        wait_for(lambda: not self.ok("DescribeAutoScalingGroups")["AutoScalingGroups"],
                 timeout=60, what="the groups to be deleted")
        live = [i["InstanceId"] for i in self.instances() if i["State"]["Name"] != "terminated"]
        if live:
            self.ok("TerminateInstances", {"InstanceIds": live})
            for i in live:
                self.wait_state(i, "terminated")

    def make_image(self, name="shop-v1", directory=SHOP, run="python3 server.py", *extra):
        out = self.tide_json("image", "create", "--name", name, "--from", directory,
                             "--run", run, *extra)
        return out["ImageId"]

    def app_dir(self, files):
        """A directory holding the given {name: content} files, for images."""
        d = tempfile.mkdtemp(prefix="app-", dir=self.tmp)
        for name, content in files.items():
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(content)
            os.chmod(path, 0o755)
        return d


def http_get(host, port, path="/", timeout=5.0):
    with urllib.request.urlopen(f"http://{host}:{port}{path}", timeout=timeout) as r:
        return r.read().decode()


def serving(instance, path="/whoami"):
    """The instance's answer to GET path, or None while it does not answer yet."""
    try:
        return http_get(instance["PrivateIpAddress"], instance["Port"], path, timeout=1.0)
    except OSError:
        return None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def cgroup_v1_dir(controller, instance_id):
    return f"/sys/fs/cgroup/{controller}/tide/{instance_id}"


# Health check flags of `tide tg create` for quick tests.
QUICK_CHECKS = ("--interval", "0.2", "--timeout", "0.1", "--healthy-threshold", "2",
                "--unhealthy-threshold", "2", "--health-check-path", "/health")


def free_port():
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path="/whoami", timeout=5):
    """(status, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def try_get(port, path="/whoami"):
    """get(), or None while nothing answers yet (a new listener takes a moment to bind, as a new
    ALB listener does)."""
    try:
        return get(port, path, timeout=2)
    except OSError:
        return None


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0
