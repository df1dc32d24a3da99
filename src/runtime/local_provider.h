// The local process provider: instances are process trees on this machine, each in its own
// cgroup (v1 or v2, detected) with the CPU quota and memory limit of its instance type, on its
// own writable copy of the image's files (overlayfs where the machine allows it, a plain copy
// otherwise), with console output captured to a file.
//
// Layout under root (the data directory's "instances" folder):
//   <root>/<id>/disk      the instance's files (overlay mount point, or the copy)
//   <root>/<id>/upper     overlay upper dir (changes), <root>/<id>/work overlay work dir
//   <root>/<id>/console.log
//   <root>/<id>/user-data  the user data script
// cgroups: <controller mount>/tide/<id> (v1, each of cpu, cpuacct, memory, pids, freezer) or
// <v2 mount>/tide/<id>; tide never touches groups it did not create.
//
// Processes start in their own session (setsid) with output to the console file, so they
// outlive a server restart and are found again by ProcessRef. Not thread-safe: used from the
// control thread only, except prepareDisk() (a first launch's disk, made on a worker thread)
// and the read-only diskReady(), diskPath() and consoleLogPath().
//
// Isolation (isolation.h): as root each instance runs as a uid/gid of its own, allocated from
// kInstanceUidBase on (kept in <root>/<id>/uid; its disk is chowned to it), in its own PID and
// mount namespaces; without root in a user namespace as the server's own uid. A start-up probe
// runs the whole path once and falls back to no isolation (named in info()) when it fails.
#pragma once

#include "runtime/instance_provider.h"

#include <memory>

namespace tide::runtime {

inline constexpr unsigned kInstanceUidBase = 200000;  // first uid/gid given to an instance
inline constexpr unsigned kInstanceUidCount = 100000; // how many there are

struct LocalProviderOptions {
  std::string root;                            // folder for instance disks and logs
  std::string cgroupMode = "auto";             // "auto" (detect), "v1", "v2" or "none"
  std::string cgroupV1Root = "/sys/fs/cgroup"; // where v1 controller hierarchies are mounted
  std::string cgroupV2Root = "";  // v2 mount point; empty: found in /proc/self/mountinfo
  std::string diskMode = "auto";  // "auto" (overlayfs if it mounts, else copy), "overlay", "copy"
  std::string dataDir = "";       // the server's data directory, hidden from instances
  std::string isolation = "auto"; // "auto" (as much as the machine allows) or "none"
};

class LocalProvider final : public InstanceProvider {
public:
  // Detects what the machine allows; never fails (it degrades and says so in info()).
  explicit LocalProvider(LocalProviderOptions options);
  ~LocalProvider() override;

  Result<ProcessRef> start(const LaunchSpec& spec) override;
  bool diskReady(const std::string& instanceId) const override;
  Status prepareDisk(const LaunchSpec& spec, const std::atomic<bool>* cancel) override;
  ProcessStatus status(const std::string& instanceId, const ProcessRef& ref) override;
  Status signal(const std::string& instanceId, const ProcessRef& ref, int sig) override;
  Result<Usage> usage(const std::string& instanceId, const ProcessRef& ref) override;
  int64_t oomKills(const std::string& instanceId) const override;
  Status trimConsole(const std::string& instanceId) override;
  Status freeze(const std::string& instanceId, bool frozen) override;
  Status releaseProcess(const std::string& instanceId) override;
  Status destroy(const std::string& instanceId) override;
  std::string diskPath(const std::string& instanceId) const override;
  std::string consoleLogPath(const std::string& instanceId) const override;
  std::vector<std::string> knownInstances() const override;
  ProviderInfo info() const override;

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace tide::runtime
