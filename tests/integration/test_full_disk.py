"""A full data directory through the real tide binary: deletes still work (space can always be
freed through tide), actions that need space fail clearly, nothing is corrupted.

The data directory is a small tmpfs mounted for the test (root only; skipped otherwise). An
instance fills it to 100 % with its console output, as a chatty app would (its disk cannot: as
root it lives in the instance's root volume, whose size is its limit, docs/reliability.md).
"""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from harness import TideServer, TideTestCase, wait_for

SIZE_MIB = 64
IMAGE_MIB = 10
RESERVE = "state.db-reserve"


RESERVE_BYTES = 8 << 20


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def allocated(path):
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0


@unittest.skipUnless(os.geteuid() == 0, "needs root to mount a small tmpfs as the data directory")
def wait_image(test, image_id, state="available"):
    return wait_for(lambda: (lambda i: i if i["State"] == state else None)(
        test.ok("DescribeImages", {"ImageIds": [image_id]})["Images"][0]),
        timeout=60, what=f"{image_id} to be {state}")


class FullDiskTest(TideTestCase):
    def setUp(self):
        # The harness's setUp starts the server: mount first, on the folder it will use.
        self.tmp = tempfile.mkdtemp(prefix="tide-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.data_dir = os.path.join(self.tmp, "data")
        os.mkdir(self.data_dir)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MIB}m,mode=0755", "tmpfs",
                        self.data_dir], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.data_dir], check=False)
        self.server = TideServer(self.data_dir, *self.server_args)
        self.addCleanup(self._end_server)

    def image_of(self, name, mib, run="sleep 600"):
        """An image of a folder holding `mib` MiB of random bytes (outside the data dir)."""
        app = os.path.join(self.tmp, name)
        os.mkdir(app)
        with open(os.path.join(app, "blob"), "wb") as f:
            f.write(os.urandom(mib << 20))
        return self.ok("CreateImage", {"Name": name, "SourceDirectory": app,
                                       "RunCommand": run})["ImageId"]

    def wait_image(self, image_id, state="available"):
        return wait_image(self, image_id, state)

    def stack_status(self, name):
        status, body = self.api("DescribeStacks", {"StackName": name})
        return body["Stacks"][0]["StackStatus"] if status == 200 else None

    def test_a_full_data_directory_is_emptied_through_tide(self):
        self.assertGreaterEqual(allocated(os.path.join(self.data_dir, RESERVE)), RESERVE_BYTES)
        # Data that fills the disk: two images, a launch template.
        big = [self.image_of(f"big-{i}", IMAGE_MIB) for i in (1, 2)]
        for image_id in big:
            self.wait_image(image_id)
        lt = self.ok("CreateLaunchTemplate", {"LaunchTemplateName": "web", "LaunchTemplateData": {
            "ImageId": big[0], "InstanceType": "t3.micro"}})["LaunchTemplate"]["LaunchTemplateId"]
        self.ok("CreateAutoScalingGroup", {"AutoScalingGroupName": "web",
                                           "LaunchTemplate": {"LaunchTemplateId": lt},
                                           "MinSize": 0, "MaxSize": 1, "DesiredCapacity": 0})
        self.ok("CreateStack", {"StackName": "templates", "TemplateBody": json.dumps({
            "Resources": {"Lt": {"Type": "AWS::EC2::LaunchTemplate", "Properties": {
                "LaunchTemplateName": "from-stack",
                "LaunchTemplateData": {"ImageId": big[1], "InstanceType": "t3.micro"}}}}})})
        wait_for(lambda: self.stack_status("templates") == "CREATE_COMPLETE", timeout=60,
                 what="the stack to be created")

        # An instance writes to its disk until the host's file system is full: its root volume is
        # larger (thin), and direct writes meet the host's ENOSPC at once (where the disk cannot
        # take direct writes, plain ones). Its console could not do it: tide keeps a console log
        # within 1 MiB. (`done`, on its own disk, says the writer met the full disk and stopped)
        filler = self.image_of("filler", 0, "dd if=/dev/zero of=fill bs=1M oflag=direct 2>dd.err;"
                               " grep -q 'No space' dd.err || cat /dev/zero >> fill;"
                               " touch done; exec sleep 600")
        self.wait_image(filler)
        run = self.ok("RunInstances", {"ImageId": filler, "InstanceType": "t3.micro",
                                       "MinCount": 1, "MaxCount": 1})
        filler_id = run["Instances"][0]["InstanceId"]
        self.wait_state(filler_id, "running")
        folder = os.path.join(self.data_dir, "instances", filler_id)
        disk = os.path.join(folder, "volume", "disk")
        if not os.path.isdir(disk):  # no root volume
            disk = os.path.join(folder, "disk")
        wait_for(lambda: os.path.exists(os.path.join(disk, "done")), timeout=60,
                 what="the instance to fill the data directory")
        # Full: what is free is at most the steps of the reserve that transactions gave back.
        reserve = os.path.join(self.data_dir, RESERVE)
        self.assertLessEqual(free_bytes(self.data_dir) + allocated(reserve), RESERVE_BYTES)

        # Actions that need space fail clearly and add nothing.
        images_before = self.ok("DescribeImages")["Images"]
        app = os.path.join(self.tmp, "small")
        os.mkdir(app)
        status, body = self.api("CreateImage", {"Name": "small", "SourceDirectory": app,
                                                "RunCommand": "sleep 600"})
        self.assertEqual((status, body["__type"]), (400, "InsufficientVolumeCapacity"), body)
        self.assertIn(self.data_dir, body["message"])
        self.assertIn("DeregisterImage", body["message"])
        status, body = self.api("RunInstances", {"ImageId": big[0], "InstanceType": "t3.micro",
                                                 "MinCount": 1, "MaxCount": 1})
        self.assertEqual((status, body["__type"]), (400, "InsufficientInstanceCapacity"), body)
        self.assertEqual(self.ok("DescribeImages")["Images"], images_before)

        # The server restarts on the full disk and finds everything.
        self.restart_server()
        self.assertEqual(self.ok("DescribeImages")["Images"], images_before)
        self.assertEqual(self.instance(filler_id)["State"]["Name"], "running")

        # Deletes work: a group, a stack, a launch template, then the images; their files go,
        # space returns.
        self.ok("DeleteAutoScalingGroup", {"AutoScalingGroupName": "web"})
        wait_for(lambda: not self.ok("DescribeAutoScalingGroups")["AutoScalingGroups"],
                 timeout=60, what="the group to be deleted")
        self.ok("DeleteStack", {"StackName": "templates"})
        wait_for(lambda: self.stack_status("templates") in (None, "DELETE_COMPLETE"), timeout=60,
                 what="the stack to be deleted")
        self.ok("DeleteLaunchTemplate", {"LaunchTemplateId": lt})
        self.assertEqual(self.ok("DescribeLaunchTemplates")["LaunchTemplates"], [])
        for image_id in big:
            self.assertEqual(self.ok("DeregisterImage", {"ImageId": image_id})["Return"], True)
        wait_for(lambda: free_bytes(self.data_dir) > IMAGE_MIB << 20, timeout=60,
                 what="the images' files to be removed")

        # The reserve comes back with the next transaction (the controllers make one every
        # second at least), and creates work again.
        wait_for(lambda: allocated(reserve) >= RESERVE_BYTES, timeout=30,
                 what="the reserve to be taken back")
        small = self.ok("CreateImage", {"Name": "small", "SourceDirectory": app,
                                        "RunCommand": "sleep 600"})["ImageId"]
        self.wait_image(small)

        # The instance that filled the disk can be terminated too (its files go with it).
        self.ok("TerminateInstances", {"InstanceIds": [filler_id]})
        self.wait_state(filler_id, "terminated")
        wait_for(lambda: free_bytes(self.data_dir) > (SIZE_MIB // 2) << 20, timeout=60,
                 what="the instance's disk to be removed")

        # Nothing is corrupted.
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.data_dir, "state.db"))
        self.assertEqual(db.execute("PRAGMA integrity_check").fetchone()[0], "ok")
        db.close()
        self.server = TideServer(self.data_dir, *self.server_args)
        names = sorted(i["Name"] for i in self.ok("DescribeImages")["Images"])
        self.assertEqual(names, ["filler", "small"])


class StoreBusyTest(TideTestCase):
    def test_a_store_locked_by_another_connection_gives_internal_error_and_changes_nothing(self):
        app = os.path.join(self.tmp, "app")
        os.mkdir(app)
        image_id = self.ok("CreateImage", {"Name": "app", "SourceDirectory": app,
                                           "RunCommand": "sleep 600"})["ImageId"]
        # Imported (on the image worker) before the lock, so that nothing changes under it.
        before = [wait_image(self, image_id)]
        # Another program holds the store's write lock (as `sqlite3 state.db` could).
        other = sqlite3.connect(os.path.join(self.data_dir, "state.db"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            # The store waits 5 s per try, 3 tries: then InternalError, nothing changed. The
            # controllers' own writes wait on the lock as well, on the same thread, before it.
            status, body = self.api("DeregisterImage", {"ImageId": image_id}, timeout=120)
            self.assertEqual((status, body["__type"]), (500, "InternalError"), body)
            self.assertIn("busy", body["message"])
        finally:
            other.execute("ROLLBACK")
            other.close()
        self.assertEqual(self.ok("DescribeImages", {"ImageIds": [image_id]})["Images"], before)
        self.assertEqual(self.ok("DeregisterImage", {"ImageId": image_id})["Return"], True)


if __name__ == "__main__":
    unittest.main()
