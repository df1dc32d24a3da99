#include "server/metrics_endpoint.h"

#include <gtest/gtest.h>

namespace tide::server {
namespace {

class MetricsEndpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    auth_.mode = api::AuthMode::SigV4;
    auth_.credentials = {"AKIAABCDEFGHIJKLMNOP", std::string(40, 's')};
    clock_.set(1'800'000'000'500);
    // The second before now, and the current (incomplete) one.
    ASSERT_TRUE(
        metrics_.put({"AWS/EC2", "CPUUtilization", {{"InstanceId", "i-1"}}}, 1'799'999'999'500, 42)
            .isOk());
    ASSERT_TRUE(
        metrics_.put({"AWS/EC2", "CPUUtilization", {{"InstanceId", "i-1"}}}, 1'800'000'000'100, 99)
            .isOk());
    // A series of tide's that stopped 10 s ago, and an app's of the same age.
    ASSERT_TRUE(
        metrics_
            .put({"AWS/EC2", "CPUUtilization", {{"InstanceId", "i-gone"}}}, 1'799'999'990'000, 7)
            .isOk());
    ASSERT_TRUE(metrics_.put({"Shop", "Orders", {}}, 1'799'999'990'000, 3).isOk());
  }
  api::HttpResponse get(std::vector<std::pair<std::string, std::string>> headers) {
    api::HttpRequest r;
    r.method = "GET";
    r.target = "/metrics";
    r.headers = std::move(headers);
    return serveMetrics({&auth_, &metrics_, nullptr, nullptr, &clock_}, r);
  }

  api::AuthConfig auth_;
  VirtualClock clock_;
  metrics::MetricStore metrics_{clock_};
};

TEST_F(MetricsEndpointTest, NeedsTheViewerToken) {
  api::HttpResponse none = get({});
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.body.find("AccessDeniedException"), std::string::npos);
  EXPECT_EQ(get({{"authorization", "Bearer nope"}}).status, 403);
  EXPECT_EQ(get({{"authorization", "Bearer " + api::viewerToken(auth_.credentials)}}).status, 200);
}

TEST_F(MetricsEndpointTest, ShowsTheLatestCompleteSecondInTheAskedFormat) {
  std::string token = "Bearer " + api::viewerToken(auth_.credentials);
  api::HttpResponse text = get({{"authorization", token}});
  EXPECT_EQ(text.contentType, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(text.body.find("tide_aws_ec2_cpu_utilization_percent{instance_id=\"i-1\"} 42\n"),
            std::string::npos)
      << text.body;
  EXPECT_EQ(text.body.find("i-gone"), std::string::npos) << "a stopped series of tide's";
  EXPECT_NE(text.body.find("tide_shop_orders 3\n"), std::string::npos) << "an app's stays";
  api::HttpResponse om =
      get({{"authorization", token}, {"accept", "application/openmetrics-text; version=1.0.0"}});
  EXPECT_EQ(om.contentType, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(om.body.substr(om.body.size() - 6), "# EOF\n");
}

TEST(MetricsEndpoint, RoutesOnlyGetMetrics) {
  api::HttpRequest r;
  r.method = "GET";
  r.target = "/metrics?x=1";
  EXPECT_TRUE(isMetricsRequest(r));
  r.target = "/metricsx";
  EXPECT_FALSE(isMetricsRequest(r));
  r.target = "/metrics";
  r.method = "POST";
  EXPECT_FALSE(isMetricsRequest(r));
}

} // namespace
} // namespace tide::server
