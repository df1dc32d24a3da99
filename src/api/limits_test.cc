// Value ranges checked at the API as AWS checks them, never discovered at launch
// (docs/reliability.md, "Limits"): metric values, user data, the instance Environment; and
// DescribeInstanceStatus, where an instance the kernel killed for memory shows as impaired.
#include "api/api_test_fixture.h"
#include "api/handlers.h"
#include "common/text.h"
#include "model/validation.h"

#include <cmath>
#include <limits>

namespace tide::api {
namespace {

class LimitsTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    metrics_ = std::make_unique<metrics::MetricStore>(clock_);
    ctx_->metrics = metrics_.get();
  }
  Json datum(Json value) { return {{"MetricName", "Orders"}, {"Value", value}}; }
  // PutMetricData with one datum; the error code ("" when accepted) and message.
  std::pair<std::string, std::string> put(const Json& d) {
    auto [status, body] = call("PutMetricData", {{"Namespace", "Shop"}, {"MetricData", {d}}});
    if (status == 200) {
      return {"", ""};
    }
    return {body.value("__type", ""), body.value("message", "")};
  }
  std::string env(size_t valueBytes, const std::string& name = "BIG") {
    return Json{{{"Name", name}, {"Value", std::string(valueBytes, 'x')}}}.dump();
  }
  std::unique_ptr<metrics::MetricStore> metrics_;
};

TEST_F(LimitsTest, MetricValuesOutsideCloudWatchsRangeAreRefused) {
  const double big = std::ldexp(1.0, 360), tiny = std::ldexp(1.0, -360);
  for (double v : {0.0, -0.0, 1.0, -1.0, big, -big, tiny, -tiny, 1e108, 4.3e-109}) {
    EXPECT_EQ(put(datum(v)).first, "") << v;
  }
  auto [code, message] = put(datum(1e308));
  EXPECT_EQ(code, "InvalidParameterValue");
  EXPECT_EQ(message.rfind("The value 1e+308 for parameter MetricData.member.1.Value is invalid", 0),
            0u)
      << message;
  for (double v : {std::nextafter(big, 2 * big), std::nextafter(tiny, 0.0), -1e109, 1e-110,
                   std::numeric_limits<double>::denorm_min()}) {
    EXPECT_EQ(put(datum(v)).first, "InvalidParameterValue") << v;
  }
  // Values and StatisticValues, with where the bad one is.
  auto values = put({{"MetricName", "Orders"}, {"Values", {1, 2, 1e200}}});
  EXPECT_EQ(values.first, "InvalidParameterValue");
  EXPECT_NE(values.second.find("MetricData.member.1.Values.member.3"), std::string::npos)
      << values.second;
  auto stats = put(
      {{"MetricName", "Orders"},
       {"Value", 1},
       {"StatisticValues", {{"SampleCount", 1}, {"Sum", 1e300}, {"Minimum", 0}, {"Maximum", 1}}}});
  EXPECT_EQ(stats.first, "InvalidParameterValue");
  EXPECT_NE(stats.second.find("StatisticValues.Sum"), std::string::npos) << stats.second;
  // Nothing of a refused request is stored: the statistics stay numbers.
  Json list = ok("ListMetrics", {{"Namespace", "Shop"}});
  EXPECT_EQ(list["Metrics"].size(), 1u); // from the accepted calls above
}

// NaN and the infinities cannot be written in JSON; the query and CBOR protocols can carry
// them, and the handler refuses them too (the query decoder already refuses them as not
// finite).
TEST_F(LimitsTest, NotANumberAndInfinityAreRefused) {
  for (const char* v : {"NaN", "Infinity", "-Infinity"}) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/";
    r.headers = {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
    r.body = std::string("Action=PutMetricData&Version=2010-08-01&Namespace=Shop&"
                         "MetricData.member.1.MetricName=Orders&MetricData.member.1.Value=") +
             v;
    HttpResponse resp = handleApiRequest(*ctx_, r);
    EXPECT_EQ(resp.status, 400) << v << ": " << resp.body;
  }
  // What the CBOR decoder hands the handler (JSON text would make NaN null).
  for (double v : {std::nan(""), HUGE_VAL, -HUGE_VAL}) {
    Json p = {{"Namespace", "Shop"}, {"MetricData", {{{"MetricName", "Orders"}, {"Value", v}}}}};
    Result<Json> r = putMetricData(*ctx_, p);
    ASSERT_FALSE(r.isOk()) << v;
    EXPECT_EQ(r.status().code(), "InvalidParameterValue") << v;
  }
  EXPECT_TRUE(ok("ListMetrics", {{"Namespace", "Shop"}})["Metrics"].empty());
}

TEST_F(LimitsTest, UserDataIsLimitedTo16KiBBeforeBase64Everywhere) {
  std::string image = availableImage();
  const std::string fits = base64Encode(std::string(16384, '#'));
  const std::string over = base64Encode(std::string(16385, '#'));
  Json run = {{"ImageId", image}, {"InstanceType", "t3.micro"}, {"UserData", over}};
  auto [code, message] = error("RunInstances", run);
  EXPECT_EQ(code, "InvalidParameterValue");
  EXPECT_NE(message.find("16384"), std::string::npos) << message;
  EXPECT_EQ(instanceCount(), 0u);
  run["UserData"] = fits;
  ok("RunInstances", run);
  EXPECT_EQ(instanceCount(), 1u);

  EXPECT_EQ(errorCode("CreateLaunchTemplate", {{"LaunchTemplateName", "web"},
                                               {"LaunchTemplateData", {{"UserData", over}}}}),
            "InvalidParameterValue");
  ok("CreateLaunchTemplate",
     {{"LaunchTemplateName", "web"}, {"LaunchTemplateData", {{"UserData", fits}}}});
  EXPECT_EQ(
      errorCode("CreateLaunchTemplateVersion",
                {{"LaunchTemplateName", "web"}, {"LaunchTemplateData", {{"UserData", over}}}}),
      "InvalidParameterValue");
  // RunInstances' own UserData over a template's is checked the same way.
  EXPECT_EQ(errorCode("RunInstances", {{"LaunchTemplate", {{"LaunchTemplateName", "web"}}},
                                       {"ImageId", image},
                                       {"InstanceType", "t3.micro"},
                                       {"UserData", over}}),
            "InvalidParameterValue");
  EXPECT_EQ(instanceCount(), 1u);
}

// The root volume's size becomes a real file system's size (src/runtime/root_volume.h), so it is
// checked here, in EBS's range for gp3, before anything is launched or stored.
TEST_F(LimitsTest, RootVolumeSizesOutsideEbssRangeAreRefused) {
  std::string image = availableImage();
  auto mapping = [](int gib) {
    return Json{{{"DeviceName", "/dev/xvda"}, {"Ebs", {{"VolumeSize", gib}}}}};
  };
  for (int gib : {0, -1, 16385}) {
    Json run = {
        {"ImageId", image}, {"InstanceType", "t3.micro"}, {"BlockDeviceMappings", mapping(gib)}};
    auto [code, message] = error("RunInstances", run);
    EXPECT_EQ(code, "InvalidParameterValue") << gib;
    EXPECT_NE(message.find("must be 1 to 16384"), std::string::npos) << message;
    EXPECT_EQ(errorCode("CreateLaunchTemplate",
                        {{"LaunchTemplateName", "big"},
                         {"LaunchTemplateData", {{"BlockDeviceMappings", mapping(gib)}}}}),
              "InvalidParameterValue")
        << gib;
  }
  EXPECT_EQ(instanceCount(), 0u);
  for (int gib : {1, 16384}) {
    ok("RunInstances",
       {{"ImageId", image}, {"InstanceType", "t3.micro"}, {"BlockDeviceMappings", mapping(gib)}});
  }
  EXPECT_EQ(instanceCount(), 2u);
}

TEST_F(LimitsTest, EnvironmentValuesAndTheirTotalStayBelowTheKernelsLimits) {
  std::string image = availableImage();
  auto run = [&](const Json& environment) {
    return Json{{"ImageId", image}, {"InstanceType", "t3.micro"}, {"Environment", environment}};
  };
  // The 200 KB value that used to be accepted and then killed the launch with E2BIG.
  auto [code, message] = error("RunInstances", run(Json::parse(env(200'000))));
  EXPECT_EQ(code, "InvalidParameterValue");
  EXPECT_NE(message.find("'BIG' is 200004 bytes as NAME=VALUE; the limit is 131071"),
            std::string::npos)
      << message;
  // NAME=VALUE of exactly the limit fits (its NUL makes the kernel's 131072).
  const size_t largest = model::kMaxEnvironmentEntryBytes - 4; // "BIG="
  ok("RunInstances", run(Json::parse(env(largest))));
  EXPECT_EQ(errorCode("RunInstances", run(Json::parse(env(largest + 1)))), "InvalidParameterValue");
  // The total: two values that fit one by one, a third one over the sum.
  Json three = Json::array();
  for (const char* name : {"A", "B", "C"}) {
    three.push_back({{"Name", name}, {"Value", std::string(100'000, 'x')}});
  }
  auto total = error("RunInstances", run(three));
  EXPECT_EQ(total.first, "InvalidParameterValue");
  EXPECT_NE(total.second.find("The Environment is 300009 bytes"), std::string::npos)
      << total.second;
  three.erase(2);
  ok("RunInstances", run(three));
  EXPECT_EQ(instanceCount(), 2u);
  // Launch templates get the same check.
  EXPECT_EQ(errorCode("CreateLaunchTemplate",
                      {{"LaunchTemplateName", "web"},
                       {"LaunchTemplateData", {{"Environment", Json::parse(env(200'000))}}}}),
            "InvalidParameterValue");
}

TEST_F(LimitsTest, DescribeInstanceStatusShowsAnOomKilledInstanceImpaired) {
  std::string image = availableImage();
  Json r = ok("RunInstances", {{"ImageId", image}, {"InstanceType", "t3.micro"}, {"MaxCount", 3}});
  std::vector<std::string> ids;
  for (const Json& i : r["Instances"]) {
    ids.push_back(i["InstanceId"]);
  }
  // As the instance controller records them: two running, one of them impaired; one stopped.
  const TimeMs since = 1'700'000'000'000;
  EXPECT_OK(store_->transact([&](store::Tx& tx) -> Status {
    for (size_t k = 0; k < ids.size(); ++k) {
      model::Instance i = **tx.instance(ids[k]);
      i.state = k == 2 ? model::InstanceState::Stopped : model::InstanceState::Running;
      i.impairedSince = k == 1 ? since : 0;
      TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    }
    return Status::ok();
  }));
  Json s = ok("DescribeInstanceStatus", Json::object());
  ASSERT_EQ(s["InstanceStatuses"].size(), 2u); // running only by default
  std::map<std::string, Json> by;
  for (const Json& e : s["InstanceStatuses"]) {
    by[e["InstanceId"]] = e;
  }
  const Json& good = by[ids[0]];
  EXPECT_EQ(good["InstanceState"]["Name"], "running");
  EXPECT_EQ(good["InstanceState"]["Code"], 16);
  EXPECT_EQ(good["InstanceStatus"]["Status"], "ok");
  EXPECT_EQ(good["InstanceStatus"]["Details"][0]["Name"], "reachability");
  EXPECT_EQ(good["InstanceStatus"]["Details"][0]["Status"], "passed");
  EXPECT_EQ(good["SystemStatus"]["Status"], "ok");
  const Json& bad = by[ids[1]];
  EXPECT_EQ(bad["InstanceStatus"]["Status"], "impaired");
  EXPECT_EQ(bad["InstanceStatus"]["Details"][0]["Status"], "failed");
  EXPECT_EQ(bad["InstanceStatus"]["Details"][0]["ImpairedSince"], formatIso8601(since));
  EXPECT_EQ(bad["SystemStatus"]["Status"], "ok"); // the host is fine
  EXPECT_FALSE(good["InstanceStatus"]["Details"][0].contains("ImpairedSince"));

  Json all = ok("DescribeInstanceStatus", {{"IncludeAllInstances", true}});
  ASSERT_EQ(all["InstanceStatuses"].size(), 3u);
  Json one =
      ok("DescribeInstanceStatus", {{"InstanceIds", {ids[2]}}, {"IncludeAllInstances", true}});
  EXPECT_EQ(one["InstanceStatuses"][0]["InstanceStatus"]["Status"], "not-applicable");
  EXPECT_EQ(one["InstanceStatuses"][0]["SystemStatus"]["Status"], "not-applicable");

  Json impaired =
      ok("DescribeInstanceStatus",
         {{"Filters", {{{"Name", "instance-status.status"}, {"Values", {"impaired"}}}}}});
  ASSERT_EQ(impaired["InstanceStatuses"].size(), 1u);
  EXPECT_EQ(impaired["InstanceStatuses"][0]["InstanceId"], ids[1]);
  Json failed =
      ok("DescribeInstanceStatus",
         {{"Filters", {{{"Name", "instance-status.reachability"}, {"Values", {"failed"}}}}}});
  EXPECT_EQ(failed["InstanceStatuses"].size(), 1u);
  EXPECT_EQ(errorCode("DescribeInstanceStatus",
                      {{"Filters", {{{"Name", "owner-id"}, {"Values", {"x"}}}}}}),
            "InvalidParameterValue");
  EXPECT_EQ(errorCode("DescribeInstanceStatus", {{"InstanceIds", {"i-0000000000000dead"}}}),
            "InvalidInstanceID.NotFound");
}

} // namespace
} // namespace tide::api
