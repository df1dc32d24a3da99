"""Failing open as ALB does (docs/reliability.md, "Failing open"): a new target gets no request
before it passes a health check, and a group whose every target is unhealthy routes to them.

The app answers / at once and never answers its health check (a thread sleeps), so that its
target stays `initial` for the first checks (timeout 1 s, 2 failures in a row) and then turns
`unhealthy`. Each phase is judged by what DescribeTargetHealth says around the request.
"""

import unittest

from harness import TideTestCase, free_port, get, serving, try_get, wait_for

APP = (
    "import http.server, os, time\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        if self.path == '/health':\n"
    "            time.sleep(600)\n"
    "        self.send_response(200); self.send_header('Content-Length', '2')\n"
    "        self.end_headers(); self.wfile.write(b'ok')\n"
    "    def log_message(self, *a): pass\n"
    "s = http.server.ThreadingHTTPServer((os.environ['HOST'], int(os.environ['PORT'])), H)\n"
    "s.daemon_threads = True\n"
    "s.serve_forever()\n")


class FailOpenTest(TideTestCase):
    def state(self, instance_id):
        for d in self.tide_json("tg", "health", "web")["TargetHealthDescriptions"]:
            if d["Target"]["Id"] == instance_id:
                return d["TargetHealth"]["State"]
        return None

    def test_a_new_target_waits_for_its_checks_and_only_unhealthy_groups_fail_open(self):
        image = self.make_image("slow-health", self.app_dir({"app.py": APP}), "python3 app.py")
        inst = self.tide_json("instance", "run", "--image-id", image, "--instance-type",
                              "t3.micro", "--wait")["Instances"][0]
        wait_for(lambda: serving(inst, "/"), what="the app to answer")
        self.tide("tg", "create", "--name", "web", "--port", "8080", "--interval", "2",
                  "--timeout", "1", "--unhealthy-threshold", "2", "--health-check-path",
                  "/health")
        self.tide("lb", "create", "--name", "shop")
        port = free_port()
        self.tide("listener", "create", "--lb", "shop", "--port", str(port), "--forward", "web")
        wait_for(lambda: (try_get(port, "/") or (0,))[0] == 503,
                 what="the listener to answer 503 with no targets")
        self.tide("tg", "register", "web", inst["InstanceId"])

        # Initial: the app answers / itself, but the load balancer gives it nothing.
        seen_initial = 0
        while self.state(inst["InstanceId"]) == "initial":
            status = get(port, "/")[0]
            if self.state(inst["InstanceId"]) != "initial":
                break
            self.assertEqual(status, 503, "an initial target got a request")
            seen_initial += 1
        print(f"\n  {seen_initial} requests answered 503 while the only target was initial")
        self.assertGreater(seen_initial, 0, "the target left initial before any request")

        # Unhealthy, and the only target: the group fails open.
        wait_for(lambda: self.state(inst["InstanceId"]) == "unhealthy", timeout=30,
                 what="the target to be unhealthy")
        wait_for(lambda: get(port, "/") == (200, "ok"), timeout=10,
                 what="the group to fail open")


if __name__ == "__main__":
    unittest.main()
