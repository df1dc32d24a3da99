// The load the console starts: `tide load URL --profile P` run by the server as a child process
// (the tide binary itself), one at a time, so that a person can replay the seed's story from
// the page. Its stderr (the load's progress, one line a second) goes to a log file whose last
// line the console shows. Not thread-safe: used on the control thread.
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <nlohmann/json.hpp>

#include <string>
#include <sys/types.h>

namespace tide::console {

class LoadRunner {
public:
  // selfExe: the tide binary; logPath: where the load's stdout and stderr go (truncated at each
  // start).
  LoadRunner(std::string selfExe, std::string logPath)
      : selfExe_(std::move(selfExe)), logPath_(std::move(logPath)) {}
  // Stops a load that still runs.
  ~LoadRunner();
  LoadRunner(const LoadRunner&) = delete;
  LoadRunner& operator=(const LoadRunner&) = delete;

  // Starts `tide load url --profile profile`. ResourceInUse when one runs already;
  // ValidationError for a profile `tide load` would refuse (checked here, before spawning);
  // InternalError when the process cannot be spawned.
  Status start(const std::string& url, const std::string& profile, const std::string& target,
               TimeMs now);
  // Stops the running load (SIGTERM, then waits up to 2 s, then SIGKILL). OK when none runs.
  Status stop();
  // {"Running": bool, "Url", "Profile", "Target", "StartedAt" (ms), "ProcessId", "LastLine",
  //  "Exit"}: the current or the last load; reaps a load that ended.
  nlohmann::json state();

private:
  void reap(bool wait);

  std::string selfExe_;
  std::string logPath_;
  pid_t pid_ = -1; // the running load, or -1
  std::string url_, profile_, target_;
  TimeMs startedAt_ = 0;
  std::string exit_; // how the last load ended ("exited 0", "killed by signal 15"), or empty
};

} // namespace tide::console
