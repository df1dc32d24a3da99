"""Instance refresh with real instances: a group of two behind the load balancer, under a steady
load, is rolled onto a new launch template version by StartInstanceRefresh sent with the aws CLI.
Every instance is replaced, and no request fails: an instance is taken out only once its
replacement serves, and its targets drain (finishing the requests in flight) before it ends."""

import http.client
import os
import threading
import time
import unittest
import urllib.error
import urllib.request

from burn_stack import BURN_APP, BurnStackTestCase, burn_stack
from harness import free_port, get, signed_headers, wait_for
from test_aws_clients import DEBIAN_AWS, AwsClientTestCase, newer_aws

STACK = burn_stack(group_properties="DesiredCapacity: 2\n")
AWS = newer_aws() or (DEBIAN_AWS if os.path.exists(DEBIAN_AWS) else None)


class SteadyLoad:
    """Threads sending GET / one after another, each on a new connection, until stopped (or for
    at most `limit` seconds); counts the answers and the failures."""

    def __init__(self, port, threads=3, limit=150.0):
        self.port, self.limit = port, limit
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.ok, self.failed, self.errors, self.served_by = 0, 0, [], set()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        end = time.monotonic() + self.limit
        while not self.stop_event.is_set() and time.monotonic() < end:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", "/")
                r = c.getresponse()
                body = r.read().decode()
                c.close()
                with self.lock:
                    if r.status == 200:
                        self.ok += 1
                        self.served_by.add(body)
                    else:
                        self.failed += 1
                        self.errors.append(f"{r.status} {body[:80]}")
            except OSError as e:
                with self.lock:
                    self.failed += 1
                    self.errors.append(repr(e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=15)


@unittest.skipUnless(AWS, "no aws CLI: scripts/deps.sh installs Debian's")
class InstanceRefreshTest(AwsClientTestCase, BurnStackTestCase):
    def up_two(self):
        """The burn stack with two instances in service behind its balancer; returns its port."""
        app = os.path.join(self.tmp, "stack", "app")
        os.makedirs(app)
        with open(os.path.join(app, "app.py"), "w") as f:
            f.write(BURN_APP)
        stack = os.path.join(self.tmp, "stack", "refresh.yaml")
        with open(stack, "w") as f:
            f.write(STACK)
        port = free_port()
        out = self.tide_json("up", stack, "--stack-name", "refresh", "-p", f"Port={port}",
                             "-p", f"BurnFile={os.path.join(self.tmp, 'burn')}")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        wait_for(lambda: len(self.in_service()) == 2, timeout=30, what="two instances in service")
        wait_for(lambda: get(port, "/")[0] == 200, what="the app through the load balancer")
        return port

    def test_replacing_every_instance_under_load_fails_no_request(self):
        port = self.up_two()
        group = self.group()
        name = group["AutoScalingGroupName"]
        before = {i["InstanceId"] for i in group["Instances"]}
        template = group["LaunchTemplate"]["LaunchTemplateId"]
        self.assertEqual(group["LaunchTemplate"]["Version"], "1")
        version = self.aws("ec2", "create-launch-template-version", "--launch-template-id",
                           template, "--source-version", "1", "--launch-template-data",
                           '{"InstanceType": "t3.nano"}', cli=AWS)
        self.assertEqual(version["LaunchTemplateVersion"]["VersionNumber"], 2)
        # Newer clients know MaxHealthyPercentage: replacements launch first.
        prefs = ('{"MinHealthyPercentage": 100, "MaxHealthyPercentage": 150, '
                 '"InstanceWarmup": 1}' if AWS != DEBIAN_AWS else
                 '{"MinHealthyPercentage": 50, "InstanceWarmup": 1}')
        with SteadyLoad(port) as load:
            wait_for(lambda: load.ok >= 20, timeout=20, what="the load to flow")
            started = time.monotonic()
            refresh_id = self.aws(
                "autoscaling", "start-instance-refresh", "--auto-scaling-group-name", name,
                "--desired-configuration",
                f'{{"LaunchTemplate": {{"LaunchTemplateId": "{template}", "Version": "2"}}}}',
                "--preferences", prefs, cli=AWS)["InstanceRefreshId"]
            # A second one while it runs is refused. Sent signed from here at once, not through
            # the CLI, which takes seconds to start on a loaded machine: the refresh could be
            # over by then.
            body = ("Action=StartInstanceRefresh&Version=2011-01-01&AutoScalingGroupName=" +
                    name).encode()
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            request = urllib.request.Request(
                self.server.endpoint + "/", data=body, method="POST",
                headers=signed_headers(self.server, body, form, service="autoscaling"))
            with self.assertRaises(urllib.error.HTTPError) as again:
                urllib.request.urlopen(request, timeout=30)
            self.assertIn("<Code>InstanceRefreshInProgress</Code>", again.exception.read().decode())

            def status():
                r = self.aws("autoscaling", "describe-instance-refreshes",
                             "--auto-scaling-group-name", name, cli=AWS)["InstanceRefreshes"][0]
                self.assertEqual(r["InstanceRefreshId"], refresh_id)
                self.assertNotIn(r["Status"], ("Failed", "Cancelled", "RollbackSuccessful"), r)
                return r if r["Status"] == "Successful" else None
            done = wait_for(status, timeout=90, interval=0.5, what="the refresh to succeed")
            elapsed = time.monotonic() - started
            # The old instances drain and terminate under the same load.
            wait_for(lambda: len(self.group()["Instances"]) == 2, timeout=30,
                     what="the old instances to be gone")
            served = load.ok
            wait_for(lambda: load.ok >= served + 20, timeout=20, what="the new instances to serve")
        print(f"\nrefresh of 2 instances: {elapsed:.1f} s, {load.ok} requests served, "
              f"{load.failed} failed")
        self.assertEqual(load.failed, 0, load.errors[:10])
        self.assertEqual(done["PercentageComplete"], 100)
        self.assertEqual(done["InstancesToUpdate"], 0)

        group = self.group()
        after = {i["InstanceId"] for i in group["Instances"]}
        self.assertEqual(len(after), 2)
        self.assertFalse(after & before, "every instance was replaced")
        self.assertEqual({i["LaunchTemplate"]["Version"] for i in group["Instances"]}, {"2"})
        self.assertEqual(group["LaunchTemplate"]["Version"], "2")
        self.assertTrue(after <= load.served_by, "the new instances served")
        causes = [a["Cause"] for a in self.tide_json("asg", "activities", name)["Activities"]]
        self.assertEqual(sum("in response to an instance refresh" in c for c in causes), 4, causes)


if __name__ == "__main__":
    unittest.main()
