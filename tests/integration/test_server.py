"""The server: restarts keep every record and find live instances again; one server per data
directory; bad bytes on the wire get precise errors and change nothing."""

import os
import signal
import socket
import subprocess
import unittest

from harness import TIDE, TideServer, TideTestCase, pid_alive, serving, wait_for


class RestartTest(TideTestCase):
    def check_restart_keeps_everything(self, sig):
        image_id = self.make_image()
        self.tide("template", "create", "--name", "shop", "--image-id", image_id,
                  "--instance-type", "t3.micro")
        self.tide("template", "version", "create", "--name", "shop", "--instance-type",
                  "t3.small")
        run = self.tide_json("instance", "run", "--launch-template", "shop", "--count", "2",
                             "--wait")["Instances"]
        stopped = self.tide_json("instance", "run", "--image-id", image_id, "--instance-type",
                                 "t3.nano", "--wait")["Instances"][0]
        self.tide("instance", "stop", stopped["InstanceId"])
        self.wait_state(stopped["InstanceId"], "stopped")
        before = {
            "images": self.tide_json("image", "ls"),
            "templates": self.tide_json("template", "ls"),
            "versions": self.tide_json("template", "version", "ls", "shop"),
        }
        pids = {i["InstanceId"]: i["ProcessId"] for i in run}

        self.restart_server(sig)

        self.assertEqual(self.tide_json("image", "ls"), before["images"])
        self.assertEqual(self.tide_json("template", "ls"), before["templates"])
        self.assertEqual(self.tide_json("template", "version", "ls", "shop"), before["versions"])
        instances = {i["InstanceId"]: i for i in self.instances()}
        self.assertEqual(len(instances), 3)  # found again, not duplicated
        self.assertEqual(instances[stopped["InstanceId"]]["State"]["Name"], "stopped")
        for iid, pid in pids.items():
            inst = instances[iid]
            self.assertEqual(inst["State"]["Name"], "running")
            self.assertEqual(inst["ProcessId"], pid)  # the same process, still serving
            self.assertTrue(pid_alive(pid))
            self.assertEqual(wait_for(lambda: serving(inst)).strip(), iid)
        # The new server still controls them: terminate works, and an instance that dies
        # while the server is down is noticed.
        victim = run[0]
        self.server.stop(signal.SIGKILL)
        os.killpg(victim["ProcessId"], signal.SIGKILL)
        wait_for(lambda: not pid_alive(victim["ProcessId"]), what="the killed app to be gone")
        self.server = TideServer(self.data_dir, *self.server_args)
        gone = self.wait_state(victim["InstanceId"], "stopped")
        self.assertEqual(gone["StateReason"]["Code"], "Client.InstanceInitiatedShutdown")
        self.assertEqual(self.instance(run[1]["InstanceId"])["State"]["Name"], "running")

    def test_kill_9_and_restart_keeps_everything(self):
        self.check_restart_keeps_everything(signal.SIGKILL)

    def test_clean_stop_and_restart_keeps_everything(self):
        self.check_restart_keeps_everything(signal.SIGTERM)

    def test_another_server_leaves_this_servers_instances_alone(self):
        image_id = self.make_image()
        inst = self.tide_json("instance", "run", "--image-id", image_id, "--instance-type",
                              "t3.nano", "--wait")["Instances"][0]
        other = TideServer(os.path.join(self.tmp, "other-data"), *self.server_args)
        try:
            self.assertTrue(pid_alive(inst["ProcessId"]))
            self.assertEqual(wait_for(lambda: serving(inst)).strip(), inst["InstanceId"])
            self.assertEqual(self.instance(inst["InstanceId"])["State"]["Name"], "running")
        finally:
            other.stop()

    def test_one_server_per_data_directory(self):
        p = subprocess.run([TIDE, "server", "--data-dir", self.data_dir, "--api", "127.0.0.1:0"],
                           capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("another tide server (pid %d)" % self.server.proc.pid, p.stderr)


class ShutdownTest(TideTestCase):
    def test_sigterm_runs_the_shutdown_code_and_exits_0(self):
        # The balancer's worker threads run by now; the signal must still reach the control
        # loop's shutdown, not end the process with the default action (exit 143).
        self.server.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.server.proc.wait(timeout=30), 0)
        with open(self.server.log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        self.assertIn("stopping on Terminated", log)
        self.assertIn("tide server stopped", log)


class WireTest(TideTestCase):
    def test_bad_requests_get_precise_errors(self):
        status, body = self.api("RunInstances", raw_body=b"{not json")
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        status, body = self.api("LaunchRockets", {})
        self.assertEqual((status, body["__type"]), (400, "InvalidAction"))
        status, body = self.api("RunInstances", {"ImageID": "ami-0123456789abcdef0"})
        self.assertEqual((status, body["__type"]), (400, "UnknownParameter"))
        self.assertIn("ImageId", body["message"])
        status, body = self.api("RunInstances", {"MinCount": "two"})
        self.assertEqual((status, body["__type"]), (400, "ValidationError"))
        status, body = self.api("DescribeImages", raw_body=b'{"ImageIds": ' + b"[" * 100000)
        self.assertEqual(status, 400)
        # Oversized requests are refused before they are read.
        host, port = self.server.endpoint[len("http://"):].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: RunInstances\r\n"
                      b"Content-Length: 100000000\r\n\r\n")
            reply = s.recv(4096).decode()
        self.assertTrue(reply.startswith("HTTP/1.1 413"), reply)
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
            reply = s.recv(4096).decode()
        self.assertTrue(reply.startswith("HTTP/1.1 431"), reply)
        self.assertEqual(self.instances(), [])
        self.assertEqual(self.ok("DescribeImages")["Images"], [])

    def test_cli_errors_are_one_line(self):
        env = dict(os.environ, TIDE_ENDPOINT="http://127.0.0.1:9")
        p = subprocess.run([TIDE, "instance", "ls"], capture_output=True, text=True, env=env,
                           timeout=30, stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertIn("cannot reach the tide server", p.stderr)
        p = subprocess.run([TIDE, "server", "--api", "nonsense"], capture_output=True,
                           text=True, timeout=30, stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("--api must be HOST:PORT", p.stderr)
        self.assertIn("--output", self.tide("--output", "yaml", "image", "ls",
                                            check=False).stderr)


if __name__ == "__main__":
    unittest.main()
