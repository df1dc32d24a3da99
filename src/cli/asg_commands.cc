// `tide asg`: Auto Scaling groups, their activities and scaling policies. With --output json
// each prints the Auto Scaling response shape (DescribeAutoScalingGroups,
// DescribeScalingActivities, DescribePolicies, ...).
#include "cli/commands.h"
#include "cli/explain.h"
#include "cli/table.h"

#include <algorithm>

namespace tide::cli {

namespace {

void groupsTable(const Json& groups) {
  Table t({"GROUP", "MIN/DESIRED/MAX", "IN SERVICE", "TEMPLATE", "HEALTH CHECK", "TARGET GROUPS",
           "STATUS"});
  for (const Json& g : groups) {
    int inService = 0;
    for (const Json& i : g["Instances"]) {
      inService += i.value("LifecycleState", "") == "InService";
    }
    t.add(
        {str(g, "AutoScalingGroupName"),
         str(g, "MinSize") + "/" + str(g, "DesiredCapacity") + "/" + str(g, "MaxSize"),
         std::to_string(inService),
         str(g["LaunchTemplate"], "LaunchTemplateName") + ":" + str(g["LaunchTemplate"], "Version"),
         str(g, "HealthCheckType") + " (grace " + str(g, "HealthCheckGracePeriod") + "s)",
         std::to_string(g["TargetGroupARNs"].size()), str(g, "Status", "Active")});
  }
  t.print();
  Table i({"INSTANCE", "GROUP", "LIFECYCLE", "HEALTH", "TYPE", "TEMPLATE VERSION"});
  for (const Json& g : groups) {
    for (const Json& x : g["Instances"]) {
      i.add({str(x, "InstanceId"), str(g, "AutoScalingGroupName"), str(x, "LifecycleState"),
             str(x, "HealthStatus"), str(x, "InstanceType"), str(x["LaunchTemplate"], "Version")});
    }
  }
  std::printf("\n");
  i.print();
}

void activitiesTable(const Json& activities) {
  Table t({"START", "STATUS", "DESCRIPTION", "CAUSE"});
  for (const Json& a : activities) {
    std::string status = str(a, "StatusCode");
    if (!a.value("StatusMessage", "").empty()) {
      status += ": " + str(a, "StatusMessage");
    }
    t.add({str(a, "StartTime"), status, str(a, "Description"), str(a, "Cause")});
  }
  t.print();
}

void policiesTable(const Json& policies) {
  Table t({"POLICY", "GROUP", "TYPE", "ADJUSTMENT", "ALARMS"});
  for (const Json& p : policies) {
    std::string adjustment = str(p, "AdjustmentType") + " ";
    if (p.contains("StepAdjustments")) {
      for (const Json& s : p["StepAdjustments"]) {
        adjustment += "[" + str(s, "MetricIntervalLowerBound", "") + ".." +
                      str(s, "MetricIntervalUpperBound", "") + "): " + str(s, "ScalingAdjustment") +
                      " ";
      }
    } else {
      adjustment += str(p, "ScalingAdjustment");
      if (p.contains("Cooldown")) {
        adjustment += " (cooldown " + str(p, "Cooldown") + "s)";
      }
    }
    std::string alarms;
    for (const Json& a : p["Alarms"]) {
      alarms += (alarms.empty() ? "" : ", ") + str(a, "AlarmName");
    }
    t.add({str(p, "PolicyName"), str(p, "AutoScalingGroupName"), str(p, "PolicyType"), adjustment,
           alarms.empty() ? "-" : alarms});
  }
  t.print();
}

// A target group's ARN from its name (or the ARN itself).
std::string targetGroupArn(const ApiClient& api, const std::string& nameOrArn) {
  if (nameOrArn.rfind("arn:", 0) == 0) {
    return nameOrArn;
  }
  Json r = orDie(api.call("DescribeTargetGroups", {{"Names", {nameOrArn}}}));
  return r["TargetGroups"][0]["TargetGroupArn"];
}

// "LOWER:UPPER:ADJUSTMENT" (an empty bound is unbounded) → a StepAdjustment.
Json stepAdjustment(const std::string& spec) {
  auto fail = [&] {
    die(validationError("--step '" + spec +
                        "' must be LOWER:UPPER:ADJUSTMENT (an empty bound is unbounded)"));
  };
  size_t a = spec.find(':');
  size_t b = a == std::string::npos ? a : spec.find(':', a + 1);
  if (b == std::string::npos) {
    fail();
  }
  Json s = Json::object();
  try {
    std::string lo = spec.substr(0, a), hi = spec.substr(a + 1, b - a - 1);
    if (!lo.empty()) {
      s["MetricIntervalLowerBound"] = std::stod(lo);
    }
    if (!hi.empty()) {
      s["MetricIntervalUpperBound"] = std::stod(hi);
    }
    s["ScalingAdjustment"] = std::stoi(spec.substr(b + 1));
  } catch (const std::exception&) {
    fail();
  }
  return s;
}

Json describeGroup(const ApiClient& api, const std::string& name) {
  return orDie(api.call("DescribeAutoScalingGroups", {{"AutoScalingGroupNames", {name}}}));
}

} // namespace

void addAsgCommands(CLI::App& app, CommandContext& ctx) {
  auto* asg =
      app.add_subcommand("asg", "Auto Scaling groups and scaling policies")->require_subcommand(1);
  {
    auto* create = asg->add_subcommand("create", "create a group (launches its instances)");
    static std::string name, tmpl, healthType;
    static int min = 0, max = 0, desired = -1, grace = -1, cooldown = -1;
    static std::vector<std::string> targetGroups, terminationPolicies;
    create->add_option("--name", name, "group name (unique)")->required();
    create
        ->add_option("--launch-template", tmpl,
                     "NAME[:VERSION] (VERSION: a number, $Latest "
                     "or $Default, the default)")
        ->required();
    create->add_option("--min", min, "MinSize")->required();
    create->add_option("--max", max, "MaxSize")->required();
    create->add_option("--desired", desired, "DesiredCapacity (default: --min)");
    create->add_option("--target-groups", targetGroups, "target group names or ARNs");
    create->add_option("--health-check-type", healthType, "EC2 (default) or ELB")
        ->check(CLI::IsMember({"EC2", "ELB"}));
    create->add_option("--grace", grace, "HealthCheckGracePeriod in seconds (default 0)");
    create->add_option("--cooldown", cooldown, "DefaultCooldown in seconds (default 300)");
    create->add_option("--termination-policies", terminationPolicies,
                       "Default, OldestInstance, NewestInstance, OldestLaunchTemplate");
    create->callback([&] {
      ApiClient api = ctx.client();
      size_t colon = tmpl.find(':');
      Json lt = {{"LaunchTemplateName", tmpl.substr(0, colon)}};
      if (colon != std::string::npos) {
        lt["Version"] = tmpl.substr(colon + 1);
      }
      Json p = {{"AutoScalingGroupName", name},
                {"LaunchTemplate", lt},
                {"MinSize", min},
                {"MaxSize", max}};
      if (desired >= 0) {
        p["DesiredCapacity"] = desired;
      }
      if (!targetGroups.empty()) {
        Json arns = Json::array();
        for (const auto& tg : targetGroups) {
          arns.push_back(targetGroupArn(api, tg));
        }
        p["TargetGroupARNs"] = arns;
      }
      if (!healthType.empty()) {
        p["HealthCheckType"] = healthType;
      }
      if (grace >= 0) {
        p["HealthCheckGracePeriod"] = grace;
      }
      if (cooldown >= 0) {
        p["DefaultCooldown"] = cooldown;
      }
      if (!terminationPolicies.empty()) {
        p["TerminationPolicies"] = terminationPolicies;
      }
      orDie(api.call("CreateAutoScalingGroup", p));
      Json r = describeGroup(api, name);
      ctx.outcome = Outcome{r, [](const Json& j) { groupsTable(j["AutoScalingGroups"]); }};
    });

    auto* ls = asg->add_subcommand("ls", "list groups and their instances");
    static std::vector<std::string> lsNames;
    ls->add_option("NAME", lsNames, "only these groups");
    ls->callback([&] {
      Json p = Json::object();
      if (!lsNames.empty()) {
        p["AutoScalingGroupNames"] = lsNames;
      }
      Json r = orDie(ctx.client().call("DescribeAutoScalingGroups", p));
      ctx.outcome = Outcome{r, [](const Json& j) { groupsTable(j["AutoScalingGroups"]); }};
    });

    auto* set = asg->add_subcommand("set-desired", "change a group's desired capacity");
    static std::string setName;
    static int setDesired = 0;
    static bool honor = false;
    set->add_option("NAME", setName, "group")->required();
    set->add_option("N", setDesired, "desired capacity")->required();
    set->add_flag("--honor-cooldown", honor, "refuse while the group cools down");
    set->callback([&] {
      ApiClient api = ctx.client();
      orDie(api.call("SetDesiredCapacity", {{"AutoScalingGroupName", setName},
                                            {"DesiredCapacity", setDesired},
                                            {"HonorCooldown", honor}}));
      Json r = describeGroup(api, setName);
      ctx.outcome = Outcome{r, [](const Json& j) { groupsTable(j["AutoScalingGroups"]); }};
    });

    auto* update = asg->add_subcommand("update", "change a group's sizes or settings");
    static std::string upName, upTmpl, upHealth;
    static int upMin = -1, upMax = -1, upDesired = -1, upGrace = -1, upCooldown = -1;
    update->add_option("NAME", upName, "group")->required();
    update->add_option("--min", upMin, "MinSize");
    update->add_option("--max", upMax, "MaxSize");
    update->add_option("--desired", upDesired, "DesiredCapacity");
    update->add_option("--launch-template", upTmpl, "NAME[:VERSION]");
    update->add_option("--health-check-type", upHealth, "EC2 or ELB")
        ->check(CLI::IsMember({"EC2", "ELB"}));
    update->add_option("--grace", upGrace, "HealthCheckGracePeriod in seconds");
    update->add_option("--cooldown", upCooldown, "DefaultCooldown in seconds");
    update->callback([&] {
      ApiClient api = ctx.client();
      Json p = {{"AutoScalingGroupName", upName}};
      for (auto [key, v] : {std::pair{"MinSize", upMin},
                            {"MaxSize", upMax},
                            {"DesiredCapacity", upDesired},
                            {"HealthCheckGracePeriod", upGrace},
                            {"DefaultCooldown", upCooldown}}) {
        if (v >= 0) {
          p[key] = v;
        }
      }
      if (!upHealth.empty()) {
        p["HealthCheckType"] = upHealth;
      }
      if (!upTmpl.empty()) {
        size_t colon = upTmpl.find(':');
        p["LaunchTemplate"] = {{"LaunchTemplateName", upTmpl.substr(0, colon)}};
        if (colon != std::string::npos) {
          p["LaunchTemplate"]["Version"] = upTmpl.substr(colon + 1);
        }
      }
      orDie(api.call("UpdateAutoScalingGroup", p));
      Json r = describeGroup(api, upName);
      ctx.outcome = Outcome{r, [](const Json& j) { groupsTable(j["AutoScalingGroups"]); }};
    });

    auto* del = asg->add_subcommand("delete", "delete a group (--force: with its instances)");
    static std::string delName;
    static bool force = false;
    del->add_option("NAME", delName, "group")->required();
    del->add_flag("--force", force, "terminate its instances, then delete it");
    del->callback([&] {
      Json r = orDie(ctx.client().call(
          "DeleteAutoScalingGroup", {{"AutoScalingGroupName", delName}, {"ForceDelete", force}}));
      ctx.outcome = Outcome{r, [](const Json&) {
                              std::printf(force ? "deleting %s (its instances drain and "
                                                  "terminate first)\n"
                                                : "deleted %s\n",
                                          delName.c_str());
                            }};
    });

    auto* acts = asg->add_subcommand("activities", "a group's scaling activities, newest first");
    static std::string actName;
    static int actMax = 0;
    acts->add_option("NAME", actName, "group")->required();
    acts->add_option("--max", actMax, "at most this many (1..100)");
    acts->callback([&] {
      Json p = {{"AutoScalingGroupName", actName}};
      if (actMax > 0) {
        p["MaxRecords"] = actMax;
      }
      Json r = orDie(ctx.client().call("DescribeScalingActivities", p));
      ctx.outcome = Outcome{r, [](const Json& j) { activitiesTable(j["Activities"]); }};
    });

    auto* explain = asg->add_subcommand(
        "explain", "the group's last decisions and why: alarms, policies, activities");
    static std::string explainName;
    static int explainMax = 20;
    explain->add_option("NAME", explainName, "group")->required();
    explain->add_option("--max", explainMax, "at most this many events (1..1000)")
        ->check(CLI::Range(1, 1000));
    explain->callback([&] {
      ApiClient api = ctx.client();
      Json acts = orDie(api.call("DescribeScalingActivities",
                                 {{"AutoScalingGroupName", explainName}, {"MaxRecords", 100}}));
      Json pols = orDie(api.call("DescribePolicies", {{"AutoScalingGroupName", explainName}}));
      Json history = Json::array();
      std::vector<std::string> seen;
      for (const Json& p : pols["ScalingPolicies"]) {
        for (const Json& a : p.value("Alarms", Json::array())) {
          std::string alarm = str(a, "AlarmName", "");
          if (alarm.empty() || std::find(seen.begin(), seen.end(), alarm) != seen.end()) {
            continue;
          }
          seen.push_back(alarm);
          Json h =
              orDie(api.call("DescribeAlarmHistory", {{"AlarmName", alarm}, {"MaxRecords", 100}}));
          for (Json& item : h["AlarmHistoryItems"]) {
            history.push_back(std::move(item));
          }
        }
      }
      Json events = Json::array();
      for (const ExplainEvent& e : explainEvents(acts["Activities"], history, explainMax)) {
        events.push_back({{"Time", e.time}, {"Kind", e.kind}, {"Text", e.text}});
      }
      ctx.outcome = Outcome{
          Json{{"AutoScalingGroupName", explainName}, {"Events", events}}, [](const Json& j) {
            if (j["Events"].empty()) {
              std::printf("no decisions recorded for %s yet\n",
                          str(j, "AutoScalingGroupName").c_str());
            }
            for (const Json& e : j["Events"]) {
              std::printf("%s  %s\n", str(e, "Time").c_str(), str(e, "Text").c_str());
            }
          }};
    });

    auto* term = asg->add_subcommand("terminate-instance",
                                     "take an instance out of service (drained, then terminated)");
    static std::string termId;
    static bool decrement = false;
    term->add_option("INSTANCE_ID", termId, "instance")->required();
    term->add_flag("--decrement", decrement, "lower the desired capacity (no replacement)");
    term->callback([&] {
      Json r = orDie(ctx.client().call(
          "TerminateInstanceInAutoScalingGroup",
          {{"InstanceId", termId}, {"ShouldDecrementDesiredCapacity", decrement}}));
      ctx.outcome =
          Outcome{r, [](const Json& j) { activitiesTable(Json::array({j["Activity"]})); }};
    });

    auto* policies = asg->add_subcommand("policies", "a group's scaling policies");
    static std::string polGroup;
    policies->add_option("NAME", polGroup, "group")->required();
    policies->callback([&] {
      Json r = orDie(ctx.client().call("DescribePolicies", {{"AutoScalingGroupName", polGroup}}));
      ctx.outcome = Outcome{r, [](const Json& j) { policiesTable(j["ScalingPolicies"]); }};
    });
  }

  auto* policy = asg->add_subcommand("policy", "scaling policies")->require_subcommand(1);
  {
    auto* put = policy->add_subcommand("put", "create or replace a simple or step policy");
    static std::string group, name, adjustmentType;
    static int simple = 0, cooldown = -1, magnitude = 0, warmup = -1;
    static std::vector<std::string> steps;
    put->add_option("NAME", group, "group")->required();
    put->add_option("--policy-name", name, "policy name")->required();
    auto* s = put->add_option("--simple", simple, "SimpleScaling: the adjustment");
    auto* st = put->add_option("--step", steps,
                               "StepScaling: LOWER:UPPER:ADJUSTMENT of (metric - threshold), "
                               "repeatable; an empty bound is unbounded");
    s->excludes(st);
    put->add_option("--cooldown", cooldown, "SimpleScaling: seconds (default: the group's)");
    put->add_option("--adjustment-type", adjustmentType,
                    "ChangeInCapacity (default), ExactCapacity or PercentChangeInCapacity");
    put->add_option("--min-adjustment-magnitude", magnitude, "PercentChangeInCapacity: at least");
    put->add_option("--warmup", warmup, "StepScaling: EstimatedInstanceWarmup in seconds");
    put->callback([&, s] {
      Json p = {{"AutoScalingGroupName", group},
                {"PolicyName", name},
                {"AdjustmentType", adjustmentType.empty() ? "ChangeInCapacity" : adjustmentType}};
      if (!steps.empty()) {
        p["PolicyType"] = "StepScaling";
        Json list = Json::array();
        for (const auto& spec : steps) {
          list.push_back(stepAdjustment(spec));
        }
        p["StepAdjustments"] = list;
        if (warmup >= 0) {
          p["EstimatedInstanceWarmup"] = warmup;
        }
      } else if (s->count() > 0) {
        p["PolicyType"] = "SimpleScaling";
        p["ScalingAdjustment"] = simple;
        if (cooldown >= 0) {
          p["Cooldown"] = cooldown;
        }
      } else {
        die(Status("MissingParameter", "give --simple ADJUSTMENT or --step LOWER:UPPER:ADJ..."));
      }
      if (magnitude > 0) {
        p["MinAdjustmentMagnitude"] = magnitude;
      }
      Json r = orDie(ctx.client().call("PutScalingPolicy", p));
      ctx.outcome =
          Outcome{r, [](const Json& j) { std::printf("%s\n", str(j, "PolicyARN").c_str()); }};
    });

    auto* exec = policy->add_subcommand("execute", "run a policy now (as its alarm would)");
    static std::string exGroup, exName;
    static double metric = 0, threshold = 0;
    static bool honor = false;
    exec->add_option("NAME", exGroup, "group")->required();
    exec->add_option("--policy-name", exName, "policy name")->required();
    auto* m = exec->add_option("--metric-value", metric, "StepScaling: the metric's value");
    auto* t = exec->add_option("--threshold", threshold, "StepScaling: the breach threshold");
    exec->add_flag("--honor-cooldown", honor, "skip while the group cools down (an error)");
    exec->callback([&, m, t] {
      Json p = {
          {"AutoScalingGroupName", exGroup}, {"PolicyName", exName}, {"HonorCooldown", honor}};
      if (m->count() > 0) {
        p["MetricValue"] = metric;
      }
      if (t->count() > 0) {
        p["BreachThreshold"] = threshold;
      }
      ApiClient api = ctx.client();
      orDie(api.call("ExecutePolicy", p));
      Json r = describeGroup(api, exGroup);
      ctx.outcome = Outcome{r, [](const Json& j) { groupsTable(j["AutoScalingGroups"]); }};
    });

    auto* del = policy->add_subcommand("delete", "delete a policy");
    static std::string delGroup, delName;
    del->add_option("NAME", delGroup, "group")->required();
    del->add_option("--policy-name", delName, "policy name")->required();
    del->callback([&] {
      Json r = orDie(ctx.client().call(
          "DeletePolicy", {{"AutoScalingGroupName", delGroup}, {"PolicyName", delName}}));
      ctx.outcome = Outcome{r, [](const Json&) { std::printf("deleted %s\n", delName.c_str()); }};
    });
  }
  addAsgRefreshCommands(*asg, ctx);
}

} // namespace tide::cli
