"""Image imports and launches' disks are made off the control thread (docs/reliability.md,
"No blocking").

The server is started with TIDE_TEST_HOLD_IMPORTS=<file>: while that file exists, the image
controller's worker holds an import before it copies anything. A held import stands for a long
one: the tests see what the rest of the server does meanwhile, what a deregistration, a stop
and a crash do to it, and release it by removing the file. No test depends on timing.

Launches in copy mode (`--disks copy`: each instance gets its own copy of its image's tree)
are held the same way with TIDE_TEST_HOLD_LAUNCHES=<file>: the instance controller's worker
holds the disk it took before it makes anything, and a terminate (a cancel) ends the hold.
"""

import base64
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import SHOP, TideServer, TideTestCase, wait_for

BASE_IMAGE_ID = "ami-0ee8d2b74358b2001"


class NoBlockingTest(TideTestCase):
    def setUp(self):
        self.hold = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                 f"tide-hold-imports-{os.getpid()}-{id(self)}")
        self.addCleanup(lambda: os.path.exists(self.hold) and os.remove(self.hold))
        os.environ["TIDE_TEST_HOLD_IMPORTS"] = self.hold
        try:
            super().setUp()
        finally:
            del os.environ["TIDE_TEST_HOLD_IMPORTS"]
        # The built-in base image is imported at start: let it finish first.
        wait_for(lambda: self.image_state(BASE_IMAGE_ID) == "available", timeout=60,
                 what="the base image")

    def restart_server(self, sig=signal.SIGTERM):
        os.environ["TIDE_TEST_HOLD_IMPORTS"] = self.hold
        try:
            super().restart_server(sig)
        finally:
            del os.environ["TIDE_TEST_HOLD_IMPORTS"]

    def hold_imports(self):
        with open(self.hold, "w"):
            pass

    def release_imports(self):
        os.remove(self.hold)

    def image_state(self, image_id):
        status, body = self.api("DescribeImages", {"ImageIds": [image_id]})
        if status != 200:
            return body["__type"]
        return body["Images"][0]["State"]

    def create_image(self, name, directory=SHOP):
        return self.ok("CreateImage", {"Name": name, "SourceDirectory": directory,
                                       "RunCommand": "python3 server.py"})["ImageId"]

    def stored_digests(self):
        return sorted(d for d in os.listdir(os.path.join(self.data_dir, "images"))
                      if not d.startswith("."))

    def test_controllers_go_on_while_an_import_is_held(self):
        shop = self.make_image("shop-v1")  # imported before the hold
        self.hold_imports()
        held = self.create_image("held", self.app_dir({"server.py": "print('held')\n"}))
        queued = self.create_image("queued", self.app_dir({"server.py": "print('queued')\n"}))
        self.assertEqual(self.image_state(held), "pending")

        # The API answers and the instance controller launches while the import is held.
        started = time.monotonic()
        slowest = 0.0
        for _ in range(20):
            t = time.monotonic()
            self.ok("DescribeImages", {"ImageIds": [held]})
            slowest = max(slowest, time.monotonic() - t)
        print(f"\n  DescribeImages during a held import: slowest of 20 {slowest * 1000:.1f} ms")
        run = self.ok("RunInstances", {"ImageId": shop, "InstanceType": "t3.micro"})
        instance = run["Instances"][0]["InstanceId"]
        self.wait_state(instance, "running", timeout=60)
        self.assertEqual(self.image_state(held), "pending")
        self.assertEqual(self.image_state(queued), "pending")
        print(f"  an instance reached running {time.monotonic() - started:.2f} s into the hold")

        # Deregistered while its import is held: it stays gone once the import ends, and its
        # files do not stay behind. The next image is imported after it.
        digests_before = self.stored_digests()
        self.ok("DeregisterImage", {"ImageId": held})
        self.release_imports()
        wait_for(lambda: self.image_state(queued) == "available", timeout=60,
                 what="the queued image")
        self.assertEqual(self.image_state(held), "InvalidAMIID.NotFound")
        queued_digest = self.ok("DescribeImages", {"ImageIds": [queued]})["Images"][0][
            "ContentDigest"].split(":")[1]
        wait_for(lambda: self.stored_digests() == sorted(digests_before + [queued_digest]),
                 timeout=30, what="only the queued image's files to be added")

    def test_a_stop_during_an_import_is_clean_and_the_next_start_imports_it(self):
        self.hold_imports()
        image = self.create_image("stopped")
        started = time.monotonic()
        self.server.stop(signal.SIGTERM)
        self.assertEqual(self.server.proc.returncode, 0)
        print(f"\n  the server stopped {time.monotonic() - started:.2f} s after SIGTERM "
              f"with an import held")
        self.release_imports()
        self.restart_server()
        wait_for(lambda: self.image_state(image) == "available", timeout=60,
                 what="the image imported at the restart")

    def test_a_crash_during_an_import_leaves_it_pending_and_it_is_imported_again(self):
        self.hold_imports()
        image = self.create_image("crashed")
        self.assertEqual(self.image_state(image), "pending")
        self.restart_server(signal.SIGKILL)
        # Still held by the file: the restarted server found it pending.
        self.assertEqual(self.image_state(image), "pending")
        self.release_imports()
        wait_for(lambda: self.image_state(image) == "available", timeout=60,
                 what="the image imported after the crash")
        leftovers = [d for d in os.listdir(os.path.join(self.data_dir, "images"))
                     if d.startswith(".tmp-")]
        self.assertEqual(leftovers, [])


class LaunchNoBlockingTest(TideTestCase):
    """A copy-mode launch's disk is made on the instance controller's worker."""

    server_args = ("--termination-grace", "2", "--disks", "copy")

    def setUp(self):
        self.hold = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                 f"tide-hold-launches-{os.getpid()}-{id(self)}")
        self.addCleanup(lambda: os.path.exists(self.hold) and os.remove(self.hold))
        self.start_with_hold(super().setUp)
        wait_for(lambda: self.base_image_available(), timeout=60, what="the base image")

    def start_with_hold(self, start):
        os.environ["TIDE_TEST_HOLD_LAUNCHES"] = self.hold
        try:
            start()
        finally:
            del os.environ["TIDE_TEST_HOLD_LAUNCHES"]

    def restart_server(self, sig=signal.SIGTERM):
        self.start_with_hold(lambda: TideTestCase.restart_server(self, sig))

    def base_image_available(self):
        status, body = self.api("DescribeImages", {"ImageIds": [BASE_IMAGE_ID]})
        return status == 200 and body["Images"][0]["State"] == "available"

    def hold_launches(self):
        with open(self.hold, "w"):
            pass

    def release_launches(self):
        os.remove(self.hold)

    def big_image(self, name="big", mib=32):
        """An image of `mib` MiB of random data in 4 files, and an app that serves."""
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        for n in range(4):
            with open(os.path.join(d, f"blob-{n}"), "wb") as f:
                f.write(os.urandom((mib << 20) // 4))
        image = self.ok("CreateImage", {"Name": name, "SourceDirectory": d,
                                        "RunCommand": "sleep 600"})["ImageId"]
        wait_for(lambda: self.ok("DescribeImages", {"ImageIds": [image]})["Images"][0][
            "State"] == "available", timeout=120, what=f"the image {name}")
        return image

    def state(self, instance_id):
        return self.instance(instance_id)["State"]["Name"]

    def instance_dir(self, instance_id):
        return os.path.join(self.data_dir, "instances", instance_id)

    def test_the_api_answers_while_a_launch_prepares_its_disk(self):
        image = self.big_image()
        self.hold_launches()
        run = self.ok("RunInstances", {"ImageId": image, "InstanceType": "t3.nano"})
        instance = run["Instances"][0]["InstanceId"]
        slowest = 0.0
        for _ in range(20):
            t = time.monotonic()
            self.assertEqual(self.state(instance), "pending")
            slowest = max(slowest, time.monotonic() - t)
        print(f"\n  DescribeInstances during a held launch: slowest of 20 {slowest * 1000:.1f} ms")
        # Another controller goes on meanwhile: an import ends while the launch is held.
        other = self.create_small_image("during-the-launch")
        wait_for(lambda: self.ok("DescribeImages", {"ImageIds": [other]})["Images"][0][
            "State"] == "available", timeout=60, what="an import during the held launch")
        self.assertEqual(self.state(instance), "pending")

        # Released: the copy runs on the worker while the API answers; then it runs on its own
        # copy of the image's files.
        self.release_launches()
        latencies = []
        while True:
            t = time.monotonic()
            state = self.state(instance)
            latencies.append(time.monotonic() - t)
            if state != "pending":
                break
            self.assertLess(len(latencies), 60000, "the launch never left pending")
        print(f"  DescribeInstances during the copy: {len(latencies)} answers, slowest "
              f"{max(latencies) * 1000:.1f} ms")
        self.assertEqual(state, "running")
        disk = self.instance(instance)["WorkingDirectory"]
        self.assertEqual(sorted(os.listdir(disk)), [f"blob-{n}" for n in range(4)])

    def create_small_image(self, name):
        return self.ok("CreateImage", {"Name": name, "SourceDirectory": SHOP,
                                       "RunCommand": "python3 server.py"})["ImageId"]

    def test_a_terminate_during_the_preparation_leaves_nothing(self):
        image = self.big_image()
        self.hold_launches()
        run = self.ok("RunInstances", {"ImageId": image, "InstanceType": "t3.nano",
                                       "MinCount": 2, "MaxCount": 2})
        ids = [i["InstanceId"] for i in run["Instances"]]
        self.ok("TerminateInstances", {"InstanceIds": ids})
        # Still held: a terminate cancels the preparation, it does not wait for the hold.
        for i in ids:
            found = self.wait_state(i, "terminated", timeout=30)
            self.assertEqual(found["StateReason"]["Code"], "Client.UserInitiatedShutdown")
            self.assertFalse(os.path.exists(self.instance_dir(i)), i)
        self.assertTrue(os.path.exists(self.hold))

    def test_a_stop_during_the_preparation_is_clean_and_the_next_start_launches(self):
        image = self.big_image()
        self.hold_launches()
        instance = self.ok("RunInstances", {"ImageId": image, "InstanceType": "t3.nano"})[
            "Instances"][0]["InstanceId"]
        started = time.monotonic()
        self.server.stop(signal.SIGTERM)
        self.assertEqual(self.server.proc.returncode, 0)
        print(f"\n  the server stopped {time.monotonic() - started:.2f} s after SIGTERM "
              f"with a launch held")
        self.release_launches()
        self.restart_server()
        self.wait_state(instance, "running", timeout=60)

    def test_a_crash_during_the_preparation_converges(self):
        image = self.big_image()
        self.hold_launches()
        user_data = base64.b64encode(b"#!/bin/sh\necho ran >> user-data-ran.txt\n").decode()
        instance = self.ok("RunInstances", {"ImageId": image, "InstanceType": "t3.nano",
                                            "UserData": user_data})["Instances"][0]["InstanceId"]
        self.restart_server(signal.SIGKILL)
        # Still held by the file: the restarted server found it pending.
        self.assertEqual(self.state(instance), "pending")
        self.release_launches()
        found = self.wait_state(instance, "running", timeout=60)
        disk = found["WorkingDirectory"]
        wait_for(lambda: os.path.exists(os.path.join(disk, "user-data-ran.txt")), timeout=30,
                 what="the user data to run")
        with open(os.path.join(disk, "user-data-ran.txt")) as f:
            self.assertEqual(f.read(), "ran\n")
        self.assertFalse(os.path.exists(os.path.join(self.instance_dir(instance), "disk.tmp")))


SMALL_FS_MIB = 64
IMAGE_MIB = 16


@unittest.skipUnless(os.geteuid() == 0, "needs root to mount a small tmpfs as the data directory")
class LaunchOutOfSpaceTest(TideTestCase):
    """A launch whose disk copy runs out of space ends with the reason; nothing of it stays."""

    server_args = ("--termination-grace", "2", "--disks", "copy")

    def setUp(self):
        # The harness's setUp starts the server: mount first, on the folder it will use.
        self.tmp = tempfile.mkdtemp(prefix="tide-it-")
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.data_dir = os.path.join(self.tmp, "data")
        os.mkdir(self.data_dir)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SMALL_FS_MIB}m,mode=0755", "tmpfs",
                        self.data_dir], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.data_dir], check=False)
        self.server = TideServer(self.data_dir, *self.server_args)
        self.addCleanup(self._end_server)

    def test_a_copy_that_runs_out_of_space_ends_the_instance_with_its_reason(self):
        app = os.path.join(self.tmp, "app")
        os.mkdir(app)
        for n in range(4):
            with open(os.path.join(app, f"blob-{n}"), "wb") as f:
                f.write(os.urandom((IMAGE_MIB << 20) // 4))
        image = self.ok("CreateImage", {"Name": "big", "SourceDirectory": app,
                                        "RunCommand": "sleep 600"})["ImageId"]
        wait_for(lambda: self.ok("DescribeImages", {"ImageIds": [image]})["Images"][0][
            "State"] == "available", timeout=60, what="the image")
        st = os.statvfs(self.data_dir)
        free_before = st.f_bavail * st.f_frsize
        # Three copies of 16 MiB do not fit in what is left: at least one runs out of space.
        run = self.ok("RunInstances", {"ImageId": image, "InstanceType": "t3.nano",
                                       "MinCount": 3, "MaxCount": 3})
        ids = [i["InstanceId"] for i in run["Instances"]]
        wait_for(lambda: all(self.instance(i)["State"]["Name"] in ("running", "terminated")
                             for i in ids), timeout=60, what="every launch to end")
        failed = [self.instance(i) for i in ids
                  if self.instance(i)["State"]["Name"] == "terminated"]
        self.assertGreaterEqual(len(failed), 1, f"{free_before >> 20} MiB were free")
        for i in failed:
            self.assertEqual(i["StateReason"]["Code"], "Server.InternalError")
            self.assertIn("No space left on device", i["StateReason"]["Message"])
            self.assertFalse(os.path.exists(self.instance_dir(i["InstanceId"])),
                             i["InstanceId"])
        print(f"\n  {len(failed)} of 3 launches ran out of space: "
              f"{failed[0]['StateReason']['Message']}")
        # Nothing of a failed copy stays: the running ones' disks are all that was added.
        running = len(ids) - len(failed)
        self.ok("TerminateInstances", {"InstanceIds": ids})
        for i in ids:
            self.wait_state(i, "terminated")
        st = os.statvfs(self.data_dir)
        self.assertGreater(st.f_bavail * st.f_frsize, free_before - (4 << 20),
                           f"{running} ran; space not given back")

    def instance_dir(self, instance_id):
        return os.path.join(self.data_dir, "instances", instance_id)


if __name__ == "__main__":
    unittest.main()
