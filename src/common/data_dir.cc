#include "common/data_dir.h"

#include <cstdlib>

namespace tide {

std::string defaultDataDir() {
  if (const char* d = std::getenv("TIDE_DATA_DIR"); d != nullptr && d[0] != '\0') {
    return d;
  }
  if (const char* x = std::getenv("XDG_STATE_HOME"); x != nullptr && x[0] == '/') {
    return std::string(x) + "/tide";
  }
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] != '\0') {
    return std::string(h) + "/.local/state/tide";
  }
  return "/var/lib/tide";
}

} // namespace tide
