// Auto Scaling actions: CreateAutoScalingGroup, UpdateAutoScalingGroup,
// DescribeAutoScalingGroups, DeleteAutoScalingGroup, SetDesiredCapacity,
// TerminateInstanceInAutoScalingGroup, DescribeAutoScalingInstances, DescribeScalingActivities,
// PutScalingPolicy, DescribePolicies, DeletePolicy, ExecutePolicy.
//
// These record what the user wants (the group's spec, its desired capacity, an instance to take
// out of service) with an activity whose Cause says so; the Auto Scaling group controller
// (control/auto_scaling_controller.h) launches, registers, drains and terminates.
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "api/predictive_scaling_shapes.h"
#include "api/target_tracking_shapes.h"
#include "common/ids.h"
#include "model/names.h"
#include "operations/launch.h"
#include "operations/predictive_scaling.h"
#include "operations/scaling_activity.h"
#include "operations/scaling_policy.h"
#include "operations/target_tracking.h"
#include "operations/termination_policy.h"

#include <algorithm>
#include <cmath>

namespace tide::api {

namespace {

using model::AutoScalingGroup;
using operations::causeTime;
using operations::changingDesired;

Result<std::vector<model::Instance>> members(store::Tx& tx, const std::string& group) {
  TIDE_ASSIGN_OR_RETURN(auto all, tx.instances());
  std::vector<model::Instance> out;
  for (auto& i : all) {
    if (isGroupMember(i, group)) {
      out.push_back(std::move(i));
    }
  }
  return out;
}

// An optional integer parameter within [lo, hi].
Result<std::optional<int>> optIntIn(const Json& p, const char* name, int64_t lo, int64_t hi) {
  TIDE_ASSIGN_OR_RETURN(auto v, optInt(p, name));
  if (!v.has_value()) {
    return std::optional<int>();
  }
  if (*v < lo || *v > hi) {
    return validationError(std::string(name) + " must be between " + std::to_string(lo) + " and " +
                           std::to_string(hi) + ", not " + std::to_string(*v));
  }
  return std::optional<int>(static_cast<int>(*v));
}

Status checkSizes(int min, int max, int desired) {
  if (max < min) {
    return validationError("Max bound, " + std::to_string(max) +
                           ", must be greater than or equal to min bound, " + std::to_string(min));
  }
  if (desired < min || desired > max) {
    return validationError("Desired capacity:" + std::to_string(desired) +
                           " must be between the specified min size:" + std::to_string(min) +
                           " and max size:" + std::to_string(max));
  }
  return Status::ok();
}

// LaunchTemplate {LaunchTemplateId | LaunchTemplateName, Version}: resolved now so that a bad
// template is refused at once; the group keeps the version as given ($Latest follows new ones).
Status readLaunchTemplate(store::Tx& tx, const Json& p, AutoScalingGroup& g) {
  auto it = p.find("LaunchTemplate");
  if (it == p.end() || it->is_null()) {
    return Status::ok();
  }
  if (!it->is_object()) {
    return validationError("LaunchTemplate must be {LaunchTemplateId | LaunchTemplateName, "
                           "Version}");
  }
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(*it, {"LaunchTemplateId", "LaunchTemplateName", "Version"}));
  auto id = optString(*it, "LaunchTemplateId");
  auto name = optString(*it, "LaunchTemplateName");
  auto version = optString(*it, "Version");
  TIDE_RETURN_IF_ERROR(firstError({&id.status(), &name.status(), &version.status()}));
  std::string v = version->value_or("$Default");
  auto r = operations::resolveLaunchTemplate(tx, id->value_or(""), name->value_or(""), v);
  if (!r) {
    return validationError("You must use a valid fully-formed launch template. " +
                           r.status().message());
  }
  g.launchTemplateId = r->launchTemplate.launchTemplateId;
  g.launchTemplateName = r->launchTemplate.launchTemplateName;
  g.launchTemplateVersion = v;
  return Status::ok();
}

Status readTargetGroups(store::Tx& tx, const Json& p, AutoScalingGroup& g) {
  if (!p.contains("TargetGroupARNs")) {
    return Status::ok();
  }
  TIDE_ASSIGN_OR_RETURN(auto arns, optStringList(p, "TargetGroupARNs"));
  std::vector<std::string> out;
  for (const auto& arn : arns) {
    TIDE_ASSIGN_OR_RETURN(auto tg, tx.targetGroup(arn));
    if (!tg.has_value()) {
      return validationError("Provided Target Groups may not be valid. Please ensure they exist "
                             "and try again. Target group not found: '" +
                             arn + "'");
    }
    if (std::find(out.begin(), out.end(), arn) == out.end()) {
      out.push_back(arn);
    }
  }
  g.targetGroupArns = out;
  return Status::ok();
}

// The settings CreateAutoScalingGroup and UpdateAutoScalingGroup share, onto g.
Status readSettings(const Json& p, AutoScalingGroup& g) {
  auto type = optString(p, "HealthCheckType");
  auto grace = optIntIn(p, "HealthCheckGracePeriod", 0, 7200);
  auto cooldown = optIntIn(p, "DefaultCooldown", 0, 86400);
  auto warmup = optIntIn(p, "DefaultInstanceWarmup", -1, 86400); // -1: unset it (as AWS)
  auto policies = optStringList(p, "TerminationPolicies");
  auto protect = optBool(p, "NewInstancesProtectedFromScaleIn");
  auto lifetime = optInt(p, "MaxInstanceLifetime");
  TIDE_RETURN_IF_ERROR(
      firstError({&type.status(), &grace.status(), &cooldown.status(), &warmup.status(),
                  &policies.status(), &protect.status(), &lifetime.status()}));
  if (warmup->has_value()) {
    g.defaultInstanceWarmup =
        **warmup < 0 ? std::nullopt : std::optional<int>(static_cast<int>(**warmup));
  }
  if (lifetime->has_value()) {
    // 0 clears it; otherwise at least a day and at most a year (AWS's bounds).
    if (**lifetime != 0 && (**lifetime < 86400 || **lifetime > 31536000)) {
      return validationError("The maximum instance lifetime must be equal to 0 or between 86400 "
                             "and 31536000 seconds, not " +
                             std::to_string(**lifetime));
    }
    g.maxInstanceLifetime = static_cast<int>(**lifetime);
  }
  g.newInstancesProtectedFromScaleIn = protect->value_or(g.newInstancesProtectedFromScaleIn);
  if (type->has_value()) {
    auto parsed = model::parseHealthCheckType(**type);
    if (!parsed) {
      return validationError("HealthCheckType must be EC2 or ELB, not '" + **type + "'");
    }
    g.healthCheckType = *parsed;
  }
  g.healthCheckGracePeriod = grace->value_or(g.healthCheckGracePeriod);
  g.defaultCooldown = cooldown->value_or(g.defaultCooldown);
  if (p.contains("TerminationPolicies")) {
    for (const auto& tp : *policies) {
      if (!operations::isTerminationPolicyType(tp)) {
        return validationError("Unknown termination policy '" + tp + "'");
      }
    }
    g.terminationPolicies = policies->empty() ? std::vector<std::string>{"Default"} : *policies;
  }
  return Status::ok();
}

Result<int> requiredSize(const Json& p, const char* name) {
  TIDE_ASSIGN_OR_RETURN(auto v, optIntIn(p, name, 0, 10000));
  if (!v.has_value()) {
    return validationError(std::string("The parameter ") + name + " is required");
  }
  return *v;
}

} // namespace

Result<Json> createAutoScalingGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"AutoScalingGroupName", "LaunchTemplate", "MinSize", "MaxSize", "DesiredCapacity",
          "TargetGroupARNs", "HealthCheckType", "HealthCheckGracePeriod", "DefaultCooldown",
          "DefaultInstanceWarmup", "TerminationPolicies", "Tags", "VPCZoneIdentifier",
          "AvailabilityZones", "NewInstancesProtectedFromScaleIn", "MaxInstanceLifetime",
          "LifecycleHookSpecificationList"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto min = requiredSize(p, "MinSize");
  auto max = requiredSize(p, "MaxSize");
  auto desired = optIntIn(p, "DesiredCapacity", 0, 10000);
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &min.status(), &max.status(), &desired.status()}));
  if (name->size() > 255 || name->find(':') != std::string::npos) {
    return validationError("AutoScalingGroupName must be 1 to 255 characters without ':'");
  }
  if (!p.contains("LaunchTemplate")) {
    return validationError("Valid requests must contain either LaunchTemplate, "
                           "LaunchConfigurationName, InstanceId or MixedInstancesPolicy "
                           "parameter (tide: LaunchTemplate)");
  }
  TIDE_ASSIGN_OR_RETURN(auto tags, parseGroupTags(p, &*name, false));
  AutoScalingGroup g;
  g.autoScalingGroupName = *name;
  g.minSize = *min;
  g.maxSize = *max;
  int want = desired->value_or(*min);
  TIDE_RETURN_IF_ERROR(checkSizes(*min, *max, want));
  TIDE_RETURN_IF_ERROR(readSettings(p, g));
  TIDE_RETURN_IF_ERROR(applyGroupTags(g, tags));
  TIDE_RETURN_IF_ERROR(readLifecycleHookSpecifications(p, g));
  TimeMs now = ctx.clock.now();
  g.createdTime = now;
  g.autoScalingGroupArn = autoScalingArn(
      ctx, "autoScalingGroup:" + newUuid() + ":autoScalingGroupName/" + g.autoScalingGroupName);
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto existing, tx.autoScalingGroup(g.autoScalingGroupName));
    if (existing.has_value()) {
      return Status("AlreadyExists", "AutoScalingGroup by this name already exists - A group "
                                     "with the name " +
                                         g.autoScalingGroupName + " already exists");
    }
    TIDE_RETURN_IF_ERROR(readLaunchTemplate(tx, p, g));
    TIDE_RETURN_IF_ERROR(readTargetGroups(tx, p, g));
    g.desiredCapacity = 0;
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    return operations::changeDesiredCapacity(
        tx, g, want,
        causeTime(now) + " a user request created an AutoScalingGroup " + changingDesired(0, want),
        now);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> updateAutoScalingGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"AutoScalingGroupName", "LaunchTemplate", "MinSize", "MaxSize", "DesiredCapacity",
          "TargetGroupARNs", "HealthCheckType", "HealthCheckGracePeriod", "DefaultCooldown",
          "DefaultInstanceWarmup", "TerminationPolicies", "VPCZoneIdentifier", "AvailabilityZones",
          "NewInstancesProtectedFromScaleIn", "MaxInstanceLifetime"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto min = optIntIn(p, "MinSize", 0, 10000);
  auto max = optIntIn(p, "MaxSize", 0, 10000);
  auto desired = optIntIn(p, "DesiredCapacity", 0, 10000);
  TIDE_RETURN_IF_ERROR(
      firstError({&name.status(), &min.status(), &max.status(), &desired.status()}));
  TimeMs now = ctx.clock.now();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    g.minSize = min->value_or(g.minSize);
    g.maxSize = max->value_or(g.maxSize);
    // A new MinSize above the capacity raises it; a new MaxSize below it lowers it (as AWS).
    int want =
        desired->value_or(std::clamp(g.desiredCapacity, g.minSize, std::max(g.minSize, g.maxSize)));
    TIDE_RETURN_IF_ERROR(checkSizes(g.minSize, g.maxSize, want));
    TIDE_RETURN_IF_ERROR(readSettings(p, g));
    TIDE_RETURN_IF_ERROR(readLaunchTemplate(tx, p, g));
    TIDE_RETURN_IF_ERROR(readTargetGroups(tx, p, g));
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    return operations::changeDesiredCapacity(
        tx, g, want,
        causeTime(now) + " a user request update of AutoScalingGroup constraints to min: " +
            std::to_string(g.minSize) + ", max: " + std::to_string(g.maxSize) +
            ", desired: " + std::to_string(want) + " " + changingDesired(g.desiredCapacity, want),
        now);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> describeAutoScalingGroups(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AutoScalingGroupNames", "MaxRecords", "NextToken", "Filters"}));
  auto names = optStringList(p, "AutoScalingGroupNames");
  auto maxRecords = optIntIn(p, "MaxRecords", 1, 100);
  TIDE_RETURN_IF_ERROR(firstError({&names.status(), &maxRecords.status()}));
  if (p.contains("Filters") && !p["Filters"].empty()) {
    return validationError("Filters are not supported yet; use AutoScalingGroupNames");
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        auto groups = tx.autoScalingGroups();
        auto instances = tx.instances();
        TIDE_RETURN_IF_ERROR(firstError({&groups.status(), &instances.status()}));
        for (const auto& g : *groups) {
          if (!names->empty() &&
              std::find(names->begin(), names->end(), g.autoScalingGroupName) == names->end()) {
            continue;
          }
          std::vector<model::Instance> in;
          for (const auto& i : *instances) {
            if (isGroupMember(i, g.autoScalingGroupName)) {
              in.push_back(i);
            }
          }
          out.push_back(autoScalingGroupJson(g, in, tideZone(ctx)));
        }
        return Status::ok();
      },
      false));
  return Json{{"AutoScalingGroups", out}};
}

Result<Json> deleteAutoScalingGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ForceDelete"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto force = optBool(p, "ForceDelete");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &force.status()}));
  TimeMs now = ctx.clock.now();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findGroup(tx, *name));
    if (g.deleting) {
      return Status::ok(); // already on its way
    }
    auto in = members(tx, *name);
    TIDE_RETURN_IF_ERROR(in.status());
    if (in->empty()) {
      TIDE_RETURN_IF_ERROR(operations::deleteGroupTrackingAlarms(tx, *name));
      return tx.deleteAutoScalingGroup(*name);
    }
    if (!force->value_or(false)) {
      return Status("ResourceInUse", "You cannot delete an AutoScalingGroup while there are "
                                     "instances or pending Spot instance request(s) still in "
                                     "the group.");
    }
    int before = g.desiredCapacity;
    g.deleting = true;
    g.minSize = 0;
    g.maxSize = 0;
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    return operations::changeDesiredCapacity(tx, g, 0,
                                             causeTime(now) +
                                                 " a user request deleted the AutoScalingGroup " +
                                                 changingDesired(before, 0),
                                             now);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> setDesiredCapacity(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AutoScalingGroupName", "DesiredCapacity", "HonorCooldown"}));
  auto name = reqString(p, "AutoScalingGroupName");
  auto desired = optInt(p, "DesiredCapacity");
  auto honor = optBool(p, "HonorCooldown");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &desired.status(), &honor.status()}));
  if (!desired->has_value()) {
    return validationError("The parameter DesiredCapacity is required");
  }
  int64_t want = **desired;
  TimeMs now = ctx.clock.now();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *name));
    if (want > g.maxSize) {
      return validationError("New SetDesiredCapacity value " + std::to_string(want) +
                             " is above max value " + std::to_string(g.maxSize) +
                             " for the AutoScalingGroup.");
    }
    if (want < g.minSize) {
      return validationError("New SetDesiredCapacity value " + std::to_string(want) +
                             " is below min value " + std::to_string(g.minSize) +
                             " for the AutoScalingGroup.");
    }
    if (honor->value_or(false) && now < g.cooldownUntil) {
      return Status("ScalingActivityInProgress",
                    "Scaling activity is in progress and blocks this action: the group is in "
                    "its cooldown for " +
                        std::to_string((g.cooldownUntil - now + 999) / 1000) + " more second(s)");
    }
    return operations::changeDesiredCapacity(
        tx, g, static_cast<int>(want),
        causeTime(now) + " a user request explicitly set group desired capacity " +
            changingDesired(g.desiredCapacity, static_cast<int>(want)),
        now);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> terminateInstanceInAutoScalingGroup(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"InstanceId", "ShouldDecrementDesiredCapacity"}));
  auto id = reqString(p, "InstanceId");
  auto decrement = optBool(p, "ShouldDecrementDesiredCapacity");
  TIDE_RETURN_IF_ERROR(firstError({&id.status(), &decrement.status()}));
  if (!decrement->has_value()) {
    return validationError("The parameter ShouldDecrementDesiredCapacity is required");
  }
  TimeMs now = ctx.clock.now();
  model::ScalingActivity activity;
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto inst, tx.instance(*id));
    if (!inst.has_value() || inst->autoScalingGroupName.empty() ||
        !isGroupMember(*inst, inst->autoScalingGroupName)) {
      return validationError("Instance Id not found - No managed instance found for instance "
                             "ID: " +
                             *id);
    }
    model::Instance i = std::move(*inst);
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, i.autoScalingGroupName));
    if (i.lifecycleState == model::LifecycleState::Terminating ||
        i.lifecycleState == model::LifecycleState::TerminatingWait ||
        i.lifecycleState == model::LifecycleState::TerminatingProceed) {
      return validationError("Instance " + i.instanceId + " is already terminating");
    }
    std::string cause = causeTime(now) + " instance " + i.instanceId +
                        " was taken out of service in response to a user request";
    if (**decrement) {
      if (g.desiredCapacity <= g.minSize) {
        return validationError(
            "Currently, desiredSize equals minSize (" + std::to_string(g.minSize) +
            "). Terminating instance without replacement will violate group's min size "
            "constraint. Either set shouldDecrementDesiredCapacity flag to false or lower "
            "group's min size.");
      }
      cause += ", shrinking the capacity from " + std::to_string(g.desiredCapacity) + " to " +
               std::to_string(g.desiredCapacity - 1);
      g.desiredCapacity -= 1;
      TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    }
    cause += ".";
    i.lifecycleState = model::LifecycleState::Terminating;
    TIDE_RETURN_IF_ERROR(tx.putInstance(i));
    activity = operations::newActivity(i.autoScalingGroupName, model::ActivityKind::Terminate,
                                       i.instanceId, "Terminating EC2 instance: " + i.instanceId,
                                       cause, now);
    return tx.putScalingActivity(activity);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"Activity", activityJson(activity, tideZone(ctx))}};
}

Result<Json> describeAutoScalingInstances(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"InstanceIds", "MaxRecords", "NextToken"}));
  TIDE_ASSIGN_OR_RETURN(auto ids, optStringList(p, "InstanceIds"));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto all, tx.instances());
        for (const auto& i : all) {
          if (i.autoScalingGroupName.empty() || !isGroupMember(i, i.autoScalingGroupName)) {
            continue;
          }
          if (!ids.empty() && std::find(ids.begin(), ids.end(), i.instanceId) == ids.end()) {
            continue;
          }
          out.push_back(autoScalingInstanceJson(i, tideZone(ctx)));
        }
        return Status::ok();
      },
      false));
  return Json{{"AutoScalingInstances", out}};
}

Result<Json> describeScalingActivities(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ActivityIds", "MaxRecords",
                                            "NextToken", "IncludeDeletedGroups"}));
  auto name = optString(p, "AutoScalingGroupName");
  auto ids = optStringList(p, "ActivityIds");
  auto maxRecords = optIntIn(p, "MaxRecords", 1, 100);
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &ids.status(), &maxRecords.status()}));
  int limit = maxRecords->value_or(100);
  std::vector<model::ScalingActivity> acts;
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        std::vector<std::string> groups;
        if (name->has_value()) {
          groups.push_back(**name);
        } else {
          TIDE_ASSIGN_OR_RETURN(auto all, tx.autoScalingGroups());
          for (const auto& g : all) {
            groups.push_back(g.autoScalingGroupName);
          }
        }
        for (const auto& g : groups) {
          // ActivityIds may name older ones than the newest MaxRecords.
          TIDE_ASSIGN_OR_RETURN(auto a, tx.scalingActivities(g, ids->empty() ? limit : 100000));
          for (auto& x : a) {
            if (ids->empty() || std::find(ids->begin(), ids->end(), x.activityId) != ids->end()) {
              acts.push_back(std::move(x));
            }
          }
        }
        return Status::ok();
      },
      false));
  std::stable_sort(acts.begin(), acts.end(),
                   [](const auto& a, const auto& b) { return a.startTime > b.startTime; });
  Json out = Json::array();
  for (size_t k = 0; k < acts.size() && k < static_cast<size_t>(limit); ++k) {
    out.push_back(activityJson(acts[k], tideZone(ctx)));
  }
  return Json{{"Activities", out}};
}

// ------------------------------------------------------------------------------ policies

namespace {

Result<std::optional<double>> optBound(const Json& step, const char* name) {
  auto v = optNumber(step, name);
  TIDE_RETURN_IF_ERROR(v.status());
  if (v->has_value() && !std::isfinite(**v)) {
    return validationError(std::string(name) + " must be a finite number");
  }
  return v;
}

Result<std::vector<model::StepAdjustment>> stepAdjustments(const Json& p) {
  std::vector<model::StepAdjustment> out;
  auto it = p.find("StepAdjustments");
  if (it == p.end() || it->is_null()) {
    return out;
  }
  if (!it->is_array()) {
    return validationError("StepAdjustments must be a list of {MetricIntervalLowerBound, "
                           "MetricIntervalUpperBound, ScalingAdjustment}");
  }
  for (const Json& s : *it) {
    if (!s.is_object()) {
      return validationError("StepAdjustments must be a list of {MetricIntervalLowerBound, "
                             "MetricIntervalUpperBound, ScalingAdjustment}");
    }
    TIDE_RETURN_IF_ERROR(checkKnownParams(
        s, {"MetricIntervalLowerBound", "MetricIntervalUpperBound", "ScalingAdjustment"}));
    auto lo = optBound(s, "MetricIntervalLowerBound");
    auto hi = optBound(s, "MetricIntervalUpperBound");
    auto adj = optIntIn(s, "ScalingAdjustment", -100000, 100000);
    TIDE_RETURN_IF_ERROR(firstError({&lo.status(), &hi.status(), &adj.status()}));
    if (!adj->has_value()) {
      return validationError("Each step adjustment needs a ScalingAdjustment");
    }
    out.push_back({*lo, *hi, **adj});
  }
  return out;
}

// A group's policy by name, or any policy by ARN.
Result<model::ScalingPolicy> findPolicy(store::Tx& tx, const std::string& group,
                                        const std::string& nameOrArn) {
  TIDE_ASSIGN_OR_RETURN(auto all, tx.scalingPolicies(nameOrArn.rfind("arn:", 0) == 0 ? "" : group));
  for (auto& p : all) {
    if (p.policyArn == nameOrArn ||
        (p.policyName == nameOrArn && p.autoScalingGroupName == group)) {
      return std::move(p);
    }
  }
  return validationError("Policy " + nameOrArn + " not found" +
                         (group.empty() ? "" : " in AutoScalingGroup " + group));
}

} // namespace

Result<Json> putScalingPolicy(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"AutoScalingGroupName", "PolicyName", "PolicyType", "AdjustmentType", "ScalingAdjustment",
          "Cooldown", "MinAdjustmentMagnitude", "StepAdjustments", "MetricAggregationType",
          "EstimatedInstanceWarmup", "Enabled", "TargetTrackingConfiguration",
          "PredictiveScalingConfiguration"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto name = reqString(p, "PolicyName");
  auto type = optString(p, "PolicyType");
  auto adjustmentType = optString(p, "AdjustmentType");
  auto adjustment = optIntIn(p, "ScalingAdjustment", -100000, 100000);
  auto cooldown = optIntIn(p, "Cooldown", 0, 86400);
  auto magnitude = optIntIn(p, "MinAdjustmentMagnitude", 1, 100000);
  auto aggregation = optString(p, "MetricAggregationType");
  auto warmup = optIntIn(p, "EstimatedInstanceWarmup", 0, 86400);
  auto enabled = optBool(p, "Enabled");
  auto steps = stepAdjustments(p);
  auto tracking = parseTargetTracking(p);
  auto predictive = parsePredictiveScaling(p);
  TIDE_RETURN_IF_ERROR(predictive.status());
  TIDE_RETURN_IF_ERROR(firstError(
      {&group.status(), &name.status(), &type.status(), &adjustmentType.status(),
       &adjustment.status(), &cooldown.status(), &magnitude.status(), &aggregation.status(),
       &warmup.status(), &enabled.status(), &steps.status(), &tracking.status()}));
  if (name->size() > 255 || name->find(':') != std::string::npos) {
    return validationError("PolicyName must be 1 to 255 characters without ':'");
  }
  model::ScalingPolicy policy;
  policy.autoScalingGroupName = *group;
  policy.policyName = *name;
  policy.policyType = type->value_or("SimpleScaling");
  policy.enabled = enabled->value_or(true);
  if (policy.policyType != "SimpleScaling" && policy.policyType != "StepScaling" &&
      policy.policyType != "TargetTrackingScaling" && policy.policyType != "PredictiveScaling") {
    return validationError("PolicyType '" + policy.policyType +
                           "' is not supported: use SimpleScaling, StepScaling, "
                           "TargetTrackingScaling or PredictiveScaling");
  }
  if (predictive->has_value() && policy.policyType != "PredictiveScaling") {
    return validationError("PredictiveScalingConfiguration is only valid for a policy of type "
                           "PredictiveScaling");
  }
  if (policy.policyType == "PredictiveScaling") {
    if (!predictive->has_value()) {
      return validationError("PredictiveScalingConfiguration is required for a policy of type "
                             "PredictiveScaling");
    }
    if (adjustmentType->has_value() || adjustment->has_value() || cooldown->has_value() ||
        magnitude->has_value() || !steps->empty() || aggregation->has_value() ||
        warmup->has_value() || tracking->has_value()) {
      return validationError("AdjustmentType, ScalingAdjustment, Cooldown, "
                             "MinAdjustmentMagnitude, StepAdjustments, MetricAggregationType, "
                             "EstimatedInstanceWarmup and TargetTrackingConfiguration are not "
                             "valid for a policy of type PredictiveScaling");
    }
    TIDE_RETURN_IF_ERROR(operations::validatePredictiveScaling(**predictive));
    policy.predictiveScaling = std::move(**predictive);
  } else if (policy.policyType == "TargetTrackingScaling") {
    if (!tracking->has_value()) {
      return validationError("TargetTrackingConfiguration is required for a policy of type "
                             "TargetTrackingScaling");
    }
    if (adjustmentType->has_value() || adjustment->has_value() || cooldown->has_value() ||
        magnitude->has_value() || !steps->empty() || aggregation->has_value()) {
      return validationError("AdjustmentType, ScalingAdjustment, Cooldown, "
                             "MinAdjustmentMagnitude, StepAdjustments and MetricAggregationType "
                             "are not valid for a policy of type TargetTrackingScaling");
    }
    TIDE_RETURN_IF_ERROR(
        operations::validateTargetTracking((*tracking)->config, (*tracking)->hasTarget));
    policy.targetTracking = (*tracking)->config;
    policy.estimatedInstanceWarmup = *warmup;
  } else if (tracking->has_value()) {
    return validationError("TargetTrackingConfiguration is only valid for a policy of type "
                           "TargetTrackingScaling");
  } else if (!adjustmentType->has_value()) {
    return validationError("AdjustmentType is required for " + policy.policyType + " policies");
  }
  if (policy.policyType != "TargetTrackingScaling" && policy.policyType != "PredictiveScaling" &&
      !operations::isAdjustmentType(**adjustmentType)) {
    return validationError("Invalid AdjustmentType '" + **adjustmentType +
                           "': use ChangeInCapacity, ExactCapacity or PercentChangeInCapacity");
  }
  policy.adjustmentType = adjustmentType->value_or("");
  if (magnitude->has_value() && policy.adjustmentType != "PercentChangeInCapacity") {
    return validationError("MinAdjustmentMagnitude is only valid with AdjustmentType "
                           "PercentChangeInCapacity");
  }
  policy.minAdjustmentMagnitude = *magnitude;
  if (policy.policyType == "SimpleScaling") {
    if (!adjustment->has_value()) {
      return validationError("ScalingAdjustment is required for SimpleScaling policies");
    }
    if (!steps->empty() || aggregation->has_value() || warmup->has_value()) {
      return validationError("StepAdjustments, MetricAggregationType and "
                             "EstimatedInstanceWarmup are only valid for StepScaling policies");
    }
    policy.scalingAdjustment = **adjustment;
    policy.cooldown = *cooldown;
  } else if (policy.policyType == "StepScaling") {
    if (adjustment->has_value() || cooldown->has_value()) {
      return validationError("ScalingAdjustment and Cooldown are only valid for SimpleScaling "
                             "policies; a StepScaling policy has StepAdjustments");
    }
    TIDE_RETURN_IF_ERROR(operations::validateStepAdjustments(*steps));
    std::string agg = aggregation->value_or("Average");
    if (agg != "Average" && agg != "Minimum" && agg != "Maximum") {
      return validationError("MetricAggregationType must be Average, Minimum or Maximum");
    }
    policy.stepAdjustments = *steps;
    policy.metricAggregationType = agg;
    policy.estimatedInstanceWarmup = *warmup;
  }
  Json alarms = Json::array();
  TimeMs now = ctx.clock.now();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    auto existing = findPolicy(tx, *group, *name);
    policy.policyArn =
        existing ? existing->policyArn
                 : autoScalingArn(ctx, "scalingPolicy:" + newUuid() + ":autoScalingGroupName/" +
                                           *group + ":policyName/" + *name);
    if (policy.predictiveScaling) {
      TIDE_RETURN_IF_ERROR(
          operations::checkPredictiveResourceLabels(tx, g, *policy.predictiveScaling));
    }
    if (policy.targetTracking) {
      TIDE_RETURN_IF_ERROR(operations::checkResourceLabel(tx, g, *policy.targetTracking));
      const model::ScalingPolicy* before =
          existing && existing->policyType == "TargetTrackingScaling" ? &*existing : nullptr;
      TIDE_RETURN_IF_ERROR(operations::putTrackingAlarms(tx, policy, before, now));
    }
    if (existing && !policy.targetTracking) {
      TIDE_RETURN_IF_ERROR(operations::deleteTrackingAlarms(tx, *existing));
    }
    TIDE_ASSIGN_OR_RETURN(auto all, tx.alarms());
    alarms = policyAlarmsJson(policy, all);
    return tx.putScalingPolicy(policy);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"PolicyARN", policy.policyArn}, {"Alarms", alarms}};
}

Result<Json> describePolicies(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(
      p, {"AutoScalingGroupName", "PolicyNames", "PolicyTypes", "MaxRecords", "NextToken"}));
  auto group = optString(p, "AutoScalingGroupName");
  auto names = optStringList(p, "PolicyNames");
  auto types = optStringList(p, "PolicyTypes");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &names.status(), &types.status()}));
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        auto policies = tx.scalingPolicies(group->value_or(""));
        auto alarms = tx.alarms();
        TIDE_RETURN_IF_ERROR(firstError({&policies.status(), &alarms.status()}));
        for (const auto& pol : *policies) {
          bool named = names->empty() ||
                       std::find(names->begin(), names->end(), pol.policyName) != names->end() ||
                       std::find(names->begin(), names->end(), pol.policyArn) != names->end();
          bool typed = types->empty() ||
                       std::find(types->begin(), types->end(), pol.policyType) != types->end();
          if (named && typed) {
            out.push_back(scalingPolicyJson(pol, *alarms));
          }
        }
        return Status::ok();
      },
      false));
  return Json{{"ScalingPolicies", out}};
}

Result<Json> deletePolicy(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "PolicyName"}));
  auto group = optString(p, "AutoScalingGroupName");
  auto name = reqString(p, "PolicyName");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &name.status()}));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto pol, findPolicy(tx, group->value_or(""), *name));
    TIDE_RETURN_IF_ERROR(operations::deleteTrackingAlarms(tx, pol));
    return tx.deleteScalingPolicy(pol.policyArn);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> executePolicy(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "PolicyName", "HonorCooldown",
                                            "MetricValue", "BreachThreshold"}));
  auto group = optString(p, "AutoScalingGroupName");
  auto name = reqString(p, "PolicyName");
  auto honor = optBool(p, "HonorCooldown");
  auto metric = optNumber(p, "MetricValue");
  auto threshold = optNumber(p, "BreachThreshold");
  TIDE_RETURN_IF_ERROR(firstError(
      {&group.status(), &name.status(), &honor.status(), &metric.status(), &threshold.status()}));
  TimeMs now = ctx.clock.now();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto pol, findPolicy(tx, group->value_or(""), *name));
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, pol.autoScalingGroupName));
    if (pol.policyType == "TargetTrackingScaling") {
      return validationError("ExecutePolicy is not supported for a policy of type "
                             "TargetTrackingScaling: its CloudWatch alarms execute it");
    }
    if (pol.policyType == "PredictiveScaling") {
      return validationError("ExecutePolicy is not supported for a policy of type "
                             "PredictiveScaling: its forecast scales the group");
    }
    if (pol.policyType == "StepScaling" && (!metric->has_value() || !threshold->has_value())) {
      return validationError("MetricValue and BreachThreshold are required to execute a "
                             "StepScaling policy");
    }
    operations::AlarmTrigger trigger;
    trigger.metricValue = *metric;
    trigger.threshold = *threshold;
    TIDE_ASSIGN_OR_RETURN(
        auto d, operations::applyScalingPolicy(tx, pol, trigger, now, honor->value_or(false)));
    if (d.outcome == operations::ScalingOutcome::CoolingDown) {
      return Status("ScalingActivityInProgress",
                    "Scaling activity is in progress and blocks this action: " + d.message);
    }
    if (d.outcome == operations::ScalingOutcome::NoStep) {
      return validationError(d.message);
    }
    return Status::ok();
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

} // namespace tide::api
