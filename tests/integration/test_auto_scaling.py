"""Auto Scaling groups through the real binary: a group behind a load balancer reaches its
desired capacity of healthy, serving targets; grows; replaces an instance whose app is killed;
shrinks by draining before terminating; and ForceDelete leaves nothing behind."""

import os
import signal
import unittest

from harness import QUICK_CHECKS, TideTestCase, free_port, get, pid_alive, wait_for









class AutoScalingTest(TideTestCase):
    def setUp(self):
        super().setUp()
        image = self.make_image("shop")
        self.tide("template", "create", "--name", "shop", "--image-id", image,
                  "--instance-type", "t3.nano")
        self.tide("tg", "create", "--name", "web", "--port", "8080", "--deregistration-delay",
                  "1", *QUICK_CHECKS)
        self.tide("lb", "create", "--name", "shop")
        self.port = free_port()
        self.tide("listener", "create", "--lb", "shop", "--port", str(self.port), "--forward",
                  "web")

    def group(self):
        groups = self.tide_json("asg", "ls", "web")["AutoScalingGroups"]
        return groups[0] if groups else None

    def healthy(self):
        return {d["Target"]["Id"] for d in self.tide_json("tg", "health", "web")[
            "TargetHealthDescriptions"] if d["TargetHealth"]["State"] == "healthy"}

    def wait_serving(self, n, timeout=30):
        """Waits for n InService instances, each a healthy target answering through the LB."""
        def ready():
            g = self.group()
            ids = {i["InstanceId"] for i in g["Instances"] if i["LifecycleState"] == "InService"}
            if len(ids) != n or len(g["Instances"]) != n or self.healthy() != ids:
                return None
            seen = {get(self.port)[1].strip() for _ in range(6 * n)}
            return ids if seen == ids else None
        return wait_for(ready, timeout, interval=0.1, what=f"{n} instances serving")

    def test_group_behind_a_load_balancer(self):
        self.tide("asg", "create", "--name", "web", "--launch-template", "shop", "--min", "1",
                  "--max", "4", "--desired", "2", "--target-groups", "web",
                  "--health-check-type", "ELB", "--grace", "5")
        g = self.group()
        self.assertEqual((g["MinSize"], g["DesiredCapacity"], g["MaxSize"]), (1, 2, 4))
        self.assertEqual(g["HealthCheckType"], "ELB")
        self.assertEqual(g["AvailabilityZones"], ["us-east-1a"])
        self.assertEqual(g["LaunchTemplate"]["LaunchTemplateName"], "shop")
        self.assertNotIn("Status", g)
        first = self.wait_serving(2)

        # Grow.
        self.tide("asg", "set-desired", "web", "3")
        ids = self.wait_serving(3)
        self.assertTrue(first < ids)
        err = self.tide_fails("asg", "set-desired", "web", "5")
        self.assertIn("New SetDesiredCapacity value 5 is above max value 4", err)

        # kill -9 one instance's app under traffic: replaced; clients see at most in-flight
        # failures.
        victim = sorted(ids)[0]
        pid = self.instance(victim)["ProcessId"]
        os.killpg(pid, signal.SIGKILL)
        failures = 0
        for _ in range(60):
            failures += get(self.port)[0] != 200
        self.assertLessEqual(failures, 1)
        after = self.wait_serving(3, timeout=40)
        self.assertNotIn(victim, after)
        causes = [a["Cause"] for a in self.tide_json("asg", "activities", "web")["Activities"]
                  if a["Description"] == f"Terminating EC2 instance: {victim}"]
        self.assertEqual(len(causes), 1)
        self.assertRegex(causes[0], r"^At \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ an instance was taken "
                                    r"out of service in response to an? (EC2|ELB) ")
        wait_for(lambda: self.instance(victim)["State"]["Name"] == "terminated", 20,
                 what="the unhealthy instance to terminate")

        # Shrink: the victims drain (deregistration delay 1 s), then terminate.
        self.tide("asg", "set-desired", "web", "1")
        g = self.group()
        going = [i["InstanceId"] for i in g["Instances"] if i["LifecycleState"] == "Terminating"]
        self.assertEqual(len(going), 2)
        states = {d["Target"]["Id"]: d["TargetHealth"]["State"]
                  for d in self.tide_json("tg", "health", "web")["TargetHealthDescriptions"]}
        self.assertTrue(all(states.get(i) == "draining" for i in going), states)
        self.assertTrue(all(self.instance(i)["State"]["Name"] == "running" for i in going))
        for _ in range(20):
            self.assertEqual(get(self.port)[0], 200)
        for i in going:
            self.wait_state(i, "terminated", timeout=20)
        self.wait_serving(1)

        acts = self.tide_json("asg", "activities", "web")["Activities"]
        self.assertTrue(all(set(a) >= {"ActivityId", "AutoScalingGroupName", "Cause",
                                       "Description", "StatusCode", "StartTime", "Progress"}
                            for a in acts))
        self.assertTrue(any("a user request explicitly set group desired capacity changing the "
                            "desired capacity from 3 to 1." in a["Cause"] for a in acts))
        self.assertTrue(any(a["Description"].startswith("Launching a new EC2 instance: i-")
                            and a["StatusCode"] == "Successful" for a in acts))

        # ForceDelete: everything drains and terminates, then the group is gone.
        err = self.tide_fails("asg", "delete", "web")
        self.assertIn("ResourceInUse", err)
        live = [i["InstanceId"] for i in self.group()["Instances"]]
        pids = [self.instance(i)["ProcessId"] for i in live]
        self.tide("asg", "delete", "web", "--force")
        self.assertEqual(self.group()["Status"], "Delete in progress")
        wait_for(lambda: self.group() is None, 20, what="the group to be deleted")
        for i in live:
            self.assertEqual(self.instance(i)["State"]["Name"], "terminated")
        self.assertFalse(any(pid_alive(p) for p in pids))
        self.assertEqual([i for i in self.instances() if i["State"]["Name"] != "terminated"], [])


    def test_protection_and_standby(self):
        """Scale-in keeps the protected instance; standby takes an instance out of its target
        group (still running) and back."""
        self.tide("asg", "create", "--name", "web", "--launch-template", "shop", "--min", "0",
                  "--max", "4", "--desired", "3", "--target-groups", "web",
                  "--health-check-type", "ELB", "--grace", "5")
        ids = sorted(self.wait_serving(3))
        keep = ids[1]
        self.ok("SetInstanceProtection", {"AutoScalingGroupName": "web", "InstanceIds": [keep],
                                          "ProtectedFromScaleIn": True})
        status, body = self.api("SetInstanceProtection", {
            "AutoScalingGroupName": "web", "InstanceIds": ["i-0123456789abcdef0"],
            "ProtectedFromScaleIn": True})
        self.assertEqual((status, body["__type"]), (400, "ValidationError"))
        self.assertEqual(body["message"],
                         "The instance i-0123456789abcdef0 is not part of Auto Scaling group web.")
        self.tide("asg", "set-desired", "web", "1")
        self.assertEqual(self.wait_serving(1, timeout=40), {keep})
        self.assertTrue(self.ok("DescribeAutoScalingInstances", {"InstanceIds": [keep]})[
            "AutoScalingInstances"][0]["ProtectedFromScaleIn"])

        # Standby: out of the target group, still running, not capacity; then back.
        self.tide("asg", "set-desired", "web", "2")
        ids = self.wait_serving(2, timeout=40)
        other = (ids - {keep}).pop()
        acts = self.ok("EnterStandby", {"AutoScalingGroupName": "web", "InstanceIds": [other],
                                        "ShouldDecrementDesiredCapacity": True})["Activities"]
        self.assertRegex(acts[0]["Cause"], r"^At \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ instance "
                                           + other + r" was moved to standby in response to a "
                                           r"user request, shrinking the capacity from 2 to 1\.$")

        def in_standby():
            g = self.group()
            state = {i["InstanceId"]: i["LifecycleState"] for i in g["Instances"]}
            targets = {d["Target"]["Id"] for d in self.tide_json("tg", "health", "web")[
                "TargetHealthDescriptions"]}
            return state.get(other) == "Standby" and other not in targets
        wait_for(in_standby, 20, interval=0.1, what="the instance to be in Standby")
        self.assertEqual(self.group()["DesiredCapacity"], 1)
        self.assertEqual(self.instance(other)["State"]["Name"], "running")
        self.assertEqual({get(self.port)[1].strip() for _ in range(10)}, {keep})
        self.ok("ExitStandby", {"AutoScalingGroupName": "web", "InstanceIds": [other]})
        self.assertEqual(self.wait_serving(2, timeout=40), {keep, other})
        self.assertEqual(self.group()["DesiredCapacity"], 2)

if __name__ == "__main__":
    unittest.main()
