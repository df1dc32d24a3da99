"""Hostile input against the real binary (docs/security.md, "Hostile input"): a YAML billion
laughs, a JSON template nested 100,000 deep and 30,000 nested Fn::Join go through CreateStack
(botocore, CloudFormation's query protocol) and `tide up`; each is one clear ValidationError,
nothing is made, the server stays up and its peak memory stays small. An X-Amz-Target that is
not UTF-8 is UnknownOperationException (it was a 500); the CLI given an argument or a stack file
that is not UTF-8 exits with one line (it aborted)."""

import http.client
import json
import os
import subprocess
import urllib.parse

from harness import TIDE, TideTestCase, cli_env, server_key, signed_headers

# Peak resident memory the server may reach in these tests. It idles at a few tens of MiB;
# before the bounds, the billion laughs took it to 24 GB.
MAX_PEAK_RSS_KIB = 512 * 1024

LB = "  LB:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"


def billion_laughs():
    """About 500 bytes: nine levels of anchors, each a list of nine aliases of the one before."""
    y = 'Metadata:\n  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    for c in "bcdefghi":
        prev = chr(ord(c) - 1)
        y += f"  {c}: &{c} [" + ", ".join(["*" + prev] * 9) + "]\n"
    return y + "Resources:\n" + LB


def deep_json(depth=100_000):
    """A JSON template whose Metadata nests arrays `depth` deep (200 KB at 100,000)."""
    return ('{"Resources": {"LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", '
            '"Metadata": ' + "[" * depth + "]" * depth + "}}}")


def nested_joins(count=30_000):
    return ('{"Resources": {"LB": {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", '
            '"Properties": {"Name": ' + '{"Fn::Join":["",[' * count + '"x"' + "]]}" * count +
            "}}}}")


class HostileInputTest(TideTestCase):
    def cloudformation(self):
        import botocore.session
        key = server_key(self.server) or ("test", "test")
        return botocore.session.get_session().create_client(
            "cloudformation", endpoint_url=self.server.endpoint, region_name="us-east-1",
            aws_access_key_id=key[0], aws_secret_access_key=key[1])

    def peak_rss_kib(self):
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/PID/status")

    def assert_server_fine(self):
        self.assertIsNone(self.server.proc.poll(), "the server is still running")
        self.assertEqual(self.ok("DescribeStacks", {})["Stacks"], [])
        self.assertLess(self.peak_rss_kib(), MAX_PEAK_RSS_KIB)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
        return path

    def test_create_stack_refuses_each_file_and_the_server_stays_small(self):
        from botocore.exceptions import ClientError
        cfn = self.cloudformation()
        for body, words in ((billion_laughs(), "YAML aliases expand the template"),
                            (deep_json(), "deeper than 128 levels"),
                            ("Resources:\n" + LB + "    Properties: {Name: !Sub 'x-${'}\n",
                             "unclosed ${")):
            with self.assertRaises(ClientError) as e:
                cfn.create_stack(StackName="hostile", TemplateBody=body)
            error = e.exception.response["Error"]
            self.assertEqual(error["Code"], "ValidationError", error)
            self.assertIn("Template format error", error["Message"])
            self.assertIn(words, error["Message"])
            with self.assertRaises(ClientError) as e:
                cfn.validate_template(TemplateBody=body)
            self.assertEqual(e.exception.response["Error"]["Code"], "ValidationError")
        self.assert_server_fine()

    def test_tide_up_refuses_each_file_with_one_line(self):
        for name, body, words in (("bomb.yaml", billion_laughs(), "YAML aliases"),
                                  ("deep.json", deep_json(), "deeper than 128 levels"),
                                  ("joins.json", nested_joins(), "deeper than 128 levels")):
            path = self.write(name, body)
            p = self.tide("up", path, check=False)
            self.assertEqual(p.returncode, 1, p.stderr)
            lines = p.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, p.stderr)
            self.assertTrue(lines[0].startswith("tide: ValidationError: Template format error"),
                            lines[0])
            self.assertIn(words, lines[0])
        self.assert_server_fine()

    def test_cli_given_text_that_is_not_utf8_exits_with_one_line(self):
        path = self.write("latin1.yaml", b"Resources:\n" + LB.encode() +
                          b"    Metadata: {Note: caf\xe9}\n")
        p = self.tide("up", path, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("is not valid UTF-8 (line 4, column 25", p.stderr)
        # An argument: bytes, as a shell passes them.
        p = subprocess.run([TIDE.encode(), b"stack", b"describe", b"caf\xe9"],
                           capture_output=True, env=cli_env(self.server), timeout=60,
                           stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(b"tide: UsageError: argument 3 ('caf\\xe9') is not valid UTF-8", p.stderr)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)

    def test_target_that_is_not_utf8_is_unknown_operation(self):
        url = urllib.parse.urlsplit(self.server.endpoint)
        for target, service in ((b"Describe\xffInstances", "tide"),
                                (b"GraniteServiceVersion20100801.Describe\xc0\xafAlarms",
                                 "monitoring")):
            body = b"{}"
            # Signed without the target (SigV4 needs host signed, not every header), which is
            # then sent as raw bytes.
            headers = signed_headers(self.server, body,
                                     {"Content-Type": "application/x-amz-json-1.0"},
                                     service=service)
            has_host = any(name.lower() == "host" for name in headers)
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            try:
                conn.putrequest("POST", "/", skip_host=has_host, skip_accept_encoding=True)
                for name, value in headers.items():
                    conn.putheader(name, value)
                conn.putheader("X-Amz-Target", target)
                conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                r = conn.getresponse()
                reply = json.loads(r.read())
            finally:
                conn.close()
            self.assertEqual(r.status, 400, reply)
            self.assertEqual(reply["__type"], "UnknownOperationException", reply)
        self.assert_server_fine()

    def test_repeated_keys_and_deep_bodies_are_refused_by_the_api(self):
        status, reply = self.api("DescribeInstances", raw_body=b'{"MaxResults": 5, '
                                                               b'"MaxResults": 6}')
        self.assertEqual(status, 400, reply)
        self.assertEqual(reply["__type"], "SerializationException")
        self.assertIn("the key 'MaxResults' appears twice", reply["message"])
        status, reply = self.api("DescribeInstances",
                                 raw_body=b'{"Filters": ' + b"[" * 100_000 + b"]" * 100_000 +
                                 b"}")
        self.assertEqual(status, 400, reply)
        self.assertIn("deeper than 64 levels", reply["message"])
        self.assert_server_fine()
