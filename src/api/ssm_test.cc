// SSM's public parameters over AWS JSON 1.1, and "resolve:ssm:NAME" image ids in RunInstances
// and launch templates, over the built-in base image.
#include "api/api_test_fixture.h"
#include "model/public_parameters.h"

namespace tide::api {
namespace {

const std::string kName = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
const std::string kPath = "/aws/service/ami-amazon-linux-latest";

class SsmTest : public ApiTest {
protected:
  // A request as botocore sends SSM's: AWS JSON 1.1.
  HttpResponse ssm(const std::string& op, const Json& body) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"x-amz-target", "AmazonSSM." + op},
                 {"content-type", "application/x-amz-json-1.1"}};
    r.body = body.dump();
    return handleApiRequest(*ctx_, r);
  }
  // The base image, available, as the server registers it and the image controller imports it.
  void baseImage() {
    model::Image img;
    img.imageId = model::kBaseImageId;
    img.name = model::kBaseImageName;
    img.description = model::kBaseImageDescription;
    img.sourceDirectory = (dir_ / "app").string();
    img.runCommand = "exec tide serve-static";
    img.port = 80;
    img.healthCheckPath = "/health";
    img.state = model::ImageState::Available;
    img.contentDigest = "sha256:00";
    EXPECT_OK(store_->transact([&](store::Tx& tx) { return tx.putImage(img); }));
  }
};

TEST_F(SsmTest, GetParameterAnswersInJson11) {
  HttpResponse r = ssm("GetParameter", {{"Name", kName}, {"WithDecryption", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.contentType, "application/x-amz-json-1.1");
  Json p = Json::parse(r.body)["Parameter"];
  EXPECT_EQ(p["Name"], kName);
  EXPECT_EQ(p["Type"], "String");
  EXPECT_EQ(p["Value"], std::string(model::kBaseImageId));
  EXPECT_EQ(p["Version"], 1);
  EXPECT_EQ(p["DataType"], "aws:ec2:image");
  EXPECT_EQ(p["ARN"], "arn:aws:ssm:us-east-1::parameter" + kName);
  EXPECT_TRUE(p["LastModifiedDate"].is_number()) << p; // epoch seconds on the JSON wire
  EXPECT_FALSE(p.contains("Selector"));

  p = Json::parse(ssm("GetParameter", {{"Name", kName + ":1"}}).body)["Parameter"];
  EXPECT_EQ(p["Selector"], ":1");
  p = Json::parse(ssm("GetParameter", {{"Name", "arn:aws:ssm:us-east-1::parameter" + kName}})
                      .body)["Parameter"];
  EXPECT_EQ(p["Name"], kName);
}

TEST_F(SsmTest, ErrorsInJson11Envelope) {
  HttpResponse r = ssm("GetParameter", {{"Name", "/aws/service/none"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.contentType, "application/x-amz-json-1.1");
  Json e = Json::parse(r.body);
  EXPECT_EQ(e["__type"], "ParameterNotFound");
  EXPECT_NE(e["message"].get<std::string>().find("/aws/service/none"), std::string::npos);

  EXPECT_EQ(Json::parse(ssm("GetParameter", {{"Name", kName + ":2"}}).body)["__type"],
            "ParameterVersionNotFound");
  EXPECT_EQ(Json::parse(ssm("GetParameter", Json::object()).body)["__type"], "ValidationException");
  EXPECT_EQ(Json::parse(ssm("GetParameter", {{"Name", kName}, {"Bogus", 1}}).body)["__type"],
            "ValidationException");
  EXPECT_EQ(Json::parse(ssm("PutParameter", {{"Name", "/x"}}).body)["__type"],
            "UnknownOperationException");
}

TEST_F(SsmTest, GetParametersSeparatesTheUnknown) {
  HttpResponse r = ssm("GetParameters", {{"Names", {kName, "/nope", kName}}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json b = Json::parse(r.body);
  ASSERT_EQ(b["Parameters"].size(), 1u);
  EXPECT_EQ(b["Parameters"][0]["Name"], kName);
  EXPECT_EQ(b["InvalidParameters"], Json::array({"/nope"}));
  EXPECT_EQ(Json::parse(ssm("GetParameters", {{"Names", Json::array()}}).body)["__type"],
            "ValidationException");
}

TEST_F(SsmTest, GetParametersByPathListsOneLevelOrAllAndPages) {
  HttpResponse r = ssm("GetParametersByPath", {{"Path", kPath}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json all = Json::parse(r.body)["Parameters"];
  EXPECT_EQ(all.size(), model::publicParameters().size());
  EXPECT_FALSE(Json::parse(r.body).contains("NextToken"));
  // Not recursive: /aws/service has no parameter directly under it.
  EXPECT_TRUE(Json::parse(ssm("GetParametersByPath", {{"Path", "/aws/service"}}).body)["Parameters"]
                  .empty());
  Json rec = Json::parse(
      ssm("GetParametersByPath", {{"Path", "/aws/service/"}, {"Recursive", true}}).body);
  EXPECT_EQ(rec["Parameters"].size(), all.size());
  // Pages of 5, following NextToken.
  std::vector<std::string> names;
  Json req = {{"Path", kPath}, {"MaxResults", 5}};
  for (int page = 0; page < 10; ++page) {
    Json b = Json::parse(ssm("GetParametersByPath", req).body);
    for (const Json& p : b["Parameters"]) {
      names.push_back(p["Name"]);
    }
    if (!b.contains("NextToken")) {
      break;
    }
    req["NextToken"] = b["NextToken"];
  }
  ASSERT_EQ(names.size(), all.size());
  EXPECT_EQ(names.front(), all.front()["Name"]);
  EXPECT_EQ(Json::parse(ssm("GetParametersByPath", {{"Path", "aws"}}).body)["__type"],
            "ValidationException");
}

TEST_F(SsmTest, RunInstancesResolvesTheParameter) {
  baseImage();
  Json r = ok("RunInstances", {{"ImageId", "resolve:ssm:" + kName}, {"InstanceType", "t3.micro"}});
  EXPECT_EQ(r["Instances"][0]["ImageId"], std::string(model::kBaseImageId));
  EXPECT_EQ(r["Instances"][0]["Port"], 80);
  Json d = ok("DescribeInstances", Json::object());
  EXPECT_EQ(d["Reservations"][0]["Instances"][0]["ImageId"], std::string(model::kBaseImageId));

  EXPECT_EQ(errorCode("RunInstances",
                      {{"ImageId", "resolve:ssm:/aws/service/none"}, {"InstanceType", "t3.micro"}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("RunInstances",
                      {{"ImageId", "resolve:ssm:" + kName + ":9"}, {"InstanceType", "t3.micro"}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("RunInstances", {{"ImageId", "ssm:" + kName}, {"InstanceType", "t3.micro"}}),
            "InvalidAMIID.Malformed");
  EXPECT_EQ(instanceCount(), 1u); // the refused requests launched nothing
}

TEST_F(SsmTest, LaunchTemplatesKeepTheReferenceAndResolveAtLaunch) {
  baseImage();
  std::string ref = "resolve:ssm:" + kName;
  ok("CreateLaunchTemplate",
     {{"LaunchTemplateName", "web"},
      {"LaunchTemplateData", {{"ImageId", ref}, {"InstanceType", "t3.micro"}}}});
  Json v = ok("DescribeLaunchTemplateVersions", {{"LaunchTemplateName", "web"}});
  EXPECT_EQ(v["LaunchTemplateVersions"][0]["LaunchTemplateData"]["ImageId"], ref);
  v = ok("DescribeLaunchTemplateVersions", {{"LaunchTemplateName", "web"}, {"ResolveAlias", true}});
  EXPECT_EQ(v["LaunchTemplateVersions"][0]["LaunchTemplateData"]["ImageId"],
            std::string(model::kBaseImageId));
  Json r = ok("RunInstances", {{"LaunchTemplate", {{"LaunchTemplateName", "web"}}}});
  EXPECT_EQ(r["Instances"][0]["ImageId"], std::string(model::kBaseImageId));

  // An unknown parameter is refused when the template is made, and nothing is recorded.
  EXPECT_EQ(errorCode("CreateLaunchTemplate",
                      {{"LaunchTemplateName", "bad"},
                       {"LaunchTemplateData",
                        {{"ImageId", "resolve:ssm:/nope"}, {"InstanceType", "t3.micro"}}}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("DescribeLaunchTemplates", {{"LaunchTemplateNames", {"bad"}}}),
            "InvalidLaunchTemplateName.NotFoundException");
  EXPECT_EQ(errorCode("CreateLaunchTemplateVersion",
                      {{"LaunchTemplateName", "web"},
                       {"LaunchTemplateData", {{"ImageId", "resolve:ssm:/nope"}}}}),
            "InvalidParameterValue");
}

TEST_F(SsmTest, TheBaseImageIsAmazonsAndStays) {
  baseImage();
  std::string own = availableImage();
  Json imgs = ok("DescribeImages", {{"Owners", {"amazon"}}})["Images"];
  ASSERT_EQ(imgs.size(), 1u);
  EXPECT_EQ(imgs[0]["ImageId"], std::string(model::kBaseImageId));
  EXPECT_EQ(imgs[0]["ImageOwnerAlias"], "amazon");
  EXPECT_EQ(imgs[0]["OwnerId"], std::string(model::kAmazonOwnerId));
  EXPECT_EQ(imgs[0]["Public"], true);
  imgs = ok("DescribeImages", {{"Owners", {"self"}}})["Images"];
  ASSERT_EQ(imgs.size(), 1u);
  EXPECT_EQ(imgs[0]["ImageId"], own);
  // Without Owners, only the account's own (AWS would list every public image); by id, any.
  imgs = ok("DescribeImages", Json::object())["Images"];
  ASSERT_EQ(imgs.size(), 1u);
  EXPECT_EQ(imgs[0]["ImageId"], own);
  EXPECT_EQ(ok("DescribeImages", {{"ImageIds", {std::string(model::kBaseImageId), own}}})["Images"]
                .size(),
            2u);
  EXPECT_EQ(ok("DescribeImages",
               {{"Owners", {"amazon", "self"}},
                {"Filters", {{{"Name", "owner-alias"}, {"Values", {"amazon"}}}}}})["Images"]
                .size(),
            1u);
  EXPECT_EQ(errorCode("DescribeImages", {{"Owners", {"someone"}}}), "InvalidUserID.Malformed");
  EXPECT_EQ(errorCode("DeregisterImage", {{"ImageId", std::string(model::kBaseImageId)}}),
            "OperationNotPermitted");
  EXPECT_EQ(ok("DescribeImages", {{"Owners", {"amazon"}}})["Images"].size(), 1u);
}

} // namespace
} // namespace tide::api
