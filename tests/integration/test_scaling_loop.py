"""The whole loop from one stack file: CPU load makes the alarm fire and the group grow; the server
is killed and restarted in the middle and carries on; the load stops and the group shrinks back
to its minimum with draining, while requests keep flowing through the load balancer without
failing; `tide down` leaves no process, mount or file."""

import os
import signal
import textwrap
import threading
import unittest

from harness import TideTestCase, free_port, get, pid_alive, try_get, wait_for

APP = textwrap.dedent("""\
    # Burns a core while the file named by BURN_FILE exists; answers / with its instance id.
    import http.server, os, threading, time
    def burn():
        while True:
            if os.path.exists(os.environ["BURN_FILE"]):
                end = time.time() + 0.05
                while time.time() < end:
                    pass
            else:
                time.sleep(0.05)
    threading.Thread(target=burn, daemon=True).start()
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        def do_GET(self):
            body = os.environ["TIDE_INSTANCE_ID"].encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    http.server.ThreadingHTTPServer((os.environ["HOST"], int(os.environ["PORT"])), H).serve_forever()
    """)

STACK = textwrap.dedent("""\
    Parameters:
      Port: {Type: Number}
      BurnFile: {Type: String}
    Resources:
      Image:
        Type: Tide::EC2::Image
        Properties: {SourceDirectory: app, RunCommand: python3 app.py, Port: 8080}
      Template:
        Type: AWS::EC2::LaunchTemplate
        Properties:
          LaunchTemplateData:
            ImageId: !Ref Image
            InstanceType: t3.nano
            Environment: [{Name: BURN_FILE, Value: !Ref BurnFile}]
      Targets:
        Type: AWS::ElasticLoadBalancingV2::TargetGroup
        Properties:
          Port: 8080
          HealthCheckIntervalSeconds: 0.2
          HealthCheckTimeoutSeconds: 0.15
          HealthyThresholdCount: 2
          TargetGroupAttributes: [{Key: deregistration_delay.timeout_seconds, Value: 1}]
      Balancer:
        Type: AWS::ElasticLoadBalancingV2::LoadBalancer
      Listener:
        Type: AWS::ElasticLoadBalancingV2::Listener
        Properties:
          LoadBalancerArn: !Ref Balancer
          Port: !Ref Port
          DefaultActions: [{Type: forward, TargetGroupArn: !Ref Targets}]
      Group:
        Type: AWS::AutoScaling::AutoScalingGroup
        DependsOn: Listener
        Properties:
          LaunchTemplate: {LaunchTemplateId: !Ref Template, Version: !GetAtt Template.LatestVersionNumber}
          MinSize: 1
          MaxSize: 3
          TargetGroupARNs: [!Ref Targets]
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
    Outputs:
      GroupName: {Value: !Ref Group}
    """)


class ScalingLoopTest(TideTestCase):
    def group(self):
        return self.tide_json("asg", "ls")["AutoScalingGroups"][0]

    def in_service(self):
        return [i for i in self.group()["Instances"] if i["LifecycleState"] == "InService"]

    def test_cpu_scales_out_and_back_in_without_failing_requests(self):
        app = os.path.join(self.tmp, "stack", "app")
        os.makedirs(app)
        with open(os.path.join(app, "app.py"), "w") as f:
            f.write(APP)
        stack = os.path.join(self.tmp, "stack", "loop.yaml")
        with open(stack, "w") as f:
            f.write(STACK)
        burn = os.path.join(self.tmp, "burn")
        port = free_port()
        out = self.tide_json("up", stack, "--stack-name", "loop", "-p", f"Port={port}",
                             "-p", f"BurnFile={burn}")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        wait_for(lambda: len(self.in_service()) == 1, what="one instance in service")
        wait_for(lambda: get(port, "/")[0] == 200, what="the app through the load balancer")

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
