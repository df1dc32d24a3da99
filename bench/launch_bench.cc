// tide-launch-bench: how fast tide launches instances, how soon their apps answer, and how fast
// it terminates them, for several instance counts (--counts) and instance disk modes (--disks).
//
// What it measures, for each disk mode and each count N, as an API client sees it (wall time on
// a steady clock, so API round trips and up to one 5 ms polling interval are included):
//   RunInstances  the round trip of RunInstances (MinCount = MaxCount = N) alone
//   running       from sending RunInstances until DescribeInstances, polled every 5 ms, shows
//                 all N "running" (tide has made each disk and cgroup and started each app's
//                 process, which need not listen yet)
//   serving       from sending RunInstances until every app has answered GET /whoami on its
//                 PrivateIpAddress:Port with its own instance id (raw HTTP/1.0 requests with a
//                 short timeout, repeated every 5 ms): what a user of the instances waits for
//   terminated    from sending TerminateInstances until DescribeInstances shows all N
//                 "terminated" (apps ended, disks and cgroups removed)
// Each is printed in total and per instance. It is a benchmark, not a test: it asserts nothing
// about the times.
//
// How: for each disk mode it starts a `tide server` of its own (posix_spawn; a fresh
// temporary data directory, a free port, --max-cpu-cores 1000 so that capacity never limits,
// --termination-grace 5), checks with DescribeHost that the server can use the mode (a mode it
// cannot use is skipped with the server's reason), makes an image of the example app
// (examples/shop: CreateImage with SourceDirectory, then DescribeImages until "available") and
// runs the counts one after another, terminating each count's instances before the next.
//
// Cleanup: every wait has a deadline (--timeout). On any failure, or on Ctrl-C, it terminates
// the instances of its server first (a server that stops leaves its instances running), then
// stops the server (SIGTERM to its pid, waitpid), then removes the temporary directory.
#include "cli/client.h"
#include "common/text.h"
#include "runtime/mountinfo.h"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using tide::Result;
using tide::Status;
using tide::cli::ApiClient;
using tide::cli::Json;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(5); // DescribeInstances and /whoami
constexpr int kProbeTimeoutMs = 1000;     // one GET /whoami attempt, connect to answer
constexpr double kServerStopSeconds = 20; // SIGTERM to SIGKILL for a bench server

// Set by SIGINT/SIGTERM: the current wait gives up, and the bench cleans up and exits.
std::atomic<bool> gInterrupted{false};

void onSignal(int) {
  gInterrupted = true;
}

struct Options {
  std::string tide;               // the tide binary
  std::vector<int> counts;        // instances per RunInstances
  std::vector<std::string> disks; // "overlay", "copy"
  std::string app;                // the app directory the image is made of
  std::string instanceType = "t3.nano";
  std::string cgroups = "auto"; // passed to `tide server --cgroups`
  double timeoutSeconds = 120;  // the deadline of every wait
};

double msBetween(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

Status benchError(const std::string& message) {
  return Status("BenchError", message);
}

// The point in time after which a wait gives up.
class Deadline {
public:
  explicit Deadline(double seconds)
      : seconds_(seconds),
        end_(SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                      std::chrono::duration<double>(seconds))) {}
  bool passed() const { return SteadyClock::now() >= end_; }
  double seconds() const { return seconds_; }

private:
  double seconds_;
  SteadyClock::time_point end_;
};

// Whether a wait for `what` may go on: not past its deadline and (when interruptible) not
// interrupted. `progress` says how far it got, for the error.
Status keepWaiting(const Deadline& d, const std::string& what, const std::string& progress,
                   bool interruptible = true) {
  if (interruptible && gInterrupted) {
    return Status("Interrupted", "interrupted while waiting for " + what + " (" + progress + ")");
  }
  if (d.passed()) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", d.seconds());
    return Status("Timeout", "gave up after " + std::string(secs) + " s waiting for " + what +
                                 " (" + progress + ")");
  }
  return Status::ok();
}

void sleepPoll() {
  std::this_thread::sleep_for(kPollInterval);
}

// ---- The bench's own tide server -------------------------------------------------------------

// A directory from mkdtemp, holding one server's data and log.
class TempDir {
public:
  Status create() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && base[0] == '/' ? base : "/tmp") +
                          "/tide-launch-bench.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      return benchError("cannot create a directory like " + pattern + ": " + std::strerror(errno));
    }
    path_ = pattern;
    return Status::ok();
  }
  const std::string& path() const { return path_; }

  // Removes the directory, unless something is still mounted under it (an instance disk the
  // server could not unmount): then it stays, for a person to look at.
  void remove() {
    if (path_.empty()) {
      return;
    }
    std::vector<std::string> mounts =
        tide::runtime::mountsUnder(tide::runtime::readMountInfo(), path_);
    if (!mounts.empty()) {
      std::printf("  left %s in place: %zu mount(s) under it, e.g. %s\n", path_.c_str(),
                  mounts.size(), mounts.front().c_str());
      return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
    if (ec) {
      std::printf("  could not remove %s: %s\n", path_.c_str(), ec.message().c_str());
    }
    path_.clear();
  }

private:
  std::string path_;
};

// A `tide server` child: its stdout on a pipe (the first line says where it listens; the rest
// is copied to the log by a thread) and its stderr in the log file.
class ServerProcess {
public:
  ServerProcess() = default;
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;
  ~ServerProcess() { stop(); }

  // Starts `tide server` with args and waits (up to timeoutSeconds) for it to listen.
  Status start(const std::string& tide, const std::vector<std::string>& args,
               const std::string& logPath, double timeoutSeconds);
  // SIGTERM to its pid, then waitpid (SIGKILL after kServerStopSeconds). Does nothing when no
  // server runs.
  void stop();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& endpoint() const { return endpoint_; }

private:
  void drain();

  pid_t pid_ = -1;
  int out_ = -1; // read end of the server's stdout
  int log_ = -1; // the log file (O_APPEND: the server's stderr writes to it too)
  std::thread drainer_;
  std::atomic<bool> stopDrain_{false};
  std::string endpoint_;
};

void writeAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

std::string describeWaitStatus(int st) {
  if (WIFEXITED(st)) {
    return "exited with status " + std::to_string(WEXITSTATUS(st));
  }
  if (WIFSIGNALED(st)) {
    return std::string("was killed by ") + strsignal(WTERMSIG(st));
  }
  return "ended";
}

// The last `lines` lines of a file, indented, for error messages.
std::string tailOf(const std::string& path, size_t lines) {
  auto text = tide::readFile(path);
  std::vector<std::string> all = tide::splitString(text ? *text : "", '\n');
  while (!all.empty() && tide::trim(all.back()).empty()) {
    all.pop_back();
  }
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += "\n    " + all[i];
  }
  return out;
}

Status ServerProcess::start(const std::string& tide, const std::vector<std::string>& args,
                            const std::string& logPath, double timeoutSeconds) {
  log_ = ::open(logPath.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_ < 0) {
    return benchError("cannot create " + logPath + ": " + std::strerror(errno));
  }
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
    return benchError(std::string("pipe2: ") + std::strerror(errno));
  }
  std::vector<std::string> argvText = {tide, "server"};
  argvText.insert(argvText.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argvText) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  // stdout to the pipe, stderr to the log (dup2 clears O_CLOEXEC on the copies). A process
  // group of its own: a Ctrl-C at the terminal reaches only the bench, which ends the instances
  // before the server. Default dispositions for the signals the bench catches or ignores.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipeFds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, log_, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults, none;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE}) {
    sigaddset(&defaults, sig);
  }
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  pid_t pid = -1;
  int err = ::posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipeFds[1]);
  if (err != 0) {
    ::close(pipeFds[0]);
    return benchError("cannot run " + tide + ": " + std::strerror(err));
  }
  pid_ = pid;
  out_ = pipeFds[0];

  // The first line: "tide server listening on http://127.0.0.1:PORT".
  std::string text;
  Deadline deadline(timeoutSeconds);
  while (text.find('\n') == std::string::npos) {
    TIDE_RETURN_IF_ERROR(keepWaiting(deadline, "the server to listen", "see " + logPath));
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    char chunk[4096];
    ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int st = 0;
      ::waitpid(pid_, &st, 0);
      pid_ = -1;
      return benchError("tide server " + describeWaitStatus(st) + " before listening; " + logPath +
                        " ends with:" + tailOf(logPath, 10));
    }
    text.append(chunk, static_cast<size_t>(n));
  }
  writeAll(log_, text.data(), text.size());
  drainer_ = std::thread([this] { drain(); });

  std::string line = text.substr(0, text.find('\n'));
  size_t at = line.find("http://");
  if (line.rfind("tide server listening on ", 0) != 0 || at == std::string::npos) {
    return benchError("unexpected first line from tide server: \"" + line + "\"");
  }
  endpoint_ = line.substr(at);
  return Status::ok();
}

// Copies the server's stdout after the first line to the log, until EOF or stop().
void ServerProcess::drain() {
  char chunk[4096];
  while (!stopDrain_) {
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    ssize_t n = ::read(out_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    writeAll(log_, chunk, static_cast<size_t>(n));
  }
}

void ServerProcess::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    Deadline deadline(kServerStopSeconds);
    int st = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        break;
      }
      if (deadline.passed()) {
        std::printf("  tide server (pid %d) still runs %g s after SIGTERM: sending SIGKILL\n",
                    static_cast<int>(pid_), kServerStopSeconds);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &st, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
  }
  stopDrain_ = true;
  if (drainer_.joinable()) {
    drainer_.join();
  }
  for (int* fd : {&out_, &log_}) {
    if (*fd >= 0) {
      ::close(*fd);
      *fd = -1;
    }
  }
}

// ---- The API -------------------------------------------------------------------------------

// Calls an action; an error names the action.
Result<Json> call(const ApiClient& api, const std::string& action, const Json& params) {
  auto r = api.call(action, params);
  if (!r) {
    return Status(r.status().code(), action + ": " + r.status().toString());
  }
  return r;
}

struct InstanceInfo {
  std::string id;
  std::string state; // "pending", "running", ...
  std::string ip;    // PrivateIpAddress (empty once terminated)
  int port = 0;
  std::string reason; // StateReason and StateTransitionReason, when there are any
};

// DescribeInstances of the given ids (all instances when empty).
Result<std::vector<InstanceInfo>> describeInstances(const ApiClient& api,
                                                    const std::vector<std::string>& ids) {
  Json params = Json::object();
  if (!ids.empty()) {
    params["InstanceIds"] = ids;
  }
  auto r = call(api, "DescribeInstances", params);
  if (!r) {
    return r.status();
  }
  std::vector<InstanceInfo> out;
  for (const Json& reservation : r->value("Reservations", Json::array())) {
    for (const Json& i : reservation.value("Instances", Json::array())) {
      InstanceInfo x;
      x.id = i.value("InstanceId", std::string());
      x.state = i.value("State", Json::object()).value("Name", std::string());
      x.ip = i.value("PrivateIpAddress", std::string());
      x.port = i.value("Port", 0);
      x.reason = i.value("StateReason", Json::object()).value("Message", std::string());
      std::string transition = i.value("StateTransitionReason", std::string());
      if (!transition.empty()) {
        x.reason += (x.reason.empty() ? "" : "; ") + transition;
      }
      out.push_back(std::move(x));
    }
  }
  return out;
}

// The last lines of an instance's console output, for error messages.
std::string consoleTail(const ApiClient& api, const std::string& id) {
  auto r = call(api, "GetConsoleOutput", {{"InstanceId", id}});
  if (!r) {
    return "\n    (no console output: " + r.status().toString() + ")";
  }
  auto text = tide::base64Decode(r->value("Output", std::string()));
  std::vector<std::string> lines = tide::splitString(text ? *text : "", '\n');
  while (!lines.empty() && tide::trim(lines.back()).empty()) {
    lines.pop_back();
  }
  std::string out;
  for (size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i) {
    out += "\n    " + lines[i];
  }
  return out.empty() ? "\n    (console output is empty)" : out;
}

// "97 pending, 3 running"
std::string stateCounts(const std::vector<InstanceInfo>& instances) {
  std::map<std::string, int> counts;
  for (const InstanceInfo& i : instances) {
    counts[i.state]++;
  }
  std::string out;
  for (const auto& [state, n] : counts) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + state;
  }
  return out.empty() ? "none listed" : out;
}

// Polls DescribeInstances every 5 ms until every one of ids is in state `want`. When waiting for
// "running", an instance that ends up elsewhere (a failed launch is "terminated", an app that
// exited makes it "stopped") ends the wait with its reason and console output.
Result<std::vector<InstanceInfo>> waitForState(const ApiClient& api,
                                               const std::vector<std::string>& ids,
                                               const std::string& want, double timeoutSeconds,
                                               bool interruptible) {
  Deadline deadline(timeoutSeconds);
  for (;;) {
    auto r = describeInstances(api, ids);
    if (!r) {
      return r.status();
    }
    size_t done = 0;
    for (const InstanceInfo& i : *r) {
      if (i.state == want) {
        ++done;
      } else if (want == "running" && i.state != "pending") {
        return Status("InstanceFailed",
                      "instance " + i.id + " is " + i.state + " instead of running" +
                          (i.reason.empty() ? "" : " (" + i.reason + ")") +
                          "; its console output ends with:" + consoleTail(api, i.id));
      }
    }
    if (done == ids.size()) {
      return r;
    }
    TIDE_RETURN_IF_ERROR(keepWaiting(deadline,
                                     std::to_string(ids.size()) + " instance(s) to be " + want,
                                     stateCounts(*r), interruptible));
    sleepPoll();
  }
}

// ---- The apps --------------------------------------------------------------------------------

// One GET /whoami to one app over a non-blocking socket, in HTTP/1.0 so that the app closes the
// connection after its answer. All instances are asked at once from one poll loop (see
// waitServing), so that an app slow to answer (its CPU quota spent) delays no other's probe.
struct Probe {
  const InstanceInfo* instance = nullptr;
  int fd = -1;
  bool connected = false;
  std::string toSend;   // the rest of the request
  std::string received; // the response so far
  SteadyClock::time_point started;
  SteadyClock::time_point retryAt; // when to try again after a failed attempt

  // Starts connecting. False when that failed at once (nothing listens yet, usually).
  bool start(SteadyClock::time_point now) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(instance->port));
    if (::inet_pton(AF_INET, instance->ip.c_str(), &addr.sin_addr) != 1) {
      return false;
    }
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return false;
    }
    started = now;
    toSend = "GET /whoami HTTP/1.0\r\nHost: " + instance->ip + "\r\n\r\n";
    received.clear();
    connected = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
    return connected || errno == EINPROGRESS;
  }

  short events() const { return connected && toSend.empty() ? POLLIN : POLLOUT; }

  // Advances on poll's revents. Returns the answer's body (trimmed) once the app has answered
  // 200 and closed; "" while the exchange goes on; nullopt when this attempt failed.
  std::optional<std::string> advance(short revents) {
    if (!connected) {
      int err = 0;
      socklen_t len = sizeof err;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
        return std::nullopt; // refused: nothing listens yet
      }
      connected = true;
    }
    while (!toSend.empty()) {
      ssize_t n = ::send(fd, toSend.data(), toSend.size(), MSG_NOSIGNAL);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return std::string();
      }
      if (n <= 0) {
        return std::nullopt;
      }
      toSend.erase(0, static_cast<size_t>(n));
    }
    if ((revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
      return std::string();
    }
    for (;;) {
      char buf[1024];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n > 0) {
        received.append(buf, static_cast<size_t>(n));
        if (received.size() > 64 * 1024) {
          return std::nullopt;
        }
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        return std::string();
      }
      if (n < 0) {
        return std::nullopt;
      }
      break; // the app closed: the answer is whole
    }
    // "HTTP/1.1 200 OK\r\n<headers>\r\n\r\n<body>"
    size_t space = received.find(' ');
    size_t body = received.find("\r\n\r\n");
    if (received.rfind("HTTP/", 0) != 0 || space == std::string::npos ||
        received.compare(space + 1, 3, "200") != 0 || body == std::string::npos) {
      return std::nullopt;
    }
    std::string answer(tide::trim(std::string_view(received).substr(body + 4)));
    return answer.empty() ? std::nullopt : std::optional<std::string>(answer);
  }

  void close() {
    if (fd >= 0) {
      ::close(fd);
      fd = -1;
    }
  }
};

// Asks every instance's app GET /whoami, all at once, again 5 ms after each failed attempt,
// until each has answered with its own id. Every 250 ms it checks that the instances not
// answering yet still run (an app that exited makes its instance "stopped"), so that such an
// app ends the wait at once.
Status waitServing(const ApiClient& api, const std::vector<InstanceInfo>& instances,
                   double timeoutSeconds) {
  std::vector<Probe> pending;
  for (const InstanceInfo& i : instances) {
    if (i.ip.empty() || i.port <= 0) {
      return benchError("instance " + i.id + " is running without a PrivateIpAddress and Port");
    }
    pending.push_back(Probe{&i});
  }
  struct CloseAll {
    std::vector<Probe>& probes;
    ~CloseAll() {
      for (Probe& p : probes) {
        p.close();
      }
    }
  } closeAll{pending};
  std::map<std::string, std::string> strangers; // instance id → the other id that answered
  Deadline deadline(timeoutSeconds);
  auto lastCheck = SteadyClock::now();
  while (!pending.empty()) {
    auto now = SteadyClock::now();
    if (now - lastCheck >= std::chrono::milliseconds(250)) {
      lastCheck = now;
      std::vector<std::string> ids;
      for (const Probe& p : pending) {
        ids.push_back(p.instance->id);
      }
      auto states = describeInstances(api, ids);
      if (!states) {
        return states.status();
      }
      for (const InstanceInfo& i : *states) {
        if (i.state != "running") {
          return Status("InstanceFailed",
                        "instance " + i.id + " is " + i.state + " before its app answered" +
                            (i.reason.empty() ? "" : " (" + i.reason + ")") +
                            "; its console output ends with:" + consoleTail(api, i.id));
        }
      }
    }
    const InstanceInfo& first = *pending.front().instance;
    std::string progress = std::to_string(pending.size()) + " of " +
                           std::to_string(instances.size()) + " not answering yet, e.g. " +
                           first.id + " at " + first.ip + ":" + std::to_string(first.port);
    if (auto s = strangers.find(first.id); s != strangers.end()) {
      progress += ", where " + s->second + " answered instead";
    }
    TIDE_RETURN_IF_ERROR(keepWaiting(deadline, "every app to answer GET /whoami", progress));

    // Start the attempts that are due, then wait up to 5 ms for any to move on.
    now = SteadyClock::now();
    std::vector<pollfd> fds;
    std::vector<size_t> owners; // fds[k] belongs to pending[owners[k]]
    for (size_t k = 0; k < pending.size(); ++k) {
      Probe& p = pending[k];
      if (p.fd < 0 && now >= p.retryAt && !p.start(now)) {
        p.close();
        p.retryAt = now + kPollInterval;
      }
      if (p.fd >= 0) {
        fds.push_back({p.fd, p.events(), 0});
        owners.push_back(k);
      }
    }
    int ready = ::poll(fds.data(), fds.size(), static_cast<int>(kPollInterval.count()));
    if (ready < 0 && errno != EINTR) {
      return benchError(std::string("poll: ") + std::strerror(errno));
    }
    now = SteadyClock::now();
    std::vector<bool> answered(pending.size(), false);
    for (size_t k = 0; k < fds.size(); ++k) {
      Probe& p = pending[owners[k]];
      std::optional<std::string> step;
      if (fds[k].revents != 0) {
        step = p.advance(fds[k].revents);
      } else {
        step = std::string(); // nothing yet: go on unless it takes too long
      }
      if (step && *step == p.instance->id) {
        answered[owners[k]] = true;
        p.close();
        continue;
      }
      if (step && !step->empty()) {
        strangers[p.instance->id] = *step; // another instance's app answered
      }
      if (!step || !step->empty() ||
          now - p.started >= std::chrono::milliseconds(kProbeTimeoutMs)) {
        p.close();
        p.retryAt = now + kPollInterval;
      }
    }
    std::vector<Probe> still;
    for (size_t k = 0; k < pending.size(); ++k) {
      if (!answered[k]) {
        still.push_back(pending[k]);
      }
    }
    pending.swap(still);
  }
  return Status::ok();
}

// ---- The benchmark ---------------------------------------------------------------------------

struct Row {
  std::string mode;
  int count = 0;
  double runCallMs = 0;    // the RunInstances round trip
  double runningMs = 0;    // RunInstances sent → all "running"
  double servingMs = 0;    // RunInstances sent → all apps answered
  double terminatedMs = 0; // TerminateInstances sent → all "terminated"
};

// Terminates every instance of the bench's server that is not terminated yet and waits until
// they are (the server is the bench's own, so all its instances are the bench's). Not
// interruptible: this is the cleanup. Ids it saw are added to `seen`.
Status terminateAll(const ApiClient& api, double timeoutSeconds, std::set<std::string>& seen) {
  auto all = describeInstances(api, {});
  if (!all) {
    return all.status();
  }
  std::vector<std::string> ids;
  for (const InstanceInfo& i : *all) {
    seen.insert(i.id);
    if (i.state != "terminated") {
      ids.push_back(i.id);
    }
  }
  if (ids.empty()) {
    return Status::ok();
  }
  std::printf("  terminating %zu instance(s) left by the failure\n", ids.size());
  auto r = call(api, "TerminateInstances", {{"InstanceIds", ids}});
  if (!r) {
    return r.status();
  }
  return waitForState(api, ids, "terminated", timeoutSeconds, false).status();
}

// One count: launch N instances, wait until they run and serve, terminate them.
Result<Row> runCount(const ApiClient& api, const std::string& mode, const std::string& imageId,
                     int n, const Options& o, std::set<std::string>& launched) {
  Row row;
  row.mode = mode;
  row.count = n;
  const auto t0 = SteadyClock::now();
  auto run = call(
      api, "RunInstances",
      {{"ImageId", imageId}, {"InstanceType", o.instanceType}, {"MinCount", n}, {"MaxCount", n}});
  if (!run) {
    return run.status();
  }
  row.runCallMs = msBetween(t0, SteadyClock::now());
  std::vector<std::string> ids;
  for (const Json& i : run->value("Instances", Json::array())) {
    ids.push_back(i.value("InstanceId", std::string()));
    launched.insert(ids.back());
  }
  if (ids.size() != static_cast<size_t>(n)) {
    return benchError("RunInstances launched " + std::to_string(ids.size()) + " instances, not " +
                      std::to_string(n));
  }

  auto running = waitForState(api, ids, "running", o.timeoutSeconds, true);
  if (!running) {
    return running.status();
  }
  row.runningMs = msBetween(t0, SteadyClock::now());

  TIDE_RETURN_IF_ERROR(waitServing(api, *running, o.timeoutSeconds));
  row.servingMs = msBetween(t0, SteadyClock::now());

  const auto t1 = SteadyClock::now();
  auto terminate = call(api, "TerminateInstances", {{"InstanceIds", ids}});
  if (!terminate) {
    return terminate.status();
  }
  auto gone = waitForState(api, ids, "terminated", o.timeoutSeconds, true);
  if (!gone) {
    return gone.status();
  }
  row.terminatedMs = msBetween(t1, SteadyClock::now());
  return row;
}

// Makes the image of the app and waits until it is available; returns its id.
Result<std::string> createAppImage(const ApiClient& api, const std::string& mode,
                                   const Options& o) {
  const auto t0 = SteadyClock::now();
  auto created = call(api, "CreateImage",
                      {{"Name", "launch-bench-app"},
                       {"SourceDirectory", o.app},
                       {"RunCommand", "python3 server.py"}});
  if (!created) {
    return created.status();
  }
  std::string imageId = created->value("ImageId", std::string());
  Deadline deadline(o.timeoutSeconds);
  for (;;) {
    auto r = call(api, "DescribeImages", {{"ImageIds", {imageId}}});
    if (!r) {
      return r.status();
    }
    Json image = r->value("Images", Json::array()).empty() ? Json::object() : (*r)["Images"][0];
    std::string state = image.value("State", std::string());
    if (state == "available") {
      std::printf("[%s] image %s of %s available after %.0f ms (%lld files, %lld bytes)\n",
                  mode.c_str(), imageId.c_str(), o.app.c_str(), msBetween(t0, SteadyClock::now()),
                  static_cast<long long>(image.value("FileCount", 0LL)),
                  static_cast<long long>(image.value("SizeBytes", 0LL)));
      return imageId;
    }
    if (state == "failed") {
      return benchError("image " + imageId + " failed: " +
                        image.value("StateReason", Json::object()).value("Message", std::string()));
    }
    TIDE_RETURN_IF_ERROR(
        keepWaiting(deadline, "image " + imageId + " to be available", "it is " + state));
    sleepPoll();
  }
}

// The benchmark proper for one disk mode, against a running server; host is its DescribeHost.
Status benchMode(const ApiClient& api, const Json& h, const std::string& mode, const Options& o,
                 std::vector<Row>& rows, std::set<std::string>& launched) {
  std::string disk = h.value("DiskCopy", std::string());
  std::string note = h.value("DiskNote", std::string());
  std::printf("[%s] server disks: %s%s%s\n", mode.c_str(), disk.c_str(), note.empty() ? "" : " - ",
              note.c_str());
  std::string wanted = mode == "overlay" ? "overlayfs" : "copy";
  if (disk != wanted) {
    std::printf("[%s] skipped: the server cannot use %s disks (it uses %s, for the reason above)\n",
                mode.c_str(), mode.c_str(), disk.c_str());
    return Status::ok();
  }

  auto imageId = createAppImage(api, mode, o);
  if (!imageId) {
    return imageId.status();
  }
  for (int n : o.counts) {
    auto row = runCount(api, mode, *imageId, n, o, launched);
    if (!row) {
      return Status(row.status().code(),
                    "with " + std::to_string(n) + " instance(s): " + row.status().message());
    }
    std::printf("[%s] N=%d: running after %.0f ms, serving after %.0f ms, terminated in %.0f ms\n",
                mode.c_str(), n, row->runningMs, row->servingMs, row->terminatedMs);
    std::fflush(stdout);
    rows.push_back(*row);
  }
  return Status::ok();
}

// One disk mode from start to end: its own server and data directory, the benchmark, and the
// cleanup in this order: instances (a server that stops leaves them running), server, files.
// False when something failed (the error is printed).
bool runMode(const Options& o, const std::string& mode, std::vector<Row>& rows, bool& printedHost) {
  TempDir dir;
  Status s = dir.create();
  ServerProcess server;
  std::optional<ApiClient> api;
  std::set<std::string> launched;
  if (s.isOk()) {
    s = server.start(o.tide,
                     {"--data-dir", dir.path() + "/data", "--api", "127.0.0.1:0", "--disks", mode,
                      "--cgroups", o.cgroups, "--max-cpu-cores", "1000", "--termination-grace",
                      "5", "--auth", "none"},
                     dir.path() + "/server.log", o.timeoutSeconds);
  }
  if (s.isOk()) {
    auto client = ApiClient::fromEndpoint(server.endpoint());
    if (client) {
      api = *client;
    } else {
      s = client.status();
    }
  }
  Json h;
  if (s.isOk()) {
    auto host = call(*api, "DescribeHost", Json::object());
    s = host.status();
    h = host ? host->value("Host", Json::object()) : Json::object();
  }
  if (s.isOk()) {
    // The rest of the machine facts, from the first server.
    if (!printedHost) {
      std::printf("cgroups: %s (%s)   [DescribeHost Host.Cgroups]\n\n",
                  h.value("Cgroups", std::string("?")).c_str(),
                  h.value("CgroupNote", std::string()).c_str());
      printedHost = true;
    }
    std::printf("[%s] tide server pid %d at %s, data and log in %s\n", mode.c_str(),
                static_cast<int>(server.pid()), server.endpoint().c_str(), dir.path().c_str());
    s = benchMode(*api, h, mode, o, rows, launched);
  }
  if (!s.isOk()) {
    std::printf("[%s] error: %s\n", mode.c_str(), s.toString().c_str());
    if (server.running()) {
      std::printf("  the server's log ends with:%s\n",
                  tailOf(dir.path() + "/server.log", 10).c_str());
    }
  }

  bool clean = true;
  if (api && server.running()) {
    // At least 30 s: a clean termination takes up to the 5 s grace period.
    Status t = terminateAll(*api, std::max(o.timeoutSeconds, 30.0), launched);
    if (!t.isOk()) {
      std::printf("[%s] cleanup: could not terminate every instance: %s\n  the next `tide "
                  "server --data-dir %s` removes what is left of them\n",
                  mode.c_str(), t.toString().c_str(), dir.path().c_str());
      clean = false;
    }
  }
  server.stop();
  if (clean) {
    dir.remove();
  }
  std::fflush(stdout);
  return s.isOk() && clean;
}

void printTable(const std::vector<Row>& rows) {
  std::printf("\n%-8s %5s %13s %10s %9s %10s %9s %11s %9s\n", "disks", "N", "RunInstances",
              "running", "per inst", "serving", "per inst", "terminated", "per inst");
  std::printf("%-8s %5s %13s %10s %9s %10s %9s %11s %9s\n", "", "", "call ms", "ms", "ms", "ms",
              "ms", "ms", "ms");
  for (const Row& r : rows) {
    double n = r.count;
    std::printf("%-8s %5d %13.1f %10.1f %9.2f %10.1f %9.2f %11.1f %9.2f\n", r.mode.c_str(), r.count,
                r.runCallMs, r.runningMs, r.runningMs / n, r.servingMs, r.servingMs / n,
                r.terminatedMs, r.terminatedMs / n);
  }
  std::printf("\nrunning: RunInstances sent until DescribeInstances shows all N running;\n"
              "serving: RunInstances sent until every app answered GET /whoami with its id;\n"
              "terminated: TerminateInstances sent until all N are terminated.\n");
}

} // namespace

int main(int argc, char** argv) {
  Options o;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  o.tide = (ec ? fs::path(argv[0]) : self).parent_path() / "tide";
  o.app = std::string(TIDE_SOURCE_DIR) + "/examples/shop";
  std::string counts = "1,10,100";
  std::string disks = "overlay,copy";

  CLI::App app{"tide-launch-bench: time to launch, serve from and terminate N instances, per "
               "disk mode, against tide servers of its own",
               "tide-launch-bench"};
  app.add_option("--tide", o.tide, "the tide binary")->capture_default_str();
  app.add_option("--counts", counts, "instances per launch, comma-separated")
      ->capture_default_str();
  app.add_option("--disks", disks, "disk modes to compare, comma-separated: overlay, copy")
      ->capture_default_str();
  app.add_option("--app", o.app, "the app directory to make the image of (runs python3 server.py)")
      ->capture_default_str();
  app.add_option("--instance-type", o.instanceType, "instance type to launch")
      ->capture_default_str();
  app.add_option("--cgroups", o.cgroups, "passed to tide server --cgroups: auto, v1, v2 or none")
      ->check(CLI::IsMember({"auto", "v1", "v2", "none"}))
      ->capture_default_str();
  app.add_option("--timeout", o.timeoutSeconds, "seconds every wait may take before giving up")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (const std::string& c : tide::splitString(counts, ',')) {
    std::string_view t = tide::trim(c);
    if (t.empty() || t.size() > 4 || t.find_first_not_of("0123456789") != std::string_view::npos ||
        std::stoi(std::string(t)) < 1) {
      std::fprintf(stderr, "tide-launch-bench: --counts wants positive numbers, got '%s'\n",
                   c.c_str());
      return 2;
    }
    o.counts.push_back(std::stoi(std::string(t)));
  }
  for (const std::string& d : tide::splitString(disks, ',')) {
    std::string mode(tide::trim(d));
    if (mode != "overlay" && mode != "copy") {
      std::fprintf(stderr, "tide-launch-bench: --disks wants overlay and/or copy, got '%s'\n",
                   d.c_str());
      return 2;
    }
    o.disks.push_back(mode);
  }
  if (::access(o.tide.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "tide-launch-bench: no tide binary at %s (build it, or give --tide)\n",
                 o.tide.c_str());
    return 2;
  }
  o.tide = fs::absolute(o.tide, ec).string();
  o.app = fs::canonical(o.app, ec).string();
  if (ec || !fs::is_regular_file(o.app + "/server.py", ec)) {
    std::fprintf(stderr, "tide-launch-bench: --app must be a directory with server.py\n");
    return 2;
  }

  struct sigaction sa {};
  sa.sa_handler = onSignal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  std::printf("tide-launch-bench\n");
  std::printf("machine: %u CPU cores (std::thread::hardware_concurrency), running as %s\n",
              std::thread::hardware_concurrency(), ::geteuid() == 0 ? "root" : "non-root");
  std::printf("tide: %s\napp: %s (python3 server.py)\ninstance type: %s, counts: %s, "
              "timeout per wait: %g s\n",
              o.tide.c_str(), o.app.c_str(), o.instanceType.c_str(), counts.c_str(),
              o.timeoutSeconds);

  std::vector<Row> rows;
  bool ok = true;
  bool printedHost = false;
  for (const std::string& mode : o.disks) {
    if (gInterrupted) {
      break;
    }
    ok = runMode(o, mode, rows, printedHost) && ok;
  }
  printTable(rows);
  if (gInterrupted) {
    std::printf("interrupted\n");
  }
  return ok && !gInterrupted ? 0 : 1;
}
