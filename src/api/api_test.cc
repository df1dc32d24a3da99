// The action table against a real SQLite store, through the JSON wire format.
#include "api/api_test_fixture.h"
#include "common/text.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace tide::api {
namespace {

TEST_F(ApiTest, WireFormatErrors) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/";
  r.headers = {{"x-amz-target", "RunInstances"}};
  r.body = "{not json";
  HttpResponse resp = handleApiRequest(*ctx_, r);
  EXPECT_EQ(resp.status, 400);
  EXPECT_EQ(Json::parse(resp.body)["__type"], "SerializationException");
  r.body = "[]";
  EXPECT_EQ(Json::parse(handleApiRequest(*ctx_, r).body)["__type"], "SerializationException");
  r.headers = {{"x-amz-target", "LaunchRockets"}};
  r.body = "{}";
  EXPECT_EQ(Json::parse(handleApiRequest(*ctx_, r).body)["__type"], "InvalidAction");
  r.headers.clear();
  EXPECT_EQ(Json::parse(handleApiRequest(*ctx_, r).body)["__type"], "MissingAction");
  EXPECT_EQ(errorCode("DescribeImages", {{"ImageIdz", Json::array()}}), "UnknownParameter");
  EXPECT_EQ(instanceCount(), 0u);
  r.method = "GET";
  EXPECT_EQ(Json::parse(handleApiRequest(*ctx_, r).body)["Service"], "tide");
}

TEST_F(ApiTest, CreateImageValidatesAndRecordsPending) {
  EXPECT_EQ(errorCode("CreateImage", {{"Name", "x1"}}), "InvalidAMIName.Malformed");
  EXPECT_EQ(errorCode("CreateImage", {{"Name", "shop"}}), "MissingParameter");
  EXPECT_EQ(errorCode("CreateImage", {{"Name", "shop"},
                                      {"SourceDirectory", (dir_ / "nope").string()},
                                      {"RunCommand", "x"}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateImage",
                      {{"Name", "shop"}, {"SourceDirectory", "relative/dir"}, {"RunCommand", "x"}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateImage", {{"Name", "shop"}, {"SourceDirectory", dir_.string()}}),
            "MissingParameter");
  EXPECT_EQ(errorCode("CreateImage", {{"Name", "shop"},
                                      {"SourceDirectory", dir_.string()},
                                      {"RunCommand", "x"},
                                      {"Port", 70000}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateImage", {{"Name", "shop"}, {"InstanceId", "i-00000000000000000"}}),
            "InvalidInstanceID.NotFound");
  EXPECT_EQ(ok("DescribeImages", Json::object())["Images"].size(), 0u);

  Json r = ok("CreateImage", {{"Name", "shop-v1"},
                              {"SourceDirectory", (dir_ / "app").string()},
                              {"RunCommand", "python3 server.py"}});
  std::string id = r["ImageId"];
  EXPECT_EQ(id.size(), 4u + 17u);
  EXPECT_EQ(id.rfind("ami-", 0), 0u);
  Json images = ok("DescribeImages", {{"ImageIds", {id}}})["Images"];
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0]["State"], "pending");
  EXPECT_EQ(images[0]["Port"], 8080);
  EXPECT_EQ(images[0]["Name"], "shop-v1");
  EXPECT_EQ(errorCode("CreateImage", {{"Name", "shop-v1"},
                                      {"SourceDirectory", (dir_ / "app").string()},
                                      {"RunCommand", "x"}}),
            "InvalidAMIName.Duplicate");
  EXPECT_EQ(errorCode("DescribeImages", {{"ImageIds", {"ami-00000000000000000"}}}),
            "InvalidAMIID.NotFound");
  EXPECT_EQ(
      ok("DescribeImages", {{"Filters", {{{"Name", "name"}, {"Values", {"shop-*"}}}}}})["Images"]
          .size(),
      1u);
  ok("DeregisterImage", {{"ImageId", id}});
  EXPECT_EQ(errorCode("DeregisterImage", {{"ImageId", id}}), "InvalidAMIID.NotFound");
}

TEST_F(ApiTest, RegisterImageStartsTheProcfilesWebProcess) {
  std::string app = (dir_ / "app").string();
  EXPECT_EQ(errorCode("RegisterImage", {{"Name", "procfile-app"}, {"ImageLocation", app}}),
            "InvalidParameterValue"); // no Procfile yet
  EXPECT_EQ(errorCode("RegisterImage", {{"Name", "procfile-app"}}), "MissingParameter");
  EXPECT_EQ(errorCode("RegisterImage", {{"Name", "procfile-app"}, {"ImageLocation", "app"}}),
            "InvalidParameterValue"); // relative
  {
    std::ofstream f(dir_ / "app" / "Procfile");
    f << "# the shop\nworker: python3 jobs.py\n";
  }
  EXPECT_EQ(errorCode("RegisterImage", {{"Name", "procfile-app"}, {"ImageLocation", app}}),
            "InvalidParameterValue"); // no web process
  {
    std::ofstream f(dir_ / "app" / "Procfile");
    f << "worker: python3 jobs.py\nweb:   python3 server.py --port $PORT  \n";
  }
  Json r = ok("RegisterImage",
              {{"Name", "procfile-app"},
               {"ImageLocation", app},
               {"Architecture", "x86_64"},
               {"TagSpecifications",
                {{{"ResourceType", "image"}, {"Tags", {{{"Key", "team"}, {"Value", "shop"}}}}}}}});
  Json images = ok("DescribeImages", {{"ImageIds", {r["ImageId"]}}});
  EXPECT_EQ(images["Images"][0]["Name"], "procfile-app");
  EXPECT_EQ(images["Images"][0]["State"], "pending");
  EXPECT_EQ(images["Images"][0]["Tags"][0]["Value"], "shop");
  auto stored = store_->transact([&](store::Tx& tx) -> Status {
    auto img = tx.image(r["ImageId"].get<std::string>());
    EXPECT_EQ((*img)->runCommand, "python3 server.py --port $PORT");
    EXPECT_EQ((*img)->port, 8080);
    return Status::ok();
  });
  EXPECT_OK(stored);
  EXPECT_EQ(errorCode("RegisterImage", {{"Name", "procfile-app"}, {"ImageLocation", app}}),
            "InvalidAMIName.Duplicate");
}

TEST_F(ApiTest, LaunchTemplateVersions) {
  std::string image = availableImage();
  EXPECT_EQ(errorCode("CreateLaunchTemplate",
                      {{"LaunchTemplateName", "web"},
                       {"LaunchTemplateData", {{"ImageId", "ami-0000000000000000f"}}}}),
            "InvalidAMIID.NotFound");
  EXPECT_EQ(
      errorCode("CreateLaunchTemplate", {{"LaunchTemplateName", "web"},
                                         {"LaunchTemplateData", {{"InstanceType", "t3.huge"}}}}),
      "InvalidParameterValue");
  EXPECT_EQ(errorCode("CreateLaunchTemplate",
                      {{"LaunchTemplateName", "web"},
                       {"LaunchTemplateData", {{"SecurityGroupIds", {"sg-zz"}}}}}),
            "InvalidGroupId.Malformed");
  Json created = ok("CreateLaunchTemplate",
                    {{"LaunchTemplateName", "web"},
                     {"LaunchTemplateData",
                      {{"ImageId", image},
                       {"InstanceType", "t3.micro"},
                       {"UserData", base64Encode("echo hi")},
                       {"SecurityGroupIds", {"sg-1a2b3c4d"}},
                       {"BlockDeviceMappings",
                        {{{"DeviceName", "/dev/xvda"}, {"Ebs", {{"VolumeSize", 20}}}}}}}}});
  EXPECT_EQ(created["LaunchTemplate"]["LatestVersionNumber"], 1);
  EXPECT_EQ(errorCode("CreateLaunchTemplate",
                      {{"LaunchTemplateName", "web"}, {"LaunchTemplateData", Json::object()}}),
            "InvalidLaunchTemplateName.AlreadyExistsException");

  Json v2 =
      ok("CreateLaunchTemplateVersion", {{"LaunchTemplateName", "web"},
                                         {"SourceVersion", "1"},
                                         {"LaunchTemplateData", {{"InstanceType", "t3.small"}}}});
  EXPECT_EQ(v2["LaunchTemplateVersion"]["VersionNumber"], 2);
  EXPECT_EQ(v2["LaunchTemplateVersion"]["DefaultVersion"], false);
  // Inherited from the source version:
  EXPECT_EQ(v2["LaunchTemplateVersion"]["LaunchTemplateData"]["ImageId"], image);
  EXPECT_EQ(v2["LaunchTemplateVersion"]["LaunchTemplateData"]["SecurityGroupIds"][0],
            "sg-1a2b3c4d");

  auto describe = [&](const std::string& v) {
    return ok("DescribeLaunchTemplateVersions",
              {{"LaunchTemplateName", "web"}, {"Versions", {v}}})["LaunchTemplateVersions"][0];
  };
  EXPECT_EQ(describe("$Default")["VersionNumber"], 1);
  EXPECT_EQ(describe("$Latest")["VersionNumber"], 2);
  EXPECT_EQ(errorCode("DescribeLaunchTemplateVersions",
                      {{"LaunchTemplateName", "web"}, {"Versions", {"3"}}}),
            "InvalidLaunchTemplateId.VersionNotFound");
  ok("ModifyLaunchTemplate", {{"LaunchTemplateName", "web"}, {"DefaultVersion", "2"}});
  EXPECT_EQ(describe("$Default")["VersionNumber"], 2);
  EXPECT_EQ(
      errorCode("ModifyLaunchTemplate", {{"LaunchTemplateName", "web"}, {"DefaultVersion", "9"}}),
      "InvalidLaunchTemplateId.VersionNotFound");
  EXPECT_EQ(errorCode("DescribeLaunchTemplates", {{"LaunchTemplateNames", {"nope"}}}),
            "InvalidLaunchTemplateName.NotFoundException");
  ok("DeleteLaunchTemplate", {{"LaunchTemplateName", "web"}});
  EXPECT_EQ(ok("DescribeLaunchTemplates", Json::object())["LaunchTemplates"].size(), 0u);
}

TEST_F(ApiTest, RunInstancesFromImageAndTemplate) {
  std::string image = availableImage();
  EXPECT_EQ(errorCode("RunInstances", {{"ImageId", image}}), "MissingParameter");
  EXPECT_EQ(errorCode("RunInstances", {{"ImageId", image}, {"InstanceType", "t3.mega"}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("RunInstances",
                      {{"ImageId", "ami-0000000000000000f"}, {"InstanceType", "t3.micro"}}),
            "InvalidAMIID.NotFound");
  EXPECT_EQ(errorCode("RunInstances",
                      {{"LaunchTemplate", {{"LaunchTemplateName", "none"}}}, {"MaxCount", 1}}),
            "InvalidLaunchTemplateName.NotFoundException");
  EXPECT_EQ(instanceCount(), 0u);

  Json r = ok("RunInstances",
              {{"ImageId", image}, {"InstanceType", "t3.micro"}, {"MinCount", 3}, {"MaxCount", 3}});
  ASSERT_EQ(r["Instances"].size(), 3u);
  std::set<std::string> addresses;
  for (const Json& i : r["Instances"]) {
    EXPECT_EQ(i["State"]["Name"], "pending");
    EXPECT_EQ(i["State"]["Code"], 0);
    EXPECT_EQ(i["Port"], 9000); // the image's port
    std::string ip = i["PrivateIpAddress"];
    EXPECT_EQ(ip.rfind("127.", 0), 0u);
    addresses.insert(ip);
  }
  EXPECT_EQ(addresses.size(), 3u);

  ok("CreateLaunchTemplate",
     {{"LaunchTemplateName", "web"},
      {"LaunchTemplateData",
       {{"ImageId", image},
        {"InstanceType", "t3.small"},
        {"Port", 7000},
        {"Environment", {{{"Name", "MODE"}, {"Value", "test"}}}},
        {"TagSpecifications",
         {{{"ResourceType", "instance"}, {"Tags", {{{"Key", "Name"}, {"Value", "web"}}}}}}}}}});
  Json fromTemplate = ok(
      "RunInstances", {{"LaunchTemplate", {{"LaunchTemplateName", "web"}, {"Version", "$Latest"}}},
                       {"MaxCount", 1}});
  const Json& i = fromTemplate["Instances"][0];
  EXPECT_EQ(i["InstanceType"], "t3.small");
  EXPECT_EQ(i["Port"], 7000);
  EXPECT_EQ(i["Tags"][0]["Value"], "web");
  EXPECT_EQ(i["LaunchTemplate"]["Version"], "1");

  Json all = ok("DescribeInstances", Json::object());
  EXPECT_EQ(all["Reservations"].size(), 2u);
  EXPECT_EQ(all["Reservations"][0]["Instances"].size(), 3u);
  Json filtered =
      ok("DescribeInstances", {{"Filters", {{{"Name", "tag:Name"}, {"Values", {"web"}}}}}});
  EXPECT_EQ(filtered["Reservations"].size(), 1u);
  EXPECT_EQ(errorCode("DescribeInstances", {{"InstanceIds", {"i-0000000000000000f"}}}),
            "InvalidInstanceID.NotFound");
}

TEST_F(ApiTest, DescribeInstancesShowsTheHostsLatestReading) {
  std::string image = availableImage();
  Json r = ok("RunInstances",
              {{"ImageId", image}, {"InstanceType", "t3.micro"}, {"MinCount", 2}, {"MaxCount", 2}});
  std::string read = r["Instances"][0]["InstanceId"];
  std::string unread = r["Instances"][1]["InstanceId"];
  host_.usage[read] = {42.5, 1 << 20}; // the instance controller's reading, in memory
  uint64_t writes = store_->writeCommits();
  Json d = ok("DescribeInstances", {{"InstanceIds", {read, unread}}});
  const Json& shown = d["Reservations"][0]["Instances"];
  ASSERT_EQ(shown.size(), 2u);
  EXPECT_EQ(shown[0]["CPUUtilization"], 42.5);
  EXPECT_EQ(shown[0]["MemoryUsedBytes"], 1 << 20);
  EXPECT_FALSE(shown[1].contains("CPUUtilization"));
  EXPECT_FALSE(shown[1].contains("MemoryUsedBytes"));
  host_.usage[unread] = {-1, 4096}; // sampled once: memory, no CPU rate yet
  Json again = ok("DescribeInstances", {{"InstanceIds", {unread}}});
  EXPECT_FALSE(again["Reservations"][0]["Instances"][0].contains("CPUUtilization"));
  EXPECT_EQ(again["Reservations"][0]["Instances"][0]["MemoryUsedBytes"], 4096);
  EXPECT_EQ(store_->writeCommits(), writes);
}

TEST_F(ApiTest, CapacityIsLimitedAndUnavailableImagesRefused) {
  std::string image = availableImage();
  // 2 cores: eight t3.micro (0.25) fit, the ninth does not.
  ok("RunInstances",
     {{"ImageId", image}, {"InstanceType", "t3.micro"}, {"MinCount", 8}, {"MaxCount", 8}});
  EXPECT_EQ(errorCode("RunInstances", {{"ImageId", image}, {"InstanceType", "t3.micro"}}),
            "InsufficientInstanceCapacity");
  EXPECT_EQ(instanceCount(), 8u);
  Json pending = ok("CreateImage", {{"Name", "pending-image"},
                                    {"SourceDirectory", (dir_ / "app").string()},
                                    {"RunCommand", "x"}});
  ctx_->limits.maxCpuCores = 100;
  EXPECT_EQ(
      errorCode("RunInstances", {{"ImageId", pending["ImageId"]}, {"InstanceType", "t3.micro"}}),
      "InvalidAMIID.Unavailable");
}

TEST_F(ApiTest, TerminateStopStartAreAllOrNothing) {
  std::string image = availableImage();
  Json r = ok("RunInstances", {{"ImageId", image}, {"InstanceType", "t3.micro"}});
  std::string id = r["Instances"][0]["InstanceId"];
  EXPECT_EQ(errorCode("TerminateInstances", {{"InstanceIds", {id, "i-0000000000000000f"}}}),
            "InvalidInstanceID.NotFound");
  EXPECT_EQ(errorCode("TerminateInstances", {{"InstanceIds", {"i-12"}}}),
            "InvalidInstanceID.Malformed");
  Json d = ok("DescribeInstances", {{"InstanceIds", {id}}});
  EXPECT_EQ(d["Reservations"][0]["Instances"][0]["State"]["Name"], "pending");
  EXPECT_EQ(
      ok("StartInstances", {{"InstanceIds", {id}}})["StartingInstances"][0]["CurrentState"]["Name"],
      "pending");
  Json stop = ok("StopInstances", {{"InstanceIds", {id}}});
  EXPECT_EQ(stop["StoppingInstances"][0]["CurrentState"]["Name"], "stopping");
  Json t = ok("TerminateInstances", {{"InstanceIds", {id}}});
  EXPECT_EQ(t["TerminatingInstances"][0]["CurrentState"]["Name"], "shutting-down");
  EXPECT_EQ(errorCode("StartInstances", {{"InstanceIds", {id}}}), "IncorrectInstanceState");
  Json out = ok("GetConsoleOutput", {{"InstanceId", id}});
  EXPECT_EQ(base64Decode(out["Output"].get<std::string>()), host_.console);
}

} // namespace
} // namespace tide::api
