"""Stack files through the real binary: `tide up` makes an image, a launch template, a target
group and a load balancer with a listener, and reports the outputs; a second `tide up` changes
nothing; a bad stack file is one clear error and makes nothing; `tide down` removes it all.
CloudFormation's API as `aws cloudformation deploy` drives it (deployer.py's calls and checks),
judged by the waiters' own acceptors from botocore's waiters-2.json."""

import json
import os
import socket
import time

from harness import SHOP, TideTestCase, wait_for

APP = """import http.server, os
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
http.server.HTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8080"))),
                       H).serve_forever()
"""

STACK = """\
Parameters:
  Port:
    Type: Number
Resources:
  AppImage:
    Type: Tide::EC2::Image
    Properties:
      SourceDirectory: app
      RunCommand: python3 server.py
      Port: 8080
      HealthCheckPath: /health
  AppTemplate:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: !Ref AppImage
        InstanceType: t3.micro
  Web:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    Properties:
      Port: 8080
      HealthCheckPath: /health
      HealthCheckIntervalSeconds: 2
      HealthCheckTimeoutSeconds: 1
      TargetGroupAttributes:
        - {Key: deregistration_delay.timeout_seconds, Value: 1}
  LB:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: !Ref Port
      DefaultActions:
        - Type: forward
          TargetGroupArn: !Ref Web
Outputs:
  URL:
    Value: !Sub "http://${LB.DNSName}:${Port}"
  Template:
    Value: !Ref AppTemplate
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StacksTest(TideTestCase):
    def write_stack(self, name, text):
        os.makedirs(os.path.join(self.tmp, "app"), exist_ok=True)
        with open(os.path.join(self.tmp, "app", "server.py"), "w") as f:
            f.write(APP)
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def counts(self):
        return (len(self.ok("DescribeImages")["Images"]),
                len(self.ok("DescribeLaunchTemplates")["LaunchTemplates"]),
                len(self.ok("DescribeTargetGroups")["TargetGroups"]),
                len(self.ok("DescribeLoadBalancers")["LoadBalancers"]))

    def test_up_again_and_down(self):
        path = self.write_stack("web.yaml", STACK)
        port = free_port()
        # Run from elsewhere: the relative SourceDirectory means the stack file's directory.
        out = self.tide_json("up", path, "--parameter", f"Port={port}")
        stack = out["Stacks"][0]
        self.assertEqual(stack["StackName"], "web")
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        # !GetAtt LB.DNSName: a name under .localhost that curl sends to loopback.
        self.assertRegex(outputs["URL"],
                         rf"^http://[A-Za-z0-9-]+-\d{{10}}\.us-east-1\.elb\.localhost:{port}$")
        dns = self.ok("DescribeLoadBalancers")["LoadBalancers"][0]["DNSName"]
        self.assertEqual(outputs["URL"], f"http://{dns}:{port}")
        self.assertTrue(outputs["Template"].startswith("lt-"))
        self.assertEqual(stack["Parameters"], [{"ParameterKey": "Port",
                                                "ParameterValue": str(port)}])
        self.assertEqual(self.counts(), (1, 1, 1, 1))
        image = self.ok("DescribeImages")["Images"][0]
        self.assertEqual(image["State"], "available")
        self.assertEqual(image["Name"], "web-AppImage")
        lb = self.ok("DescribeLoadBalancers")["LoadBalancers"][0]
        listeners = self.ok("DescribeListeners",
                            {"LoadBalancerArn": lb["LoadBalancerArn"]})["Listeners"]
        self.assertEqual([l["Port"] for l in listeners], [port])
        resources = self.tide_json("stack", "resources", "web")["StackResources"]
        self.assertEqual(sorted(r["LogicalResourceId"] for r in resources),
                         ["AppImage", "AppTemplate", "LB", "Listener", "Web"])
        self.assertTrue(all(r["ResourceStatus"] == "CREATE_COMPLETE" for r in resources))

        # Again, unchanged: nothing happens and it is a success.
        again = self.tide("up", path, "--parameter", f"Port={port}")
        self.assertIn("no changes", again.stdout)
        self.assertEqual(self.counts(), (1, 1, 1, 1))
        listed = self.tide_json("stack", "ls")["Stacks"]
        self.assertEqual([s["StackStatus"] for s in listed], ["CREATE_COMPLETE"])

        down = self.tide("down", path)
        self.assertIn("DELETE_COMPLETE", down.stdout)
        self.assertEqual(self.counts(), (0, 0, 0, 0))
        self.assertEqual(self.tide_json("stack", "ls")["Stacks"], [])

    def test_bad_stack_files_make_nothing(self):
        bad_type = self.write_stack("bad.yaml", STACK.replace("      Port: 8080\n      Health",
                                                              "      Port: eighty\n      Health"))
        line = self.tide_fails("up", bad_type, "--parameter", "Port=1")
        self.assertIn("Resources.AppImage.Properties.Port: must be a number", line)
        bad_ref = self.write_stack("ref.yaml", STACK.replace("!Ref LB\n", "!Ref Balancer\n"))
        line = self.tide_fails("up", bad_ref, "--parameter", "Port=1")
        self.assertIn("Resources.Listener.Properties.LoadBalancerArn", line)
        self.assertIn("'Balancer'", line)
        missing = self.write_stack("missing.yaml", STACK)
        line = self.tide_fails("up", missing)
        self.assertIn("Parameters: [Port] must have values", line)
        self.assertEqual(self.counts(), (0, 0, 0, 0))
        self.assertEqual(self.tide_json("stack", "ls")["Stacks"], [])

    def test_failure_rolls_back_with_the_resource_named(self):
        # Load balancers have addresses of their own; two with the same BindAddress clash.
        port = free_port()
        self.tide("lb", "create", "--name", "other", "--bind-address", "127.0.0.1")
        self.tide("listener", "create", "--lb", "other", "--port", str(port),
                  "--fixed-response", "200:taken")
        path = self.write_stack("clash.yaml", STACK.replace(
            "    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n",
            "    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
            "    Properties: {BindAddress: 127.0.0.1}\n"))
        line = self.tide_fails("up", path, "--parameter", f"Port={port}")
        self.assertIn("ROLLBACK_COMPLETE", line)
        self.assertIn("Resource Listener: DuplicateListener", line)
        self.assertEqual(self.counts(), (0, 0, 0, 1))  # only the other load balancer
        # Fixed, `tide up` again replaces the rolled-back stack.
        out = self.tide_json("up", path, "--parameter", f"Port={free_port()}")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        self.tide("down", path)
        self.assertEqual(self.counts(), (0, 0, 0, 1))

    def test_failed_update_rolls_back_and_up_reports_it(self):
        path = self.write_stack("web.yaml", STACK)
        port = str(free_port())
        self.tide_json("up", path, "--parameter", f"Port={port}")
        with open(path, "w") as f:
            f.write(STACK.replace("HealthCheckIntervalSeconds: 2",
                                  "HealthCheckIntervalSeconds: 3\n      Matcher: {HttpCode: '999'}"))
        line = self.tide_fails("up", path, "--parameter", f"Port={free_port()}")
        self.assertIn("UPDATE_ROLLBACK_COMPLETE", line)
        self.assertIn("Web", line)
        stack = self.ok("DescribeStacks", {"StackName": "web"})["Stacks"][0]
        self.assertEqual(stack["Parameters"], [{"ParameterKey": "Port", "ParameterValue": port}])
        tg = self.ok("DescribeTargetGroups")["TargetGroups"][0]
        self.assertEqual(tg["HealthCheckIntervalSeconds"], 2)
        lb = self.ok("DescribeLoadBalancers")["LoadBalancers"][0]
        listeners = self.ok("DescribeListeners",
                            {"LoadBalancerArn": lb["LoadBalancerArn"]})["Listeners"]
        self.assertEqual([l["Port"] for l in listeners], [int(port)])
        self.tide("down", path)
        self.assertEqual(self.counts(), (0, 0, 0, 0))

    def test_a_bad_parameter_rolls_the_update_back(self):
        """`tide up -p MinSize=-3` on the running example stack (issue 14): the update fails at
        the group, rolls back to the last good state and `tide up` says so."""
        shop = os.path.join(SHOP, "stack.yaml")
        port = str(free_port())
        self.tide_json("up", shop, "--parameter", f"Port={port}")

        def view():
            group = self.ok("DescribeAutoScalingGroups")["AutoScalingGroups"][0]
            resources = self.tide_json("stack", "resources", "stack")["StackResources"]
            return ({k: group[k] for k in ("MinSize", "MaxSize", "DesiredCapacity",
                                            "AutoScalingGroupARN", "TargetGroupARNs")},
                    {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources})
        members = lambda: sorted(i["InstanceId"] for i in self.ok(
            "DescribeAutoScalingGroups")["AutoScalingGroups"][0]["Instances"])
        wait_for(lambda: len(members()) == 2, timeout=60, what="the two instances")
        before, instances = view(), members()
        stack = self.ok("DescribeStacks", {"StackName": "stack"})["Stacks"][0]

        p = self.tide("up", shop, "--parameter", f"Port={port}", "--parameter", "MinSize=-3",
                      check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        line = p.stderr.strip()
        self.assertTrue(line.startswith("tide: UPDATE_ROLLBACK_COMPLETE: stack stack: Resource "
                                        "ShopGroup: ValidationError: MinSize must be between 0"),
                        line)
        self.assertIn("UPDATE_FAILED", p.stdout)
        self.assertIn("ShopGroup", p.stdout)
        after = self.ok("DescribeStacks", {"StackName": "stack"})["Stacks"][0]
        self.assertEqual(after["StackStatus"], "UPDATE_ROLLBACK_COMPLETE")
        self.assertEqual(after["Parameters"], stack["Parameters"])
        self.assertEqual(after["Outputs"], stack["Outputs"])
        self.assertEqual(view(), before)
        self.assertEqual(members(), instances)
        # The stack updates again from there.
        out = self.tide_json("up", shop, "--parameter", f"Port={port}", "--parameter",
                             "MinSize=1")
        self.assertEqual(out["Stacks"][0]["StackStatus"], "UPDATE_COMPLETE")
        self.tide("down", shop)

    # -- `aws cloudformation deploy` and the waiters ------------------------------------------
    WAITERS = "/usr/lib/python3/dist-packages/botocore/data/cloudformation/2010-05-15/waiters-2.json"

    def waiter_state(self, name, action, params, timeout=60.0):
        """Polls `action` as botocore's waiter `name` does and returns the state of the first
        acceptor that matches (success or failure) with the last response."""
        try:
            from botocore.waiter import WaiterModel
        except ImportError:
            self.skipTest("botocore is not installed (apt-get install python3-botocore)")
        with open(self.WAITERS) as f:
            waiter = WaiterModel(json.load(f)).get_waiter(name)
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.api(action, params)
            response = body if status == 200 else {
                "Error": {"Code": body["__type"], "Message": body["message"]}}
            for acceptor in waiter.acceptors:
                if acceptor.matcher_func(response):
                    if acceptor.state != "retry":
                        return acceptor.state, response
                    break
            self.assertLess(time.monotonic(), deadline, f"{name}: still waiting: {response}")
            time.sleep(0.1)

    def test_deploy_flow_and_waiters(self):
        self.write_stack("unused.yaml", STACK)  # the app's files
        template = STACK.replace("SourceDirectory: app",
                                 "SourceDirectory: " + os.path.join(self.tmp, "app"))
        port = str(free_port())
        # deployer.has_stack: no stack yet, told by the message it looks for.
        status, body = self.api("DescribeStacks", {"StackName": "dep"})
        self.assertEqual(status, 400)
        self.assertIn("Stack with id dep does not exist", body["message"])

        made = self.ok("CreateChangeSet", {
            "ChangeSetName": "awscli-cloudformation-package-deploy-1", "StackName": "dep",
            "TemplateBody": template, "ChangeSetType": "CREATE",
            "Parameters": [{"ParameterKey": "Port", "ParameterValue": port}],
            "Capabilities": [], "Description": "Created by AWS CLI", "Tags": []})
        stack = self.ok("DescribeStacks", {"StackName": "dep"})["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "REVIEW_IN_PROGRESS")  # has_stack: still new
        state, cs = self.waiter_state("ChangeSetCreateComplete", "DescribeChangeSet",
                                      {"ChangeSetName": made["Id"], "StackName": "dep"})
        self.assertEqual(state, "success", cs)
        self.assertEqual(len(cs["Changes"]), 5)
        self.ok("ExecuteChangeSet", {"ChangeSetName": made["Id"], "StackName": "dep",
                                     "DisableRollback": False})
        state, described = self.waiter_state("StackCreateComplete", "DescribeStacks",
                                              {"StackName": "dep"})
        self.assertEqual(state, "success", described)
        outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0]["Outputs"]}
        dns = self.ok("DescribeLoadBalancers")["LoadBalancers"][0]["DNSName"]
        self.assertEqual(outputs["URL"], f"http://{dns}:{port}")

        # Deploying the same again: deployer reads the parameters the stack declares, then the
        # change set fails with the reason that makes deploy say there is nothing to change.
        summary = self.ok("GetTemplateSummary", {"StackName": "dep"})
        self.assertEqual([p["ParameterKey"] for p in summary["Parameters"]], ["Port"])
        same = self.ok("CreateChangeSet", {
            "ChangeSetName": "awscli-cloudformation-package-deploy-2", "StackName": "dep",
            "TemplateBody": template, "ChangeSetType": "UPDATE",
            "Parameters": [{"ParameterKey": "Port", "UsePreviousValue": True}],
            "Capabilities": [], "Description": "Created by AWS CLI", "Tags": []})
        state, cs = self.waiter_state("ChangeSetCreateComplete", "DescribeChangeSet",
                                      {"ChangeSetName": same["Id"], "StackName": "dep"})
        self.assertEqual(state, "failure")
        self.assertEqual(cs["Status"], "FAILED")
        self.assertIn("The submitted information didn't contain changes.", cs["StatusReason"])

        # An update through a change set, waited for as deploy does.
        changed = self.ok("CreateChangeSet", {
            "ChangeSetName": "awscli-cloudformation-package-deploy-3", "StackName": "dep",
            "TemplateBody": template.replace("HealthCheckIntervalSeconds: 2",
                                             "HealthCheckIntervalSeconds: 3"),
            "ChangeSetType": "UPDATE",
            "Parameters": [{"ParameterKey": "Port", "UsePreviousValue": True}]})
        state, cs = self.waiter_state("ChangeSetCreateComplete", "DescribeChangeSet",
                                      {"ChangeSetName": changed["Id"], "StackName": "dep"})
        self.assertEqual(state, "success", cs)
        self.assertEqual([c["ResourceChange"]["LogicalResourceId"] for c in cs["Changes"]],
                         ["Web"])
        self.ok("ExecuteChangeSet", {"ChangeSetName": changed["Id"], "StackName": "dep"})
        state, described = self.waiter_state("StackUpdateComplete", "DescribeStacks",
                                             {"StackName": "dep"})
        self.assertEqual(state, "success", described)

        # Delete: the waiter's success is the ValidationError of a name no longer there; the
        # stack id still describes it, with its events.
        stack_id = described["Stacks"][0]["StackId"]
        self.ok("DeleteStack", {"StackName": "dep"})
        state, response = self.waiter_state("StackDeleteComplete", "DescribeStacks",
                                            {"StackName": "dep"})
        self.assertEqual(state, "success", response)
        gone = self.ok("DescribeStacks", {"StackName": stack_id})["Stacks"][0]
        self.assertEqual(gone["StackStatus"], "DELETE_COMPLETE")
        events = self.ok("DescribeStackEvents", {"StackName": stack_id})["StackEvents"]
        stack_events = [e["ResourceStatus"] for e in reversed(events)
                        if e["ResourceType"] == "AWS::CloudFormation::Stack"]
        self.assertEqual(stack_events, [
            "REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "UPDATE_IN_PROGRESS",
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE", "DELETE_IN_PROGRESS",
            "DELETE_COMPLETE"])
        self.assertEqual(self.counts(), (0, 0, 0, 0))


if __name__ == "__main__":
    import unittest
    unittest.main()
