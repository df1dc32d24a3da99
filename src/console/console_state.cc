// GET /console/api/state: one JSON snapshot of what the page draws, built on the control thread
// by calling the same Describe actions an AWS client would (so the shapes are AWS's, documented
// in docs/api.md), plus what only the server knows: each instance's requests per second and
// the console's load.
//
//   {"Now": ms, "LoadBalancers": [...DescribeLoadBalancers...],
//    "Listeners": [...DescribeListeners of every load balancer...],
//    "Rules": {listener ARN: [...DescribeRules...]},
//    "TargetGroups": [...DescribeTargetGroups...],
//    "TargetHealth": {target group ARN: [...DescribeTargetHealth...]},
//    "AutoScalingGroups": [...DescribeAutoScalingGroups...],
//    "Instances": [...DescribeInstances, flattened...],
//    "Alarms": [...DescribeAlarms MetricAlarms...],
//    "Activities": [...DescribeScalingActivities, newest 20 of each group...],
//    "RequestRates": {instance id: requests per second},
//    "Load": LoadRunner::state(), "Presets": [{"Name", "Story", "Phases"}],
//    "EventStream": "/events" or null, "Errors": [what could not be read]}
#include "cli/load_profile.h"
#include "console/console.h"

namespace tide::console {

namespace {

using Json = nlohmann::json;

} // namespace

std::map<std::string, double> Console::requestRates() {
  TimeMs now = ctx_.clock.now();
  // At most one reading a second: several pages polling must not shorten the window.
  if (lastTotalsAt_ != 0 && now - lastTotalsAt_ < 1000) {
    return rates_;
  }
  std::map<std::string, uint64_t> totals;
  if (counters_) {
    balancer::CountersSnapshot c = counters_();
    for (const auto& [key, slot] : publisher_.slots().targets) {
      size_t bar = key.find('|');
      size_t bar2 = key.find('|', bar + 1);
      if (bar == std::string::npos || bar2 == std::string::npos || slot >= c.targets.size()) {
        continue;
      }
      totals[key.substr(bar + 1, bar2 - bar - 1)] += c.targets[slot].requestCount;
    }
  }
  std::map<std::string, double> rates;
  if (lastTotalsAt_ != 0) {
    double seconds = double(now - lastTotalsAt_) / 1000.0;
    for (const auto& [id, total] : totals) {
      auto before = lastTotals_.find(id);
      // A target that is new (or whose slot was reused) starts from its own total.
      uint64_t from = before != lastTotals_.end() && before->second <= total ? before->second : 0;
      rates[id] = seconds > 0 ? double(total - from) / seconds : 0;
    }
  }
  lastTotals_ = std::move(totals);
  lastTotalsAt_ = now;
  rates_ = rates;
  return rates;
}

api::HttpResponse Console::state() {
  Json errors = Json::array();
  ctx_.region = ctx_.defaultRegion;
  ctx_.sessionCaller = false;
  auto describe = [&](std::string_view service, std::string_view action,
                      const Json& params) -> Json {
    const api::ActionEntry* e =
        ctx_.actions != nullptr ? ctx_.actions->find(service, action) : api::findAction(action);
    if (e == nullptr) {
      errors.push_back(std::string(action) + ": not served");
      return Json::object();
    }
    Result<Json> out = e->handler(ctx_, params);
    if (!out) {
      errors.push_back(std::string(action) + ": " + out.status().toString());
      return Json::object();
    }
    return *out;
  };
  auto list = [](const Json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_array() ? *it : Json::array();
  };

  Json s;
  s["Now"] = ctx_.clock.now();
  Json lbs = list(describe("elbv2", "DescribeLoadBalancers", Json::object()), "LoadBalancers");
  s["LoadBalancers"] = lbs;
  Json listeners = Json::array();
  Json rules = Json::object();
  for (const Json& lb : lbs) {
    Json ls = list(describe("elbv2", "DescribeListeners",
                            {{"LoadBalancerArn", lb.value("LoadBalancerArn", "")}}),
                   "Listeners");
    for (const Json& l : ls) {
      std::string arn = l.value("ListenerArn", "");
      rules[arn] = list(describe("elbv2", "DescribeRules", {{"ListenerArn", arn}}), "Rules");
      listeners.push_back(l);
    }
  }
  s["Listeners"] = listeners;
  s["Rules"] = rules;
  Json tgs = list(describe("elbv2", "DescribeTargetGroups", Json::object()), "TargetGroups");
  s["TargetGroups"] = tgs;
  Json health = Json::object();
  for (const Json& tg : tgs) {
    std::string arn = tg.value("TargetGroupArn", "");
    health[arn] = list(describe("elbv2", "DescribeTargetHealth", {{"TargetGroupArn", arn}}),
                       "TargetHealthDescriptions");
  }
  s["TargetHealth"] = health;
  Json groups = list(describe("autoscaling", "DescribeAutoScalingGroups", Json::object()),
                     "AutoScalingGroups");
  s["AutoScalingGroups"] = groups;
  Json instances = Json::array();
  for (const Json& r : list(describe("ec2", "DescribeInstances", Json::object()), "Reservations")) {
    for (const Json& i : list(r, "Instances")) {
      instances.push_back(i);
    }
  }
  s["Instances"] = instances;
  s["Alarms"] = list(describe("monitoring", "DescribeAlarms", Json::object()), "MetricAlarms");
  Json activities = Json::array();
  for (const Json& g : groups) {
    for (const Json& a :
         list(describe("autoscaling", "DescribeScalingActivities",
                       {{"AutoScalingGroupName", g.value("AutoScalingGroupName", "")},
                        {"MaxRecords", 20}}),
              "Activities")) {
      activities.push_back(a);
    }
  }
  s["Activities"] = activities;
  Json rates = Json::object();
  for (const auto& [id, r] : requestRates()) {
    rates[id] = r;
  }
  s["RequestRates"] = rates;
  s["Load"] = load_.state();
  Json presets = Json::array();
  for (const cli::LoadPreset& p : cli::loadPresets()) {
    presets.push_back({{"Name", p.name}, {"Story", p.story}, {"Phases", p.phases}});
  }
  s["Presets"] = presets;
  s["EventStream"] = options_.eventStreamPath.empty() ? Json() : Json(options_.eventStreamPath);
  s["Errors"] = errors;
  api::HttpResponse r;
  r.body = s.dump();
  r.headers.push_back({"Cache-Control", "no-store"});
  return r;
}

} // namespace tide::console
