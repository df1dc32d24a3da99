"""Instances as real processes: addresses, environment, own files, logs, cgroup limits and CPU
readings, stop/start, app exit, termination that leaves nothing behind."""

import os
import unittest

from harness import (SHOP, TideTestCase, cgroup_v1_dir, http_get, pid_alive, serving,
                     wait_for)

BUSY = "while :; do :; done"


def cgroups_v1_writable():
    return os.geteuid() == 0 and os.access("/sys/fs/cgroup/cpu", os.W_OK) and os.path.isdir(
        "/sys/fs/cgroup/cpuacct")


class InstanceTest(TideTestCase):
    def test_instances_serve_on_their_own_address_with_their_own_files(self):
        image_id = self.make_image()
        run = self.tide_json("instance", "run", "--image-id", image_id,
                             "--instance-type", "t3.micro", "--count", "2",
                             "--user-data", os.path.join(SHOP, "..", "setup-user-data.sh"))
        self.assertEqual(len(run["Instances"]), 2)
        for i in run["Instances"]:
            self.assertEqual(i["State"]["Name"], "pending")
            self.assertRegex(i["InstanceId"], r"^i-[0-9a-f]{17}$")
        ids = [i["InstanceId"] for i in run["Instances"]]
        running = [self.wait_state(i, "running") for i in ids]
        self.assertNotEqual(running[0]["PrivateIpAddress"], running[1]["PrivateIpAddress"])
        for inst in running:
            self.assertTrue(inst["PrivateIpAddress"].startswith("127."))
            # HOST, PORT and TIDE_INSTANCE_ID reached the app: it answers with its own id.
            answer = wait_for(lambda: serving(inst), what="the app to answer")
            self.assertEqual(answer.strip(), inst["InstanceId"])
        # Each has its own writable copy: a file written in one is not in the other.
        a, b = running
        with open(os.path.join(a["WorkingDirectory"], "only-in-a.txt"), "w") as f:
            f.write("a\n")
        self.assertFalse(os.path.exists(os.path.join(b["WorkingDirectory"], "only-in-a.txt")))
        # User data ran before the app, inside the instance's files, and logged to the console.
        self.assertTrue(os.path.exists(os.path.join(a["WorkingDirectory"], "setup-done.txt")))
        logs = self.tide("instance", "logs", a["InstanceId"]).stdout
        self.assertIn("user data: setting up " + a["InstanceId"], logs)
        self.assertIn("listening on http://" + a["PrivateIpAddress"], logs)
        self.assertLess(logs.index("user data"), logs.index("listening on"))
        # The describe shapes a script relies on.
        described = self.tide_json("instance", "ls")
        instance = described["Reservations"][0]["Instances"][0]
        for field in ("InstanceId", "ImageId", "InstanceType", "State", "PrivateIpAddress",
                      "LaunchTime"):
            self.assertIn(field, instance)
        self.assertIn(a["InstanceId"], self.tide("instance", "ls").stdout)

    @unittest.skipUnless(cgroups_v1_writable(), "needs writable cgroup v1 (root); the v2 and "
                         "no-cgroup paths are covered by runtime_test")
    def test_cgroup_limits_and_cpu_reading_under_a_busy_loop(self):
        app = self.app_dir({"busy.sh": "#!/bin/sh\n" + BUSY + "\n"})
        image_id = self.make_image("busy", app, "./busy.sh")
        inst = self.tide_json("instance", "run", "--image-id", image_id,
                              "--instance-type", "t3.micro", "--wait")["Instances"][0]
        iid = inst["InstanceId"]
        with open(os.path.join(cgroup_v1_dir("cpu", iid), "cpu.cfs_quota_us")) as f:
            self.assertEqual(int(f.read()), 25000)  # a quarter of a core
        with open(os.path.join(cgroup_v1_dir("memory", iid), "memory.limit_in_bytes")) as f:
            self.assertEqual(int(f.read()), 64 * 1024 * 1024)
        with open(os.path.join(cgroup_v1_dir("cpu", iid), "cgroup.procs")) as f:
            self.assertIn(str(inst["ProcessId"]), f.read().split())

        # CPUUtilization is measured against what the type grants: a busy loop uses all of it.
        def busy_reading():
            i = self.instance(iid)
            return i if i.get("CPUUtilization", 0) > 80 else None
        reading = wait_for(busy_reading, timeout=20, interval=0.25, what="CPUUtilization > 80")
        self.assertLessEqual(reading["CPUUtilization"], 100)
        self.assertGreater(reading["MemoryUsedBytes"], 0)
        # ... and the quota holds it to a quarter of a core, read from cpuacct over ~2 s.
        usage = os.path.join(cgroup_v1_dir("cpuacct", iid), "cpuacct.usage")
        with open(usage) as f:
            start = int(f.read())
        t0 = os.times().elapsed
        wait_for(lambda: os.times().elapsed - t0 >= 2.0, timeout=5, interval=0.1,
                 what="two seconds of CPU accounting")
        with open(usage) as f:
            used = (int(f.read()) - start) / 1e9
        share = used / (os.times().elapsed - t0)
        self.assertGreater(share, 0.15)
        self.assertLess(share, 0.35)
        self.tide("instance", "terminate", iid)
        self.wait_state(iid, "terminated")
        self.assertFalse(os.path.exists(cgroup_v1_dir("cpu", iid)))

    def test_terminate_is_graceful_and_leaves_nothing(self):
        # An app that ignores SIGTERM is killed after the grace period (2 s in these tests).
        app = self.app_dir({"stubborn.sh": "#!/bin/sh\ntrap '' TERM\necho started\n"
                                           "while :; do sleep 0.1; done\n"})
        stubborn = self.make_image("stubborn", app, "./stubborn.sh")
        image = self.make_image()
        a = self.tide_json("instance", "run", "--image-id", image, "--instance-type",
                           "t3.micro", "--wait")["Instances"][0]
        b = self.tide_json("instance", "run", "--image-id", stubborn, "--instance-type",
                           "t3.nano", "--wait")["Instances"][0]
        wait_for(lambda: serving(a), what="the app to answer")
        out = self.tide_json("instance", "terminate", a["InstanceId"], b["InstanceId"])
        self.assertEqual([t["CurrentState"]["Name"] for t in out["TerminatingInstances"]],
                         ["shutting-down", "shutting-down"])
        for inst in (a, b):
            done = self.wait_state(inst["InstanceId"], "terminated", timeout=20)
            self.assertEqual(done["StateReason"]["Code"], "Client.UserInitiatedShutdown")
            self.assertNotIn("PrivateIpAddress", done)
            self.assertFalse(pid_alive(inst["ProcessId"]))
            self.assertFalse(os.path.exists(os.path.dirname(inst["WorkingDirectory"])))
            for controller in ("cpu", "cpuacct", "memory", "pids"):
                self.assertFalse(os.path.exists(cgroup_v1_dir(controller, inst["InstanceId"])))
        with open("/proc/self/mountinfo") as f:
            self.assertNotIn(self.data_dir, f.read())
        self.assertEqual(os.listdir(os.path.join(self.data_dir, "instances")), [])

    def test_stop_keeps_files_and_address_and_start_runs_again(self):
        image_id = self.make_image()
        inst = self.tide_json("instance", "run", "--image-id", image_id,
                              "--instance-type", "t3.micro", "--wait")["Instances"][0]
        iid = inst["InstanceId"]
        with open(os.path.join(inst["WorkingDirectory"], "kept.txt"), "w") as f:
            f.write("kept\n")
        out = self.tide_json("instance", "stop", iid)
        self.assertEqual(out["StoppingInstances"][0]["CurrentState"]["Name"], "stopping")
        stopped = self.wait_state(iid, "stopped")
        self.assertFalse(pid_alive(inst["ProcessId"]))
        self.assertEqual(stopped["PrivateIpAddress"], inst["PrivateIpAddress"])
        self.assertIn("InvalidInstanceID.NotFound",
                      self.tide_fails("instance", "start", iid, "i-0123456789abcdef0"))
        self.assertEqual(self.instance(iid)["State"]["Name"], "stopped")
        self.tide("instance", "start", iid)
        started = self.wait_state(iid, "running")
        self.assertNotEqual(started["ProcessId"], inst["ProcessId"])
        self.assertTrue(os.path.exists(os.path.join(started["WorkingDirectory"], "kept.txt")))
        self.assertEqual(wait_for(lambda: serving(started)).strip(), iid)

    def test_an_app_that_exits_stops_its_instance_with_the_reason(self):
        app = self.app_dir({"crash.sh": "#!/bin/sh\necho crashing\nexit 3\n"})
        image_id = self.make_image("crash", app, "./crash.sh")
        iid = self.tide_json("instance", "run", "--image-id", image_id,
                             "--instance-type", "t3.nano")["Instances"][0]["InstanceId"]
        stopped = self.wait_state(iid, "stopped")
        self.assertEqual(stopped["StateReason"]["Code"], "Client.InstanceInitiatedShutdown")
        self.assertEqual(stopped["LastExit"], "exited with status 3")
        self.assertIn("crashing", self.tide("instance", "logs", iid).stdout)
        self.assertIn("exited with status 3", self.tide("instance", "ls").stdout)

    def test_bad_instance_requests_change_nothing(self):
        image_id = self.make_image()
        cases = [
            (("instance", "run", "--image-id", image_id, "--instance-type", "t3.gigantic"),
             "InvalidParameterValue"),
            (("instance", "run", "--image-id", "ami-0123456789abcdef0", "--instance-type",
              "t3.micro"), "InvalidAMIID.NotFound"),
            (("instance", "run", "--launch-template", "missing"), "NotFound"),
            (("instance", "run", "--image-id", image_id), "MissingParameter"),
            (("instance", "terminate", "i-0123456789abcdef0"), "InvalidInstanceID.NotFound"),
            (("instance", "terminate", "i-bad"), "InvalidInstanceID.Malformed"),
            (("instance", "logs", "i-0123456789abcdef0"), "InvalidInstanceID.NotFound"),
        ]
        for args, code in cases:
            self.assertIn(code, self.tide_fails(*args), args)
        self.assertEqual(self.instances(), [])



class CapacityTest(TideTestCase):
    server_args = ("--termination-grace", "2", "--max-cpu-cores", "0.5")

    def test_capacity_limit_refuses_launches_with_ec2s_error(self):
        image_id = self.make_image()
        self.tide("instance", "run", "--image-id", image_id, "--instance-type", "t3.micro",
                  "--count", "2")
        error = self.tide_fails("instance", "run", "--image-id", image_id, "--instance-type",
                                "t3.micro")
        self.assertIn("InsufficientInstanceCapacity", error)
        self.assertEqual(len(self.instances()), 2)
        status = self.tide("status").stdout
        self.assertIn("0.5 of 0.5 vCPUs", status)



if __name__ == "__main__":
    unittest.main()
