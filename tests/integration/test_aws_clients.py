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
import urllib.error
import urllib.request
from unittest import mock

from harness import TIDE, SHOP, TideTestCase, http_get, signed_headers, wait_for

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
        # The low alarm, idle instances being below 20 %, may already have moved the group
        # back; the activity the policy recorded is what proves it ran.
        causes = [a["Cause"] for a in self.aws("autoscaling", "describe-scaling-activities",
                                               "--auto-scaling-group-name", "shop")["Activities"]]
        self.assertTrue(any("executed policy cpu-high changing the desired capacity from 2 to 3"
                            in c for c in causes), causes)
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

    def test_target_tracking_policy_over_the_query_protocol(self):
        """put-scaling-policy with a TargetTrackingConfiguration (metric math), as the CLI
        encodes it; describe-policies and describe-alarms decode tide's answers."""
        image = self.aws("ec2", "register-image", "--name", "tt-image", "--image-location",
                         SHOP)["ImageId"]
        self.aws("ec2", "create-launch-template", "--launch-template-name", "tt-template",
                 "--launch-template-data", json.dumps({"ImageId": image}))
        self.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "tt",
                 "--launch-template", "LaunchTemplateName=tt-template", "--min-size", "0",
                 "--max-size", "0", "--default-instance-warmup", "30")
        tracking = {"TargetValue": 100, "CustomizedMetricSpecification": {"Metrics": [
            {"Id": "m1", "ReturnData": False, "MetricStat": {
                "Metric": {"Namespace": "App", "MetricName": "Requests",
                           "Dimensions": [{"Name": "Group", "Value": "tt"}]},
                "Stat": "Sum"}},
            {"Id": "e1", "Expression": "m1 / 2", "ReturnData": True}]}}
        put = self.aws("autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "tt",
                       "--policy-name", "requests", "--policy-type", "TargetTrackingScaling",
                       "--target-tracking-configuration", json.dumps(tracking))
        names = sorted(a["AlarmName"] for a in put["Alarms"])
        self.assertEqual(len(names), 2)
        self.assertTrue(names[0].startswith("TargetTracking-tt-AlarmHigh-"), names)
        policy = self.aws("autoscaling", "describe-policies", "--auto-scaling-group-name",
                          "tt")["ScalingPolicies"][0]
        self.assertEqual(policy["TargetTrackingConfiguration"]["TargetValue"], 100.0)
        self.assertEqual(policy["TargetTrackingConfiguration"]["CustomizedMetricSpecification"][
            "Metrics"][1]["Expression"], "m1 / 2")
        alarms = self.aws("cloudwatch", "describe-alarms", "--alarm-names", *names)["MetricAlarms"]
        self.assertEqual(sorted(a["EvaluationPeriods"] for a in alarms), [3, 15])
        self.assertEqual(alarms[0]["Metrics"][1]["Expression"], "m1 / 2")
        self.assertEqual(alarms[0]["AlarmActions"], [policy["PolicyARN"]])
        group = self.aws("autoscaling", "describe-auto-scaling-groups",
                         "--auto-scaling-group-names", "tt")["AutoScalingGroups"][0]
        self.assertEqual(group["DefaultInstanceWarmup"], 30)
        err = self.aws_fails("autoscaling", "execute-policy", "--auto-scaling-group-name", "tt",
                             "--policy-name", "requests")
        self.assertIn("(ValidationError)", err)
        self.aws("autoscaling", "delete-policy", "--auto-scaling-group-name", "tt",
                 "--policy-name", "requests")
        self.assertEqual(self.aws("cloudwatch", "describe-alarms", "--alarm-names",
                                  *names)["MetricAlarms"], [])

    def test_scheduled_action_changes_the_desired_capacity(self):
        """put-scheduled-update-group-action a few seconds ahead: the group's desired capacity
        changes when it is due, with Auto Scaling's cause, and the one-time action is gone."""
        image = self.aws("ec2", "register-image", "--name", "sched-image", "--image-location",
                         SHOP)["ImageId"]
        self.aws("ec2", "create-launch-template", "--launch-template-name", "sched-template",
                 "--launch-template-data", json.dumps({"ImageId": image}))
        self.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "sched",
                 "--launch-template", "LaunchTemplateName=sched-template", "--min-size", "0",
                 "--max-size", "0")
        self.aws("autoscaling", "put-scheduled-update-group-action", "--auto-scaling-group-name",
                 "sched", "--scheduled-action-name", "weekdays", "--recurrence",
                 "0 9 * * MON-FRI", "--time-zone", "America/New_York", "--min-size", "0")
        err = self.aws_fails("autoscaling", "put-scheduled-update-group-action",
                             "--auto-scaling-group-name", "sched", "--scheduled-action-name", "x",
                             "--recurrence", "0 25 * * *", "--desired-capacity", "1")
        self.assertIn("(ValidationError)", err)
        later = (datetime.datetime.now(datetime.timezone.utc) +
                 datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.aws("autoscaling", "put-scheduled-update-group-action", "--auto-scaling-group-name",
                 "sched", "--scheduled-action-name", "later", "--start-time", later,
                 "--max-size", "3", "--desired-capacity", "2")
        # --page-size 1: the CLI follows NextToken through both actions.
        listed = self.aws("autoscaling", "describe-scheduled-actions", "--auto-scaling-group-name",
                          "sched", "--page-size", "1")["ScheduledUpdateGroupActions"]
        self.assertEqual(sorted(a["ScheduledActionName"] for a in listed), ["later", "weekdays"])
        pending = [a for a in listed if a["ScheduledActionName"] == "later"][0]
        self.assertEqual(pending["DesiredCapacity"], 2)
        self.assertTrue(pending["StartTime"].startswith(later[:-1]), pending)
        group = lambda: self.aws("autoscaling", "describe-auto-scaling-groups",
                                 "--auto-scaling-group-names", "sched")["AutoScalingGroups"][0]
        self.assertEqual(group()["DesiredCapacity"], 0)
        # One due in ten seconds (time for the CLI to start on a loaded machine: a start time
        # already past is refused): it runs then, and is gone after.
        start = (datetime.datetime.now(datetime.timezone.utc) +
                 datetime.timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.aws("autoscaling", "put-scheduled-update-group-action", "--auto-scaling-group-name",
                 "sched", "--scheduled-action-name", "soon", "--start-time", start,
                 "--max-size", "2", "--desired-capacity", "1")
        wait_for(lambda: group()["DesiredCapacity"] == 1, timeout=45,
                 what="the scheduled action to set the desired capacity")
        self.assertEqual(group()["MaxSize"], 2)
        causes = [a["Cause"] for a in self.aws("autoscaling", "describe-scaling-activities",
                                               "--auto-scaling-group-name", "sched")["Activities"]]
        self.assertIn(f"At {start} a scheduled action update of AutoScalingGroup constraints to "
                      "min: 0, max: 2, desired: 1 changing the desired capacity from 0 to 1.",
                      causes)
        left = self.aws("autoscaling", "describe-scheduled-actions", "--auto-scaling-group-name",
                        "sched")["ScheduledUpdateGroupActions"]
        self.assertEqual(sorted(a["ScheduledActionName"] for a in left), ["later", "weekdays"])
        self.aws("autoscaling", "delete-scheduled-action", "--auto-scaling-group-name", "sched",
                 "--scheduled-action-name", "weekdays")
        self.aws("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", "sched",
                 "--force-delete")

    def test_predictive_scaling_forecast(self):
        """put-scaling-policy PredictiveScaling and get-predictive-scaling-forecast through the
        CLI: no history, no values; an app's own load metric put a minute ago, an hourly
        forecast at its level and the capacity it asks for."""
        image = self.aws("ec2", "register-image", "--name", "ps-image", "--image-location",
                         SHOP)["ImageId"]
        self.aws("ec2", "create-launch-template", "--launch-template-name", "ps-template",
                 "--launch-template-data", json.dumps({"ImageId": image}))
        self.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "ps",
                 "--launch-template", "LaunchTemplateName=ps-template", "--min-size", "0",
                 "--max-size", "0")
        query = {"Id": "load", "MetricStat": {
            "Metric": {"Namespace": "App", "MetricName": "Orders",
                       "Dimensions": [{"Name": "Group", "Value": "ps"}]},
            "Stat": "Sum"}}
        config = {"MetricSpecifications": [{
            "TargetValue": 100,
            "CustomizedScalingMetricSpecification": {"MetricDataQueries": [query]},
            "CustomizedLoadMetricSpecification": {"MetricDataQueries": [query]}}],
            "Mode": "ForecastOnly", "SchedulingBufferTime": 120}
        self.aws("autoscaling", "put-scaling-policy", "--auto-scaling-group-name", "ps",
                 "--policy-name", "orders", "--policy-type", "PredictiveScaling",
                 "--predictive-scaling-configuration", json.dumps(config))
        policy = self.aws("autoscaling", "describe-policies", "--auto-scaling-group-name",
                          "ps")["ScalingPolicies"][0]
        self.assertEqual(policy["PolicyType"], "PredictiveScaling")
        self.assertEqual(policy["PredictiveScalingConfiguration"]["SchedulingBufferTime"], 120)
        self.assertEqual(policy["PredictiveScalingConfiguration"]["MaxCapacityBreachBehavior"],
                         "HonorMaxCapacity")
        now = datetime.datetime.now(datetime.timezone.utc)
        hour = now.replace(minute=0, second=0, microsecond=0)
        window = ["--start-time", hour.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end-time",
                  (hour + datetime.timedelta(hours=48)).strftime("%Y-%m-%dT%H:%M:%SZ")]
        forecast = lambda: self.aws("autoscaling", "get-predictive-scaling-forecast",
                                    "--auto-scaling-group-name", "ps", "--policy-name",
                                    "orders", *window)
        empty = forecast()
        self.assertEqual(empty["LoadForecast"][0]["Values"], [])
        self.assertEqual(empty["CapacityForecast"]["Values"], [])
        self.assertIn("UpdateTime", empty)
        # 250 orders in a minute: with 100 per instance, 3 instances (MaxSize 0 keeps it at 0:
        # the capacity forecast is within the group's bounds).
        at = (now - datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.aws("cloudwatch", "put-metric-data", "--namespace", "App", "--metric-data",
                 json.dumps([{"MetricName": "Orders", "Value": 250, "Timestamp": at,
                              "Dimensions": [{"Name": "Group", "Value": "ps"}]}]))
        got = forecast()
        load = got["LoadForecast"][0]
        self.assertEqual(len(load["Values"]), 48, load)
        self.assertEqual(load["Values"][0], 250.0)
        self.assertEqual(load["MetricSpecification"]["TargetValue"], 100.0)
        self.assertEqual(got["CapacityForecast"]["Values"][0], 0.0)
        self.aws("autoscaling", "update-auto-scaling-group", "--auto-scaling-group-name", "ps",
                 "--max-size", "5")
        self.assertEqual(forecast()["CapacityForecast"]["Values"][0], 3.0)
        err = self.aws_fails("autoscaling", "get-predictive-scaling-forecast",
                             "--auto-scaling-group-name", "ps", "--policy-name", "orders",
                             "--start-time", window[1], "--end-time", window[1])
        self.assertIn("(ValidationError)", err)
        self.aws("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", "ps",
                 "--force-delete")

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

    def test_tags_alarm_history_and_metric_math(self):
        """One call of each family issue 10 added: Auto Scaling and ELBv2 tags, CloudWatch
        GetMetricData with an expression, DescribeAlarmHistory after SetAlarmState."""
        image = self.aws("ec2", "register-image", "--name", "tags-image", "--image-location",
                         SHOP)["ImageId"]
        wait_for(lambda: self.aws("ec2", "describe-images", "--image-ids", image)["Images"][0][
            "State"] == "available", timeout=60, what="the image to be available")
        self.aws("ec2", "create-launch-template", "--launch-template-name", "tags",
                 "--launch-template-data", json.dumps({"ImageId": image}))
        self.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "web",
                 "--launch-template", "LaunchTemplateName=tags", "--min-size", "0",
                 "--max-size", "0")
        self.aws("autoscaling", "create-or-update-tags", "--tags",
                 "ResourceId=web,ResourceType=auto-scaling-group,Key=team,Value=shop,"
                 "PropagateAtLaunch=true")
        tags = self.aws("autoscaling", "describe-tags", "--filters",
                        "Name=auto-scaling-group,Values=web")["Tags"]
        self.assertEqual(tags, [{"ResourceId": "web", "ResourceType": "auto-scaling-group",
                                 "Key": "team", "Value": "shop", "PropagateAtLaunch": True}])

        tg = self.aws("elbv2", "create-target-group", "--name", "tags", "--protocol", "HTTP",
                      "--port", "8080")["TargetGroups"][0]["TargetGroupArn"]
        self.aws("elbv2", "add-tags", "--resource-arns", tg, "--tags", "Key=env,Value=test")
        described = self.aws("elbv2", "describe-tags", "--resource-arns", tg)
        self.assertEqual(described["TagDescriptions"],
                         [{"ResourceArn": tg, "Tags": [{"Key": "env", "Value": "test"}]}])

        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        for metric, value in (("Requests", "200"), ("Errors", "5")):
            self.aws("cloudwatch", "put-metric-data", "--namespace", "App", "--metric-name",
                     metric, "--value", value, "--timestamp", now.isoformat())
        stat = lambda i, m: {"Id": i, "ReturnData": False, "MetricStat": {
            "Metric": {"Namespace": "App", "MetricName": m}, "Period": 60, "Stat": "Sum"}}
        data = self.aws("cloudwatch", "get-metric-data", "--start-time",
                        (now - datetime.timedelta(minutes=5)).isoformat(), "--end-time",
                        (now + datetime.timedelta(minutes=5)).isoformat(),
                        "--metric-data-queries", json.dumps([
                            stat("req", "Requests"), stat("err", "Errors"),
                            {"Id": "rate", "Expression": "100 * err / req",
                             "Label": "Error rate"}]))
        [result] = data["MetricDataResults"]
        self.assertEqual((result["Id"], result["Label"], result["StatusCode"]),
                         ("rate", "Error rate", "Complete"))
        self.assertEqual(result["Values"], [2.5])

        self.aws("cloudwatch", "put-metric-alarm", "--alarm-name", "errors",
                 "--namespace", "App", "--metric-name", "Errors", "--statistic", "Sum",
                 "--period", "60", "--evaluation-periods", "1", "--threshold", "100",
                 "--comparison-operator", "GreaterThanThreshold")
        self.aws("cloudwatch", "set-alarm-state", "--alarm-name", "errors", "--state-value",
                 "ALARM", "--state-reason", "testing")
        history = self.aws("cloudwatch", "describe-alarm-history", "--alarm-name", "errors",
                           "--history-item-type", "StateUpdate")["AlarmHistoryItems"]
        # The evaluator may move the alarm too (before and after): find the update made here.
        mine = [h for h in history
                if json.loads(h["HistoryData"])["newState"].get("stateReason") == "testing"]
        self.assertEqual(len(mine), 1, history)
        self.assertRegex(mine[0]["HistorySummary"], r"^Alarm updated from \w+ to ALARM$")


class CloudFormationDeployTest(AwsClientTestCase):
    """`aws cloudformation deploy` as users run it: create, update, nothing to change, delete."""

    TEMPLATE = textwrap.dedent("""
        Parameters:
          Interval:
            Type: Number
            Default: 10
        Resources:
          Targets:
            Type: AWS::ElasticLoadBalancingV2::TargetGroup
            Properties:
              Port: 8080
              Protocol: HTTP
              HealthCheckIntervalSeconds: !Ref Interval
        Outputs:
          Arn:
            Value: !Ref Targets
        """)

    def deploy(self, *overrides):
        path = os.path.join(self.tmp, "template.yaml")
        with open(path, "w") as f:
            f.write(self.TEMPLATE)
        p = subprocess.run([DEBIAN_AWS, "--endpoint-url", self.server.endpoint, "cloudformation",
                            "deploy", "--template-file", path, "--stack-name", "web",
                            *(["--parameter-overrides", *overrides] if overrides else [])],
                           capture_output=True, text=True, env=self.env, timeout=180,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def interval(self):
        return self.aws("elbv2", "describe-target-groups")["TargetGroups"][0][
            "HealthCheckIntervalSeconds"]

    def test_deploy_update_no_change_and_delete(self):
        self.assertIn("Successfully created/updated stack - web", self.deploy())
        stack = self.aws("cloudformation", "describe-stacks", "--stack-name", "web")["Stacks"][0]
        self.assertEqual(stack["StackStatus"], "CREATE_COMPLETE")
        self.assertEqual(self.interval(), 10)
        self.assertIn("Successfully created/updated stack - web", self.deploy("Interval=15"))
        self.assertEqual(self.interval(), 15)
        self.assertIn("No changes to deploy", self.deploy("Interval=15"))
        self.aws("cloudformation", "delete-stack", "--stack-name", "web")
        self.aws("cloudformation", "wait", "stack-delete-complete", "--stack-name", "web")
        self.assertEqual(self.aws("elbv2", "describe-target-groups")["TargetGroups"], [])


class _TwentyMinutesAgo(datetime.datetime):
    """What an older botocore's signer takes for now when a test signs an expired request."""

    @classmethod
    def utcnow(cls):
        return _REAL_DATETIME.utcnow() - datetime.timedelta(minutes=20)


_REAL_DATETIME = datetime.datetime


def twenty_minutes_ago():
    """Makes botocore sign as if it were 20 minutes ago (newer botocore asks
    get_current_datetime, Debian's datetime.datetime.utcnow)."""
    import botocore.auth
    if hasattr(botocore.auth, "get_current_datetime"):
        return mock.patch("botocore.auth.get_current_datetime",
                          return_value=_TwentyMinutesAgo.utcnow())
    return mock.patch("botocore.auth.datetime.datetime", _TwentyMinutesAgo)


FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


class SignedRequestsTest(AwsClientTestCase):
    """Every request is signed with the server's key (tide credentials) and checked; refusals
    come back with the code AWS gives in each protocol, and change nothing."""

    def post(self, body, headers):
        req = urllib.request.Request(self.server.endpoint + "/", data=body, method="POST",
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def test_the_cli_signs_with_the_servers_key_and_sts_names_the_account(self):
        self.assertTrue(self.env["AWS_ACCESS_KEY_ID"].startswith("AKIA"))
        mode = os.stat(os.path.join(self.data_dir, "credentials")).st_mode & 0o777
        self.assertEqual(mode, 0o600)
        who = self.aws("sts", "get-caller-identity")
        self.assertEqual(who["Account"], "000000000000")
        self.assertEqual(who["Arn"], "arn:aws:iam::000000000000:root")
        # The signature's region names the zones and the ARNs.
        zones = self.aws("ec2", "describe-availability-zones", "--region", "eu-west-1")
        self.assertEqual(zones["AvailabilityZones"][0]["ZoneName"], "eu-west-1a")
        tg = self.aws("elbv2", "create-target-group", "--name", "web", "--region", "eu-west-1",
                      "--protocol", "HTTP", "--port", "8080")["TargetGroups"][0]
        self.assertTrue(tg["TargetGroupArn"].startswith(
            "arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/web/"), tg)

    def test_a_wrong_secret_or_unknown_key_is_refused_in_each_protocol(self):
        good = self.env
        self.env = dict(good, AWS_SECRET_ACCESS_KEY="x" * 40)
        self.assertIn("(AuthFailure)", self.aws_fails("ec2", "describe-instances"))
        self.assertIn("(SignatureDoesNotMatch)",
                      self.aws_fails("autoscaling", "describe-auto-scaling-groups"))
        self.assertIn("(SignatureDoesNotMatch)", self.aws_fails("cloudwatch", "list-metrics"))
        self.assertIn("(SignatureDoesNotMatch)",
                      self.aws_fails("cloudformation", "describe-stacks"))
        self.env = dict(good, AWS_ACCESS_KEY_ID="AKIAUNKNOWNUNKNOWN00")
        self.assertIn("(InvalidClientTokenId)", self.aws_fails("elbv2", "describe-load-balancers"))
        self.assertIn("(AuthFailure)", self.aws_fails("ec2", "describe-images"))
        self.env = good
        self.aws("ec2", "describe-instances")

    def test_an_expired_date_a_tampered_body_and_no_signature_are_refused(self):
        run = b"Action=RunInstances&Version=2016-11-15&ImageId=ami-00000000000000000&" \
              b"MinCount=1&MaxCount=1"
        with twenty_minutes_ago():
            stale = signed_headers(self.server, run, FORM, service="ec2")
        status, body, _ = self.post(run, stale)
        self.assertEqual(status, 400, body)
        self.assertIn("<Code>RequestExpired</Code>", body)
        asg = b"Action=DescribeAutoScalingGroups&Version=2011-01-01"
        with twenty_minutes_ago():
            stale = signed_headers(self.server, asg, FORM, service="autoscaling")
        status, body, _ = self.post(asg, stale)
        self.assertEqual(status, 403, body)
        self.assertIn("<Code>SignatureDoesNotMatch</Code>", body)
        self.assertIn("Signature expired", body)

        # Signed for one body, sent with another.
        describe = b"Action=DescribeRegions&Version=2016-11-15"
        headers = signed_headers(self.server, describe, FORM, service="ec2")
        status, body, _ = self.post(run, headers)
        self.assertEqual(status, 401, body)
        self.assertIn("<Code>AuthFailure</Code>", body)
        json_headers = {"Content-Type": "application/x-amz-json-1.0",
                        "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"}
        headers = signed_headers(self.server, b"{}", json_headers, service="monitoring")
        status, body, reply = self.post(b'{"Namespace": "App"}', headers)
        self.assertEqual(status, 403, body)
        self.assertEqual(json.loads(body)["__type"], "InvalidSignatureException")
        self.assertEqual(reply.get("x-amzn-query-error"), "InvalidSignatureException;Sender")

        # Signed for another service than the request's.
        headers = signed_headers(self.server, describe, FORM, service="monitoring")
        status, body, _ = self.post(describe, headers)
        self.assertEqual(status, 401, body)
        self.assertIn("Credential should be scoped to correct service: &apos;ec2&apos;", body)

        # Not signed at all.
        status, body, _ = self.post(describe, FORM)
        self.assertEqual(status, 403, body)
        self.assertIn("<Code>MissingAuthenticationToken</Code>", body)
        # Nothing of the refused requests happened.
        self.assertEqual(self.aws("ec2", "describe-instances")["Reservations"], [])


    def test_presigned_urls_work_until_they_expire(self):
        import botocore.session
        key = self.env
        client = botocore.session.get_session().create_client(
            "sts", endpoint_url=self.server.endpoint, region_name="us-east-1",
            aws_access_key_id=key["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=key["AWS_SECRET_ACCESS_KEY"])
        url = client.generate_presigned_url("get_caller_identity", ExpiresIn=60,
                                            HttpMethod="GET")
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertIn("<Account>000000000000</Account>", r.read().decode())
        # Signed by botocore's own Python signer (the client may use awscrt's, whose clock a test
        # cannot move), as if 20 minutes ago, for 60 seconds.
        from botocore.auth import SigV4QueryAuth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        request = AWSRequest(method="GET", url=self.server.endpoint +
                             "/?Action=GetCallerIdentity&Version=2011-06-15")
        with twenty_minutes_ago():
            SigV4QueryAuth(Credentials(key["AWS_ACCESS_KEY_ID"], key["AWS_SECRET_ACCESS_KEY"]),
                           "sts", "us-east-1", expires=60).add_auth(request)
        stale = request.url
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(stale, timeout=30)
        self.assertEqual(e.exception.code, 403)
        self.assertIn("Signature expired", e.exception.read().decode())


    def test_session_credentials_from_sts_sign_until_they_expire(self):
        creds = self.aws("sts", "get-session-token", "--duration-seconds", "900")["Credentials"]
        self.assertTrue(creds["AccessKeyId"].startswith("ASIA"), creds)
        expires = datetime.datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00"))
        left = expires - datetime.datetime.now(datetime.timezone.utc)
        self.assertTrue(datetime.timedelta(minutes=14) < left <= datetime.timedelta(minutes=15),
                        left)
        # As root, AWS cuts a longer session to an hour.
        hour = self.aws("sts", "get-session-token", "--duration-seconds", "7200")["Credentials"]
        left = datetime.datetime.fromisoformat(hour["Expiration"].replace("Z", "+00:00")) - \
            datetime.datetime.now(datetime.timezone.utc)
        self.assertLessEqual(left, datetime.timedelta(hours=1))
        # (the CLI checks the minimum itself; the server too, for clients that do not)
        short = b"Action=GetSessionToken&Version=2011-06-15&DurationSeconds=60"
        status, reply, _ = self.post(short, signed_headers(self.server, short, FORM,
                                                           service="sts"))
        self.assertEqual(status, 400, reply)
        self.assertIn("<Code>ValidationError</Code>", reply)
        self.assertIn("greater than or equal to 900", reply)

        root = self.env
        self.env = dict(root, AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
                        AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"],
                        AWS_SESSION_TOKEN=creds["SessionToken"])
        self.assertEqual(self.aws("sts", "get-caller-identity")["Account"], "000000000000")
        self.assertEqual(self.aws("ec2", "describe-instances")["Reservations"], [])
        self.aws("cloudwatch", "list-metrics")
        self.assertIn("(AccessDenied)", self.aws_fails("sts", "get-session-token"))
        # tide's own CLI signs with them too (a data directory without a credentials file: the
        # CLI then signs with the AWS_* variables).
        no_key_dir = os.path.join(self.tmp, "no-key")
        os.makedirs(no_key_dir, exist_ok=True)
        p = subprocess.run([TIDE, "asg", "ls"], capture_output=True, text=True, timeout=60,
                           env=dict(self.env, TIDE_ENDPOINT=self.server.endpoint,
                                    TIDE_DATA_DIR=no_key_dir), stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Without the token, or with another session's, the key is refused.
        self.env = {k: v for k, v in self.env.items() if k != "AWS_SESSION_TOKEN"}
        self.assertIn("(InvalidClientTokenId)", self.aws_fails("autoscaling",
                                                               "describe-auto-scaling-groups"))
        self.env = dict(self.env, AWS_SESSION_TOKEN=hour["SessionToken"])
        self.assertIn("(AuthFailure)", self.aws_fails("ec2", "describe-instances"))

        # A presigned URL carries the token; an expired session is refused as ExpiredToken.
        import botocore.session
        client = botocore.session.get_session().create_client(
            "sts", endpoint_url=self.server.endpoint, region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"])
        url = client.generate_presigned_url("get_caller_identity", ExpiresIn=60,
                                            HttpMethod="GET")
        self.assertIn("X-Amz-Security-Token=", url)
        with urllib.request.urlopen(url, timeout=30) as r:
            self.assertIn("<Account>000000000000</Account>", r.read().decode())
        self.env = root
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        token = creds["SessionToken"].split(".")
        token[2] = str(int(datetime.datetime.now().timestamp()) - 1)
        headers = signed_headers(self.server, body, dict(FORM, **{
            "X-Amz-Security-Token": ".".join(token)}), service="sts",
            key=(creds["AccessKeyId"], creds["SecretAccessKey"]))
        status, reply, _ = self.post(body, headers)
        self.assertEqual(status, 403, reply)
        self.assertIn("<Code>InvalidClientTokenId</Code>", reply)  # its MAC no longer fits


class AuthNoneTest(AwsClientTestCase):
    """`tide server --auth none`: any key (test/test, as CI signs) or none, on loopback only."""

    server_args = ("--termination-grace", "2", "--auth", "none")

    def test_any_key_is_accepted_and_the_api_stays_on_loopback(self):
        self.assertEqual(self.env["AWS_ACCESS_KEY_ID"], "test")
        self.assertEqual(self.aws("sts", "get-caller-identity")["Account"], "000000000000")
        self.assertEqual(self.aws("ec2", "describe-instances")["Reservations"], [])
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "credentials")))
        self.assertEqual(self.tide_json("instance", "ls")["Reservations"], [])
        p = subprocess.run([TIDE, "server", "--auth", "none", "--api", "0.0.0.0:0",
                            "--data-dir", os.path.join(self.tmp, "open")],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 2)
        self.assertIn("--auth none accepts anyone's requests", p.stderr)


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
                          "launched": str(reservations[0]["Instances"][0]["LaunchTime"].tzinfo),
                          "caller": client("sts").get_caller_identity()["Account"]}))
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
        self.assertEqual(out["caller"], "000000000000")  # signed, and STS answered


if __name__ == "__main__":
    unittest.main()
