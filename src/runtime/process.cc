#include "runtime/process.h"

#include "common/text.h"
#include "runtime/file_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace tide::runtime {

namespace {

template <typename T> bool parseNumber(std::string_view s, T& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// What the child reports through the exec pipe when a step fails.
struct ChildFailure {
  int step;  // one of the Step values
  int index; // which cgroup.procs file, for JoinCgroup
  int err;   // errno
};

enum Step {
  NewSession = 1, // setsid
  JoinCgroup,     // writing the pid to cgroup.procs
  Redirect,       // stdin/stdout/stderr
  ChangeDir,      // chdir to the working folder
  Exec,           // execve
};

// Async-signal-safe helpers for the child.
void reportAndExit(int fd, int step, int index, int err) {
  ChildFailure f{step, index, err};
  ssize_t n;
  do {
    n = write(fd, &f, sizeof f);
  } while (n < 0 && errno == EINTR);
  _exit(127);
}

size_t formatPid(char* buf, size_t size, long v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v > 0 && n < sizeof tmp);
  size_t len = 0;
  while (n > 0 && len + 1 < size) {
    buf[len++] = tmp[--n];
  }
  buf[len] = '\0';
  return len;
}

// Moves fd to a number >= 3 (a server started with 0-2 closed would otherwise hand them out),
// keeping O_CLOEXEC.
int aboveStdio(int fd) {
  if (fd < 0 || fd > 2) {
    return fd;
  }
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return moved;
}

} // namespace

std::optional<ProcStat> parseProcStat(std::string_view line) {
  size_t open = line.find('(');
  size_t close = line.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat st;
  if (!parseNumber(trim(line.substr(0, open)), st.pid)) {
    return std::nullopt;
  }
  std::vector<std::string_view> f; // f[k] is field k + 3
  std::string_view rest = line.substr(close + 1);
  size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\n')) {
      ++i;
    }
    size_t start = i;
    while (i < rest.size() && rest[i] != ' ' && rest[i] != '\n') {
      ++i;
    }
    if (i > start) {
      f.push_back(rest.substr(start, i - start));
    }
  }
  auto field = [&](int n) { return f[size_t(n - 3)]; };
  if (f.size() < 22 || field(3).size() != 1) {
    return std::nullopt;
  }
  st.state = field(3)[0];
  bool ok = parseNumber(field(4), st.ppid) && parseNumber(field(5), st.pgrp) &&
            parseNumber(field(6), st.session) && parseNumber(field(14), st.utime) &&
            parseNumber(field(15), st.stime) && parseNumber(field(16), st.cutime) &&
            parseNumber(field(17), st.cstime) && parseNumber(field(22), st.startTicks) &&
            parseNumber(field(24), st.rssPages);
  if (!ok) {
    return std::nullopt;
  }
  return st;
}

std::optional<ProcStat> readProcStat(int pid) {
  if (pid <= 0) {
    return std::nullopt;
  }
  auto text = readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) {
    return std::nullopt;
  }
  return parseProcStat(*text);
}

std::vector<ProcStat> listProcStats() {
  std::vector<ProcStat> out;
  DIR* d = opendir("/proc");
  if (d == nullptr) {
    return out;
  }
  while (dirent* de = readdir(d)) {
    int pid = 0;
    if (parseNumber(std::string_view(de->d_name), pid) && pid > 0) {
      if (auto st = readProcStat(pid)) {
        out.push_back(*st);
      }
    }
  }
  closedir(d);
  return out;
}

std::string describeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* name = sigdescr_np(sig);
    return "killed by signal " + std::to_string(sig) + " (" + (name ? name : "unknown") + ")";
  }
  return "stopped (wait status " + std::to_string(status) + ")";
}

Result<int> spawnProcess(const SpawnRequest& request) {
  // Everything the child needs is built here: after fork() only async-signal-safe calls.
  std::vector<char*> argv;
  for (const std::string& a : request.argv) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : request.env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);
  std::vector<const char*> procsFiles;
  for (const std::string& p : request.cgroupProcsFiles) {
    procsFiles.push_back(p.c_str());
  }
  const char* path = request.path.c_str();
  const char* workingDir = request.workingDir.c_str();
  const IsolationPlan* isolation = request.isolation;
  rlimit nofile{};
  int maxFd = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY
                  ? int(std::min<rlim_t>(nofile.rlim_cur, 1 << 20))
                  : 65536;

  int console = aboveStdio(
      open(request.consolePath.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
  if (console < 0) {
    return internalError("cannot open console log " + request.consolePath + ": " +
                         errnoText(errno));
  }
  int devNull = aboveStdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
  int fds[2];
  if (devNull < 0 || pipe2(fds, O_CLOEXEC) != 0) {
    int err = errno;
    close(console);
    if (devNull >= 0) {
      close(devNull);
    }
    return internalError("cannot prepare the process: " + errnoText(err));
  }
  int readEnd = aboveStdio(fds[0]);
  int writeEnd = aboveStdio(fds[1]);

  // Block every signal across fork so that no handler of the server runs in the child
  // before the child has reset the dispositions.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pid_t pid = fork();
  if (pid == 0) {
    // Child.
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(sig, &sa, nullptr); // fails harmlessly for glibc-reserved signals
      }
    }
    if (setsid() < 0) {
      reportAndExit(writeEnd, NewSession, 0, errno);
    }
    char pidText[24];
    size_t pidLen = formatPid(pidText, sizeof pidText, long(getpid()));
    for (size_t i = 0; i < procsFiles.size(); ++i) {
      // O_CREAT only matters for fake trees in tests: on cgroupfs the file always exists.
      int fd = open(procsFiles[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) {
        reportAndExit(writeEnd, JoinCgroup, int(i), errno);
      }
      if (write(fd, pidText, pidLen) != ssize_t(pidLen)) {
        reportAndExit(writeEnd, JoinCgroup, int(i), errno);
      }
      close(fd);
    }
    if (dup2(devNull, 0) < 0 || dup2(console, 1) < 0 || dup2(console, 2) < 0) {
      reportAndExit(writeEnd, Redirect, 0, errno);
    }
    // Close everything but 0-2 and the report pipe (which closes itself on exec): before the
    // isolation, whose leader and init live on without exec.
    if ((writeEnd > 3 && close_range(3, unsigned(writeEnd) - 1, 0) != 0) ||
        close_range(unsigned(writeEnd) + 1, ~0U, 0) != 0) {
      for (int fd = 3; fd < maxFd; ++fd) {
        if (fd != writeEnd) {
          close(fd);
        }
      }
    }
    if (isolation != nullptr) {
      enterIsolation(*isolation, writeEnd, reportAndExit); // returns in the app only
    }
    if (chdir(workingDir) != 0) {
      reportAndExit(writeEnd, ChangeDir, 0, errno);
    }
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(path, argv.data(), envp.data());
    reportAndExit(writeEnd, Exec, 0, errno);
  }
  int forkErr = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  close(writeEnd);
  close(console);
  close(devNull);
  if (pid < 0) {
    close(readEnd);
    return internalError("cannot fork: " + errnoText(forkErr));
  }

  // Wait for exec (the pipe closes) or a report, at most the setup timeout.
  const int timeoutMs =
      request.setupTimeoutMs > 0 ? request.setupTimeoutMs : kDefaultSetupTimeoutMs;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
  bool ready = false;
  while (!ready) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      break;
    }
    pollfd pfd{readEnd, POLLIN, 0};
    int r = poll(&pfd, 1, int(std::min<long long>(left, 1'000'000)));
    ready = r > 0 || (r < 0 && errno != EINTR);
  }
  if (!ready) {
    // A hung setup step: end the child's whole group (it leads its session; an isolated tree's
    // leader takes its PID namespace with it) and reap it.
    close(readEnd);
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    // Reaped at once in practice; bounded all the same (a task in a cgroup v1 freezer stays
    // until thawed: the provider's cleanup of the instance's cgroup ends it then).
    bool reaped = false;
    for (int i = 0; i < 200 && !reaped; ++i) {
      pid_t r = waitpid(pid, nullptr, WNOHANG);
      reaped = r == pid || (r < 0 && errno != EINTR);
      if (!reaped) {
        usleep(10'000);
      }
    }
    char secs[32];
    snprintf(secs, sizeof secs, "%g", timeoutMs / 1000.0);
    return internalError(std::string("the process did not finish its setup (cgroups, isolation) "
                                     "within ") +
                         secs + " s: killed");
  }
  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(readEnd, &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  close(readEnd);
  if (n == 0) {
    return int(pid); // exec succeeded: the pipe closed without a report
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != ssize_t(sizeof failure)) {
    return internalError("the new process failed before exec (no report)");
  }
  std::string err = errnoText(failure.err);
  switch (failure.step) {
  case NewSession:
    return internalError("cannot start a new session: " + err);
  case JoinCgroup:
    return internalError("cannot join cgroup " +
                         (size_t(failure.index) < request.cgroupProcsFiles.size()
                              ? request.cgroupProcsFiles[size_t(failure.index)]
                              : std::string("?")) +
                         ": " + err);
  case Redirect:
    return internalError("cannot redirect output to " + request.consolePath + ": " + err);
  case ChangeDir:
    return internalError("cannot change to " + request.workingDir + ": " + err);
  case Exec:
    return internalError("cannot execute " + request.path + ": " + err);
  default:
    if (request.isolation != nullptr) {
      return internalError("cannot isolate the instance: " +
                           describeIsolationStep(*request.isolation, failure.step, failure.index) +
                           ": " + err);
    }
    return internalError("the new process failed at step " + std::to_string(failure.step) + ": " +
                         err);
  }
}

} // namespace tide::runtime
