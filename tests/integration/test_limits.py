"""Limits enforced and reported as EC2 reports them (docs/reliability.md, "Limits"), with real
instances: one that allocates past its type's memory is killed by the kernel, shows impaired in
DescribeInstanceStatus and its group replaces it; a fork bomb stays inside its instance's process
limit while the server answers; a write past the root volume's size fails inside the instance
with ENOSPC and costs the host no more than the volume."""

import base64
import os
import time
import unittest

from harness import SHOP, TideTestCase, cgroup_v1_dir, wait_for

ROOT = os.geteuid() == 0
V1 = os.path.isdir("/sys/fs/cgroup/memory") and os.path.isdir("/sys/fs/cgroup/pids")

# Touches 200 MiB (b"x" * n writes every page), three times t3.micro's 64 MiB.
ALLOCATE = """#!/bin/sh
echo "allocating"
python3 -c 'x = b"x" * (200 << 20); print("allocated", len(x))'
echo "allocation ended with status $?"
"""

# A bounded fork bomb: forks until the kernel refuses, then says how far it got; the children
# sleep a little and go, so that the app starts afterwards.
FORK_BOMB = """#!/usr/bin/env python3
import errno, os, time
n = 0
try:
    while n < 100000:
        if os.fork() == 0:
            time.sleep(2)
            os._exit(0)
        n += 1
except OSError as e:
    print("fork refused after", n, "forks:", errno.errorcode.get(e.errno), flush=True)
else:
    print("fork never refused", flush=True)
"""

# Fills the root volume (1 GiB) with 1100 MiB.
FILL = """#!/bin/sh
if dd if=/dev/zero of=fill bs=1M count=1100 2>dd.err; then
  echo "fill: written"
else
  echo "fill: refused: $(grep -o 'No space left on device' dd.err | head -n 1)"
fi
sync
echo "fill: $(du -m fill | cut -f1) MiB"
rm -f fill dd.err
"""


def b64(text):
    return base64.b64encode(text.encode()).decode()


class LimitsTest(TideTestCase):
    def run_instance(self, user_data, **extra):
        params = {"ImageId": self.image, "InstanceType": "t3.micro", "UserData": b64(user_data)}
        params.update(extra)
        iid = self.ok("RunInstances", params)["Instances"][0]["InstanceId"]
        self.wait_state(iid, "running")
        return iid

    def console(self, iid):
        out = self.ok("GetConsoleOutput", {"InstanceId": iid}).get("Output", "")
        return base64.b64decode(out).decode(errors="replace")

    def console_has(self, iid, text, timeout=60):
        return wait_for(lambda: (lambda out: out if text in out else None)(self.console(iid)),
                        timeout, interval=0.1, what=f"{text!r} in the console of {iid}")

    def status(self, iid):
        s = self.ok("DescribeInstanceStatus", {"InstanceIds": [iid]})["InstanceStatuses"]
        return s[0] if s else None

    def setUp(self):
        super().setUp()
        self.image = self.make_image()

    @unittest.skipUnless(ROOT and V1, "memory limits need root and cgroups")
    def test_an_oom_killed_instance_is_impaired_and_its_group_replaces_it(self):
        iid = self.run_instance(ALLOCATE)
        self.console_has(iid, "allocation ended with status 137")  # SIGKILL from the kernel
        s = wait_for(lambda: (lambda s: s if s["InstanceStatus"]["Status"] == "impaired"
                              else None)(self.status(iid)), 30, what=f"{iid} to be impaired")
        self.assertEqual(s["InstanceState"]["Name"], "running")
        self.assertEqual(s["InstanceStatus"]["Details"][0],
                         {"Name": "reachability", "Status": "failed",
                          "ImpairedSince": s["InstanceStatus"]["Details"][0]["ImpairedSince"]})
        self.assertEqual(s["SystemStatus"]["Status"], "ok")
        with open(os.path.join(cgroup_v1_dir("memory", iid), "memory.limit_in_bytes")) as f:
            self.assertEqual(int(f.read()), 64 << 20)  # t3.micro's
        impaired = self.ok("DescribeInstanceStatus", {"Filters": [
            {"Name": "instance-status.status", "Values": ["impaired"]}]})["InstanceStatuses"]
        self.assertEqual([x["InstanceId"] for x in impaired], [iid])

        # In a group: the EC2 health check sees it unhealthy and the group replaces it.
        self.ok("CreateLaunchTemplate", {"LaunchTemplateName": "oom", "LaunchTemplateData": {
            "ImageId": self.image, "InstanceType": "t3.micro", "UserData": b64(ALLOCATE)}})
        self.ok("CreateAutoScalingGroup", {
            "AutoScalingGroupName": "oom", "LaunchTemplate": {"LaunchTemplateName": "oom"},
            "MinSize": 1, "MaxSize": 1, "DesiredCapacity": 1, "HealthCheckGracePeriod": 0})

        def replaced():
            acts = self.ok("DescribeScalingActivities", {"AutoScalingGroupName": "oom"})[
                "Activities"]
            done = [a for a in acts if "EC2 instance status checks failure" in a["Cause"]]
            return done or None
        acts = wait_for(replaced, 60, interval=0.2, what="the group to replace the instance")
        self.assertIn("Terminating EC2 instance", acts[0]["Description"])

    @unittest.skipUnless(ROOT and V1, "process limits need root and cgroups")
    def test_a_fork_bomb_stays_inside_its_instance(self):
        iid = self.run_instance(FORK_BOMB)
        with open(os.path.join(cgroup_v1_dir("pids", iid), "pids.max")) as f:
            limit = int(f.read())
        self.assertEqual(limit, 256)  # t3.micro's
        out = self.console_has(iid, "fork refused after")
        line = [x for x in out.splitlines() if "fork refused after" in x][0]
        forks = int(line.split()[3])
        self.assertLess(forks, limit)
        self.assertIn("EAGAIN", line)
        # The host is unaffected: the server answers at once, and so does a neighbour.
        t = time.monotonic()
        self.ok("DescribeInstances")
        self.assertLess(time.monotonic() - t, 5)
        other = self.run_instance("#!/bin/sh\necho neighbour\n")
        self.console_has(other, "neighbour")

    @unittest.skipUnless(ROOT, "root volumes are loop-mounted file systems: root only")
    def test_a_write_past_the_root_volume_fails_inside_the_instance(self):
        status = self.tide("status").stdout
        self.assertIn("root volume size enforced", status)
        iid = self.run_instance(FILL, BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 1}}])
        out = self.console_has(iid, "fill: refused", timeout=120)
        self.assertIn("fill: refused: No space left on device", out)
        out = self.console_has(iid, " MiB\n")
        used = [int(x.split()[1]) for x in out.splitlines()
                if x.startswith("fill: ") and x.endswith(" MiB")]
        self.assertLess(used[0], 1024)
        # The volume file is sparse and never larger than its size: the host's disk is safe.
        volume = os.path.join(self.data_dir, "instances", iid, "volume.img")
        st = os.stat(volume)
        self.assertEqual(st.st_size, 1 << 30)
        self.assertLess(st.st_blocks * 512, (1 << 30) + (64 << 20))


if __name__ == "__main__":
    unittest.main()
