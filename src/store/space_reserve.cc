#include "store/space_reserve.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

namespace tide::store {

namespace {

std::string directoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

int64_t freeBytesAt(const std::string& dir) {
  struct statvfs vfs;
  if (statvfs(dir.c_str(), &vfs) != 0) {
    return -1;
  }
  return int64_t(vfs.f_bavail) * int64_t(vfs.f_frsize);
}

// The bytes a file holds on disk (its allocated blocks, not its length); -1 when absent.
int64_t allocatedBytes(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return -1;
  }
  return int64_t(st.st_blocks) * 512;
}

std::string mib(int64_t bytes) {
  return std::to_string((std::max<int64_t>(bytes, 0) + (1 << 19)) >> 20) + " MiB";
}

} // namespace

std::string reservePathFor(const std::string& storePath) {
  return storePath + "-reserve";
}

SpaceReserve::SpaceReserve(std::string path, int64_t bytes)
    : path_(std::move(path)), bytes_(std::max<int64_t>(bytes, 0)) {
  refillIfRoom();
}

int64_t SpaceReserve::heldBytes() const {
  return bytes_ == 0 ? 0 : std::max<int64_t>(allocatedBytes(path_), 0);
}

bool SpaceReserve::held() const {
  return bytes_ > 0 && heldBytes() >= bytes_;
}

int64_t SpaceReserve::freeBytes() const {
  return freeBytesAt(directoryOf(path_));
}

bool SpaceReserve::spendIfLow() {
  if (bytes_ == 0) {
    return false;
  }
  int64_t free = freeBytes();
  return free >= 0 && free < kReserveLowWaterBytes && spend();
}

bool SpaceReserve::spend() {
  int64_t held = heldBytes();
  if (held <= 0) {
    return false;
  }
  // A step at a time: a writer racing for the space (an instance filling its disk) takes at
  // most the step it finds before its writes fail, and the rest stays for the deletes.
  int64_t keep = std::max<int64_t>(held - kReserveStepBytes, 0);
  if (keep == 0) {
    return ::unlink(path_.c_str()) == 0;
  }
  return ::truncate(path_.c_str(), keep) == 0;
}

bool SpaceReserve::refillIfRoom() {
  if (bytes_ == 0) {
    return false;
  }
  int64_t held = heldBytes();
  if (held >= bytes_) {
    return false;
  }
  int64_t free = freeBytes();
  if (free < (bytes_ - held) + bytes_) {
    return false; // room for the reserve and as much again, or wait
  }
  // Allocated blocks, not a sparse length: a hole would give nothing back when released.
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return false;
  }
  int rc = posix_fallocate(fd, 0, bytes_);
  if (rc == EINVAL || rc == EOPNOTSUPP) {
    // No fallocate on this file system: write the bytes.
    static const char kZeros[1 << 16] = {};
    rc = 0;
    for (int64_t off = 0; off < bytes_ && rc == 0;) {
      ssize_t n = ::pwrite(fd, kZeros,
                           size_t(std::min<int64_t>(int64_t(sizeof kZeros), bytes_ - off)), off);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      rc = n < 0 ? errno : 0;
      off += n > 0 ? n : 0;
    }
  }
  ::close(fd);
  return rc == 0;
}

Status checkRoomForNewData(const std::string& storePath, const std::string& code,
                           const std::string& what, int64_t reserveBytes) {
  if (storePath.empty() || storePath == ":memory:" || allocatedBytes(storePath) < 0) {
    return Status::ok();
  }
  const std::string dir = directoryOf(storePath);
  const int64_t held = std::max<int64_t>(allocatedBytes(reservePathFor(storePath)), 0);
  const int64_t free = freeBytesAt(dir);
  const std::string fix =
      ". Free space (DeregisterImage, TerminateInstances, DeleteStack) and try again.";
  if (held < reserveBytes) {
    return Status(code, "Not enough free space for " + what + ": the file system of tide's " +
                            "data directory " + dir + " is full (" + mib(free) +
                            " free; tide's reserve for deletes is spent, " + mib(held) + " of " +
                            mib(reserveBytes) + " left)" + fix);
  }
  if (free >= 0 && free < reserveBytes) {
    return Status(code, "Not enough free space for " + what + ": the file system of tide's " +
                            "data directory " + dir + " has " + mib(free) +
                            " free, less than the " + mib(reserveBytes) +
                            " tide keeps free beside its reserve for deletes" + fix);
  }
  return Status::ok();
}

} // namespace tide::store
