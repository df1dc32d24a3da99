"""gRPC calls through an HTTPS listener to a GRPC target group, with the real binary and real
gRPC on both ends (Debian's python3-grpcio: grpc_apps.py), set up as a user would: the aws CLI
creates the target group (ProtocolVersion GRPC, Matcher GrpcCode 0), registers two instances
running a gRPC server that answers with its instance id, and creates an HTTPS listener with a
certificate imported by `tide cert import`. A grpcio client over TLS (ALPN h2, the certificate
as its root, SNI by ssl_target_name_override) then makes unary calls spread over both targets;
server, client and bidi streaming calls (bidi interleaved: each answer read before the next
message is sent); an error status with details and trailing metadata; client metadata that
reaches the server; 1 MiB each way; a deadline the server overruns; ten calls at once; a call
the client cancels, which ends at the server too. HTTP/1.1, a GET over HTTP/2 and a gRPC call
routed to an HTTP1 group get 464; the access log's type is `grpcs`. A deregistered target and
a terminated instance leave the calls working on the other. docs/load-balancer.md "gRPC and
HTTP/2 target groups"."""

import collections
import glob
import os
import shutil
import subprocess
import time
import unittest

from grpc_apps import DEBIAN_AWS, DEBIAN_PYTHON, NO_GRPC, SERVER, AwsCli, GrpcClient, debian_grpc
from harness import TideTestCase, free_port, wait_for
from test_https import handshake, make_certificate

NAME = "rpc.example.test"
WHO, ECHO, FAIL, SLOW = ("/tide.test.Echo/" + m for m in ("Who", "Echo", "Fail", "Slow"))
COUNT, TOTAL, CHAT, ENDED = ("/tide.test.Echo/" + m for m in ("Count", "Total", "Chat", "Ended"))


@unittest.skipUnless(debian_grpc(), NO_GRPC)
@unittest.skipUnless(os.path.exists(DEBIAN_AWS), "Debian's awscli is not installed")
@unittest.skipIf(shutil.which("openssl") is None or shutil.which("curl") is None,
                 "the openssl and curl commands are needed")
class GrpcForwardTest(AwsCli, TideTestCase):
    server_args = ("--termination-grace", "2", "--balancer-threads", "1")

    def setUp(self):
        super().setUp()
        image = self.make_image("rpc", self.app_dir({"app.py": SERVER}), f"{DEBIAN_PYTHON} app.py")
        self.ids = [i["InstanceId"] for i in self.tide_json(
            "instance", "run", "--image-id", image, "--instance-type", "t3.micro", "--count", "2",
            "--wait")["Instances"]]
        self.cert, key = make_certificate(self.tmp, NAME)
        cert_arn = self.tide("cert", "import", "--certificate", self.cert, "--private-key",
                             key).stdout.strip()
        self.tg = self.aws_ok(
            "elbv2", "create-target-group", "--name", "rpc", "--protocol", "HTTP", "--port",
            "8080", "--protocol-version", "GRPC", "--matcher", "GrpcCode=0",
            "--healthy-threshold-count", "2")["TargetGroups"][0]["TargetGroupArn"]
        self.aws_ok("elbv2", "register-targets", "--target-group-arn", self.tg, "--targets",
                    *(f"Id={i}" for i in self.ids))
        # Quicker than the aws CLI allows (its model's minimum is 5 s; tide takes fractions).
        self.ok("ModifyTargetGroup", {"TargetGroupArn": self.tg, "HealthCheckIntervalSeconds": 0.5,
                                      "HealthCheckTimeoutSeconds": 0.4})
        # (GRPC groups have no concurrency limit by default: the parallel 1 s calls below are
        # what the adaptive one, which reads load from latency, would turn into 503s.)
        self.aws_ok("elbv2", "modify-target-group-attributes", "--target-group-arn", self.tg,
                    "--attributes", "Key=deregistration_delay.timeout_seconds,Value=1")
        lb = self.aws_ok("elbv2", "create-load-balancer", "--name", "front")[
            "LoadBalancers"][0]["LoadBalancerArn"]
        self.aws_ok("elbv2", "modify-load-balancer-attributes", "--load-balancer-arn", lb,
                    "--attributes", "Key=access_logs.s3.enabled,Value=true",
                    "Key=access_logs.s3.bucket,Value=logs")
        self.port = free_port()
        self.listener = self.aws_ok(
            "elbv2", "create-listener", "--load-balancer-arn", lb, "--protocol", "HTTPS",
            "--port", str(self.port), "--certificates", f"CertificateArn={cert_arn}",
            "--ssl-policy", "ELBSecurityPolicy-TLS13-1-2-2021-06", "--default-actions",
            f"Type=forward,TargetGroupArn={self.tg}")["Listeners"][0]["ListenerArn"]
        wait_for(lambda: self.states() == {i: "healthy" for i in self.ids}, interval=0.1,
                 what="both targets to be healthy")
        wait_for(self.listening, what="the HTTPS listener to answer")
        self.client = GrpcClient(f"127.0.0.1:{self.port}", NAME, self.cert)
        self.addCleanup(self.client.close)

    def states(self, tg=None):
        return {d["Target"]["Id"]: d["TargetHealth"]["State"] for d in self.ok(
            "DescribeTargetHealth", {"TargetGroupArn": tg or self.tg})["TargetHealthDescriptions"]}

    def listening(self):
        try:
            return handshake(self.port, NAME) is not None
        except OSError:
            return False

    def who(self):
        """The instance id that answered a unary call (which must succeed)."""
        r = self.client.call("unary", WHO)
        self.assertEqual((r["code"], r["details"]), ("OK", ""), r)
        return r["responses"][0].decode()

    def ended_early(self):
        """How many Slow calls ended before their time (cancelled, or past their deadline) on
        both instances together."""
        counts = {}

        def ask():
            r = self.client.call("unary", ENDED)
            self.assertEqual(r["code"], "OK", r)
            instance, n = r["responses"][0].decode().split()
            counts[instance] = int(n)
            return len(counts) == len(self.ids)

        wait_for(ask, what="both instances' counts")
        return sum(counts.values())

    def curl(self, *args, body=None):
        """"STATUS VERSION" of curl asking the listener for WHO (POSTing body when given)."""
        if body is not None:
            args += ("--data-binary", "@-")
        out = subprocess.run(["curl", "-sS", "--cacert", self.cert, "--max-time", "10",
                              "--resolve", f"{NAME}:{self.port}:127.0.0.1", "-o", os.devnull,
                              "-w", "%{http_code} %{http_version}", *args,
                              f"https://{NAME}:{self.port}{WHO}"],
                             input=body, capture_output=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout.decode()

    def test_calls_are_carried_whole(self):
        # Unary calls, spread over both targets (round robin).
        seen = collections.Counter(self.who() for _ in range(20))
        self.assertEqual(set(seen), set(self.ids), seen)

        # Metadata: the client's reaches the server, which sends it back as initial metadata;
        # its trailing metadata arrives.
        sent = [("x-user", "ada"), ("x-request-id", "r-17"), ("x-blob-bin", b"\x00\x01\xfe")]
        r = self.client.call("unary", ECHO, [b"hello"], metadata=sent)
        self.assertEqual((r["code"], r["responses"]), ("OK", [b"hello"]), r)
        self.assertEqual([p for p in r["initial"] if p[0] in dict(sent)], sent, r)
        self.assertEqual(r["trailing"], [("x-length", "5")])
        # (and what tide adds for the target, as for any request)
        self.assertIn(("x-forwarded-proto", "https"), r["initial"])
        self.assertIn(("x-forwarded-port", str(self.port)), r["initial"])

        # An error status with details and trailing metadata, as the server set them.
        r = self.client.call("unary", FAIL, [b"k1"])
        self.assertEqual((r["code"], r["details"], r["responses"]),
                         ("NOT_FOUND", "no such key", []), r)
        self.assertIn(("x-key", "k1"), r["trailing"])
        self.assertIn(("x-trace-bin", b"\x00\xff\x01"), r["trailing"])
        with self.subTest("a trailers-only answer has the server's fields, no others"):
            self.assertEqual(r["trailing"], [("x-key", "k1"), ("x-trace-bin", b"\x00\xff\x01")])

        # Server streaming: 50 messages from one instance, in order.
        r = self.client.call("server_stream", COUNT, [b"50"])
        self.assertEqual(r["code"], "OK", r)
        self.assertEqual(len(r["responses"]), 50)
        instance = r["responses"][0].split(b":")[1]
        self.assertIn(instance.decode(), self.ids)
        self.assertEqual(r["responses"], [b"%d:%s" % (i, instance) for i in range(50)])

        # An error after messages: its status and details (percent-encoded on the wire) and
        # trailing metadata come after them.
        r = self.client.call("server_stream", COUNT, [b"3!"])
        self.assertEqual((r["code"], r["details"]),
                         ("RESOURCE_EXHAUSTED", "quota: 100% used, \u00fcnits"), r)
        self.assertEqual(len(r["responses"]), 3, r)
        self.assertEqual(r["trailing"], [("x-used", "100")])

        # Client streaming: 30 messages, counted by the server.
        messages = [b"m%d" % i for i in range(30)]
        r = self.client.call("client_stream", TOTAL, messages)
        self.assertEqual((r["code"], r["responses"]),
                         ("OK", [b"30 %d" % sum(map(len, messages))]), r)

        # Bidi, interleaved: each answer comes before the next message is sent.
        messages = [b"q%d" % i for i in range(10)]
        r = self.client.call("bidi", CHAT, messages)
        self.assertEqual((r["code"], r["responses"]), ("OK", [b"re:" + m for m in messages]), r)

        # 1 MiB each way.
        payload = os.urandom(1 << 20)
        r = self.client.call("unary", ECHO, [payload], timeout=30)
        self.assertEqual(r["code"], "OK", r["details"])
        self.assertTrue(r["responses"] == [payload], "the 1 MiB echo differs")
        self.assertEqual(r["trailing"], [("x-length", str(1 << 20))])

        # A deadline the server overruns (it would answer after 5 s), then a call that works.
        start = time.monotonic()
        r = self.client.call("unary", SLOW, [b"5"], timeout=0.5)
        self.assertEqual(r["code"], "DEADLINE_EXCEEDED", r)
        self.assertLess(time.monotonic() - start, 4)
        self.assertIn(self.who(), self.ids)

        # Ten calls at once on the client's one connection: spread, answered together (one
        # request per target connection: tide opens more).
        start = time.monotonic()
        r = self.client.call("parallel", SLOW, [b"1"] * 10)
        self.assertEqual(r["code"], "OK", r)
        self.assertEqual({m.decode() for m in r["responses"]}, set(self.ids))
        self.assertLess(time.monotonic() - start, 5)  # not one after the other (10 s)

        # A call the client cancels ends at the server too: without a deadline, only the reset
        # passed on tells the server.
        before = self.ended_early()
        r = self.client.call("cancel", SLOW, [b"30"])
        self.assertEqual((r["code"], r["started"]), ("CANCELLED", True), r)
        wait_for(lambda: self.ended_early() == before + 1, timeout=10,
                 what="the server to see the call cancelled")

        # HTTP/1.1 to a GRPC group is 464 (ALB's "incompatible protocol"), a gRPC POST too; so
        # is a GET over HTTP/2 (gRPC groups take POST only).
        self.assertEqual(self.curl("--http1.1"), "464 1.1")
        self.assertEqual(self.curl("--http1.1", "-H", "content-type: application/grpc",
                                   body=b"\0" * 5), "464 1.1")
        self.assertEqual(self.curl("--http2"), "464 2")

        # A gRPC call to an HTTP1 group is 464 as well (grpc's UNKNOWN for that status). The
        # group's targets are the same gRPC servers, which fail its HTTP/1.1 checks: it fails
        # open once both are unhealthy.
        web = self.ok("CreateTargetGroup", {
            "Name": "web", "Protocol": "HTTP", "Port": 8080, "HealthCheckIntervalSeconds": 0.5,
            "HealthCheckTimeoutSeconds": 0.4, "UnhealthyThresholdCount": 2})["TargetGroups"][0][
                "TargetGroupArn"]
        self.ok("RegisterTargets", {"TargetGroupArn": web,
                                    "Targets": [{"Id": i} for i in self.ids]})
        self.ok("CreateRule", {
            "ListenerArn": self.listener, "Priority": 1,
            "Conditions": [{"Field": "path-pattern", "Values": ["/web.*"]}],
            "Actions": [{"Type": "forward", "TargetGroupArn": web}]})
        wait_for(lambda: set(self.states(web).values()) == {"unhealthy"}, interval=0.1,
                 what="the HTTP1 group's targets to be unhealthy")
        # (UNIMPLEMENTED: the GRPC group's server answered; the rule is not in yet)
        r = wait_for(lambda: (lambda r: r["code"] != "UNIMPLEMENTED" and r)(
            self.client.call("unary", "/web.Echo/Who")), what="the rule to be in")
        self.assertEqual(r["code"], "UNKNOWN", r)
        self.assertIn("status: 464", r["details"])

        # The access log: gRPC calls are `grpcs` on an HTTPS listener.
        def logged():
            lines = []
            for path in glob.glob(os.path.join(self.data_dir, "access-logs", "logs", "**",
                                               "*.log"), recursive=True):
                with open(path) as f:
                    lines += [line for line in f.read().splitlines() if WHO in line]
            return lines if len(lines) >= 21 + 3 else None  # 21 calls of Who, 3 curls

        lines = wait_for(logged, timeout=10, what="the calls in the access log")
        calls = [line for line in lines if '"grpc-python/' in line]
        self.assertEqual(len(calls), 21, lines)
        for line in calls:
            self.assertTrue(line.startswith("grpcs "), line)
            self.assertIn(f'"POST https://{NAME}:{self.port}{WHO} HTTP/2.0"', line)
            self.assertIn(" 200 200 ", line)
        http1 = [line for line in lines if ' HTTP/1.1" ' in line]
        self.assertEqual([line.split()[0] for line in http1], ["https", "https"], lines)
        for line in http1:
            self.assertIn(" 464 - ", line)

    def test_calls_go_on_when_a_target_leaves(self):
        gone, stays = self.ids
        # Deregistered: every call succeeds, and once the change is in they go to the other.
        self.aws_ok("elbv2", "deregister-targets", "--target-group-arn", self.tg, "--targets",
                    f"Id={gone}")
        wait_for(lambda: all(self.who() == stays for _ in range(10)),
                 what="calls to go to the registered target only")
        # Registered again, then its instance terminated: calls go on at the other.
        self.aws_ok("elbv2", "register-targets", "--target-group-arn", self.tg, "--targets",
                    f"Id={gone}")
        wait_for(lambda: self.states() == {i: "healthy" for i in self.ids}, interval=0.1,
                 what="both targets to be healthy again")
        self.assertEqual({self.who() for _ in range(10)}, set(self.ids))
        self.ok("TerminateInstances", {"InstanceIds": [stays]})
        wait_for(lambda: self.who() and self.instance(stays)["State"]["Name"] == "terminated",
                 what=f"{stays} to be terminated, calls going on")
        self.assertEqual({self.who() for _ in range(10)}, {gone})


if __name__ == "__main__":
    unittest.main()
