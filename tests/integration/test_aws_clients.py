"""Unmodified AWS clients drive tide: the aws CLI and boto3 from Debian's packages (installed by
scripts/deps.sh) and, where present, newer ones (the first `aws` and `python3` with boto3 on
PATH that are not Debian's). Only the endpoint changes; everything else is what a user of AWS
would type.
"""

import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import unittest

from harness import SHOP, TideTestCase, http_get, wait_for

DEBIAN_AWS = "/usr/bin/aws"
DEBIAN_PYTHON = "/usr/bin/python3"


def newer_aws():
    """An aws CLI other than Debian's on PATH, or None."""
    found = shutil.which("aws")
    if found and os.path.realpath(found) != os.path.realpath(DEBIAN_AWS):
        return found
    return None


def has_boto3(python):
    return subprocess.run([python, "-c", "import boto3"], capture_output=True).returncode == 0


def try_http_get(host, port, path):
    """The body of GET path, or None while nothing answers there yet."""
    try:
        return http_get(host, port, path, timeout=1.0)
    except OSError:
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AwsClientTestCase(TideTestCase):
    def setUp(self):
        super().setUp()
        self.env = self.aws_env()

    def aws_env(self):
        env = dict(os.environ)
        for k in list(env):
            if k.startswith("AWS_"):
                del env[k]
        p = self.tide("credentials", "--data-dir", self.data_dir, check=False)
        if p.returncode == 0:
            for line in p.stdout.splitlines():
                if line.startswith("export "):
                    k, _, v = line[len("export "):].partition("=")
                    env[k] = v.strip("'\"")
        else:
            env.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
        env["AWS_DEFAULT_REGION"] = "us-east-1"
        env["AWS_ENDPOINT_URL"] = self.server.endpoint
        env["AWS_PAGER"] = ""
        env["AWS_CONFIG_FILE"] = os.path.join(self.tmp, "no-aws-config")
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(self.tmp, "no-aws-credentials")
        return env

    def aws(self, *args, cli=DEBIAN_AWS, check=True):
        p = subprocess.run([cli, "--endpoint-url", self.server.endpoint, "--output", "json",
                            *args], capture_output=True, text=True, env=self.env, timeout=120,
                           stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            self.fail(f"aws {' '.join(args)} exited {p.returncode}: {p.stderr}")
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def aws_fails(self, *args, cli=DEBIAN_AWS):
        p = subprocess.run([cli, "--endpoint-url", self.server.endpoint, *args],
                           capture_output=True, text=True, env=self.env, timeout=120,
                           stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        return p.stderr


@unittest.skipUnless(os.path.exists(DEBIAN_AWS), "Debian's awscli is not installed: "
                     "scripts/deps.sh installs it (apt-get install awscli)")
class AwsCliTest(AwsClientTestCase):
    def build_example_stack(self, cli=DEBIAN_AWS):
        """The shop of examples/shop/stack.yaml, made with aws CLI calls alone."""
        aws = lambda *a: self.aws(*a, cli=cli)
        image = aws("ec2", "register-image", "--name", "shop-image", "--image-location", SHOP,
                    "--description", "the shop")["ImageId"]
        wait_for(lambda: aws("ec2", "describe-images", "--image-ids", image)["Images"][0][
            "State"] == "available", timeout=60, what="the image to be available")
        aws("ec2", "create-launch-template", "--launch-template-name", "shop",
            "--launch-template-data", json.dumps({"ImageId": image, "InstanceType": "t3.micro"}))
        tg = aws("elbv2", "create-target-group", "--name", "shop", "--protocol", "HTTP",
                 "--port", "8080", "--health-check-path", "/health",
                 "--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2",
                 "--healthy-threshold-count", "2")["TargetGroups"][0]["TargetGroupArn"]
        aws("elbv2", "modify-target-group-attributes", "--target-group-arn", tg, "--attributes",
            "Key=deregistration_delay.timeout_seconds,Value=0")
        lb = aws("elbv2", "create-load-balancer", "--name", "shop")["LoadBalancers"][0]
        port = free_port()
        aws("elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"],
            "--protocol", "HTTP", "--port", str(port),
            "--default-actions", f"Type=forward,TargetGroupArn={tg}")
        aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "shop",
            "--launch-template", "LaunchTemplateName=shop,Version=$Latest",
            "--min-size", "2", "--max-size", "4", "--desired-capacity", "2",
            "--target-group-arns", tg, "--health-check-type", "ELB",
            "--health-check-grace-period", "30")
        up = aws("autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "shop",
                 "--policy-name", "cpu-high", "--policy-type", "StepScaling",
                 "--adjustment-type", "ChangeInCapacity",
                 "--step-adjustments", "MetricIntervalLowerBound=0,ScalingAdjustment=1")
        down = aws("autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "shop",
                   "--policy-name", "cpu-low", "--policy-type", "StepScaling",
                   "--adjustment-type", "ChangeInCapacity",
                   "--step-adjustments", "MetricIntervalUpperBound=0,ScalingAdjustment=-1")
        for name, op, threshold, policy in (
                ("shop-cpu-high", "GreaterThanThreshold", "70", up["PolicyARN"]),
                ("shop-cpu-low", "LessThanThreshold", "20", down["PolicyARN"])):
            aws("cloudwatch", "put-metric-alarm", "--alarm-name", name,
                "--namespace", "AWS/EC2", "--metric-name", "CPUUtilization",
                "--dimensions", "Name=AutoScalingGroupName,Value=shop",
                "--statistic", "Average", "--period", "10", "--evaluation-periods", "2",
                "--threshold", threshold, "--comparison-operator", op,
                "--alarm-actions", policy)
        return tg, port

    def test_example_stack_by_aws_cli_alone_serves_traffic(self):
        tg, port = self.build_example_stack()
        # The CLI's own waiter reads DescribeTargetHealth until every target is healthy.
        wait_for(lambda: len(self.aws("elbv2", "describe-target-health", "--target-group-arn",
                                      tg)["TargetHealthDescriptions"]) == 2,
                 timeout=60, what="two registered targets")
        self.aws("elbv2", "wait", "target-in-service", "--target-group-arn", tg)
        seen = {http_get("127.0.0.1", port, "/whoami").strip() for _ in range(20)}
        self.assertEqual(len(seen), 2, seen)  # both instances answer through the listener
        groups = self.aws("autoscaling", "describe-auto-scaling-groups",
                          "--auto-scaling-group-names", "shop")["AutoScalingGroups"]
        self.assertEqual(len(groups[0]["Instances"]), 2)
        self.assertEqual({i["LifecycleState"] for i in groups[0]["Instances"]}, {"InService"})
        policies = self.aws("autoscaling", "describe-policies", "--auto-scaling-group-name",
                            "shop")["ScalingPolicies"]
        self.assertEqual(sorted(p["PolicyName"] for p in policies), ["cpu-high", "cpu-low"])
        alarms = self.aws("cloudwatch", "describe-alarms")["MetricAlarms"]
        self.assertEqual(sorted(a["AlarmName"] for a in alarms),
                         ["shop-cpu-high", "shop-cpu-low"])
        # The step policy the high alarm drives, run as its alarm would run it: the group grows.
        self.aws("autoscaling", "execute-policy", "--auto-scaling-group-name", "shop",
                 "--policy-name", "cpu-high", "--metric-value", "85", "--breach-threshold", "70")
        self.assertEqual(self.aws("autoscaling", "describe-auto-scaling-groups",
                                  "--auto-scaling-group-names", "shop")["AutoScalingGroups"][0][
            "DesiredCapacity"], 3)
        self.aws("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", "shop",
                 "--force-delete")

    def test_ssm_parameter_launches_the_base_image_which_serves(self):
        name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
        param = self.aws("ssm", "get-parameter", "--name", name)["Parameter"]
        self.assertEqual((param["Name"], param["Type"], param["DataType"], param["Version"]),
                         (name, "String", "aws:ec2:image", 1))
        image_id = param["Value"]
        self.assertRegex(image_id, r"^ami-[0-9a-f]{17}$")
        err = self.aws_fails("ssm", "get-parameter", "--name", "/aws/service/none")
        self.assertIn("(ParameterNotFound)", err)
        both = self.aws("ssm", "get-parameters", "--names", name, "/aws/service/none")
        self.assertEqual([p["Value"] for p in both["Parameters"]], [image_id])
        self.assertEqual(both["InvalidParameters"], ["/aws/service/none"])
        # The CLI follows NextToken through pages of 2.
        listed = self.aws("ssm", "get-parameters-by-path", "--path",
                          "/aws/service/ami-amazon-linux-latest", "--page-size", "2")
        self.assertIn(name, [p["Name"] for p in listed["Parameters"]])
        self.assertGreater(len(listed["Parameters"]), 4)

        amazon = self.aws("ec2", "describe-images", "--owners", "amazon")["Images"]
        self.assertEqual([(i["ImageId"], i["ImageOwnerAlias"]) for i in amazon],
                         [(image_id, "amazon")])
        wait_for(lambda: self.aws("ec2", "describe-images", "--image-ids", image_id)[
            "Images"][0]["State"] == "available", timeout=60, what="the base image")

        run = self.aws("ec2", "run-instances", "--image-id", "resolve:ssm:" + name,
                       "--instance-type", "t3.micro", "--count", "1")
        instance_id = run["Instances"][0]["InstanceId"]
        self.assertEqual(run["Instances"][0]["ImageId"], image_id)
        self.aws("ec2", "wait", "instance-running", "--instance-ids", instance_id)
        instance = self.aws("ec2", "describe-instances", "--instance-ids", instance_id)[
            "Reservations"][0]["Instances"][0]
        self.assertEqual(instance["ImageId"], image_id)
        address = instance["PrivateIpAddress"]
        # Running is the process started; the page comes once it listens on port 80.
        page = wait_for(lambda: try_http_get(address, 80, "/"), timeout=30,
                        what="the instance's page")
        self.assertIn(instance_id, page)
        self.assertEqual(http_get(address, 80, "/health"), "ok\n")

        # A launch template keeps the reference and resolves it at launch.
        self.aws("ec2", "create-launch-template", "--launch-template-name", "base",
                 "--launch-template-data", json.dumps({"ImageId": "resolve:ssm:" + name,
                                                       "InstanceType": "t3.micro"}))
        versions = self.aws("ec2", "describe-launch-template-versions",
                            "--launch-template-name", "base")["LaunchTemplateVersions"]
        self.assertEqual(versions[0]["LaunchTemplateData"]["ImageId"], "resolve:ssm:" + name)
        err = self.aws_fails("ec2", "run-instances", "--image-id", "resolve:ssm:/aws/service/none",
                             "--instance-type", "t3.micro", "--count", "1")
        self.assertIn("(InvalidParameterValue)", err)
        self.assertEqual(len(self.aws("ec2", "describe-instances")["Reservations"]), 1)

    def test_errors_come_back_as_the_cli_prints_them(self):
        err = self.aws_fails("ec2", "describe-instances", "--instance-ids", "i-0123456789abcdef0")
        self.assertIn("(InvalidInstanceID.NotFound)", err)
        err = self.aws_fails("autoscaling", "set-desired-capacity", "--auto-scaling-group-name",
                             "none", "--desired-capacity", "1")
        self.assertIn("(ValidationError)", err)
        err = self.aws_fails("elbv2", "describe-load-balancers", "--names", "none")
        self.assertIn("(LoadBalancerNotFound)", err)

    def test_pagination_over_three_pages(self):
        for i in range(7):
            self.aws("cloudwatch", "put-metric-alarm", "--alarm-name", f"a{i}",
                     "--namespace", "AWS/EC2", "--metric-name", "CPUUtilization",
                     "--statistic", "Average", "--period", "60", "--evaluation-periods", "1",
                     "--threshold", "50", "--comparison-operator", "GreaterThanThreshold")
        # --page-size 3: the CLI follows NextToken through pages of 3, 3 and 1.
        names = [a["AlarmName"] for a in self.aws("cloudwatch", "describe-alarms",
                                                   "--page-size", "3")["MetricAlarms"]]
        self.assertEqual(names, [f"a{i}" for i in range(7)])
        first = self.aws("cloudwatch", "describe-alarms", "--max-items", "3")
        self.assertEqual(len(first["MetricAlarms"]), 3)
        self.assertIn("NextToken", first)
        rest = self.aws("cloudwatch", "describe-alarms", "--starting-token", first["NextToken"])
        self.assertEqual([a["AlarmName"] for a in rest["MetricAlarms"]],
                         [f"a{i}" for i in range(3, 7)])

    def test_cloudwatch_over_query_and_json(self):
        self.aws("cloudwatch", "put-metric-data", "--namespace", "App", "--metric-name", "Hits",
                 "--value", "3")
        clis = [DEBIAN_AWS] + ([newer_aws()] if newer_aws() else [])
        for cli in clis:  # Debian's speaks query; newer ones JSON 1.0
            self.aws("cloudwatch", "put-metric-data", "--namespace", "App", "--metric-name",
                     "Hits", "--value", "4", cli=cli)
            metrics = self.aws("cloudwatch", "list-metrics", "--namespace", "App",
                               cli=cli)["Metrics"]
            self.assertEqual([m["MetricName"] for m in metrics], ["Hits"], cli)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        stats = self.aws("cloudwatch", "get-metric-statistics", "--namespace", "App",
                         "--metric-name", "Hits", "--start-time",
                         (now - datetime.timedelta(hours=1)).isoformat(),
                         "--end-time", (now + datetime.timedelta(hours=1)).isoformat(),
                         "--period", "7200",
                         "--statistics", "Sum", "SampleCount")
        self.assertEqual(stats["Datapoints"][0]["SampleCount"], float(len(clis) + 1))


@unittest.skipUnless(has_boto3(DEBIAN_PYTHON), "Debian's python3-boto3 is not installed: "
                     "scripts/deps.sh installs it")
class Boto3Test(AwsClientTestCase):
    SCRIPT = textwrap.dedent("""
        import json, os, sys, time, urllib.request
        import boto3
        session = boto3.session.Session()
        client = lambda name: session.client(name, endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        ec2, elbv2, asg, cw = (client(n) for n in ("ec2", "elbv2", "autoscaling", "cloudwatch"))
        shop, port = sys.argv[1], int(sys.argv[2])

        image = ec2.register_image(Name="shop-image", ImageLocation=shop)["ImageId"]
        ec2.get_waiter("image_available").wait(ImageIds=[image],
                                               WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        ec2.create_launch_template(LaunchTemplateName="shop",
                                   LaunchTemplateData={"ImageId": image,
                                                       "InstanceType": "t3.micro"})
        tg = elbv2.create_target_group(Name="shop", Protocol="HTTP", Port=8080,
                                       HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                                       HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
                                       )["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(TargetGroupArn=tg, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "0"}])
        lb = elbv2.create_load_balancer(Name="shop")["LoadBalancers"][0]["LoadBalancerArn"]
        elbv2.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
        asg.create_auto_scaling_group(AutoScalingGroupName="shop", MinSize=2, MaxSize=4,
                                      LaunchTemplate={"LaunchTemplateName": "shop",
                                                      "Version": "$Latest"},
                                      TargetGroupARNs=[tg])
        policy = asg.put_scaling_policy(AutoScalingGroupName="shop", PolicyName="cpu-high",
                                        PolicyType="StepScaling",
                                        AdjustmentType="ChangeInCapacity",
                                        StepAdjustments=[{"MetricIntervalLowerBound": 0,
                                                          "ScalingAdjustment": 1}])
        cw.put_metric_alarm(AlarmName="shop-cpu-high", Namespace="AWS/EC2",
                            MetricName="CPUUtilization", Statistic="Average", Period=10,
                            EvaluationPeriods=2, Threshold=70,
                            ComparisonOperator="GreaterThanThreshold",
                            Dimensions=[{"Name": "AutoScalingGroupName", "Value": "shop"}],
                            AlarmActions=[policy["PolicyARN"]])
        deadline = time.time() + 60
        while True:
            health = elbv2.describe_target_health(TargetGroupArn=tg)["TargetHealthDescriptions"]
            if len(health) == 2 and all(h["TargetHealth"]["State"] == "healthy" for h in health):
                break
            if time.time() > deadline:
                sys.exit(f"targets not healthy: {health}")
            time.sleep(0.5)
        answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).status
        reservations = ec2.describe_instances(Filters=[{"Name": "instance-state-name",
                                                        "Values": ["running"]}])["Reservations"]
        print(json.dumps({"status": answer,
                          "running": sum(len(r["Instances"]) for r in reservations),
                          "launched": str(reservations[0]["Instances"][0]["LaunchTime"].tzinfo)}))
        asg.delete_auto_scaling_group(AutoScalingGroupName="shop", ForceDelete=True)
    """)

    def run_script(self, python):
        p = subprocess.run([python, "-c", self.SCRIPT, SHOP, str(free_port())],
                           capture_output=True, text=True, env=self.env, timeout=240)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout.strip().splitlines()[-1])

    def test_example_stack_by_boto3(self):
        out = self.run_script(DEBIAN_PYTHON)
        self.assertEqual(out["status"], 200)
        self.assertEqual(out["running"], 2)
        self.assertNotEqual(out["launched"], "None")  # a timestamp botocore parsed


if __name__ == "__main__":
    unittest.main()
