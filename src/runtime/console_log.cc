#include "runtime/console_log.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tide::runtime {

Result<ConsoleTrim> trimConsoleLog(const std::string& path, int64_t maxBytes, int64_t keepBytes) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) {
      return ConsoleTrim::None;
    }
    return internalError("cannot open console log " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return internalError("console log " + path + " is not a regular file");
  }
  const int64_t used = int64_t(st.st_blocks) * 512;
  const int64_t block = st.st_blksize > 0 ? int64_t(st.st_blksize) : 4096;
  if (used <= maxBytes || st.st_size <= keepBytes) {
    close(fd);
    return ConsoleTrim::None;
  }
  // The head to drop, in whole blocks, leaving at least keepBytes.
  const int64_t drop = (int64_t(st.st_size) - keepBytes) / block * block;
  if (drop <= 0) {
    close(fd);
    return ConsoleTrim::None;
  }
  ConsoleTrim done = ConsoleTrim::Collapsed;
  if (fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, drop) != 0) {
    // Not supported here (EOPNOTSUPP), or a range the file system will not collapse (EINVAL:
    // its block differs from st_blksize): free the head's blocks instead.
    done = ConsoleTrim::Punched;
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, drop) != 0) {
      int err = errno;
      close(fd);
      return internalError("cannot trim console log " + path + ": " + std::strerror(err));
    }
  }
  close(fd);
  return done;
}

} // namespace tide::runtime
