// Processes: starting a process tree in its own session (fork + exec with only
// async-signal-safe calls in the child), and reading /proc/<pid>/stat.
#pragma once

#include "common/status.h"
#include "runtime/isolation.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tide::runtime {

// The fields of /proc/<pid>/stat that tide uses (proc(5) numbering in comments).
struct ProcStat {
  int pid = 0;             // (1)
  char state = '?';        // (3) R, S, D, Z, X, ...
  int ppid = 0;            // (4)
  int pgrp = 0;            // (5)
  int session = 0;         // (6)
  uint64_t utime = 0;      // (14) clock ticks
  uint64_t stime = 0;      // (15)
  uint64_t cutime = 0;     // (16) of waited-for children
  uint64_t cstime = 0;     // (17)
  uint64_t startTicks = 0; // (22) clock ticks after boot
  int64_t rssPages = 0;    // (24)
};

// Parses one stat line. The command name may hold spaces and parentheses, so fields are
// counted after the last ')'. nullopt when malformed.
std::optional<ProcStat> parseProcStat(std::string_view line);
// /proc/<pid>/stat, or nullopt when there is no such process.
std::optional<ProcStat> readProcStat(int pid);
// Every process in /proc (those that vanish while reading are skipped).
std::vector<ProcStat> listProcStats();

struct SpawnRequest {
  std::string path;                          // executable, absolute
  std::vector<std::string> argv;             // argv[0] first
  std::vector<std::string> env;              // the whole environment, NAME=VALUE
  std::string workingDir;                    // chdir target
  std::string consolePath;                   // stdout and stderr, opened O_APPEND|O_CREAT
  std::vector<std::string> cgroupProcsFiles; // the child writes its pid into each first
  const IsolationPlan* isolation = nullptr;  // when set: the tree of isolation.h (the pid
                                             // returned is its leader); must outlive the call
  // How long the child may take from fork to exec (joining cgroups, isolation's mounts and
  // namespaces). A step that hangs (a frozen cgroup, a mount that never answers) would hold
  // the caller, the control thread, forever: past this the child's process group is killed and
  // the start fails. kDefaultSetupTimeoutMs unless a test chooses.
  int setupTimeoutMs = 0;
};

// Setup takes milliseconds; 10 s allows for a loaded host and bounds what a hang costs.
constexpr int kDefaultSetupTimeoutMs = 10'000;

// Starts the process in a new session (it leads its own process group), with stdin from
// /dev/null, no other inherited descriptors, default signal dispositions and an empty signal
// mask. Returns the pid once exec succeeded. On failure the child has been reaped and the error
// says which step failed ("InternalError"), or that the setup did not finish within its timeout
// ("InternalError" naming the timeout; the child and its group were killed and reaped).
Result<int> spawnProcess(const SpawnRequest& request);

// "exited with status 3" or "killed by signal 9 (Killed)" for a waitpid() status.
std::string describeWaitStatus(int status);

} // namespace tide::runtime
