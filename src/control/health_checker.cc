#include "control/health_checker.h"

#include "common/log.h"
#include "control/grpc_probe.h"
#include "control/probe_socket.h"
#include "http1/parser.h"
#include "http1/serializer.h"
#include "model/names.h"
#include "model/validation.h"
#include "operations/targets.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <optional>
#include <set>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::control {

namespace {

// One probe in flight: its socket, what it has read, and its timer.
struct Probe : ProbeBase {
  std::string request;
  size_t sent = 0;
  std::string response;
  std::string matcher;

  explicit Probe(EventLoop& l) : ProbeBase(l) {}

  // Returns true once the status line is in (http1::parseStatusLine): the code decides.
  bool statusLineIn() {
    int versionMinor = 0;
    int code = 0;
    size_t length = 0;
    http1::ParseStatus st = http1::parseStatusLine(response.data(), response.size(), 1024,
                                                   &versionMinor, &code, &length);
    if (st == http1::ParseStatus::Incomplete) {
      return false;
    }
    if (st != http1::ParseStatus::Complete || code > 599) {
      finish({CheckResult::Kind::Failed, 0, "malformed response"});
      return true;
    }
    finish({model::matcherMatches(matcher, code) ? CheckResult::Kind::Passed
                                                 : CheckResult::Kind::CodeMismatch,
            code, ""});
    return true;
  }

  void onEvent(uint32_t events) {
    if (events & EPOLLOUT) {
      if (sent == 0 && connectFailed()) {
        return;
      }
      while (sent < request.size()) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN) {
            return;
          }
          finish({CheckResult::Kind::Failed, 0, std::strerror(errno)});
          return;
        }
        sent += static_cast<size_t>(n);
      }
      if (Status m = loop.modify(fd, EPOLLIN); !m.isOk()) {
        finish({CheckResult::Kind::Failed, 0, m.message()});
      }
      return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
      char buf[2048];
      while (true) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
          response.append(buf, static_cast<size_t>(n));
          if (statusLineIn()) {
            return;
          }
          continue;
        }
        if (n < 0 && errno == EAGAIN) {
          return;
        }
        finish({CheckResult::Kind::Failed, 0,
                n == 0 ? "connection closed before a response" : std::strerror(errno)});
        return;
      }
    }
  }
};

} // namespace

void startHealthProbe(EventLoop& loop, uint32_t ip, uint16_t port, uint32_t source,
                      const std::string& path, const std::string& matcher, Millis timeout,
                      std::function<void(CheckResult)> done) {
  auto probe = std::make_shared<Probe>(loop);
  probe->done = std::move(done);
  probe->matcher = matcher;
  std::string& r = probe->request;
  http1::appendRequestLine(r, "GET", path);
  http1::appendField(r, "Host", probeAuthority(ip, port));
  http1::appendField(r, "User-Agent", "ELB-HealthChecker/2.0");
  http1::appendField(r, "Accept", "*/*");
  http1::appendField(r, "Connection", "close");
  http1::appendHeadEnd(r);
  std::string error;
  probe->fd = connectProbeSocket(ip, port, source, error);
  if (probe->fd < 0) {
    probe->finish({CheckResult::Kind::Failed, 0, error});
    return;
  }
  // The callbacks hold the probe alive until it finishes.
  Status added =
      loop.add(probe->fd, EPOLLOUT, [probe](uint32_t events) { probe->onEvent(events); });
  if (!added.isOk()) {
    probe->finish({CheckResult::Kind::Failed, 0, added.message()});
    return;
  }
  probe->timer = loop.runAfter(timeout, [probe] {
    probe->timer = 0;
    // The loop may come to this timer late (the control thread was busy) with the answer
    // already waiting in the socket: read it first, so that a check fails for the target's
    // slowness only, never for the control thread's (a false failure under load would take a
    // healthy target, or a whole group, out of service).
    if (probe->sent == probe->request.size()) {
      probe->onEvent(EPOLLIN);
    }
    probe->finish({CheckResult::Kind::Timeout, 0, ""});
  });
}

HealthChecker::HealthChecker(EventLoop& loop, store::Store& store, const Clock& clock)
    : loop_(loop), store_(store), clock_(clock), alive_(std::make_shared<bool>(true)) {}

HealthChecker::~HealthChecker() {
  *alive_ = false;
}

namespace {
std::string keyOf(const model::Target& t) {
  return t.targetGroupArn + "|" + t.id + "|" + std::to_string(t.port);
}
} // namespace

Result<Millis> HealthChecker::reconcile() {
  std::vector<model::TargetGroup> groups;
  std::vector<model::Target> targets;
  std::vector<model::Listener> listeners;
  std::vector<model::LoadBalancer> loadBalancers;
  std::map<std::string, model::Instance> instances;
  TIDE_RETURN_IF_ERROR(store_.transact(
      [&](store::Tx& tx) -> Status {
        auto g = tx.targetGroups();
        auto t = tx.targets("");
        auto l = tx.listeners();
        auto i = tx.instances();
        auto b = tx.loadBalancers();
        TIDE_RETURN_IF_ERROR(
            firstError({&g.status(), &t.status(), &l.status(), &i.status(), &b.status()}));
        loadBalancers = std::move(*b);
        groups = std::move(*g);
        targets = std::move(*t);
        listeners = std::move(*l);
        for (auto& inst : *i) {
          instances.emplace(inst.instanceId, std::move(inst));
        }
        return Status::ok();
      },
      false));
  std::map<std::string, const model::TargetGroup*> byArn;
  for (const auto& g : groups) {
    byArn[g.targetGroupArn] = &g;
  }
  std::map<std::string, uint32_t> lbAddress; // by load balancer ARN (host order)
  for (const model::LoadBalancer& lb : loadBalancers) {
    in_addr a{};
    if (!lb.ipAddress.empty() && inet_pton(AF_INET, lb.ipAddress.c_str(), &a) == 1) {
      lbAddress[lb.loadBalancerArn] = ntohl(a.s_addr);
    }
  }
  std::set<std::string> used;
  std::map<std::string, uint32_t> checkedFrom; // by target group ARN: a forwarding LB's address
  for (const auto& l : listeners) {
    for (const std::string& arn : model::targetGroupsOf(l)) {
      used.insert(arn);
      auto a = lbAddress.find(l.loadBalancerArn);
      if (a != lbAddress.end()) {
        checkedFrom.emplace(arn, a->second);
      }
    }
  }
  TimeMs now = clock_.now();
  TimeMs nextDue = now + 1000;
  std::set<std::string> live;
  for (const model::Target& t : targets) {
    auto g = byArn.find(t.targetGroupArn);
    if (g == byArn.end() || !g->second->healthCheckEnabled || !used.count(t.targetGroupArn)) {
      continue;
    }
    if (t.state != model::TargetHealthState::Initial &&
        t.state != model::TargetHealthState::Healthy &&
        t.state != model::TargetHealthState::Unhealthy) {
      continue;
    }
    auto inst = instances.find(t.id);
    if (inst == instances.end() || inst->second.state != model::InstanceState::Running ||
        inst->second.privateIpAddress.empty()) {
      continue;
    }
    const model::TargetGroup& tg = *g->second;
    std::string key = keyOf(t);
    live.insert(key);
    Schedule& s = schedule_[key];
    if (s.running) {
      continue;
    }
    if (s.nextDue > now) {
      nextDue = std::min(nextDue, s.nextDue);
      continue;
    }
    Millis interval(static_cast<int64_t>(tg.healthCheckIntervalSeconds * 1000));
    s.nextDue = now + interval.count();
    s.running = true;
    nextDue = std::min(nextDue, s.nextDue);
    in_addr addr{};
    inet_pton(AF_INET, inst->second.privateIpAddress.c_str(), &addr);
    int port = tg.healthCheckPort == "traffic-port" ? t.port : std::stoi(tg.healthCheckPort);
    ++inFlight_;
    std::shared_ptr<bool> alive = alive_;
    model::Target probed = t;
    auto from = checkedFrom.find(t.targetGroupArn);
    auto recordIt = [this, alive, key, probed](CheckResult r) {
      if (*alive) {
        record(key, probed, std::move(r));
      }
    };
    uint32_t source = from == checkedFrom.end() ? 0 : from->second;
    Millis timeout(static_cast<int64_t>(tg.healthCheckTimeoutSeconds * 1000));
    if (tg.protocolVersion == "HTTP2" || tg.protocolVersion == "GRPC") {
      // h2c checks (grpc_probe.h): grpc-status against GrpcCode, or :status against HttpCode.
      startH2HealthProbe(loop_, ntohl(addr.s_addr), static_cast<uint16_t>(port), source,
                         H2ProbeSpec{tg.healthCheckPath, tg.matcher, tg.protocolVersion == "GRPC"},
                         timeout, std::move(recordIt));
    } else {
      startHealthProbe(loop_, ntohl(addr.s_addr), static_cast<uint16_t>(port), source,
                       tg.healthCheckPath, tg.matcher, timeout, std::move(recordIt));
    }
  }
  // Forget targets that are no longer checked.
  for (auto it = schedule_.begin(); it != schedule_.end();) {
    it = live.count(it->first) || it->second.running ? std::next(it) : schedule_.erase(it);
  }
  return Millis(std::max<TimeMs>(nextDue - now, 10));
}

void HealthChecker::record(const std::string& key, const model::Target& probed,
                           CheckResult result) {
  --inFlight_;
  auto s = schedule_.find(key);
  if (s != schedule_.end()) {
    s->second.running = false;
  }
  // Read, apply, write: the control thread is the store's only writer, so nothing changes in
  // between. The counter lives in the schedule (memory); the store is written only when what
  // it shows changes: a state change with notification (the publisher must rebuild the
  // balancer's snapshot), a new reason quietly.
  std::optional<model::Target> current;
  std::optional<model::TargetGroup> tg;
  Status st = store_.transact(
      [&](store::Tx& tx) -> Status {
        auto targets = tx.targets(probed.targetGroupArn);
        auto group = tx.targetGroup(probed.targetGroupArn);
        TIDE_RETURN_IF_ERROR(firstError({&targets.status(), &group.status()}));
        tg = *group;
        for (model::Target& t : *targets) {
          if (t.id == probed.id && t.port == probed.port) {
            current = t;
          }
        }
        return Status::ok();
      },
      false);
  if (!st.isOk() || !current || !tg) {
    if (!st.isOk()) {
      logError("health checker: " + st.toString());
    }
    return; // deregistered (or the group deleted) meanwhile
  }
  if (s == schedule_.end()) {
    return; // cannot happen: a target's schedule stays while its check runs
  }
  Schedule& sched = s->second;
  if (sched.left != current) {
    sched.consecutive = 0; // changed by someone else since the last check: count afresh
  }
  model::Target before = *current;
  current->consecutive = sched.consecutive;
  HealthChange change = applyCheck(*current, *tg, result);
  sched.consecutive = current->consecutive;
  current->consecutive = 0;
  sched.left = *current;
  if (change != HealthChange::StateChanged && *current == before) {
    return; // only the counter moved (or nothing did): nothing durable to write
  }
  st = store_.transact([&](store::Tx& tx) { return operations::recordTargetHealth(tx, *current); },
                       change == HealthChange::StateChanged);
  if (!st.isOk()) {
    logError("health checker: " + st.toString());
    return;
  }
  if (change == HealthChange::StateChanged) {
    logInfo("target " + current->id + ":" + std::to_string(current->port) + " is " +
            std::string(model::targetHealthStateName(current->state)) +
            (current->reason.empty() ? ""
                                     : " (" + current->reason + ": " + current->description + ")"));
  }
}

} // namespace tide::control
