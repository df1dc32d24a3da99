"""Listener rules through the real binary: path and host routing to two target groups, a
weighted forward, a redirect, a fixed response, priorities changed with SetRulePriorities; and
configuration changes under continuous keep-alive load that drop no request."""

import http.client
import threading

from harness import QUICK_CHECKS, TideTestCase, free_port, serving, try_get, wait_for

# Answers every path with its instance id (keep-alive, HTTP/1.1); /health for the checks.
APP = (
    "import http.server, os\n"
    "ID = os.environ['TIDE_INSTANCE_ID'].encode()\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.send_header('Content-Length', str(len(ID)))\n"
    "        self.end_headers(); self.wfile.write(ID)\n"
    "    def log_message(self, *a): pass\n"
    "http.server.ThreadingHTTPServer((os.environ['HOST'], int(os.environ['PORT'])), H)"
    ".serve_forever()\n")


def request(port, path, host="www.example.com", conn=None):
    """(status, headers, body) of GET path with a Host header."""
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        if conn is None:
            c.close()


class RulesTest(TideTestCase):
    server_args = ("--termination-grace", "2", "--balancer-threads", "1")

    def setUp(self):
        super().setUp()  # its cleanups end the server and instances even if the rest fails
        self.start_groups()

    def start_groups(self):
        """Instances of blue (two, one registered) and green (one), and listener `front` on a
        free port forwarding to blue by default."""
        image = self.make_image("whoami", self.app_dir({"app.py": APP}), "python3 app.py")
        self.ids = {}
        for name, count in (("blue", 2), ("green", 1)):
            out = self.tide_json("instance", "run", "--image-id", image, "--instance-type",
                                 "t3.micro", "--count", str(count), "--wait")["Instances"]
            for i in out:
                wait_for(lambda: serving(i, "/health"), what="the app to answer")
            self.ids[name] = [i["InstanceId"] for i in out]
            self.tide("tg", "create", "--name", name, "--port", "8080",
                      "--deregistration-delay", "1", *QUICK_CHECKS)
        self.blue = self.tg_arn("blue")
        self.green = self.tg_arn("green")
        self.tide("tg", "register", "blue", self.ids["blue"][0])
        self.tide("tg", "register", "green", self.ids["green"][0])
        self.tide("lb", "create", "--name", "front")
        self.port = free_port()
        self.listener = self.tide_json("listener", "create", "--lb", "front", "--port",
                                       str(self.port), "--forward", "blue")["Listeners"][0][
                                           "ListenerArn"]
        # green is checked (and gets traffic) once a rule forwards to it: until then it is unused.
        wait_for(lambda: all(d["TargetHealth"]["State"] == "healthy" for d in
                             self.tide_json("tg", "health", "blue")["TargetHealthDescriptions"]),
                 what="blue to be healthy")
        wait_for(lambda: try_get(self.port, "/"), what="the listener to answer")

    def tg_arn(self, name):
        return self.ok("DescribeTargetGroups", {"Names": [name]})["TargetGroups"][0][
            "TargetGroupArn"]

    def rule(self, priority, conditions, actions, listener=None):
        return self.ok("CreateRule", {"ListenerArn": listener or self.listener,
                                      "Priority": priority, "Conditions": conditions,
                                      "Actions": actions})["Rules"][0]["RuleArn"]

    @staticmethod
    def path(*patterns):
        return [{"Field": "path-pattern", "PathPatternConfig": {"Values": list(patterns)}}]

    @staticmethod
    def forward(arn):
        return [{"Type": "forward", "TargetGroupArn": arn}]

    def answers(self, path, want, host="www.example.com"):
        """Waits until GET path answers `want` (the publisher applies changes asynchronously,
        as ALB does)."""
        return wait_for(lambda: request(self.port, path, host)[2] == want,
                        what=f"{path} on {host} to answer {want!r}")

    def test_routing_weights_redirects_fixed_responses_and_priorities(self):
        blue, green = self.ids["blue"][0], self.ids["green"][0]
        self.rule(10, self.path("/green/*"), self.forward(self.green))
        self.tide("rule", "create", "--listener", self.listener, "--priority", "20",
                  "--host", "green.example.com", "--forward", "green")
        self.tide("rule", "create", "--listener", self.listener, "--priority", "30",
                  "--path", "/split", "--forward", "blue:3", "--forward", "green:1")
        special = self.rule(60, self.path("/green/special"),
                            [{"Type": "fixed-response", "FixedResponseConfig": {
                                "StatusCode": "418", "ContentType": "text/plain",
                                "MessageBody": "short and stout"}}])
        self.rule(40, self.path("/old/*"),
                  [{"Type": "redirect", "RedirectConfig": {
                      "Host": "new.example.com", "Path": "/new/#{path}",
                      "StatusCode": "HTTP_301"}}])
        rules = self.tide_json("rule", "ls", "--listener", self.listener)["Rules"]
        self.assertEqual([r["Priority"] for r in rules], ["10", "20", "30", "40", "60", "default"])
        self.assertTrue(rules[-1]["IsDefault"])

        # Snapshots are built from the whole store: once the last rule answers, all do.
        wait_for(lambda: request(self.port, "/old/x")[0] == 301, what="the rules to be in")
        self.assertEqual(request(self.port, "/green/special")[2], green)  # /green/* is first
        self.assertEqual(request(self.port, "/green/a")[2], green)
        self.assertEqual(request(self.port, "/other")[2], blue)  # the default action
        self.assertEqual(request(self.port, "/", "GREEN.example.com:80")[2], green)
        self.assertEqual(request(self.port, "/", "blue.example.com")[2], blue)

        # 3:1, exactly: one worker turns through the smooth weighted schedule.
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        seen = {blue: 0, green: 0}
        for _ in range(40):
            seen[request(self.port, "/split", conn=conn)[2]] += 1
        conn.close()
        self.assertEqual(seen, {blue: 30, green: 10})

        status, headers, body = request(self.port, "/old/page?x=1&y=2", "www.example.com")
        self.assertEqual(status, 301)
        self.assertEqual(headers["Location"],
                         f"http://new.example.com:{self.port}/new/old/page?x=1&y=2")
        self.assertEqual(body, "")

        # Priority 5 puts the fixed response before /green/*.
        self.tide("rule", "set-priorities", f"{special}=5")
        wait_for(lambda: request(self.port, "/green/special")[0] == 418,
                 what="the new priority to take effect")
        self.assertEqual(request(self.port, "/green/special")[2], "short and stout")
        # Deleting the default rule is refused; deleting a rule routes its traffic on.
        default = rules[-1]["RuleArn"]
        self.assertIn("OperationNotPermitted", self.tide_fails("rule", "delete", default))
        self.tide("rule", "delete", special)
        self.answers("/green/special", green)
        # ModifyListener moves the listener, rules and all.
        moved = free_port()
        self.tide("listener", "modify", self.listener, "--port", str(moved))
        wait_for(lambda: try_get(self.port, "/") is None and try_get(moved, "/") is not None,
                 what="the listener to move")
        self.assertEqual(request(moved, "/green/a")[2], green)
        self.assertEqual(request(moved, "/")[2], blue)

    def test_changes_under_keep_alive_load_drop_no_request(self):
        blue_ids = set(self.ids["blue"])
        green = self.ids["green"][0]
        self.rule(10, self.path("/green/*"), self.forward(self.green))
        self.answers("/green/x", green)

        stop = threading.Event()
        results = []  # per thread: (requests, failures)

        def load(path, expected):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            done, failures = 0, []
            for _ in range(100000):  # bounded; ends when the changes are done
                if stop.is_set():
                    break
                try:
                    status, _, body = request(self.port, path, conn=conn)
                    if status != 200 or body not in expected:
                        failures.append((status, body))
                except (OSError, http.client.HTTPException) as e:
                    failures.append(repr(e))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                done += 1
            conn.close()
            results.append((done, failures))

        threads = [threading.Thread(target=load, args=args) for args in
                   [("/", blue_ids), ("/green/x", {green}), ("/", blue_ids),
                    ("/green/y", {green})]]
        for t in threads:
            t.start()
        try:
            # A second listener, with rules of its own; then it goes again.
            other = free_port()
            other_arn = self.ok("CreateListener", {
                "LoadBalancerArn": self.ok("DescribeLoadBalancers", {"Names": ["front"]})[
                    "LoadBalancers"][0]["LoadBalancerArn"],
                "Port": other, "DefaultActions": self.forward(self.green)})["Listeners"][0][
                    "ListenerArn"]
            wait_for(lambda: (try_get(other, "/") or (0, ""))[1] == green,
                     what="the new listener to answer")
            self.rule(1, self.path("/b"), self.forward(self.blue), listener=other_arn)
            # Rules on the loaded listener that its traffic does not match, and one it does.
            extra = self.rule(5, self.path("/static/*"), self.forward(self.blue))
            self.ok("ModifyRule", {"RuleArn": extra, "Conditions": self.path("/assets/*")})
            green_rule = self.ok("DescribeRules", {"ListenerArn": self.listener})["Rules"][1]
            self.assertEqual(green_rule["Priority"], "10")
            self.ok("ModifyRule", {"RuleArn": green_rule["RuleArn"],
                                   "Conditions": self.path("/green/*", "/verde/*")})
            self.ok("SetRulePriorities", {"RulePriorities": [
                {"RuleArn": extra, "Priority": 20}, {"RuleArn": green_rule["RuleArn"],
                                                     "Priority": 2}]})
            self.answers("/verde/z", green)
            self.ok("DeleteRule", {"RuleArn": extra})
            # A target joins blue, then the first one leaves (draining, then gone).
            self.tide("tg", "register", "blue", self.ids["blue"][1])
            wait_for(lambda: request(self.port, "/")[2] == self.ids["blue"][1],
                     what="the new target to get traffic")
            self.tide("tg", "deregister", "blue", self.ids["blue"][0])
            wait_for(lambda: all(d["Target"]["Id"] != self.ids["blue"][0] for d in
                                 self.tide_json("tg", "health", "blue")[
                                     "TargetHealthDescriptions"]),
                     what="the deregistered target to drain")
            self.ok("DeleteListener", {"ListenerArn": other_arn})
            wait_for(lambda: try_get(other, "/") is None, what="the deleted listener to close")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=60)
        self.assertEqual(len(results), 4)
        total = sum(done for done, _ in results)
        failures = [f for _, fs in results for f in fs]
        self.assertEqual(failures, [])
        self.assertGreater(total, 100)


if __name__ == "__main__":
    import unittest
    unittest.main()
