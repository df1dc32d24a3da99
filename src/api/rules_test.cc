// Listener rules: CreateRule, ModifyRule, DeleteRule, DescribeRules, SetRulePriorities, and
// ModifyListener with the extended default actions.
#include "api/api_test_fixture.h"

namespace tide::api {
namespace {

class RulesTest : public ApiTest {
protected:
  void SetUp() override {
    ApiTest::SetUp();
    lb_ = ok("CreateLoadBalancer", {{"Name", "front"}})["LoadBalancers"][0]["LoadBalancerArn"];
    web_ = targetGroup("web");
    api_ = targetGroup("api");
    listener_ =
        ok("CreateListener", {{"LoadBalancerArn", lb_},
                              {"Port", 8080},
                              {"DefaultActions", forward(web_)}})["Listeners"][0]["ListenerArn"];
  }
  std::string targetGroup(const std::string& name) {
    return ok("CreateTargetGroup",
              {{"Name", name}, {"Port", 8080}})["TargetGroups"][0]["TargetGroupArn"];
  }
  static Json forward(const std::string& tg) {
    return Json::array({{{"Type", "forward"}, {"TargetGroupArn", tg}}});
  }
  static Json path(const std::string& pattern) {
    return Json::array({{{"Field", "path-pattern"}, {"Values", {pattern}}}});
  }
  Json createRule(int priority, const Json& conditions, const Json& actions) {
    return ok("CreateRule", {{"ListenerArn", listener_},
                             {"Priority", priority},
                             {"Conditions", conditions},
                             {"Actions", actions}})["Rules"][0];
  }
  std::string ruleError(int priority, const Json& conditions, const Json& actions) {
    return errorCode("CreateRule", {{"ListenerArn", listener_},
                                    {"Priority", priority},
                                    {"Conditions", conditions},
                                    {"Actions", actions}});
  }
  Json rules() { return ok("DescribeRules", {{"ListenerArn", listener_}})["Rules"]; }

  std::string lb_, web_, api_, listener_;
};

TEST_F(RulesTest, CreateAndDescribeInAwsShapesWithTheDefaultRuleLast) {
  Json r = createRule(10, path("/api/*"), forward(api_));
  std::string arn = r["RuleArn"];
  EXPECT_EQ(
      arn.rfind("arn:aws:elasticloadbalancing:us-east-1:000000000000:listener-rule/app/front/", 0),
      0u);
  EXPECT_EQ(r["Priority"], "10");
  EXPECT_EQ(r["IsDefault"], false);
  EXPECT_EQ(r["Conditions"][0]["Field"], "path-pattern");
  EXPECT_EQ(r["Conditions"][0]["PathPatternConfig"]["Values"][0], "/api/*");
  EXPECT_EQ(r["Actions"][0]["ForwardConfig"]["TargetGroups"][0]["TargetGroupArn"], api_);
  createRule(5,
             Json::array({{{"Field", "host-header"},
                           {"HostHeaderConfig", {{"Values", {"*.example.com"}}}}}}),
             forward(web_));
  Json all = rules();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0]["Priority"], "5");
  EXPECT_EQ(all[1]["Priority"], "10");
  EXPECT_EQ(all[2]["Priority"], "default");
  EXPECT_EQ(all[2]["IsDefault"], true);
  EXPECT_EQ(all[2]["Actions"][0]["TargetGroupArn"], web_);
  Json one = ok("DescribeRules", {{"RuleArns", {arn}}})["Rules"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["RuleArn"], arn);
  EXPECT_EQ(errorCode("DescribeRules", {{"RuleArns", {arn + "0"}}}), "RuleNotFound");
  EXPECT_EQ(errorCode("DescribeRules", {{"ListenerArn", listener_ + "x"}}), "ListenerNotFound");
  EXPECT_EQ(errorCode("DescribeRules", Json::object()), "ValidationError");
  // The target group is now used by a rule: it cannot be deleted.
  EXPECT_EQ(errorCode("DeleteTargetGroup", {{"TargetGroupArn", api_}}), "ResourceInUse");
}

TEST_F(RulesTest, EveryConditionTypeAndActionType) {
  Json conditions = Json::array(
      {{{"Field", "http-header"},
        {"HttpHeaderConfig", {{"HttpHeaderName", "User-Agent"}, {"Values", {"*Mobile*"}}}}},
       {{"Field", "http-request-method"}, {"HttpRequestMethodConfig", {{"Values", {"GET"}}}}},
       {{"Field", "query-string"},
        {"QueryStringConfig", {{"Values", {{{"Key", "v"}, {"Value", "2"}}}}}}},
       {{"Field", "source-ip"}, {"SourceIpConfig", {{"Values", {"127.0.0.0/8"}}}}}});
  Json redirect = Json::array(
      {{{"Type", "redirect"},
        {"RedirectConfig", {{"Protocol", "HTTPS"}, {"Port", "443"}, {"StatusCode", "HTTP_301"}}}}});
  Json r = createRule(1, conditions, redirect);
  EXPECT_EQ(r["Conditions"].size(), 4u);
  EXPECT_EQ(r["Conditions"][2]["QueryStringConfig"]["Values"][0]["Key"], "v");
  EXPECT_EQ(r["Actions"][0]["RedirectConfig"]["Host"], "#{host}");
  EXPECT_EQ(r["Actions"][0]["RedirectConfig"]["Path"], "/#{path}");
  Json fixed = Json::array(
      {{{"Type", "fixed-response"},
        {"FixedResponseConfig", {{"StatusCode", "404"}, {"MessageBody", "no such page"}}}}});
  createRule(2, path("/missing"), fixed);
  Json weighted = Json::array({{{"Type", "forward"},
                                {"ForwardConfig",
                                 {{"TargetGroups",
                                   {{{"TargetGroupArn", web_}, {"Weight", 3}},
                                    {{"TargetGroupArn", api_}, {"Weight", 1}}}}}}}});
  Json w = createRule(3, path("/split"), weighted);
  EXPECT_EQ(w["Actions"][0]["ForwardConfig"]["TargetGroups"][1]["Weight"], 1);
  EXPECT_FALSE(w["Actions"][0].contains("TargetGroupArn"));
}

TEST_F(RulesTest, BadInputIsAPreciseErrorAndChangesNothing) {
  Json fwd = forward(api_);
  EXPECT_EQ(ruleError(0, path("/a"), fwd), "ValidationError");
  EXPECT_EQ(ruleError(50001, path("/a"), fwd), "ValidationError");
  EXPECT_EQ(ruleError(1, Json::array(), fwd), "ValidationError");
  EXPECT_EQ(ruleError(1, Json::array({{{"Field", "cookie"}, {"Values", {"x"}}}}), fwd),
            "ValidationError");
  EXPECT_EQ(ruleError(1, path("/a b"), fwd), "ValidationError");
  EXPECT_EQ(ruleError(1, Json::array({{{"Field", "host-header"}, {"Values", {"localhost"}}}}), fwd),
            "ValidationError"); // a host name needs a "."
  EXPECT_EQ(
      ruleError(1,
                Json::array({{{"Field", "path-pattern"},
                              {"PathPatternConfig", {{"Values", {"/a", "/b", "/c", "/d"}}}}}}),
                fwd),
      "ValidationError"); // 4 values in one condition
  EXPECT_EQ(ruleError(1,
                      Json::array({{{"Field", "path-pattern"},
                                    {"PathPatternConfig", {{"Values", {"/a", "/b", "/c"}}}}},
                                   {{"Field", "host-header"},
                                    {"HostHeaderConfig", {{"Values", {"a.io", "b.io", "c.io"}}}}}}),
                      fwd),
            "ValidationError");                                            // 6 values in the rule
  EXPECT_EQ(ruleError(1, path("/a/*/*/*/*/*/*"), fwd), "ValidationError"); // 6 wildcards
  EXPECT_EQ(ruleError(1,
                      Json::array({{{"Field", "path-pattern"}, {"Values", {"/a"}}},
                                   {{"Field", "path-pattern"}, {"Values", {"/b"}}}}),
                      fwd),
            "ValidationError"); // two path-pattern conditions
  EXPECT_EQ(ruleError(1,
                      Json::array({{{"Field", "http-header"},
                                    {"HttpHeaderConfig",
                                     {{"HttpHeaderName", "Host"}, {"Values", {"a"}}}}}}),
                      fwd),
            "ValidationError");
  EXPECT_EQ(ruleError(1,
                      Json::array({{{"Field", "http-request-method"},
                                    {"HttpRequestMethodConfig", {{"Values", {"G*T"}}}}}}),
                      fwd),
            "ValidationError");
  EXPECT_EQ(ruleError(1,
                      Json::array({{{"Field", "source-ip"},
                                    {"SourceIpConfig", {{"Values", {"10.0.0.300/8"}}}}}}),
                      fwd),
            "ValidationError");
  EXPECT_EQ(ruleError(1, path("/a"), forward(api_ + "0")), "TargetGroupNotFound");
  Json six = Json::array();
  for (int i = 0; i < 6; ++i) {
    six.push_back({{"TargetGroupArn", web_ + std::to_string(i)}, {"Weight", 1}});
  }
  EXPECT_EQ(
      ruleError(1, path("/a"),
                Json::array({{{"Type", "forward"}, {"ForwardConfig", {{"TargetGroups", six}}}}})),
      "ValidationError");
  EXPECT_EQ(
      ruleError(
          1, path("/a"),
          Json::array({{{"Type", "forward"},
                        {"ForwardConfig",
                         {{"TargetGroups", {{{"TargetGroupArn", web_}, {"Weight", 1000}}}}}}}})),
      "ValidationError");
  EXPECT_EQ(ruleError(1, path("/a"),
                      Json::array({{{"Type", "redirect"},
                                    {"RedirectConfig", {{"StatusCode", "HTTP_301"}}}}})),
            "ValidationError"); // a redirect to itself
  EXPECT_EQ(ruleError(1, path("/a"),
                      Json::array({{{"Type", "redirect"},
                                    {"RedirectConfig",
                                     {{"Path", "no-slash"}, {"StatusCode", "HTTP_301"}}}}})),
            "ValidationError");
  EXPECT_EQ(ruleError(1, path("/a"),
                      Json::array(
                          {{{"Type", "redirect"},
                            {"RedirectConfig", {{"Host", "x.io"}, {"StatusCode", "HTTP_307"}}}}})),
            "ValidationError");
  EXPECT_EQ(ruleError(1, path("/a"), Json::array({{{"Type", "authenticate-oidc"}}})),
            "ValidationError");
  EXPECT_EQ(errorCode("CreateRule", {{"ListenerArn", listener_ + "x"},
                                     {"Priority", 1},
                                     {"Conditions", path("/a")},
                                     {"Actions", fwd}}),
            "ListenerNotFound");
  EXPECT_EQ(rules().size(), 1u); // only the default rule
}

TEST_F(RulesTest, PrioritiesAreUniqueAndSetAllOrNothing) {
  std::string a = createRule(1, path("/a"), forward(api_))["RuleArn"];
  std::string b = createRule(2, path("/b"), forward(api_))["RuleArn"];
  EXPECT_EQ(ruleError(2, path("/c"), forward(api_)), "PriorityInUse");
  // Swapping in one call is fine; a clash after all changes is not, and changes nothing.
  Json swapped =
      ok("SetRulePriorities",
         {{"RulePriorities",
           {{{"RuleArn", a}, {"Priority", 2}}, {{"RuleArn", b}, {"Priority", 1}}}}})["Rules"];
  ASSERT_EQ(swapped.size(), 2u);
  EXPECT_EQ(swapped[0]["Priority"], "2");
  EXPECT_EQ(errorCode("SetRulePriorities",
                      {{"RulePriorities",
                        {{{"RuleArn", a}, {"Priority", 7}}, {{"RuleArn", b}, {"Priority", 7}}}}}),
            "PriorityInUse");
  EXPECT_EQ(
      errorCode("SetRulePriorities", {{"RulePriorities", {{{"RuleArn", b}, {"Priority", 2}}}}}),
      "PriorityInUse"); // a holds 2
  EXPECT_EQ(errorCode("SetRulePriorities", {{"RulePriorities",
                                             {{{"RuleArn", a}, {"Priority", 9}},
                                              {{"RuleArn", b + "0"}, {"Priority", 8}}}}}),
            "RuleNotFound");
  Json all = rules();
  EXPECT_EQ(all[0]["RuleArn"], b); // unchanged: b 1, a 2
  EXPECT_EQ(all[1]["RuleArn"], a);
  EXPECT_EQ(all[1]["Priority"], "2");
}

TEST_F(RulesTest, ModifyAndDeleteRulesButNotTheDefaultRule) {
  std::string a = createRule(1, path("/a"), forward(api_))["RuleArn"];
  Json m = ok("ModifyRule", {{"RuleArn", a}, {"Conditions", path("/z/*")}})["Rules"][0];
  EXPECT_EQ(m["Conditions"][0]["Values"][0], "/z/*");
  EXPECT_EQ(m["Actions"][0]["TargetGroupArn"], api_);
  std::string def = rules().back()["RuleArn"];
  EXPECT_EQ(errorCode("DeleteRule", {{"RuleArn", def}}), "OperationNotPermitted");
  EXPECT_EQ(
      errorCode("SetRulePriorities", {{"RulePriorities", {{{"RuleArn", def}, {"Priority", 9}}}}}),
      "OperationNotPermitted");
  // The default rule's actions can be modified (as ModifyListener's DefaultActions).
  Json d = ok("ModifyRule", {{"RuleArn", def}, {"Actions", forward(api_)}})["Rules"][0];
  EXPECT_EQ(d["IsDefault"], true);
  EXPECT_EQ(d["Actions"][0]["TargetGroupArn"], api_);
  EXPECT_EQ(errorCode("ModifyRule", {{"RuleArn", a + "0"}, {"Actions", forward(api_)}}),
            "RuleNotFound");
  ok("DeleteRule", {{"RuleArn", a}});
  EXPECT_EQ(errorCode("DeleteRule", {{"RuleArn", a}}), "RuleNotFound");
  EXPECT_EQ(rules().size(), 1u);
}

TEST_F(RulesTest, ModifyListenerMovesThePortAndChangesDefaultActions) {
  Json weighted = Json::array({{{"Type", "forward"},
                                {"ForwardConfig",
                                 {{"TargetGroups",
                                   {{{"TargetGroupArn", web_}, {"Weight", 1}},
                                    {{"TargetGroupArn", api_}, {"Weight", 0}}}}}}}});
  Json l = ok(
      "ModifyListener",
      {{"ListenerArn", listener_}, {"Port", 8081}, {"DefaultActions", weighted}})["Listeners"][0];
  EXPECT_EQ(l["Port"], 8081);
  EXPECT_EQ(l["DefaultActions"][0]["ForwardConfig"]["TargetGroups"].size(), 2u);
  ok("CreateListener",
     {{"LoadBalancerArn", lb_}, {"Port", 8082}, {"DefaultActions", forward(web_)}});
  EXPECT_EQ(errorCode("ModifyListener", {{"ListenerArn", listener_}, {"Port", 8082}}),
            "DuplicateListener");
  EXPECT_EQ(errorCode("ModifyListener", {{"ListenerArn", listener_ + "x"}, {"Port", 1}}),
            "ListenerNotFound");
  EXPECT_EQ(errorCode("ModifyListener",
                      {{"ListenerArn", listener_}, {"DefaultActions", forward(web_ + "0")}}),
            "TargetGroupNotFound");
  Json redirect =
      Json::array({{{"Type", "redirect"},
                    {"RedirectConfig", {{"Protocol", "HTTPS"}, {"StatusCode", "HTTP_302"}}}}});
  Json r = ok("ModifyListener",
              {{"ListenerArn", listener_}, {"DefaultActions", redirect}})["Listeners"][0];
  EXPECT_EQ(r["DefaultActions"][0]["RedirectConfig"]["StatusCode"], "HTTP_302");
  EXPECT_EQ(r["Port"], 8081);
}

TEST_F(RulesTest, DeletingTheListenerDeletesItsRules) {
  std::string a = createRule(1, path("/a"), forward(api_))["RuleArn"];
  ok("DeleteListener", {{"ListenerArn", listener_}});
  EXPECT_EQ(errorCode("DescribeRules", {{"RuleArns", {a}}}), "RuleNotFound");
  ok("DeleteTargetGroup", {{"TargetGroupArn", api_}}); // no longer in use
}

} // namespace
} // namespace tide::api
