// `tide lb`, `tide listener`, `tide rule` and `tide tg`: load balancers, listeners, listener
// rules and target groups (ELBv2). With --output json each prints the ELBv2 response shape.
#include "cli/commands.h"
#include "cli/table.h"

#include <map>
#include <memory>

namespace tide::cli {

namespace {

void loadBalancersTable(const Json& lbs) {
  Table t({"NAME", "DNS NAME", "ADDRESS", "STATE", "ARN"});
  for (const Json& lb : lbs) {
    std::string address; // its own, shown in every zone
    if (lb.contains("AvailabilityZones") && !lb["AvailabilityZones"].empty() &&
        !lb["AvailabilityZones"][0].value("LoadBalancerAddresses", Json::array()).empty()) {
      address = str(lb["AvailabilityZones"][0]["LoadBalancerAddresses"][0], "IpAddress");
    }
    t.add({str(lb, "LoadBalancerName"), str(lb, "DNSName"), address, str(lb["State"], "Code"),
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
           tg["Matcher"].contains("GrpcCode") ? "grpc " + str(tg["Matcher"], "GrpcCode")
                                              : str(tg["Matcher"], "HttpCode"),
           std::to_string(tg["LoadBalancerArns"].size())});
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
    std::string to =
        a.contains("TargetGroupArn") ? str(a, "TargetGroupArn")
        : a.contains("ForwardConfig")
            ? std::to_string(a["ForwardConfig"]["TargetGroups"].size()) + " weighted target groups"
        : a.contains("RedirectConfig")
            ? str(a["RedirectConfig"], "StatusCode") + " " + str(a["RedirectConfig"], "Protocol") +
                  "://" + str(a["RedirectConfig"], "Host")
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

void rulesTable(const Json& rules) {
  Table t({"PRIORITY", "CONDITIONS", "ACTION", "TO", "ARN"});
  for (const Json& r : rules) {
    std::string conditions;
    for (const Json& c : r["Conditions"]) {
      std::string field = str(c, "Field");
      std::string values;
      for (const auto& [key, cfg] : c.items()) {
        if (key == "Field" || key == "Values" || !cfg.is_object()) {
          continue;
        }
        if (cfg.contains("HttpHeaderName")) {
          values += str(cfg, "HttpHeaderName") + ":";
        }
        for (const Json& v : cfg.value("Values", Json::array())) {
          values += values.empty() || values.back() == ':' ? "" : "|";
          values +=
              v.is_object() ? str(v, "Key", "") + "=" + str(v, "Value") : v.get<std::string>();
        }
      }
      conditions += (conditions.empty() ? "" : " AND ") + field + "=" + values;
    }
    const Json& a = r["Actions"][0];
    std::string to;
    if (a.contains("ForwardConfig")) {
      for (const Json& g : a["ForwardConfig"]["TargetGroups"]) {
        std::string arn = str(g, "TargetGroupArn");
        size_t slash = arn.find("targetgroup/");
        std::string name = slash == std::string::npos ? arn : arn.substr(slash + 12);
        name = name.substr(0, name.find('/'));
        to += (to.empty() ? "" : " ") + name + "(" + str(g, "Weight") + ")";
      }
    } else if (a.contains("RedirectConfig")) {
      const Json& c = a["RedirectConfig"];
      to = str(c, "StatusCode") + " " + str(c, "Protocol") + "://" + str(c, "Host") + ":" +
           str(c, "Port") + str(c, "Path") + "?" + str(c, "Query");
    } else {
      to = str(a["FixedResponseConfig"], "StatusCode") + " " +
           str(a["FixedResponseConfig"], "MessageBody", "");
    }
    t.add({str(r, "Priority"), conditions.empty() ? "-" : conditions, str(a, "Type"), to,
           str(r, "RuleArn")});
  }
  t.print();
}

// A target group's ARN from its name (or the ARN itself).
std::string targetGroupArn(const ApiClient& api, const std::string& nameOrArn) {
  if (nameOrArn.rfind("arn:", 0) == 0) {
    return nameOrArn;
  }
  return orDie(api.call("DescribeTargetGroups",
                        {{"Names", {nameOrArn}}}))["TargetGroups"][0]["TargetGroupArn"];
}

// A fixed-response action from STATUS[:BODY].
Json fixedResponseAction(const std::string& fixed) {
  size_t colon = fixed.find(':');
  return {{"Type", "fixed-response"},
          {"FixedResponseConfig",
           {{"StatusCode", fixed.substr(0, colon)},
            {"MessageBody", colon == std::string::npos ? "" : fixed.substr(colon + 1)}}}};
}

// The flags that make rule conditions and actions (rule create and modify, listener modify).
struct RuleFlags {
  std::vector<std::string> paths, hosts, headers, methods, queries, sourceIps, forward;
  std::string fixed, redirect;

  void addConditions(CLI::App* cmd) {
    cmd->add_option("--path", paths, "path-pattern value (* and ? wildcards); repeatable");
    cmd->add_option("--host", hosts, "host-header value; repeatable");
    cmd->add_option("--header", headers, "http-header NAME=VALUE; repeatable");
    cmd->add_option("--method", methods, "http-request-method value; repeatable");
    cmd->add_option("--query", queries, "query-string [KEY]=VALUE; repeatable");
    cmd->add_option("--source-ip", sourceIps, "source-ip CIDR; repeatable");
  }
  void addActions(CLI::App* cmd) {
    cmd->add_option("--forward", forward,
                    "target group name or ARN, with :WEIGHT for weighted forwarding; repeatable");
    cmd->add_option("--fixed-response", fixed, "STATUS[:BODY] to answer with");
    cmd->add_option("--redirect", redirect,
                    "redirect as Protocol=..,Host=..,Port=..,Path=..,Query=..,StatusCode=HTTP_30x");
  }
  bool anyConditions() const {
    return !(paths.empty() && hosts.empty() && headers.empty() && methods.empty() &&
             queries.empty() && sourceIps.empty());
  }
  bool anyAction() const { return !forward.empty() || !fixed.empty() || !redirect.empty(); }

  Json conditions() const {
    Json out = Json::array();
    if (!paths.empty()) {
      out.push_back({{"Field", "path-pattern"}, {"PathPatternConfig", {{"Values", paths}}}});
    }
    if (!hosts.empty()) {
      out.push_back({{"Field", "host-header"}, {"HostHeaderConfig", {{"Values", hosts}}}});
    }
    std::map<std::string, Json> byHeader;
    for (const std::string& h : headers) {
      auto [name, value] = keyValue(h, "--header");
      byHeader[name].push_back(value);
    }
    for (const auto& [name, values] : byHeader) {
      out.push_back({{"Field", "http-header"},
                     {"HttpHeaderConfig", {{"HttpHeaderName", name}, {"Values", values}}}});
    }
    if (!methods.empty()) {
      out.push_back(
          {{"Field", "http-request-method"}, {"HttpRequestMethodConfig", {{"Values", methods}}}});
    }
    if (!queries.empty()) {
      Json kvs = Json::array();
      for (const std::string& q : queries) {
        // "=VALUE" (no key) matches the value under any key.
        auto [key, value] = q.rfind('=', 0) == 0
                                ? std::pair<std::string, std::string>{"", q.substr(1)}
                                : keyValue(q, "--query");
        Json kv = {{"Value", value}};
        if (!key.empty()) {
          kv["Key"] = key;
        }
        kvs.push_back(kv);
      }
      out.push_back({{"Field", "query-string"}, {"QueryStringConfig", {{"Values", kvs}}}});
    }
    if (!sourceIps.empty()) {
      out.push_back({{"Field", "source-ip"}, {"SourceIpConfig", {{"Values", sourceIps}}}});
    }
    return out;
  }

  Json actions(const ApiClient& api) const {
    if (int(!forward.empty()) + int(!fixed.empty()) + int(!redirect.empty()) != 1) {
      die(Status("MissingParameter",
                 "give one of --forward TARGET_GROUP[:WEIGHT]..., --fixed-response STATUS[:BODY] "
                 "or --redirect ..."));
    }
    Json action;
    if (!forward.empty()) {
      Json groups = Json::array();
      for (const std::string& f : forward) {
        size_t colon = f.rfind(':');
        bool weighted = colon != std::string::npos && colon + 1 < f.size() &&
                        f.find_first_not_of("0123456789", colon + 1) == std::string::npos;
        Json g = {{"TargetGroupArn", targetGroupArn(api, weighted ? f.substr(0, colon) : f)}};
        g["Weight"] = weighted ? std::stoi(f.substr(colon + 1)) : 1;
        groups.push_back(g);
      }
      action = {{"Type", "forward"}, {"ForwardConfig", {{"TargetGroups", groups}}}};
    } else if (!fixed.empty()) {
      action = fixedResponseAction(fixed);
    } else {
      Json cfg = Json::object();
      size_t from = 0;
      while (from <= redirect.size()) {
        size_t comma = redirect.find(',', from);
        std::string part = redirect.substr(from, comma - from);
        auto [key, value] = keyValue(part, "--redirect");
        cfg[key] = value;
        if (comma == std::string::npos) {
          break;
        }
        from = comma + 1;
      }
      if (!cfg.contains("StatusCode")) {
        cfg["StatusCode"] = "HTTP_301";
      }
      action = {{"Type", "redirect"}, {"RedirectConfig", cfg}};
    }
    return Json::array({action});
  }
};

// `PARENT delete ID`: calls `action` with the ID as its one parameter `param`, then prints
// "deleted ID".
void addDeleteCommand(CLI::App* parent, CommandContext& ctx, const char* help, const char* arg,
                      const char* argHelp, const char* action, const char* param) {
  auto* del = parent->add_subcommand("delete", help);
  auto id = std::make_shared<std::string>();
  del->add_option(arg, *id, argHelp)->required();
  del->callback([&ctx, id, action, param] {
    Json r = orDie(ctx.client().call(action, {{param, *id}}));
    ctx.outcome = Outcome{r, [id](const Json&) { std::printf("deleted %s\n", id->c_str()); }};
  });
}

// `PARENT attributes NAME_OR_ARN [KEY=VALUE...]`: shows the resource's attributes (`describe`),
// or changes the given ones (`modify`) and shows the result; `arnOf` turns the argument into
// the ARN that `param` takes.
void addAttributesCommand(CLI::App* parent, CommandContext& ctx, const char* help,
                          const char* argHelp, const char* describe, const char* modify,
                          const char* param,
                          std::string (*arnOf)(const ApiClient&, const std::string&)) {
  auto* attributes = parent->add_subcommand("attributes", help);
  auto id = std::make_shared<std::string>();
  auto changes = std::make_shared<std::vector<std::string>>();
  attributes->add_option("NAME_OR_ARN", *id, argHelp)->required();
  attributes->add_option("KEY=VALUE", *changes, "attributes to change");
  attributes->callback([&ctx, id, changes, describe, modify, param, arnOf] {
    ApiClient api = ctx.client();
    std::string arn = arnOf(api, *id);
    Json r = changes->empty()
                 ? orDie(api.call(describe, {{param, arn}}))
                 : orDie(api.call(modify, {{param, arn}, {"Attributes", attributeArgs(*changes)}}));
    ctx.outcome = Outcome{r, [](const Json& j) {
                            Table t({"KEY", "VALUE"});
                            for (const Json& a : j["Attributes"]) {
                              t.add({str(a, "Key"), str(a, "Value")});
                            }
                            t.print();
                          }};
  });
}

std::string sameArn(const ApiClient&, const std::string& nameOrArn) {
  return nameOrArn; // the API takes a target group's name where it takes its ARN
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
                       "(default: one of its own, 127.2.B.x)");
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
    addAttributesCommand(lb, ctx,
                         "show a load balancer's attributes, or change some (KEY=VALUE ...): "
                         "idle timeout, desync mitigation mode, limits, access log",
                         "load balancer", "DescribeLoadBalancerAttributes",
                         "ModifyLoadBalancerAttributes", "LoadBalancerArn", loadBalancerArn);
  }

  // ------------------------------------------------------------------------------ listeners
  auto* listener =
      app.add_subcommand("listener", "listeners of load balancers")->require_subcommand(1);
  {
    auto* create = listener->add_subcommand("create", "listen on a port and forward or answer");
    static std::string lbName, forwardTo, fixed, certificateArn, sslPolicy;
    static int port = 0;
    create->add_option("--lb", lbName, "load balancer name or ARN")->required();
    create->add_option("--certificate", certificateArn,
                       "HTTPS with this default certificate (an ARN from `tide cert import`)");
    create->add_option("--ssl-policy", sslPolicy,
                       "HTTPS: the security policy (default ELBSecurityPolicy-2016-08)");
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
        action = fixedResponseAction(fixed);
      } else {
        die(Status("MissingParameter", "give --forward TARGET_GROUP or --fixed-response STATUS"));
      }
      Json p = {{"LoadBalancerArn", loadBalancerArn(api, lbName)},
                {"Protocol", certificateArn.empty() ? "HTTP" : "HTTPS"},
                {"Port", port},
                {"DefaultActions", Json::array({action})}};
      if (!certificateArn.empty()) {
        p["Certificates"] = {{{"CertificateArn", certificateArn}}};
      }
      if (!sslPolicy.empty()) {
        p["SslPolicy"] = sslPolicy;
      }
      Json r = orDie(api.call("CreateListener", p));
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
    addDeleteCommand(listener, ctx, "delete a listener", "ARN", "listener ARN", "DeleteListener",
                     "ListenerArn");
  }

  {
    auto* modify = listener->add_subcommand("modify", "change a listener's port or default action");
    static std::string modArn;
    static int modPort = 0;
    static RuleFlags flags;
    modify->add_option("ARN", modArn, "listener ARN")->required();
    modify->add_option("--port", modPort, "new port")->check(CLI::Range(1, 65535));
    flags.addActions(modify);
    modify->callback([&] {
      ApiClient api = ctx.client();
      Json p = {{"ListenerArn", modArn}};
      if (modPort != 0) {
        p["Port"] = modPort;
      }
      if (flags.anyAction()) {
        p["DefaultActions"] = flags.actions(api);
      }
      Json r = orDie(api.call("ModifyListener", p));
      ctx.outcome = Outcome{r, [](const Json& j) { listenersTable(j["Listeners"]); }};
    });
  }

  // ---------------------------------------------------------------------------------- rules
  auto* rule = app.add_subcommand("rule", "listener rules")->require_subcommand(1);
  {
    auto* ls = rule->add_subcommand("ls", "list a listener's rules, the default rule last");
    static std::string lsListener;
    ls->add_option("--listener", lsListener, "listener ARN")->required();
    ls->callback([&] {
      Json r = orDie(ctx.client().call("DescribeRules", {{"ListenerArn", lsListener}}));
      ctx.outcome = Outcome{r, [](const Json& j) { rulesTable(j["Rules"]); }};
    });
    auto* create = rule->add_subcommand("create", "add a rule: conditions, a priority, an action");
    static std::string listenerArn;
    static int priority = 0;
    static RuleFlags flags;
    create->add_option("--listener", listenerArn, "listener ARN")->required();
    create->add_option("--priority", priority, "1..50000, lowest first")->required();
    flags.addConditions(create);
    flags.addActions(create);
    create->callback([&] {
      ApiClient api = ctx.client();
      Json r = orDie(api.call("CreateRule", {{"ListenerArn", listenerArn},
                                             {"Priority", priority},
                                             {"Conditions", flags.conditions()},
                                             {"Actions", flags.actions(api)}}));
      ctx.outcome = Outcome{r, [](const Json& j) { rulesTable(j["Rules"]); }};
    });
    auto* modify = rule->add_subcommand("modify", "replace a rule's conditions or action");
    static std::string modArn;
    static RuleFlags modFlags;
    modify->add_option("ARN", modArn, "rule ARN")->required();
    modFlags.addConditions(modify);
    modFlags.addActions(modify);
    modify->callback([&] {
      ApiClient api = ctx.client();
      Json p = {{"RuleArn", modArn}};
      if (modFlags.anyConditions()) {
        p["Conditions"] = modFlags.conditions();
      }
      if (modFlags.anyAction()) {
        p["Actions"] = modFlags.actions(api);
      }
      Json r = orDie(api.call("ModifyRule", p));
      ctx.outcome = Outcome{r, [](const Json& j) { rulesTable(j["Rules"]); }};
    });
    addDeleteCommand(rule, ctx, "delete a rule", "ARN", "rule ARN", "DeleteRule", "RuleArn");
    auto* prio = rule->add_subcommand("set-priorities", "change priorities, all or nothing");
    static std::vector<std::string> pairs;
    prio->add_option("ARN=PRIORITY", pairs, "rule ARN and its new priority")->required();
    prio->callback([&] {
      Json list = Json::array();
      for (const std::string& p : pairs) {
        size_t eq = p.rfind('=');
        int value = 0;
        try {
          value = eq == std::string::npos ? 0 : std::stoi(p.substr(eq + 1));
        } catch (const std::exception&) {
        }
        if (value == 0) {
          die(validationError("'" + p + "' must be RULE_ARN=PRIORITY"));
        }
        list.push_back({{"RuleArn", p.substr(0, eq)}, {"Priority", value}});
      }
      Json r = orDie(ctx.client().call("SetRulePriorities", {{"RulePriorities", list}}));
      ctx.outcome = Outcome{r, [](const Json& j) { rulesTable(j["Rules"]); }};
    });
  }

  // -------------------------------------------------------------------------- target groups
  auto* tg = app.add_subcommand("tg", "target groups and their targets")->require_subcommand(1);
  {
    auto* create = tg->add_subcommand("create", "create a target group (ELBv2 defaults)");
    static std::string name, path, matcher, algorithm, protocolVersion;
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
    create->add_option("--protocol-version", protocolVersion,
                       "HTTP1 (default), HTTP2 or GRPC: how targets are health-checked");
    create->add_option("--matcher", matcher,
                       "HTTP codes that pass (default 200); GRPC: gRPC codes (default 12)");
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
      if (!protocolVersion.empty()) {
        p["ProtocolVersion"] = protocolVersion;
      }
      if (!matcher.empty()) {
        p["Matcher"] = {{protocolVersion == "GRPC" ? "GrpcCode" : "HttpCode", matcher}};
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
          (void)api.call("DeleteTargetGroup",
                         {{"TargetGroupArn", arn}}); // nothing half-made; set says why
          die(set.status());
        }
      }
      ctx.outcome = Outcome{r, [](const Json& j) { targetGroupsTable(j["TargetGroups"]); }};
    });
    addAttributesCommand(
        tg, ctx, "show a target group's attributes, or change some (KEY=VALUE ...)", "target group",
        "DescribeTargetGroupAttributes", "ModifyTargetGroupAttributes", "TargetGroupArn", sameArn);
    tg->add_subcommand("ls", "list target groups")->callback([&] {
      Json r = orDie(ctx.client().call("DescribeTargetGroups", Json::object()));
      ctx.outcome = Outcome{r, [](const Json& j) { targetGroupsTable(j["TargetGroups"]); }};
    });
    addDeleteCommand(tg, ctx, "delete a target group", "NAME_OR_ARN", "target group",
                     "DeleteTargetGroup", "TargetGroupArn");
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
