#include "common/file_limit.h"

#include "common/text.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace tide {

Result<uint64_t> raiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return internalError(std::string("getrlimit(RLIMIT_NOFILE): ") + std::strerror(errno));
  }
  rlim_t target = limit.rlim_max;
  if (target == RLIM_INFINITY) {
    std::optional<std::string> nrOpen = readFile("/proc/sys/fs/nr_open");
    target = nrOpen ? rlim_t(std::strtoull(nrOpen->c_str(), nullptr, 10)) : 0;
    if (target == 0) {
      target = 1 << 20; // the kernel's default fs.nr_open
    }
  }
  if (limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= target) {
    return uint64_t(limit.rlim_cur);
  }
  rlimit raised{target, limit.rlim_max};
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    return internalError("cannot raise the open file limit from " + std::to_string(limit.rlim_cur) +
                         " to " + std::to_string(target) + ": " + std::strerror(errno));
  }
  return uint64_t(target);
}

} // namespace tide
