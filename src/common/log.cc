#include "common/log.h"

#include "common/clock.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace tide {

namespace {
bool debugEnabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("TIDE_LOG");
    return v != nullptr && std::strcmp(v, "debug") == 0;
  }();
  return enabled;
}
} // namespace

void logLine(LogLevel level, std::string_view message) {
  if (level == LogLevel::Debug && !debugEnabled()) {
    return;
  }
  static const char* kNames[] = {"debug", "info", "warn", "error"};
  std::string line = formatIso8601(RealClock().now());
  line += ' ';
  line += kNames[static_cast<int>(level)];
  line += ' ';
  line += message;
  line += '\n';
  ssize_t n = ::write(2, line.data(), line.size());
  (void)n;
}

} // namespace tide
