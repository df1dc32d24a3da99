#include "runtime/cgroup.h"

#include "common/text.h"
#include "runtime/file_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>

namespace tide::runtime {

namespace {

constexpr const char* kTopGroup = "tide";
const char* const kV1Controllers[] = {"cpu", "cpuacct", "memory", "pids", "freezer"};

bool isUnderDir(const std::string& path, const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') {
    d.pop_back();
  }
  return path == d || (path.size() > d.size() && path.compare(0, d.size(), d) == 0 &&
                       (d == "/" || path[d.size()] == '/'));
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// mkdir that accepts an existing folder. Returns errno or 0.
int makeDir(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) {
    return 0;
  }
  return errno;
}

std::optional<int64_t> parseInt(std::string_view s) {
  s = trim(s);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return std::nullopt;
  }
  return v;
}

std::vector<std::string> wordsOf(std::string_view s) {
  std::vector<std::string> out;
  for (std::string& w : splitString(trim(s), ' ')) {
    if (!w.empty()) {
      out.push_back(std::move(w));
    }
  }
  return out;
}

void sleepMs(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string tryV2(const std::string& givenRoot, const std::vector<MountEntry>& mounts,
                  CgroupSetup& out) {
  std::string root = givenRoot;
  if (root.empty()) {
    for (const MountEntry& m : mounts) {
      if (m.fsType == "cgroup2") {
        root = m.mountPoint;
        break;
      }
    }
  }
  if (root.empty()) {
    return "no cgroup2 mount";
  }
  auto controllers = readFile(root + "/cgroup.controllers");
  if (!controllers) {
    return "cgroup v2 at " + root + " has no readable cgroup.controllers";
  }
  std::vector<std::string> have = wordsOf(*controllers);
  auto has = [&](const char* c) { return std::find(have.begin(), have.end(), c) != have.end(); };
  if (!has("cpu") || !has("memory")) {
    return "cgroup v2 at " + root + " lacks the cpu or memory controller (they are bound to " +
           "v1 hierarchies or not delegated)";
  }
  const std::string top = root + "/" + kTopGroup;
  if (int err = makeDir(top); err != 0) {
    return "cgroup v2 at " + root + " is not writable (" + errnoText(err) + "; not root?)";
  }
  // Each controller is enabled on its own: one that fails does not block the others.
  for (const char* c : {"cpu", "memory", "pids"}) {
    if (!has(c)) {
      continue;
    }
    Status atRoot = writeCgroupFile(root + "/cgroup.subtree_control", std::string("+") + c);
    Status atTop = writeCgroupFile(top + "/cgroup.subtree_control", std::string("+") + c);
    if (!atRoot.isOk() || !atTop.isOk()) {
      if (std::string(c) == "pids") {
        continue; // optional
      }
      return "cannot enable the " + std::string(c) + " controller for " + top + " (" +
             (atRoot.isOk() ? atTop : atRoot).message() + ")";
    }
    if (std::string(c) == "pids") {
      out.v2Pids = true;
    }
  }
  out.version = CgroupVersion::V2;
  out.v2Root = root;
  out.note = std::string("cpu, memory") + (out.v2Pids ? ", pids" : "") + " under " + top;
  return "";
}

std::string tryV1(const std::string& v1Root, const std::vector<MountEntry>& mounts,
                  CgroupSetup& out) {
  std::vector<std::pair<std::string, std::string>> found;
  for (const char* c : kV1Controllers) {
    std::string at;
    for (const MountEntry& m : mounts) {
      if (m.fsType == "cgroup" && hasOption(m.superOptions, c) &&
          isUnderDir(m.mountPoint, v1Root)) {
        at = m.mountPoint;
        break;
      }
    }
    // Not in the mount table (a test's fake tree, or /proc unreadable): take the
    // conventional folder when it looks like a hierarchy.
    if (at.empty() && exists(v1Root + "/" + c + "/cgroup.procs")) {
      at = v1Root + "/" + c;
    }
    if (!at.empty()) {
      found.emplace_back(c, at);
    }
  }
  for (const char* required : {"cpu", "cpuacct", "memory"}) {
    if (std::none_of(found.begin(), found.end(),
                     [&](const auto& p) { return p.first == required; })) {
      return std::string("no cgroup v1 ") + required + " hierarchy under " + v1Root;
    }
  }
  for (const auto& [controller, mount] : found) {
    const std::string top = mount + "/" + kTopGroup;
    int err = makeDir(top);
    if (err == 0 && access(top.c_str(), W_OK) != 0) {
      err = errno;
    }
    if (err != 0) {
      if (controller == "pids" || controller == "freezer") {
        continue;
      }
      return "cgroup v1 " + controller + " hierarchy at " + mount + " is not writable (" +
             errnoText(err) + "; not root?)";
    }
    out.v1Mounts.emplace_back(controller, mount);
  }
  out.version = CgroupVersion::V1;
  for (const MountEntry& m : mounts) {
    if (m.fsType == "cgroup2" && isUnderDir(m.mountPoint, v1Root)) {
      const std::string top = m.mountPoint + "/" + kTopGroup;
      if (makeDir(top) == 0 && access(top.c_str(), W_OK) == 0) {
        out.v2Hybrid = m.mountPoint;
      }
      break;
    }
  }
  std::string names;
  bool conventional = true;
  for (const auto& [controller, mount] : out.v1Mounts) {
    names += (names.empty() ? "" : ", ") + controller;
    conventional = conventional && mount == v1Root + "/" + controller;
  }
  if (conventional) {
    out.note = names + " under " + v1Root + "/*/" + kTopGroup;
  } else {
    out.note.clear();
    for (const auto& [controller, mount] : out.v1Mounts) {
      out.note += (out.note.empty() ? "" : ", ") + controller + " under " + mount + "/" + kTopGroup;
    }
  }
  return "";
}

} // namespace

int64_t cpuQuotaUs(double cores) {
  if (!(cores > 0)) {
    return -1;
  }
  return std::max<int64_t>(1000, std::llround(cores * double(kCpuPeriodUs)));
}

Status writeCgroupFile(const std::string& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return internalError("cannot open " + path + ": " + errnoText(errno));
  }
  ssize_t n;
  do {
    n = write(fd, value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (n != ssize_t(value.size())) {
    return internalError("cannot write \"" + value + "\" to " + path + ": " +
                         (n < 0 ? errnoText(err) : std::string("short write")));
  }
  return Status::ok();
}

std::optional<int64_t> statValue(std::string_view text, std::string_view key) {
  for (const std::string& line : splitString(text, '\n')) {
    std::string_view l = line;
    if (l.size() > key.size() && l.substr(0, key.size()) == key && l[key.size()] == ' ') {
      return parseInt(l.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

CgroupSetup detectCgroups(const std::string& mode, const std::string& v1Root,
                          const std::string& v2Root, const std::vector<MountEntry>& mounts) {
  CgroupSetup setup;
  const std::string degraded =
      ": instances run without CPU/memory limits; CPU is measured from /proc";
  if (mode == "none") {
    setup.note = "cgroups turned off (cgroup mode \"none\")" + degraded;
    return setup;
  }
  std::string whyNotV2, whyNotV1;
  if (mode == "auto" || mode == "v2") {
    CgroupSetup v2;
    whyNotV2 = tryV2(v2Root, mounts, v2);
    if (whyNotV2.empty()) {
      return v2;
    }
  }
  if (mode == "auto" || mode == "v1") {
    CgroupSetup v1;
    whyNotV1 = tryV1(v1Root, mounts, v1);
    if (whyNotV1.empty()) {
      return v1;
    }
  }
  if (mode != "auto" && mode != "v1" && mode != "v2") {
    setup.note = "unknown cgroup mode \"" + mode + "\"" + degraded;
    return setup;
  }
  std::string reasons = whyNotV1;
  if (!whyNotV2.empty()) {
    reasons = reasons.empty() ? whyNotV2 : whyNotV1 + "; " + whyNotV2;
  }
  setup.note = reasons + degraded;
  return setup;
}

InstanceCgroup::InstanceCgroup(const CgroupSetup& setup, const std::string& instanceId)
    : setup_(setup), id_(instanceId) {
  if (setup_.version == CgroupVersion::V1) {
    for (const auto& [controller, mount] : setup_.v1Mounts) {
      std::string dir = mount + "/" + kTopGroup + "/" + id_;
      if (std::find(dirs_.begin(), dirs_.end(), dir) == dirs_.end()) {
        dirs_.push_back(dir); // co-mounted controllers (cpu,cpuacct) share one folder
      }
    }
    if (!setup_.v2Hybrid.empty()) {
      dirs_.push_back(setup_.v2Hybrid + "/" + kTopGroup + "/" + id_);
    }
  } else if (setup_.version == CgroupVersion::V2) {
    dirs_.push_back(setup_.v2Root + "/" + kTopGroup + "/" + id_);
  }
}

std::string InstanceCgroup::v2Dir() const {
  if (setup_.version == CgroupVersion::V2) {
    return dirs_.front();
  }
  if (setup_.version == CgroupVersion::V1 && !setup_.v2Hybrid.empty()) {
    return dirs_.back();
  }
  return "";
}

std::string cgroup2Path(const std::string& instanceId) {
  static const std::string mount = [] {
    for (const MountEntry& m : readMountInfo()) {
      if (m.fsType == "cgroup2") {
        return m.mountPoint;
      }
    }
    return std::string();
  }();
  return mount.empty() ? "" : mount + "/" + kTopGroup + "/" + instanceId;
}

std::string InstanceCgroup::dirFor(const std::string& controller) const {
  if (setup_.version == CgroupVersion::V2) {
    return dirs_.front();
  }
  for (const auto& [c, mount] : setup_.v1Mounts) {
    if (c == controller) {
      return mount + "/" + kTopGroup + "/" + id_;
    }
  }
  return "";
}

std::vector<std::string> InstanceCgroup::procsFiles() const {
  std::vector<std::string> out;
  for (const std::string& d : dirs_) {
    out.push_back(d + "/cgroup.procs");
  }
  return out;
}

bool InstanceCgroup::exists() const {
  return std::any_of(dirs_.begin(), dirs_.end(),
                     [](const std::string& d) { return ::tide::runtime::exists(d); });
}

Status InstanceCgroup::create(const CgroupLimits& limits) {
  std::vector<std::string> made;
  auto fail = [&](Status s) {
    for (auto it = made.rbegin(); it != made.rend(); ++it) {
      rmdir(it->c_str());
    }
    return s;
  };
  for (const std::string& d : dirs_) {
    if (mkdir(d.c_str(), 0755) == 0) {
      made.push_back(d);
    } else if (errno != EEXIST) {
      return fail(internalError("cannot create cgroup " + d + ": " + errnoText(errno)));
    }
  }
  const int64_t quota = cpuQuotaUs(limits.cpuCores);
  if (setup_.version == CgroupVersion::V1) {
    const std::string cpu = dirFor("cpu");
    Status s = writeCgroupFile(cpu + "/cpu.cfs_period_us", std::to_string(kCpuPeriodUs));
    if (s.isOk()) {
      s = writeCgroupFile(cpu + "/cpu.cfs_quota_us", std::to_string(quota));
    }
    if (s.isOk()) {
      s = writeCgroupFile(dirFor("memory") + "/memory.limit_in_bytes",
                          limits.memoryBytes > 0 ? std::to_string(limits.memoryBytes) : "-1");
    }
    if (s.isOk() && !dirFor("pids").empty()) {
      s = writeCgroupFile(dirFor("pids") + "/pids.max",
                          limits.pidsMax > 0 ? std::to_string(limits.pidsMax) : "max");
    }
    if (!s.isOk()) {
      return fail(s);
    }
  } else if (setup_.version == CgroupVersion::V2) {
    const std::string d = dirs_.front();
    Status s = writeCgroupFile(d + "/cpu.max", (quota > 0 ? std::to_string(quota) : "max") + " " +
                                                   std::to_string(kCpuPeriodUs));
    if (s.isOk()) {
      s = writeCgroupFile(d + "/memory.max",
                          limits.memoryBytes > 0 ? std::to_string(limits.memoryBytes) : "max");
    }
    if (s.isOk() && setup_.v2Pids) {
      s = writeCgroupFile(d + "/pids.max",
                          limits.pidsMax > 0 ? std::to_string(limits.pidsMax) : "max");
    }
    if (!s.isOk()) {
      return fail(s);
    }
  }
  return Status::ok();
}

std::vector<int> InstanceCgroup::members() const {
  std::vector<int> out;
  if (dirs_.empty()) {
    return out;
  }
  std::string d = setup_.version == CgroupVersion::V1 ? dirFor("cpu") : dirs_.front();
  auto text = readFile(d + "/cgroup.procs");
  if (!text) {
    return out;
  }
  for (const std::string& line : splitString(*text, '\n')) {
    auto v = parseInt(line);
    if (v && *v > 0) { // never 0 or negative: kill() would hit our own group or everyone
      out.push_back(int(*v));
    }
  }
  return out;
}

int64_t InstanceCgroup::oomKills() const {
  std::string path;
  if (setup_.version == CgroupVersion::V1) {
    path = dirFor("memory") + "/memory.oom_control";
  } else if (setup_.version == CgroupVersion::V2) {
    path = dirs_.front() + "/memory.events";
  } else {
    return 0;
  }
  auto text = readFile(path);
  auto n = text ? statValue(*text, "oom_kill") : std::nullopt;
  return n.value_or(0);
}

Result<Usage> InstanceCgroup::usage() const {
  Usage u;
  if (setup_.version == CgroupVersion::V1) {
    const std::string cpuacct = dirFor("cpuacct") + "/cpuacct.usage";
    auto cpu = readFile(cpuacct);
    auto ns = cpu ? parseInt(*cpu) : std::nullopt;
    if (!ns) {
      return internalError("cannot read " + cpuacct);
    }
    const std::string memPath = dirFor("memory") + "/memory.stat";
    auto mem = readFile(memPath);
    auto rss = mem ? statValue(*mem, "total_rss") : std::nullopt;
    if (!rss) {
      return internalError("cannot read total_rss from " + memPath);
    }
    u.cpuNanos = uint64_t(*ns);
    u.memoryBytes = *rss;
    return u;
  }
  if (setup_.version == CgroupVersion::V2) {
    const std::string cpuPath = dirs_.front() + "/cpu.stat";
    auto cpu = readFile(cpuPath);
    auto usec = cpu ? statValue(*cpu, "usage_usec") : std::nullopt;
    if (!usec) {
      return internalError("cannot read usage_usec from " + cpuPath);
    }
    const std::string memPath = dirs_.front() + "/memory.stat";
    auto mem = readFile(memPath);
    auto anon = mem ? statValue(*mem, "anon") : std::nullopt;
    if (!anon) {
      return internalError("cannot read anon from " + memPath);
    }
    u.cpuNanos = uint64_t(*usec) * 1000;
    u.memoryBytes = *anon;
    return u;
  }
  return internalError("no cgroup accounting (cgroups are not in use)");
}

bool InstanceCgroup::canFreeze() const {
  return setup_.version == CgroupVersion::V2 ||
         (setup_.version == CgroupVersion::V1 && !dirFor("freezer").empty());
}

Status InstanceCgroup::freeze(bool frozen) {
  if (!canFreeze()) {
    return Status("FreezerUnavailable",
                  "no cgroup freezer for instance " + id_ +
                      " (cgroups: " + (setup_.version == CgroupVersion::None ? "none" : "v1") +
                      " without the freezer hierarchy)");
  }
  if (setup_.version == CgroupVersion::V2) {
    return writeCgroupFile(dirs_.front() + "/cgroup.freeze", frozen ? "1" : "0");
  }
  return writeCgroupFile(dirFor("freezer") + "/freezer.state", frozen ? "FROZEN" : "THAWED");
}

Status InstanceCgroup::remove() {
  constexpr int kAttempts = 100;
  if (canFreeze() && exists()) {
    (void)freeze(false); // a frozen process would not die: SIGKILL waits for the thaw
  }
  constexpr int kPauseMs = 10;
  for (const std::string& d : dirs_) {
    for (int attempt = 0;; ++attempt) {
      if (rmdir(d.c_str()) == 0 || errno == ENOENT) {
        break;
      }
      int err = errno;
      if (err != EBUSY || attempt == kAttempts) {
        return internalError("cannot remove cgroup " + d + ": " + errnoText(err));
      }
      // Still populated: kill what is left in this hierarchy and give the kernel a moment.
      auto text = readFile(d + "/cgroup.procs");
      for (const std::string& line : splitString(text ? *text : "", '\n')) {
        auto pid = parseInt(line);
        if (pid && *pid > 0) {
          kill(pid_t(*pid), SIGKILL);
        }
      }
      sleepMs(kPauseMs);
    }
  }
  return Status::ok();
}

} // namespace tide::runtime
