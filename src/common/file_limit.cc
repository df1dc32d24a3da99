#include "common/file_limit.h"

#include "common/log.h"

#include <sys/resource.h>

#include <string>

namespace tide {

uint64_t raiseOpenFileLimit(uint64_t wanted) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    return 0;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rlim_t before = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
      logInfo("open file limit raised from " + std::to_string(before) + " to " +
              std::to_string(rl.rlim_cur));
    } else {
      getrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < wanted) {
    logWarn("open file limit is " + std::to_string(rl.rlim_cur) + " (hard limit " +
            std::to_string(rl.rlim_max) + "): fewer than " + std::to_string(wanted) +
            " connections can be open at once; raise it with ulimit -Hn");
  }
  return rl.rlim_cur;
}

} // namespace tide
