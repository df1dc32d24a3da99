"""Target tracking with real instances: a group whose policy tracks the group's average CPU on
1-second datapoints (a customized metric with Period 1, tide's) grows when a load step starts and
shrinks back when it stops; the managed alarms are Auto Scaling's, and go with the policy."""

import os
import textwrap
import unittest

from harness import TideTestCase, free_port, get, wait_for

APP = textwrap.dedent("""\
    # Burns its CPU while the file named by BURN_FILE exists; answers / with its instance id.
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
          DefaultInstanceWarmup: 2
          TargetGroupARNs: [!Ref Targets]
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
    Outputs:
      GroupName: {Value: !Ref Group}
    """)


class TargetTrackingTest(TideTestCase):
    def group(self):
        return self.tide_json("asg", "ls")["AutoScalingGroups"][0]

    def in_service(self):
        return [i for i in self.group()["Instances"] if i["LifecycleState"] == "InService"]

    def test_a_load_step_adds_instances_and_its_end_removes_them(self):
        app = os.path.join(self.tmp, "stack", "app")
        os.makedirs(app)
        with open(os.path.join(app, "app.py"), "w") as f:
            f.write(APP)
        stack = os.path.join(self.tmp, "stack", "tracking.yaml")
        with open(stack, "w") as f:
            f.write(STACK)
        burn = os.path.join(self.tmp, "burn")
        port = free_port()
        out = self.tide_json("up", stack, "--stack-name", "tt", "-p", f"Port={port}",
                             "-p", f"BurnFile={burn}")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        wait_for(lambda: len(self.in_service()) == 1, what="one instance in service")
        wait_for(lambda: get(port, "/")[0] == 200, what="the app through the load balancer")
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
