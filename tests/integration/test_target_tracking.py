"""Target tracking with real instances: a group whose policy tracks the group's average CPU on
1-second datapoints (a customized metric with Period 1, tide's) grows when a load step starts and
shrinks back when it stops; the managed alarms are Auto Scaling's, and go with the policy."""

import os
import unittest

from burn_stack import BurnStackTestCase, burn_stack
from harness import SOURCE_DIR, TideTestCase, free_port, get, wait_for

STACK = burn_stack(
    group_properties="DefaultInstanceWarmup: 2\n",
    resources="""\
      Cpu:
        Type: AWS::AutoScaling::ScalingPolicy
        Properties:
          AutoScalingGroupName: !Ref Group
          PolicyType: TargetTrackingScaling
          TargetTrackingConfiguration:
            TargetValue: 50
            CustomizedMetricSpecification:
              Namespace: AWS/EC2
              MetricName: CPUUtilization
              Dimensions: [{Name: AutoScalingGroupName, Value: !Ref Group}]
              Statistic: Average
              Period: 1
""")


class TargetTrackingTest(BurnStackTestCase):
    def test_a_load_step_adds_instances_and_its_end_removes_them(self):
        port, burn = self.up("tt", STACK)
        name = self.group()["AutoScalingGroupName"]

        # The managed alarms, as Auto Scaling names and shapes them, on 1 s periods.
        policy = self.ok("DescribePolicies", {"AutoScalingGroupName": name})["ScalingPolicies"][0]
        self.assertEqual(policy["PolicyType"], "TargetTrackingScaling")
        names = sorted(a["AlarmName"] for a in policy["Alarms"])
        self.assertEqual(len(names), 2)
        self.assertTrue(names[0].startswith(f"TargetTracking-{name}-AlarmHigh-"), names)
        self.assertTrue(names[1].startswith(f"TargetTracking-{name}-AlarmLow-"), names)
        alarms = self.ok("DescribeAlarms", {"AlarmNames": names})["MetricAlarms"]
        self.assertEqual({(a["Period"], a["EvaluationPeriods"]) for a in alarms},
                         {(1, 3), (1, 15)})

        # A load step: 1 instance at ~100 % against a 50 % target asks for 2, then more.
        open(burn, "w").close()
        wait_for(lambda: self.group()["DesiredCapacity"] >= 2, timeout=30,
                 what="target tracking to add an instance")
        wait_for(lambda: len(self.in_service()) >= 2, timeout=30, what="a second in service")
        activities = self.tide_json("asg", "activities", name)["Activities"]
        causes = [a["Cause"] for a in activities]
        self.assertTrue(any(f"a monitor alarm TargetTracking-{name}-AlarmHigh-" in c and
                            "in state ALARM triggered policy" in c and "from 1 to 2" in c
                            for c in causes), causes)
        # The change of desired capacity carries the policy's inputs (the launch it made
        # begins its Cause with the same sentence, as AWS words it).
        details = [a["Details"] for a in activities
                   if a["Description"].startswith("Changing the desired capacity")
                   and "triggered policy" in a["Cause"] and "from 1 to 2" in a["Cause"]]
        self.assertIn('"TargetValue":50', details[0])

        # The load stops: 15 datapoints below 45 % bring it back to its minimum.
        os.remove(burn)
        wait_for(lambda: self.group()["DesiredCapacity"] == 1, timeout=90,
                 what="target tracking to scale back in")

        # Deleting the stack deletes the policy, and the policy its alarms.
        self.tide("down", "--stack-name", "tt")
        self.assertEqual(self.ok("DescribeAlarms", {"AlarmNames": names})["MetricAlarms"], [])


class ShopTrackingExampleTest(TideTestCase):
    """examples/shop/tracking.yaml: the shop scaled by tracking requests per instance."""

    def test_request_count_per_target_grows_the_shop(self):
        port = free_port()
        stack = os.path.join(SOURCE_DIR, "examples", "shop", "tracking.yaml")
        # A low target on 1 s datapoints, so that a light load is a step above it.
        out = self.tide_json("up", stack, "--stack-name", "shop-tt", "-p", f"Port={port}",
                             "-p", "Period=1", "-p", "RequestsPerInstance=10")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        name = next(o["OutputValue"] for o in out["Stacks"][0]["Outputs"]
                    if o["OutputKey"] == "GroupName")
        policy = self.ok("DescribePolicies", {"AutoScalingGroupName": name})["ScalingPolicies"][0]
        alarms = self.ok("DescribeAlarms", {"AlarmNames": [a["AlarmName"] for a in
                                                           policy["Alarms"]]})["MetricAlarms"]
        self.assertEqual({(a["MetricName"], a["Period"]) for a in alarms},
                         {("RequestCountPerTarget", 1)})
        self.assertEqual({d["Name"] for a in alarms for d in a["Dimensions"]}, {"TargetGroup"})
        wait_for(lambda: get(port, "/")[0] == 200, what="the shop through its load balancer")

        # About 60 requests a second over two instances: 30 each against a target of 10.
        load = self.tide("load", f"http://127.0.0.1:{port}/", "--rate", "60", "--duration",
                         "12s", check=False)
        self.assertEqual(load.returncode, 0, load.stderr)
        group = self.tide_json("asg", "ls")["AutoScalingGroups"][0]
        self.assertGreater(group["DesiredCapacity"], 2, group)
        story = "\n".join(e["Text"] for e in
                          self.tide_json("asg", "explain", name, "--max", "50")["Events"])
        self.assertIn("(TargetTrackingScaling) triggered by alarm TargetTracking-", story)
        self.assertIn("vs target 10", story)
        self.tide("down", "--stack-name", "shop-tt")


if __name__ == "__main__":
    unittest.main()
