// CreateRule, ModifyRule, DeleteRule, DescribeRules, SetRulePriorities and ModifyListener.
//
// Rules live in their listener's document in the store (model::Listener::rules), so that a rule
// change is one write of one row, and deleting a listener deletes its rules with it. The
// listener's DefaultActions are its default rule, listed last by DescribeRules.
#include "api/elb_shapes.h"
#include "api/handlers.h"
#include "api/listener_tls.h"
#include "api/params.h"
#include "common/ids.h"
#include "model/validation.h"

#include <algorithm>
#include <map>

namespace tide::api {

namespace {

// Rules per load balancer, not counting default rules (the ELBv2 quota).
constexpr size_t kMaxRulesPerLoadBalancer = 100;

Status ruleNotFound(const std::string& arn) {
  return Status("RuleNotFound", "One or more rules not found: '" + arn + "'");
}

Result<int> parsePriority(const Json& p) {
  TIDE_ASSIGN_OR_RETURN(auto priority, optInt(p, "Priority"));
  if (!priority.has_value()) {
    return Status("MissingParameter", "The request must contain Priority");
  }
  if (*priority < 1 || *priority > 50000) {
    return validationError("Priority " + std::to_string(*priority) + " must be 1 to 50000");
  }
  return static_cast<int>(*priority);
}

// Where a rule ARN points: its listener and the index of the rule in it (-1: the default rule).
struct RuleLocation {
  model::Listener listener;
  int index = -1;
};

Result<RuleLocation> findRule(const std::vector<model::Listener>& listeners,
                              const std::string& arn) {
  for (const auto& l : listeners) {
    if (defaultRuleArn(l) == arn) {
      return RuleLocation{l, -1};
    }
    for (size_t i = 0; i < l.rules.size(); ++i) {
      if (l.rules[i].ruleArn == arn) {
        return RuleLocation{l, static_cast<int>(i)};
      }
    }
  }
  return ruleNotFound(arn);
}

// The same, reading the listeners from the store.
Result<RuleLocation> findRule(store::Tx& tx, const std::string& arn) {
  TIDE_ASSIGN_OR_RETURN(auto all, tx.listeners());
  return findRule(all, arn);
}

std::vector<model::Rule> byPriority(std::vector<model::Rule> rules) {
  std::sort(rules.begin(), rules.end(),
            [](const auto& a, const auto& b) { return a.priority < b.priority; });
  return rules;
}

Json rulesJson(const model::Listener& l) {
  Json out = Json::array();
  for (const auto& r : byPriority(l.rules)) {
    out.push_back(ruleJson(r));
  }
  out.push_back(defaultRuleJson(l));
  return out;
}

} // namespace

Result<Json> createRule(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"ListenerArn", "Conditions", "Priority", "Actions", "Tags"}));
  auto listenerArn = reqString(p, "ListenerArn");
  auto priority = parsePriority(p);
  auto tags = elbTags(p);
  TIDE_RETURN_IF_ERROR(firstError({&listenerArn.status(), &priority.status(), &tags.status()}));
  TIDE_RETURN_IF_ERROR(model::validateTags(*tags));
  if (!p.contains("Conditions")) {
    return Status("MissingParameter", "The request must contain Conditions");
  }
  if (!p.contains("Actions")) {
    return Status("MissingParameter", "The request must contain Actions");
  }
  TIDE_ASSIGN_OR_RETURN(auto conditions, parseRuleConditions(p["Conditions"]));
  TIDE_ASSIGN_OR_RETURN(auto actions, parseListenerActions(p["Actions"], "Actions"));
  model::Rule rule;
  rule.priority = *priority;
  rule.conditions = conditions;
  rule.actions = actions;
  rule.tags = *tags;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto l, findListener(tx, *listenerArn));
    model::Listener listener = std::move(l);
    for (const auto& r : listener.rules) {
      if (r.priority == rule.priority) {
        return Status("PriorityInUse",
                      "Priority " + std::to_string(rule.priority) + " is in use by " + r.ruleArn);
      }
    }
    TIDE_ASSIGN_OR_RETURN(auto all, tx.listeners());
    size_t count = 0;
    for (const auto& other : all) {
      count += other.loadBalancerArn == listener.loadBalancerArn ? other.rules.size() : 0;
    }
    if (count >= kMaxRulesPerLoadBalancer) {
      return Status("TooManyRules", "The load balancer has " + std::to_string(count) +
                                        " rules already; the limit is " +
                                        std::to_string(kMaxRulesPerLoadBalancer));
    }
    TIDE_RETURN_IF_ERROR(checkForwardTargets(tx, listener.loadBalancerArn, rule.actions));
    std::string rest = listener.listenerArn.substr(listener.listenerArn.find(":listener/") + 10);
    rule.ruleArn = elbArn(ctx, "listener-rule/" + rest + "/" + randomHex(16));
    listener.rules.push_back(rule);
    return tx.putListener(listener);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Rules", Json::array({ruleJson(rule)})}};
}

Result<Json> modifyRule(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"RuleArn", "Conditions", "Actions"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "RuleArn"));
  std::optional<std::vector<model::RuleCondition>> conditions;
  std::optional<std::vector<model::ListenerAction>> actions;
  if (p.contains("Conditions")) {
    TIDE_ASSIGN_OR_RETURN(auto c, parseRuleConditions(p["Conditions"]));
    conditions = c;
  }
  if (p.contains("Actions")) {
    TIDE_ASSIGN_OR_RETURN(auto a, parseListenerActions(p["Actions"], "Actions"));
    actions = a;
  }
  Json out;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findRule(tx, arn));
    model::Listener& l = found.listener;
    if (actions) {
      TIDE_RETURN_IF_ERROR(checkForwardTargets(tx, l.loadBalancerArn, *actions));
    }
    if (found.index < 0) {
      if (conditions) {
        return Status("OperationNotPermitted", "The default rule has no conditions to modify");
      }
      if (actions) {
        l.defaultActions = *actions;
      }
      out = defaultRuleJson(l);
    } else {
      model::Rule& r = l.rules[found.index];
      if (conditions) {
        r.conditions = *conditions;
      }
      if (actions) {
        r.actions = *actions;
      }
      out = ruleJson(r);
    }
    return tx.putListener(l);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Rules", Json::array({out})}};
}

Result<Json> deleteRule(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"RuleArn"}));
  TIDE_ASSIGN_OR_RETURN(auto arn, reqString(p, "RuleArn"));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findRule(tx, arn));
    if (found.index < 0) {
      return Status("OperationNotPermitted",
                    "The default rule cannot be deleted: delete the listener, or change its "
                    "DefaultActions with ModifyListener");
    }
    model::Listener& l = found.listener;
    l.rules.erase(l.rules.begin() + found.index);
    return tx.putListener(l);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> describeRules(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ListenerArn", "RuleArns", "Marker", "PageSize"}));
  auto listenerArn = optString(p, "ListenerArn");
  auto arns = optStringList(p, "RuleArns");
  TIDE_RETURN_IF_ERROR(firstError({&listenerArn.status(), &arns.status()}));
  if (listenerArn->has_value() == !arns->empty()) {
    return validationError("Give ListenerArn or RuleArns (one of them)");
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        if (listenerArn->has_value()) {
          TIDE_ASSIGN_OR_RETURN(auto l, findListener(tx, **listenerArn));
          out = rulesJson(l);
          return Status::ok();
        }
        TIDE_ASSIGN_OR_RETURN(auto all, tx.listeners());
        for (const auto& arn : *arns) {
          TIDE_ASSIGN_OR_RETURN(auto found, findRule(all, arn));
          out.push_back(found.index < 0 ? defaultRuleJson(found.listener)
                                        : ruleJson(found.listener.rules[found.index]));
        }
        return Status::ok();
      },
      false));
  return Json{{"Rules", out}};
}

Result<Json> setRulePriorities(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"RulePriorities"}));
  if (!p.contains("RulePriorities") || !p["RulePriorities"].is_array() ||
      p["RulePriorities"].empty()) {
    return validationError("RulePriorities must be a list of {RuleArn, Priority}");
  }
  std::vector<std::pair<std::string, int>> wanted;
  for (const Json& e : p["RulePriorities"]) {
    if (!e.is_object()) {
      return validationError("RulePriorities must be a list of {RuleArn, Priority}");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(e, {"RuleArn", "Priority"}));
    auto arn = reqString(e, "RuleArn");
    auto priority = parsePriority(e);
    TIDE_RETURN_IF_ERROR(firstError({&arn.status(), &priority.status()}));
    for (const auto& [a, _] : wanted) {
      if (a == *arn) {
        return validationError("Rule '" + *arn + "' is given twice");
      }
    }
    wanted.emplace_back(*arn, *priority);
  }
  Json out = Json::array();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    auto all = tx.listeners();
    TIDE_RETURN_IF_ERROR(all.status());
    std::map<std::string, model::Listener> changed; // by ListenerArn
    for (const auto& [arn, priority] : wanted) {
      TIDE_ASSIGN_OR_RETURN(auto found, findRule(*all, arn));
      if (found.index < 0) {
        return Status("OperationNotPermitted", "The default rule's priority cannot be set");
      }
      auto it = changed.emplace(found.listener.listenerArn, found.listener).first;
      it->second.rules[found.index].priority = priority;
    }
    // All or nothing: every listener's priorities must be unique once all are applied.
    for (const auto& [arn, l] : changed) {
      std::map<int, std::string> seen;
      for (const auto& r : l.rules) {
        auto [at, fresh] = seen.emplace(r.priority, r.ruleArn);
        if (!fresh) {
          return Status("PriorityInUse", "Priority " + std::to_string(r.priority) +
                                             " would be held by both " + at->second + " and " +
                                             r.ruleArn);
        }
      }
    }
    for (const auto& [arn, l] : changed) {
      TIDE_RETURN_IF_ERROR(tx.putListener(l));
    }
    for (const auto& [arn, priority] : wanted) {
      for (const auto& [larn, l] : changed) {
        for (const auto& r : l.rules) {
          if (r.ruleArn == arn) {
            out.push_back(ruleJson(r));
          }
        }
      }
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Rules", out}};
}

Result<Json> modifyListener(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"ListenerArn", "Port", "Protocol", "DefaultActions",
                                            "SslPolicy", "Certificates", "AlpnPolicy"}));
  auto arn = reqString(p, "ListenerArn");
  auto port = optInt(p, "Port");
  auto protocol = optString(p, "Protocol");
  TIDE_RETURN_IF_ERROR(firstError({&arn.status(), &port.status(), &protocol.status()}));
  if (port->has_value() && (**port < 1 || **port > 65535)) {
    return validationError("Port must be 1 to 65535");
  }
  std::optional<std::vector<model::ListenerAction>> actions;
  if (p.contains("DefaultActions")) {
    TIDE_ASSIGN_OR_RETURN(auto a, parseListenerActions(p["DefaultActions"]));
    actions = a;
  }
  model::Listener l;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto found, findListener(tx, *arn));
    l = std::move(found);
    TIDE_RETURN_IF_ERROR(applyListenerTls(tx, p, l)); // HTTPS: SslPolicy, Certificates
    if (port->has_value() && **port != l.port) {
      TIDE_ASSIGN_OR_RETURN(auto lb, tx.loadBalancer(l.loadBalancerArn));
      if (lb.has_value()) {
        TIDE_RETURN_IF_ERROR(checkListenerPort(ctx, tx, *lb, static_cast<int>(**port)));
      }
      l.port = static_cast<int>(**port);
    }
    if (actions) {
      TIDE_RETURN_IF_ERROR(checkForwardTargets(tx, l.loadBalancerArn, *actions));
      l.defaultActions = *actions;
    }
    return tx.putListener(l);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Listeners", Json::array({listenerJson(l)})}};
}

} // namespace tide::api
