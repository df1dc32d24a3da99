#include "runtime/root_volume.h"

#include "runtime/disk.h"
#include "runtime/file_tree.h"
#include "runtime/mountinfo.h"
#include "runtime/process.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

extern char** environ;

namespace tide::runtime {

namespace {

constexpr int kLoopMajor = 7;
constexpr int kLoopAttempts = 8; // another process may take the free device we were given
constexpr int64_t kProbeBytes = int64_t{16} << 20;
constexpr int64_t kHostFullBytes = int64_t{16} << 20; // less free on the host: it is full

// errno `e` of a write through the loop device (or of the mount, which writes the superblock
// and loads the journal) as a user should read it: the loop device passes the host's ENOSPC
// on, but the file system inside reports its own error (EIO once its journal gave up, EUCLEAN
// when the mount could not write): a full host is named as such.
std::string volumeErrorText(const std::string& hostDir, int e) {
  struct statvfs host {};
  const bool full = statvfs(hostDir.c_str(), &host) == 0 &&
                    int64_t(host.f_bavail) * int64_t(host.f_frsize) < kHostFullBytes;
  return full && e != ENOSPC ? errnoText(ENOSPC) + " on the host (" + errnoText(e) + ")"
                             : errnoText(e);
}

std::string findMkfs() {
  for (const char* p : {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4", "/usr/bin/mkfs.ext4"}) {
    if (access(p, X_OK) == 0) {
      return p;
    }
  }
  return "";
}

// Runs mkfs.ext4 on the file and waits for it; its output (what it says when it fails) comes
// through a pipe, since a full file system could not hold a log.
Status makeFileSystem(const std::string& file) {
  const std::string mkfs = findMkfs();
  if (mkfs.empty()) {
    return internalError("mkfs.ext4 not found (Debian package e2fsprogs)");
  }
  // -m 0: no blocks reserved for root (the instance runs as its own user, and an EBS volume's
  // size is what its owner can fill). Nothing is zeroed: the file is new and sparse, so its
  // holes already read as zeros; lazy_itable_init and lazy_journal_init leave the inode tables
  // and the journal unwritten, and nodiscard skips discarding what is already a hole. The
  // file stays small (about 1 MiB per GiB) and mkfs takes tens of milliseconds.
  std::vector<std::string> args = {
      mkfs, "-q", "-F", "-m", "0", "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard", file};
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    return internalError("cannot make a pipe for " + mkfs + ": " + errnoText(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, out[1], 2);
  pid_t pid = 0;
  int err = posix_spawn(&pid, mkfs.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string said;
  if (err == 0) {
    char buf[4096];
    for (;;) {
      ssize_t n = read(out[0], buf, sizeof buf);
      if (n > 0) {
        said.append(buf, size_t(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
  }
  close(out[0]);
  if (err != 0) {
    return internalError("cannot run " + mkfs + ": " + errnoText(err));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return internalError("cannot wait for " + mkfs + ": " + errnoText(errno));
    }
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) {
      said.pop_back();
    }
    return internalError("mkfs.ext4 " + file +
                         " failed: " + (said.empty() ? describeWaitStatus(status) : said));
  }
  return Status::ok();
}

// Attaches file to a free loop device with autoclear; returns its open descriptor (the device
// goes when it is unmounted and this descriptor is closed) and its path.
Result<std::pair<int, std::string>> attachLoop(const std::string& file) {
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) {
    return internalError("cannot open /dev/loop-control: " + errnoText(errno));
  }
  int backing = open(file.c_str(), O_RDWR | O_CLOEXEC);
  if (backing < 0) {
    int e = errno;
    close(ctl);
    return internalError("cannot open " + file + ": " + errnoText(e));
  }
  std::string lastError;
  for (int attempt = 0; attempt < kLoopAttempts; ++attempt) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) {
      lastError = "no free loop device: " + errnoText(errno);
      break;
    }
    const std::string dev = "/dev/loop" + std::to_string(n);
    // In a container the kernel may hand out a device whose node was never made.
    if (access(dev.c_str(), F_OK) != 0) {
      mknod(dev.c_str(), S_IFBLK | 0600, makedev(kLoopMajor, n));
    }
    int fd = open(dev.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      lastError = "cannot open " + dev + ": " + errnoText(errno);
      continue;
    }
    // LOOP_CONFIGURE attaches the file and sets autoclear in one step: a server killed in
    // between cannot leave an attached device that nothing frees.
    loop_config config{};
    config.fd = static_cast<__u32>(backing);
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR;
    std::strncpy(reinterpret_cast<char*>(config.info.lo_file_name), file.c_str(), LO_NAME_SIZE - 1);
    if (ioctl(fd, LOOP_CONFIGURE, &config) != 0) {
      lastError = "cannot attach " + file + " to " + dev + ": " + errnoText(errno);
      close(fd);
      continue; // EBUSY: taken meanwhile
    }
    close(backing);
    close(ctl);
    return std::make_pair(fd, dev);
  }
  close(backing);
  close(ctl);
  return internalError(lastError);
}

} // namespace

std::string probeRootVolumes(const std::string& root) {
  if (geteuid() != 0) {
    return "needs root (a loop-mounted file system per instance)";
  }
  if (findMkfs().empty()) {
    return "mkfs.ext4 not found (Debian package e2fsprogs)";
  }
  if (access("/dev/loop-control", R_OK | W_OK) != 0) {
    return "no loop devices (/dev/loop-control: " + errnoText(errno) + ")";
  }
  // The whole way once, with a small volume in a scratch folder: containers may have loop
  // devices and still refuse the mount.
  std::string tmpl = root + "/.volume-probe-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    return "cannot make a scratch folder in " + root + ": " + errnoText(errno);
  }
  RootVolume probe(tmpl);
  Status s = probe.prepare(kProbeBytes);
  Status r = probe.remove();
  rmdir(tmpl.c_str());
  if (!s.isOk()) {
    return s.message();
  }
  return r.isOk() ? "" : r.message();
}

RootVolume::RootVolume(std::string instanceDir) : dir_(std::move(instanceDir)) {}

bool RootVolume::exists() const {
  struct stat st {};
  return stat(filePath().c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool RootVolume::isMounted() const {
  return isMountPoint(readMountInfo(), mountPoint());
}

Status RootVolume::prepare(int64_t sizeBytes, bool* madeOut, bool* mountedOut) {
  if (madeOut != nullptr) {
    *madeOut = false;
  }
  if (mountedOut != nullptr) {
    *mountedOut = false;
  }
  bool made = false;
  if (!exists()) {
    if (sizeBytes <= 0) {
      return internalError("root volume of " + dir_ + ": no size given");
    }
    // Made as volume.img.tmp and renamed once its file system is complete, so that a crash in
    // between leaves no half-made volume that a later start would mount.
    const std::string tmp = filePath() + ".tmp";
    int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      return internalError("cannot create " + tmp + ": " + errnoText(errno));
    }
    int e = ftruncate(fd, sizeBytes) == 0 ? 0 : errno;
    close(fd);
    Status s =
        e == 0 ? makeFileSystem(tmp) : internalError("cannot size " + tmp + ": " + errnoText(e));
    if (s.isOk() && rename(tmp.c_str(), filePath().c_str()) != 0) {
      s = internalError("cannot rename " + tmp + ": " + errnoText(errno));
    }
    if (!s.isOk()) {
      unlink(tmp.c_str());
      return s;
    }
    made = true;
  }
  if (madeOut != nullptr) {
    *madeOut = made;
  }
  if (isMounted()) {
    return Status::ok();
  }
  Status s = mount();
  if (!s.isOk()) {
    if (made) {
      unlink(filePath().c_str());
      rmdir(mountPoint().c_str());
    }
    if (madeOut != nullptr) {
      *madeOut = false;
    }
    return s;
  }
  if (mountedOut != nullptr) {
    *mountedOut = true;
  }
  return Status::ok();
}

Status RootVolume::mount() {
  if (mkdir(mountPoint().c_str(), 0755) != 0 && errno != EEXIST) {
    return internalError("cannot create " + mountPoint() + ": " + errnoText(errno));
  }
  TIDE_ASSIGN_OR_RETURN(auto loop, attachLoop(filePath()));
  auto [fd, dev] = loop;
  // discard: what the instance deletes goes back to the host (holes punched in the file);
  // noinit_itable: no background zeroing of the inode tables (they are holes, already zeros),
  // which would make the file dense.
  int rc = ::mount(dev.c_str(), mountPoint().c_str(), "ext4", MS_NOSUID | MS_NODEV,
                   "discard,noinit_itable");
  int e = errno;
  if (rc != 0) {
    ioctl(fd, LOOP_CLR_FD, 0);
  }
  close(fd); // autoclear: the device is freed when the file system is unmounted
  if (rc != 0) {
    return internalError("cannot mount " + filePath() + " (" + dev + ") at " + mountPoint() + ": " +
                         volumeErrorText(mountPoint().substr(0, mountPoint().rfind('/')), e));
  }
  // The disk inside is made and given to the instance's user by the provider; the volume's
  // own root folder stays root's, and passable.
  chmod(mountPoint().c_str(), 0755);
  return Status::ok();
}

RootVolume::WriteCheck::WriteCheck(const RootVolume& volume) : path_(volume.mountPoint()) {
  // syncfs() reports the write-back errors since this descriptor was opened.
  fd_ = open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

RootVolume::WriteCheck::~WriteCheck() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

Status RootVolume::WriteCheck::check() {
  if (fd_ < 0) {
    return internalError("cannot open " + path_ + " to write it back");
  }
  if (syncfs(fd_) == 0) {
    return Status::ok();
  }
  const int e = errno;
  return internalError("cannot write the root volume at " + path_ + " back to the host: " +
                       volumeErrorText(path_.substr(0, path_.rfind('/')), e));
}

Status RootVolume::remove() {
  // The unmount frees the loop device (autoclear) once the file system's last user is gone.
  TIDE_RETURN_IF_ERROR(InstanceDisk::unmountAll(mountPoint()));
  if (rmdir(mountPoint().c_str()) != 0 && errno != ENOENT) {
    return internalError("cannot remove " + mountPoint() + ": " + errnoText(errno));
  }
  for (const std::string& f : {filePath(), filePath() + ".tmp"}) {
    if (unlink(f.c_str()) != 0 && errno != ENOENT) {
      return internalError("cannot remove " + f + ": " + errnoText(errno));
    }
  }
  return Status::ok();
}

} // namespace tide::runtime
