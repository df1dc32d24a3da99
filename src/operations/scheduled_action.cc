#include "operations/scheduled_action.h"

#include "operations/cron_schedule.h"
#include "operations/scaling_activity.h"
#include "operations/scaling_processes.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tide::operations {

using Json = nlohmann::ordered_json;
using model::ScheduledUpdateGroupAction;

Status prepareScheduledAction(ScheduledUpdateGroupAction& a, TimeMs now) {
  if (a.scheduledActionName.empty() || a.scheduledActionName.size() > 255) {
    return validationError("ScheduledActionName must be 1 to 255 characters long");
  }
  if (!a.minSize && !a.maxSize && !a.desiredCapacity) {
    return validationError("At least one of MinSize, MaxSize or DesiredCapacity must be given");
  }
  for (const auto* v : {&a.minSize, &a.maxSize, &a.desiredCapacity}) {
    if (*v && **v < 0) {
      return validationError("MinSize, MaxSize and DesiredCapacity must not be negative");
    }
  }
  if (a.minSize && a.maxSize && *a.minSize > *a.maxSize) {
    return validationError("Max bound, " + std::to_string(*a.maxSize) +
                           ", must be greater than or equal to min bound, " +
                           std::to_string(*a.minSize));
  }
  if (a.desiredCapacity && ((a.minSize && *a.desiredCapacity < *a.minSize) ||
                            (a.maxSize && *a.desiredCapacity > *a.maxSize))) {
    return validationError("Desired capacity:" + std::to_string(*a.desiredCapacity) +
                           " must be between the specified min size:" +
                           (a.minSize ? std::to_string(*a.minSize) : "-") +
                           " and max size:" + (a.maxSize ? std::to_string(*a.maxSize) : "-"));
  }
  if (a.recurrence.empty() && a.startTime == 0) {
    return validationError("A scheduled action needs a StartTime or a Recurrence");
  }
  if (a.startTime != 0 && a.startTime < now) {
    return validationError("Given start time is in the past");
  }
  if (a.endTime != 0 && a.endTime < now) {
    return validationError("Given end time is in the past");
  }
  if (a.endTime != 0 && a.startTime != 0 && a.endTime <= a.startTime) {
    return validationError("Start time must be before end time");
  }
  if (!a.timeZone.empty() && !isTimeZone(a.timeZone)) {
    return validationError("Invalid time zone '" + a.timeZone +
                           "': not a time zone of the IANA tz database");
  }
  if (a.recurrence.empty()) {
    a.nextRun = a.startTime;
    return Status::ok();
  }
  TIDE_ASSIGN_OR_RETURN(CronSchedule cron, parseCron(a.recurrence));
  if (a.startTime != 0) {
    a.nextRun = a.startTime; // "performs the action at this time, and then ... the recurrence"
    return Status::ok();
  }
  auto next = nextCronTime(cron, a.timeZone, now);
  if (!next || (a.endTime != 0 && *next > a.endTime)) {
    return validationError("The recurrence '" + a.recurrence + "' never runs before the end time");
  }
  a.nextRun = *next;
  return Status::ok();
}

TimeMs nextScheduledRun(const ScheduledUpdateGroupAction& a, TimeMs ranAt) {
  if (a.recurrence.empty()) {
    return 0;
  }
  auto cron = parseCron(a.recurrence);
  if (!cron) {
    return 0; // validated when put
  }
  auto next = nextCronTime(*cron, a.timeZone, ranAt);
  if (!next || (a.endTime != 0 && *next > a.endTime)) {
    return 0;
  }
  return *next;
}

std::string scheduledCause(TimeMs at, int min, int max, int desired, int oldDesired) {
  return causeTime(at) + " a scheduled action update of AutoScalingGroup constraints to min: " +
         std::to_string(min) + ", max: " + std::to_string(max) +
         ", desired: " + std::to_string(desired) + " " + changingDesired(oldDesired, desired);
}

Status runScheduledAction(store::Tx& tx, model::AutoScalingGroup& g, const std::string& name,
                          TimeMs now) {
  auto it = std::find_if(g.scheduledActions.begin(), g.scheduledActions.end(),
                         [&](const auto& a) { return a.scheduledActionName == name; });
  if (it == g.scheduledActions.end() || it->nextRun == 0 || it->nextRun > now) {
    return Status::ok(); // not due (a concurrent change moved it)
  }
  ScheduledUpdateGroupAction a = *it;
  // Runs missed beyond this one are skipped: the next run is the first after now.
  TimeMs next = nextScheduledRun(a, std::max(now, a.nextRun));
  if (next == 0) {
    g.scheduledActions.erase(it);
  } else {
    it->nextRun = next;
  }
  if (isSuspended(g, ScalingProcess::ScheduledActions)) {
    return tx.putAutoScalingGroup(g);
  }
  int min = a.minSize.value_or(g.minSize);
  int max = a.maxSize.value_or(g.maxSize);
  int desired = std::clamp(a.desiredCapacity.value_or(g.desiredCapacity), std::min(min, max), max);
  Json details = Json::object();
  details["ScheduledActionName"] = a.scheduledActionName;
  details["ScheduledTime"] = formatIso8601(a.nextRun);
  if (!a.recurrence.empty()) {
    details["Recurrence"] = a.recurrence;
    details["TimeZone"] = a.timeZone.empty() ? "UTC" : a.timeZone;
  }
  for (auto [key, v] : {std::pair{"MinSize", a.minSize}, std::pair{"MaxSize", a.maxSize},
                        std::pair{"RequestedDesiredCapacity", a.desiredCapacity}}) {
    if (v) {
      details[key] = *v;
    }
  }
  details["PreviousMinSize"] = g.minSize;
  details["PreviousMaxSize"] = g.maxSize;
  details["PreviousDesiredCapacity"] = g.desiredCapacity;
  if (min > max) {
    details["LimitedBy"] = "MaxSize";
    model::ScalingActivity act = newActivity(
        g.autoScalingGroupName, model::ActivityKind::Other, "",
        "Updating the group's constraints by the scheduled action " + a.scheduledActionName,
        causeTime(a.nextRun) +
            " a scheduled action update of AutoScalingGroup constraints to min: " +
            std::to_string(min) + ", max: " + std::to_string(max) + " failed.",
        now);
    act.details = details.dump();
    finishActivity(act, model::ActivityStatusCode::Failed, now,
                   "The scheduled action's min size " + std::to_string(min) +
                       " is greater than the max size " + std::to_string(max) +
                       "; the group was not changed.");
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    return tx.putScalingActivity(act);
  }
  details["DesiredCapacity"] = desired;
  if (a.desiredCapacity && desired != *a.desiredCapacity) {
    details["LimitedBy"] = desired > *a.desiredCapacity ? "MinSize" : "MaxSize";
  }
  g.minSize = min;
  g.maxSize = max;
  TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
  return changeDesiredCapacity(tx, g, desired,
                               scheduledCause(a.nextRun, min, max, desired, g.desiredCapacity), now,
                               details.dump());
}

} // namespace tide::operations
