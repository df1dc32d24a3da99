"""Target tracking with real instances: a group whose policy tracks the group's average CPU on
1-second datapoints (a customized metric with Period 1, tide's) grows when a load step starts and
shrinks back when it stops; the managed alarms are Auto Scaling's, and go with the policy."""

import os
import unittest

from burn_stack import BurnStackTestCase, burn_stack
from harness import wait_for

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
        details = [a["Details"] for a in activities
                   if "triggered policy" in a["Cause"] and "from 1 to 2" in a["Cause"]]
        self.assertIn('"TargetValue":50', details[0])

        # The load stops: 15 datapoints below 45 % bring it back to its minimum.
        os.remove(burn)
        wait_for(lambda: self.group()["DesiredCapacity"] == 1, timeout=90,
                 what="target tracking to scale back in")

        # Deleting the stack deletes the policy, and the policy its alarms.
        self.tide("down", "--stack-name", "tt")
        self.assertEqual(self.ok("DescribeAlarms", {"AlarmNames": names})["MetricAlarms"], [])


if __name__ == "__main__":
    unittest.main()
