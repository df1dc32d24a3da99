"""The console in a real browser: Debian's chromium, headless, driven through the DevTools
protocol (devtools.py). The shop of examples/shop/tracking.yaml (a group of 2 behind a load
balancer, scaled by requests per instance on 1 s datapoints) is drawn with its instances; an
instance whose process the test kills is shown unhealthy and then replaced within 2 s of tide
knowing it; the page's load control scales the group and the charts grow; the browser logs no
error. Screenshots go to build/test-artifacts/console-{laptop,phone}.png.

Skipped, with a message, when chromium is not installed (scripts/deps.sh installs it)."""

import json
import os
import signal
import sys
import time
import unittest
import urllib.error
import urllib.request

from devtools import Browser, chromium_path
from harness import SOURCE_DIR, TideTestCase, free_port, get, pid_alive, wait_for

ARTIFACTS = os.environ.get("TIDE_TEST_ARTIFACTS") or os.path.join(
    SOURCE_DIR, "build", "test-artifacts")


def page_instances(browser):
    """{instance id: state} of the boxes the page draws."""
    return browser.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll('.instance'))"
        ".map(e => [e.dataset.instanceId, e.dataset.state]))") or {}


@unittest.skipUnless(chromium_path(), "chromium is not installed (scripts/deps.sh installs it)")
class ConsoleBrowserTest(TideTestCase):
    def setUp(self):
        super().setUp()
        self.port = free_port()
        stack = os.path.join(SOURCE_DIR, "examples", "shop", "tracking.yaml")
        out = self.tide_json("up", stack, "--stack-name", "shop", "-p", f"Port={self.port}",
                             "-p", "Period=1", "-p", "RequestsPerInstance=10")
        self.group_name = next(o["OutputValue"] for o in out["Stacks"][0]["Outputs"]
                               if o["OutputKey"] == "GroupName")
        wait_for(lambda: len(self.in_service()) == 2, timeout=60, what="two instances in service")
        wait_for(lambda: get(self.port, "/")[0] == 200, what="the shop through its balancer")
        self.url = self.tide("console").stdout.strip()
        self.browser = Browser(1366, 768)
        self.addCleanup(self.browser.close)

    def group(self):
        return self.ok("DescribeAutoScalingGroups",
                       {"AutoScalingGroupNames": [self.group_name]})["AutoScalingGroups"][0]

    def in_service(self):
        return [i["InstanceId"] for i in self.group()["Instances"]
                if i["LifecycleState"] == "InService"]

    def api_view(self):
        """{instance id: what tide says} for the group's instances and targets."""
        view = {i["InstanceId"]: i["LifecycleState"] + "/" + i["HealthStatus"]
                for i in self.group()["Instances"]}
        for i in self.instances():
            if i["InstanceId"] in view:
                view[i["InstanceId"]] += "/" + i["State"]["Name"]
        for tg in self.ok("DescribeTargetGroups")["TargetGroups"]:
            for d in self.ok("DescribeTargetHealth",
                             {"TargetGroupArn": tg["TargetGroupArn"]})["TargetHealthDescriptions"]:
                if d["Target"]["Id"] in view:
                    view[d["Target"]["Id"]] += "/" + d["TargetHealth"]["State"]
        return view

    def test_the_console_shows_the_shop_failover_and_a_sale(self):
        b = self.browser
        # The URL `tide console` prints carries the viewer token; the page keeps it and drops
        # it from the address bar.
        self.assertIn("/console/?token=", self.url)
        b.navigate(self.url)
        first = set(self.in_service())
        wait_for(lambda: {k for k, v in page_instances(b).items() if v in ("inservice", "warming")}
                 >= first, timeout=15, what="the page to show the group's two instances")
        self.assertNotIn("token=", b.evaluate("window.location.href"))
        self.assertIn(self.group_name, b.evaluate("document.getElementById('diagram').innerText"))

        # A laptop and a phone: no horizontal scroll at 390 px.
        b.screenshot(os.path.join(ARTIFACTS, "console-laptop.png"))
        b.viewport(390, 844, mobile=True)
        wait_for(lambda: b.evaluate("document.documentElement.scrollWidth") <= 390, timeout=5,
                 what="no horizontal scroll on a phone: scrollWidth %s" %
                 b.evaluate("document.documentElement.scrollWidth"))
        b.screenshot(os.path.join(ARTIFACTS, "console-phone.png"))
        b.viewport(1366, 768)

        # An instance's process dies: once tide knows (the API says so), the page shows it
        # within 2 s; then its replacement, within 2 s of the API listing it.
        victim = sorted(first)[0]
        pid = self.instance(victim)["ProcessId"]
        before = self.api_view()[victim]
        os.kill(pid, signal.SIGKILL)
        known = shown = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (known is None or shown is None):
            now = time.monotonic()
            if known is None and self.api_view().get(victim, "gone") != before:
                known = now
            if shown is None and page_instances(b).get(victim) not in ("inservice", "warming"):
                shown = now
            time.sleep(0.05)
        self.assertIsNotNone(known, "tide never noticed the killed instance")
        self.assertIsNotNone(shown, "the page never showed the killed instance as down")
        self.assertLessEqual(shown - known, 2.0, "the page lagged tide by %.2f s" % (shown - known))
        print(f"\nconsole: the killed instance shown {shown - known:+.2f} s after the API",
              file=sys.stderr)

        known = shown = None
        new_ids = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (known is None or shown is None):
            now = time.monotonic()
            if known is None:
                new_ids = set(i["InstanceId"] for i in self.group()["Instances"]) - first
                if new_ids:
                    known = now
            if known is not None and shown is None and new_ids & set(page_instances(b)):
                shown = now
            time.sleep(0.05)
        self.assertIsNotNone(known, "the group never launched a replacement")
        self.assertIsNotNone(shown, "the page never showed the replacement")
        self.assertLessEqual(shown - known, 2.0, "the page lagged tide by %.2f s" % (shown - known))
        print(f"console: the replacement shown {shown - known:+.2f} s after the API",
              file=sys.stderr)

        # The page's load control: a steady 60 requests a second (30 per instance against a
        # target of 10) scales the group out, and the request chart fills.
        points_before = b.evaluate("tideConsole.chartPoints('chart-requests')")
        b.evaluate("(() => { const p = document.getElementById('load-profile');"
                   " p.value = 'steady'; p.dispatchEvent(new Event('change'));"
                   " document.getElementById('load-rate').value = '60';"
                   " document.getElementById('load-duration').value = '90s';"
                   " document.getElementById('load-start').click(); })()")
        wait_for(lambda: (b.evaluate("tideConsole.state().Load") or {}).get("Running"),
                 timeout=10, what="the load to start from the page")
        wait_for(lambda: self.group()["DesiredCapacity"] > 2, timeout=45,
                 what="the load from the page to scale the group out")
        wait_for(lambda: b.evaluate("tideConsole.chartPoints('chart-requests')") >
                 points_before + 20, timeout=20, what="the request chart to grow")
        peak = b.evaluate("Math.max(0, ...tideConsole.state() && "
                          "Object.values(tideConsole.state().RequestRates))")
        self.assertGreater(peak, 0, "no instance shows requests per second")
        wait_for(lambda: len(page_instances(b)) > 2, timeout=20,
                 what="the page to draw the new instances")
        self.assertTrue(b.evaluate("tideConsole.markers().some(m => m.kind === 'activity')"),
                        "no scaling activity marked on the charts")
        if b.evaluate("tideConsole.state().EventStream"):
            # A server with the event stream: its events mark the charts too.
            self.assertTrue(b.evaluate("tideConsole.markers().some(m => m.kind !== 'activity')"),
                            "no event from the stream marked on the charts")
        b.screenshot(os.path.join(ARTIFACTS, "console-scaling.png"))

        # Acting needs the token in a header: the cookie alone is refused.
        req = urllib.request.Request(
            self.server.endpoint + "/console/api/call", method="POST",
            data=json.dumps({"Action": "StopLoad"}).encode(),
            headers={"Cookie": "tide_token=" + self.url.split("token=")[1]})
        with self.assertRaises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(req, timeout=10)
        self.assertEqual(refused.exception.code, 403)

        b.evaluate("document.getElementById('load-stop').click()")
        wait_for(lambda: not (b.evaluate("tideConsole.state().Load") or {}).get("Running"),
                 timeout=10, what="the load to stop from the page")
        self.assertEqual(b.errors, [], "the browser logged errors")

        # A load still running when the server stops is stopped with it.
        token = self.url.split("token=")[1]
        lb = self.ok("DescribeLoadBalancers")["LoadBalancers"][0]["LoadBalancerArn"]
        req = urllib.request.Request(
            self.server.endpoint + "/console/api/call", method="POST",
            data=json.dumps({"Action": "StartLoad", "Params": {
                "LoadBalancerArn": lb, "Profile": "steady:5:5m"}}).encode(),
            headers={"X-Tide-Token": token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            pid = json.loads(r.read())["Load"]["ProcessId"]
        self.assertTrue(pid_alive(pid))
        self.browser.close()
        self.restart_server()
        wait_for(lambda: not pid_alive(pid), timeout=10, what="the load to end with the server")


@unittest.skipUnless(chromium_path(), "chromium is not installed (scripts/deps.sh installs it)")
class ConsoleLooseInstanceTest(TideTestCase):
    def test_an_instance_of_no_group_is_drawn_and_stopped_from_the_page(self):
        image = self.make_image()
        lt = self.ok("CreateLaunchTemplate", {"LaunchTemplateName": "web", "LaunchTemplateData": {
            "ImageId": image, "InstanceType": "t3.micro"}})["LaunchTemplate"]["LaunchTemplateId"]
        run = self.ok("RunInstances", {"LaunchTemplate": {"LaunchTemplateId": lt},
                                       "MinCount": 1, "MaxCount": 1})
        iid = run["Instances"][0]["InstanceId"]
        self.wait_state(iid, "running")
        browser = Browser(390, 844)
        self.addCleanup(browser.close)
        browser.navigate(self.tide("console").stdout.strip())
        wait_for(lambda: page_instances(browser).get(iid) == "inservice", timeout=15,
                 what="the page to draw the instance")
        # Its "stop" button: StopInstances through the page, with the token in a header.
        browser.evaluate(f"document.querySelector('[data-instance-id={iid}] button:nth-child(2)')"
                         ".click()")
        self.wait_state(iid, "stopped")
        wait_for(lambda: page_instances(browser).get(iid) == "stopped", timeout=5,
                 what="the page to show the instance stopped")
        self.assertIn("StopInstances: done", browser.evaluate(
            "document.getElementById('action-result').textContent"))
        self.assertEqual(browser.errors, [], "the browser logged errors")


if __name__ == "__main__":
    unittest.main()
