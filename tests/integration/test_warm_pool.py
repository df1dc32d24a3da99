"""Warm pools with real instances: a group with a Hibernated warm pool (a stack's
AWS::AutoScaling::WarmPool) keeps an instance started, then frozen by the cgroup freezer, out of
its capacity and of the load balancer; a desired-capacity increase thaws it, and it serves
through the balancer well before a cold launch could."""

import os
import time
import unittest

from burn_stack import BurnStackTestCase, burn_stack
from harness import cgroup_v1_dir, get, wait_for

STACK = burn_stack(resources="""\
    Warm:
      Type: AWS::AutoScaling::WarmPool
      Properties:
        AutoScalingGroupName: !Ref Group
        PoolState: Hibernated
        MaxGroupPreparedCapacity: 2
""")


def read(path):
    with open(path) as f:
        return f.read().strip()


class WarmPoolTest(BurnStackTestCase):
    def warm(self, name):
        return self.ok("DescribeWarmPool", {"AutoScalingGroupName": name})

    def test_a_hibernated_instance_serves_after_a_scale_out(self):
        port, burn = self.up("warm", STACK)
        name = self.group()["AutoScalingGroupName"]
        pool = self.warm(name)
        self.assertEqual(pool["WarmPoolConfiguration"]["PoolState"], "Hibernated")
        self.assertEqual(pool["WarmPoolConfiguration"]["MaxGroupPreparedCapacity"], 2)
        self.assertEqual(self.group()["WarmPoolSize"], 1)  # 2 prepared - 1 desired

        # One instance launched into the pool: Warmed:Pending while its app starts, then frozen.
        seen = set()

        def hibernated():
            instances = self.warm(name)["Instances"]
            seen.update(i["LifecycleState"] for i in instances)
            return instances if [i["LifecycleState"] for i in instances] == [
                "Warmed:Hibernated"] else None
        warm_id = wait_for(hibernated, timeout=30, what="a hibernated warm instance")[0][
            "InstanceId"]
        self.assertTrue(seen <= {"Warmed:Pending", "Warmed:Hibernated"}, seen)
        # Not the group's: not in its Instances, not a target, not counted.
        group = self.group()
        self.assertEqual(group["DesiredCapacity"], 1)
        self.assertNotIn(warm_id, [i["InstanceId"] for i in group["Instances"]])
        tg = group["TargetGroupARNs"][0]
        targets = self.ok("DescribeTargetHealth", {"TargetGroupArn": tg})
        self.assertNotIn(warm_id, [t["Target"]["Id"] for t in targets["TargetHealthDescriptions"]])
        # Frozen by the freezer: its process is there, and uses no CPU even when asked to burn.
        self.assertEqual(self.instance(warm_id)["State"]["Name"], "running")
        self.assertEqual(read(os.path.join(cgroup_v1_dir("freezer", warm_id), "freezer.state")),
                         "FROZEN")
        open(burn, "w").close()
        usage = os.path.join(cgroup_v1_dir("cpuacct", warm_id), "cpuacct.usage")
        before = int(read(usage))
        time.sleep(0.5)  # CPU time is what is measured: it needs time to pass
        self.assertEqual(int(read(usage)), before)
        os.remove(burn)

        # Scale-out: the warm instance is thawed, registered and serves; no instance launched.
        count = len(self.instances())
        started = time.monotonic()
        self.ok("SetDesiredCapacity", {"AutoScalingGroupName": name, "DesiredCapacity": 2})
        wait_for(lambda: get(port, "/", timeout=2) == (200, warm_id), timeout=10, interval=0.005,
                 what="the warm instance to serve through the load balancer")
        elapsed = time.monotonic() - started
        print(f"\nhibernated warm instance serving {elapsed * 1000:.0f} ms after SetDesiredCapacity")
        self.assertEqual(len(self.instances()), count)
        self.assertEqual(read(os.path.join(cgroup_v1_dir("freezer", warm_id), "freezer.state")),
                         "THAWED")
        wait_for(lambda: warm_id in [i["InstanceId"] for i in self.in_service()],
                 what="the warm instance in service")
        self.assertEqual(self.warm(name)["Instances"], [])  # 2 - 2: the pool is empty now
        activities = self.tide_json("asg", "activities", name)["Activities"]
        self.assertTrue(any(a["Description"] == f"Launching a new EC2 instance from warm pool: "
                            f"{warm_id}" and a["StatusCode"] == "Successful" for a in activities),
                        activities)

        # Deleting the stack deletes the pool and the group.
        self.tide("down", "--stack-name", "warm")
        self.assertEqual(self.ok("DescribeAutoScalingGroups")["AutoScalingGroups"], [])


if __name__ == "__main__":
    unittest.main()
