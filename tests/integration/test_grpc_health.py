"""gRPC health checks with the real binary: an instance runs a real gRPC server (Debian's
python3-grpcio) whose /AWS.ALB/healthcheck method answers OK; target groups of ProtocolVersion
GRPC check it over h2c and judge its grpc-status by their Matcher.GrpcCode: "0" turns healthy,
the default "12" does not ("Health checks failed with these codes: [0]"), and a method the
server does not have answers UNIMPLEMENTED (12). docs/load-balancer.md "gRPC and HTTP/2 target
groups"."""

import os
import unittest

from grpc_apps import DEBIAN_AWS, DEBIAN_PYTHON, NO_GRPC, SERVER, AwsCli, debian_grpc
from harness import TideTestCase, free_port, wait_for


@unittest.skipUnless(debian_grpc(), NO_GRPC)
class GrpcHealthTest(AwsCli, TideTestCase):
    def setUp(self):
        super().setUp()
        image = self.make_image("rpc", self.app_dir({"app.py": SERVER}), f"{DEBIAN_PYTHON} app.py")
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
