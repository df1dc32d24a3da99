// Auto Scaling's scheduled actions (issue 11, item 6): Put/BatchPut/Delete/BatchDelete and
// DescribeScheduledActions. An action is kept in its group (operations/scheduled_action.h says
// why); putting one checks it and sets its first run in the same transaction that stores it, so
// bad input changes nothing; the scheduled action controller runs it when it is due.
#include "api/auto_scaling_shapes.h"
#include "api/handlers.h"
#include "api/params.h"
#include "common/ids.h"
#include "operations/scheduled_action.h"

#include <algorithm>
#include <cmath>

namespace tide::api {

namespace {

using model::AutoScalingGroup;
using model::ScheduledUpdateGroupAction;

// A timestamp parameter: ISO 8601 or seconds since the epoch (0: absent).
Result<TimeMs> optTime(const Json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) {
    return TimeMs(0);
  }
  std::optional<TimeMs> t;
  if (it->is_number()) {
    t = static_cast<TimeMs>(std::llround(it->get<double>() * 1000));
  } else if (it->is_string()) {
    t = parseTimestamp(it->get<std::string>());
  }
  if (!t) {
    return validationError(std::string(name) + " must be an ISO 8601 time or seconds since the "
                                               "epoch");
  }
  return *t;
}

Result<std::optional<int>> optSize(const Json& p, const char* name) {
  TIDE_ASSIGN_OR_RETURN(auto v, optInt(p, name));
  if (!v) {
    return std::optional<int>();
  }
  if (*v < 0 || *v > 1'000'000) {
    return validationError(std::string(name) + " must be between 0 and 1000000, not " +
                           std::to_string(*v));
  }
  return std::optional<int>(static_cast<int>(*v));
}

// One action as a request gives it (PutScheduledUpdateGroupAction's parameters, or one of
// BatchPut's ScheduledUpdateGroupActions), checked and with its first run set.
Result<ScheduledUpdateGroupAction> readAction(const Json& p, TimeMs now) {
  ScheduledUpdateGroupAction a;
  auto name = reqString(p, "ScheduledActionName");
  auto start = optTime(p, "StartTime");
  auto time = optTime(p, "Time"); // deprecated: StartTime's old name
  auto end = optTime(p, "EndTime");
  auto recurrence = optString(p, "Recurrence");
  auto zone = optString(p, "TimeZone");
  auto min = optSize(p, "MinSize");
  auto max = optSize(p, "MaxSize");
  auto desired = optSize(p, "DesiredCapacity");
  TIDE_RETURN_IF_ERROR(firstError({&name.status(), &start.status(), &time.status(), &end.status(),
                                   &recurrence.status(), &zone.status(), &min.status(),
                                   &max.status(), &desired.status()}));
  if (*start != 0 && *time != 0 && *start != *time) {
    return validationError("Time and StartTime are the same parameter; give only StartTime");
  }
  a.scheduledActionName = *name;
  a.startTime = *start != 0 ? *start : *time;
  a.endTime = *end;
  a.recurrence = recurrence->value_or("");
  a.timeZone = zone->value_or("");
  a.minSize = *min;
  a.maxSize = *max;
  a.desiredCapacity = *desired;
  if (a.recurrence.size() > 255 || a.timeZone.size() > 255) {
    return validationError("Recurrence and TimeZone must be at most 255 characters long");
  }
  TIDE_RETURN_IF_ERROR(operations::prepareScheduledAction(a, now));
  return a;
}

// Puts (adds, or replaces by name) the action in the group. LimitExceeded past the quota.
Status putAction(const ActionContext& ctx, AutoScalingGroup& g, ScheduledUpdateGroupAction a) {
  auto it = std::find_if(g.scheduledActions.begin(), g.scheduledActions.end(),
                         [&](auto& x) { return x.scheduledActionName == a.scheduledActionName; });
  if (it != g.scheduledActions.end()) {
    a.scheduledActionArn = it->scheduledActionArn; // an update keeps the action's ARN
    *it = std::move(a);
    return Status::ok();
  }
  if (g.scheduledActions.size() >= operations::kMaxScheduledActionsPerGroup) {
    return Status("LimitExceeded", "Maximum number of scheduled actions per group (" +
                                       std::to_string(operations::kMaxScheduledActionsPerGroup) +
                                       ") reached");
  }
  a.scheduledActionArn = autoScalingArn(ctx, "scheduledUpdateGroupAction:" + newUuid() +
                                                 ":autoScalingGroupName/" + g.autoScalingGroupName +
                                                 ":scheduledActionName/" + a.scheduledActionName);
  g.scheduledActions.push_back(std::move(a));
  return Status::ok();
}

Json actionJson(const AutoScalingGroup& g, const ScheduledUpdateGroupAction& a) {
  // StartTime and Time: when it runs next (AWS shows a recurring action's next run there).
  TimeMs shown = a.nextRun != 0 ? a.nextRun : a.startTime;
  Json j{{"AutoScalingGroupName", g.autoScalingGroupName},
         {"ScheduledActionName", a.scheduledActionName},
         {"ScheduledActionARN", a.scheduledActionArn}};
  if (shown != 0) {
    j["Time"] = formatIso8601(shown);
    j["StartTime"] = formatIso8601(shown);
  }
  if (a.endTime != 0) {
    j["EndTime"] = formatIso8601(a.endTime);
  }
  if (!a.recurrence.empty()) {
    j["Recurrence"] = a.recurrence;
  }
  if (a.minSize) {
    j["MinSize"] = *a.minSize;
  }
  if (a.maxSize) {
    j["MaxSize"] = *a.maxSize;
  }
  if (a.desiredCapacity) {
    j["DesiredCapacity"] = *a.desiredCapacity;
  }
  if (!a.timeZone.empty()) {
    j["TimeZone"] = a.timeZone;
  }
  return j;
}

// A Batch* request's list of objects under `name`: 1..max of them.
Result<std::vector<Json>> objectList(const Json& p, const char* name, size_t max) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null() || (it->is_array() && it->empty())) {
    return validationError(std::string("The parameter ") + name + " is required");
  }
  if (!it->is_array()) {
    return validationError(std::string(name) + " must be a list");
  }
  if (it->size() > max) {
    return validationError(std::string("The number of ") + name + " must be at most " +
                           std::to_string(max));
  }
  return std::vector<Json>(it->begin(), it->end());
}

} // namespace

Result<Json> putScheduledUpdateGroupAction(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ScheduledActionName", "Time",
                                            "StartTime", "EndTime", "Recurrence", "MinSize",
                                            "MaxSize", "DesiredCapacity", "TimeZone"}));
  auto group = reqString(p, "AutoScalingGroupName");
  TIDE_RETURN_IF_ERROR(group.status());
  TIDE_ASSIGN_OR_RETURN(auto a, readAction(p, ctx.clock.now()));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    TIDE_RETURN_IF_ERROR(putAction(ctx, g, a));
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

// Each action is checked on its own: those that fail are listed with their error and the rest
// are put, all in one write.
Result<Json> batchPutScheduledUpdateGroupAction(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(
      checkKnownParams(p, {"AutoScalingGroupName", "ScheduledUpdateGroupActions"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto items = objectList(p, "ScheduledUpdateGroupActions", 50);
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &items.status()}));
  TimeMs now = ctx.clock.now();
  Json failed = Json::array();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    failed = Json::array();
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    for (const Json& item : *items) {
      Status e =
          item.is_object()
              ? checkKnownParams(item, {"ScheduledActionName", "StartTime", "EndTime", "Recurrence",
                                        "MinSize", "MaxSize", "DesiredCapacity", "TimeZone"})
              : validationError("Each scheduled action must be a structure");
      std::string name = item.is_object() ? item.value("ScheduledActionName", "") : "";
      if (e.isOk()) {
        auto a = readAction(item, now);
        e = a ? putAction(ctx, g, std::move(*a)) : a.status();
      }
      if (!e.isOk()) {
        failed.push_back(Json{
            {"ScheduledActionName", name}, {"ErrorCode", e.code()}, {"ErrorMessage", e.message()}});
      }
    }
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"FailedScheduledUpdateGroupActions", failed}};
}

Result<Json> deleteScheduledAction(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ScheduledActionName"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto name = reqString(p, "ScheduledActionName");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &name.status()}));
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    auto it = std::find_if(g.scheduledActions.begin(), g.scheduledActions.end(),
                           [&](auto& a) { return a.scheduledActionName == *name; });
    if (it == g.scheduledActions.end()) {
      return validationError("Scheduled Update Group Action name not found - Could not find "
                             "scheduled action '" +
                             *name + "' for AutoScalingGroup '" + *group + "'");
    }
    g.scheduledActions.erase(it);
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json::object();
}

Result<Json> batchDeleteScheduledAction(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ScheduledActionNames"}));
  auto group = reqString(p, "AutoScalingGroupName");
  auto names = optStringList(p, "ScheduledActionNames");
  TIDE_RETURN_IF_ERROR(firstError({&group.status(), &names.status()}));
  if (names->empty()) {
    return validationError("The parameter ScheduledActionNames is required");
  }
  if (names->size() > 50) {
    return validationError("The number of ScheduledActionNames must be at most 50");
  }
  Json failed = Json::array();
  Status s = ctx.store.transact([&](store::Tx& tx) -> Status {
    failed = Json::array();
    TIDE_ASSIGN_OR_RETURN(auto g, findLiveGroup(tx, *group));
    for (const auto& name : *names) {
      auto it = std::find_if(g.scheduledActions.begin(), g.scheduledActions.end(),
                             [&](auto& a) { return a.scheduledActionName == name; });
      if (it == g.scheduledActions.end()) {
        failed.push_back(Json{{"ScheduledActionName", name},
                              {"ErrorCode", "ValidationError"},
                              {"ErrorMessage", "Scheduled Update Group Action name not found - "
                                               "Could not find scheduled action '" +
                                                   name + "'"}});
        continue;
      }
      g.scheduledActions.erase(it);
    }
    return tx.putAutoScalingGroup(g);
  });
  if (!s.isOk()) {
    return s;
  }
  return Json{{"FailedScheduledActions", failed}};
}

// The dispatcher pages the list by the model's paginator (MaxRecords, NextToken).
Result<Json> describeScheduledActions(ActionContext& ctx, const Json& p) {
  TIDE_RETURN_IF_ERROR(checkKnownParams(p, {"AutoScalingGroupName", "ScheduledActionNames",
                                            "StartTime", "EndTime", "NextToken", "MaxRecords"}));
  auto group = optString(p, "AutoScalingGroupName");
  auto names = optStringList(p, "ScheduledActionNames");
  auto start = optTime(p, "StartTime");
  auto end = optTime(p, "EndTime");
  TIDE_RETURN_IF_ERROR(
      firstError({&group.status(), &names.status(), &start.status(), &end.status()}));
  if (names->size() > 50) {
    return validationError("The number of ScheduledActionNames must be at most 50");
  }
  Json out = Json::array();
  TIDE_RETURN_IF_ERROR(ctx.store.transact(
      [&](store::Tx& tx) -> Status {
        std::vector<AutoScalingGroup> groups;
        if (group->has_value()) {
          TIDE_ASSIGN_OR_RETURN(auto g, tx.autoScalingGroup(**group));
          if (!g.has_value()) {
            return validationError("AutoScalingGroup name not found - AutoScalingGroup '" +
                                   **group + "' not found");
          }
          groups.push_back(std::move(*g));
        } else {
          TIDE_ASSIGN_OR_RETURN(groups, tx.autoScalingGroups());
        }
        for (const auto& g : groups) {
          for (const auto& a : g.scheduledActions) {
            if (!names->empty() &&
                std::find(names->begin(), names->end(), a.scheduledActionName) == names->end()) {
              continue;
            }
            // The StartTime..EndTime window (actions that run next within it), ignored when
            // names are given, as AWS ignores it.
            TimeMs when = a.nextRun != 0 ? a.nextRun : a.startTime;
            if (names->empty() && ((*start != 0 && when < *start) || (*end != 0 && when > *end))) {
              continue;
            }
            out.push_back(actionJson(g, a));
          }
        }
        return Status::ok();
      },
      false));
  return Json{{"ScheduledUpdateGroupActions", out}};
}

} // namespace tide::api
