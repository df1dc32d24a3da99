// The instance provider: what turns an instance record into a running process tree and back.
//
// The controllers in `control` only see this interface; the local process provider
// (local_provider.h) is the default implementation, and tests use fakes.
#pragma once

#include "common/status.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tide::runtime {

// What to start. The caller fills in the environment the app sees (HOST, PORT,
// TIDE_INSTANCE_ID, the template's environment); the provider adds nothing but PATH defaults.
struct LaunchSpec {
  std::string instanceId;  // "i-..."
  std::string imageRootfs; // the image's read-only tree (ImageStore::rootfsPath)
  std::string command;     // run as /bin/sh -c COMMAND in the instance's own copy of the tree
  std::string userData;    // decoded script run before the app ("#!" scripts run as such,
                           // others with /bin/sh); empty for none. Its failure is logged to
                           // the console and the app starts anyway, as cloud-init does.
  std::vector<std::pair<std::string, std::string>> environment; // NAME=VALUE pairs
  double cpuCores = 1.0;       // CPU quota in cores (0.25 = a quarter of one core)
  int64_t memoryBytes = 0;     // memory limit; 0 for none
  int64_t pidsMax = 0;         // process count limit; 0 for none
  int64_t rootVolumeBytes = 0; // root volume size, made at the first start (root_volume.h);
                               // 0 for none
  int terminationGraceMs = 0;  // unused by start(); kept for the caller's bookkeeping
};

// Identifies a started process across server restarts: the pid alone could be reused.
struct ProcessRef {
  int pid = 0;             // leader of the instance's process group (its session)
  uint64_t startTicks = 0; // field 22 of /proc/PID/stat when it started
};

enum class ProcessState {
  Running, // the leader is alive
  Exited,  // the leader has exited (its exit status is in ProcessStatus when known)
};

struct ProcessStatus {
  ProcessState state = ProcessState::Running;
  std::string description; // for Exited: "exited with status 3", "killed by signal 9 (Killed)",
                           // or "exited (status unknown: not a child of this server)"
};

struct Usage {
  uint64_t cpuNanos = 0;   // CPU time used by the whole tree since it started
  int64_t memoryBytes = 0; // memory in use by the tree (resident, without page cache)
};

// What the provider can do on this machine, for start-up messages and `tide status`.
struct ProviderInfo {
  std::string cgroups;       // "v1", "v2" or "none"
  std::string cgroupNote;    // why "none", or which controllers are used
  std::string diskCopy;      // "overlayfs" or "copy"
  std::string diskNote;      // why "copy" when overlayfs is not usable
  bool freezer = false;      // freeze() works: Hibernated warm pools are possible
  std::string isolation;     // "full" (as root), "user-namespace" (without root) or "none"
  std::string isolationNote; // what the instances' isolation lacks on this machine, and why
  std::string limits;        // what is enforced per instance (memory, processes, root volume
                             // size) and what is not, and why
};

class InstanceProvider {
public:
  virtual ~InstanceProvider() = default;

  // Prepares the instance's disk if it does not exist yet (a writable copy of imageRootfs;
  // an existing disk is kept, so stop/start keeps its files), its cgroup with the limits, and
  // starts the process tree in its own session, with output appended to the console log.
  // Returns once exec succeeded, or an error with nothing left running.
  virtual Result<ProcessRef> start(const LaunchSpec& spec) = 0;

  // Whether start() finds the instance's disk made (a restart keeps it) and needs no long step
  // first. False for a first launch: then its caller may run prepareDisk() first on a thread
  // of its own (the instance controller's workers), since the disk can take seconds to make (a
  // copy of the image's tree). Thread-safe (it only looks at files).
  virtual bool diskReady(const std::string& instanceId) const {
    (void)instanceId;
    return true;
  }

  // start()'s long first step alone: makes the instance's folder and its disk (every step that
  // makes a disk belongs here, so that it runs off the control thread). Runs on a worker thread
  // while the control thread goes on with other instances: it touches nothing but the
  // instance's own folder and mounts, and meanwhile the caller makes no call for this instance
  // other than diskReady(), diskPath() and consoleLogPath(). When *cancel turns true (a
  // terminate, a stop, the server stopping) it stops early with "Cancelled". On any failure
  // nothing of the disk is left. A disk that exists already is kept (OK at once).
  virtual Status prepareDisk(const LaunchSpec& spec, const std::atomic<bool>* cancel) {
    (void)spec;
    (void)cancel;
    return Status::ok();
  }

  // Whether the process is still running. Reaps it when it is this server's child.
  virtual ProcessStatus status(const std::string& instanceId, const ProcessRef& ref) = 0;

  // Sends sig to every process of the instance (the cgroup's members, or the process group
  // when there is no cgroup). A process that is gone is not an error.
  virtual Status signal(const std::string& instanceId, const ProcessRef& ref, int sig) = 0;

  // Freezes (true) or thaws (false) the instance's processes with the cgroup freezer (a warm
  // pool's Hibernated state: memory kept, no CPU). Idempotent. Errors: FreezerUnavailable when
  // this provider or machine has no freezer (no cgroups, not root, no freezer hierarchy).
  virtual Status freeze(const std::string& instanceId, bool frozen) {
    (void)frozen;
    return Status("FreezerUnavailable", "this provider cannot freeze instance " + instanceId);
  }

  // How many of the instance's processes the kernel has killed for memory (an OOM kill in its
  // cgroup) since its processes were started; 0 when none or when this provider cannot tell
  // (no cgroups). Read before releaseProcess(), which takes the count with the cgroup.
  virtual int64_t oomKills(const std::string& instanceId) const {
    (void)instanceId;
    return 0;
  }

  // CPU and memory in use, read from cgroup accounting (or /proc without cgroups).
  virtual Result<Usage> usage(const std::string& instanceId, const ProcessRef& ref) = 0;

  // After the process tree has exited: removes the cgroup, killing anything still in it (so it
  // also ends processes left over from a launch that was never recorded). The disk and console
  // log stay. A no-op when there is no cgroup.
  virtual Status releaseProcess(const std::string& instanceId) = 0;

  // Removes everything of the instance: cgroup, mounts, disk, console log. Idempotent.
  virtual Status destroy(const std::string& instanceId) = 0;

  // The instance's own copy of the image's files (its working directory), readable from the
  // server, for CreateImage from an instance. Empty when the disk does not exist.
  virtual std::string diskPath(const std::string& instanceId) const = 0;

  // The file that holds the console output.
  virtual std::string consoleLogPath(const std::string& instanceId) const = 0;

  // Keeps the console log within its bound on the host (console_log.h: the latest 64 KB or
  // more stay), however much the instance writes. The server calls it every 100 ms.
  virtual Status trimConsole(const std::string& instanceId) {
    (void)instanceId;
    return Status::ok();
  }

  // Instance ids that have files under this provider's root (a launch creates them first), for
  // cleanup of leftovers. Never instances of other tide servers on the same machine, although
  // they share the cgroup tree.
  virtual std::vector<std::string> knownInstances() const = 0;

  virtual ProviderInfo info() const = 0;
};

} // namespace tide::runtime
