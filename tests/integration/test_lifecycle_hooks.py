"""Lifecycle hooks with real instances: a group's launching hook holds each new instance in
Pending:Wait (running, but not registered with the target group, so no traffic reaches it)
until it is answered, from outside with the real aws CLI, or from inside the instance by its
user data, which finds the API, its region, its group and its own id in its environment."""

import json
import os
import subprocess
import textwrap
import unittest

from harness import TideTestCase, free_port, try_get, wait_for

AWS = "/usr/bin/aws"

APP = textwrap.dedent("""\
    import http.server, os
    class H(http.server.BaseHTTPRequestHandler):
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

# The inside instance's user data: answers its own hook in the background with the aws CLI
# (Debian's 2.9 reads no AWS_ENDPOINT_URL, so it is passed as --endpoint-url), retrying until
# the group has put it in Pending:Wait.
USER_DATA = textwrap.dedent("""\
    #!/bin/sh
    (
      export HOME=/tmp
      for k in $(seq 1 150); do
        if /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --no-sign-request autoscaling \\
            complete-lifecycle-action --auto-scaling-group-name "$TIDE_AUTO_SCALING_GROUP_NAME" \\
            --lifecycle-hook-name ready --instance-id "$TIDE_INSTANCE_ID" \\
            --lifecycle-action-result CONTINUE; then
          echo "completed from inside: $TIDE_INSTANCE_ID in $AWS_REGION"
          exit 0
        fi
        sleep 0.2
      done
    ) &
    """)

STACK = textwrap.dedent("""\
    Parameters:
      Port: {Type: Number}
    Resources:
      Image:
        Type: Tide::EC2::Image
        Properties: {SourceDirectory: app, RunCommand: python3 app.py, Port: 8080}
      Template:
        Type: AWS::EC2::LaunchTemplate
        Properties:
          LaunchTemplateData: {ImageId: !Ref Image, InstanceType: t3.nano}
      InsideTemplate:
        Type: AWS::EC2::LaunchTemplate
        Properties:
          LaunchTemplateData:
            ImageId: !Ref Image
            InstanceType: t3.nano
            UserData:
              Fn::Base64: |
    %s
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
      Outside:
        Type: AWS::AutoScaling::AutoScalingGroup
        DependsOn: Listener
        Properties:
          LaunchTemplate: {LaunchTemplateId: !Ref Template, Version: !GetAtt Template.LatestVersionNumber}
          MinSize: 1
          MaxSize: 1
          TargetGroupARNs: [!Ref Targets]
          LifecycleHookSpecificationList:
            - {LifecycleHookName: ready, LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
               HeartbeatTimeout: 300, NotificationMetadata: from-the-stack}
      Inside:
        Type: AWS::AutoScaling::AutoScalingGroup
        Properties:
          LaunchTemplate: {LaunchTemplateId: !Ref InsideTemplate, Version: "1"}
          MinSize: 1
          MaxSize: 1
          LifecycleHookSpecificationList:
            - {LifecycleHookName: ready, LifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
               HeartbeatTimeout: 300}
      Goodbye:
        Type: AWS::AutoScaling::LifecycleHook
        Properties:
          AutoScalingGroupName: !Ref Outside
          LifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING"
          HeartbeatTimeout: 60
          DefaultResult: CONTINUE
    Outputs:
      Outside: {Value: !Ref Outside}
      Inside: {Value: !Ref Inside}
      Goodbye: {Value: !Ref Goodbye}
    """) % textwrap.indent(USER_DATA, " " * 14)


@unittest.skipUnless(os.path.exists(AWS), "Debian's awscli is not installed: scripts/deps.sh "
                     "installs it (apt-get install awscli)")
class LifecycleHooksTest(TideTestCase):
    server_args = ("--termination-grace", "2", "--auth", "none")

    def aws(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="",
                   AWS_CONFIG_FILE=os.path.join(self.tmp, "no-aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "no-aws-credentials"))
        p = subprocess.run([AWS, "--endpoint-url", self.server.endpoint, "--output", "json",
                            *args], capture_output=True, text=True, env=env, timeout=60,
                           stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            self.fail(f"aws {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def members(self, group):
        out = self.ok("DescribeAutoScalingGroups", {"AutoScalingGroupNames": [group]})
        return out["AutoScalingGroups"][0]["Instances"]

    def test_hooks_hold_instances_until_answered_from_outside_or_inside(self):
        app = os.path.join(self.tmp, "stack", "app")
        os.makedirs(app)
        with open(os.path.join(app, "app.py"), "w") as f:
            f.write(APP)
        stack = os.path.join(self.tmp, "stack", "hooks.yaml")
        with open(stack, "w") as f:
            f.write(STACK)
        port = free_port()
        out = self.tide_json("up", stack, "--stack-name", "hooks", "-p", f"Port={port}")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in out["Stacks"][0]["Outputs"]}
        outside, inside = outputs["Outside"], outputs["Inside"]

        hooks = self.aws("autoscaling", "describe-lifecycle-hooks",
                         "--auto-scaling-group-name", outside)["LifecycleHooks"]
        self.assertEqual(sorted((h["LifecycleHookName"], h["LifecycleTransition"]) for h in hooks),
                         sorted([("ready", "autoscaling:EC2_INSTANCE_LAUNCHING"),
                                 (outputs["Goodbye"], "autoscaling:EC2_INSTANCE_TERMINATING")]))
        ready = next(h for h in hooks if h["LifecycleHookName"] == "ready")
        self.assertEqual((ready["HeartbeatTimeout"], ready["GlobalTimeout"],
                          ready["DefaultResult"], ready["NotificationMetadata"]),
                         (300, 30000, "ABANDON", "from-the-stack"))

        # Inside: the instance answers its own hook from its user data and goes in service.
        wait_for(lambda: [i for i in self.members(inside) if i["LifecycleState"] == "InService"],
                 timeout=30, what="the inside instance to complete its own hook")

        # Outside: running, in Pending:Wait, and no traffic reaches it.
        held = wait_for(lambda: [i for i in self.members(outside)
                                 if i["LifecycleState"] == "Pending:Wait"],
                        what="the outside instance in Pending:Wait")[0]["InstanceId"]
        self.wait_state(held, "running")
        described = self.aws("autoscaling", "describe-auto-scaling-instances",
                             "--instance-ids", held)["AutoScalingInstances"][0]
        self.assertEqual(described["LifecycleState"], "Pending:Wait")
        tg = self.ok("DescribeTargetGroups", {})["TargetGroups"][0]["TargetGroupArn"]
        self.assertEqual(self.ok("DescribeTargetHealth",
                                 {"TargetGroupArn": tg})["TargetHealthDescriptions"], [])
        status = try_get(port, "/")
        self.assertNotEqual(status and status[0], 200, status)

        # A heartbeat, then CONTINUE, from outside with the real aws CLI.
        self.aws("autoscaling", "record-lifecycle-action-heartbeat", "--auto-scaling-group-name",
                 outside, "--lifecycle-hook-name", "ready", "--instance-id", held)
        self.aws("autoscaling", "complete-lifecycle-action", "--auto-scaling-group-name", outside,
                 "--lifecycle-hook-name", "ready", "--instance-id", held,
                 "--lifecycle-action-result", "CONTINUE")
        wait_for(lambda: [i for i in self.members(outside) if i["LifecycleState"] == "InService"],
                 what="the outside instance in service")
        wait_for(lambda: (try_get(port, "/") or (0, b""))[0] == 200,
                 what="traffic to reach it through the load balancer")
        self.assertEqual(try_get(port, "/")[1], held)

        self.tide("down", "--stack-name", "hooks")
