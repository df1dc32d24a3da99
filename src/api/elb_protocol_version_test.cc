// Target groups' ProtocolVersion (HTTP1, HTTP2, GRPC) and gRPC matchers (Matcher.GrpcCode), as
// ELBv2 takes and describes them (docs/api.md "Target groups: ProtocolVersion").
#include "api/api_test_fixture.h"
#include "common/status_testing.h"
#include "store/codec.h"

#include <nlohmann/json.hpp>

namespace tide::api {
namespace {

class ElbProtocolVersionTest : public ApiTest {
protected:
  Json create(Json params) { return ok("CreateTargetGroup", params)["TargetGroups"][0]; }
  Json describe(const std::string& name) {
    return ok("DescribeTargetGroups", {{"Names", {name}}})["TargetGroups"][0];
  }
  // The stored target group, as the health checker reads it.
  model::TargetGroup stored(const std::string& name) {
    std::optional<model::TargetGroup> tg;
    EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
      TIDE_ASSIGN_OR_RETURN(tg, tx.targetGroupByName(name));
      return Status::ok();
    }));
    return tg.value_or(model::TargetGroup{});
  }
};

TEST_F(ElbProtocolVersionTest, Http1IsTheDefaultAndHttp2KeepsHttpCodes) {
  Json tg = create({{"Name", "plain"}, {"Port", 8080}});
  EXPECT_EQ(tg["ProtocolVersion"], "HTTP1");
  EXPECT_EQ(tg["Matcher"], Json({{"HttpCode", "200"}}));
  Json h2 = create({{"Name", "h2"}, {"Port", 8080}, {"ProtocolVersion", "HTTP2"}});
  EXPECT_EQ(h2["ProtocolVersion"], "HTTP2");
  EXPECT_EQ(h2["HealthCheckPath"], "/");
  EXPECT_EQ(h2["Matcher"], Json({{"HttpCode", "200"}}));
  EXPECT_EQ(describe("h2")["ProtocolVersion"], "HTTP2");
  EXPECT_EQ(stored("h2").protocolVersion, "HTTP2");
}

TEST_F(ElbProtocolVersionTest, GrpcDefaultsToItsHealthCheckMethodAndCode12) {
  Json tg = create({{"Name", "rpc"}, {"Port", 50051}, {"ProtocolVersion", "GRPC"}});
  EXPECT_EQ(tg["ProtocolVersion"], "GRPC");
  EXPECT_EQ(tg["HealthCheckPath"], "/AWS.ALB/healthcheck");
  EXPECT_EQ(tg["Matcher"], Json({{"GrpcCode", "12"}}));
  Json d = describe("rpc");
  EXPECT_EQ(d["Matcher"], Json({{"GrpcCode", "12"}}));
  EXPECT_EQ(d["ProtocolVersion"], "GRPC");
  // No concurrency limit by default (streams last by design), unlike other groups' adaptive one.
  auto maxConcurrency = [&](const std::string& arn) {
    Json attributes = ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", arn}});
    for (const Json& a : attributes["Attributes"]) {
      if (a["Key"] == "tide.target.max_concurrency") {
        return a["Value"].get<std::string>();
      }
    }
    return std::string("<none>");
  };
  EXPECT_EQ(maxConcurrency(tg["TargetGroupArn"]), "0");
  EXPECT_EQ(maxConcurrency(create({{"Name", "web"}})["TargetGroupArn"]), "adaptive");
  // Its own path and codes: one, a list, a range.
  for (const char* codes : {"0", "0,1,2", "0-5", "0-99", "3,10-20"}) {
    std::string name = "rpc" + std::to_string(std::string(codes).size()) + "x" +
                       std::to_string(std::hash<std::string>{}(codes) % 1000);
    Json t = create({{"Name", name},
                     {"ProtocolVersion", "GRPC"},
                     {"HealthCheckPath", "/grpc.health.v1.Health/Check"},
                     {"Matcher", {{"GrpcCode", codes}}}});
    EXPECT_EQ(t["Matcher"]["GrpcCode"], codes);
    EXPECT_EQ(t["HealthCheckPath"], "/grpc.health.v1.Health/Check");
  }
}

TEST_F(ElbProtocolVersionTest, BadVersionsAndMatchersAreRefusedAndChangeNothing) {
  auto [code, message] = error("CreateTargetGroup", {{"Name", "x"}, {"ProtocolVersion", "HTTP3"}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_NE(message.find("HTTP1, HTTP2 or GRPC"), std::string::npos) << message;
  // gRPC codes are 0..99.
  std::tie(code, message) =
      error("CreateTargetGroup",
            {{"Name", "x"}, {"ProtocolVersion", "GRPC"}, {"Matcher", {{"GrpcCode", "200"}}}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_NE(message.find("Health check matcher GRPC code '200' must be within '0-99' inclusive"),
            std::string::npos)
      << message;
  for (const char* bad : {"", "-1", "5-2", "0,", "a", "0-100", "1,2,x"}) {
    EXPECT_EQ(
        errorCode("CreateTargetGroup",
                  {{"Name", "x"}, {"ProtocolVersion", "GRPC"}, {"Matcher", {{"GrpcCode", bad}}}}),
        "ValidationError")
        << bad;
  }
  // HttpCode with GRPC, GrpcCode without it.
  std::tie(code, message) =
      error("CreateTargetGroup",
            {{"Name", "x"}, {"ProtocolVersion", "GRPC"}, {"Matcher", {{"HttpCode", "200"}}}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_NE(message.find("HTTP code"), std::string::npos) << message;
  std::tie(code, message) =
      error("CreateTargetGroup", {{"Name", "x"}, {"Matcher", {{"GrpcCode", "0"}}}});
  EXPECT_EQ(code, "ValidationError");
  EXPECT_NE(message.find("GRPC code can only be used with the GRPC protocol version"),
            std::string::npos)
      << message;
  EXPECT_EQ(
      errorCode("CreateTargetGroup",
                {{"Name", "x"}, {"ProtocolVersion", "HTTP2"}, {"Matcher", {{"GrpcCode", "0"}}}}),
      "ValidationError");
  EXPECT_EQ(errorCode("CreateTargetGroup",
                      {{"Name", "x"}, {"Matcher", {{"HttpCode", "200"}, {"Other", "1"}}}}),
            "UnknownParameter");
  Json all = ok("DescribeTargetGroups", Json::object())["TargetGroups"];
  EXPECT_TRUE(all.empty()) << all.dump();
}

TEST_F(ElbProtocolVersionTest, ModifyTargetGroupTakesTheMatcherOfTheGroupsVersion) {
  std::string rpc = create({{"Name", "rpc"}, {"ProtocolVersion", "GRPC"}})["TargetGroupArn"];
  Json m = ok("ModifyTargetGroup",
              {{"TargetGroupArn", rpc}, {"Matcher", {{"GrpcCode", "0-2"}}}})["TargetGroups"][0];
  EXPECT_EQ(m["Matcher"], Json({{"GrpcCode", "0-2"}}));
  EXPECT_EQ(stored("rpc").matcher, "0-2");
  EXPECT_EQ(
      errorCode("ModifyTargetGroup", {{"TargetGroupArn", rpc}, {"Matcher", {{"HttpCode", "200"}}}}),
      "ValidationError");
  EXPECT_EQ(
      errorCode("ModifyTargetGroup", {{"TargetGroupArn", rpc}, {"Matcher", {{"GrpcCode", "100"}}}}),
      "ValidationError");
  EXPECT_EQ(stored("rpc").matcher, "0-2"); // unchanged by the refusals
  // The version itself is not modifiable (ModifyTargetGroup has no ProtocolVersion).
  EXPECT_EQ(errorCode("ModifyTargetGroup", {{"TargetGroupArn", rpc}, {"ProtocolVersion", "HTTP1"}}),
            "UnknownParameter");
  std::string web = create({{"Name", "web"}})["TargetGroupArn"];
  EXPECT_EQ(
      errorCode("ModifyTargetGroup", {{"TargetGroupArn", web}, {"Matcher", {{"GrpcCode", "0"}}}}),
      "ValidationError");
  EXPECT_EQ(ok("ModifyTargetGroup",
               {{"TargetGroupArn", web},
                {"Matcher", {{"HttpCode", "200-299"}}}})["TargetGroups"][0]["Matcher"],
            Json({{"HttpCode", "200-299"}}));
}

TEST_F(ElbProtocolVersionTest, StoredRowsKeepTheVersionAndOldRowsAreHttp1) {
  model::TargetGroup tg;
  tg.targetGroupName = "rpc";
  tg.protocolVersion = "GRPC";
  tg.matcher = "0-5";
  auto back = store::decodeTargetGroup(store::encodeTargetGroup(tg));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->protocolVersion, "GRPC");
  EXPECT_EQ(back->matcher, "0-5");
  // A row written before ProtocolVersion existed has no such key.
  nlohmann::json old = nlohmann::json::parse(store::encodeTargetGroup(model::TargetGroup{}));
  ASSERT_TRUE(old.erase("protocolVersion"));
  auto decoded = store::decodeTargetGroup(old.dump());
  ASSERT_TRUE(decoded.isOk());
  EXPECT_EQ(decoded->protocolVersion, "HTTP1");
}

} // namespace
} // namespace tide::api
