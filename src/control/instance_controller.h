// The instance controller: moves each instance's observed state toward its goal through the
// instance provider, and samples CPU and memory of running instances. The samples stay in
// memory (the latest per instance, and the readings it hands to the metrics publisher); only
// state changes are written to the store.
//
// Transitions it makes (see model::InstanceState):
//   pending (goal run)       → (first launch: its disk is made on a worker, disk_preparer.h;
//                              the instance stays pending meanwhile) → provider start →
//                              running, or terminated (launch failed; or stopped when a stopped
//                              instance fails to start again)
//   pending, disk being made, goal stop/terminate → the preparation is cancelled, then as any
//                              pending instance: stopped / terminated (everything removed)
//   running (goal stop)      → SIGTERM → stopping;   (goal terminate) → SIGTERM → shutting-down
//   running, app exited      → stopped with Client.InstanceInitiatedShutdown
//   stopping/shutting-down   → SIGKILL once the grace period is over; when the process is gone:
//                              stopped (disk kept) / terminated (everything removed)
//   stopped (goal run)       → pending → (as above);  (goal terminate) → terminated
//   running, hibernate ≠ frozen → the provider's freezer freezes or thaws it (a warm pool's
//                              Hibernated state); no freezer: hibernate cleared, stateReason
//                              Server.FreezerUnavailable
//   terminated               → the record is deleted after the retention period
// Level-triggered: a pass looks at the store and the provider as they are, so a restart in the
// middle of any step converges (a preparation is not stored: the next server prepares the
// disk again). Not thread-safe: runs on the control thread (its preparer's workers only make
// disks).
#pragma once

#include "common/clock.h"
#include "control/disk_preparer.h"
#include "control/instance_reading.h"
#include "control/watch.h"
#include "runtime/cpu_utilization.h"
#include "runtime/image_store.h"
#include "runtime/instance_provider.h"
#include "store/store.h"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace tide::control {

struct InstanceControllerOptions {
  Millis terminationGrace = Millis(10'000);       // SIGTERM to SIGKILL
  Millis terminatedRetention = Millis(3'600'000); // terminated records stay visible this long
  Millis busyInterval = Millis(100);  // how soon to look again while an instance is changing
  Millis idleInterval = Millis(1000); // how soon to look again when nothing is changing
  std::string apiEndpoint;     // the API's URL, given to instances (AWS_ENDPOINT_URL); empty: none
  std::string region;          // the region given to instances (AWS_REGION); empty: none
  int maxLaunchesPerPass = 10; // launches in one pass; the rest wait for the next pass (at once),
                               // so the API on the same loop keeps answering during a big launch
  // The disks of first launches are made on a worker (disk_preparer.h); these are its options:
  // how many at once, the wake when one ends (called on the worker), the tests' hold
  // (TIDE_TEST_HOLD_LAUNCHES).
  DiskPreparerOptions preparation;
};

class InstanceController {
public:
  InstanceController(store::Store& store, runtime::InstanceProvider& provider,
                     runtime::ImageStore& images, const Clock& clock,
                     InstanceControllerOptions options);

  // One pass over the instances `wake` names by id (every instance by default), and those
  // whose last step could not be recorded. Returns how soon to run again at the latest. One
  // instance's failure to write its step (a store error) is logged and retried at the busy
  // interval; the others go on. Errors: the instances cannot be read.
  Result<Millis> reconcile(const Wake& wake = Wake::all());

  // Reads CPU and memory of running instances (CPUUtilization over the time since the
  // previous sample, as a percentage of the instance type's CPU) and returns them, one reading
  // per running instance the provider could read; it also keeps the latest for usage(). Writes
  // nothing to the store. Errors: the store cannot be read.
  Result<std::vector<InstanceReading>> sample();

  // The latest reading of an instance, from its first sample after it started until its
  // process ends; nullopt otherwise (and for every instance until the first sample after a
  // server restart).
  std::optional<model::InstanceUsage> usage(const std::string& instanceId) const;

  // The API's URL and region that instances started from now on are given in their environment
  // (the server knows its port only once it listens).
  void setApiEndpoint(std::string url, std::string region) {
    options_.apiEndpoint = std::move(url);
    options_.region = std::move(region);
  }

  // Ends the disk preparations (cancelled: their instances stay pending and are prepared again
  // at the next start) and the preparer's workers. Before the server's loop goes. Idempotent.
  void stopPreparations() { preparer_.stop(); }
  // Blocks until no disk preparation is in flight. For tests.
  void waitForPreparations() { preparer_.waitIdle(); }

  // At start-up: removes what the provider still has (disks, cgroups, processes) of instances
  // that the store does not know or knows as terminated.
  void removeLeftovers();

private:
  // One instance's pass: its step, then its record. Sets `busy` when it is still changing.
  Status reconcileOne(model::Instance& i, bool& busy);
  // Applies one step to one instance; returns true when it is still changing.
  bool step(model::Instance& i);
  bool launch(model::Instance& i);
  // While the instance's disk is being prepared: cancels it unless the instance still goes to
  // run, and returns true (nothing else touches the instance until it ends). A result that
  // nobody waits for any more (a stop or terminate came) is dropped. False otherwise.
  bool waitForPreparation(model::Instance& i);
  // Running with goal run: applies the hibernate goal through the provider's freezer.
  void freezeOrThaw(model::Instance& i);
  // Running: marks the instance impaired (impairedSince) once the kernel has killed one of its
  // processes for memory.
  void checkMemory(model::Instance& i);
  void finishExit(model::Instance& i, const std::string& exitDescription);
  void setState(model::Instance& i, model::InstanceState s);

  store::Store& store_;
  runtime::InstanceProvider& provider_;
  runtime::ImageStore& images_;
  const Clock& clock_;
  InstanceControllerOptions options_;

  runtime::CpuMeter cpuMeter_; // the last CPU reading of each running instance
  std::map<std::string, model::InstanceUsage> latestUsage_; // by instance id
  std::set<std::string> failed_; // instances whose last step was not recorded: retried
  DiskPreparer preparer_;        // last: its workers end before the rest goes
};

} // namespace tide::control
