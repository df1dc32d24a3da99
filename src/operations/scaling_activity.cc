#include "operations/scaling_activity.h"

#include "common/ids.h"

namespace tide::operations {

std::string causeTime(TimeMs t) {
  return "At " + formatIso8601(t).substr(0, 19) + "Z";
}

model::ScalingActivity newActivity(const std::string& groupName, model::ActivityKind kind,
                                   std::string instanceId, std::string description,
                                   std::string cause, TimeMs now) {
  model::ScalingActivity a;
  a.activityId = newUuid();
  a.autoScalingGroupName = groupName;
  a.kind = kind;
  a.instanceId = std::move(instanceId);
  a.description = std::move(description);
  a.cause = std::move(cause);
  a.startTime = now;
  a.statusCode = model::ActivityStatusCode::InProgress;
  a.progress = 0;
  return a;
}

void finishActivity(model::ScalingActivity& a, model::ActivityStatusCode statusCode, TimeMs now,
                    std::string statusMessage) {
  a.statusCode = statusCode;
  a.endTime = now;
  a.progress = 100;
  a.statusMessage = std::move(statusMessage);
}

std::string changingDesired(int from, int to) {
  return "changing the desired capacity from " + std::to_string(from) + " to " +
         std::to_string(to) + ".";
}

Status changeDesiredCapacity(store::Tx& tx, model::AutoScalingGroup& group, int desired,
                             const std::string& cause, TimeMs now, const std::string& details) {
  if (desired == group.desiredCapacity) {
    return Status::ok();
  }
  model::ScalingActivity a =
      newActivity(group.autoScalingGroupName, model::ActivityKind::Other, "",
                  "Changing the desired capacity from " + std::to_string(group.desiredCapacity) +
                      " to " + std::to_string(desired),
                  cause, now);
  a.details = details;
  finishActivity(a, model::ActivityStatusCode::Successful, now);
  group.desiredCapacity = desired;
  TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(group));
  return tx.putScalingActivity(a);
}

} // namespace tide::operations
