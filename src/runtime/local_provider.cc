#include "runtime/local_provider.h"

#include "common/crash_point.h"
#include "common/log.h"
#include "common/text.h"
#include "runtime/address_guard.h"
#include "runtime/cgroup.h"
#include "runtime/console_log.h"
#include "runtime/disk.h"
#include "runtime/file_tree.h"
#include "runtime/isolation.h"
#include "runtime/mountinfo.h"
#include "runtime/process.h"
#include "runtime/root_volume.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

namespace tide::runtime {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The shell run before the app when there is user data: $1 is the user data file, $2 the
// command. The user data's failure is logged and the app starts anyway.
constexpr const char* kRunUserDataDirect =
    "\"$1\"; st=$?; [ \"$st\" -eq 0 ] || echo \"user data exited with status $st\"; "
    "exec /bin/sh -c \"$2\"";
constexpr const char* kRunUserDataWithShell =
    "/bin/sh \"$1\"; st=$?; [ \"$st\" -eq 0 ] || echo \"user data exited with status $st\"; "
    "exec /bin/sh -c \"$2\"";

Status checkInstanceId(const std::string& id) {
  if (id.empty() || id[0] == '.' || id.find('/') != std::string::npos || id.size() > 255) {
    return Status("InvalidParameterValue", "not a usable instance id: \"" + id + "\"");
  }
  return Status::ok();
}

// Writes path whole or not at all (a new file renamed into place).
Status writePrivateFile(const std::string& path, const std::string& data, mode_t mode) {
  const std::string tmp = path + ".tmp";
  unlink(tmp.c_str());
  TIDE_RETURN_IF_ERROR(writeNewFile(tmp, data, mode));
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return internalError("cannot write " + path + ": " + errnoText(err));
  }
  return Status::ok();
}

bool isDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string canonical(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

// path and everything under it owned by uid:gid; symbolic links themselves, never followed.
Status chownTree(const std::string& path, uid_t uid, gid_t gid) {
  if (lchown(path.c_str(), uid, gid) != 0) {
    return internalError("cannot give " + path + " to uid " + std::to_string(uid) + ": " +
                         errnoText(errno));
  }
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (lchown(it->path().c_str(), uid, gid) != 0) {
      return internalError("cannot give " + it->path().string() + " to uid " + std::to_string(uid) +
                           ": " + errnoText(errno));
    }
  }
  if (ec) {
    return internalError("cannot list " + path + ": " + ec.message());
  }
  return Status::ok();
}

// The first folder on the way to path (path included) that a uid other than its owner and
// outside its group cannot pass ("" when there is none): hidden under a tmpfs in the instance's
// view, since the instance could not see into it anyway, so that it can reach its own disk.
std::string firstClosedFolder(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      std::string prefix = path.substr(0, i);
      struct stat st;
      if (stat(prefix.c_str(), &st) == 0 && (st.st_mode & S_IXOTH) == 0) {
        return prefix;
      }
    }
  }
  return "";
}

} // namespace

struct LocalProvider::Impl {
  LocalProviderOptions options;
  std::string root; // canonical form of options.root
  CgroupSetup cgroups;
  bool overlay = false;
  std::string diskNote;
  std::string rootVolumeNote; // "" when instances get root volumes (root_volume.h), else why not
  std::map<std::string, int> children;                                   // id → our child's pid
  std::map<std::string, std::pair<ProcessRef, std::string>> reapedExits; // id → how it ended
  bool isolate = false;       // instances start through isolation.h
  bool userNamespace = false; // not root: in a user namespace as the server's own uid
  std::string isolationNote;  // what isolation lacks here, and why
  std::string addressNote;    // why the last address confinement failed ("" when none did)

  // The instance's own uid (as root), kept in <dir>/uid from its first start: the first free one
  // from a start point given by its address (127.1.B.y: the base + 256 B + y), which the
  // host-wide address registry gives to one server's instance alone, so that two servers on one
  // machine never give one uid to two instances (an instance without such an address starts
  // from a point given by its id). fresh: allocated now (the disk must be given to it).
  Result<unsigned> instanceUid(const std::string& id, const std::string& host, bool& fresh) {
    const std::string file = instanceDir(id) + "/uid";
    if (auto text = readFile(file)) {
      unsigned uid = 0;
      auto [p, ec] = std::from_chars(text->data(), text->data() + text->size(), uid);
      if (ec == std::errc() && uid >= kInstanceUidBase &&
          uid < kInstanceUidBase + kInstanceUidCount) {
        fresh = false;
        return uid;
      }
    }
    std::set<unsigned> used;
    if (DIR* d = opendir(root.c_str())) {
      while (dirent* de = readdir(d)) {
        if (de->d_name[0] == '.') {
          continue;
        }
        if (auto text = readFile(root + "/" + de->d_name + "/uid")) {
          unsigned uid = 0;
          std::from_chars(text->data(), text->data() + text->size(), uid);
          used.insert(uid);
        }
      }
      closedir(d);
    }
    unsigned start = unsigned(std::hash<std::string>()(id) % kInstanceUidCount);
    in_addr a{};
    if (inet_pton(AF_INET, host.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 16) == 0x7f01) {
      start = ntohl(a.s_addr) & 0xffff; // 127.1.B.y: 256 B + y
    }
    for (unsigned k = 0; k < kInstanceUidCount; ++k) {
      unsigned uid = kInstanceUidBase + (start + k) % kInstanceUidCount;
      if (used.count(uid) == 0) {
        TIDE_RETURN_IF_ERROR(writePrivateFile(file, std::to_string(uid), 0644));
        fresh = true;
        return uid;
      }
    }
    return Status("InsufficientInstanceCapacity", "no free instance uid left");
  }

  // What every instance hides: the data directory (or the instances folder), the cgroup
  // hierarchies, and the first folder on the way to its disk it could not pass.
  std::vector<std::string> hiddenPaths(const std::string& diskPath) const {
    std::vector<std::string> hidden = {root};
    if (!options.dataDir.empty()) {
      hidden.push_back(canonical(options.dataDir));
    }
    for (const std::string& c : {options.cgroupV1Root, cgroups.v2Root}) {
      if (!c.empty() && isDirectory(c)) {
        hidden.push_back(canonical(c));
      }
    }
    if (!userNamespace) {
      std::string closed = firstClosedFolder(diskPath);
      if (!closed.empty()) {
        hidden.push_back(closed);
      }
    }
    return hidden;
  }

  // Runs /bin/true the way instances run, in a scratch folder: "" when it worked, else why not.
  std::string probeIsolation() {
    std::string tmpl = root + "/.isolation-probe-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return "cannot make a scratch folder in " + root + ": " + errnoText(errno);
    }
    chmod(tmpl.c_str(), 0755);
    IsolationSpec spec;
    spec.userNamespace = userNamespace;
    spec.uid = spec.gid = kInstanceUidBase + kInstanceUidCount; // just past the range
    spec.diskPath = tmpl;
    spec.hiddenPaths = hiddenPaths(tmpl);
    IsolationPlan plan = planIsolation(spec);
    SpawnRequest req;
    req.path = "/bin/sh";
    req.argv = {"sh", "-c", "exec true"};
    req.env = {std::string("PATH=") + kDefaultPath};
    req.workingDir = tmpl;
    req.consolePath = "/dev/null";
    req.isolation = &plan;
    std::string why;
    Result<int> pid = spawnProcess(req);
    if (!pid) {
      why = pid.status().message();
    } else {
      int st = 0;
      while (waitpid(*pid, &st, 0) < 0 && errno == EINTR) {
      }
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        why = "a probe instance " + describeWaitStatus(st);
      }
    }
    removeTree(tmpl).ignoreError(); // a scratch folder left behind is harmless (dot name)
    return why;
  }

  std::string instanceDir(const std::string& id) const { return root + "/" + id; }

  // Reaps the instance's leader if it is our child and has exited; returns true then.
  bool reap(const std::string& id, const ProcessRef& ref) {
    auto it = children.find(id);
    if (it == children.end() || it->second != ref.pid) {
      return false;
    }
    int st = 0;
    pid_t r;
    do {
      r = waitpid(ref.pid, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == ref.pid) {
      reapedExits[id] = {ref, describeWaitStatus(st)};
      children.erase(it);
      return true;
    }
    if (r < 0 && errno == ECHILD) {
      children.erase(it); // reaped elsewhere (SIGCHLD ignored?): fall back to /proc
    }
    return false;
  }

  // The leader's startTicks if pid is alive and still the same process; nullopt otherwise.
  static bool sameProcessAlive(const ProcessRef& ref) {
    auto st = readProcStat(ref.pid);
    return st && st->startTicks == ref.startTicks && st->state != 'Z' && st->state != 'X';
  }
};

LocalProvider::LocalProvider(LocalProviderOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.options = std::move(options);
  std::error_code ec;
  std::filesystem::create_directories(m.options.root, ec);
  char resolved[PATH_MAX];
  m.root = realpath(m.options.root.c_str(), resolved) != nullptr ? resolved : m.options.root;
  if (ec) {
    logWarn("cannot create instances folder " + m.options.root + ": " + ec.message());
  }

  m.cgroups = detectCgroups(m.options.cgroupMode, m.options.cgroupV1Root, m.options.cgroupV2Root,
                            readMountInfo());

  const std::string& disk = m.options.diskMode;
  if (disk == "copy") {
    m.diskNote = "disk mode \"copy\" chosen in the options";
  } else {
    std::string why = probeOverlay(m.root);
    m.overlay = why.empty();
    if (!m.overlay) {
      m.diskNote = why + ": each instance gets a full copy of its image (reflinked where the " +
                   "file system allows)";
    }
    if (disk != "auto" && disk != "overlay") {
      m.diskNote =
          "unknown disk mode \"" + disk + "\"; " + (m.overlay ? "using overlayfs" : m.diskNote);
    }
  }
  m.rootVolumeNote = probeRootVolumes(m.root);
  if (m.options.isolation == "none") {
    m.isolationNote = "isolation \"none\" chosen in the options: instances run as the server's "
                      "user in the server's namespaces";
  } else {
    m.userNamespace = geteuid() != 0;
    std::string why = m.probeIsolation();
    m.isolate = why.empty();
    if (!m.isolate) {
      m.isolationNote = why + ": instances run as the server's user in the server's namespaces";
    } else if (m.userNamespace) {
      m.isolationNote =
          "not root: instances run as the server's own uid in a user namespace (no uid of their "
          "own, so they can read what the server's user can read outside the hidden folders); "
          "no cgroup or address confinement";
    }
  }
  ProviderInfo i = info();
  logInfo("local provider: cgroups " + i.cgroups + " (" + i.cgroupNote + "), disks " + i.diskCopy +
          (i.diskNote.empty() ? "" : " (" + i.diskNote + ")") + ", isolation " + i.isolation +
          (i.isolationNote.empty() ? "" : " (" + i.isolationNote + ")"));
}

LocalProvider::~LocalProvider() = default;

namespace {

// What makeDisk made, for a caller that rolls back.
struct DiskSteps {
  bool madeDir = false;          // the instance's folder
  bool madeVolume = false;       // its root volume (root_volume.h)
  bool volumeMountedNow = false; // its root volume, mounted (again)
  bool madeDisk = false;         // its disk
  bool mountedNow = false;       // an existing overlay disk, mounted again
};

// Where the instance's disk lives: in its root volume when it has one (root_volume.h), else
// directly in its folder.
std::string diskDirOf(const std::string& dir) {
  RootVolume volume(dir);
  return volume.exists() ? volume.mountPoint() : dir;
}

// The disk step of a launch, alone (prepareDisk() on a worker, or start()'s first step): the
// instance's folder, the user data's pending mark, the disk made (a first launch) or mounted
// again (an overlay disk after a reboot), inside the instance's root volume when volumes is
// true or it has one already (made by mkfs and loop-mounted at the first launch, mounted again
// after a reboot: root_volume.h, the limit on the root volume's size). Touches nothing but the
// instance's folder: safe on a worker thread.
Status makeDisk(const std::string& dir, bool overlay, bool volumes, const LaunchSpec& spec,
                const std::atomic<bool>* cancel, DiskSteps& done) {
  if (mkdir(dir.c_str(), 0755) == 0) {
    done.madeDir = true;
  } else if (errno != EEXIST) {
    return internalError("cannot create " + dir + ": " + errnoText(errno));
  }
  RootVolume volume(dir);
  const bool useVolume = volume.exists() || (volumes && spec.rootVolumeBytes > 0);
  if (useVolume) {
    TIDE_RETURN_IF_ERROR(
        volume.prepare(spec.rootVolumeBytes, &done.madeVolume, &done.volumeMountedNow));
    TIDE_CRASH_POINT("provider.disk.volume");
  }
  InstanceDisk disk(useVolume ? volume.mountPoint() : dir);
  // User data runs once per instance, at its first start, as cloud-init runs user-data
  // scripts "per instance": a restart on the kept disk goes straight to the app. Until its
  // process has started, `user-data.pending` says the first start is still to come (a server
  // killed between making the disk and starting the process must not lose the user data).
  if (!spec.userData.empty() && !disk.exists()) {
    TIDE_RETURN_IF_ERROR(writePrivateFile(dir + "/user-data.pending", "", 0600));
  }
  if (disk.exists()) {
    if (disk.isOverlay() && !disk.isMounted()) {
      if (!isDirectory(spec.imageRootfs)) {
        return Status("InvalidParameterValue",
                      "image tree " + spec.imageRootfs + " does not exist");
      }
      TIDE_RETURN_IF_ERROR(disk.mountOverlay(spec.imageRootfs));
      done.mountedNow = true;
    }
    return Status::ok();
  }
  if (!isDirectory(spec.imageRootfs)) {
    return Status("InvalidParameterValue", "image tree " + spec.imageRootfs + " does not exist");
  }
  if (overlay) {
    TIDE_RETURN_IF_ERROR(disk.createOverlay(spec.imageRootfs));
    done.madeDisk = true;
    return Status::ok();
  }
  std::optional<RootVolume::WriteCheck> written;
  if (useVolume) {
    written.emplace(volume); // a copy larger than the host's room fails here, not later
  }
  TIDE_RETURN_IF_ERROR(disk.createCopy(spec.imageRootfs, cancel));
  done.madeDisk = true;
  return written ? written->check() : Status::ok();
}

// Undoes what makeDisk made (a failed start or preparation).
void undoDisk(const std::string& dir, const DiskSteps& done) {
  InstanceDisk disk(diskDirOf(dir));
  if (done.madeDir) {
    if (InstanceDisk::unmountAll(dir).isOk()) {
      removeTree(dir).ignoreError(); // rolling back: the caller says why
    }
    return;
  }
  if (done.madeDisk) {
    disk.remove().ignoreError(); // rolling back: the caller says why
  } else if (done.mountedNow) {
    InstanceDisk::unmountAll(disk.path()).ignoreError(); // rolling back, as above
  }
  RootVolume volume(dir);
  if (done.madeVolume) {
    volume.remove().ignoreError(); // rolling back, as above
  } else if (done.volumeMountedNow) {
    InstanceDisk::unmountAll(volume.mountPoint()).ignoreError(); // rolling back, as above
  }
}

} // namespace

bool LocalProvider::diskReady(const std::string& instanceId) const {
  // A root volume not mounted (after a reboot) hides its disk: not ready, mounted again by
  // prepareDisk().
  return checkInstanceId(instanceId).isOk() &&
         InstanceDisk(diskDirOf(impl_->instanceDir(instanceId))).exists();
}

Status LocalProvider::prepareDisk(const LaunchSpec& spec, const std::atomic<bool>* cancel) {
  TIDE_RETURN_IF_ERROR(checkInstanceId(spec.instanceId));
  const std::string dir = impl_->instanceDir(spec.instanceId);
  DiskSteps done;
  Status s = makeDisk(dir, impl_->overlay, impl_->rootVolumeNote.empty(), spec, cancel, done);
  if (!s.isOk()) {
    undoDisk(dir, done); // a cancelled or failed copy has removed its own partial files
    return s;
  }
  TIDE_CRASH_POINT("provider.prepare.disk");
  return Status::ok();
}

Result<ProcessRef> LocalProvider::start(const LaunchSpec& spec) {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(checkInstanceId(spec.instanceId));
  const std::string dir = m.instanceDir(spec.instanceId);
  InstanceCgroup cgroup(m.cgroups, spec.instanceId);

  if (m.cgroups.version != CgroupVersion::None && !cgroup.members().empty()) {
    return Status("IncorrectInstanceState",
                  "instance " + spec.instanceId + " still has processes in its cgroup");
  }

  DiskSteps done;
  auto rollBack = [&](Status s) -> Result<ProcessRef> {
    Status cg = cgroup.remove();
    if (!cg.isOk()) {
      logWarn("rolling back start of " + spec.instanceId + ": " + cg.toString());
    }
    undoDisk(dir, done);
    return s;
  };

  // The disk: made already by prepareDisk() on the instance controller's worker for a first
  // launch, so that here it is only mounted again when needed (made here otherwise).
  const std::string pendingPath = dir + "/user-data.pending";
  if (Status s = makeDisk(dir, m.overlay, m.rootVolumeNote.empty(), spec, nullptr, done);
      !s.isOk()) {
    return rollBack(s);
  }
  InstanceDisk disk(diskDirOf(dir)); // in its root volume when it has one
  const bool madeDisk = done.madeDisk;
  TIDE_CRASH_POINT("provider.start.disk");

  const std::string userDataPath = dir + "/user-data";
  const bool runUserData =
      !spec.userData.empty() && (madeDisk || access(pendingPath.c_str(), F_OK) == 0);
  if (runUserData) {
    Status s = writePrivateFile(userDataPath, spec.userData, 0700);
    if (!s.isOk()) {
      return rollBack(s);
    }
  }

  CgroupLimits limits;
  limits.cpuCores = spec.cpuCores;
  limits.memoryBytes = spec.memoryBytes;
  limits.pidsMax = spec.pidsMax;
  if (Status s = cgroup.create(limits); !s.isOk()) {
    return rollBack(s);
  }
  TIDE_CRASH_POINT("provider.start.cgroup");

  SpawnRequest req;
  req.path = "/bin/sh";
  if (runUserData) {
    bool direct = spec.userData.compare(0, 2, "#!") == 0;
    req.argv = {"sh", "-c",         direct ? kRunUserDataDirect : kRunUserDataWithShell,
                "sh", userDataPath, spec.command};
  } else {
    req.argv = {"sh", "-c", spec.command};
  }
  bool hasPath = false;
  for (const auto& [name, value] : spec.environment) {
    req.env.push_back(name + "=" + value);
    hasPath = hasPath || name == "PATH";
  }
  if (!hasPath) {
    const char* serverPath = getenv("PATH");
    req.env.push_back(std::string("PATH=") + (serverPath != nullptr ? serverPath : kDefaultPath));
  }
  req.workingDir = disk.path();
  req.consolePath = consoleLogPath(spec.instanceId);
  req.cgroupProcsFiles = cgroup.procsFiles();

  // Its sockets confined to its own address (root: loading BPF needs privileges).
  if (m.isolate && !m.userNamespace && !cgroup.v2Dir().empty()) {
    for (const auto& [name, value] : spec.environment) {
      if (name != "HOST") {
        continue;
      }
      Status g = confineAddress(cgroup.v2Dir(), value);
      if (!g.isOk() && g.code() != "InvalidParameterValue") {
        if (m.addressNote.empty()) {
          logWarn("instance " + spec.instanceId + ": " + g.message());
        }
        m.addressNote = "address confinement unavailable: " + g.message();
      }
    }
  }

  TIDE_CRASH_POINT("provider.start.address");
  IsolationPlan plan;
  if (m.isolate) {
    IsolationSpec iso;
    iso.userNamespace = m.userNamespace;
    iso.diskPath = disk.path();
    iso.userDataPath = runUserData ? userDataPath : "";
    iso.hiddenPaths = m.hiddenPaths(disk.path());
    if (!m.userNamespace) {
      bool fresh = false;
      std::string host;
      for (const auto& [name, value] : spec.environment) {
        host = name == "HOST" ? value : host;
      }
      Result<unsigned> uid = m.instanceUid(spec.instanceId, host, fresh);
      if (!uid) {
        return rollBack(uid.status());
      }
      iso.uid = iso.gid = *uid;
      TIDE_CRASH_POINT("provider.start.uid");
      // Also when a start was cut short between choosing the uid and giving the disk to it.
      struct stat root;
      bool given = stat(disk.path().c_str(), &root) == 0 && root.st_uid == iso.uid;
      if (fresh || madeDisk || !given) {
        if (Status s = chownTree(disk.path(), iso.uid, iso.gid); !s.isOk()) {
          return rollBack(s);
        }
      }
      if (runUserData && lchown(userDataPath.c_str(), iso.uid, iso.gid) != 0) {
        return rollBack(internalError("cannot give " + userDataPath + " to uid " +
                                      std::to_string(iso.uid) + ": " + errnoText(errno)));
      }
    }
    plan = planIsolation(iso);
    req.isolation = &plan;
  }

  Result<int> pid = spawnProcess(req);
  if (!pid) {
    return rollBack(pid.status());
  }
  ProcessRef ref;
  ref.pid = *pid;
  auto st = readProcStat(ref.pid);
  if (!st) {
    // Cannot happen: our unreaped child always has a /proc entry.
    kill(-ref.pid, SIGKILL);
    waitpid(ref.pid, nullptr, 0);
    return rollBack(internalError("cannot read /proc/" + std::to_string(ref.pid) + "/stat"));
  }
  ref.startTicks = st->startTicks;
  if (runUserData) {
    unlink(pendingPath.c_str()); // started: a later start is a restart (ENOENT: none was made)
  }
  TIDE_CRASH_POINT("provider.start.spawned");
  m.children[spec.instanceId] = ref.pid;
  m.reapedExits.erase(spec.instanceId);
  return ref;
}

ProcessStatus LocalProvider::status(const std::string& instanceId, const ProcessRef& ref) {
  Impl& m = *impl_;
  ProcessStatus out;
  auto known = m.reapedExits.find(instanceId);
  if (known == m.reapedExits.end() || known->second.first.pid != ref.pid ||
      known->second.first.startTicks != ref.startTicks) {
    m.reap(instanceId, ref);
    known = m.reapedExits.find(instanceId);
  }
  if (known != m.reapedExits.end() && known->second.first.pid == ref.pid &&
      known->second.first.startTicks == ref.startTicks) {
    out.state = ProcessState::Exited;
    out.description = known->second.second;
    return out;
  }
  if (Impl::sameProcessAlive(ref)) {
    out.state = ProcessState::Running;
    return out;
  }
  out.state = ProcessState::Exited;
  out.description = "exited (status unknown: not a child of this server)";
  return out;
}

Status LocalProvider::signal(const std::string& instanceId, const ProcessRef& ref, int sig) {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(checkInstanceId(instanceId));
  if (ref.pid <= 1) {
    return Status("InvalidParameterValue",
                  "not a process of an instance: pid " + std::to_string(ref.pid));
  }
  InstanceCgroup cgroup(m.cgroups, instanceId);
  if (cgroup.canFreeze() && cgroup.exists()) {
    (void)cgroup.freeze(false); // a frozen process would only see the signal once thawed
  }
  std::string failures;
  auto send = [&](pid_t target) {
    if (kill(target, sig) != 0 && errno != ESRCH) {
      failures += (failures.empty() ? "" : "; ") + std::string("kill(") + std::to_string(target) +
                  "): " + errnoText(errno);
    }
  };
  for (int pid : cgroup.members()) {
    send(pid);
  }
  // The process group: unless the leader's pid now belongs to another process, in which case
  // the group is long gone and the number may be someone else's.
  auto leader = readProcStat(ref.pid);
  if (!leader || leader->startTicks == ref.startTicks) {
    send(-ref.pid);
  }
  if (!failures.empty()) {
    return internalError("cannot signal instance " + instanceId + ": " + failures);
  }
  return Status::ok();
}

int64_t LocalProvider::oomKills(const std::string& instanceId) const {
  if (!checkInstanceId(instanceId).isOk()) {
    return 0;
  }
  return InstanceCgroup(impl_->cgroups, instanceId).oomKills();
}

Status LocalProvider::trimConsole(const std::string& instanceId) {
  TIDE_RETURN_IF_ERROR(checkInstanceId(instanceId));
  return trimConsoleLog(consoleLogPath(instanceId)).status();
}

Result<Usage> LocalProvider::usage(const std::string& instanceId, const ProcessRef& ref) {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(checkInstanceId(instanceId));
  if (m.cgroups.version != CgroupVersion::None) {
    return InstanceCgroup(m.cgroups, instanceId).usage();
  }
  // Without cgroups: the members of the process group, from /proc. Children that were waited
  // for count through their parent's cutime/cstime.
  Usage u;
  auto leader = readProcStat(ref.pid);
  if (leader && leader->startTicks != ref.startTicks) {
    return u; // the pid is someone else's now: the instance's group is gone
  }
  static const long ticksPerSecond = sysconf(_SC_CLK_TCK);
  static const long pageSize = sysconf(_SC_PAGESIZE);
  uint64_t ticks = 0;
  for (const ProcStat& p : listProcStats()) {
    // Under isolation the leader and the init are copies of the server that only wait.
    if (m.isolate && (p.pid == ref.pid || p.ppid == ref.pid)) {
      continue;
    }
    if (p.pgrp == ref.pid) {
      ticks += p.utime + p.stime + p.cutime + p.cstime;
      u.memoryBytes += p.rssPages * pageSize;
    }
  }
  u.cpuNanos = ticks * (1000000000ULL / uint64_t(ticksPerSecond > 0 ? ticksPerSecond : 100));
  return u;
}

Status LocalProvider::freeze(const std::string& instanceId, bool frozen) {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(checkInstanceId(instanceId));
  InstanceCgroup cgroup(m.cgroups, instanceId);
  if (!cgroup.canFreeze()) {
    return Status("FreezerUnavailable",
                  "no cgroup freezer on this machine (cgroups: " + m.cgroups.note +
                      "); Hibernated warm instances stay Running");
  }
  return cgroup.freeze(frozen);
}

Status LocalProvider::releaseProcess(const std::string& instanceId) {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(checkInstanceId(instanceId));
  Status s = InstanceCgroup(m.cgroups, instanceId).remove();
  // Reap the leader if it has gone, so that it does not linger as a zombie.
  auto child = m.children.find(instanceId);
  if (child != m.children.end()) {
    auto st = readProcStat(child->second);
    m.reap(instanceId, ProcessRef{child->second, st ? st->startTicks : 0});
  }
  return s;
}

Status LocalProvider::destroy(const std::string& instanceId) {
  Impl& m = *impl_;
  TIDE_RETURN_IF_ERROR(checkInstanceId(instanceId));
  auto child = m.children.find(instanceId);
  if (child != m.children.end()) {
    // Still our child: make sure nothing of it outlives its files.
    // Bounded: a process stuck in uninterruptible sleep must not stall the control thread.
    int pid = child->second;
    auto st = readProcStat(pid);
    if (st && st->state != 'Z') {
      kill(-pid, SIGKILL);
    }
    constexpr int kPolls = 200; // 10 ms apart
    for (int i = 0; i < kPolls; ++i) {
      pid_t r = waitpid(pid, nullptr, WNOHANG);
      if (r == pid || (r < 0 && errno == ECHILD)) {
        m.children.erase(child);
        break;
      }
      usleep(10000);
    }
    if (m.children.count(instanceId) != 0) {
      logWarn("instance " + instanceId + ": process " + std::to_string(pid) +
              " did not exit after SIGKILL; it will be reaped later");
    }
  }
  TIDE_CRASH_POINT("provider.destroy.killed");
  TIDE_RETURN_IF_ERROR(releaseProcess(instanceId));
  TIDE_CRASH_POINT("provider.destroy.released");
  const std::string dir = m.instanceDir(instanceId);
  TIDE_RETURN_IF_ERROR(InstanceDisk::unmountAll(dir));
  TIDE_CRASH_POINT("provider.destroy.unmounted");
  TIDE_RETURN_IF_ERROR(removeTree(dir));
  m.reapedExits.erase(instanceId);
  return Status::ok();
}

std::string LocalProvider::diskPath(const std::string& instanceId) const {
  if (!checkInstanceId(instanceId).isOk()) {
    return "";
  }
  InstanceDisk disk(diskDirOf(impl_->instanceDir(instanceId)));
  return disk.exists() ? disk.path() : "";
}

std::string LocalProvider::consoleLogPath(const std::string& instanceId) const {
  return impl_->instanceDir(instanceId) + "/console.log";
}

std::vector<std::string> LocalProvider::knownInstances() const {
  // Only instances with files under this provider's root: the cgroup tree is shared by every
  // tide server on the machine, and another server's instances are not ours to remove.
  std::vector<std::string> ids;
  if (DIR* d = opendir(impl_->root.c_str())) {
    while (dirent* de = readdir(d)) {
      if (de->d_name[0] != '.' && isDirectory(impl_->root + "/" + de->d_name)) {
        ids.push_back(de->d_name);
      }
    }
    closedir(d);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

ProviderInfo LocalProvider::info() const {
  const Impl& m = *impl_;
  ProviderInfo i;
  switch (m.cgroups.version) {
  case CgroupVersion::V1:
    i.cgroups = "v1";
    break;
  case CgroupVersion::V2:
    i.cgroups = "v2";
    break;
  case CgroupVersion::None:
    i.cgroups = "none";
    break;
  }
  i.cgroupNote = m.cgroups.note;
  i.diskCopy = m.overlay ? "overlayfs" : "copy";
  i.diskNote = m.diskNote;
  i.freezer = InstanceCgroup(m.cgroups, "i-0").canFreeze();
  i.isolation = !m.isolate ? "none" : m.userNamespace ? "user-namespace" : "full";
  i.isolationNote = m.isolationNote;
  std::string address = !m.isolate || m.userNamespace ? ""
                        : m.cgroups.version == CgroupVersion::V2 || !m.cgroups.v2Hybrid.empty()
                            ? m.addressNote
                        : m.cgroups.version == CgroupVersion::None
                            ? "no cgroups: instances are not confined to their own address"
                            : "no cgroup2 mount: instances are not confined to their own address";
  if (!address.empty()) {
    i.isolationNote += (i.isolationNote.empty() ? "" : "; ") + address;
  }
  // Limits (docs/reliability.md): memory and processes by cgroup, the root volume by a file
  // system of its own.
  i.limits = m.cgroups.version == CgroupVersion::None
                 ? "memory and processes not limited (no cgroups)"
             : m.cgroups.version == CgroupVersion::V2 && !m.cgroups.v2Pids
                 ? "memory per instance type (cgroup v2); processes not limited (no pids "
                   "controller)"
                 : "memory and processes per instance type (cgroup " + i.cgroups + ")";
  i.limits += m.rootVolumeNote.empty()
                  ? "; root volume size enforced (an ext4 file system per instance)"
                  : "; root volume size not enforced: " + m.rootVolumeNote;
  return i;
}

} // namespace tide::runtime
