#include "runtime/disk.h"

#include "common/crash_point.h"
#include "runtime/file_tree.h"
#include "runtime/mountinfo.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace tide::runtime {

namespace {

bool isDir(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// overlayfs splits its options at ',' and lowerdir at ':'; tide refuses such paths rather
// than rely on escaping rules that changed across kernels.
bool safeForOverlayOptions(const std::string& p) {
  return p.find_first_of(",:\\") == std::string::npos;
}

Status mountOverlayAt(const std::string& lower, const std::string& upper, const std::string& work,
                      const std::string& target) {
  for (const std::string* p : {&lower, &upper, &work}) {
    if (!safeForOverlayOptions(*p)) {
      return internalError("cannot mount overlayfs: path holds ',', ':' or '\\': " + *p);
    }
  }
  const std::string options = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
  // metacopy: a chown (giving the disk to the instance's uid) copies up the metadata only,
  // not the file's data. Kernels or file systems without it get the plain mount.
  const std::string withMetacopy = options + ",metacopy=on";
  if (mount("overlay", target.c_str(), "overlay", 0, withMetacopy.c_str()) == 0) {
    return Status::ok();
  }
  if (mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0) {
    return internalError("cannot mount overlayfs at " + target + " (" + options +
                         "): " + errnoText(errno));
  }
  return Status::ok();
}

} // namespace

std::string probeOverlay(const std::string& root) {
  std::string tmpl = root + "/.overlay-probe-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return "cannot create a scratch folder in " + root + ": " + errnoText(errno);
  }
  const std::string base = tmpl;
  std::string reason;
  for (const char* sub : {"/lower", "/upper", "/work", "/merged"}) {
    if (mkdir((base + sub).c_str(), 0755) != 0) {
      reason = "cannot create " + base + sub + ": " + errnoText(errno);
      break;
    }
  }
  if (reason.empty()) {
    const std::string options =
        "lowerdir=" + base + "/lower,upperdir=" + base + "/upper,workdir=" + base + "/work";
    if (!safeForOverlayOptions(base)) {
      reason = "the instances folder " + root + " holds ',', ':' or '\\', which overlayfs " +
               "options cannot carry";
    } else if (mount("overlay", (base + "/merged").c_str(), "overlay", 0, options.c_str()) != 0) {
      int err = errno;
      if (err == EPERM) {
        reason = "overlayfs cannot be mounted without root (" + errnoText(err) + ")";
      } else if (err == ENODEV) {
        reason = "this kernel has no overlayfs (" + errnoText(err) + ")";
      } else {
        reason = "overlayfs does not mount in " + root + ": " + errnoText(err);
      }
    } else {
      umount2((base + "/merged").c_str(), MNT_DETACH);
    }
  }
  if (InstanceDisk::unmountAll(base).isOk()) {
    removeTree(base).ignoreError(); // best effort: an empty probe folder left behind is harmless
  }
  return reason;
}

InstanceDisk::InstanceDisk(std::string instanceDir) : dir_(std::move(instanceDir)) {}

bool InstanceDisk::isOverlay() const {
  return isDir(dir_ + "/upper");
}

bool InstanceDisk::exists() const {
  if (isOverlay()) {
    return isDir(dir_ + "/work") && isDir(path());
  }
  return isDir(path());
}

bool InstanceDisk::isMounted() const {
  return isMountPoint(readMountInfo(), path());
}

Status InstanceDisk::createOverlay(const std::string& lower) {
  // upper/ last: it marks a complete overlay disk.
  for (const std::string& d : {path(), dir_ + "/work", dir_ + "/upper"}) {
    if (mkdir(d.c_str(), 0755) != 0 && errno != EEXIST) {
      Status s = internalError("cannot create " + d + ": " + errnoText(errno));
      remove().ignoreError(); // already failing: s says why
      return s;
    }
  }
  Status s = mountOverlay(lower);
  if (!s.isOk()) {
    remove().ignoreError(); // already failing: s says why
  }
  return s;
}

Status InstanceDisk::mountOverlay(const std::string& lower) {
  if (isMounted()) {
    return Status::ok();
  }
  return mountOverlayAt(lower, dir_ + "/upper", dir_ + "/work", path());
}

Status InstanceDisk::createCopy(const std::string& lower, const std::atomic<bool>* cancel) {
  const std::string tmp = dir_ + "/disk.tmp";
  removeTree(tmp).ignoreError(); // an interrupted copy; copyTree reports what is in the way
  TIDE_ASSIGN_OR_RETURN(std::vector<TreeEntry> entries, listTree(lower));
  Status s = copyTree(lower, entries, tmp, 0755, /*tryReflink=*/true, nullptr, [cancel] {
    TIDE_CRASH_POINT("disk.copy.entry"); // a kill mid-copy leaves disk.tmp: the next copy redoes it
    return cancel != nullptr && cancel->load();
  });
  if (s.isOk() && rename(tmp.c_str(), path().c_str()) != 0) {
    s = internalError("cannot move " + tmp + " to " + path() + ": " + errnoText(errno));
  }
  if (!s.isOk()) {
    removeTree(tmp).ignoreError(); // already failing: s says why
  }
  return s;
}

Status InstanceDisk::remove() {
  TIDE_RETURN_IF_ERROR(unmountAll(path()));
  for (const std::string& d : {dir_ + "/upper", dir_ + "/work", path(), dir_ + "/disk.tmp"}) {
    TIDE_RETURN_IF_ERROR(removeTree(d));
  }
  return Status::ok();
}

Status InstanceDisk::unmountAll(const std::string& dir) {
  constexpr int kRounds = 10;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::string> mounted = mountsUnder(readMountInfo(), dir);
    if (mounted.empty()) {
      return Status::ok();
    }
    for (const std::string& m : mounted) {
      if (umount2(m.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
        return internalError("cannot unmount " + m + ": " + errnoText(errno));
      }
    }
  }
  return internalError("mounts under " + dir + " keep coming back; not removing it");
}

} // namespace tide::runtime
