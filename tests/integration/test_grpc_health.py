"""gRPC health checks with the real binary: an instance runs a real gRPC server (Debian's
python3-grpcio) whose /AWS.ALB/healthcheck method answers OK; target groups of ProtocolVersion
GRPC check it over h2c and judge its grpc-status by their Matcher.GrpcCode: "0" turns healthy,
the default "12" does not ("Health checks failed with these codes: [0]"), and a method the
server does not have answers UNIMPLEMENTED (12). docs/load-balancer.md "gRPC and HTTP/2 target
groups"."""

import json
import os
import subprocess
import unittest

from harness import TideTestCase, free_port, wait_for

# The gRPC server: /AWS.ALB/healthcheck answers an empty message with status OK; any other
# method is UNIMPLEMENTED (grpc's own answer for a method no handler serves).
APP = r'''
import os, signal
from concurrent import futures
import grpc

def healthcheck(request, context):
    return b""

handler = grpc.method_handlers_generic_handler("AWS.ALB", {
    "healthcheck": grpc.unary_unary_rpc_method_handler(healthcheck)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2), handlers=[handler])
server.add_insecure_port(os.environ["HOST"] + ":" + os.environ["PORT"])
server.start()
signal.sigwait([signal.SIGTERM, signal.SIGINT])
server.stop(0)
'''

# Debian's python3 with Debian's python3-grpcio (the tests' own python may lack it).
DEBIAN_PYTHON = "/usr/bin/python3"
DEBIAN_AWS = "/usr/bin/aws"


def debian_grpc():
    return subprocess.run([DEBIAN_PYTHON, "-c", "import grpc"], capture_output=True).returncode == 0


@unittest.skipUnless(os.path.exists(DEBIAN_PYTHON) and debian_grpc(),
                     "Debian's python3-grpcio is not installed: scripts/deps.sh installs it "
                     "(apt-get install python3-grpcio)")
class GrpcHealthTest(TideTestCase):
    def setUp(self):
        super().setUp()
        image = self.make_image("rpc", self.app_dir({"app.py": APP}), f"{DEBIAN_PYTHON} app.py")
        self.instance_id = self.tide_json("instance", "run", "--image-id", image,
                                          "--instance-type", "t3.micro", "--wait")[
                                              "Instances"][0]["InstanceId"]

    def group(self, name, **extra):
        params = {"Name": name, "Protocol": "HTTP", "Port": 8080, "ProtocolVersion": "GRPC",
                  "HealthCheckIntervalSeconds": 0.5, "HealthCheckTimeoutSeconds": 0.4,
                  "HealthyThresholdCount": 2, "UnhealthyThresholdCount": 2, **extra}
        tg = self.ok("CreateTargetGroup", params)["TargetGroups"][0]
        self.ok("RegisterTargets", {"TargetGroupArn": tg["TargetGroupArn"],
                                    "Targets": [{"Id": self.instance_id}]})
        return tg

    def health(self, tg):
        (d,) = self.ok("DescribeTargetHealth", {"TargetGroupArn": tg["TargetGroupArn"]})[
            "TargetHealthDescriptions"]
        return d["TargetHealth"]

    def wait_health(self, tg, state):
        return wait_for(lambda: (lambda h: h if h["State"] == state else None)(self.health(tg)),
                        timeout=30, interval=0.1, what=f"{tg['TargetGroupName']} {state}")

    def aws(self, *args):
        """Debian's aws CLI against the server (elbv2 speaks the query protocol): (code, JSON or
        stderr)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        for line in self.tide("credentials", "--data-dir", self.data_dir).stdout.splitlines():
            if line.startswith("export "):
                k, _, v = line[len("export "):].partition("=")
                env[k] = v.strip("'\"")
        env.update(AWS_DEFAULT_REGION="us-east-1", AWS_PAGER="",
                   AWS_CONFIG_FILE=os.path.join(self.tmp, "no-aws-config"),
                   AWS_SHARED_CREDENTIALS_FILE=os.path.join(self.tmp, "no-aws-credentials"))
        p = subprocess.run([DEBIAN_AWS, "--endpoint-url", self.server.endpoint, "--output",
                            "json", *args], capture_output=True, text=True, env=env, timeout=120,
                           stdin=subprocess.DEVNULL)
        return p.returncode, json.loads(p.stdout) if p.returncode == 0 else p.stderr

    @unittest.skipUnless(os.path.exists(DEBIAN_AWS), "Debian's awscli is not installed")
    def test_the_aws_cli_and_tide_create_grpc_groups(self):
        code, out = self.aws("elbv2", "create-target-group", "--name", "cli-rpc", "--protocol",
                             "HTTP", "--port", "50051", "--protocol-version", "GRPC",
                             "--matcher", "GrpcCode=0-2")
        self.assertEqual(code, 0, out)
        (tg,) = out["TargetGroups"]
        self.assertEqual(tg["ProtocolVersion"], "GRPC")
        self.assertEqual(tg["Matcher"], {"GrpcCode": "0-2"})
        self.assertEqual(tg["HealthCheckPath"], "/AWS.ALB/healthcheck")
        code, err = self.aws("elbv2", "modify-target-group", "--target-group-arn",
                             tg["TargetGroupArn"], "--matcher", "GrpcCode=200")
        self.assertNotEqual(code, 0)
        self.assertIn("ValidationError", err)
        self.assertIn("must be within '0-99' inclusive", err)
        # tide's own command line: --matcher gives gRPC codes for GRPC groups.
        self.tide("tg", "create", "--name", "tide-rpc", "--port", "50051", "--protocol-version",
                  "GRPC", "--matcher", "0")
        listed = self.tide("tg", "ls").stdout
        self.assertRegex(listed, r"tide-rpc .*/AWS\.ALB/healthcheck .*grpc 0")

    def test_grpc_status_is_matched_against_grpc_code(self):
        ok = self.group("rpc-ok", Matcher={"GrpcCode": "0"})
        default = self.group("rpc-default")  # GrpcCode 12, /AWS.ALB/healthcheck
        self.assertEqual(default["Matcher"], {"GrpcCode": "12"})
        self.assertEqual(default["HealthCheckPath"], "/AWS.ALB/healthcheck")
        missing = self.group("rpc-missing", HealthCheckPath="/no.such.Service/Check",
                             Matcher={"GrpcCode": "0-5"})
        unimplemented = self.group("rpc-12", HealthCheckPath="/no.such.Service/Check")
        # Checks run for groups a listener forwards to.
        lb = self.ok("CreateLoadBalancer", {"Name": "front"})["LoadBalancers"][0]
        self.ok("CreateListener", {
            "LoadBalancerArn": lb["LoadBalancerArn"], "Protocol": "HTTP", "Port": free_port(),
            "DefaultActions": [{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": g["TargetGroupArn"], "Weight": 1}
                for g in (ok, default, missing, unimplemented)]}}]})

        self.wait_health(ok, "healthy")
        self.wait_health(unimplemented, "healthy")  # UNIMPLEMENTED (12) is what it asks for
        bad = self.wait_health(default, "unhealthy")
        self.assertEqual(bad["Reason"], "Target.ResponseCodeMismatch")
        self.assertEqual(bad["Description"], "Health checks failed with these codes: [0]")
        bad = self.wait_health(missing, "unhealthy")
        self.assertEqual(bad["Reason"], "Target.ResponseCodeMismatch")
        self.assertEqual(bad["Description"], "Health checks failed with these codes: [12]")

        # ModifyTargetGroup's GrpcCode takes effect: the default group turns healthy with "0".
        self.ok("ModifyTargetGroup", {"TargetGroupArn": default["TargetGroupArn"],
                                      "Matcher": {"GrpcCode": "0,12"}})
        self.wait_health(default, "healthy")
        described = self.ok("DescribeTargetGroups", {"Names": ["rpc-default"]})[
            "TargetGroups"][0]
        self.assertEqual(described["ProtocolVersion"], "GRPC")
        self.assertEqual(described["Matcher"], {"GrpcCode": "0,12"})


if __name__ == "__main__":
    unittest.main()
