// Auto Scaling's instance refresh (issue 11, item 3): StartInstanceRefresh,
// CancelInstanceRefresh, RollbackInstanceRefresh and DescribeInstanceRefreshes. The refresh is
// kept in its group (operations/instance_refresh.h); these check the request and change the
// group in one transaction, and the group controller carries the refresh out.
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "common/ids.h"
#include "operations/instance_refresh.h"
#include "operations/launch.h"

namespace tide::api {

namespace {

using model::InstanceRefresh;
using model::RefreshPreferences;

Result<std::optional<int>> optIntIn(const Json& p, const char* name, const char* where) {
  auto v = optInt(p, name);
  if (!v) {
    return v.status();
  }
  if (!v->has_value()) {
    return std::optional<int>();
  }
  if (**v < -2147483648LL || **v > 2147483647LL) {
    return validationError(std::string(where) + "." + name + " is out of range");
  }
  return std::optional<int>(static_cast<int>(**v));
}

Result<RefreshPreferences> readPreferences(const Json& p) {
  RefreshPreferences out;
  auto it = p.find("Preferences");
  if (it == p.end() || it->is_null()) {
    return out;
  }
  if (!it->is_object()) {
    return validationError("Preferences must be a structure");
  }
  const Json& q = *it;
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      q, {"MinHealthyPercentage", "MaxHealthyPercentage", "InstanceWarmup", "CheckpointPercentages",
          "CheckpointDelay", "SkipMatching", "AutoRollback", "ScaleInProtectedInstances",
          "StandbyInstances", "AlarmSpecification", "BakeTime"}));
  auto minHealthy = optIntIn(q, "MinHealthyPercentage", "Preferences");
  auto maxHealthy = optIntIn(q, "MaxHealthyPercentage", "Preferences");
  auto warmup = optIntIn(q, "InstanceWarmup", "Preferences");
  auto delay = optIntIn(q, "CheckpointDelay", "Preferences");
  auto bake = optIntIn(q, "BakeTime", "Preferences");
  auto skip = optBool(q, "SkipMatching");
  auto rollback = optBool(q, "AutoRollback");
  auto prot = optString(q, "ScaleInProtectedInstances");
  auto standby = optString(q, "StandbyInstances");
  TIDE_RETURN_IF_ERROR(firstError({&minHealthy.status(), &maxHealthy.status(), &warmup.status(),
                                   &delay.status(), &bake.status(), &skip.status(),
                                   &rollback.status(), &prot.status(), &standby.status()}));
  out.minHealthyPercentage = minHealthy->value_or(out.minHealthyPercentage);
  out.maxHealthyPercentage = maxHealthy->value_or(out.maxHealthyPercentage);
  out.instanceWarmup = *warmup;
  out.checkpointDelay = *delay;
  out.skipMatching = skip->value_or(false);
  out.autoRollback = rollback->value_or(false);
  if (bake->value_or(0) != 0) {
    return validationError("BakeTime is not supported by tide: it must be 0");
  }
  if (prot->has_value()) {
    auto v = model::parseScaleInProtectedInstances(**prot);
    if (!v) {
      return validationError("Preferences.ScaleInProtectedInstances must be one of Refresh, "
                             "Ignore, Wait");
    }
    out.scaleInProtectedInstances = *v;
  }
  if (standby->has_value()) {
    auto v = model::parseStandbyInstances(**standby);
    if (!v) {
      return validationError("Preferences.StandbyInstances must be one of Terminate, Ignore, "
                             "Wait");
    }
    out.standbyInstances = *v;
  }
  if (auto c = q.find("CheckpointPercentages"); c != q.end() && !c->is_null()) {
    if (!c->is_array()) {
      return validationError("Preferences.CheckpointPercentages must be a list of integers");
    }
    for (const Json& v : *c) {
      if (!v.is_number_integer()) {
        return validationError("Preferences.CheckpointPercentages must be a list of integers");
      }
      out.checkpointPercentages.push_back(v.get<int>());
    }
  }
  if (auto a = q.find("AlarmSpecification"); a != q.end() && !a->is_null()) {
    if (!a->is_object()) {
      return validationError("Preferences.AlarmSpecification must be a structure");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(*a, {"Alarms"}));
    TIDE_ASSIGN_OR_RETURN(out.alarms, optStringList(*a, "Alarms"));
  }
  return out;
}

// DesiredConfiguration {LaunchTemplate {LaunchTemplateId | LaunchTemplateName, Version}}.
Result<std::optional<model::RefreshLaunchTemplate>> readDesired(store::Tx& tx, const Json& p) {
  auto it = p.find("DesiredConfiguration");
  if (it == p.end() || it->is_null()) {
    return std::optional<model::RefreshLaunchTemplate>();
  }
  if (!it->is_object()) {
    return validationError("DesiredConfiguration must be a structure");
  }
  TIDE_RETURN_IF_ERROR(checkKnownParams(*it, {"LaunchTemplate", "MixedInstancesPolicy"}));
  if (it->contains("MixedInstancesPolicy")) {
    return validationError("DesiredConfiguration.MixedInstancesPolicy is not supported by tide: "
                           "use LaunchTemplate");
  }
  auto lt = it->find("LaunchTemplate");
  if (lt == it->end() || !lt->is_object()) {
    return validationError("DesiredConfiguration must specify a LaunchTemplate");
  }
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(*lt, {"LaunchTemplateId", "LaunchTemplateName", "Version"}));
  auto id = optString(*lt, "LaunchTemplateId");
  auto name = optString(*lt, "LaunchTemplateName");
  auto version = optString(*lt, "Version");
  TIDE_RETURN_IF_ERROR(firstError({&id.status(), &name.status(), &version.status()}));
  if (id->has_value() == name->has_value()) {
    return validationError("Valid requests must contain either LaunchTemplateId or "
                           "LaunchTemplateName");
  }
  std::string v = version->value_or("$Default");
  auto r = operations::resolveLaunchTemplate(tx, id->value_or(""), name->value_or(""), v);
  if (!r) {
    return validationError("You must use a valid fully-formed launch template. " +
                           r.status().message());
  }
  return std::optional<model::RefreshLaunchTemplate>(model::RefreshLaunchTemplate{
      r->launchTemplate.launchTemplateId, r->launchTemplate.launchTemplateName, v});
}

Json launchTemplateJson(const model::RefreshLaunchTemplate& t) {
  return Json{{"LaunchTemplateId", t.launchTemplateId},
              {"LaunchTemplateName", t.launchTemplateName},
              {"Version", t.version}};
}

Json preferencesJson(const RefreshPreferences& p) {
  Json j{{"MinHealthyPercentage", p.minHealthyPercentage},
         {"MaxHealthyPercentage", p.maxHealthyPercentage},
         {"CheckpointPercentages", p.checkpointPercentages},
         {"SkipMatching", p.skipMatching},
         {"AutoRollback", p.autoRollback},
         {"ScaleInProtectedInstances",
          model::scaleInProtectedInstancesName(p.scaleInProtectedInstances)},
         {"StandbyInstances", std::string(model::standbyInstancesName(p.standbyInstances))}};
  if (p.instanceWarmup) {
    j["InstanceWarmup"] = *p.instanceWarmup;
  }
  if (p.checkpointDelay) {
    j["CheckpointDelay"] = *p.checkpointDelay;
  } else if (!p.checkpointPercentages.empty()) {
    j["CheckpointDelay"] = 3600;
  }
  if (!p.alarms.empty()) {
    j["AlarmSpecification"] = Json{{"Alarms", p.alarms}};
  }
  return j;
}

Json progressJson(int percentage, int toUpdate) {
  return Json{
      {"LivePoolProgress", {{"PercentageComplete", percentage}, {"InstancesToUpdate", toUpdate}}}};
}

Json refreshJson(const std::string& group, const InstanceRefresh& r) {
  Json j{{"InstanceRefreshId", r.instanceRefreshId},
         {"AutoScalingGroupName", group},
         {"Status", std::string(model::instanceRefreshStatusName(r.status))},
         {"StartTime", formatIso8601(r.startTime)},
         {"PercentageComplete", r.percentageComplete},
         {"InstancesToUpdate", r.instancesToUpdate},
         {"ProgressDetails", progressJson(r.percentageComplete, r.instancesToUpdate)},
         {"Preferences", preferencesJson(r.preferences)},
         {"Strategy", r.strategy}};
  if (!r.statusReason.empty()) {
    j["StatusReason"] = r.statusReason;
  }
  if (r.endTime != 0) {
    j["EndTime"] = formatIso8601(r.endTime);
  }
  if (r.desiredConfiguration) {
    j["DesiredConfiguration"] =
        Json{{"LaunchTemplate", launchTemplateJson(*r.desiredConfiguration)}};
  }
  if (r.rollbackStartTime != 0) {
    j["RollbackDetails"] =
        Json{{"RollbackReason", r.rollbackReason},
             {"RollbackStartTime", formatIso8601(r.rollbackStartTime)},
             {"PercentageCompleteOnRollback", r.percentageCompleteOnRollback},
             {"InstancesToUpdateOnRollback", r.instancesToUpdateOnRollback},
             {"ProgressDetailsOnRollback",
              progressJson(r.percentageCompleteOnRollback, r.instancesToUpdateOnRollback)}};
  }
  return j;
}

} // namespace

Result<Json> startInstanceRefresh(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"AutoScalingGroupName", "Strategy", "DesiredConfiguration", "Preferences"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto strategy = optString(p, "Strategy");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &strategy.status()}));
  if (strategy->value_or("Rolling") != "Rolling") {
    return validationError("Strategy " + **strategy +
                           " is not supported by tide: the only strategy is Rolling");
  }
  TIDE_ASSIGN_OR_RETURN(auto prefs, readPreferences(p));
  std::string id;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    TIDE_ASSIGN_OR_RETURN(auto desired, readDesired(tx, p));
    TIDE_RETURN_IF_ERROR(
        operations::checkRefreshPreferences(prefs, desired.has_value(), g.launchTemplateVersion));
    for (const std::string& name : prefs.alarms) {
      TIDE_ASSIGN_OR_RETURN(auto alarm, tx.alarm(name));
      if (!alarm.has_value()) {
        return validationError("The alarm " + name +
                               " specified in AlarmSpecification does "
                               "not exist");
      }
    }
    TIDE_ASSIGN_OR_RETURN(auto instances, tx.instances());
    InstanceRefresh r;
    r.instanceRefreshId = newUuid();
    r.preferences = prefs;
    r.desiredConfiguration = desired;
    id = r.instanceRefreshId;
    TIDE_RETURN_IF_ERROR(
        operations::startInstanceRefresh(tx, g, instances, std::move(r), ctx.clock.now()));
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"InstanceRefreshId", id}};
}

Result<Json> cancelInstanceRefresh(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AutoScalingGroupName", "WaitForTransitioningInstances"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto wait = optBool(p, "WaitForTransitioningInstances");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &wait.status()}));
  std::string id;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, *group));
    TIDE_ASSIGN_OR_RETURN(id, operations::cancelInstanceRefresh(g));
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"InstanceRefreshId", id}};
}

Result<Json> rollbackInstanceRefresh(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName"}));
  TIDE_ASSIGN_OR_RETURN(auto group, reqString(p, "AutoScalingGroupName"));
  std::string id;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, group));
    TIDE_ASSIGN_OR_RETURN(auto instances, tx.instances());
    TIDE_ASSIGN_OR_RETURN(id, operations::rollbackInstanceRefresh(
                                  tx, g, instances, "Rollback requested by user", ctx.clock.now()));
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"InstanceRefreshId", id}};
}

// Newest first. The dispatcher pages the list by the model's paginator (MaxRecords, NextToken).
Result<Json> describeInstanceRefreshes(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"AutoScalingGroupName", "InstanceRefreshIds", "NextToken", "MaxRecords"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto ids = optStringList(p, "InstanceRefreshIds");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &ids.status()}));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, *group));
        for (const auto& r : g.instanceRefreshes) {
          if (!ids->empty() &&
              std::find(ids->begin(), ids->end(), r.instanceRefreshId) == ids->end()) {
            continue;
          }
          out.push_back(refreshJson(g.autoScalingGroupName, r));
        }
        return Status::ok();
      },
      false));
  return Json{{"InstanceRefreshes", out}};
}

} // namespace tide::api
