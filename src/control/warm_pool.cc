#include "control/warm_pool.h"

#include "common/log.h"
#include "operations/scaling_activity.h"
#include "operations/targets.h"
#include "operations/warm_pool.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::control {

using model::ActivityKind;
using model::ActivityStatusCode;
using model::Instance;
using model::InstanceGoal;
using model::InstanceState;
using model::LifecycleState;
using model::WarmPoolState;

namespace {

// The stateReason code the instance controller leaves when the freezer refused.
constexpr const char* kFreezerUnavailable = "Server.FreezerUnavailable";

void finishOpen(WarmPoolPass& p, const std::string& id, ActivityKind kind, ActivityStatusCode code,
                const std::string& message, Status& status) {
  for (auto& a : p.activities) {
    if (a.statusCode == ActivityStatusCode::InProgress && a.kind == kind && a.instanceId == id) {
      operations::finishActivity(a, code, p.now, message);
      if (status.isOk()) {
        status = p.tx.putScalingActivity(a);
      }
    }
  }
}

Status addActivity(WarmPoolPass& p, ActivityKind kind, const std::string& id,
                   const std::string& description, const std::string& cause) {
  auto a = operations::newActivity(p.group.autoScalingGroupName, kind, id, description + id, cause,
                                   p.now);
  p.activities.insert(p.activities.begin(), a);
  return p.tx.putScalingActivity(a);
}

void setLifecycle(WarmPoolPass& p, Instance& i, LifecycleState s) {
  if (i.lifecycleState != s) {
    logInfo("auto scaling group " + p.group.autoScalingGroupName + ": " + i.instanceId + " is " +
            std::string(s == LifecycleState::WarmedPending       ? "Warmed:Pending"
                        : s == LifecycleState::WarmedStopped     ? "Warmed:Stopped"
                        : s == LifecycleState::WarmedRunning     ? "Warmed:Running"
                        : s == LifecycleState::WarmedHibernated  ? "Warmed:Hibernated"
                        : s == LifecycleState::WarmedTerminating ? "Warmed:Terminating"
                        : s == LifecycleState::WarmedTerminated  ? "Warmed:Terminated"
                                                                 : "Pending"));
  }
  i.lifecycleState = s;
  p.changed[i.instanceId] = true;
}

// The pool state reached: its activities are done.
Status enterPoolState(WarmPoolPass& p, Instance& i, LifecycleState s) {
  setLifecycle(p, i, s);
  Status st = Status::ok();
  finishOpen(p, i.instanceId, ActivityKind::Launch, ActivityStatusCode::Successful, "", st);
  finishOpen(p, i.instanceId, ActivityKind::Terminate, ActivityStatusCode::Successful, "", st);
  return st;
}

Status terminateWarm(WarmPoolPass& p, Instance& i, const std::string& why) {
  setLifecycle(p, i, LifecycleState::WarmedTerminating);
  i.goal = InstanceGoal::Terminate;
  i.hibernate = false;
  i.stateTransitionReason =
      "Auto Scaling: taken out of the warm pool (" + formatIso8601(p.now).substr(0, 19) + " GMT)";
  Status st = Status::ok();
  finishOpen(p, i.instanceId, ActivityKind::Launch, ActivityStatusCode::Cancelled,
             "The instance left the warm pool before it was warmed", st);
  TIDE_RETURN_IF_ERROR(st);
  return addActivity(p, ActivityKind::Terminate, i.instanceId,
                     "Terminating EC2 instance in warm pool: ", operations::causeTime(p.now) + why);
}

// One Warmed:Pending instance: drained, running, its app up → the pool state.
Status advancePending(WarmPoolPass& p, Instance& i) {
  int draining = 0;
  for (model::Target& t : p.targets) {
    if (t.id == i.instanceId && p.targetGroups.count(t.targetGroupArn)) {
      ++draining;
      TIDE_RETURN_IF_ERROR(operations::deregisterTarget(p.tx, t, p.now).status());
    }
  }
  if (draining > 0) {
    return Status::ok(); // the target controller removes them once drained; then on
  }
  const WarmPoolState state =
      p.group.warmPool ? p.group.warmPool->poolState : WarmPoolState::Running;
  if (i.goal == InstanceGoal::Stop) { // on its way to Warmed:Stopped
    if (i.state == InstanceState::Stopped) {
      return enterPoolState(p, i, LifecycleState::WarmedStopped);
    }
    return Status::ok();
  }
  if (i.hibernate) { // on its way to Warmed:Hibernated
    if (i.frozen) {
      return enterPoolState(p, i, LifecycleState::WarmedHibernated);
    }
    return Status::ok();
  }
  if (i.state != InstanceState::Running) {
    return Status::ok(); // starting (the instance's own change wakes the group)
  }
  bool up = p.appReady == nullptr || !*p.appReady || (*p.appReady)(i) ||
            p.now - i.launchTime >= kWarmAppWaitMs;
  if (!up) {
    p.next = std::min(p.next, p.now + 100); // its app is still starting
    return Status::ok();
  }
  switch (state) {
  case WarmPoolState::Running:
    return enterPoolState(p, i, LifecycleState::WarmedRunning);
  case WarmPoolState::Stopped:
    i.goal = InstanceGoal::Stop;
    i.stateTransitionReason =
        "Auto Scaling: warm pool (" + formatIso8601(p.now).substr(0, 19) + " GMT)";
    p.changed[i.instanceId] = true;
    return Status::ok();
  case WarmPoolState::Hibernated:
    if (!p.canFreeze || i.stateReason.code == kFreezerUnavailable) {
      logWarn("auto scaling group " + p.group.autoScalingGroupName + ": no cgroup freezer (" +
              (p.canFreeze ? i.stateReason.message : std::string("not available on this host")) +
              "): warm instance " + i.instanceId + " stays Warmed:Running instead of Hibernated");
      return enterPoolState(p, i, LifecycleState::WarmedRunning);
    }
    i.hibernate = true;
    p.changed[i.instanceId] = true;
    return Status::ok();
  }
  return Status::ok();
}

} // namespace

bool appAcceptsConnections(const Instance& i) {
  if (i.privateIpAddress.empty() || i.port <= 0) {
    return true;
  }
  in_addr addr{};
  if (inet_pton(AF_INET, i.privateIpAddress.c_str(), &addr) != 1) {
    return true;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return true; // cannot tell: do not hold the pool up
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(i.port));
  sa.sin_addr = addr;
  // On loopback a connect is answered within microseconds, but a non-blocking one may still say
  // EINPROGRESS first (also when it is then refused): wait briefly for the answer. One still in
  // progress after that meets a full backlog, so something listens.
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  bool listening = rc == 0;
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd pfd{fd, POLLOUT, 0};
    int ready = ::poll(&pfd, 1, 20);
    int error = 0;
    socklen_t len = sizeof error;
    listening =
        ready == 0 ||
        (ready > 0 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0);
  }
  ::close(fd);
  return listening;
}

Status advanceWarmPool(WarmPoolPass& p) {
  for (Instance* ip : p.members) {
    Instance& i = *ip;
    if (!operations::inWarmPool(i)) {
      continue;
    }
    if (i.state == InstanceState::Terminated) {
      setLifecycle(p, i, LifecycleState::WarmedTerminated);
      Status st = Status::ok();
      finishOpen(p, i.instanceId, ActivityKind::Terminate, ActivityStatusCode::Successful, "", st);
      finishOpen(p, i.instanceId, ActivityKind::Launch, ActivityStatusCode::Cancelled,
                 "The instance was terminated before it was warmed", st);
      TIDE_RETURN_IF_ERROR(st);
      continue;
    }
    switch (*i.lifecycleState) {
    case LifecycleState::WarmedPending:
      TIDE_RETURN_IF_ERROR(advancePending(p, i));
      break;
    case LifecycleState::WarmedTerminating:
      if (i.goal != InstanceGoal::Terminate) {
        i.goal = InstanceGoal::Terminate;
        p.changed[i.instanceId] = true;
      }
      break;
    default:
      break;
    }
  }
  return Status::ok();
}

Result<int> takeFromWarmPool(WarmPoolPass& p, int count, const std::string& cause) {
  int taken = 0;
  for (LifecycleState from : {LifecycleState::WarmedRunning, LifecycleState::WarmedHibernated,
                              LifecycleState::WarmedStopped}) {
    for (Instance* ip : p.members) {
      if (taken >= count) {
        return taken;
      }
      Instance& i = *ip;
      if (i.lifecycleState != from || i.state == InstanceState::Terminated ||
          i.goal == InstanceGoal::Terminate) {
        continue;
      }
      setLifecycle(p, i, LifecycleState::Pending);
      i.goal = InstanceGoal::Run; // a stopped one starts again (its files kept)
      i.hibernate = false;        // a frozen one thaws; registered once it has
      i.healthStatus = model::HealthStatus::Healthy;
      i.addToTargetGroups = true;
      i.protectedFromScaleIn = p.group.newInstancesProtectedFromScaleIn;
      TIDE_RETURN_IF_ERROR(addActivity(p, ActivityKind::Launch, i.instanceId,
                                       "Launching a new EC2 instance from warm pool: ", cause));
      ++taken;
    }
  }
  return taken;
}

Result<bool> returnToWarmPool(WarmPoolPass& p, Instance& victim, const std::string& cause) {
  const auto& pool = p.group.warmPool;
  if (!pool || !pool->reuseOnScaleIn || pool->pendingDelete || p.group.deleting) {
    return false;
  }
  int warm = static_cast<int>(std::count_if(p.members.begin(), p.members.end(), [](Instance* i) {
    return operations::inWarmPool(*i) && i->lifecycleState != LifecycleState::WarmedTerminating;
  }));
  if (warm >= operations::warmPoolTargetSize(p.group)) {
    return false;
  }
  setLifecycle(p, victim, LifecycleState::WarmedPending);
  TIDE_RETURN_IF_ERROR(
      addActivity(p, ActivityKind::Terminate, victim.instanceId,
                  "Returning EC2 instance to warm pool: ", operations::causeTime(p.now) + cause));
  // Its targets start draining at once; the pool pass moves it on once they are gone.
  for (model::Target& t : p.targets) {
    if (t.id == victim.instanceId && p.targetGroups.count(t.targetGroupArn)) {
      TIDE_RETURN_IF_ERROR(operations::deregisterTarget(p.tx, t, p.now).status());
    }
  }
  return true;
}

Status sizeWarmPool(WarmPoolPass& p, bool launchAllowed, int& toLaunch) {
  toLaunch = 0;
  const int target = operations::warmPoolTargetSize(p.group);
  std::vector<Instance*> warm;
  bool anyLeft = false;
  for (Instance* i : p.members) {
    if (!operations::inWarmPool(*i)) {
      continue;
    }
    anyLeft = true;
    if (i->lifecycleState != LifecycleState::WarmedTerminating) {
      warm.push_back(i);
    }
  }
  const int count = static_cast<int>(warm.size());
  if (count < target && launchAllowed) {
    toLaunch = target - count;
  } else if (count > target) {
    // The slowest to serve go first: still warming, then stopped, running, hibernated.
    auto rank = [](const Instance* i) {
      switch (*i->lifecycleState) {
      case LifecycleState::WarmedPending:
        return 0;
      case LifecycleState::WarmedStopped:
        return 1;
      case LifecycleState::WarmedRunning:
        return 2;
      default:
        return 3;
      }
    };
    std::stable_sort(warm.begin(), warm.end(),
                     [&](const Instance* a, const Instance* b) { return rank(a) < rank(b); });
    const bool deleting = !p.group.warmPool || p.group.warmPool->pendingDelete || p.group.deleting;
    const std::string why =
        deleting ? " an instance was taken out of the warm pool in response to a user request "
                   "deleting the warm pool."
                 : " an instance was taken out of the warm pool in response to a difference "
                   "between the warm pool's desired and actual size, shrinking it from " +
                       std::to_string(count) + " to " + std::to_string(target) + ".";
    for (int k = 0; k < count - target; ++k) {
      TIDE_RETURN_IF_ERROR(terminateWarm(p, *warm[static_cast<size_t>(k)], why));
    }
  }
  if (p.group.warmPool && p.group.warmPool->pendingDelete && !anyLeft) {
    TIDE_ASSIGN_OR_RETURN(auto g, p.tx.autoScalingGroup(p.group.autoScalingGroupName));
    if (g.has_value() && g->warmPool && g->warmPool->pendingDelete) {
      g->warmPool.reset();
      logInfo("auto scaling group " + p.group.autoScalingGroupName + ": warm pool deleted");
      TIDE_RETURN_IF_ERROR(p.tx.putAutoScalingGroup(*g));
    }
  }
  return Status::ok();
}

} // namespace tide::control
