#include "common/crash_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace tide::crash_point_detail {

namespace {

struct Config {
  long long at = 0;          // TIDE_CRASH_AT=N: the global pass that kills; 0: none
  std::string atName;        // TIDE_CRASH_AT=name#K: the point ...
  long long atNameCount = 0; // ... and its pass that kills
  int traceFd = -1;          // TIDE_CRASH_TRACE, opened for appending; -1: none
  pid_t pid = getpid();      // the process that read them (a forked child never counts)

  void load(const char* crashAt, const char* trace) {
    if (crashAt != nullptr && *crashAt != '\0') {
      const char* hash = strrchr(crashAt, '#');
      if (hash != nullptr) {
        atName.assign(crashAt, size_t(hash - crashAt));
        atNameCount = atoll(hash + 1);
      } else {
        at = atoll(crashAt);
      }
    }
    if (trace != nullptr && *trace != '\0') {
      traceFd = open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    }
  }
  bool wanted() const { return at > 0 || atNameCount > 0 || traceFd >= 0; }
};

Config& config() {
  static Config c = [] {
    Config fromEnv;
    fromEnv.load(getenv("TIDE_CRASH_AT"), getenv("TIDE_CRASH_TRACE"));
    return fromEnv;
  }();
  return c;
}

std::atomic<long long> passes{0};
std::mutex mu; // guards counts
std::map<std::string, long long>& counts() {
  static std::map<std::string, long long> m;
  return m;
}

} // namespace

std::atomic<bool> armed{config().wanted()};

void pass(const char* name) {
  const Config& c = config();
  if (getpid() != c.pid) {
    return; // a child forked to copy files as a user: killing it is no crash of the server
  }
  long long n = passes.fetch_add(1) + 1;
  long long k = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    k = ++counts()[name];
  }
  if (c.traceFd >= 0) {
    // One write per line (O_APPEND): lines of threads never interleave.
    std::string line = std::string(name) + "\t" + std::to_string(k) + "\n";
    ssize_t ignored = write(c.traceFd, line.data(), line.size());
    (void)ignored; // a trace that cannot be written only makes the test's count short
  }
  if ((c.at > 0 && n == c.at) || (c.atNameCount > 0 && k == c.atNameCount && c.atName == name)) {
    raise(SIGKILL);
  }
}

void configureForTest(const char* crashAt, const char* trace) {
  Config& c = config();
  if (c.traceFd >= 0) {
    close(c.traceFd);
  }
  c = Config();
  c.load(crashAt, trace);
  passes = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    counts().clear();
  }
  armed = c.wanted();
}

} // namespace tide::crash_point_detail
