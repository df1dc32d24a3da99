"""Prometheus scrapes tide: GET /metrics on the API port serves the CloudWatch series, the groups'
sizes and tide's own histograms in Prometheus's text format (OpenMetrics when asked), behind
the viewer token; Debian's `prometheus` scrapes it every second until a query for the group's
in-service instances returns 2, and `promtool check metrics` finds nothing to say about it."""

import hashlib
import hmac
import json
import os
import shutil
import signal
import subprocess
import textwrap
import time
import unittest
import urllib.parse
import urllib.request
import urllib.error

from burn_stack import BURN_APP, BurnStackTestCase, burn_stack
from harness import SOURCE_DIR, free_port, get, server_key, wait_for

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")

STACK = burn_stack(group_properties="DesiredCapacity: 2\n")


def viewer_token(server):
    """The server's viewer token (api/auth.h viewerToken): HMAC-SHA256 of its key."""
    access, secret = server_key(server)
    return hmac.new(secret.encode(), ("tide viewer token\n" + access).encode(),
                    hashlib.sha256).hexdigest()


def scrape(server, token=None, accept=None):
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    if accept:
        headers["Accept"] = accept
    request = urllib.request.Request(server.endpoint + "/metrics", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def promtool_check(text):
    """`promtool check metrics` on a scrape: (exit code, what it said)."""
    done = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(),
                          capture_output=True, timeout=30)
    return done.returncode, (done.stdout + done.stderr).decode()


class PrometheusTest(BurnStackTestCase):
    def up(self, stack_name, stack_text):
        """The stack up with its two instances in service; returns the listener's port."""
        return super().up(stack_name, stack_text, instances=2)[0]

    def test_metrics_endpoint_formats_and_access(self):
        port = self.up("prom", STACK)
        token = viewer_token(self.server)
        status, _, body = scrape(self.server)
        self.assertEqual(status, 401, body)
        self.assertEqual(json.loads(body)["__type"], "AccessDeniedException")
        self.assertEqual(scrape(self.server, token="wrong")[0], 403)

        for _ in range(20):
            get(port, "/")
        # The balancer's responses reach the histogram at the next second's sample; an instance's
        # CPU is a rate, published from its second sample on.
        wait_for(lambda: all(m in scrape(self.server, token)[2] for m in (
                     "tide_target_response_time_seconds_count", "tide_aws_ec2_cpu_utilization_percent{")),
                 timeout=10, what="target response times and instances' CPU in /metrics")
        status, content_type, text = scrape(self.server, token)
        self.assertEqual(status, 200)
        self.assertTrue(content_type.startswith("text/plain; version=0.0.4"), content_type)
        name = self.group()["AutoScalingGroupName"]
        self.assertIn(f'tide_aws_auto_scaling_group_desired_capacity{{auto_scaling_group="{name}"}} 2',
                      text)
        self.assertIn("# TYPE tide_api_request_duration_seconds histogram", text)
        self.assertIn('tide_reconcile_pass_duration_seconds_count{controller="auto scaling"}', text)
        self.assertIn("tide_store_commit_duration_seconds_sum", text)
        self.assertIn("tide_aws_ec2_cpu_utilization_percent{", text)

        status, content_type, om = scrape(self.server, token,
                                          accept="application/openmetrics-text;version=1.0.0")
        self.assertEqual(status, 200)
        self.assertTrue(content_type.startswith("application/openmetrics-text"), content_type)
        self.assertTrue(om.endswith("# EOF\n"))

        # The Grafana dashboard's queries name metrics this scrape has (once traffic flowed).
        scrape_file = os.path.join(self.tmp, "scrape.txt")
        with open(scrape_file, "w") as f:
            f.write(text)
        check = subprocess.run(
            ["python3", os.path.join(SOURCE_DIR, "scripts", "check_grafana_dashboard.py"),
             os.path.join(SOURCE_DIR, "docs", "grafana", "tide-dashboard.json"), scrape_file],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(check.returncode, 0, check.stderr)

        if PROMTOOL is None:
            self.skipTest("promtool is not installed (Debian's prometheus package)")
        code, said = promtool_check(text)
        self.assertEqual((code, said), (0, ""), "promtool check metrics")

    @unittest.skipIf(PROMETHEUS is None, "prometheus is not installed (Debian's prometheus "
                     "package; scripts/deps.sh installs it)")
    def test_prometheus_scrapes_the_group_in_service(self):
        self.up("prom", STACK)
        name = self.group()["AutoScalingGroupName"]
        host_port = self.server.endpoint.split("//")[1]
        prom_dir = os.path.join(self.tmp, "prometheus")
        os.makedirs(os.path.join(prom_dir, "data"))
        token_file = os.path.join(prom_dir, "token")
        with open(token_file, "w") as f:
            f.write(viewer_token(self.server))
        config = os.path.join(prom_dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(textwrap.dedent(f"""\
                global:
                  scrape_interval: 1s
                  evaluation_interval: 1s
                scrape_configs:
                  - job_name: tide
                    scrape_interval: 1s
                    authorization:
                      credentials_file: {token_file}
                    static_configs:
                      - targets: ['{host_port}']
                """))
        prom_port = free_port()
        log = open(os.path.join(prom_dir, "log"), "wb")
        proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={prom_dir}/data",
             f"--web.listen-address=127.0.0.1:{prom_port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

        def stop():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            log.close()
        self.addCleanup(stop)
        base = f"http://127.0.0.1:{prom_port}"

        def ready():
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                    return r.status == 200
            except OSError:
                return False
        wait_for(ready, timeout=60, interval=0.2, what="prometheus to be ready")

        query = f'tide_aws_auto_scaling_group_in_service_instances{{auto_scaling_group="{name}"}}'

        def in_service():
            url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": query})
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    result = json.load(r)["data"]["result"]
            except OSError:
                return None
            return result and float(result[0]["value"][1]) == 2
        wait_for(in_service, timeout=60, interval=0.5, what=f"prometheus to answer 2 to {query}")

        # The scrape target is healthy: every sample parsed, with the token.
        with urllib.request.urlopen(base + "/api/v1/targets", timeout=5) as r:
            targets = json.load(r)["data"]["activeTargets"]
        self.assertEqual([t["health"] for t in targets], ["up"], targets)


if __name__ == "__main__":
    unittest.main()
