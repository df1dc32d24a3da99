"""The whole loop from one stack file: CPU load makes the alarm fire and the group grow; the server
is killed and restarted in the middle and carries on; the load stops and the group shrinks back
to its minimum with draining, while requests keep flowing through the load balancer without
failing; `tide down` leaves no process, mount or file."""

import os
import signal
import threading
import unittest

from burn_stack import BurnStackTestCase, burn_stack
from harness import get, pid_alive, try_get, wait_for

STACK = burn_stack(
    resources="""\
      Out:
        Type: AWS::AutoScaling::ScalingPolicy
        Properties:
          AutoScalingGroupName: !Ref Group
          PolicyType: StepScaling
          AdjustmentType: ChangeInCapacity
          StepAdjustments: [{MetricIntervalLowerBound: 0, ScalingAdjustment: 1}]
      In:
        Type: AWS::AutoScaling::ScalingPolicy
        Properties:
          AutoScalingGroupName: !Ref Group
          PolicyType: StepScaling
          AdjustmentType: ChangeInCapacity
          StepAdjustments: [{MetricIntervalUpperBound: 0, ScalingAdjustment: -1}]
      High:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/EC2
          MetricName: CPUUtilization
          Dimensions: [{Name: AutoScalingGroupName, Value: !Ref Group}]
          Statistic: Average
          Period: 1
          EvaluationPeriods: 3
          Threshold: 70
          ComparisonOperator: GreaterThanThreshold
          AlarmActions: [!Ref Out]
      Low:
        Type: AWS::CloudWatch::Alarm
        Properties:
          Namespace: AWS/EC2
          MetricName: CPUUtilization
          Dimensions: [{Name: AutoScalingGroupName, Value: !Ref Group}]
          Statistic: Average
          Period: 1
          EvaluationPeriods: 3
          Threshold: 30
          ComparisonOperator: LessThanThreshold
          AlarmActions: [!Ref In]
""")


class ScalingLoopTest(BurnStackTestCase):
    def test_cpu_scales_out_and_back_in_without_failing_requests(self):
        port, burn = self.up("loop", STACK)

        # CPU load: the group grows to its maximum.
        open(burn, "w").close()
        wait_for(lambda: self.group()["DesiredCapacity"] == 3, timeout=60,
                 what="the alarm to grow the group to 3")
        wait_for(lambda: len(self.in_service()) == 3, timeout=30, what="three in service")
        causes = [a["Cause"] for a in self.tide_json(
            "asg", "activities", self.group()["AutoScalingGroupName"])["Activities"]]
        self.assertTrue(any("in state ALARM triggered policy" in c and "from 1 to 2" in c
                            for c in causes), causes)
        # tide asg explain tells why: the alarm's change, then the decision with its inputs.
        story = self.tide_json("asg", "explain", self.group()["AutoScalingGroupName"],
                               "--max", "200")["Events"]
        texts = [e["Text"] for e in story]
        alarm = next(i for i, t in enumerate(texts) if "-> ALARM" in t)
        decision = next(i for i, t in enumerate(texts)
                        if "triggered by alarm" in t and "desired capacity 1 -> 2" in t)
        self.assertLess(alarm, decision, texts)
        self.assertRegex(texts[decision], r"metric [0-9.]+ vs threshold 70; step \[0, \+inf\) \+1",
                         texts[decision])
        self.assertEqual([e["Time"] for e in story], sorted(e["Time"] for e in story))
        plain = self.tide("asg", "explain", self.group()["AutoScalingGroupName"]).stdout
        self.assertIn("Launching a new EC2 instance", plain)
        pids = [self.instance(i["InstanceId"])["ProcessId"] for i in self.in_service()]

        # kill -9 the server in the middle: the new one finds the group, its instances and the
        # load balancer as they were, and carries on.
        ids = sorted(i["InstanceId"] for i in self.in_service())
        self.restart_server(signal.SIGKILL)
        self.assertEqual(sorted(i["InstanceId"] for i in self.in_service()), ids)
        wait_for(lambda: (try_get(port, "/") or (0,))[0] == 200,
                 what="the load balancer to serve again")

        # The load stops: back to one, draining first; requests keep succeeding meanwhile.
        failures, answered, stop = [], [0], threading.Event()

        def client():  # about 20 requests a second: light enough not to hold the CPU up
            while not stop.wait(0.05):
                try:
                    status, _ = get(port, "/", timeout=5)
                    answered[0] += 1
                    if status != 200:
                        failures.append(status)
                except OSError as e:
                    failures.append(str(e))

        t = threading.Thread(target=client)
        t.start()
        try:
            os.remove(burn)
            wait_for(lambda: self.group()["DesiredCapacity"] == 1, timeout=60,
                     what="the low alarm to shrink the group")
            wait_for(lambda: len(self.group()["Instances"]) == 1, timeout=30,
                     what="the extra instances to drain and terminate")
        finally:
            stop.set()
            t.join()
        self.assertGreater(answered[0], 10)
        self.assertEqual(failures, [])

        # tide down leaves nothing behind.
        self.tide("down", "--stack-name", "loop")
        self.assertEqual([i for i in self.instances() if i["State"]["Name"] != "terminated"], [])
        for pid in pids:
            self.assertFalse(pid_alive(pid))
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "instances")), [])
        with open("/proc/self/mountinfo") as f:
            self.assertNotIn(self.data_dir, f.read())


if __name__ == "__main__":
    unittest.main()
