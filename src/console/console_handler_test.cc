// The console's routes over the action table and a real store (api's ApiTest fixture): the
// redirect, the page, the token on reads, the header on actions, the allowlist and the errors.
#include "api/api_test_fixture.h"
#include "api/auth.h"
#include "console/console.h"
#include "metrics/series.h"

namespace tide::console {
namespace {

class ConsoleHandlerTest : public api::ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    auth_.credentials = {"AKIDEXAMPLE", "secret"};
    token_ = api::viewerToken(auth_.credentials);
    ctx_->auth = &auth_;
    ctx_->actions = &table_;
    metrics_ = std::make_unique<metrics::MetricStore>(clock_);
    ctx_->metrics = metrics_.get();
    publisher_ = std::make_unique<control::Publisher>(*store_, [](auto) {});
    console_ = std::make_unique<Console>(
        *ctx_, *publisher_, [] { return balancer::CountersSnapshot{}; },
        ConsoleOptions{"/bin/false", dir_.string(), ""});
  }

  api::HttpResponse send(const std::string& method, const std::string& target,
                         std::vector<std::pair<std::string, std::string>> headers = {},
                         const std::string& body = "") {
    api::HttpRequest r;
    r.method = method;
    r.target = target;
    r.headers = std::move(headers);
    r.body = body;
    EXPECT_TRUE(Console::handles(target));
    return console_->handle(r);
  }
  api::HttpResponse act(const api::Json& body) {
    return send("POST", "/console/api/call", {{"x-tide-token", token_}}, body.dump());
  }
  static std::string codeOf(const api::HttpResponse& r) {
    return api::Json::parse(r.body).value("__type", "");
  }

  api::AuthConfig auth_;
  std::string token_;
  api::ActionTable table_;
  std::unique_ptr<metrics::MetricStore> metrics_;
  std::unique_ptr<control::Publisher> publisher_;
  std::unique_ptr<Console> console_;
};

TEST_F(ConsoleHandlerTest, RedirectsToThePageAndServesItsFiles) {
  api::HttpResponse r = send("GET", "/console?token=ab");
  EXPECT_EQ(r.status, 302);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"Location", "/console/?token=ab"}));

  r = send("GET", "/console/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.contentType, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("tide console"), std::string::npos);
  for (const auto& [name, value] : r.headers) {
    EXPECT_NE(name, "Set-Cookie"); // no token, no cookie
  }
  r = send("GET", "/console/?token=" + token_);
  bool cookie = false;
  for (const auto& [name, value] : r.headers) {
    cookie = cookie || (name == "Set-Cookie" && value.starts_with("tide_token=" + token_ + ";"));
  }
  EXPECT_TRUE(cookie);
  EXPECT_EQ(send("GET", "/console/chart.min.js").contentType, "text/javascript; charset=utf-8");
  EXPECT_EQ(send("GET", "/console/nothing.js").status, 404);
  EXPECT_EQ(send("POST", "/console/index.html").status, 405);
}

TEST_F(ConsoleHandlerTest, TheStateNeedsTheViewerToken) {
  api::HttpResponse r = send("GET", "/console/api/state");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(codeOf(r), "AccessDeniedException");
  r = send("GET", "/console/api/state?token=" + token_);
  ASSERT_EQ(r.status, 200) << r.body;
  api::Json s = api::Json::parse(r.body);
  EXPECT_EQ(s["LoadBalancers"], api::Json::array());
  EXPECT_EQ(s["AutoScalingGroups"], api::Json::array());
  EXPECT_EQ(s["Load"]["Running"], false);
  EXPECT_EQ(s["Presets"].size(), 3u);
  EXPECT_TRUE(s["EventStream"].is_null());
  EXPECT_EQ(s["Errors"], api::Json::array());
  // The cookie is enough to read.
  r = send("GET", "/console/api/state", {{"cookie", "tide_token=" + token_}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(send("POST", "/console/api/state").status, 405);
}

TEST_F(ConsoleHandlerTest, MetricsAreGetMetricData) {
  api::HttpResponse r =
      send("POST", "/console/api/metrics", {{"authorization", "Bearer " + token_}},
           R"({"StartTime": 0, "EndTime": 60})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(codeOf(r), "MissingParameter"); // GetMetricData's own check
  api::Json q = {{"StartTime", 0},
                 {"EndTime", 60},
                 {"MetricDataQueries",
                  {{{"Id", "cpu"},
                    {"MetricStat",
                     {{"Metric", {{"Namespace", "AWS/EC2"}, {"MetricName", "CPUUtilization"}}},
                      {"Period", 1},
                      {"Stat", "Average"}}}}}}};
  r = send("POST", "/console/api/metrics", {{"authorization", "Bearer " + token_}}, q.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(api::Json::parse(r.body)["MetricDataResults"][0]["Id"], "cpu");
  EXPECT_EQ(send("POST", "/console/api/metrics", {}, q.dump()).status, 403);
}

TEST_F(ConsoleHandlerTest, ActionsNeedTheTokenInAHeaderAndTheAllowlist) {
  api::Json body = {{"Action", "SetDesiredCapacity"},
                    {"Params", {{"AutoScalingGroupName", "web"}, {"DesiredCapacity", 1}}}};
  // The cookie or ?token= alone: refused, even when valid.
  api::HttpResponse r =
      send("POST", "/console/api/call", {{"cookie", "tide_token=" + token_}}, body.dump());
  EXPECT_EQ(r.status, 403);
  r = send("POST", "/console/api/call?token=" + token_, {}, body.dump());
  EXPECT_EQ(r.status, 403);
  r = send("POST", "/console/api/call", {{"x-tide-token", "0000"}}, body.dump());
  EXPECT_EQ(r.status, 403);
  // With the header, through the action table: the action's own error.
  r = act(body);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(codeOf(r), "ValidationError") << r.body;
  EXPECT_NE(r.body.find("'web' not found"), std::string::npos) << r.body;

  EXPECT_EQ(codeOf(act({{"Action", "DeleteVpc"}, {"Params", api::Json::object()}})),
            "InvalidAction");
  EXPECT_EQ(codeOf(act({{"Params", api::Json::object()}})), "MissingParameter");
  EXPECT_EQ(codeOf(act({{"Action", "StopInstances"}, {"Params", 3}})), "ValidationError");
  EXPECT_EQ(codeOf(send("POST", "/console/api/call", {{"x-tide-token", token_}}, "[1")),
            "SerializationException");
  r = act({{"Action", "StartLoad"},
           {"Params",
            {{"LoadBalancerArn", "arn:aws:elasticloadbalancing:us-east-1:000000000000:"
                                 "loadbalancer/app/none/0123456789abcdef"},
             {"Profile", "sale"}}}});
  EXPECT_EQ(codeOf(r), "LoadBalancerNotFound") << r.body;
  r = act({{"Action", "StopLoad"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(api::Json::parse(r.body)["Load"]["Running"], false);
}

} // namespace
} // namespace tide::console
