"""The event bus through the real binary (docs/events.md): `tide events --follow --json` prints
a scale-out's events in order while it happens; the events reach the JSON-lines log in the data
directory; /events needs the viewer token; a follower ends cleanly on SIGINT and with a message
when the server goes away."""

import json
import os
import queue
import signal
import stat
import subprocess
import threading
import unittest
import urllib.error
import urllib.request

from harness import QUICK_CHECKS, TIDE, TideTestCase, cli_env, free_port, wait_for


class Follower:
    """`tide events --follow ...` in the background, its stdout lines in a queue."""

    def __init__(self, server, *args):
        self.proc = subprocess.Popen([TIDE, "events", "--follow", *args], env=cli_env(server),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.DEVNULL)
        # Readiness: the line on stderr that says the stream is open.
        first = self.proc.stderr.readline()
        if "following the events" not in first:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"tide events --follow did not start: {first!r}")
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next_event(self, timeout):
        line = self.lines.get(timeout=timeout)
        if line is None:
            raise AssertionError("the follower ended")
        return json.loads(line)

    def end(self, sig=signal.SIGINT, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        rest = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code, rest


class EventsTest(TideTestCase):
    def setUp(self):
        super().setUp()
        self.followers = []
        self.addCleanup(self._end_followers)

    def _end_followers(self):
        for f in self.followers:
            if f.proc.poll() is None:
                f.proc.kill()
                f.proc.wait(timeout=10)

    def follow(self, *args):
        f = Follower(self.server, *args)
        self.followers.append(f)
        return f

    def test_follow_prints_a_scale_out_in_order(self):
        image = self.make_image("shop")
        self.tide("template", "create", "--name", "shop", "--image-id", image,
                  "--instance-type", "t3.nano")
        self.tide("tg", "create", "--name", "web", "--port", "8080", "--deregistration-delay",
                  "1", *QUICK_CHECKS)
        self.tide("lb", "create", "--name", "shop")
        self.tide("listener", "create", "--lb", "shop", "--port", str(free_port()),
                  "--forward", "web")
        self.tide("asg", "create", "--name", "web", "--launch-template", "shop", "--min", "1",
                  "--max", "3", "--desired", "1", "--target-groups", "web")

        def one_healthy():
            health = self.tide_json("tg", "health", "web")["TargetHealthDescriptions"]
            return [d for d in health if d["TargetHealth"]["State"] == "healthy"]
        wait_for(one_healthy, timeout=60, interval=0.1, what="the first instance to be healthy")

        follower = self.follow("--json")
        self.ok("SetDesiredCapacity", {"AutoScalingGroupName": "web", "DesiredCapacity": 2})

        # Read until the new instance is a healthy target (bounded), keeping the order.
        events, new_id = [], None
        while True:
            e = follower.next_event(timeout=60)
            events.append(e)
            d = e["detail"]
            if new_id is None and e["detail-type"] == "EC2 Instance State-change Notification":
                new_id = d["instance-id"]
            if (e["detail-type"] == "ELB Target Health State Change"
                    and d["target"]["id"] == new_id and d["state"] == "healthy"):
                break
            self.assertLess(len(events), 200, events)

        for e in events:
            self.assertEqual(e["version"], "0")
            self.assertEqual(e["account"], "000000000000")
            self.assertTrue(e["time"].endswith("Z"))

        def index(detail_type, **fields):
            for n, e in enumerate(events):
                if e["detail-type"] == detail_type and all(
                        e["detail"].get(k) == v for k, v in fields.items()):
                    return n
            self.fail(f"no {detail_type} {fields} among {[e['detail-type'] for e in events]}")

        capacity = index("Auto Scaling Desired Capacity Change", AutoScalingGroupName="web",
                         DesiredCapacity=2)
        pending = index("EC2 Instance State-change Notification", **{"instance-id": new_id,
                                                                      "state": "pending"})
        running = index("EC2 Instance State-change Notification", **{"instance-id": new_id,
                                                                      "state": "running"})
        launched = index("EC2 Instance Launch Successful", EC2InstanceId=new_id)
        healthy = len(events) - 1
        self.assertLess(capacity, pending)
        self.assertLess(pending, running)
        self.assertLess(running, launched)
        self.assertLess(launched, healthy)

        launch = events[launched]
        self.assertEqual(launch["source"], "aws.autoscaling")
        self.assertEqual(launch["detail"]["AutoScalingGroupName"], "web")
        self.assertEqual(launch["detail"]["StatusCode"], "Successful")
        self.assertTrue(launch["detail"]["Cause"])
        self.assertIn(launch["detail"]["ActivityId"], {
            a["ActivityId"] for a in self.ok("DescribeScalingActivities", {
                "AutoScalingGroupName": "web"})["Activities"]})
        self.assertTrue(any(r.endswith("instance/" + new_id) for r in launch["resources"]))
        self.assertEqual(events[healthy]["source"], "tide.elasticloadbalancing")
        # A new app may fail its first checks while it starts: initial → (unhealthy →) healthy.
        self.assertIn(events[healthy]["detail"]["previousState"], ("initial", "unhealthy"))
        registered = index("ELB Target Health State Change", target={"id": new_id, "port": 8080},
                           previousState=None)
        self.assertLess(running, registered)

        code, _ = follower.end(signal.SIGINT)
        self.assertEqual(code, 0)

        # The same events are in the log, one {"seq", "event"} a line, private to the owner.
        log = os.path.join(self.data_dir, "events", "events.jsonl")
        self.assertEqual(stat.S_IMODE(os.stat(log).st_mode), 0o600)
        with open(log) as f:
            records = [json.loads(line) for line in f]
        seqs = [r["seq"] for r in records]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), len(seqs))
        ids = {r["event"]["id"] for r in records}
        self.assertTrue({e["id"] for e in events} <= ids)

        # Without --follow: what the server keeps, as text, then --since skips the older ones.
        text = self.tide("events").stdout.splitlines()
        self.assertGreaterEqual(len(text), len(records))
        self.assertTrue(any("EC2 Instance Launch Successful" in t and new_id in t for t in text))
        later = self.tide("events", "--json", "--since", str(seqs[-2])).stdout.splitlines()
        self.assertEqual(json.loads(later[0])["id"], records[-1]["event"]["id"])
        self.assertTrue(later[0].startswith('{"version":"0","id":'), later[0])  # AWS's order

    def test_a_lifecycle_action_event_carries_the_token_that_completes_it(self):
        image = self.make_image("shop")
        self.tide("template", "create", "--name", "shop", "--image-id", image,
                  "--instance-type", "t3.nano")
        self.tide("asg", "create", "--name", "hooked", "--launch-template", "shop", "--min", "0",
                  "--max", "2", "--desired", "0")
        self.ok("PutLifecycleHook", {"AutoScalingGroupName": "hooked",
                                     "LifecycleHookName": "ready",
                                     "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
                                     "HeartbeatTimeout": 300, "DefaultResult": "ABANDON",
                                     "NotificationMetadata": "from the test"})
        follower = self.follow("--json")
        self.ok("SetDesiredCapacity", {"AutoScalingGroupName": "hooked", "DesiredCapacity": 1})

        def until(detail_type):
            for _ in range(200):
                e = follower.next_event(timeout=60)
                if e["detail-type"] == detail_type:
                    return e
            self.fail(f"no {detail_type}")

        action = until("EC2 Instance-launch Lifecycle Action")
        d = action["detail"]
        self.assertEqual(action["source"], "aws.autoscaling")
        self.assertEqual(d["AutoScalingGroupName"], "hooked")
        self.assertEqual(d["LifecycleHookName"], "ready")
        self.assertEqual(d["LifecycleTransition"], "autoscaling:EC2_INSTANCE_LAUNCHING")
        self.assertEqual(d["NotificationMetadata"], "from the test")
        # What a rule's target would do with it: answer the hook with the event's token.
        self.ok("CompleteLifecycleAction", {"AutoScalingGroupName": "hooked",
                                            "LifecycleHookName": "ready",
                                            "LifecycleActionToken": d["LifecycleActionToken"],
                                            "LifecycleActionResult": "CONTINUE"})
        launched = until("EC2 Instance Launch Successful")
        self.assertEqual(launched["detail"]["EC2InstanceId"], d["EC2InstanceId"])
        self.assertEqual(follower.end(signal.SIGTERM)[0], 0)

    def test_the_stream_needs_the_viewer_token(self):
        for path in ("/events", "/events?format=json"):
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(self.server.endpoint + path, timeout=10)
            self.assertEqual(e.exception.code, 403)
            self.assertEqual(json.loads(e.exception.read())["__type"], "AccessDeniedException")
        # The CLI with another key than the server's: refused at once, with or without --follow.
        env = dict(cli_env(self.server), TIDE_DATA_DIR=os.path.join(self.tmp, "elsewhere"),
                   AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
                   AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        for args in ((), ("--follow",)):
            p = subprocess.run([TIDE, "events", *args], env=env, capture_output=True, text=True,
                               timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn("AccessDeniedException", p.stderr)

    def test_follower_ends_with_a_message_when_the_server_goes_away(self):
        follower = self.follow()
        self.server.stop()
        code, err = follower.end(timeout=30)
        self.assertEqual(code, 3)
        self.assertIn("ended the event stream", err)


if __name__ == "__main__":
    unittest.main()
