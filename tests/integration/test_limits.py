"""Limits enforced and reported as EC2 reports them (docs/reliability.md, "Limits"), with real
instances: one that allocates past its type's memory is killed by the kernel, shows impaired in
DescribeInstanceStatus and its group replaces it; a fork bomb stays inside its instance's process
limit while the host, the server and a neighbour keep working; a write past the root volume's
size fails inside the instance with ENOSPC and costs the host no more than the volume, which
survives a server restart (and an unmount, as after a reboot) and leaves no mount or loop device
when the instance is terminated; on a data directory smaller than the volume, the instance sees
ENOSPC and the host recovers its space at termination; a console flood is trimmed to its bound. Each skips, saying why, where it needs
root."""

import base64
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import TideServer, TideTestCase, cgroup_v1_dir, serving, wait_for

ROOT = os.geteuid() == 0
V1 = os.path.isdir("/sys/fs/cgroup/memory") and os.path.isdir("/sys/fs/cgroup/pids")

# Touches 200 MiB (b"x" * n writes every page), three times t3.micro's 64 MiB.
ALLOCATE = """#!/bin/sh
echo "allocating"
python3 -c 'x = b"x" * (200 << 20); print("allocated", len(x))'
echo "allocation ended with status $?"
"""

# A bounded fork bomb: forks until the kernel refuses, then says how far it got; the children
# become `sleep 30` at once (small, so that the memory limit does not end the bomb first) and
# hold their processes while the test looks at the host and a neighbour.
FORK_BOMB = """#!/usr/bin/env python3
import errno, os
n = 0
try:
    while n < 100000:
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "30"])
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


# Writes a marker on the root volume, for the restart test.
MARK = """#!/bin/sh
echo kept > marker.txt
echo "marked"
"""


def b64(text):
    return base64.b64encode(text.encode()).decode()


def mounts_under(path):
    """Mount points at or below path (this process's mount table: the host's)."""
    out = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if point == path or point.startswith(path + "/"):
                out.append(point)
    return out


def loop_devices_of(path):
    """The loop devices whose backing file is path (or was, before it was removed)."""
    out = []
    for name in os.listdir("/sys/block"):
        try:
            with open(f"/sys/block/{name}/loop/backing_file") as f:
                if f.read().startswith(path):
                    out.append(name)
        except OSError:
            pass
    return out


def allocated_bytes(folder):
    """The bytes the files under folder take on disk (sparse files count what they hold), not
    crossing into mounts."""
    total = 0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not os.path.ismount(os.path.join(root, d))]
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


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

    def test_a_console_flood_costs_the_host_at_most_its_bound(self):
        # EC2 keeps the latest 64 KB of console output; tide keeps a console log within 1 MiB
        # on the host (trimmed at each pass of the instance controller) however much is written.
        flood = "#!/bin/sh\ntimeout 3 yes 'a line of console output' || true\necho after the flood\n"
        iid = self.run_instance(flood)
        log = os.path.join(self.data_dir, "instances", iid, "console.log")
        peak = 0

        def settled():
            nonlocal peak
            used = os.stat(log).st_blocks * 512
            peak = max(peak, used)
            return used <= 1 << 20 and self.console(iid).endswith("after the flood\n")

        wait_for(settled, 60, interval=0.1, what="the console log trimmed after the flood")
        out = self.console(iid)
        self.assertLessEqual(len(out.encode()), 64 * 1024)
        self.assertIn("a line of console output\n", out)
        print(f"\n  console flood: {peak / (1 << 20):.1f} MiB on the host at the most, "
              f"{os.stat(log).st_blocks * 512 / 1024:.0f} KiB after it")

    @unittest.skipUnless(ROOT and V1, "needs root and cgroup v1 (reads its memory files)")
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
        victim = acts[-1]["Description"].rsplit(" ", 1)[1]

        def replacement():
            g = self.ok("DescribeAutoScalingGroups", {"AutoScalingGroupNames": ["oom"]})[
                "AutoScalingGroups"][0]
            return [i["InstanceId"] for i in g["Instances"] if i["InstanceId"] != victim]
        wait_for(replacement, 60, interval=0.2, what=f"an instance in place of {victim}")

    @unittest.skipUnless(ROOT and V1, "needs root and cgroup v1 (reads its pids files)")
    def test_a_fork_bomb_stays_inside_its_instance(self):
        neighbour = self.run_instance("#!/bin/sh\necho neighbour\n")
        wait_for(lambda: serving(self.instance(neighbour)), 30, what="the neighbour to serve")
        iid = self.run_instance(FORK_BOMB, InstanceType="r5.large")
        with open(os.path.join(cgroup_v1_dir("pids", iid), "pids.max")) as f:
            limit = int(f.read())
        self.assertEqual(limit, 512)  # r5.large's (with 1 GiB, room for 512 processes)
        out = self.console_has(iid, "fork refused after")
        line = [x for x in out.splitlines() if "fork refused after" in x][0]
        forks = int(line.split()[3])
        self.assertLess(forks, limit)
        self.assertIn("EAGAIN", line)
        # While the bomb's children hold every process the instance may have: the host forks,
        # the server answers at once, and the neighbour serves.
        with open(os.path.join(cgroup_v1_dir("pids", iid), "pids.current")) as f:
            self.assertGreaterEqual(int(f.read()), limit - 2)
        self.assertEqual(subprocess.run(["true"], timeout=10).returncode, 0)
        t = time.monotonic()
        self.ok("DescribeInstances")
        self.assertLess(time.monotonic() - t, 5)
        self.assertIsNotNone(serving(self.instance(neighbour)))
        self.assertIn("neighbour", self.console(neighbour))

    def test_status_says_whether_the_root_volume_size_is_enforced(self):
        status = self.tide("status").stdout
        line = [x for x in status.splitlines() if x.strip().startswith("limits:")]
        self.assertEqual(len(line), 1, status)
        if ROOT:
            self.assertIn("root volume size enforced", line[0])
        else:
            self.assertIn("root volume size not enforced: needs root", line[0])

    @unittest.skipUnless(ROOT, "root volumes are loop-mounted file systems: root only")
    def test_a_write_past_the_root_volume_fails_inside_the_instance(self):
        iid = self.run_instance(FILL, BlockDeviceMappings=[
            {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 1}}])
        out = self.console_has(iid, "fill: refused", timeout=120)
        self.assertIn("fill: refused: No space left on device", out)
        out = self.console_has(iid, " MiB\n")
        used = [int(x.split()[1]) for x in out.splitlines()
                if x.startswith("fill: ") and x.endswith(" MiB")]
        self.assertLess(used[0], 1024)
        # The volume file is sparse and never larger than its size: the host's disk is safe.
        folder = os.path.join(self.data_dir, "instances", iid)
        volume = os.path.join(folder, "volume.img")
        st = os.stat(volume)
        self.assertEqual(st.st_size, 1 << 30)
        self.assertLess(st.st_blocks * 512, (1 << 30) + (64 << 20))
        # Nor is all the instance holds on the host (its folder, mounts not crossed); measured
        # per file, not as the file system's usage, which other programs change meanwhile.
        self.assertLess(allocated_bytes(folder), (1 << 30) + (64 << 20))
        # Terminated: no mount, no loop device, no file left, also while an instance started
        # meanwhile runs (its namespace's hidden copy of this volume's mount goes too).
        self.assertEqual(len(loop_devices_of(volume)), 1)
        neighbour = self.run_instance("#!/bin/sh\necho neighbour\n")
        self.console_has(neighbour, "neighbour")
        self.ok("TerminateInstances", {"InstanceIds": [iid]})
        self.wait_state(iid, "terminated")
        wait_for(lambda: not os.path.exists(folder), 30, what=f"{folder} to be removed")
        self.assertEqual(mounts_under(folder), [])
        wait_for(lambda: not loop_devices_of(volume), 10, what=f"the loop device of {volume}")
        self.assertEqual(self.instance(neighbour)["State"]["Name"], "running")

    @unittest.skipUnless(ROOT, "root volumes are loop-mounted file systems: root only")
    def test_a_root_volume_survives_a_server_restart_and_a_reboot(self):
        iid = self.run_instance(MARK)
        self.console_has(iid, "marked")
        folder = os.path.join(self.data_dir, "instances", iid)
        volume = os.path.join(folder, "volume.img")
        self.assertEqual(os.stat(volume).st_size, 8 << 30)  # the default size
        self.assertIn(os.path.join(folder, "volume"), mounts_under(folder))
        # A server killed and started again finds the instance with its volume still mounted.
        self.restart_server(signal.SIGKILL)
        self.assertEqual(self.wait_state(iid, "running")["InstanceId"], iid)
        self.assertIn(os.path.join(folder, "volume"), mounts_under(folder))
        self.assertEqual(len(loop_devices_of(volume)), 1)
        # Stopped and unmounted, as after a reboot: the next start mounts it again.
        self.ok("StopInstances", {"InstanceIds": [iid]})
        self.wait_state(iid, "stopped")
        for point in sorted(mounts_under(folder), key=len, reverse=True):
            subprocess.run(["umount", "-l", point], check=True, timeout=30)
        wait_for(lambda: not loop_devices_of(volume), 10, what=f"the loop device of {volume}")
        self.ok("StartInstances", {"InstanceIds": [iid]})
        self.wait_state(iid, "running")
        self.assertIn(os.path.join(folder, "volume"), mounts_under(folder))
        with open(os.path.join(folder, "volume", "disk", "marker.txt")) as f:
            self.assertEqual(f.read(), "kept\n")
        self.ok("TerminateInstances", {"InstanceIds": [iid]})
        self.wait_state(iid, "terminated")
        wait_for(lambda: not os.path.exists(folder), 30, what=f"{folder} to be removed")
        self.assertEqual(mounts_under(folder), [])
        wait_for(lambda: not loop_devices_of(volume), 10, what=f"the loop device of {volume}")

@unittest.skipUnless(ROOT, "root volumes and a small tmpfs as the data directory need root")
class ThinVolumeTest(TideTestCase):
    """A data directory smaller than an instance's root volume (volumes are sparse: thin)."""

    def setUp(self):
        # The harness's setUp starts the server: mount first, on the folder it will use.
        self.tmp = tempfile.mkdtemp(prefix="tide-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.data_dir = os.path.join(self.tmp, "data")
        os.mkdir(self.data_dir)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96m,mode=0755", "tmpfs",
                        self.data_dir], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.data_dir], check=False)
        self.server = TideServer(self.data_dir, *self.server_args)
        self.addCleanup(self._end_server)

    def test_an_instance_that_outgrows_the_host_disk_fails_inside_and_can_be_terminated(self):
        app = os.path.join(self.tmp, "app")
        os.mkdir(app)
        image = self.ok("CreateImage", {"Name": "thin", "SourceDirectory": app,
                                        "RunCommand": "sleep 600"})["ImageId"]
        wait_for(lambda: self.ok("DescribeImages", {"ImageIds": [image]})["Images"][0][
            "State"] == "available", 60, what=f"{image} to be available")
        # (the console, in the full data directory, cannot say it: the volume says it)
        fill = ("#!/bin/sh\ndd if=/dev/zero of=fill bs=1M count=512 oflag=direct 2>dd.err\n"
                "echo $? > dd.rc\n")
        iid = self.ok("RunInstances", {
            "ImageId": image, "InstanceType": "t3.micro", "UserData": b64(fill),
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 1}}]})[
            "Instances"][0]["InstanceId"]
        self.wait_state(iid, "running")
        folder = os.path.join(self.data_dir, "instances", iid)
        volume = os.path.join(folder, "volume.img")
        rc = os.path.join(folder, "volume", "disk", "dd.rc")
        wait_for(lambda: os.path.exists(rc) and open(rc).read(), 120,
                 what="the write past the host's disk to end inside the instance")
        with open(rc) as f:
            self.assertEqual(f.read(), "1\n")  # failed
        # The loop device passes the host's ENOSPC on: the instance sees a full volume.
        with open(os.path.join(folder, "volume", "disk", "dd.err")) as f:
            self.assertIn("No space left on device", f.read())
        # The host's file system is full; the server still answers and terminates the instance,
        # which gives the space back and leaves no mount or loop device.
        self.assertLess(shutil.disk_usage(self.data_dir).free, 16 << 20)
        self.ok("DescribeInstances")
        self.ok("TerminateInstances", {"InstanceIds": [iid]})
        self.wait_state(iid, "terminated", timeout=60)
        wait_for(lambda: not os.path.exists(folder), 30, what=f"{folder} to be removed")
        self.assertEqual(mounts_under(folder), [])
        wait_for(lambda: not loop_devices_of(volume), 10, what=f"the loop device of {volume}")
        wait_for(lambda: shutil.disk_usage(self.data_dir).free > 64 << 20, 30,
                 what="the space to come back")


if __name__ == "__main__":
    unittest.main()
