"""Security groups enforced by the kernel (docs/security.md "Security groups"): an instance whose
group admits its port only from the load balancer's group answers through the load balancer
while a direct connection from the host is refused; AuthorizeSecurityGroupIngress for
127.0.0.1/32 lets the host in without restarting the instance, RevokeSecurityGroupIngress shuts
it out again. Needs root and nft (nftables); skipped with a message otherwise. The API calls are
signed with botocore (harness.signed_headers)."""

import os
import shutil
import socket
import subprocess
import unittest

from harness import QUICK_CHECKS, SHOP, TideTestCase, free_port, get, try_get, wait_for


def table_name(data_dir):
    """The server's nftables table (control/security_group_controller.h firewallTableName)."""
    h = 2166136261
    for c in os.path.abspath(data_dir).encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return f"tide_{h:08x}"


def direct(address, port):
    """'refused', 'open' or 'timeout' for a TCP connection from the host to address:port."""
    with socket.socket() as s:
        s.settimeout(1.0)
        try:
            s.connect((address, port))
            return "open"
        except ConnectionRefusedError:
            return "refused"
        except socket.timeout:
            return "timeout"


def http_from_host(address, port):
    """The status of GET /health straight to the instance, or None when it cannot connect."""
    try:
        import urllib.request
        with urllib.request.urlopen(f"http://{address}:{port}/health", timeout=2) as r:
            return r.status
    except OSError:
        return None


def nft_tables():
    return subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                          timeout=30).stdout


@unittest.skipUnless(hasattr(os, "geteuid") and os.geteuid() == 0,
                     "security groups are enforced only when tide runs as root")
@unittest.skipUnless(shutil.which("nft") or os.path.exists("/usr/sbin/nft"),
                     "no nft binary: scripts/deps.sh installs nftables")
class SecurityGroupsTest(TideTestCase):
    def setUp(self):
        super().setUp()
        status = self.tide("status").stdout
        if "security groups: not enforced" in status:
            self.skipTest("this host cannot enforce them: " +
                          status.split("security groups: ", 1)[1].splitlines()[0])

    def group(self, name):
        return self.ok("CreateSecurityGroup", {"GroupName": name,
                                               "Description": name + " tier"})["GroupId"]

    def test_only_the_load_balancers_group_reaches_the_instance(self):
        self.assertIn("security groups: enforced (nftables)",
                      wait_for(lambda: (lambda s: s if "enforced (nftables)" in s else None)(
                          self.tide("status").stdout), what="enforcement"))
        lb_group = self.group("lb")
        app_group = self.group("app")
        from_lb = {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                   "UserIdGroupPairs": [{"GroupId": lb_group}]}
        self.ok("AuthorizeSecurityGroupIngress", {"GroupId": app_group,
                                                  "IpPermissions": [from_lb]})
        image = self.make_image("shop", SHOP)
        run = self.ok("RunInstances", {"ImageId": image, "InstanceType": "t3.micro",
                                       "MinCount": 1, "MaxCount": 1,
                                       "SecurityGroupIds": [app_group]})
        instance_id = run["Instances"][0]["InstanceId"]
        inst = self.wait_state(instance_id, "running")
        address, port = inst["PrivateIpAddress"], 8080
        self.assertEqual([g["GroupId"] for g in inst["SecurityGroups"]], [app_group])

        self.tide("tg", "create", "--name", "web", "--port", "8080", *QUICK_CHECKS)
        tg = self.ok("DescribeTargetGroups", {"Names": ["web"]})["TargetGroups"][0]
        lb = self.ok("CreateLoadBalancer", {"Name": "front", "SecurityGroups": [lb_group]})[
            "LoadBalancers"][0]
        lb_port = free_port()
        self.ok("CreateListener", {"LoadBalancerArn": lb["LoadBalancerArn"], "Port": lb_port,
                                   "Protocol": "HTTP",
                                   "DefaultActions": [{"Type": "forward",
                                                       "TargetGroupArn": tg["TargetGroupArn"]}]})
        self.ok("RegisterTargets", {"TargetGroupArn": tg["TargetGroupArn"],
                                    "Targets": [{"Id": instance_id}]})
        # The health checks come from the load balancer's address: its group admits them.
        wait_for(lambda: self.ok("DescribeTargetHealth", {"TargetGroupArn": tg["TargetGroupArn"]})[
            "TargetHealthDescriptions"][0]["TargetHealth"]["State"] == "healthy",
            what="the target to be healthy")
        # Through the load balancer: 200.
        self.assertEqual(wait_for(lambda: try_get(lb_port), what="the listener")[0], 200)
        for _ in range(5):
            self.assertEqual(get(lb_port)[0], 200)
        # From the host, straight to the instance: refused at once (a TCP reset).
        self.assertEqual(direct(address, port), "refused")
        self.assertIsNone(http_from_host(address, port))
        table = table_name(self.data_dir)
        self.assertIn(table, nft_tables())

        # Let the host in: no restart, the instance keeps its process.
        pid = self.instance(instance_id)["ProcessId"]
        host = {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                "IpRanges": [{"CidrIp": "127.0.0.1/32"}]}
        self.ok("AuthorizeSecurityGroupIngress", {"GroupId": app_group,
                                                  "IpPermissions": [host]})
        self.assertEqual(wait_for(lambda: http_from_host(address, port), timeout=10,
                                  what="the host to be let in"), 200)
        self.assertEqual(self.instance(instance_id)["ProcessId"], pid)
        self.assertEqual(get(lb_port)[0], 200)

        # Revoke it: shut out again; the load balancer still gets through.
        self.ok("RevokeSecurityGroupIngress", {"GroupId": app_group, "IpPermissions": [host]})
        wait_for(lambda: direct(address, port) == "refused", timeout=10,
                 what="the host to be shut out")
        self.assertEqual(get(lb_port)[0], 200)

        # The server removes its table when it stops: nothing stays filtered without it.
        self.terminate_all()
        self.server.stop()
        self.assertNotIn(table, nft_tables())


if __name__ == "__main__":
    unittest.main()
