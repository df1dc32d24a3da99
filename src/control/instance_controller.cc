#include "control/instance_controller.h"

#include "common/log.h"
#include "common/text.h"
#include "model/instance_types.h"
#include "model/names.h"
#include "operations/warm_pool.h"

#include <algorithm>
#include <csignal>
#include <set>

namespace tide::control {

using model::Instance;
using model::InstanceGoal;
using model::InstanceState;

namespace {
// The provider's clean-up and signal steps do not decide an instance's state (a process that
// ignores a failed SIGTERM still meets SIGKILL at the end of the grace period); a failure is
// logged so a person can see why a process, cgroup or disk lingers.
void warnIfFailed(const Status& s, const std::string& what) {
  if (!s.isOk()) {
    logWarn(what + ": " + s.toString());
  }
}
// The root volume's size: the mapping of the root device (/dev/xvda, tide images' root device,
// or /dev/sda1) or the images' default of 8 GiB.
int rootVolumeGiB(const Instance& i) {
  for (const model::BlockDeviceMapping& m : i.blockDeviceMappings) {
    if (m.deviceName == "/dev/xvda" || m.deviceName == "/dev/sda1") {
      return m.volumeSizeGiB;
    }
  }
  return model::BlockDeviceMapping{}.volumeSizeGiB;
}
} // namespace

InstanceController::InstanceController(store::Store& store, runtime::InstanceProvider& provider,
                                       runtime::ImageStore& images, const Clock& clock,
                                       InstanceControllerOptions options)
    : store_(store), provider_(provider), images_(images), clock_(clock), options_(options),
      preparer_(provider, options.preparation) {}

void InstanceController::setState(Instance& i, InstanceState s) {
  if (i.state != s) {
    logInfo("instance " + i.instanceId + ": " + std::string(model::instanceStateName(i.state)) +
            " -> " + std::string(model::instanceStateName(s)));
  }
  i.state = s;
  i.stateChangedAt = clock_.now();
}

Result<Millis> InstanceController::reconcile(const Wake& wake) {
  std::vector<Instance> all;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto r, tx.instances());
        all = std::move(r);
        return Status::ok();
      },
      false));
  bool busy = false;
  bool deferred = false;
  bool failed = false;
  int launches = 0;
  std::set<std::string> exist;
  // Instances whose disk is being prepared, or whose preparation ended: looked at every pass
  // (the worker's wake names no instance).
  const std::set<std::string> preparing = preparer_.known();
  for (Instance& i : all) {
    exist.insert(i.instanceId);
    if (!wake.dirty(i.instanceId) && !failed_.count(i.instanceId) &&
        !preparing.count(i.instanceId)) {
      continue;
    }
    // One whose disk is still being made costs this pass nothing.
    bool launching = i.goal == InstanceGoal::Run &&
                     (i.state == InstanceState::Pending || i.state == InstanceState::Stopped) &&
                     !preparer_.inFlight(i.instanceId);
    if (launching && ++launches > options_.maxLaunchesPerPass) {
      deferred = true;
      continue;
    }
    // One instance's failure to record its step is logged and retried soon; the others go on.
    Status s = reconcileOne(i, busy);
    if (!s.isOk()) {
      logError("instance " + i.instanceId + ": " + s.toString());
      failed_.insert(i.instanceId);
      failed = true;
      continue;
    }
    failed_.erase(i.instanceId);
  }
  std::erase_if(failed_, [&](const std::string& id) { return !exist.count(id); });
  for (const std::string& id : preparing) {
    if (!exist.count(id)) { // cannot happen (records go only once terminated): not kept
      preparer_.cancel(id);
      preparer_.take(id);
    }
  }
  if (deferred) {
    return Millis(0);
  }
  return busy || failed ? options_.busyInterval : options_.idleInterval;
}

Status InstanceController::reconcileOne(Instance& i, bool& busy) {
  if (i.state == InstanceState::Terminated) {
    if (clock_.now() - i.stateChangedAt >= options_.terminatedRetention.count()) {
      TIDE_RETURN_IF_ERROR(
          store_.transact([&](store::Tx& tx) { return tx.deleteInstance(i.instanceId); }));
    }
    return Status::ok();
  }
  Instance before = i;
  busy = step(i) || busy;
  if (i.state != before.state || i.pid != before.pid || i.goal != before.goal ||
      i.stateReason.message != before.stateReason.message || i.frozen != before.frozen ||
      i.hibernate != before.hibernate || i.impairedSince != before.impairedSince) {
    // The record as read plus this pass's changes: the store has one writer, this thread,
    // so nothing else changed it in between.
    TIDE_RETURN_IF_ERROR(store_.transact([&](store::Tx& tx) { return tx.putInstance(i); }));
  }
  return Status::ok();
}

bool InstanceController::launch(Instance& i) {
  const model::InstanceType* type = model::findInstanceType(i.instanceType);
  // The disk a worker made for this launch, if it just ended (a cancelled one is made again).
  std::optional<Status> prepared = preparer_.take(i.instanceId);
  if (prepared && prepared->code() == "Cancelled") {
    prepared.reset();
  }
  // A restart keeps its disk; a failed first launch leaves nothing.
  bool restart =
      !prepared && provider_.diskReady(i.instanceId) && !provider_.diskPath(i.instanceId).empty();
  std::string error;
  if (prepared && !prepared->isOk()) {
    error = prepared->message();
  } else if (type == nullptr) {
    error = "unknown instance type " + i.instanceType;
  } else if (!images_.contains(i.contentDigest)) {
    error = "the files of image " + i.imageId + " (" + i.contentDigest + ") are missing";
  }
  if (error.empty()) {
    // A process left over from a launch the server did not get to record (it died between
    // starting the process and writing the store) would run twice: end it first (releasing the
    // cgroup kills what is left in it).
    warnIfFailed(provider_.releaseProcess(i.instanceId),
                 "releasing the process of " + i.instanceId);
    runtime::LaunchSpec spec;
    spec.instanceId = i.instanceId;
    spec.imageRootfs = images_.rootfsPath(i.contentDigest);
    spec.command = i.runCommand;
    if (!i.userData.empty()) {
      spec.userData = base64Decode(i.userData).value_or("");
    }
    spec.environment = {
        {"HOST", i.privateIpAddress},           {"PORT", std::to_string(i.port)},
        {"TIDE_INSTANCE_ID", i.instanceId},     {"TIDE_IMAGE_ID", i.imageId},
        {"TIDE_INSTANCE_TYPE", i.instanceType}, {"TIDE_PRIVATE_IP", i.privateIpAddress}};
    // What lets the instance call the API about itself (a lifecycle hook's
    // complete-lifecycle-action from user data): where the API is, its region, its group. The
    // template's Environment may set any of them instead.
    auto give = [&](const char* name, const std::string& value) {
      bool own = std::any_of(i.environment.begin(), i.environment.end(),
                             [&](const auto& v) { return v.name == name; });
      if (!value.empty() && !own) {
        spec.environment.emplace_back(name, value);
      }
    };
    give("AWS_ENDPOINT_URL", options_.apiEndpoint);
    give("TIDE_ENDPOINT", options_.apiEndpoint);
    give("AWS_REGION", options_.region);
    give("AWS_DEFAULT_REGION", options_.region);
    give("TIDE_AUTO_SCALING_GROUP_NAME", i.autoScalingGroupName);
    for (const auto& v : i.environment) {
      spec.environment.emplace_back(v.name, v.value);
    }
    spec.cpuCores = type->cpuCores;
    spec.memoryBytes = type->memoryBytes;
    spec.pidsMax = type->pidsMax;
    spec.rootVolumeBytes = int64_t{rootVolumeGiB(i)} << 30;
    if (!provider_.diskReady(i.instanceId)) {
      // A first launch: its disk is made on a worker; the instance stays pending meanwhile
      // and its process starts at the pass after the disk is ready.
      preparer_.submit(spec);
      return true;
    }
    Result<runtime::ProcessRef> ref = provider_.start(spec);
    if (ref) {
      i.pid = ref->pid;
      i.processStartTicks = ref->startTicks;
      i.launchTime = clock_.now();
      i.stateReason = {};
      i.impairedSince = 0; // a new boot: the status check starts over
      cpuMeter_.forget(i.instanceId);
      latestUsage_.erase(i.instanceId);
      setState(i, InstanceState::Running);
      return false;
    }
    error = ref.status().message();
  }
  logWarn("instance " + i.instanceId + " failed to launch: " + error);
  i.stateReason = {"Server.InternalError",
                   "Server.InternalError: Internal error on launch: " + error};
  if (restart) {
    warnIfFailed(provider_.releaseProcess(i.instanceId),
                 "releasing the process of " + i.instanceId);
    i.goal = InstanceGoal::Stop;
    setState(i, InstanceState::Stopped);
  } else {
    warnIfFailed(provider_.destroy(i.instanceId), "removing " + i.instanceId);
    i.goal = InstanceGoal::Terminate;
    i.privateIpAddress.clear();
    setState(i, InstanceState::Terminated);
  }
  return false;
}

void InstanceController::finishExit(Instance& i, const std::string& exitDescription) {
  warnIfFailed(provider_.releaseProcess(i.instanceId), "releasing the process of " + i.instanceId);
  i.pid = 0;
  i.processStartTicks = 0;
  i.frozen = false;    // its cgroup went with it
  i.impairedSince = 0; // stopped or terminated: no status check (EC2's not-applicable)
  cpuMeter_.forget(i.instanceId);
  latestUsage_.erase(i.instanceId);
  if (!exitDescription.empty()) {
    i.lastExit = exitDescription;
  }
  if (i.goal == InstanceGoal::Terminate) {
    Status s = provider_.destroy(i.instanceId);
    if (!s.isOk()) {
      logWarn("instance " + i.instanceId + ": cleanup incomplete: " + s.message());
    }
    if (i.stateReason.code.empty() || i.stateReason.code == "Client.InstanceInitiatedShutdown") {
      i.stateReason = {"Client.UserInitiatedShutdown",
                       "Client.UserInitiatedShutdown: User initiated shutdown"};
    }
    i.privateIpAddress.clear();
    setState(i, InstanceState::Terminated);
    return;
  }
  if (i.goal == InstanceGoal::Run) {
    // The app ended on its own: an instance-initiated shutdown, which stops the instance
    // (EC2's default InstanceInitiatedShutdownBehavior).
    i.goal = InstanceGoal::Stop;
    i.stateReason = {"Client.InstanceInitiatedShutdown",
                     "Client.InstanceInitiatedShutdown: Instance initiated shutdown"};
    i.stateTransitionReason = "Instance initiated shutdown: the app " + exitDescription;
  } else {
    i.stateReason = {"Client.UserInitiatedShutdown",
                     "Client.UserInitiatedShutdown: User initiated shutdown"};
  }
  setState(i, InstanceState::Stopped);
}

void InstanceController::freezeOrThaw(Instance& i) {
  if (i.hibernate == i.frozen) {
    return;
  }
  Status s = provider_.freeze(i.instanceId, i.hibernate);
  if (s.isOk()) {
    i.frozen = i.hibernate;
    logInfo("instance " + i.instanceId + ": " + (i.frozen ? "frozen" : "thawed"));
    return;
  }
  // No freezer (no cgroups, not root) or a write that failed: the instance keeps running, and
  // says why (the warm pool then keeps it Warmed:Running).
  logWarn("instance " + i.instanceId + ": cannot " + (i.hibernate ? "freeze" : "thaw") + ": " +
          s.toString());
  if (i.hibernate) {
    i.hibernate = false;
    i.stateReason = {"Server.FreezerUnavailable", "Server.FreezerUnavailable: " + s.message()};
  }
}

void InstanceController::checkMemory(Instance& i) {
  if (i.impairedSince != 0) {
    return;
  }
  if (int64_t kills = provider_.oomKills(i.instanceId); kills > 0) {
    i.impairedSince = clock_.now();
    logWarn("instance " + i.instanceId + ": the kernel killed " + std::to_string(kills) +
            " of its processes for memory (its type's limit); its status check fails: impaired");
  }
}

bool InstanceController::waitForPreparation(Instance& i) {
  const bool launching = i.goal == InstanceGoal::Run &&
                         (i.state == InstanceState::Pending || i.state == InstanceState::Stopped);
  if (preparer_.inFlight(i.instanceId)) {
    if (!launching) {
      preparer_.cancel(i.instanceId); // stopped or terminated before its disk was ready
    }
    return true;
  }
  if (!launching) {
    preparer_.take(i.instanceId); // ended after a stop or terminate came: nobody waits for it
  }
  return false;
}

bool InstanceController::step(Instance& i) {
  if (waitForPreparation(i)) {
    return true;
  }
  runtime::ProcessRef ref{i.pid, i.processStartTicks};
  switch (i.state) {
  case InstanceState::Pending:
    if (i.goal == InstanceGoal::Run) {
      return launch(i);
    }
    finishExit(i, "");
    return false;
  case InstanceState::Stopped:
    if (i.goal == InstanceGoal::Run) {
      setState(i, InstanceState::Pending);
      return launch(i);
    }
    if (i.goal == InstanceGoal::Terminate) {
      finishExit(i, "");
    }
    return false;
  case InstanceState::Running: {
    if (i.pid == 0) {
      // Impaired, its processes gone (below): nothing to watch until it is stopped or ended.
      if (i.goal != InstanceGoal::Run) {
        finishExit(i, "");
      }
      return false;
    }
    checkMemory(i);
    runtime::ProcessStatus st = provider_.status(i.instanceId, ref);
    if (st.state == runtime::ProcessState::Exited) {
      logInfo("instance " + i.instanceId + ": its app " + st.description);
      checkMemory(i); // killed between the two reads: the count goes with the cgroup
      if (i.impairedSince != 0 && i.goal == InstanceGoal::Run) {
        // Killed for memory: as an EC2 instance whose kernel ran out of memory, it stays
        // running with a failed status check (its group replaces it) rather than stopping.
        warnIfFailed(provider_.releaseProcess(i.instanceId),
                     "releasing the process of " + i.instanceId);
        i.pid = 0;
        i.processStartTicks = 0;
        i.frozen = false;
        i.lastExit = st.description;
        cpuMeter_.forget(i.instanceId);
        latestUsage_.erase(i.instanceId);
        return false;
      }
      finishExit(i, st.description);
      return false;
    }
    if (i.goal == InstanceGoal::Run) {
      freezeOrThaw(i);
      return false;
    }
    warnIfFailed(provider_.signal(i.instanceId, ref, SIGTERM), "stopping " + i.instanceId);
    setState(i,
             i.goal == InstanceGoal::Stop ? InstanceState::Stopping : InstanceState::ShuttingDown);
    return true;
  }
  case InstanceState::Stopping:
  case InstanceState::ShuttingDown: {
    if (i.goal == InstanceGoal::Terminate && i.state == InstanceState::Stopping) {
      i.state = InstanceState::ShuttingDown; // keep the grace period's start
    }
    runtime::ProcessStatus st = provider_.status(i.instanceId, ref);
    if (st.state == runtime::ProcessState::Exited) {
      finishExit(i, st.description);
      return false;
    }
    if (clock_.now() - i.stateChangedAt >= options_.terminationGrace.count()) {
      warnIfFailed(provider_.signal(i.instanceId, ref, SIGKILL), "killing " + i.instanceId);
    }
    return true;
  }
  case InstanceState::Terminated:
    return false;
  }
  return false;
}

Result<std::vector<InstanceReading>> InstanceController::sample() {
  std::vector<Instance> all;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto r, tx.instances());
        all = std::move(r);
        return Status::ok();
      },
      false));
  TimeMs now = clock_.now();
  std::vector<InstanceReading> readings;
  std::set<std::string> running;
  std::set<std::string> hasProcess; // running, or stopping with its process still there
  for (const Instance& i : all) {
    if (i.state == InstanceState::Running || i.state == InstanceState::Stopping ||
        i.state == InstanceState::ShuttingDown) {
      hasProcess.insert(i.instanceId);
    }
    if (i.state != InstanceState::Running || i.pid == 0) { // pid 0: impaired, processes gone
      continue;
    }
    running.insert(i.instanceId);
    Result<runtime::Usage> u = provider_.usage(i.instanceId, {i.pid, i.processStartTicks});
    if (!u) {
      continue;
    }
    model::InstanceUsage& usage = latestUsage_[i.instanceId];
    const model::InstanceType* type = model::findInstanceType(i.instanceType);
    std::optional<double> pct =
        cpuMeter_.record(i.instanceId, {u->cpuNanos, now}, type != nullptr ? type->cpuCores : 0);
    if (pct) {
      usage.cpuUtilization = *pct;
    }
    usage.memoryBytes = u->memoryBytes;
    // A warm pool's instance is not part of its group's aggregates (Auto Scaling's).
    readings.push_back({i.instanceId, i.instanceType, i.imageId,
                        operations::inWarmPool(i) ? std::string() : i.autoScalingGroupName, usage,
                        i.launchTime});
  }
  cpuMeter_.retain(running);
  // The latest reading stays in view while the process is there (as a stopping instance's
  // last reading did when it was stored), and goes with it.
  for (auto it = latestUsage_.begin(); it != latestUsage_.end();) {
    it = hasProcess.count(it->first) ? std::next(it) : latestUsage_.erase(it);
  }
  return readings;
}

std::optional<model::InstanceUsage> InstanceController::usage(const std::string& instanceId) const {
  auto it = latestUsage_.find(instanceId);
  if (it == latestUsage_.end()) {
    return std::nullopt;
  }
  return it->second;
}

void InstanceController::removeLeftovers() {
  std::set<std::string> live;
  Status s = store_.transact(
      [&](store::Tx& tx) -> Status {
        TIDE_ASSIGN_OR_RETURN(auto r, tx.instances());
        for (const Instance& i : r) {
          if (i.state != InstanceState::Terminated) {
            live.insert(i.instanceId);
          }
        }
        return Status::ok();
      },
      false);
  if (!s.isOk()) {
    logWarn("cannot look for leftovers: " + s.message());
    return;
  }
  for (const std::string& id : provider_.knownInstances()) {
    if (!live.count(id)) {
      logInfo("removing leftovers of instance " + id + " (not a live instance of this store)");
      Status d = provider_.destroy(id);
      if (!d.isOk()) {
        logWarn("could not remove leftovers of " + id + ": " + d.message());
      }
    }
  }
}

} // namespace tide::control
