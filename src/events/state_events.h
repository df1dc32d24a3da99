// Where events come from: the store's committed change sets. Each change names a row; this
// reads the rows that changed, compares them with what it last saw, and produces an event per
// transition (docs/events.md):
//
//   Instance row, State changed (or a new instance)   → EC2 Instance State-change Notification
//   ScalingActivity row, a Launch or Terminate ended  → EC2 Instance Launch/Terminate
//                                                        Successful/Unsuccessful
//   AutoScalingGroup row, a new lifecycle action      → EC2 Instance-launch/-terminate Lifecycle
//                                                        Action
//   AutoScalingGroup row, DesiredCapacity changed     → Auto Scaling Desired Capacity Change
//   Target row, State changed (or a new target)       → ELB Target Health State Change
//   Alarm row, StateValue changed                     → CloudWatch Alarm State Change
//
// Watching the committed rows rather than the code that writes them keeps one owner per event
// whatever path made the change (API, controllers, stacks), and sees only what committed.
// Not thread-safe: call from the thread that commits (the control loop), after each commit.
#pragma once

#include "common/clock.h"
#include "common/status.h"
#include "events/event.h"
#include "store/change_set.h"
#include "store/store.h"

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <unordered_set>

namespace tide::events {

class StateEvents {
public:
  using Emit = std::function<void(const EventJson&)>;

  StateEvents(store::Store& store, const Clock& clock, EventOrigin origin, Emit emit);

  // Remembers the current state of every watched row without producing events (at start, so
  // that a restart does not announce what was already so).
  Status prime();

  // Produces the events of one committed change set, in the order its rows were first written.
  // Errors reading the store are returned (the events found so far are emitted).
  Status observe(const store::ChangeSet& changes);

private:
  struct GroupSeen {
    int desiredCapacity = 0;
    std::set<std::string> lifecycleTokens;
  };

  void announced(const std::string& activityId);

  store::Store& store_;
  const Clock& clock_;
  EventOrigin origin_;
  Emit emit_;
  std::map<std::string, model::InstanceState> instances_;
  std::map<std::string, TargetHealth> targets_; // by "<group ARN> <target id>:<port>"
  std::map<std::string, AlarmState> alarms_;
  std::map<std::string, GroupSeen> groups_;
  // Ended activities already announced (or ended before the server started), bounded.
  std::unordered_set<std::string> announced_;
  std::deque<std::string> announcedOrder_;
};

} // namespace tide::events
