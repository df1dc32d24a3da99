"""Load balancers reachable as on AWS: each load balancer has its own loopback address
(127.2.B.x) and a DNSName under .localhost. Two load balancers both listen on port 80, each
reached on its own address and, through the shared 127.0.0.1:80, by its DNSName (curl resolves
*.localhost to loopback; Python's resolver does not, so urllib clients send the Host header
themselves). A port only one load balancer uses answers on 127.0.0.1 for any Host, as before.
Addresses survive a server restart; deleting a load balancer frees its address."""

import http.client
import os
import shutil
import socket
import subprocess
import unittest

from harness import TideTestCase, free_port, server_key, wait_for

STACK = """\
Parameters:
  Port: {Type: Number}
Resources:
  LB:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: !Ref Port
      DefaultActions:
        - Type: fixed-response
          FixedResponseConfig: {StatusCode: "200", ContentType: text/plain, MessageBody: stacked}
Outputs:
  URL:
    Value: !Sub "http://${LB.DNSName}:${Port}/"
"""


def fixed(body):
    return [{"Type": "fixed-response",
             "FixedResponseConfig": {"StatusCode": "200", "ContentType": "text/plain",
                                     "MessageBody": body}}]


def request(address, port, host=None, path="/"):
    """(status, body) of GET path on address:port with the given Host header, or None while
    nothing listens there yet (a new listener binds once the balancer adopts its snapshot)."""
    conn = http.client.HTTPConnection(address, port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        r = conn.getresponse()
        return r.status, r.read().decode()
    except OSError:
        return None
    finally:
        conn.close()


def curl(url):
    """(status, body) of `curl URL`: curl resolves NAME.localhost itself (RFC 6761)."""
    p = subprocess.run(["curl", "-sS", "--max-time", "5", "-w", "\n%{http_code}", url],
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return None
    body, _, code = p.stdout.rpartition("\n")
    return int(code), body


def refused(address, port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((address, port)) != 0


class LbAddressesTest(TideTestCase):
    def load_balancer(self, name, port, body):
        """Creates a load balancer with a fixed-response listener on port; returns it as
        DescribeLoadBalancers shows it."""
        lb = self.ok("CreateLoadBalancer", {"Name": name})["LoadBalancers"][0]
        self.ok("CreateListener", {"LoadBalancerArn": lb["LoadBalancerArn"], "Port": port,
                                   "DefaultActions": fixed(body)})
        return self.ok("DescribeLoadBalancers", {"Names": [name]})["LoadBalancers"][0]

    @staticmethod
    def address(lb):
        return lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["IpAddress"]

    def test_two_load_balancers_on_port_80(self):
        front = self.load_balancer("front", 80, "front page")
        back = self.load_balancer("back", 80, "back office")
        a, b = self.address(front), self.address(back)
        self.assertTrue(a.startswith("127.2.") and b.startswith("127.2."), (a, b))
        self.assertNotEqual(a, b)
        for lb in (front, back):
            self.assertRegex(lb["DNSName"], r"^" + lb["LoadBalancerName"] +
                             r"-\d{10}\.us-east-1\.elb\.localhost$")
            for zone in lb["AvailabilityZones"]:
                self.assertEqual(zone["LoadBalancerAddresses"], [{"IpAddress": self.address(lb)}])
        # Each on its own address, whatever the Host.
        self.assertEqual(wait_for(lambda: request(a, 80), what="front on its address"),
                         (200, "front page"))
        self.assertEqual(wait_for(lambda: request(b, 80, host="anything"),
                                  what="back on its address"), (200, "back office"))
        # Through 127.0.0.1:80, shared by both: the Host names one (with or without the port).
        self.assertEqual(request("127.0.0.1", 80, host=front["DNSName"]), (200, "front page"))
        self.assertEqual(request("127.0.0.1", 80, host=back["DNSName"] + ":80"),
                         (200, "back office"))
        self.assertEqual(request("127.0.0.1", 80, host=back["DNSName"].upper()),
                         (200, "back office"))
        # A Host that names neither: 421 Misdirected Request.
        self.assertEqual(request("127.0.0.1", 80, host="127.0.0.1")[0], 421)
        # curl with the DNS name, as a user would.
        if shutil.which("curl"):
            self.assertEqual(curl(f"http://{front['DNSName']}/"), (200, "front page"))
            self.assertEqual(curl(f"http://{back['DNSName']}:80/"), (200, "back office"))

    def test_boto3_sees_the_dns_name_and_the_address(self):
        try:
            import botocore.session
        except ImportError:
            self.skipTest("botocore is not installed")
        lb = self.load_balancer("seen", free_port(), "seen")
        key = server_key(self.server)
        client = botocore.session.get_session().create_client(
            "elbv2", endpoint_url=self.server.endpoint, region_name="eu-west-1",
            aws_access_key_id=key[0] if key else "test",
            aws_secret_access_key=key[1] if key else "test")
        got = client.describe_load_balancers(Names=["seen"])["LoadBalancers"][0]
        self.assertEqual(got["DNSName"], lb["DNSName"])  # the region of its ARN, us-east-1
        self.assertEqual([z["LoadBalancerAddresses"] for z in got["AvailabilityZones"]],
                         [[{"IpAddress": self.address(lb)}]] * len(got["AvailabilityZones"]))
        # One made in another region is named with that region.
        made = client.create_load_balancer(Name="west")["LoadBalancers"][0]
        self.assertRegex(made["DNSName"], r"^west-\d{10}\.eu-west-1\.elb\.localhost$")

    def test_stack_output_url_opens_with_curl(self):
        if not shutil.which("curl"):
            self.skipTest("curl is not installed")
        path = os.path.join(self.tmp, "lb.yaml")
        with open(path, "w") as f:
            f.write(STACK)
        port = free_port()
        out = self.tide_json("up", path, "--stack-name", "site", "--parameter", f"Port={port}")
        url = out["Stacks"][0]["Outputs"][0]["OutputValue"]
        self.assertRegex(url, rf"^http://site-LB-\d{{10}}\.us-east-1\.elb\.localhost:{port}/$")
        self.assertEqual(wait_for(lambda: curl(url), what="the stack's URL"), (200, "stacked"))
        self.tide("down", "--stack-name", "site")

    def test_a_port_only_one_load_balancer_uses_answers_on_127_0_0_1(self):
        port = free_port()
        self.load_balancer("shop", port, "the shop")
        self.load_balancer("other", 80, "elsewhere")
        self.assertEqual(wait_for(lambda: request("127.0.0.1", port), what="the shop"),
                         (200, "the shop"))
        self.assertEqual(request("127.0.0.1", port, host="whatever.example"), (200, "the shop"))

    def test_restart_keeps_addresses_and_delete_frees_them(self):
        port = free_port()
        kept = self.load_balancer("kept", port, "kept")
        gone = self.load_balancer("gone", port, "gone")
        ka, ga = self.address(kept), self.address(gone)
        wait_for(lambda: request(ga, port), what="gone on its address")
        registry = "/run/tide/address-ranges.lb" if os.geteuid() == 0 else None
        if registry and os.path.exists(registry):
            with open(registry) as f:
                claims = f.read()
            self.assertIn(" " + os.path.realpath(self.data_dir) + "\n", claims)
            block = ka.split(".")[2]
            self.assertIn(f"{block} {self.server.proc.pid} ", claims)
        self.restart_server()
        after = self.ok("DescribeLoadBalancers", {"Names": ["kept"]})["LoadBalancers"][0]
        self.assertEqual(self.address(after), ka)
        self.assertEqual(after["DNSName"], kept["DNSName"])
        self.assertEqual(wait_for(lambda: request(ka, port), what="kept after the restart"),
                         (200, "kept"))
        self.ok("DeleteLoadBalancer", {"LoadBalancerArn": gone["LoadBalancerArn"]})
        wait_for(lambda: refused(ga, port), what="the deleted load balancer's listener to close")
        self.assertEqual(request("127.0.0.1", port, host="x"), (200, "kept"))  # alone again
        again = self.load_balancer("again", free_port(), "again")
        self.assertEqual(self.address(again), ga)  # freed, and given out again


if __name__ == "__main__":
    unittest.main()
