#include "console/load_runner.h"

#include "cli/load_profile.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace tide::console {

namespace {

std::string describeExit(int status) {
  if (WIFEXITED(status)) {
    return "exited " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return "killed by signal " + std::to_string(WTERMSIG(status));
  }
  return "ended";
}

// The last non-empty line of a file (the load's latest progress), at most the last 4 KiB read.
std::string lastLine(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return "";
  }
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = size > 4096 ? size - 4096 : 0;
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  // Progress lines may end in "\r" (a terminal's overwrite) as well as "\n".
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' ')) {
    tail.pop_back();
  }
  size_t cut = tail.find_last_of("\r\n");
  std::string line = cut == std::string::npos ? tail : tail.substr(cut + 1);
  for (size_t esc; (esc = line.find("\x1b[K")) != std::string::npos;) {
    line.erase(esc, 3); // a terminal's "erase to the end of the line"
  }
  return line;
}

} // namespace

LoadRunner::~LoadRunner() {
  (void)stop();
}

Status LoadRunner::start(const std::string& url, const std::string& profile,
                         const std::string& target, TimeMs now) {
  reap(false);
  if (pid_ > 0) {
    return Status("ResourceInUse",
                  "a load runs already (" + profile_ + " against " + url_ + "): stop it first");
  }
  Result<cli::LoadProfile> parsed = cli::parseLoadProfile(profile);
  if (!parsed) {
    return parsed.status();
  }
  int log = ::open(logPath_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0) {
    return internalError("cannot open " + logPath_ + ": " + std::strerror(errno));
  }
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&files, log, 1);
  posix_spawn_file_actions_adddup2(&files, log, 2);
  // The server blocks SIGTERM, SIGINT and SIGCHLD for its signalfd; the load must get them
  // back (a blocked SIGTERM could not stop it), in a process group of its own so that a
  // Ctrl-C at the server's terminal is the server's to handle.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGCHLD);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<std::string> args = {selfExe_, "load", url, "--profile", profile};
  std::vector<char*> argv;
  for (std::string& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, selfExe_.c_str(), &files, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  ::close(log);
  if (rc != 0) {
    return internalError("cannot start " + selfExe_ + " load: " + std::strerror(rc));
  }
  pid_ = pid;
  url_ = url;
  profile_ = profile;
  target_ = target;
  startedAt_ = now;
  exit_.clear();
  return Status::ok();
}

Status LoadRunner::stop() {
  reap(false);
  if (pid_ <= 0) {
    return Status::ok();
  }
  ::kill(pid_, SIGTERM);
  // `tide load` stops at once on SIGTERM (it prints its summary first); bounded wait.
  for (int i = 0; i < 200 && pid_ > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    reap(false);
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  return Status::ok();
}

void LoadRunner::reap(bool wait) {
  if (pid_ <= 0) {
    return;
  }
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, wait ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    exit_ = describeExit(status);
    pid_ = -1;
  } else if (r < 0) {
    exit_ = "ended"; // reaped elsewhere
    pid_ = -1;
  }
}

nlohmann::json LoadRunner::state() {
  reap(false);
  nlohmann::json s = {{"Running", pid_ > 0}};
  if (startedAt_ == 0) {
    return s;
  }
  s["Url"] = url_;
  s["Profile"] = profile_;
  s["Target"] = target_;
  s["StartedAt"] = startedAt_;
  if (pid_ > 0) {
    s["ProcessId"] = pid_;
  }
  s["LastLine"] = lastLine(logPath_);
  if (!exit_.empty()) {
    s["Exit"] = exit_;
  }
  return s;
}

} // namespace tide::console
