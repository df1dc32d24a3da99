"""Instances isolated (docs/security.md, "Instances"): real instances started through the API try
what an attacker would (read another instance's disk, the data directory and /etc/shadow, signal
another instance, leave their cgroup, bind another instance's address, outlive termination by
setsid) and fail at each; image sources are read with the caller's rights."""

import json
import os
import shutil
import subprocess
import unittest
import urllib.request

from harness import (SHOP, TIDE, TideTestCase, cli_env, pid_alive, serving, signed_headers,
                     wait_for)

ROOT = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
# Debian's python, which nobody can run (a pyenv python under /root cannot be).
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"

# Each check prints "NAME: done" or "NAME: refused".
ATTACK = r"""#!/bin/sh
r() { if eval "$2" >/dev/null 2>&1; then echo "$1: done"; else echo "$1: refused"; fi; }
r shadow 'cat /etc/shadow'
r other-disk 'cat "$VICTIM_DISK/secret.txt"'
r data-dir 'ls "$DATA_DIR/images" "$DATA_DIR/state.db"'
r signal-other 'kill -0 "$VICTIM_PID"'
r leave-cgroup 'echo $$ > /sys/fs/cgroup/cpu/cgroup.procs'
r leave-cgroup-tide 'echo $$ > /sys/fs/cgroup/cpu/tide/cgroup.procs'
r leave-cgroup2 'echo $$ > /sys/fs/cgroup/unified/cgroup.procs'
r host-write "touch /var/tmp/tide-isolation-$TIDE_INSTANCE_ID"
r bind-other "python3 -c 'import socket; socket.socket().bind((\"$VICTIM_IP\", $VICTIM_PORT + 1))'"
setsid sleep "$ESCAPE" &
echo "attack done"
exec python3 server.py
"""


def signal_file(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


class IsolationTest(TideTestCase):
    def logs(self, instance_id):
        return self.tide("instance", "logs", instance_id).stdout

    def run_one(self, image_id, user_data=None, env=None):
        args = ["instance", "run", "--image-id", image_id, "--instance-type", "t3.micro"]
        if user_data is not None:
            path = os.path.join(self.tmp, "user-data-%d.sh" % len(os.listdir(self.tmp)))
            with open(path, "w") as f:
                f.write(user_data)
            args += ["--user-data", path]
        iid = self.tide_json(*args)["Instances"][0]["InstanceId"]
        return self.wait_state(iid, "running")

    def status(self):
        return self.tide("status").stdout

    @unittest.skipUnless(ROOT, "instances get their own uid, cgroup and address only as root")
    def test_an_instance_reaches_nothing_outside_its_disk(self):
        self.assertIn("isolation: full", self.status())
        victim = self.run_one(self.make_image())
        wait_for(lambda: serving(victim), what="the victim to answer")
        with open(os.path.join(victim["WorkingDirectory"], "secret.txt"), "w") as f:
            f.write("secret\n")

        escape = "%d.25" % (5000 + os.getpid() % 1000)
        with open(os.path.join(SHOP, "server.py")) as f:
            app = self.app_dir({"attack.sh": ATTACK, "server.py": f.read()})
        # What the attacker is told about its victim: everything but a way in.
        with open(os.path.join(app, "attack.sh")) as f:
            script = f.read()
        script = script.replace("#!/bin/sh\n", "#!/bin/sh\n" + "".join(
            f"{k}='{v}'\n" for k, v in {
                "VICTIM_DISK": victim["WorkingDirectory"], "VICTIM_PID": victim["ProcessId"],
                "VICTIM_IP": victim["PrivateIpAddress"], "VICTIM_PORT": victim["Port"],
                "DATA_DIR": self.data_dir, "ESCAPE": escape}.items()), 1)
        with open(os.path.join(app, "attack.sh"), "w") as f:
            f.write(script)
        attacker = self.run_one(self.make_image("attacker", app, "./attack.sh"))
        iid = attacker["InstanceId"]
        logs = wait_for(lambda: (lambda t: t if "attack done" in t else None)(self.logs(iid)),
                        what="the attack to finish")
        for check in ("shadow", "other-disk", "data-dir", "signal-other", "leave-cgroup",
                      "leave-cgroup-tide", "leave-cgroup2", "host-write", "bind-other"):
            self.assertIn(check + ": refused\n", logs)
        self.assertFalse(os.path.exists("/var/tmp/tide-isolation-" + iid))
        # Its app runs as a uid of its own (the leader and init, which only wait, stay root).
        uids = set()
        for pid in signal_file(f"/sys/fs/cgroup/cpu/tide/{iid}/cgroup.procs").split():
            for line in signal_file(f"/proc/{pid}/status").splitlines():
                if line.startswith("Uid:"):
                    uids.add(int(line.split()[1]))
        self.assertTrue(any(u >= 200000 for u in uids), uids)
        self.assertEqual(uids - {0}, {max(uids)}, uids)
        # The victim still serves, and so does the attacker, on its own address.
        self.assertEqual(serving(victim).strip(), victim["InstanceId"])
        self.assertEqual(wait_for(lambda: serving(attacker), what="the attacker to answer")
                         .strip(), iid)

        # Terminated, nothing it started is left (not even what called setsid).
        def escaped():
            for pid in filter(str.isdigit, os.listdir("/proc")):
                if signal_file(f"/proc/{pid}/cmdline") == f"sleep\0{escape}\0":
                    return True
            return False
        self.assertTrue(escaped())
        self.tide("instance", "terminate", iid)
        self.wait_state(iid, "terminated")
        wait_for(lambda: not escaped(), what="the setsid process to end")

    @unittest.skipUnless(ROOT, "the instance's own uid makes /etc/shadow unreadable only as root")
    def test_user_data_cannot_copy_shadow(self):
        mark = f"/tmp/tide-isolation-shadow-{os.getpid()}"
        user_data = (f"#!/bin/sh\nhead -c 30 /etc/shadow > {mark} 2>&1\n"
                     "head -c 30 /etc/shadow > shadow-copy.txt 2>&1\necho user data ran\n")
        inst = self.run_one(self.make_image(), user_data=user_data)
        wait_for(lambda: "user data ran" in self.logs(inst["InstanceId"]),
                 what="the user data to run")
        self.assertFalse(os.path.exists(mark))
        with open(os.path.join(inst["WorkingDirectory"], "shadow-copy.txt")) as f:
            copied = f.read()
        self.assertNotIn("root:", copied)
        self.assertIn("Permission denied", copied)

    def test_an_image_of_the_data_directory_is_refused(self):
        for source in (self.data_dir, os.path.join(self.data_dir, "images"), self.tmp):
            error = self.tide_fails("image", "create", "--name", "steal", "--from", source,
                                    "--run", "true")
            self.assertIn("InvalidParameterValue", error)
            self.assertIn("data directory", error)
        self.assertEqual([i["Name"] for i in self.tide_json("image", "ls")["Images"]], [])

    @unittest.skipUnless(ROOT and SETPRIV, "needs root and setpriv to call the API as nobody")
    def test_an_image_is_read_with_the_callers_rights(self):
        private = self.app_dir({"server.py": "print('private')\n"})
        os.chmod(private, 0o700)  # root's alone
        shared = self.app_dir({"server.py": "print('shared')\n"})
        os.chmod(shared, 0o755)
        os.chmod(self.tmp, 0o755)

        def create_as_nobody(name, source):
            body = json.dumps({"Name": name, "SourceDirectory": source,
                               "RunCommand": "python3 server.py"}).encode()
            headers = signed_headers(self.server, body, {"X-Amz-Target": "CreateImage"})
            script = ("import json, sys, urllib.request\n"
                      "r = urllib.request.Request(sys.argv[1] + '/', data=sys.argv[2].encode(),"
                      " method='POST', headers=json.loads(sys.argv[3]))\n"
                      "print(urllib.request.urlopen(r, timeout=30).read().decode())\n")
            out = subprocess.run(
                [SETPRIV, "--reuid", "65534", "--regid", "65534", "--clear-groups",
                 SYSTEM_PYTHON, "-c", script, self.server.endpoint, body.decode(),
                 json.dumps(headers)],
                capture_output=True, text=True, timeout=60, check=True)
            return json.loads(out.stdout)["ImageId"]

        def settled(image_id):
            image = self.ok("DescribeImages", {"ImageIds": [image_id]})["Images"][0]
            return image if image["State"] != "pending" else None

        private_id = create_as_nobody("private", private)
        refused = wait_for(lambda: settled(private_id),
                           what="the image of a private directory to settle")
        self.assertEqual(refused["State"], "failed")
        self.assertIn("uid 65534", refused["StateReason"]["Message"])
        shared_id = create_as_nobody("shared", shared)
        made = wait_for(lambda: settled(shared_id),
                        what="the image of a shared directory to settle")
        self.assertEqual(made["State"], "available")
        # The server's own caller (root) still images its private directory.
        self.make_image("private-by-root", private, "python3 server.py")

    @unittest.skipUnless(ROOT and SETPRIV, "needs root and setpriv to act as another local user")
    def test_a_local_user_without_the_key_gets_nothing(self):
        """What any local account could do before: RunInstances with user data that copies
        /etc/shadow, through the open API. Now it cannot read the server's key or state, and
        every request it can make without the key is refused and changes nothing."""
        mark = f"/tmp/tide-isolation-stolen-{os.getpid()}"
        os.chmod(self.tmp, 0o755)  # the data directory's parent: nobody may look, not read
        user_data = f"#!/bin/sh\nhead -c 30 /etc/shadow > {mark}\n"
        form = ("Action=RunInstances&Version=2016-11-15&ImageId=ami-00000000000000000&"
                "MinCount=1&MaxCount=1&UserData=" +
                __import__("base64").b64encode(user_data.encode()).decode())
        script = r"""
import json, sys, urllib.error, urllib.request
endpoint, data_dir, body, forged = sys.argv[1:5]
for name in ("credentials", "state.db"):
    try:
        open(data_dir + "/" + name).read(1)
        print(name + ": read")
    except OSError as e:
        print(name + ": " + type(e).__name__)
for what, headers in (("unsigned", {}), ("forged", json.loads(forged))):
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    r = urllib.request.Request(endpoint + "/", data=body.encode(), method="POST", headers=headers)
    try:
        urllib.request.urlopen(r, timeout=30)
        print(what + ": accepted")
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        print(what + ": %d %s" % (e.code, text[text.find("<Code>") + 6:text.find("</Code>")]))
"""
        forged = signed_headers(self.server, form.encode(),
                                {"Content-Type": "application/x-www-form-urlencoded"},
                                service="ec2", key=("AKIAIOSFODNN7EXAMPLE", "x" * 40))
        out = subprocess.run(
            [SETPRIV, "--reuid", "65534", "--regid", "65534", "--clear-groups", SYSTEM_PYTHON,
             "-c", script, self.server.endpoint, self.data_dir, form, json.dumps(forged)],
            capture_output=True, text=True, timeout=60, check=True).stdout
        self.assertIn("credentials: PermissionError", out)
        self.assertIn("state.db: PermissionError", out)
        self.assertIn("unsigned: 403 MissingAuthenticationToken", out)
        self.assertIn("forged: 401 AuthFailure", out)
        # The CLI as that user finds no key it may read: a clear refusal, no instance.
        cli = subprocess.run(
            [SETPRIV, "--reuid", "65534", "--regid", "65534", "--clear-groups", TIDE,
             "instance", "ls"], capture_output=True, text=True, timeout=60,
            env=dict(cli_env(self.server), HOME="/nonexistent"), stdin=subprocess.DEVNULL)
        self.assertNotEqual(cli.returncode, 0, cli.stdout)
        self.assertNotIn("Traceback", cli.stderr)
        self.assertRegex(cli.stderr, r"MissingAuthenticationToken|credentials")
        self.assertEqual(self.ok("DescribeInstances", {})["Reservations"], [])
        self.assertFalse(os.path.exists(mark))

    def test_secrets_are_readable_by_their_owner_only(self):
        inst = self.run_one(self.make_image())
        wait_for(lambda: serving(inst), what="the instance to answer")
        console = os.path.join(self.data_dir, "instances", inst["InstanceId"], "console.log")
        secrets = [os.path.join(self.data_dir, name)
                   for name in ("credentials", "state.db", "state.db-wal", "state.db-shm")]
        for path in [p for p in secrets if os.path.exists(p)] + [console]:
            self.assertEqual(os.stat(path).st_mode & 0o077, 0, path)

    def test_without_root_the_missing_parts_are_named(self):
        status = self.status()
        self.assertIn("isolation: ", status)
        if not ROOT:
            self.assertRegex(status, r"isolation: (user-namespace|none) - ")


if __name__ == "__main__":
    unittest.main()
