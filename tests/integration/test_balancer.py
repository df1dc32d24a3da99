"""The load balancer through the real binary: target groups with health checks, listeners,
traffic over healthy instances, an instance killed under traffic, draining, and `tide balance`."""

import datetime
import os
import signal
import socket
import subprocess
import tempfile
import unittest
import urllib.request

from harness import (QUICK_CHECKS, TIDE, TideTestCase, free_port, get, serving, try_get,
                     wait_for)












class BalancerTest(TideTestCase):
    def stack(self, count=3, app=None, run="python3 server.py"):
        """An image, `count` running instances, a target group with quick checks, a load balancer
        listening on a free port and forwarding to the group. Returns (port, instances)."""
        image = self.make_image("shop", app or os.path.join(
            os.path.dirname(__file__), "..", "..", "examples", "shop"), run)
        instances = self.tide_json("instance", "run", "--image-id", image, "--instance-type",
                                   "t3.micro", "--count", str(count), "--wait")["Instances"]
        for i in instances:
            wait_for(lambda: serving(i, "/health"), what="the app to answer")
        self.tide("tg", "create", "--name", "web", "--port", "8080", "--deregistration-delay",
                  "1", *QUICK_CHECKS)
        self.tide("lb", "create", "--name", "shop")
        port = free_port()
        self.tide("listener", "create", "--lb", "shop", "--port", str(port), "--forward", "web")
        self.tide("tg", "register", "web", *[i["InstanceId"] for i in instances])
        return port, instances

    def health(self):
        return {d["Target"]["Id"]: d["TargetHealth"]
                for d in self.tide_json("tg", "health", "web")["TargetHealthDescriptions"]}

    def wait_health(self, instance_id, state, timeout=20):
        return wait_for(lambda: (lambda h: h if h.get("State") == state else None)(
            self.health().get(instance_id, {})), timeout, what=f"{instance_id} to be {state}")

    def test_traffic_spreads_over_healthy_instances_and_flows_around_a_killed_one(self):
        port, instances = self.stack(3)
        ids = {i["InstanceId"] for i in instances}
        for iid in ids:
            self.wait_health(iid, "healthy")
        described = self.tide_json("tg", "health", "web")["TargetHealthDescriptions"]
        self.assertEqual({d["Target"]["Id"] for d in described}, ids)
        self.assertTrue(all(d["Target"]["Port"] == 8080 for d in described))
        seen = {}
        for _ in range(60):
            status, body = get(port)
            self.assertEqual(status, 200)
            seen[body.strip()] = seen.get(body.strip(), 0) + 1
        self.assertEqual(set(seen), ids)
        self.assertTrue(all(n >= 10 for n in seen.values()), seen)

        # kill -9 one instance's app while requests keep coming.
        victim = instances[0]
        os.killpg(victim["ProcessId"], signal.SIGKILL)
        failures = 0
        for _ in range(100):
            status, _ = get(port)
            failures += status != 200
        # Nothing was in flight on it (one request at a time, the kill between two): connections
        # to it fail before any byte and are retried on another target, which ejects it.
        self.assertEqual(failures, 0)
        gone = self.wait_health(victim["InstanceId"], "unhealthy")
        self.assertIn(gone["Reason"], ("Target.InvalidState", "Target.FailedHealthChecks",
                                       "Target.Timeout"))
        after = {get(port)[1].strip() for _ in range(30)}
        self.assertEqual(after, ids - {victim["InstanceId"]})

    def test_deregistered_targets_drain_then_go(self):
        port, instances = self.stack(2)
        a, b = (i["InstanceId"] for i in instances)
        self.wait_health(a, "healthy")
        self.wait_health(b, "healthy")
        self.tide("tg", "deregister", "web", a)
        self.assertEqual(self.health()[a]["State"], "draining")
        self.assertEqual(self.health()[a]["Reason"], "Target.DeregistrationInProgress")
        wait_for(lambda: {get(port)[1].strip() for _ in range(10)} == {b},
                 what="traffic to leave the draining target")
        wait_for(lambda: a not in self.health(), what="the drained target to be removed")

    def test_failing_health_checks_and_no_targets(self):
        app = self.app_dir({"app.py": (
            "import http.server, os\n"
            "class H(http.server.BaseHTTPRequestHandler):\n"
            "    def do_GET(self):\n"
            "        code = 500 if self.path == '/health' else 200\n"
            "        self.send_response(code); self.send_header('Content-Length', '2')\n"
            "        self.end_headers(); self.wfile.write(b'ok')\n"
            "    def log_message(self, *a): pass\n"
            "http.server.HTTPServer((os.environ['HOST'], int(os.environ['PORT'])), H)"
            ".serve_forever()\n")})
        self.tide("tg", "create", "--name", "web", "--port", "8080", *QUICK_CHECKS)
        self.tide("lb", "create", "--name", "shop")
        port = free_port()
        self.tide("listener", "create", "--lb", "shop", "--port", str(port), "--forward", "web")
        wait_for(lambda: (try_get(port) or (0,))[0] == 503,
                 what="the listener to answer 503 with no targets")
        image = self.make_image("sick", app, "python3 app.py")
        inst = self.tide_json("instance", "run", "--image-id", image, "--instance-type",
                              "t3.micro", "--wait")["Instances"][0]
        wait_for(lambda: serving(inst, "/"), what="the app to answer")
        self.tide("tg", "register", "web", inst["InstanceId"])
        h = self.wait_health(inst["InstanceId"], "unhealthy")
        self.assertEqual(h["Reason"], "Target.ResponseCodeMismatch")
        self.assertEqual(h["Description"], "Health checks failed with these codes: [500]")
        # Fail open: the only target is unhealthy, so it still gets the traffic.
        self.assertEqual(get(port, "/"), (200, "ok"))
        fixed = free_port()
        self.tide("listener", "create", "--lb", "shop", "--port", str(fixed),
                  "--fixed-response", "503:closed for the night")
        wait_for(lambda: try_get(fixed, "/") == (503, "closed for the night"),
                 what="the fixed response")

    def test_target_group_attributes_and_lb_cookie_stickiness(self):
        port, instances = self.stack(2)
        ids = {i["InstanceId"] for i in instances}
        for iid in ids:
            self.wait_health(iid, "healthy")
        defaults = {a["Key"]: a["Value"]
                    for a in self.tide_json("tg", "attributes", "web")["Attributes"]}
        self.assertEqual(defaults["stickiness.enabled"], "false")
        self.assertEqual(defaults["slow_start.duration_seconds"], "0")
        self.assertEqual(defaults["stickiness.lb_cookie.duration_seconds"], "86400")
        # Bad values change nothing.
        self.tide_fails("tg", "attributes", "web", "stickiness.enabled=true",
                        "slow_start.duration_seconds=5")
        self.tide_fails("tg", "attributes", "web", "load_balancing.algorithm.type=weighted_random",
                        "load_balancing.algorithm.anomaly_mitigation=on",
                        "slow_start.duration_seconds=30")
        self.assertEqual({a["Key"]: a["Value"]
                          for a in self.tide_json("tg", "attributes", "web")["Attributes"]},
                         defaults)
        changed = {a["Key"]: a["Value"] for a in self.tide_json(
            "tg", "attributes", "web", "stickiness.enabled=true",
            "stickiness.lb_cookie.duration_seconds=600")["Attributes"]}
        self.assertEqual(changed["stickiness.enabled"], "true")
        self.assertEqual(changed["stickiness.lb_cookie.duration_seconds"], "600")

        def fetch(cookie=None):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/whoami")
            if cookie:
                req.add_header("Cookie", "AWSALB=" + cookie)
            with urllib.request.urlopen(req, timeout=5) as r:
                issued = [v.split(";")[0].split("=", 1)[1] for v in r.headers.get_all("Set-Cookie")
                          or [] if v.startswith("AWSALB=")]
                return r.read().decode().strip(), (issued[0] if issued else None)

        # The balancer takes the new snapshot at once; the first answers carry a cookie.
        first = wait_for(lambda: (lambda b, c: (b, c) if c else None)(*fetch()),
                         what="an AWSALB cookie")
        target, cookie = first
        for _ in range(10):
            body, issued = fetch(cookie)
            self.assertEqual(body, target)
            self.assertIsNone(issued)
        # Without the cookie traffic still reaches both instances.
        self.assertEqual({fetch()[0] for _ in range(10)}, ids)


def raw_exchange(port, request, timeout=5):
    """Sends raw bytes; returns (status, closed): the response's status (0 for none) and whether
    the balancer closed the connection after it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return 0, True
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            rest += chunk
        s.settimeout(1)
        try:
            closed = s.recv(1) == b""
        except socket.timeout:
            closed = False
        return int(head[9:12]), closed


class DesyncMitigationTest(TideTestCase):
    ACCEPTABLE = b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"  # GetHeadZeroContentLength
    # Acceptable to the classification, but RFC 9112 §5.1 says to reject it: 400 in every mode.
    MALFORMED = b"GET / HTTP/1.1\r\nHost: x\r\nX-Custom-Header : v\r\n\r\n"
    SEVERE = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx"

    def test_the_mode_attribute_reaches_the_listener_and_the_metric_counts(self):
        self.tide("lb", "create", "--name", "shop")
        port = free_port()
        self.tide("listener", "create", "--lb", "shop", "--port", str(port),
                  "--fixed-response", "200:ok")
        wait_for(lambda: try_get(port, "/") == (200, "ok"), what="the listener")
        # Metrics are deltas from the first sample that saw the load balancer: wait for it.
        wait_for(lambda: any(m["MetricName"] == "RequestCount" for m in self.ok(
            "ListMetrics", {"Namespace": "AWS/ApplicationELB"})["Metrics"]),
            what="the first metrics sample of the load balancer")
        # defensive (the default): Acceptable is answered, Severe is 400 and closed.
        self.assertEqual(raw_exchange(port, self.ACCEPTABLE)[0], 200)
        self.assertEqual(raw_exchange(port, self.SEVERE), (400, True))
        self.assertEqual(raw_exchange(port, self.MALFORMED), (400, True))
        lb = self.ok("DescribeLoadBalancers", {"Names": ["shop"]})["LoadBalancers"][0]
        attrs = self.ok("DescribeLoadBalancerAttributes",
                        {"LoadBalancerArn": lb["LoadBalancerArn"]})["Attributes"]
        self.assertIn({"Key": "routing.http.desync_mitigation_mode", "Value": "defensive"}, attrs)
        status, body = self.api("ModifyLoadBalancerAttributes", {
            "LoadBalancerArn": lb["LoadBalancerArn"],
            "Attributes": [{"Key": "routing.http.desync_mitigation_mode", "Value": "lax"}]})
        self.assertEqual((status, body["__type"]), (400, "ValidationError"))
        self.ok("ModifyLoadBalancerAttributes", {
            "LoadBalancerArn": lb["LoadBalancerArn"],
            "Attributes": [{"Key": "routing.http.desync_mitigation_mode", "Value": "strictest"}]})
        wait_for(lambda: raw_exchange(port, self.ACCEPTABLE) == (400, True),
                 what="strictest mode to block an Acceptable request")
        self.assertEqual(try_get(port, "/"), (200, "ok"))  # Compliant still passes
        # Every non-compliant request counted, with the LoadBalancer dimension.
        dimension = "app/shop/" + lb["LoadBalancerArn"].rsplit("/", 1)[-1]

        def counted():
            now = datetime.datetime.now(datetime.timezone.utc)
            r = self.ok("GetMetricStatistics", {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": "DesyncMitigationMode_NonCompliant_Request_Count",
                "Dimensions": [{"Name": "LoadBalancer", "Value": dimension}],
                "StartTime": (now - datetime.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "EndTime": (now + datetime.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Period": 60, "Statistics": ["Sum"]})
            return sum(d["Sum"] for d in r["Datapoints"]) >= 3
        wait_for(counted, what="DesyncMitigationMode_NonCompliant_Request_Count to count 3")


class LoadBalancerAttributesTest(TideTestCase):
    def test_timeouts_and_access_log_from_attributes(self):
        self.tide("lb", "create", "--name", "shop")
        port = free_port()
        self.tide("listener", "create", "--lb", "shop", "--port", str(port),
                  "--fixed-response", "200:hello")
        wait_for(lambda: try_get(port, "/") == (200, "hello"), what="the listener")
        arn = self.ok("DescribeLoadBalancers", {"Names": ["shop"]})["LoadBalancers"][0][
            "LoadBalancerArn"]
        status, body = self.api("ModifyLoadBalancerAttributes", {
            "LoadBalancerArn": arn,
            "Attributes": [{"Key": "tide.http.request_header_timeout_seconds", "Value": "0"}]})
        self.assertEqual((status, body["__type"]), (400, "ValidationError"))
        self.assertIn("tide.http.request_header_timeout_seconds", body["message"])
        self.ok("ModifyLoadBalancerAttributes", {"LoadBalancerArn": arn, "Attributes": [
            {"Key": "idle_timeout.timeout_seconds", "Value": "1"},
            {"Key": "tide.http.request_header_timeout_seconds", "Value": "1"},
            {"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "logs"},
            {"Key": "access_logs.s3.prefix", "Value": "shop"}]})
        log_dir = os.path.join(self.data_dir, "access-logs", "logs", "shop", "AWSLogs",
                               "000000000000", "elasticloadbalancing", "us-east-1")

        def logged():
            try:
                names = os.listdir(log_dir)
                with open(os.path.join(log_dir, names[0])) as f:
                    return [line for line in f.read().splitlines() if "/logged " in line]
            except (OSError, IndexError):
                return None

        # The new snapshot is in when a request is logged (published within a second).
        wait_for(lambda: try_get(port, "/logged") and logged(), what="an access log entry")
        self.assertIn('"fixed-response"', logged()[0])
        self.assertIn(" 200 - ", logged()[0])
        # Idle between requests for the idle timeout: closed by the balancer.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 "))
            self.assertEqual(s.recv(4096), b"")  # EOF, well before the socket's timeout
        # A head not finished within the header timeout: 408, then closed.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
            answer = b""
            while chunk := s.recv(4096):
                answer += chunk
            self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)


class BalanceCommandTest(unittest.TestCase):
    def test_tide_balance_standalone(self):
        backends = []
        for _ in range(2):
            port = free_port()
            p = subprocess.Popen(
                ["python3", "-c",
                 "import http.server, sys\n"
                 "class H(http.server.BaseHTTPRequestHandler):\n"
                 "    protocol_version = 'HTTP/1.1'\n"
                 "    def do_GET(self):\n"
                 "        b = sys.argv[1].encode()\n"
                 "        self.send_response(200); self.send_header('Content-Length', str(len(b)))\n"
                 "        self.end_headers(); self.wfile.write(b)\n"
                 "    def log_message(self, *a): pass\n"
                 "http.server.HTTPServer(('127.0.0.1', int(sys.argv[2])), H).serve_forever()\n",
                 f"backend-{port}", str(port)], stdin=subprocess.DEVNULL)
            backends.append((p, port))
        try:
            for p, port in backends:
                wait_for(lambda: self._answers(port), what="the backend to listen")
            lb_port = free_port()
            lb = subprocess.Popen(
                [TIDE, "balance", "--port", str(lb_port), "--targets",
                 ",".join(f"127.0.0.1:{port}" for _, port in backends)],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            try:
                line = lb.stdout.readline()
                self.assertIn(f"listening on 127.0.0.1:{lb_port}", line)
                answers = {get(lb_port, "/")[1] for _ in range(10)}
                self.assertEqual(answers, {f"backend-{port}" for _, port in backends})
            finally:
                lb.send_signal(signal.SIGTERM)
                self.assertEqual(lb.wait(timeout=10), 0)
                lb.stdout.close()
            bad = subprocess.run([TIDE, "balance", "--port", "1", "--targets", "nonsense"],
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(bad.returncode, 2)
            self.assertEqual(len(bad.stderr.strip().splitlines()), 1, bad.stderr)
            # --desync-mitigation-mode: strictest blocks what is not Compliant.
            lb = subprocess.Popen(
                [TIDE, "balance", "--port", str(lb_port), "--targets",
                 f"127.0.0.1:{backends[0][1]}", "--desync-mitigation-mode", "strictest"],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            try:
                self.assertIn("listening on", lb.stdout.readline())
                self.assertEqual(raw_exchange(lb_port, DesyncMitigationTest.ACCEPTABLE),
                                 (400, True))
                self.assertEqual(get(lb_port, "/")[0], 200)
            finally:
                lb.send_signal(signal.SIGTERM)
                self.assertEqual(lb.wait(timeout=10), 0)
                lb.stdout.close()
            bad = subprocess.run([TIDE, "balance", "--port", "1", "--targets", "127.0.0.1:1",
                                  "--desync-mitigation-mode", "lax"],
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(bad.returncode, 2)
            self.assertIn("--desync-mitigation-mode", bad.stderr)
        finally:
            for p, _ in backends:
                p.terminate()
                p.wait(timeout=10)

    def test_tide_balance_limits_and_access_log(self):
        port = free_port()
        backend = subprocess.Popen(
            ["python3", "-c",
             "import http.server, sys\n"
             "class H(http.server.BaseHTTPRequestHandler):\n"
             "    protocol_version = 'HTTP/1.1'\n"
             "    def do_GET(self):\n"
             "        self.send_response(200); self.send_header('Content-Length', '2')\n"
             "        self.end_headers(); self.wfile.write(b'ok')\n"
             "    def log_message(self, *a): pass\n"
             "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n",
             str(port)], stdin=subprocess.DEVNULL)
        log_dir = tempfile.mkdtemp(prefix="tide-balance-log-")
        log_path = os.path.join(log_dir, "access.log")
        try:
            wait_for(lambda: self._answers(port), what="the backend to listen")
            lb_port = free_port()
            lb = subprocess.Popen(
                [TIDE, "balance", "--port", str(lb_port), "--targets", f"127.0.0.1:{port}",
                 "--max-uri-bytes", "300", "--request-header-timeout", "0.5",
                 "--access-log", log_path],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
            try:
                self.assertIn("listening on", lb.stdout.readline())
                self.assertEqual(get(lb_port, "/fine"), (200, "ok"))
                self.assertEqual(try_get(lb_port, "/" + "x" * 400)[0], 414)
                with socket.create_connection(("127.0.0.1", lb_port), timeout=10) as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # and nothing more
                    answer = b""
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        answer += chunk
                self.assertTrue(answer.startswith(b"HTTP/1.1 408 "), answer)
            finally:
                lb.send_signal(signal.SIGTERM)
                self.assertEqual(lb.wait(timeout=10), 0)
                lb.stdout.close()
            with open(log_path) as f:
                lines = f.read().splitlines()
            self.assertEqual(len(lines), 3, lines)
            self.assertIn(f'"GET http://127.0.0.1:{lb_port}/fine HTTP/1.1"', lines[0])
            self.assertIn(" 200 200 ", lines[0])
            self.assertIn(" 414 - ", lines[1])
            self.assertIn(" 408 - ", lines[2])
            bad = subprocess.run([TIDE, "balance", "--port", "1", "--targets", "127.0.0.1:1",
                                  "--request-header-timeout", "0"],
                                 capture_output=True, text=True, timeout=10)
            self.assertEqual(bad.returncode, 2)
            self.assertIn("--request-header-timeout", bad.stderr)
        finally:
            backend.terminate()
            backend.wait(timeout=10)
            for name in os.listdir(log_dir):
                os.remove(os.path.join(log_dir, name))
            os.rmdir(log_dir)

    @staticmethod
    def _answers(port):
        try:
            return get(port, "/", timeout=1)[0] == 200
        except OSError:
            return False


if __name__ == "__main__":
    unittest.main()
