// Scaling activities: the record of every change an Auto Scaling group makes or is asked to
// make, with a Cause a person can read (Auto Scaling's own wording). Shared by the API
// (user requests, ExecutePolicy), the scaling policies and the group controller.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "model/auto_scaling.h"
#include "store/store.h"

#include <string>

namespace tide::operations {

// "At 2026-11-27T21:18:13Z": how every Cause begins (seconds, no fraction, as Auto Scaling).
std::string causeTime(TimeMs t);

// An activity that starts now (InProgress, progress 0). Not stored. kind and instanceId say
// what it does (decisions read them); the description says it to people.
model::ScalingActivity newActivity(const std::string& groupName, model::ActivityKind kind,
                                   std::string instanceId, std::string description,
                                   std::string cause, TimeMs now);

// Marks the activity finished with statusCode (Successful, Failed, Cancelled). Not stored.
void finishActivity(model::ScalingActivity& a, model::ActivityStatusCode statusCode, TimeMs now,
                    std::string statusMessage = "");

// Sets the group's desired capacity and records the change as a finished activity whose cause
// is `cause` (which should end "changing the desired capacity from A to B."). Stores both.
// Does nothing when the capacity does not change.
// details: the activity's Details beyond the zone (a JSON object's members, or empty).
Status changeDesiredCapacity(store::Tx& tx, model::AutoScalingGroup& group, int desired,
                             const std::string& cause, TimeMs now, const std::string& details = "");

// "changing the desired capacity from A to B.", the end of every capacity change's cause.
std::string changingDesired(int from, int to);

} // namespace tide::operations
