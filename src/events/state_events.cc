#include "events/state_events.h"

#include <algorithm>

namespace tide::events {

namespace {

using model::ActivityKind;
using model::ActivityStatusCode;
using store::Kind;

constexpr size_t kAnnouncedKept = 20'000;
constexpr int kActivitiesRead = 100; // a group's newest activities looked through per change

bool ended(ActivityStatusCode c) {
  return c == ActivityStatusCode::Successful || c == ActivityStatusCode::Failed ||
         c == ActivityStatusCode::Cancelled;
}

bool announces(const model::ScalingActivity& a) {
  return (a.kind == ActivityKind::Launch || a.kind == ActivityKind::Terminate) &&
         ended(a.statusCode);
}

std::string targetKey(const std::string& groupArn, const std::string& rowKey) {
  return groupArn + " " + rowKey;
}

} // namespace

StateEvents::StateEvents(store::Store& store, const Clock& clock, EventOrigin origin, Emit emit)
    : store_(store), clock_(clock), origin_(std::move(origin)), emit_(std::move(emit)) {}

void StateEvents::announced(const std::string& activityId) {
  if (announced_.insert(activityId).second) {
    announcedOrder_.push_back(activityId);
    while (announcedOrder_.size() > kAnnouncedKept) {
      announced_.erase(announcedOrder_.front());
      announcedOrder_.pop_front();
    }
  }
}

Status StateEvents::prime() {
  return store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto instances, tx.instances());
        for (const model::Instance& i : instances) {
          instances_[i.instanceId] = i.state;
        }
        TIDE_ASSIGN_OR_RETURN(auto groups, tx.targetGroups());
        for (const model::TargetGroup& g : groups) {
          TIDE_ASSIGN_OR_RETURN(auto targets, tx.targets(g.targetGroupArn));
          for (const model::Target& t : targets) {
            targets_[targetKey(g.targetGroupArn, t.id + ":" + std::to_string(t.port))] =
                TargetHealth{t.state, t.reason, t.description};
          }
        }
        TIDE_ASSIGN_OR_RETURN(auto alarms, tx.alarms());
        for (const model::MetricAlarm& a : alarms) {
          alarms_[a.alarmName] = alarmStateOf(a);
        }
        TIDE_ASSIGN_OR_RETURN(auto asgs, tx.autoScalingGroups());
        for (const model::AutoScalingGroup& g : asgs) {
          GroupSeen& seen = groups_[g.autoScalingGroupName];
          seen.desiredCapacity = g.desiredCapacity;
          for (const model::LifecycleAction& a : g.lifecycleActions) {
            seen.lifecycleTokens.insert(a.lifecycleActionToken);
          }
          TIDE_ASSIGN_OR_RETURN(auto acts,
                                tx.scalingActivities(g.autoScalingGroupName, kActivitiesRead));
          for (const model::ScalingActivity& a : acts) {
            if (ended(a.statusCode)) {
              announced(a.activityId);
            }
          }
        }
        return Status::ok();
      },
      false);
}

Status StateEvents::observe(const store::ChangeSet& changes) {
  std::vector<EventJson> out;
  TimeMs now = clock_.now();
  Status s = store_.transact(
      [&](store::Tx& tx) -> Status {
        for (const store::Change& c : changes.changes()) {
          switch (c.kind) {
          case Kind::Instance: {
            TIDE_ASSIGN_OR_RETURN(auto row, tx.instance(c.key));
            if (!row) {
              instances_.erase(c.key);
              break;
            }
            auto it = instances_.find(c.key);
            if (it == instances_.end() || it->second != row->state) {
              instances_[c.key] = row->state;
              out.push_back(instanceStateChange(origin_, row->instanceId, row->state, now));
            }
            break;
          }
          case Kind::Target: {
            std::string key = targetKey(c.parent, c.key);
            TIDE_ASSIGN_OR_RETURN(auto targets, tx.targets(c.parent));
            auto row = std::find_if(targets.begin(), targets.end(), [&](const model::Target& t) {
              return t.id + ":" + std::to_string(t.port) == c.key;
            });
            if (row == targets.end()) {
              targets_.erase(key);
              break;
            }
            TargetHealth now_{row->state, row->reason, row->description};
            auto it = targets_.find(key);
            if (it != targets_.end() && it->second.state == row->state) {
              it->second = now_;
              break;
            }
            std::optional<TargetHealth> previous;
            if (it != targets_.end()) {
              previous = it->second;
            }
            targets_[key] = now_;
            int port = row->port;
            if (port == 0) {
              TIDE_ASSIGN_OR_RETURN(auto group, tx.targetGroup(c.parent));
              port = group ? group->port : 0;
            }
            out.push_back(targetHealthChange(origin_, *row, port, previous, now));
            break;
          }
          case Kind::Alarm: {
            TIDE_ASSIGN_OR_RETURN(auto row, tx.alarm(c.key));
            if (!row) {
              alarms_.erase(c.key);
              break;
            }
            AlarmState state = alarmStateOf(*row);
            auto it = alarms_.find(c.key);
            if (it != alarms_.end() && it->second.value != state.value) {
              out.push_back(alarmStateChange(origin_, *row, it->second, now));
            }
            alarms_[c.key] = state;
            break;
          }
          case Kind::ScalingActivity: {
            if (announced_.count(c.key) != 0) {
              break;
            }
            TIDE_ASSIGN_OR_RETURN(auto acts, tx.scalingActivities(c.parent, kActivitiesRead));
            auto row = std::find_if(acts.begin(), acts.end(), [&](const model::ScalingActivity& a) {
              return a.activityId == c.key;
            });
            if (row == acts.end() || !ended(row->statusCode)) {
              break;
            }
            announced(row->activityId);
            if (announces(*row)) {
              TIDE_ASSIGN_OR_RETURN(auto group, tx.autoScalingGroup(c.parent));
              out.push_back(activityEvent(origin_, group ? group->autoScalingGroupArn : "", *row));
            }
            break;
          }
          case Kind::AutoScalingGroup: {
            TIDE_ASSIGN_OR_RETURN(auto row, tx.autoScalingGroup(c.key));
            if (!row) {
              groups_.erase(c.key);
              break;
            }
            auto it = groups_.find(c.key);
            bool known = it != groups_.end();
            GroupSeen& seen = groups_[c.key];
            if (known && seen.desiredCapacity != row->desiredCapacity) {
              out.push_back(capacityChange(origin_, *row, seen.desiredCapacity, now));
            }
            seen.desiredCapacity = row->desiredCapacity;
            std::set<std::string> tokens;
            for (const model::LifecycleAction& a : row->lifecycleActions) {
              tokens.insert(a.lifecycleActionToken);
              if (seen.lifecycleTokens.count(a.lifecycleActionToken) == 0) {
                out.push_back(lifecycleActionEvent(origin_, *row, a, now));
              }
            }
            seen.lifecycleTokens = std::move(tokens);
            break;
          }
          default:
            break;
          }
        }
        return Status::ok();
      },
      false);
  for (const EventJson& e : out) {
    emit_(e);
  }
  return s;
}

} // namespace tide::events
