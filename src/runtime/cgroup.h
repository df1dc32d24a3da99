// cgroups for instances: detection of what the machine offers (v1 hierarchies, a v2 mount with
// the cpu and memory controllers, or nothing usable) and the life of one instance's group:
// create with limits, list members, read accounting, remove.
//
// tide's groups live under a top-level group of its own: <v1 hierarchy>/tide/<id> for each of
// cpu, cpuacct, memory, pids, freezer, or <v2 mount>/tide/<id>. Nothing else is touched,
// except that v2 needs +cpu +memory +pids in cgroup.subtree_control of the mount's root and of
// tide/ so that tide/<id> gets those controllers.
//
// Files are opened with O_CREAT, so the same code runs against a fake tree of plain files in
// tests (on cgroupfs O_CREAT of an existing file just opens it).
#pragma once

#include "common/status.h"
#include "runtime/instance_provider.h"
#include "runtime/mountinfo.h"

#include <string>
#include <utility>
#include <vector>

namespace tide::runtime {

enum class CgroupVersion {
  None, // no usable cgroups: processes run without limits, accounting comes from /proc
  V1,   // one hierarchy per controller (cgroup v1)
  V2,   // the unified hierarchy with cpu and memory (and pids where available)
};

// What detectCgroups() found. Copyable; read-only after detection.
struct CgroupSetup {
  CgroupVersion version = CgroupVersion::None;
  // v1: controller name → the hierarchy's mount point, for each controller found (cpu,
  // cpuacct and memory always; pids and freezer when mounted).
  std::vector<std::pair<std::string, std::string>> v1Mounts;
  std::string v2Root;  // v2: the cgroup2 mount point
  bool v2Pids = false; // v2: the pids controller is enabled for tide's groups
  // v1 on a hybrid host: the (controller-less) cgroup2 mount where each instance also gets a
  // group, <v2Hybrid>/tide/<id>, for the address programs (address_guard.h); "" for none.
  std::string v2Hybrid;
  std::string note; // which controllers are used, or why none is usable
};

// Detects cgroups. mode: "auto" (v2 if it has cpu and memory, else v1, else none), "v1", "v2"
// or "none". v1Root: folder holding the v1 hierarchies; v2Root: the cgroup2 mount, empty to
// find it in mounts. Creates tide's top-level groups (and enables v2 controllers) as a
// side effect, since writing is the only sure test of being allowed to. Never fails: returns
// None with the reason in note.
CgroupSetup detectCgroups(const std::string& mode, const std::string& v1Root,
                          const std::string& v2Root, const std::vector<MountEntry>& mounts);

struct CgroupLimits {
  double cpuCores = 1.0;   // quota in cores per 100 ms period; <= 0 for none
  int64_t memoryBytes = 0; // 0 for none
  int64_t pidsMax = 0;     // 0 for none
};

// CFS period used for every instance, in microseconds.
inline constexpr int64_t kCpuPeriodUs = 100000;

// The CPU quota in microseconds per kCpuPeriodUs for a number of cores (at least 1000), or -1
// for no limit.
int64_t cpuQuotaUs(double cores);

// One instance's group (in every hierarchy for v1). Cheap to construct; holds only paths.
class InstanceCgroup {
public:
  InstanceCgroup(const CgroupSetup& setup, const std::string& instanceId);

  // The group's folders (one per distinct v1 hierarchy, or one for v2); empty for None.
  const std::vector<std::string>& dirs() const { return dirs_; }
  // The cgroup.procs files a new process writes its pid into to join the group.
  std::vector<std::string> procsFiles() const;
  // The group's cgroup2 folder (v2, or v1 on a hybrid host), for cgroup BPF programs; "".
  std::string v2Dir() const;
  // True when any of the group's folders exists.
  bool exists() const;

  // Creates the group (an existing one is reused) and writes the limits. On failure the
  // folders this call created are removed again.
  Status create(const CgroupLimits& limits);
  // Pids in the group (v1: from the cpu hierarchy). Empty when the group does not exist.
  std::vector<int> members() const;
  // CPU time and resident memory of the group.
  Result<Usage> usage() const;
  // How many of the group's processes the kernel has killed for memory since the group was
  // made: v2 memory.events "oom_kill", v1 memory.oom_control "oom_kill" (Linux 4.13 and
  // later). 0 when the group, the file or the counter is missing (no cgroups: never known).
  int64_t oomKills() const;
  // Whether the group can be frozen: v1 with the freezer hierarchy, or v2 (cgroup.freeze).
  bool canFreeze() const;
  // Freezes (true) or thaws (false) every process of the group: v1 freezer.state FROZEN /
  // THAWED, v2 cgroup.freeze 1 / 0. A frozen process keeps its memory and uses no CPU; signals
  // wait for the thaw (SIGKILL included), so remove() thaws first. Errors: FreezerUnavailable
  // when canFreeze() is false; InternalError naming the file that could not be written.
  Status freeze(bool frozen);
  // Removes the group's folders; processes still in it get SIGKILL first, and removal is
  // retried for up to about a second while the kernel lets go of them. Missing folders are
  // fine. Errors: "InternalError" naming the folder that would not go.
  Status remove();

private:
  std::string dirFor(const std::string& controller) const;

  CgroupSetup setup_;
  std::vector<std::string> dirs_;
  std::string id_;
};

// The instance's cgroup2 group: <cgroup2 mount>/tide/<instance-id> (on a hybrid host the
// controller-less cgroup2 mount, on a pure v2 host the group tide makes for the instance);
// "" when the machine has no cgroup2 mount. The mount is looked up once.
std::string cgroup2Path(const std::string& instanceId);

// Writes value to a cgroup file (O_WRONLY|O_CREAT|O_TRUNC). Errors name the file.
Status writeCgroupFile(const std::string& path, const std::string& value);

// Parses "key value" lines (memory.stat, cpu.stat) and returns the value of key.
std::optional<int64_t> statValue(std::string_view text, std::string_view key);

} // namespace tide::runtime
