"""Image imports run off the control thread (docs/reliability.md, "No blocking").

The server is started with TIDE_TEST_HOLD_IMPORTS=<file>: while that file exists, the image
controller's worker holds an import before it copies anything. A held import stands for a long
one: the tests see what the rest of the server does meanwhile, what a deregistration, a stop
and a crash do to it, and release it by removing the file. No test depends on timing.
"""

import os
import signal
import time
import unittest

from harness import SHOP, TideTestCase, wait_for

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


if __name__ == "__main__":
    unittest.main()
