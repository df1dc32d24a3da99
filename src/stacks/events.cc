#include "stacks/events.h"

#include "common/ids.h"

namespace tide::stacks {

namespace {

const model::StackResource* findResource(const std::vector<model::StackResource>& resources,
                                         const std::string& logicalId) {
  for (const auto& r : resources) {
    if (r.logicalResourceId == logicalId) {
      return &r;
    }
  }
  return nullptr;
}

model::StackEvent event(const model::Stack& s, TimeMs now) {
  model::StackEvent e;
  e.eventId = newUuid();
  e.stackId = s.stackId;
  e.stackName = s.stackName;
  e.timestamp = now;
  return e;
}

model::StackEvent resourceEvent(const model::Stack& s, const model::StackResource& r,
                                const std::string& status, const std::string& reason, TimeMs now) {
  model::StackEvent e = event(s, now);
  e.logicalResourceId = r.logicalResourceId;
  e.physicalResourceId = r.physicalResourceId;
  e.resourceType = r.resourceType;
  e.resourceStatus = status;
  e.resourceStatusReason = reason;
  return e;
}

} // namespace

std::string newUuid() {
  std::string h = randomHex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

Status putStackWithEvents(store::Tx& tx, const model::Stack* before, model::Stack& after,
                          TimeMs now) {
  std::vector<model::StackEvent> events;
  for (auto& r : after.resources) {
    const model::StackResource* b =
        before ? findResource(before->resources, r.logicalResourceId) : nullptr;
    if (!b || b->resourceStatus != r.resourceStatus) {
      r.lastUpdatedTimestamp = now;
      events.push_back(resourceEvent(after, r, r.resourceStatus, r.resourceStatusReason, now));
    }
  }
  if (before) {
    for (const auto& b : before->resources) {
      if (!findResource(after.resources, b.logicalResourceId) &&
          b.resourceStatus != "DELETE_COMPLETE") {
        events.push_back(resourceEvent(after, b, "DELETE_COMPLETE", "", now));
      }
    }
  }
  if (!before || before->stackStatus != after.stackStatus) {
    model::StackEvent e = event(after, now);
    e.logicalResourceId = after.stackName;
    e.physicalResourceId = after.stackId;
    e.resourceType = "AWS::CloudFormation::Stack";
    e.resourceStatus = after.stackStatus;
    e.resourceStatusReason = after.stackStatusReason;
    bool starts = !before || !before->stackStatus.ends_with("_IN_PROGRESS");
    events.insert(starts ? events.begin() : events.end(), e);
  }
  for (const auto& e : events) {
    TIDE_RETURN_IF_ERROR(tx.putStackEvent(e));
  }
  if (after.stackStatus == "DELETE_COMPLETE") {
    TIDE_RETURN_IF_ERROR(tx.deleteStack(after.stackName));
    return tx.putDeletedStack(after);
  }
  return tx.putStack(after);
}

} // namespace tide::stacks
