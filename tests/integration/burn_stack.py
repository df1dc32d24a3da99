"""The app and stack the scaling tests share: instances that burn a core while a file exists and
answer / with their instance id, behind a load balancer, in an Auto Scaling group of 1 to 3
whose policies each test adds."""

import os
import shutil
import tempfile
import textwrap

from harness import TideTestCase, free_port, get, wait_for

BURN_APP = textwrap.dedent("""\
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

STACK_BASE = textwrap.dedent("""\
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
    """)


def burn_stack(group_properties="", resources=""):
    """The stack: STACK_BASE, the group's extra properties (YAML lines at the group's property
    indentation, 6 spaces) and more resources (at 2 spaces), with the group's name as output."""
    return (STACK_BASE + textwrap.indent(textwrap.dedent(group_properties), " " * 6) +
            textwrap.indent(textwrap.dedent(resources), " " * 2) +
            "Outputs:\n  GroupName: {Value: !Ref Group}\n")


class BurnStackTestCase(TideTestCase):
    def group(self):
        return self.tide_json("asg", "ls")["AutoScalingGroups"][0]

    def in_service(self):
        return [i for i in self.group()["Instances"] if i["LifecycleState"] == "InService"]

    def up(self, stack_name, stack_text, instances=1):
        """Brings the stack up with `instances` in service, serving through its load balancer;
        returns (port, burn file)."""
        app = os.path.join(self.tmp, "stack", "app")
        os.makedirs(app)
        with open(os.path.join(app, "app.py"), "w") as f:
            f.write(BURN_APP)
        stack = os.path.join(self.tmp, "stack", stack_name + ".yaml")
        with open(stack, "w") as f:
            f.write(stack_text)
        # Outside /tmp (private to each instance) in a folder instances may pass (self.tmp is
        # 0700 and theirs is not the test's uid): /var/tmp, which they see read-only.
        burn_dir = tempfile.mkdtemp(prefix="tide-burn-", dir="/var/tmp" if os.path.isdir(
            "/var/tmp") else self.tmp)
        os.chmod(burn_dir, 0o755)
        self.addCleanup(shutil.rmtree, burn_dir, ignore_errors=True)
        burn = os.path.join(burn_dir, "burn")
        port = free_port()
        out = self.tide_json("up", stack, "--stack-name", stack_name, "-p", f"Port={port}",
                             "-p", f"BurnFile={burn}")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        wait_for(lambda: len(self.in_service()) == instances, timeout=60,
                 what=f"{instances} instance(s) in service")
        wait_for(lambda: get(port, "/")[0] == 200, what="the app through the load balancer")
        return port, burn
