// Stack templates: YAML and JSON, short forms, intrinsic functions, parameters and validation.
#include "stacks/template.h"

#include "model/public_parameters.h"
#include "stacks/intrinsics.h"

#include <gtest/gtest.h>

namespace tide::stacks {
namespace {

const char* kWeb = R"(
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Port:
    Type: Number
    Default: 8080
    MinValue: 1
    MaxValue: 65535
  Env:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  Names:
    Type: CommaDelimitedList
    Default: "a, b"
Resources:
  Listener:
    Type: AWS::ElasticLoadBalancingV2::Listener
    Properties:
      LoadBalancerArn: !Ref LB
      Port: !Ref Port
      DefaultActions:
        - Type: forward
          TargetGroupArn: !Ref Web
  LB:
    Type: AWS::ElasticLoadBalancingV2::LoadBalancer
  Web:
    Type: AWS::ElasticLoadBalancingV2::TargetGroup
    DependsOn: LB
    Properties:
      Name: !Sub "${AWS::StackName}-${Env}"
      Port: 9000
      HealthCheckPath: /health
Outputs:
  URL:
    Value: !Sub "http://${LB.DNSName}:${Port}"
    Description: where the shop answers
  Full:
    Value: !GetAtt [Web, TargetGroupFullName]
  Joined:
    Value: !Join ["-", [!Select [1, !Ref Names], "x"]]
)";

TEST(StackTemplate, ShortFormsExpandAndOrderFollowsDependencies) {
  auto t = parseTemplate(kWeb);
  ASSERT_TRUE(t) << t.status().toString();
  const TemplateResource* l = t->resource("Listener");
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->properties["LoadBalancerArn"], Json({{"Ref", "LB"}}));
  EXPECT_EQ(l->dependencies, (std::vector<std::string>{"LB", "Web"}));
  EXPECT_EQ(t->resource("Web")->dependencies, (std::vector<std::string>{"LB"}));
  EXPECT_EQ(t->creationOrder, (std::vector<std::string>{"LB", "Web", "Listener"}));
  // Sections are JSON objects: outputs come in key order.
  EXPECT_EQ(t->outputs[0].key, "Full");
  EXPECT_EQ(t->outputs[0].value, Json({{"Fn::GetAtt", {"Web", "TargetGroupFullName"}}}));
  EXPECT_EQ(t->outputs[2].value, Json({{"Fn::Sub", "http://${LB.DNSName}:${Port}"}}));
  EXPECT_EQ(t->resource("Web")->properties["Port"], 9000); // plain scalars are numbers
}

TEST(StackTemplate, GetAttDotFormAndJsonTemplates) {
  auto y = parseTemplateDocument("A: !GetAtt LB.DNSName\nB: '8080'\nC: 0.5\nD: t3.micro\n");
  ASSERT_TRUE(y);
  EXPECT_EQ((*y)["A"], Json({{"Fn::GetAtt", {"LB", "DNSName"}}}));
  EXPECT_EQ((*y)["B"], "8080");
  EXPECT_EQ((*y)["C"], 0.5);
  EXPECT_EQ((*y)["D"], "t3.micro");
  auto j = parseTemplate(R"({"Resources": {"LB": {"Type":
      "AWS::ElasticLoadBalancingV2::LoadBalancer"}}})");
  ASSERT_TRUE(j) << j.status().toString();
  EXPECT_EQ(j->creationOrder, (std::vector<std::string>{"LB"}));
}

TEST(StackTemplate, ResolvesIntrinsicFunctions) {
  auto t = parseTemplate(kWeb);
  ASSERT_TRUE(t);
  auto params = resolveParameters(*t, {{"Env", "prod"}});
  ASSERT_TRUE(params) << params.status().toString();
  ResolveScope sc;
  sc.tmpl = &*t;
  sc.parameters = *params;
  sc.stackName = "shop";
  sc.ref = [](const std::string& id) -> Result<Json> { return Json("arn:" + id); };
  sc.getAtt = [](const std::string& id, const std::string& a) -> Result<Json> {
    return Json(id + "." + a);
  };
  auto url = resolveValue(t->outputs[2].value, sc, "Outputs.URL");
  ASSERT_TRUE(url);
  EXPECT_EQ(**url, "http://LB.DNSName:8080");
  auto joined = resolveValue(t->outputs[1].value, sc, "Outputs.Joined");
  ASSERT_TRUE(joined) << joined.status().toString();
  EXPECT_EQ(**joined, "b-x");
  auto props = resolveValue(t->resource("Web")->properties, sc, "P");
  ASSERT_TRUE(props);
  EXPECT_EQ((**props)["Name"], "shop-prod");
  auto listener = resolveValue(t->resource("Listener")->properties, sc, "P");
  EXPECT_EQ((**listener)["Port"], 8080); // a Number parameter is a number
  EXPECT_EQ((**listener)["DefaultActions"][0]["TargetGroupArn"], "arn:Web");
  auto none = resolveValue(Json{{"A", {{"Ref", "AWS::NoValue"}}}, {"B", 1}}, sc, "P");
  EXPECT_EQ(**none, Json({{"B", 1}}));
  auto b64 = resolveValue(Json{{"Fn::Base64", {{"Fn::Sub", "hi ${!Literal}"}}}}, sc, "P");
  EXPECT_EQ(**b64, "aGkgJHtMaXRlcmFsfQ==");
}

TEST(StackTemplate, ParametersDefaultsOverridesAndChecks) {
  auto t = parseTemplate(kWeb);
  ASSERT_TRUE(t);
  auto d = resolveParameters(*t, {});
  ASSERT_TRUE(d);
  EXPECT_EQ((*d)[2], (model::StackParameter{"Port", "8080"})); // Env, Names, Port
  EXPECT_EQ((*resolveParameters(*t, {{"Port", "9090"}}))[2].value, "9090");
  EXPECT_EQ(resolveParameters(*t, {{"Port", "x"}}).status().message(),
            "Parameter 'Port' must be a number, not 'x'");
  EXPECT_FALSE(resolveParameters(*t, {{"Port", "70000"}}));
  EXPECT_NE(resolveParameters(*t, {{"Env", "test"}}).status().message().find("AllowedValues"),
            std::string::npos);
  EXPECT_EQ(resolveParameters(*t, {{"Nope", "1"}}).status().message(),
            "Parameters: [Nope] do not exist in the template");
  auto req = parseTemplate("Parameters:\n  Need: {Type: String}\nResources:\n  LB:\n    Type: "
                           "AWS::ElasticLoadBalancingV2::LoadBalancer\n");
  ASSERT_TRUE(req);
  EXPECT_EQ(resolveParameters(*req, {}).status().message(), "Parameters: [Need] must have values");
}

std::string error(const std::string& body) {
  auto t = parseTemplate(body);
  EXPECT_FALSE(t) << body;
  EXPECT_EQ(t.status().code(), "ValidationError");
  return t.status().message();
}

TEST(StackTemplate, PreciseErrors) {
  std::string asg = "Resources:\n  WebGroup:\n    Type: AWS::AutoScaling::AutoScalingGroup\n"
                    "    Properties:\n      LaunchTemplate: {LaunchTemplateName: x, Version: 1}\n"
                    "      MaxSize: 2\n";
  EXPECT_EQ(error(asg + "      MinSize: two\n"),
            "Resources.WebGroup.Properties.MinSize: must be a number");
  EXPECT_EQ(error(asg), "Resources.WebGroup.Properties: MinSize is required for "
                        "AWS::AutoScaling::AutoScalingGroup");
  EXPECT_NE(error(asg + "      MinSize: 1\n      MinSzie: 1\n")
                .find("Resources.WebGroup.Properties.MinSzie: unknown property"),
            std::string::npos);
  EXPECT_NE(error("Resources:\n  X:\n    Type: AWS::EC2::Nope\n")
                .find("Resources.X.Type: unrecognized resource type AWS::EC2::Nope"),
            std::string::npos);
  EXPECT_EQ(
      error("Resources:\n  L:\n    Type: AWS::ElasticLoadBalancingV2::Listener\n"
            "    Properties: {LoadBalancerArn: !Ref Missing, Port: 80, DefaultActions: []}\n"),
      "Template format error: Resources.L.Properties.LoadBalancerArn: Ref refers to "
      "'Missing', which is not a parameter or resource of the template");
  EXPECT_NE(error("Resources:\n  LB:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
                  "Outputs:\n  U:\n    Value: !GetAtt LB.Nope\n")
                .find("has no attribute 'Nope'"),
            std::string::npos);
  EXPECT_NE(error("Resources:\n  A:\n    Type: x\n  - b\n").find("YAML not well-formed"),
            std::string::npos);
  EXPECT_NE(error("Resources:\n  A:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
                  "    Properties: {Name: !Foo x}\n")
                .find("unknown tag !Foo"),
            std::string::npos);
  EXPECT_EQ(error("Description: x\n"),
            "Template format error: At least one Resources member must be defined.");
}

TEST(StackTemplate, DependencyCycles) {
  std::string cyc = "Resources:\n"
                    "  A:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
                    "    DependsOn: C\n"
                    "  B:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
                    "    Properties: {Name: !GetAtt A.LoadBalancerName}\n"
                    "  C:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
                    "    Properties: {Name: !Sub '${B}'}\n";
  EXPECT_EQ(error(cyc), "Circular dependency between resources: [A, B, C]");
  EXPECT_EQ(error("Resources:\n  A:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
                  "    DependsOn: [A]\n"),
            "Circular dependency between resources: [A]");
}

TEST(StackTemplate, SubstituteParametersKeepsResourceRefs) {
  auto t = parseTemplate(kWeb);
  ASSERT_TRUE(t);
  auto p = *resolveParameters(*t, {});
  Json l = substituteParameters(t->resource("Listener")->properties, *t, p);
  EXPECT_EQ(l["Port"], 8080);
  EXPECT_EQ(l["LoadBalancerArn"], Json({{"Ref", "LB"}}));
  auto refs = referencedResources(t->outputs[2].value, *t);
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0], (std::pair<std::string, std::string>{"LB", "DNSName"}));
}

TEST(StackTemplate, SsmImageParametersResolveToTheImageId) {
  auto t = parseTemplate(R"(
Parameters:
  LatestAmiId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
  PlainAmi:
    Type: AWS::EC2::Image::Id
    Default: ami-0123456789abcdef0
Resources:
  LT:
    Type: AWS::EC2::LaunchTemplate
    Properties:
      LaunchTemplateData:
        ImageId: !Ref LatestAmiId
        InstanceType: t3.micro
)");
  ASSERT_TRUE(t) << t.status().toString();
  auto p = resolveParameters(*t, {});
  ASSERT_TRUE(p) << p.status().toString();
  EXPECT_EQ((*p)[0].value,
            "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"); // as given
  Json lt = substituteParameters(t->resource("LT")->properties, *t, *p);
  EXPECT_EQ(lt["LaunchTemplateData"]["ImageId"], std::string(model::kBaseImageId));

  auto missing = resolveParameters(*t, {{"LatestAmiId", "/aws/service/none"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), "ValidationError");
  EXPECT_EQ(missing.status().message(),
            "Unable to fetch parameters [/aws/service/none] from parameter store for this "
            "account. (tide provides the public parameters under "
            "/aws/service/ami-amazon-linux-latest/)");
  EXPECT_FALSE(
      parseTemplate("Parameters:\n  X:\n    Type: AWS::SSM::Parameter::Value<List<String>>"
                    "\nResources:\n  LB:\n    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"));
}

} // namespace
} // namespace tide::stacks
