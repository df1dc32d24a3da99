// The fixture of the stack tests: the API's actions with the stack actions added, as the server
// wires them, a stack engine, and a sample template (an image, a launch template, a target
// group, a load balancer and its listener).
#pragma once

#include "api/api_test_fixture.h"
#include "common/status_testing.h"
#include "stacks/actions.h"
#include "stacks/engine.h"

namespace tide::stacks {

class StackEngineTest : public api::ApiTest {
protected:
  // The API's actions with the stack actions added, as the server wires them.
  void SetUp() override {
    ApiTest::SetUp();
    ctx_->actions = &actions_;
  }

  std::string web(const std::string& extraTg = "", int port = 8081) {
    return "Parameters:\n"
           "  Port: {Type: Number, Default: " +
           std::to_string(port) +
           "}\n"
           "Resources:\n"
           "  Image:\n"
           "    Type: Tide::EC2::Image\n"
           "    Properties: {SourceDirectory: app, RunCommand: python3 server.py, Port: 9000}\n"
           "  Template:\n"
           "    Type: AWS::EC2::LaunchTemplate\n"
           "    Properties:\n"
           "      LaunchTemplateData: {ImageId: !Ref Image, InstanceType: t3.micro}\n"
           "  Web:\n"
           "    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n"
           "    Properties:\n"
           "      Port: 9000\n"
           "      HealthCheckPath: /health\n" +
           extraTg +
           "  LB:\n"
           "    Type: AWS::ElasticLoadBalancingV2::LoadBalancer\n"
           "  Listener:\n"
           "    Type: AWS::ElasticLoadBalancingV2::Listener\n"
           "    Properties:\n"
           "      LoadBalancerArn: !Ref LB\n"
           "      Port: !Ref Port\n"
           "      DefaultActions: [{Type: forward, TargetGroupArn: !Ref Web}]\n"
           "Outputs:\n"
           "  URL: {Value: !Sub 'http://${LB.DNSName}:${Port}'}\n"
           "  Version: {Value: !GetAtt Template.LatestVersionNumber}\n";
  }

  Json request(const std::string& body, Json params = Json::array()) {
    return {{"StackName", "shop"},
            {"TemplateBody", body},
            {"TemplateBasePath", dir_.string()},
            {"Parameters", params}};
  }

  // Runs engine steps until the stack settles, making pending images available on the way
  // (the image controller's part).
  Json settle(const std::string& name = "shop") {
    for (int i = 0; i < 50; ++i) {
      auto r = engine_.step(*ctx_);
      EXPECT_TRUE(r) << r.status().toString();
      EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
        auto images = tx.images();
        for (model::Image img : *images) {
          if (img.state == model::ImageState::Pending) {
            img.state = model::ImageState::Available;
            TIDE_RETURN_IF_ERROR(tx.putImage(img));
          }
        }
        return Status::ok();
      }));
      auto [status, body] = call("DescribeStacks", {{"StackName", name}});
      if (status != 200) {
        return nullptr; // deleted
      }
      if (!body["Stacks"][0]["StackStatus"].get<std::string>().ends_with("_IN_PROGRESS")) {
        return body["Stacks"][0];
      }
    }
    ADD_FAILURE() << "stack did not settle";
    return nullptr;
  }

  size_t count(const char* action, const char* list) {
    return ok(action, Json::object())[list].size();
  }

  api::ActionTable actions_{stackActions()};
  StackEngine engine_;
};

} // namespace tide::stacks
