"""Instance addresses across servers: two tide servers with different data directories each run
the example stack (examples/shop/stack.yaml) at the same time; every instance of both reaches
running and healthy behind its own load balancer, and their addresses are disjoint (each server
claims its own blocks of 127.1.0.0/16 in the host-wide registry). An address where another
program listens is never given to an instance (the bind probe)."""

import json
import os
import socket
import subprocess

from harness import (SOURCE_DIR, TIDE, TideServer, TideTestCase, cli_env, free_port, get,
                     serving, wait_for)

STACK = os.path.join(SOURCE_DIR, "examples", "shop", "stack.yaml")


def blocks(addresses):
    """The /24 blocks ("127.1.B") of the addresses."""
    return {ip.rsplit(".", 1)[0] for ip in addresses}


class AddressesTest(TideTestCase):
    def setUp(self):
        super().setUp()
        # The second server, with a data directory of its own; ended (instances first) before
        # the first one.
        self.other = TideServer(os.path.join(self.tmp, "other"), *self.server_args)
        self.addCleanup(self._end_other)

    def _end_other(self):
        first, self.server = self.server, self.other
        try:
            if self.other.proc.poll() is None:
                self.terminate_all()
        finally:
            self.server = first
            self.other.stop()

    def at(self, server, *args):
        """`tide ARGS -o json` against the given server."""
        env = cli_env(server)
        p = subprocess.run([TIDE, *args, "--output", "json"], capture_output=True, text=True,
                           env=env, timeout=180, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def serving_group(self, server, port, n=2, timeout=60):
        """Waits until the stack's group has n InService instances, each running, a healthy
        target, and answering through the load balancer on port; returns the instances."""
        def ready():
            groups = self.at(server, "asg", "ls")["AutoScalingGroups"]
            if len(groups) != 1:
                return None
            ids = {i["InstanceId"] for i in groups[0]["Instances"]
                   if i["LifecycleState"] == "InService"}
            if len(ids) != n:
                return None
            instances = [i for r in self.at(server, "instance", "ls")["Reservations"]
                         for i in r["Instances"] if i["InstanceId"] in ids]
            if any(i["State"]["Name"] != "running" for i in instances):
                return None
            health = self.at(server, "tg", "health", "shop-ShopTargets")
            healthy = {d["Target"]["Id"] for d in health["TargetHealthDescriptions"]
                       if d["TargetHealth"]["State"] == "healthy"}
            if healthy != ids:
                return None
            seen = {get(port)[1].strip() for _ in range(6 * n)}
            return instances if seen == ids else None
        return wait_for(ready, timeout, interval=0.2, what=f"{n} shop instances serving")

    def test_two_servers_run_the_example_stack_at_once(self):
        ports = free_port(), free_port()
        for server, port in zip((self.server, self.other), ports):
            out = self.at(server, "up", STACK, "--stack-name", "shop",
                          "--parameter", f"Port={port}")
            self.assertEqual(out["Stacks"][0]["StackStatus"], "CREATE_COMPLETE")
        first = self.serving_group(self.server, ports[0])
        second = self.serving_group(self.other, ports[1])
        a = {i["PrivateIpAddress"] for i in first}
        b = {i["PrivateIpAddress"] for i in second}
        self.assertEqual(len(a), 2)
        self.assertEqual(len(b), 2)
        self.assertEqual(a & b, set(), f"both servers gave out {a & b}")
        # Each server's addresses come from its own /24 blocks.
        self.assertEqual(blocks(a) & blocks(b), set())
        for i in first + second:
            self.assertEqual(i["Port"], 8080)

        # Another program listening at the address the first server would give out next: the
        # next instance gets a different one, and runs.
        block = sorted(blocks(a))[0]
        next_host = next(h for h in range(1, 255) if f"{block}.{h}" not in a)
        squatter = socket.socket()
        self.addCleanup(squatter.close)
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind((f"{block}.{next_host}", 8080))
        squatter.listen()
        image = self.ok("DescribeImages")["Images"][0]["ImageId"]
        run = self.ok("RunInstances", {"ImageId": image, "InstanceType": "t3.micro",
                                       "MinCount": 1, "MaxCount": 1})
        extra = self.wait_state(run["Instances"][0]["InstanceId"], "running")
        self.assertNotIn(extra["PrivateIpAddress"], a | b | {f"{block}.{next_host}"})
        answer = wait_for(lambda: serving(extra), what="the extra instance to answer")
        self.assertEqual(answer.strip(), extra["InstanceId"])

        for server in (self.server, self.other):
            self.at(server, "down", "--stack-name", "shop")


if __name__ == "__main__":
    import unittest
    unittest.main()
