// Elastic Load Balancing v2 actions: load balancers, listeners, target groups, targets.
#include "api/api_test_fixture.h"
#include "common/status_testing.h"

#include <map>

namespace tide::api {
namespace {

class ElbTest : public ApiTest {
protected:
  // A running instance, as the instance controller would leave it.
  std::string runningInstance() {
    std::string image = availableImage("img-" + std::to_string(++images_));
    Json r = ok("RunInstances", {{"ImageId", image}, {"InstanceType", "t3.nano"}});
    std::string id = r["Instances"][0]["InstanceId"];
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      model::Instance i = **tx.instance(id);
      i.state = model::InstanceState::Running;
      return tx.putInstance(i);
    }));
    return id;
  }
  std::string targetGroup(const std::string& name, Json extra = Json::object()) {
    extra["Name"] = name;
    extra["Port"] = 8080;
    return ok("CreateTargetGroup", extra)["TargetGroups"][0]["TargetGroupArn"];
  }
  std::string loadBalancer(const std::string& name) {
    return ok("CreateLoadBalancer", {{"Name", name}})["LoadBalancers"][0]["LoadBalancerArn"];
  }
  Json forward(const std::string& tg) {
    return Json::array({{{"Type", "forward"}, {"TargetGroupArn", tg}}});
  }
  Json health(const std::string& tg) {
    return ok("DescribeTargetHealth", {{"TargetGroupArn", tg}})["TargetHealthDescriptions"];
  }
  // Key → Value of an Attributes list.
  static std::map<std::string, std::string> attrMap(const Json& list) {
    std::map<std::string, std::string> m;
    for (const Json& a : list) {
      m[a["Key"]] = a["Value"];
    }
    return m;
  }
  // ModifyTargetGroupAttributes with these keys and values, as it answers.
  auto modifyAttributes(const std::string& arn,
                        const std::vector<std::pair<std::string, std::string>>& kv) {
    Json attrs = Json::array();
    for (const auto& [k, v] : kv) {
      attrs.push_back({{"Key", k}, {"Value", v}});
    }
    return call("ModifyTargetGroupAttributes", {{"TargetGroupArn", arn}, {"Attributes", attrs}});
  }
  int images_ = 0;
};

TEST_F(ElbTest, TargetGroupsHaveElbDefaultsAndSubSecondChecks) {
  Json tg = ok("CreateTargetGroup", {{"Name", "web"}, {"Port", 8080}})["TargetGroups"][0];
  EXPECT_EQ(tg["HealthCheckIntervalSeconds"], 30);
  EXPECT_EQ(tg["HealthCheckTimeoutSeconds"], 5);
  EXPECT_EQ(tg["HealthyThresholdCount"], 5);
  EXPECT_EQ(tg["UnhealthyThresholdCount"], 2);
  EXPECT_EQ(tg["Matcher"]["HttpCode"], "200");
  EXPECT_EQ(tg["HealthCheckPath"], "/");
  std::string arn = tg["TargetGroupArn"];
  EXPECT_EQ(arn.rfind("arn:aws:elasticloadbalancing:us-east-1:000000000000:targetgroup/web/", 0),
            0u);
  EXPECT_EQ(errorCode("CreateTargetGroup", {{"Name", "web"}, {"Port", 8080}}),
            "DuplicateTargetGroupName");
  EXPECT_EQ(errorCode("CreateTargetGroup", {{"Name", "bad_name"}}), "ValidationError");
  EXPECT_EQ(errorCode("CreateTargetGroup", {{"Name", "x"}, {"Matcher", {{"HttpCode", "700"}}}}),
            "ValidationError");
  EXPECT_EQ(errorCode("CreateTargetGroup", {{"Name", "x"}, {"Protocol", "UDP"}}),
            "ValidationError");
  Json quick = ok("ModifyTargetGroup", {{"TargetGroupArn", arn},
                                        {"HealthCheckIntervalSeconds", 0.5},
                                        {"HealthCheckTimeoutSeconds", 0.25},
                                        {"HealthyThresholdCount", 2},
                                        {"HealthCheckPath", "/health"}})["TargetGroups"][0];
  EXPECT_EQ(quick["HealthCheckIntervalSeconds"], 0.5);
  EXPECT_EQ(
      errorCode("ModifyTargetGroup", {{"TargetGroupArn", arn}, {"HealthCheckTimeoutSeconds", 0.5}}),
      "ValidationError"); // not below the interval
  Json attrs = ok("ModifyTargetGroupAttributes",
                  {{"TargetGroupArn", arn},
                   {"Attributes",
                    {{{"Key", "deregistration_delay.timeout_seconds"}, {"Value", "5"}},
                     {{"Key", "load_balancing.algorithm.type"},
                      {"Value", "least_outstanding_requests"}}}}})["Attributes"];
  EXPECT_EQ(attrs[0]["Value"], "5");
  EXPECT_EQ(attrs[1]["Value"], "least_outstanding_requests");
  EXPECT_EQ(errorCode("ModifyTargetGroupAttributes",
                      {{"TargetGroupArn", arn},
                       {"Attributes",
                        {{{"Key", "deregistration_delay.timeout_seconds"}, {"Value", "9999"}}}}}),
            "ValidationError");
  // By name, as `tide tg` commands allow.
  EXPECT_EQ(
      ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", "web"}})["Attributes"][0]["Value"],
      "5");
  EXPECT_EQ(errorCode("DescribeTargetGroups", {{"Names", {"nope"}}}), "TargetGroupNotFound");
}

TEST_F(ElbTest, TargetGroupAttributesAsAwsNamesThem) {
  std::string arn = targetGroup("attrs");
  auto modify = [&](const std::vector<std::pair<std::string, std::string>>& kv) {
    return modifyAttributes(arn, kv);
  };
  auto defaults =
      attrMap(ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", arn}})["Attributes"]);
  EXPECT_EQ(defaults, (std::map<std::string, std::string>{
                          {"deregistration_delay.timeout_seconds", "300"},
                          {"load_balancing.algorithm.type", "round_robin"},
                          {"load_balancing.algorithm.anomaly_mitigation", "off"},
                          {"slow_start.duration_seconds", "0"},
                          {"stickiness.enabled", "false"},
                          {"stickiness.type", "lb_cookie"},
                          {"stickiness.lb_cookie.duration_seconds", "86400"},
                          {"stickiness.app_cookie.cookie_name", ""},
                          {"stickiness.app_cookie.duration_seconds", "86400"},
                          {"tide.target.max_concurrency", "adaptive"},
                          {"tide.queue.max_length", "1000"},
                          {"tide.queue.timeout_ms", "1000"}}));

  auto [status, body] = modify({{"stickiness.enabled", "true"},
                                {"stickiness.lb_cookie.duration_seconds", "120"},
                                {"slow_start.duration_seconds", "30"}});
  ASSERT_EQ(status, 200) << body.dump();
  auto now = attrMap(body["Attributes"]);
  EXPECT_EQ(now["stickiness.enabled"], "true");
  EXPECT_EQ(now["stickiness.lb_cookie.duration_seconds"], "120");
  EXPECT_EQ(now["slow_start.duration_seconds"], "30");

  // Each bad value is a ValidationError and changes nothing, even with good keys beside it.
  std::vector<std::vector<std::pair<std::string, std::string>>> bad = {
      {{"slow_start.duration_seconds", "29"}},
      {{"slow_start.duration_seconds", "901"}},
      {{"slow_start.duration_seconds", "abc"}},
      {{"stickiness.enabled", "yes"}},
      {{"stickiness.type", "source_ip"}},
      {{"stickiness.lb_cookie.duration_seconds", "0"}},
      {{"stickiness.lb_cookie.duration_seconds", "604801"}},
      {{"stickiness.app_cookie.duration_seconds", "0"}},
      {{"stickiness.type", "app_cookie"}}, // no cookie name
      {{"stickiness.type", "app_cookie"}, {"stickiness.app_cookie.cookie_name", "AWSALBfoo"}},
      {{"stickiness.app_cookie.cookie_name", "AWSALBAPP"}},
      {{"stickiness.app_cookie.cookie_name", "AWSALBTG-x"}},
      {{"stickiness.app_cookie.cookie_name", "has space"}},
      {{"stickiness.app_cookie.cookie_name", "a;b"}},
      {{"load_balancing.algorithm.type", "random"}},
      {{"load_balancing.algorithm.anomaly_mitigation", "maybe"}},
      {{"stickiness.lb_cookie.duration_seconds", "60"}, {"no.such.attribute", "1"}},
  };
  for (const auto& kv : bad) {
    auto [st, b] = modify(kv);
    EXPECT_EQ(st, 400) << kv[0].first << "=" << kv[0].second;
    EXPECT_EQ(b.value("__type", ""), "ValidationError") << b.dump();
  }
  // Combinations AWS refuses.
  std::vector<std::vector<std::pair<std::string, std::string>>> conflicting = {
      {{"load_balancing.algorithm.type", "least_outstanding_requests"}}, // slow start is on
      {{"load_balancing.algorithm.type", "weighted_random"}},            // slow start is on
      {{"load_balancing.algorithm.anomaly_mitigation", "on"}},           // round_robin
  };
  for (const auto& kv : conflicting) {
    auto [st, b] = modify(kv);
    EXPECT_EQ(st, 400);
    EXPECT_EQ(b.value("__type", ""), "InvalidConfigurationRequest") << b.dump();
  }
  EXPECT_EQ(attrMap(ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", arn}})["Attributes"]),
            now);

  // Turning slow start off in the same call allows the other algorithms, in any key order.
  auto [st2, b2] = modify({{"load_balancing.algorithm.type", "weighted_random"},
                           {"load_balancing.algorithm.anomaly_mitigation", "on"},
                           {"slow_start.duration_seconds", "0"},
                           {"stickiness.type", "app_cookie"},
                           {"stickiness.app_cookie.cookie_name", "SESSIONID"},
                           {"stickiness.app_cookie.duration_seconds", "600"}});
  ASSERT_EQ(st2, 200) << b2.dump();
  auto after = attrMap(b2["Attributes"]);
  EXPECT_EQ(after["load_balancing.algorithm.type"], "weighted_random");
  EXPECT_EQ(after["load_balancing.algorithm.anomaly_mitigation"], "on");
  EXPECT_EQ(after["stickiness.type"], "app_cookie");
  EXPECT_EQ(after["stickiness.app_cookie.cookie_name"], "SESSIONID");
  EXPECT_EQ(after["stickiness.app_cookie.duration_seconds"], "600");
  // The attributes are stored: a fresh read sees them.
  EXPECT_EQ(
      attrMap(ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", "attrs"}})["Attributes"]),
      after);
}

TEST_F(ElbTest, OverloadAttributesAreCheckedAndStored) {
  std::string arn = targetGroup("overload");
  auto modify = [&](const std::vector<std::pair<std::string, std::string>>& kv) {
    return modifyAttributes(arn, kv);
  };
  auto [status, body] = modify({{"tide.target.max_concurrency", "8"},
                                {"tide.queue.max_length", "0"},
                                {"tide.queue.timeout_ms", "250"}});
  ASSERT_EQ(status, 200) << body.dump();
  auto now = attrMap(body["Attributes"]);
  EXPECT_EQ(now["tide.target.max_concurrency"], "8");
  EXPECT_EQ(now["tide.queue.max_length"], "0");
  EXPECT_EQ(now["tide.queue.timeout_ms"], "250");
  auto [adaptiveStatus, adaptiveBody] = modify({{"tide.target.max_concurrency", "adaptive"}});
  ASSERT_EQ(adaptiveStatus, 200) << adaptiveBody.dump();
  now = attrMap(adaptiveBody["Attributes"]);
  EXPECT_EQ(now["tide.target.max_concurrency"], "adaptive");
  EXPECT_EQ(now["tide.queue.timeout_ms"], "250");

  // Out of range or not a number: ValidationError naming the attribute, and nothing changes
  // (not even the good keys beside the bad one).
  std::vector<std::vector<std::pair<std::string, std::string>>> bad = {
      {{"tide.target.max_concurrency", "-1"}},
      {{"tide.target.max_concurrency", "100001"}},
      {{"tide.target.max_concurrency", "ten"}},
      {{"tide.target.max_concurrency", "Adaptive"}},
      {{"tide.target.max_concurrency", ""}},
      {{"tide.queue.max_length", "-1"}},
      {{"tide.queue.max_length", "100001"}},
      {{"tide.queue.timeout_ms", "0"}},
      {{"tide.queue.timeout_ms", "600001"}},
      {{"tide.queue.timeout_ms", "1.5"}},
      {{"tide.target.max_concurrency", "4"}, {"tide.queue.timeout_ms", "0"}},
  };
  for (const auto& kv : bad) {
    auto [st, b] = modify(kv);
    EXPECT_EQ(st, 400) << kv.back().first << "=" << kv.back().second;
    EXPECT_EQ(b.value("__type", ""), "ValidationError") << b.dump();
    EXPECT_NE(b.dump().find(kv.back().first), std::string::npos) << b.dump();
  }
  EXPECT_EQ(attrMap(ok("DescribeTargetGroupAttributes", {{"TargetGroupArn", arn}})["Attributes"]),
            now);
}

TEST_F(ElbTest, LoadBalancersAndListeners) {
  std::string tg = targetGroup("web");
  std::string lb = loadBalancer("shop");
  EXPECT_EQ(errorCode("CreateLoadBalancer", {{"Name", "shop"}}), "DuplicateLoadBalancerName");
  EXPECT_EQ(errorCode("CreateLoadBalancer", {{"Name", "net"}, {"Type", "network"}}),
            "UnsupportedProtocol");
  EXPECT_EQ(errorCode("CreateListener", {{"LoadBalancerArn", lb}, {"Port", 8000}}),
            "MissingParameter");
  EXPECT_EQ(errorCode("CreateListener",
                      {{"LoadBalancerArn", lb}, {"Port", 8000}, {"DefaultActions", forward("x")}}),
            "TargetGroupNotFound");
  Json l = ok("CreateListener", {{"LoadBalancerArn", lb},
                                 {"Protocol", "HTTP"},
                                 {"Port", 8000},
                                 {"DefaultActions", forward(tg)}})["Listeners"][0];
  EXPECT_EQ(l["DefaultActions"][0]["TargetGroupArn"], tg);
  EXPECT_EQ(errorCode("CreateListener",
                      {{"LoadBalancerArn", lb}, {"Port", 8000}, {"DefaultActions", forward(tg)}}),
            "DuplicateListener");
  Json fixed = ok("CreateListener",
                  {{"LoadBalancerArn", lb},
                   {"Port", 8001},
                   {"DefaultActions",
                    {{{"Type", "fixed-response"},
                      {"FixedResponseConfig",
                       {{"StatusCode", "503"}, {"MessageBody", "closed for the night"}}}}}}});
  EXPECT_EQ(fixed["Listeners"][0]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"], "503");
  EXPECT_EQ(errorCode("CreateListener", {{"LoadBalancerArn", lb},
                                         {"Port", 8002},
                                         {"DefaultActions",
                                          {{{"Type", "fixed-response"},
                                            {"FixedResponseConfig", {{"StatusCode", "302"}}}}}}}),
            "ValidationError");
  // A target group serves one load balancer.
  std::string other = loadBalancer("other");
  EXPECT_EQ(
      errorCode("CreateListener",
                {{"LoadBalancerArn", other}, {"Port", 9000}, {"DefaultActions", forward(tg)}}),
      "TargetGroupAssociationLimit");
  EXPECT_EQ(
      ok("DescribeTargetGroups", {{"Names", {"web"}}})["TargetGroups"][0]["LoadBalancerArns"][0],
      lb);
  EXPECT_EQ(ok("DescribeListeners", {{"LoadBalancerArn", lb}})["Listeners"].size(), 2u);
  EXPECT_EQ(errorCode("DeleteTargetGroup", {{"TargetGroupArn", tg}}), "ResourceInUse");
  Json attrs = ok("ModifyLoadBalancerAttributes",
                  {{"LoadBalancerArn", lb},
                   {"Attributes", {{{"Key", "idle_timeout.timeout_seconds"}, {"Value", "5"}}}}});
  EXPECT_EQ(attrs["Attributes"][0]["Value"], "5");
  EXPECT_EQ(errorCode("ModifyLoadBalancerAttributes",
                      {{"LoadBalancerArn", lb},
                       {"Attributes",
                        {{{"Key", "routing.http.desync_mitigation_mode"}, {"Value", "lax"}}}}}),
            "ValidationError");
  ok("DeleteLoadBalancer", {{"LoadBalancerArn", lb}});
  EXPECT_EQ(errorCode("DescribeListeners", {{"LoadBalancerArn", lb}}), "LoadBalancerNotFound");
  ok("DeleteTargetGroup", {{"TargetGroupArn", tg}}); // no longer in use
  EXPECT_EQ(ok("DescribeTargetGroups", Json::object())["TargetGroups"].size(), 0u);
}

TEST_F(ElbTest, EachLoadBalancerHasItsOwnAddressAndALocalhostDnsName) {
  Json a = ok("CreateLoadBalancer", {{"Name", "front"}})["LoadBalancers"][0];
  Json b = ok("CreateLoadBalancer", {{"Name", "Back-2"}})["LoadBalancers"][0];
  auto address = [](const Json& lb) {
    return lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0]["IpAddress"].get<std::string>();
  };
  EXPECT_EQ(address(a), "127.2.0.1");
  EXPECT_EQ(address(b), "127.2.0.2");
  for (const Json& zone : a["AvailabilityZones"]) { // one address serves every zone
    EXPECT_EQ(zone["LoadBalancerAddresses"], Json::array({{{"IpAddress", "127.2.0.1"}}}));
  }
  // NAME-<ten digits from the ARN's id>.REGION.elb.localhost
  std::string arn = a["LoadBalancerArn"];
  std::string dns = a["DNSName"];
  std::string digits =
      std::to_string(std::stoull(arn.substr(arn.rfind('/') + 1), nullptr, 16) % 10'000'000'000ULL);
  digits.insert(0, 10 - digits.size(), '0');
  EXPECT_EQ(dns, "front-" + digits + ".us-east-1.elb.localhost");
  EXPECT_EQ(b["DNSName"].get<std::string>().rfind("Back-2-", 0), 0u);
  // Described the same way, every time.
  Json described = ok("DescribeLoadBalancers", {{"Names", {"front"}}})["LoadBalancers"][0];
  EXPECT_EQ(described["DNSName"], dns);
  EXPECT_EQ(address(described), "127.2.0.1");
  // Both may listen on port 80: each on its own address.
  std::string tgA = targetGroup("tg-a"), tgB = targetGroup("tg-b");
  ok("CreateListener", {{"LoadBalancerArn", arn}, {"Port", 80}, {"DefaultActions", forward(tgA)}});
  ok("CreateListener",
     {{"LoadBalancerArn", b["LoadBalancerArn"]}, {"Port", 80}, {"DefaultActions", forward(tgB)}});
  // Deleting a load balancer frees its address for the next one.
  ok("DeleteLoadBalancer", {{"LoadBalancerArn", arn}});
  Json c = ok("CreateLoadBalancer", {{"Name", "third"}})["LoadBalancers"][0];
  EXPECT_EQ(address(c), "127.2.0.1");
  // A BindAddress asked for is the address.
  Json d = ok("CreateLoadBalancer",
              {{"Name", "bound"}, {"BindAddress", "127.0.0.1"}})["LoadBalancers"][0];
  EXPECT_EQ(address(d), "127.0.0.1");
  EXPECT_EQ(errorCode("CreateLoadBalancer", {{"Name", "bad"}, {"BindAddress", "x"}}),
            "ValidationError");
}

TEST_F(ElbTest, ListenerOnAPortTheHostRefusesIsAPreciseErrorAndChangesNothing) {
  std::string tg = targetGroup("web");
  Json lb = ok("CreateLoadBalancer", {{"Name", "web"}})["LoadBalancers"][0];
  std::string arn = lb["LoadBalancerArn"];
  host_.refusedListens["127.2.0.1:80"] =
      Status("InvalidConfigurationRequest", "Cannot listen on 127.2.0.1:80: port 80 is a "
                                            "privileged port (below 1024)");
  auto [status, body] = call(
      "CreateListener", {{"LoadBalancerArn", arn}, {"Port", 80}, {"DefaultActions", forward(tg)}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["__type"], "InvalidConfigurationRequest") << body.dump();
  EXPECT_NE(body["message"].get<std::string>().find("port 80"), std::string::npos);
  EXPECT_EQ(ok("DescribeListeners", {{"LoadBalancerArn", arn}})["Listeners"].size(), 0u);
  // Moving a listener there is refused the same way, and the listener stays where it was.
  std::string l =
      ok("CreateListener", {{"LoadBalancerArn", arn},
                            {"Port", 8080},
                            {"DefaultActions", forward(tg)}})["Listeners"][0]["ListenerArn"];
  EXPECT_EQ(errorCode("ModifyListener", {{"ListenerArn", l}, {"Port", 80}}),
            "InvalidConfigurationRequest");
  EXPECT_EQ(ok("DescribeListeners", {{"LoadBalancerArn", arn}})["Listeners"][0]["Port"], 8080);
}

TEST_F(ElbTest, RegisterDeregisterAndDescribeTargetHealth) {
  std::string tg = targetGroup("web");
  std::string a = runningInstance();
  std::string b = runningInstance();
  std::string pending =
      ok("RunInstances", {{"ImageId", availableImage("pending-img")},
                          {"InstanceType", "t3.nano"}})["Instances"][0]["InstanceId"];
  // Not running: refused, and nothing of the request is kept.
  EXPECT_EQ(errorCode("RegisterTargets",
                      {{"TargetGroupArn", tg}, {"Targets", {{{"Id", a}}, {{"Id", pending}}}}}),
            "InvalidTarget");
  EXPECT_EQ(health(tg).size(), 0u);
  // No listener forwards to the group yet: unused.
  ok("RegisterTargets", {{"TargetGroupArn", tg}, {"Targets", {{{"Id", a}}}}});
  Json h = health(tg);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["Target"]["Id"], a);
  EXPECT_EQ(h[0]["Target"]["Port"], 8080);
  EXPECT_EQ(h[0]["TargetHealth"]["State"], "unused");
  EXPECT_EQ(h[0]["TargetHealth"]["Reason"], "Target.NotInUse");
  // With a listener: initial, with ELB's reason.
  std::string lb = loadBalancer("shop");
  ok("CreateListener", {{"LoadBalancerArn", lb}, {"Port", 8000}, {"DefaultActions", forward(tg)}});
  ok("RegisterTargets", {{"TargetGroupArn", tg}, {"Targets", {{{"Id", b}, {"Port", 9000}}}}});
  h = health(tg);
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1]["Target"]["Port"], 9000);
  EXPECT_EQ(h[1]["TargetHealth"]["State"], "initial");
  EXPECT_EQ(h[1]["TargetHealth"]["Reason"], "Elb.InitialHealthChecking");
  // Deregistering drains.
  EXPECT_EQ(errorCode("DeregisterTargets", {{"TargetGroupArn", tg}, {"Targets", {{{"Id", b}}}}}),
            "InvalidTarget"); // registered on port 9000, not the group's 8080
  ok("DeregisterTargets", {{"TargetGroupArn", tg}, {"Targets", {{{"Id", b}, {"Port", 9000}}}}});
  h = ok("DescribeTargetHealth",
         {{"TargetGroupArn", tg},
          {"Targets", {{{"Id", b}, {"Port", 9000}}}}})["TargetHealthDescriptions"];
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0]["TargetHealth"]["State"], "draining");
  EXPECT_EQ(h[0]["TargetHealth"]["Reason"], "Target.DeregistrationInProgress");
  // Registering it again while it drains brings it back.
  ok("RegisterTargets", {{"TargetGroupArn", tg}, {"Targets", {{{"Id", b}, {"Port", 9000}}}}});
  EXPECT_EQ(health(tg)[1]["TargetHealth"]["State"], "initial");
  EXPECT_EQ(errorCode("RegisterTargets", {{"TargetGroupArn", "nope"}, {"Targets", {{{"Id", a}}}}}),
            "TargetGroupNotFound");
  EXPECT_EQ(errorCode("RegisterTargets", {{"TargetGroupArn", tg}}), "MissingParameter");
}

TEST_F(ElbTest, LimitAndAccessLogAttributes) {
  std::string lb = loadBalancer("web");
  auto attrs = [&](Json a) { return Json{{"LoadBalancerArn", lb}, {"Attributes", a}}; };
  auto value = [](const Json& list, const std::string& key) {
    for (const auto& a : list) {
      if (a["Key"] == key) {
        return a["Value"].get<std::string>();
      }
    }
    return std::string("<none>");
  };
  Json d = ok("DescribeLoadBalancerAttributes", {{"LoadBalancerArn", lb}})["Attributes"];
  EXPECT_EQ(value(d, "tide.http.max_uri_bytes"), "8192");
  EXPECT_EQ(value(d, "tide.http.max_request_body_bytes"), "0");
  EXPECT_EQ(value(d, "tide.http.request_header_timeout_seconds"), "60");
  EXPECT_EQ(value(d, "tide.listener.max_connections"), "100000");
  EXPECT_EQ(value(d, "tide.listener.max_connections_per_client"), "0"); // a quarter of it
  EXPECT_EQ(value(d, "access_logs.s3.enabled"), "false");
  Json m = ok("ModifyLoadBalancerAttributes",
              attrs({{{"Key", "tide.http.max_uri_bytes"}, {"Value", "1024"}},
                     {{"Key", "tide.http.max_request_body_bytes"}, {"Value", "1048576"}},
                     {{"Key", "tide.http.request_header_timeout_seconds"}, {"Value", "5"}},
                     {{"Key", "tide.listener.max_connections"}, {"Value", "500"}},
                     {{"Key", "tide.listener.max_connections_per_client"}, {"Value", "50"}},
                     {{"Key", "access_logs.s3.enabled"}, {"Value", "true"}},
                     {{"Key", "access_logs.s3.bucket"}, {"Value", "my-logs.example"}},
                     {{"Key", "access_logs.s3.prefix"}, {"Value", "web/prod"}}}))["Attributes"];
  EXPECT_EQ(value(m, "tide.http.max_uri_bytes"), "1024");
  EXPECT_EQ(value(m, "tide.http.max_request_body_bytes"), "1048576");
  EXPECT_EQ(value(m, "tide.http.request_header_timeout_seconds"), "5");
  EXPECT_EQ(value(m, "tide.listener.max_connections"), "500");
  EXPECT_EQ(value(m, "tide.listener.max_connections_per_client"), "50");
  EXPECT_EQ(value(m, "access_logs.s3.bucket"), "my-logs.example");
  EXPECT_EQ(value(m, "access_logs.s3.prefix"), "web/prod");
  // Bad values are refused and change nothing, also the good ones in the same call.
  for (const auto& [key, bad] : std::vector<std::pair<std::string, std::string>>{
           {"tide.http.max_uri_bytes", "100"},
           {"tide.http.max_request_body_bytes", "-1"},
           {"tide.http.request_header_timeout_seconds", "0"},
           {"tide.listener.max_connections", "lots"},
           {"tide.listener.max_connections_per_client", "-1"},
           {"access_logs.s3.enabled", "yes"},
           {"access_logs.s3.bucket", "Bad_Bucket"},
           {"access_logs.s3.prefix", "AWSLogs/x"},
           {"access_logs.s3.prefix", "a/../b"}}) {
    EXPECT_EQ(errorCode("ModifyLoadBalancerAttributes",
                        attrs({{{"Key", "tide.http.max_uri_bytes"}, {"Value", "2048"}},
                               {{"Key", key}, {"Value", bad}}})),
              "ValidationError")
        << key << "=" << bad;
  }
  EXPECT_EQ(errorCode("ModifyLoadBalancerAttributes",
                      attrs({{{"Key", "access_logs.s3.bucket"}, {"Value", ""}}})),
            "ValidationError"); // enabled needs a bucket
  d = ok("DescribeLoadBalancerAttributes", {{"LoadBalancerArn", lb}})["Attributes"];
  EXPECT_EQ(value(d, "tide.http.max_uri_bytes"), "1024");
  EXPECT_EQ(value(d, "access_logs.s3.bucket"), "my-logs.example");
}

} // namespace
} // namespace tide::api
