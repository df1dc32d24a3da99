// `tide lb`, `tide listener` and `tide tg`: load balancers, listeners and target groups
// (ELBv2). With --output json each prints the ELBv2 response shape.
#include "cli/commands.h"
#include "cli/table.h"

namespace tide::cli {

namespace {

void loadBalancersTable(const Json& lbs) {
  Table t({"NAME", "ADDRESS", "STATE", "ARN"});
  for (const Json& lb : lbs) {
    t.add({str(lb, "LoadBalancerName"), str(lb, "DNSName"), str(lb["State"], "Code"),
           str(lb, "LoadBalancerArn")});
  }
  t.print();
}

void targetGroupsTable(const Json& tgs) {
  Table t({"NAME", "PORT", "HEALTH CHECK", "EVERY", "TIMEOUT", "HEALTHY", "UNHEALTHY", "MATCHER",
           "LOAD BALANCERS"});
  for (const Json& tg : tgs) {
    t.add({str(tg, "TargetGroupName"), str(tg, "Port"), str(tg, "HealthCheckPath"),
           str(tg, "HealthCheckIntervalSeconds") + "s", str(tg, "HealthCheckTimeoutSeconds") + "s",
           str(tg, "HealthyThresholdCount"), str(tg, "UnhealthyThresholdCount"),
           str(tg["Matcher"], "HttpCode"), std::to_string(tg["LoadBalancerArns"].size())});
  }
  t.print();
}

// KEY=VALUE arguments as ELBv2 attributes [{Key, Value}]; a malformed one ends the command.
Json attributeArgs(const std::vector<std::string>& args) {
  Json out = Json::array();
  for (const std::string& a : args) {
    size_t eq = a.find('=');
    if (eq == std::string::npos || eq == 0) {
      die(Status("InvalidParameterValue", "attribute '" + a + "' must be KEY=VALUE"));
    }
    out.push_back({{"Key", a.substr(0, eq)}, {"Value", a.substr(eq + 1)}});
  }
  return out;
}

void listenersTable(const Json& listeners) {
  Table t({"PORT", "ACTION", "TO", "ARN"});
  for (const Json& l : listeners) {
    const Json& a = l["DefaultActions"][0];
    std::string to = a.contains("TargetGroupArn")
                         ? str(a, "TargetGroupArn")
                         : str(a["FixedResponseConfig"], "StatusCode") + " " +
                               str(a["FixedResponseConfig"], "MessageBody", "");
    t.add({str(l, "Port"), str(a, "Type"), to, str(l, "ListenerArn")});
  }
  t.print();
}

void healthTable(const Json& descriptions) {
  Table t({"TARGET", "PORT", "STATE", "REASON", "DESCRIPTION"});
  for (const Json& d : descriptions) {
    t.add({str(d["Target"], "Id"), str(d["Target"], "Port"), str(d["TargetHealth"], "State"),
           str(d["TargetHealth"], "Reason", ""), str(d["TargetHealth"], "Description", "")});
  }
  t.print();
}

// A load balancer's ARN from its name (or the ARN itself).
std::string loadBalancerArn(const ApiClient& api, const std::string& nameOrArn) {
  if (nameOrArn.rfind("arn:", 0) == 0) {
    return nameOrArn;
  }
  Json r = orDie(api.call("DescribeLoadBalancers", {{"Names", {nameOrArn}}}));
  return r["LoadBalancers"][0]["LoadBalancerArn"];
}

// "i-...[:PORT]" → {Id, Port}.
Json targetList(const std::vector<std::string>& specs) {
  Json out = Json::array();
  for (const std::string& s : specs) {
    size_t colon = s.find(':');
    Json t = {{"Id", s.substr(0, colon)}};
    if (colon != std::string::npos) {
      try {
        t["Port"] = std::stoi(s.substr(colon + 1));
      } catch (const std::exception&) {
        die(validationError("target '" + s + "' must be INSTANCE_ID[:PORT]"));
      }
    }
    out.push_back(t);
  }
  return out;
}

} // namespace

void addElbCommands(CLI::App& app, CommandContext& ctx) {
  // ------------------------------------------------------------------------- load balancers
  auto* lb = app.add_subcommand("lb", "application load balancers")->require_subcommand(1);
  {
    auto* create = lb->add_subcommand("create", "create a load balancer");
    static std::string name, bind;
    create->add_option("--name", name, "name (unique)")->required();
    create->add_option("--bind-address", bind,
                       "IPv4 address its listeners listen on "
                       "(default 127.0.0.1)");
    create->callback([&] {
      Json p = {{"Name", name}};
      if (!bind.empty()) {
        p["BindAddress"] = bind;
      }
      Json r = orDie(ctx.client().call("CreateLoadBalancer", p));
      ctx.outcome = Outcome{r, [](const Json& j) { loadBalancersTable(j["LoadBalancers"]); }};
    });
    lb->add_subcommand("ls", "list load balancers")->callback([&] {
      Json r = orDie(ctx.client().call("DescribeLoadBalancers", Json::object()));
      ctx.outcome = Outcome{r, [](const Json& j) { loadBalancersTable(j["LoadBalancers"]); }};
    });
    auto* del = lb->add_subcommand("delete", "delete a load balancer and its listeners");
    static std::string delName;
    del->add_option("NAME_OR_ARN", delName, "load balancer")->required();
    del->callback([&] {
      ApiClient api = ctx.client();
      Json r = orDie(
          api.call("DeleteLoadBalancer", {{"LoadBalancerArn", loadBalancerArn(api, delName)}}));
      ctx.outcome = Outcome{r, [](const Json&) { std::printf("deleted %s\n", delName.c_str()); }};
    });
  }

  // ------------------------------------------------------------------------------ listeners
  auto* listener =
      app.add_subcommand("listener", "listeners of load balancers")->require_subcommand(1);
  {
    auto* create = listener->add_subcommand("create", "listen on a port and forward or answer");
    static std::string lbName, forwardTo, fixed;
    static int port = 0;
    create->add_option("--lb", lbName, "load balancer name or ARN")->required();
    create->add_option("--port", port, "port")->required()->check(CLI::Range(1, 65535));
    auto* fwd = create->add_option("--forward", forwardTo, "target group name or ARN");
    auto* fix =
        create->add_option("--fixed-response", fixed, "STATUS[:BODY] to answer every request with");
    fwd->excludes(fix);
    create->callback([&] {
      ApiClient api = ctx.client();
      Json action;
      if (!forwardTo.empty()) {
        std::string arn = forwardTo;
        if (arn.rfind("arn:", 0) != 0) {
          arn = orDie(api.call("DescribeTargetGroups",
                               {{"Names", {forwardTo}}}))["TargetGroups"][0]["TargetGroupArn"];
        }
        action = {{"Type", "forward"}, {"TargetGroupArn", arn}};
      } else if (!fixed.empty()) {
        size_t colon = fixed.find(':');
        action = {{"Type", "fixed-response"},
                  {"FixedResponseConfig",
                   {{"StatusCode", fixed.substr(0, colon)},
                    {"MessageBody", colon == std::string::npos ? "" : fixed.substr(colon + 1)}}}};
      } else {
        die(Status("MissingParameter", "give --forward TARGET_GROUP or --fixed-response STATUS"));
      }
      Json r = orDie(api.call("CreateListener", {{"LoadBalancerArn", loadBalancerArn(api, lbName)},
                                                 {"Protocol", "HTTP"},
                                                 {"Port", port},
                                                 {"DefaultActions", Json::array({action})}}));
      ctx.outcome = Outcome{r, [](const Json& j) { listenersTable(j["Listeners"]); }};
    });
    auto* ls = listener->add_subcommand("ls", "list a load balancer's listeners");
    static std::string lsLb;
    ls->add_option("--lb", lsLb, "load balancer name or ARN")->required();
    ls->callback([&] {
      ApiClient api = ctx.client();
      Json r =
          orDie(api.call("DescribeListeners", {{"LoadBalancerArn", loadBalancerArn(api, lsLb)}}));
      ctx.outcome = Outcome{r, [](const Json& j) { listenersTable(j["Listeners"]); }};
    });
    auto* del = listener->add_subcommand("delete", "delete a listener");
    static std::string delArn;
    del->add_option("ARN", delArn, "listener ARN")->required();
    del->callback([&] {
      Json r = orDie(ctx.client().call("DeleteListener", {{"ListenerArn", delArn}}));
      ctx.outcome = Outcome{r, [](const Json&) { std::printf("deleted %s\n", delArn.c_str()); }};
    });
  }

  // -------------------------------------------------------------------------- target groups
  auto* tg = app.add_subcommand("tg", "target groups and their targets")->require_subcommand(1);
  {
    auto* create = tg->add_subcommand("create", "create a target group (ELBv2 defaults)");
    static std::string name, path, matcher, algorithm;
    static int port = 80, healthy = 0, unhealthy = 0, delay = -1;
    static double interval = 0, timeout = 0;
    create->add_option("--name", name, "name (unique)")->required();
    create->add_option("--port", port, "the targets' port")->check(CLI::Range(1, 65535));
    create->add_option("--health-check-path", path, "path to check (default /)");
    create->add_option("--interval", interval,
                       "seconds between checks (default 30; tide "
                       "allows fractions)");
    create->add_option("--timeout", timeout, "seconds a check may take (default 5)");
    create->add_option("--healthy-threshold", healthy, "passes to become healthy (default 5)");
    create->add_option("--unhealthy-threshold", unhealthy,
                       "failures to become unhealthy (default 2)");
    create->add_option("--matcher", matcher, "HTTP codes that pass (default 200)");
    create->add_option("--deregistration-delay", delay, "seconds to drain (default 300)");
    create->add_option("--algorithm", algorithm,
                       "round_robin (default), least_outstanding_requests or weighted_random");
    static std::vector<std::string> createAttrs;
    create->add_option("--attribute", createAttrs,
                       "KEY=VALUE target group attribute, e.g. stickiness.enabled=true or "
                       "slow_start.duration_seconds=60 (repeatable)");
    create->callback([&] {
      Json p = {{"Name", name}, {"Protocol", "HTTP"}, {"Port", port}};
      if (!path.empty()) {
        p["HealthCheckPath"] = path;
      }
      if (interval > 0) {
        p["HealthCheckIntervalSeconds"] = interval;
      }
      if (timeout > 0) {
        p["HealthCheckTimeoutSeconds"] = timeout;
      }
      if (healthy) {
        p["HealthyThresholdCount"] = healthy;
      }
      if (unhealthy) {
        p["UnhealthyThresholdCount"] = unhealthy;
      }
      if (!matcher.empty()) {
        p["Matcher"] = {{"HttpCode", matcher}};
      }
      ApiClient api = ctx.client();
      Json r = orDie(api.call("CreateTargetGroup", p));
      Json attrs = Json::array();
      if (delay >= 0) {
        attrs.push_back(
            {{"Key", "deregistration_delay.timeout_seconds"}, {"Value", std::to_string(delay)}});
      }
      if (!algorithm.empty()) {
        attrs.push_back({{"Key", "load_balancing.algorithm.type"}, {"Value", algorithm}});
      }
      for (const Json& a : attributeArgs(createAttrs)) {
        attrs.push_back(a);
      }
      if (!attrs.empty()) {
        std::string arn = r["TargetGroups"][0]["TargetGroupArn"];
        auto set = api.call("ModifyTargetGroupAttributes",
                            {{"TargetGroupArn", arn}, {"Attributes", attrs}});
        if (!set) {
          api.call("DeleteTargetGroup", {{"TargetGroupArn", arn}}); // nothing half-made
          die(set.status());
        }
      }
      ctx.outcome = Outcome{r, [](const Json& j) { targetGroupsTable(j["TargetGroups"]); }};
    });
    auto* attributes = tg->add_subcommand(
        "attributes", "show a target group's attributes, or change some (KEY=VALUE ...)");
    static std::string attrGroup;
    static std::vector<std::string> attrChanges;
    attributes->add_option("NAME_OR_ARN", attrGroup, "target group")->required();
    attributes->add_option("KEY=VALUE", attrChanges, "attributes to change");
    attributes->callback([&] {
      Json r = attrChanges.empty()
                   ? orDie(ctx.client().call("DescribeTargetGroupAttributes",
                                             {{"TargetGroupArn", attrGroup}}))
                   : orDie(ctx.client().call("ModifyTargetGroupAttributes",
                                             {{"TargetGroupArn", attrGroup},
                                              {"Attributes", attributeArgs(attrChanges)}}));
      ctx.outcome = Outcome{r, [](const Json& j) {
                              Table t({"KEY", "VALUE"});
                              for (const Json& a : j["Attributes"]) {
                                t.add({str(a, "Key"), str(a, "Value")});
                              }
                              t.print();
                            }};
    });
    tg->add_subcommand("ls", "list target groups")->callback([&] {
      Json r = orDie(ctx.client().call("DescribeTargetGroups", Json::object()));
      ctx.outcome = Outcome{r, [](const Json& j) { targetGroupsTable(j["TargetGroups"]); }};
    });
    auto* del = tg->add_subcommand("delete", "delete a target group");
    static std::string delName;
    del->add_option("NAME_OR_ARN", delName, "target group")->required();
    del->callback([&] {
      Json r = orDie(ctx.client().call("DeleteTargetGroup", {{"TargetGroupArn", delName}}));
      ctx.outcome = Outcome{r, [](const Json&) { std::printf("deleted %s\n", delName.c_str()); }};
    });
    struct Change {
      const char* name;
      const char* help;
      const char* action;
    };
    static const Change kChanges[] = {
        {"register", "register instances as targets", "RegisterTargets"},
        {"deregister", "deregister targets (they drain first)", "DeregisterTargets"},
    };
    static std::string changeGroup[2];
    static std::vector<std::string> changeTargets[2];
    for (int k = 0; k < 2; ++k) {
      auto* sub = tg->add_subcommand(kChanges[k].name, kChanges[k].help);
      sub->add_option("NAME_OR_ARN", changeGroup[k], "target group")->required();
      sub->add_option("TARGET", changeTargets[k], "INSTANCE_ID[:PORT]")->required();
      sub->callback([&, k] {
        Json r = orDie(
            ctx.client().call(kChanges[k].action, {{"TargetGroupArn", changeGroup[k]},
                                                   {"Targets", targetList(changeTargets[k])}}));
        ctx.outcome = Outcome{r, [k](const Json&) {
                                std::printf("%sed %zu target(s)\n", kChanges[k].name,
                                            changeTargets[k].size());
                              }};
      });
    }
    auto* health = tg->add_subcommand("health", "targets and their health (DescribeTargetHealth)");
    static std::string healthName;
    health->add_option("NAME_OR_ARN", healthName, "target group")->required();
    health->callback([&] {
      Json r = orDie(ctx.client().call("DescribeTargetHealth", {{"TargetGroupArn", healthName}}));
      ctx.outcome = Outcome{r, [](const Json& j) { healthTable(j["TargetHealthDescriptions"]); }};
    });
  }
}

} // namespace tide::cli
