// Auto Scaling lifecycle hooks (issue 11, item 4): Put/Delete/DescribeLifecycleHooks,
// DescribeLifecycleHookTypes, CompleteLifecycleAction, RecordLifecycleActionHeartbeat, and
// CreateAutoScalingGroup's LifecycleHookSpecificationList. Hooks and the actions of instances
// they hold live in the group's document (operations/lifecycle_hooks.h); these handlers check
// the request, then change the group in one transaction (bad input changes nothing). An answer
// is only recorded here: the group controller moves the instance on in its next pass.
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "model/names.h"
#include "operations/lifecycle_hooks.h"

#include <algorithm>

namespace tide::api {

namespace {

using model::AutoScalingGroup;
using model::LifecycleHook;

// What a request says of a hook (PutLifecycleHook's parameters, or one
// LifecycleHookSpecification); unset: not given.
struct HookRequest {
  std::string name;
  std::optional<model::LifecycleTransition> transition;
  std::optional<std::string> notificationTargetArn, roleArn, notificationMetadata;
  std::optional<int> heartbeatTimeout;
  std::optional<model::LifecycleActionResult> defaultResult;
};

Status checkHookName(const std::string& name) {
  if (name.empty() || name.size() > 255 ||
      name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/") !=
          std::string::npos) {
    return validationError("LifecycleHookName must be 1 to 255 characters of letters, digits, "
                           "'-', '_' and '/', not '" +
                           name + "'");
  }
  return Status::ok();
}

Result<std::optional<model::LifecycleActionResult>> optResult(const Json& p, const char* name) {
  TIDE_ASSIGN_OR_RETURN(auto v, optString(p, name));
  if (!v) {
    return std::optional<model::LifecycleActionResult>();
  }
  auto r = model::parseLifecycleActionResult(*v);
  if (!r) {
    return validationError(std::string(name) + " must be CONTINUE or ABANDON, not '" + *v + "'");
  }
  return std::optional<model::LifecycleActionResult>(*r);
}

Result<HookRequest> readHook(const Json& p) {
  HookRequest h;
  auto name = reqString(p, "LifecycleHookName");
  auto transition = optString(p, "LifecycleTransition");
  auto target = optString(p, "NotificationTargetARN");
  auto role = optString(p, "RoleARN");
  auto metadata = optString(p, "NotificationMetadata");
  auto heartbeat = optInt(p, "HeartbeatTimeout");
  auto result = optResult(p, "DefaultResult");
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &transition.status(), &target.status(), &role.status(),
                  &metadata.status(), &heartbeat.status(), &result.status()}));
  TIDE_RETURN_IF_ERROR(checkHookName(*name));
  h.name = *name;
  if (*transition) {
    h.transition = model::parseLifecycleTransition(**transition);
    if (!h.transition) {
      return validationError("Invalid Lifecycle Transition: '" + **transition +
                             "' (autoscaling:EC2_INSTANCE_LAUNCHING or "
                             "autoscaling:EC2_INSTANCE_TERMINATING)");
    }
  }
  if (*heartbeat) {
    if (**heartbeat < operations::kMinHeartbeatTimeout ||
        **heartbeat > operations::kMaxHeartbeatTimeout) {
      return validationError("HeartbeatTimeout must be between " +
                             std::to_string(operations::kMinHeartbeatTimeout) + " and " +
                             std::to_string(operations::kMaxHeartbeatTimeout) + " seconds, not " +
                             std::to_string(**heartbeat));
    }
    h.heartbeatTimeout = static_cast<int>(**heartbeat);
  }
  if (*metadata && (*metadata)->size() > 1023) {
    return validationError("NotificationMetadata must be at most 1023 characters long");
  }
  if ((*target && (*target)->size() > 1600) || (*role && (*role)->size() > 255)) {
    return validationError("NotificationTargetARN must be at most 1600 and RoleARN at most 255 "
                           "characters long");
  }
  h.notificationTargetArn = *target;
  h.roleArn = *role;
  h.notificationMetadata = *metadata;
  h.defaultResult = *result;
  return h;
}

// Puts (adds, or updates by name) the hook in the group. A new hook needs its transition;
// an update changes what the request gives. LimitExceeded past 50 hooks.
Status putHook(AutoScalingGroup& g, const HookRequest& r) {
  auto it = std::find_if(g.lifecycleHooks.begin(), g.lifecycleHooks.end(),
                         [&](const LifecycleHook& h) { return h.lifecycleHookName == r.name; });
  LifecycleHook h;
  if (it != g.lifecycleHooks.end()) {
    h = *it;
  } else {
    if (!r.transition) {
      return validationError("LifecycleTransition is required when creating a lifecycle hook");
    }
    if (g.lifecycleHooks.size() >= operations::kMaxLifecycleHooksPerGroup) {
      return Status("LimitExceeded", "Maximum number of lifecycle hooks (" +
                                         std::to_string(operations::kMaxLifecycleHooksPerGroup) +
                                         ") reached for AutoScalingGroup '" +
                                         g.autoScalingGroupName + "'");
    }
    h.lifecycleHookName = r.name;
  }
  h.lifecycleTransition = r.transition.value_or(h.lifecycleTransition);
  h.notificationTargetArn = r.notificationTargetArn.value_or(h.notificationTargetArn);
  h.roleArn = r.roleArn.value_or(h.roleArn);
  h.notificationMetadata = r.notificationMetadata.value_or(h.notificationMetadata);
  h.heartbeatTimeout = r.heartbeatTimeout.value_or(h.heartbeatTimeout);
  h.defaultResult = r.defaultResult.value_or(h.defaultResult);
  if (it != g.lifecycleHooks.end()) {
    *it = std::move(h);
  } else {
    g.lifecycleHooks.push_back(std::move(h));
  }
  return Status::ok();
}

Json hookJson(const AutoScalingGroup& g, const LifecycleHook& h) {
  Json j{
      {"LifecycleHookName", h.lifecycleHookName},
      {"AutoScalingGroupName", g.autoScalingGroupName},
      {"LifecycleTransition", std::string(model::lifecycleTransitionName(h.lifecycleTransition))},
      {"HeartbeatTimeout", h.heartbeatTimeout},
      {"GlobalTimeout", operations::globalTimeoutSeconds(h.heartbeatTimeout)},
      {"DefaultResult", std::string(model::lifecycleActionResultName(h.defaultResult))}};
  if (!h.notificationTargetArn.empty()) {
    j["NotificationTargetARN"] = h.notificationTargetArn;
  }
  if (!h.roleArn.empty()) {
    j["RoleARN"] = h.roleArn;
  }
  if (!h.notificationMetadata.empty()) {
    j["NotificationMetadata"] = h.notificationMetadata;
  }
  return j;
}

// The action a CompleteLifecycleAction or RecordLifecycleActionHeartbeat request names.
struct ActionRequest {
  std::string group, hook, token, instanceId;
};

Result<ActionRequest> readActionRequest(const Json& p) {
  auto group = reqString(p, "AutoScalingGroupName");
  auto hook = reqString(p, "LifecycleHookName");
  auto token = optString(p, "LifecycleActionToken");
  auto instance = optString(p, "InstanceId");
  TIDE_RETURN_IF_ERROR(
      firstError({&group.status(), &hook.status(), &token.status(), &instance.status()}));
  ActionRequest r{*group, *hook, token->value_or(""), instance->value_or("")};
  if (!r.token.empty() && r.token.size() != 36) {
    return validationError("LifecycleActionToken must be 36 characters long");
  }
  if (r.instanceId.size() > 19) {
    return validationError("InstanceId must be at most 19 characters long");
  }
  return r;
}

} // namespace

Status readLifecycleHookSpecifications(const Json& p, AutoScalingGroup& g) {
  auto it = p.find("LifecycleHookSpecificationList");
  if (it == p.end() || it->is_null()) {
    return Status::ok();
  }
  if (!it->is_array()) {
    return validationError("LifecycleHookSpecificationList must be a list");
  }
  for (const Json& item : *it) {
    if (!item.is_object()) {
      return validationError("Each LifecycleHookSpecification must be a structure");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(
        item, {"LifecycleHookName", "LifecycleTransition", "NotificationMetadata",
               "HeartbeatTimeout", "DefaultResult", "NotificationTargetARN", "RoleARN"}));
    TIDE_ASSIGN_OR_RETURN(auto h, readHook(item));
    if (!h.transition) {
      return validationError("The parameter LifecycleTransition is required in each "
                             "LifecycleHookSpecification");
    }
    if (operations::findLifecycleHook(g, h.name) != nullptr) {
      return validationError("Duplicate lifecycle hook name '" + h.name + "'");
    }
    TIDE_RETURN_IF_ERROR(putHook(g, h));
  }
  return Status::ok();
}

Result<Json> putLifecycleHook(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"LifecycleHookName", "AutoScalingGroupName", "LifecycleTransition", "RoleARN",
          "NotificationTargetARN", "NotificationMetadata", "HeartbeatTimeout", "DefaultResult"}));
  auto group = reqString(p, "AutoScalingGroupName");
  TIDE_RETURN_IF_ERROR(group.status());
  TIDE_ASSIGN_OR_RETURN(auto h, readHook(p));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    TIDE_RETURN_IF_ERROR(putHook(g, h));
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

// As AWS: the hook's outstanding actions are completed first, ABANDON for launching instances
// and CONTINUE for terminating ones.
Result<Json> deleteLifecycleHook(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"LifecycleHookName", "AutoScalingGroupName"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto name = reqString(p, "LifecycleHookName");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &name.status()}));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    auto n = std::erase_if(g.lifecycleHooks,
                           [&](const LifecycleHook& h) { return h.lifecycleHookName == *name; });
    if (n == 0) {
      return validationError("No Lifecycle Hook found with name " + *name +
                             " for AutoScalingGroup " + *group);
    }
    for (auto& a : g.lifecycleActions) {
      if (a.lifecycleHookName == *name && !a.result) {
        a.result = a.lifecycleTransition == model::LifecycleTransition::Launching
                       ? model::LifecycleActionResult::Abandon
                       : model::LifecycleActionResult::Continue;
      }
    }
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> describeLifecycleHooks(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "LifecycleHookNames"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto names = optStringList(p, "LifecycleHookNames");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &names.status()}));
  if (names->size() > 50) {
    return validationError("The number of LifecycleHookNames must be at most 50");
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, *group));
        for (const auto& h : g.lifecycleHooks) {
          if (names->empty() ||
              std::find(names->begin(), names->end(), h.lifecycleHookName) != names->end()) {
            out.push_back(hookJson(g, h));
          }
        }
        return Status::ok();
      },
      false));
  return Json{{"LifecycleHooks", out}};
}

Result<Json> describeLifecycleHookTypes(ActionContext&, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {}));
  Json types = Json::array();
  for (auto t : {model::LifecycleTransition::Launching, model::LifecycleTransition::Terminating}) {
    types.push_back(std::string(model::lifecycleTransitionName(t)));
  }
  return Json{{"LifecycleHookTypes", types}};
}

Result<Json> completeLifecycleAction(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"LifecycleHookName", "AutoScalingGroupName", "LifecycleActionToken",
                           "LifecycleActionResult", "InstanceId"}));
  TIDE_ASSIGN_OR_RETURN(auto r, readActionRequest(p));
  TIDE_ASSIGN_OR_RETURN(auto result, optResult(p, "LifecycleActionResult"));
  if (!result) {
    return validationError("The parameter LifecycleActionResult is required");
  }
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, r.group));
    TIDE_ASSIGN_OR_RETURN(auto* a,
                          operations::findLifecycleAction(g, r.hook, r.token, r.instanceId));
    a->result = *result;
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> recordLifecycleActionHeartbeat(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"LifecycleHookName", "AutoScalingGroupName", "LifecycleActionToken", "InstanceId"}));
  TIDE_ASSIGN_OR_RETURN(auto r, readActionRequest(p));
  TimeMs now = ctx.clock.now();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, r.group));
    TIDE_ASSIGN_OR_RETURN(auto* a,
                          operations::findLifecycleAction(g, r.hook, r.token, r.instanceId));
    operations::recordHeartbeat(*a, now);
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

} // namespace tide::api
