"""Golden images and launch templates through the real tide binary."""

import os
import unittest

from harness import SHOP, TideTestCase, free_port, serving, wait_for

BASE_IMAGE_ID = "ami-0ee8d2b74358b2001"


class ImageTest(TideTestCase):
    def test_image_from_directory_lists_describes_and_deregisters(self):
        image_id = self.make_image("shop-v1", SHOP, "python3 server.py", "--port", "9000")
        self.assertRegex(image_id, r"^ami-[0-9a-f]{17}$")
        images = self.tide_json("image", "ls")["Images"]
        self.assertEqual(len(images), 1)
        image = images[0]
        self.assertEqual(image["ImageId"], image_id)
        self.assertEqual(image["Name"], "shop-v1")
        self.assertEqual(image["State"], "available")
        self.assertEqual(image["Port"], 9000)
        self.assertRegex(image["ContentDigest"], r"^sha256:[0-9a-f]{64}$")
        self.assertIn(image_id, self.tide("image", "ls").stdout)

        # The same files make the same content: stored once.
        second = self.make_image("shop-copy", SHOP, "python3 server.py")
        described = self.tide_json("image", "describe", image_id, second)["Images"]
        self.assertEqual(described[0]["ContentDigest"], described[1]["ContentDigest"])
        base = self.base_image()  # the built-in image's files are stored beside them
        self.assertEqual(sorted(os.listdir(os.path.join(self.data_dir, "images"))),
                         sorted([d["ContentDigest"].split(":")[1] for d in (described[0], base)]))

        # Immutable: changing the source directory afterwards does not change the image.
        app = self.app_dir({"server.py": "print('v1')\n"})
        v1 = self.make_image("app-v1", app, "python3 server.py")
        with open(os.path.join(app, "server.py"), "w") as f:
            f.write("print('v2')\n")
        v1_digest = self.tide_json("image", "describe", v1)["Images"][0]["ContentDigest"]
        v2 = self.make_image("app-v2", app, "python3 server.py")
        self.assertNotEqual(
            v1_digest, self.tide_json("image", "describe", v2)["Images"][0]["ContentDigest"])

        self.tide("image", "deregister", image_id)
        names = [i["Name"] for i in self.tide_json("image", "ls")["Images"]]
        self.assertNotIn("shop-v1", names)
        self.assertIn("InvalidAMIID.NotFound", self.tide_fails("image", "deregister", image_id))

    def base_image(self):
        """The built-in base image, once the server has imported it."""
        return wait_for(lambda: (lambda i: i if i["State"] == "available" else None)(
            self.ok("DescribeImages", {"ImageIds": [BASE_IMAGE_ID]})["Images"][0]),
            timeout=60, what="the base image to be available")

    def test_base_image_is_registered_once_and_serves(self):
        base = self.base_image()
        self.assertEqual(base["Name"], "al2023-ami-tide-base-x86_64")
        self.assertEqual(base["ImageOwnerAlias"], "amazon")
        self.assertEqual(base["Port"], 80)
        self.assertEqual(base["HealthCheckPath"], "/health")
        # Not among the images made here; listed when Amazon's are asked for.
        self.assertEqual(self.tide_json("image", "ls")["Images"], [])
        self.assertEqual([i["ImageId"] for i in self.ok("DescribeImages", {"Owners": [
            "amazon"]})["Images"]], [BASE_IMAGE_ID])
        status, body = self.api("DeregisterImage", {"ImageId": BASE_IMAGE_ID})
        self.assertEqual((status, body["__type"]), (400, "OperationNotPermitted"))

        # A restart keeps it as it was: same id, same files, still available.
        self.restart_server()
        self.assertEqual(self.ok("DescribeImages", {"ImageIds": [BASE_IMAGE_ID]})["Images"][0],
                         base)

        # It serves: / names the instance, /health answers 200 (on a port the test owns).
        run = self.ok("RunInstances", {"ImageId": BASE_IMAGE_ID, "InstanceType": "t3.micro",
                                       "Port": free_port()})
        instance = self.wait_state(run["Instances"][0]["InstanceId"], "running")
        page = wait_for(lambda: serving(instance, "/"), timeout=30, what="the page")
        self.assertIn(f"Hello from {instance['InstanceId']}", page)
        self.assertEqual(serving(instance, "/health"), "ok\n")

    def test_bad_image_requests_change_nothing(self):
        self.make_image("shop-v1")
        before = self.tide_json("image", "ls")
        self.assertIn("InvalidAMIName.Duplicate", self.tide_fails(
            "image", "create", "--name", "shop-v1", "--from", SHOP, "--run", "x"))
        self.assertIn("is not a directory", self.tide_fails(
            "image", "create", "--name", "other", "--from", "/no/such/dir", "--run", "x"))
        self.assertIn("--run", self.tide_fails(
            "image", "create", "--name", "other", "--from", SHOP))
        self.assertIn("InvalidAMIName.Malformed", self.tide_fails(
            "image", "create", "--name", "x", "--from", SHOP, "--run", "x"))
        self.assertIn("InvalidInstanceID.NotFound", self.tide_fails(
            "image", "create", "--name", "other", "--from-instance", "i-0123456789abcdef0"))
        # A directory with a fifo cannot be an image: the import fails with the path named.
        app = self.app_dir({"a.txt": "x"})
        os.mkfifo(os.path.join(app, "pipe"))
        error = self.tide_fails("image", "create", "--name", "with-fifo", "--from", app,
                                "--run", "true")
        self.assertIn("pipe", error)
        failed = [i for i in self.tide_json("image", "ls")["Images"] if i["Name"] == "with-fifo"]
        self.assertEqual(failed[0]["State"], "failed")
        self.tide("image", "deregister", failed[0]["ImageId"])
        self.assertEqual(self.tide_json("image", "ls"), before)

    def test_image_from_a_changed_instance(self):
        """The classic workflow: launch, change files by hand, make an image of the result."""
        image_id = self.make_image("base")
        run = self.tide_json("instance", "run", "--image-id", image_id,
                             "--instance-type", "t3.micro", "--wait")
        instance = run["Instances"][0]
        workdir = instance["WorkingDirectory"]
        with open(os.path.join(workdir, "installed-by-hand.txt"), "w") as f:
            f.write("a package installed by hand\n")
        new_id = self.tide_json("image", "create", "--name", "base-plus",
                                "--from-instance", instance["InstanceId"])["ImageId"]
        new = self.tide_json("image", "describe", new_id)["Images"][0]
        self.assertEqual(new["State"], "available")
        self.assertEqual(new["SourceInstanceId"], instance["InstanceId"])
        self.assertEqual(new["RunCommand"], "python3 server.py")
        # An instance of the new image has the file; the base image does not.
        launched = self.tide_json("instance", "run", "--image-id", new_id,
                                  "--instance-type", "t3.micro", "--wait")["Instances"][0]
        self.assertTrue(os.path.exists(
            os.path.join(launched["WorkingDirectory"], "installed-by-hand.txt")))
        base_rootfs = os.path.join(self.data_dir, "images",
                                   self.tide_json("image", "describe", image_id)["Images"][0]
                                   ["ContentDigest"].split(":")[1], "rootfs")
        self.assertFalse(os.path.exists(os.path.join(base_rootfs, "installed-by-hand.txt")))


class LaunchTemplateTest(TideTestCase):
    def test_versions_default_and_latest(self):
        image_id = self.make_image()
        # A real group that lets the host in (security groups are enforced where tide can).
        group = self.ok("CreateSecurityGroup", {"GroupName": "shop", "Description": "shop"})[
            "GroupId"]
        self.ok("AuthorizeSecurityGroupIngress", {"GroupId": group, "IpPermissions": [
            {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535,
             "IpRanges": [{"CidrIp": "127.0.0.1/32"}]}]})
        lt = self.tide_json("template", "create", "--name", "shop", "--image-id", image_id,
                            "--instance-type", "t3.micro", "--env", "MODE=one",
                            "--security-group-ids", group, "--disk-size", "20")
        self.assertEqual(lt["LaunchTemplate"]["DefaultVersionNumber"], 1)
        v2 = self.tide_json("template", "version", "create", "--name", "shop",
                            "--source-version", "1", "--instance-type", "t3.small",
                            "--env", "MODE=two")["LaunchTemplateVersion"]
        self.assertEqual(v2["VersionNumber"], 2)
        self.assertEqual(v2["LaunchTemplateData"]["ImageId"], image_id)  # inherited
        self.assertEqual(v2["LaunchTemplateData"]["SecurityGroupIds"], [group])
        self.assertEqual(v2["LaunchTemplateData"]["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"],
                         20)
        versions = self.tide_json("template", "version", "ls", "shop")["LaunchTemplateVersions"]
        self.assertEqual([v["VersionNumber"] for v in versions], [1, 2])
        self.assertEqual([v["DefaultVersion"] for v in versions], [True, False])

        default = self.tide_json("instance", "run", "--launch-template", "shop",
                                 "--wait")["Instances"][0]
        latest = self.tide_json("instance", "run", "--launch-template", "shop:$Latest",
                                "--wait")["Instances"][0]
        one = self.tide_json("instance", "run", "--launch-template", "shop:1")["Instances"][0]
        self.assertEqual(default["InstanceType"], "t3.micro")
        self.assertEqual(latest["InstanceType"], "t3.small")
        self.assertEqual(one["InstanceType"], "t3.micro")
        self.assertEqual(latest["LaunchTemplate"]["Version"], "2")
        self.tide("template", "set-default", "shop", "2")
        again = self.tide_json("instance", "run", "--launch-template", "shop")["Instances"][0]
        self.assertEqual(again["InstanceType"], "t3.small")
        # The environment reached the app.
        wait_for(lambda: serving(default), what="the app to answer")
        with open(os.path.join(self.data_dir, "instances", default["InstanceId"],
                               "console.log")) as f:
            self.assertIn(default["InstanceId"], f.read())

    def test_bad_template_requests_change_nothing(self):
        image_id = self.make_image()
        self.tide("template", "create", "--name", "shop", "--image-id", image_id,
                  "--instance-type", "t3.micro")
        before = self.tide_json("template", "ls")
        cases = [
            (("template", "create", "--name", "shop", "--image-id", image_id,
              "--instance-type", "t3.micro"), "AlreadyExists"),
            (("template", "create", "--name", "other", "--image-id", "ami-0123456789abcdef0",
              "--instance-type", "t3.micro"), "InvalidAMIID.NotFound"),
            (("template", "create", "--name", "other", "--image-id", image_id,
              "--instance-type", "t3.enormous"), "InvalidParameterValue"),
            (("template", "create", "--name", "other", "--image-id", image_id,
              "--security-group-ids", "sg-nothex"), "InvalidGroupId.Malformed"),
            (("template", "create", "--name", "other", "--image-id", image_id,
              "--disk-size", "99999"), "InvalidParameterValue"),
            (("template", "create", "--name", "other", "--env", "PORT=1"),
             "InvalidParameterValue"),
            (("template", "version", "create", "--name", "shop", "--source-version", "7",
              "--instance-type", "t3.small"), "VersionNotFound"),
            (("template", "version", "create", "--name", "nope", "--instance-type", "t3.small"),
             "NotFound"),
            (("instance", "run", "--launch-template", "shop:3"), "VersionNotFound"),
            (("instance", "run", "--launch-template", "shop:latest"), "InvalidParameterValue"),
        ]
        for args, code in cases:
            self.assertIn(code, self.tide_fails(*args), args)
        self.assertEqual(self.tide_json("template", "ls"), before)
        self.assertEqual(self.tide_json("template", "version", "ls", "shop")
                         ["LaunchTemplateVersions"][0]["VersionNumber"], 1)
        self.assertEqual(self.instances(), [])


if __name__ == "__main__":
    unittest.main()
