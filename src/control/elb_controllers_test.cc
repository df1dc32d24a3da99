// The target registration controller, the publisher and the health checker over a real store;
// the health checker also against a real HTTP server on 127.0.0.1.
#include "common/status_testing.h"
#include "control/health_checker.h"
#include "control/publisher.h"
#include "control/target_controller.h"
#include "store/faulty_store.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <atomic>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <optional>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace tide::control {
namespace {

namespace fs = std::filesystem;
using model::TargetHealthState;

class ElbControllersTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-elb-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    store_ = std::move(*store::openSqliteStore((dir_ / "state.db").string()));
    tg_.targetGroupArn = "arn:tg/web";
    tg_.targetGroupName = "web";
    tg_.port = 8080;
    tg_.deregistrationDelaySeconds = 5;
    lb_.loadBalancerArn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/"
                          "shop/50dc6c495c0c9188";
    lb_.loadBalancerName = "shop";
    put([&](store::Tx& tx) {
      TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg_));
      return tx.putLoadBalancer(lb_);
    });
  }
  void TearDown() override { fs::remove_all(dir_); }

  void put(const std::function<Status(store::Tx&)>& fn) {
    ASSERT_TRUE(store_->transact(fn).isOk());
  }
  void instance(const std::string& id, model::InstanceState state, const std::string& ip) {
    model::Instance i;
    i.instanceId = id;
    i.state = state;
    i.privateIpAddress = ip;
    put([&](store::Tx& tx) { return tx.putInstance(i); });
  }
  void target(const std::string& id, int port, TargetHealthState state) {
    model::Target t{tg_.targetGroupArn, id, port, state};
    put([&](store::Tx& tx) { return tx.putTarget(t); });
  }
  void listener(int port) {
    model::Listener l;
    l.listenerArn = "arn:listener/" + std::to_string(port);
    l.loadBalancerArn = lb_.loadBalancerArn;
    l.port = port;
    l.defaultActions = {{"forward", tg_.targetGroupArn}};
    put([&](store::Tx& tx) { return tx.putListener(l); });
  }
  // A second target group ("api") beside tg_, and one initial target of a running instance in
  // each: i-a in tg_, i-b in api. Returns the second group.
  model::TargetGroup twoGroupsOfOneTarget() {
    model::TargetGroup api = tg_;
    api.targetGroupArn = "arn:tg/api";
    api.targetGroupName = "api";
    put([&](store::Tx& tx) { return tx.putTargetGroup(api); });
    instance("i-a", model::InstanceState::Running, "127.1.0.1");
    instance("i-b", model::InstanceState::Running, "127.1.0.2");
    target("i-a", 8080, TargetHealthState::Initial);
    put([&](store::Tx& tx) {
      return tx.putTarget({api.targetGroupArn, "i-b", 8080, TargetHealthState::Initial});
    });
    return api;
  }
  std::vector<model::Target> targets() {
    std::vector<model::Target> out;
    EXPECT_OK(store_->transact([&](store::Tx& tx) {
      out = *tx.targets("");
      return Status::ok();
    }));
    return out;
  }

  fs::path dir_;
  VirtualClock clock_;
  std::unique_ptr<store::Store> store_;
  model::TargetGroup tg_;
  model::LoadBalancer lb_;
};

TEST_F(ElbControllersTest, TargetsFollowTheirGroupAndInstance) {
  TargetController c(*store_, clock_);
  instance("i-a", model::InstanceState::Running, "127.1.0.1");
  target("i-a", 8080, TargetHealthState::Initial);
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(targets()[0].state, TargetHealthState::Unused); // no listener yet
  EXPECT_EQ(targets()[0].reason, "Target.NotInUse");
  listener(8000);
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(targets()[0].state, TargetHealthState::Initial);
  instance("i-a", model::InstanceState::Stopped, "127.1.0.1");
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(targets()[0].state, TargetHealthState::Unhealthy);
  EXPECT_EQ(targets()[0].reason, "Target.InvalidState");
  EXPECT_EQ(targets()[0].description, "Target is in the stopped state");
  instance("i-a", model::InstanceState::Running, "127.1.0.1");
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(targets()[0].state, TargetHealthState::Initial);
  instance("i-a", model::InstanceState::Terminated, "");
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_TRUE(targets().empty());
}

TEST_F(ElbControllersTest, DrainingTargetsGoAfterTheDeregistrationDelay) {
  TargetController c(*store_, clock_);
  listener(8000);
  instance("i-a", model::InstanceState::Running, "127.1.0.1");
  model::Target t{tg_.targetGroupArn, "i-a", 8080, TargetHealthState::Draining};
  t.drainingSince = clock_.now();
  put([&](store::Tx& tx) { return tx.putTarget(t); });
  auto next = c.reconcile();
  ASSERT_TRUE(next.isOk());
  EXPECT_EQ(next->count(), 1000); // checks again within a second at the latest
  clock_.advance(Millis(4999));
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_EQ(targets().size(), 1u);
  clock_.advance(Millis(1));
  ASSERT_TRUE(c.reconcile().isOk());
  EXPECT_TRUE(targets().empty());
}

TEST_F(ElbControllersTest, ATargetGroupThatFailsDoesNotStopTheOthers) {
  // Two groups, each with a target whose instance runs; no listener, so both targets should
  // become unused. Writes to the first group's targets fail.
  model::TargetGroup api = twoGroupsOfOneTarget();
  store::FaultyStore faulty(*store_);
  faulty.fault = [&](const std::string& call, const std::string& key) {
    return call == "putTarget" && key == tg_.targetGroupArn ? internalError("disk full")
                                                            : Status::ok();
  };
  TargetController c(faulty, clock_);
  auto again = c.reconcile();
  ASSERT_OK(again.status()); // the pass went on
  EXPECT_LE(again->count(), 1000);
  auto stateIn = [&](const std::string& arn) {
    for (const auto& t : targets()) {
      if (t.targetGroupArn == arn) {
        return t.state;
      }
    }
    return TargetHealthState::Draining;
  };
  EXPECT_EQ(stateIn(tg_.targetGroupArn), TargetHealthState::Initial); // its write failed
  EXPECT_EQ(stateIn(api.targetGroupArn), TargetHealthState::Unused);  // reconciled anyway

  // Healed: the failed group is tried again even when the wake names only the other group.
  faulty.fault = nullptr;
  ASSERT_OK(c.reconcile(Wake{false, {api.targetGroupArn}}).status());
  EXPECT_EQ(stateIn(tg_.targetGroupArn), TargetHealthState::Unused);
}

TEST_F(ElbControllersTest, AWakeReconcilesOnlyTheTargetGroupsItNames) {
  model::TargetGroup api = twoGroupsOfOneTarget();
  TargetController c(*store_, clock_);
  // By an instance's id (an instance change): only that instance's group.
  ASSERT_OK(c.reconcile(Wake{false, {"i-b"}}).status());
  for (const auto& t : targets()) {
    EXPECT_EQ(t.state, t.id == "i-b" ? TargetHealthState::Unused : TargetHealthState::Initial);
  }
  ASSERT_OK(c.reconcile(Wake::all()).status());
  for (const auto& t : targets()) {
    EXPECT_EQ(t.state, TargetHealthState::Unused);
  }
}

TEST_F(ElbControllersTest, PublisherBuildsSnapshotsWithStableSlotsAndOnlyWhenChanged) {
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store_, [&](auto s) { published.push_back(s); });
  instance("i-a", model::InstanceState::Running, "127.1.0.1");
  instance("i-b", model::InstanceState::Running, "127.1.0.2");
  target("i-a", 8080, TargetHealthState::Healthy);
  target("i-b", 8080, TargetHealthState::Initial);
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 1u);
  const balancer::Snapshot& s1 = *published[0];
  EXPECT_EQ(s1.loadBalancers.size(), 1u);
  EXPECT_TRUE(s1.loadBalancers[0].listeners.empty());
  EXPECT_TRUE(s1.targetGroups.empty()); // no listener forwards to the group yet
  listener(8000);
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 2u);
  const balancer::Snapshot& s2 = *published[1];
  ASSERT_EQ(s2.targetGroups.size(), 1u);
  ASSERT_EQ(s2.targetGroups[0].targets.size(), 2u);
  const auto& a = s2.targetGroups[0].targets[0];
  const auto& b = s2.targetGroups[0].targets[1];
  EXPECT_EQ(a.state, balancer::TargetState::Routable);
  EXPECT_EQ(b.state, balancer::TargetState::Initial); // no traffic before a passing check
  EXPECT_EQ(a.endpoint.address, 0x7f010001u);
  EXPECT_EQ(a.endpoint.port, 8080);
  EXPECT_EQ(s2.loadBalancers[0].listeners[0].endpoint.port, 8000);
  EXPECT_EQ(s2.loadBalancers[0].listeners[0].endpoint.address, 0x7f000001u);
  EXPECT_GT(s2.version, s1.version);
  // Nothing changed: nothing published.
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.size(), 2u);
  // b becomes healthy and a drains: same slots, new states.
  target("i-b", 8080, TargetHealthState::Healthy);
  target("i-a", 8080, TargetHealthState::Draining);
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 3u);
  const auto& t3 = published[2]->targetGroups[0].targets;
  EXPECT_EQ(t3[0].slot, a.slot);
  EXPECT_EQ(t3[1].slot, b.slot);
  EXPECT_EQ(t3[0].state, balancer::TargetState::Draining);
  EXPECT_EQ(t3[1].state, balancer::TargetState::Routable);
  EXPECT_NE(a.slot, b.slot);
}

TEST_F(ElbControllersTest, PublisherRoutesToInitialTargetsOnlyWithoutHealthChecks) {
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store_, [&](auto s) { published.push_back(s); });
  instance("i-a", model::InstanceState::Running, "127.1.0.1");
  instance("i-b", model::InstanceState::Running, "127.1.0.2");
  target("i-a", 8080, TargetHealthState::Initial);
  target("i-b", 8080, TargetHealthState::Unhealthy);
  listener(8000);
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.back()->targetGroups.size(), 1u);
  const auto& checked = published.back()->targetGroups[0].targets;
  ASSERT_EQ(checked.size(), 2u);
  EXPECT_EQ(checked[0].state, balancer::TargetState::Initial);
  EXPECT_EQ(checked[1].state, balancer::TargetState::Unhealthy);
  // Without health checks no check will ever pass: ALB routes to such targets ("unavailable").
  tg_.healthCheckEnabled = false;
  put([&](store::Tx& tx) { return tx.putTargetGroup(tg_); });
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.back()->targetGroups[0].targets[0].state, balancer::TargetState::Routable);
}

TEST_F(ElbControllersTest, PublisherCarriesTheTargetGroupsProtocolVersion) {
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store_, [&](auto s) { published.push_back(s); });
  listener(8000);
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.back()->targetGroups[0].protocolVersion, balancer::ProtocolVersion::Http1);
  tg_.protocolVersion = "GRPC";
  put([&](store::Tx& tx) { return tx.putTargetGroup(tg_); });
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.back()->targetGroups[0].protocolVersion, balancer::ProtocolVersion::Grpc);
  tg_.protocolVersion = "HTTP2";
  put([&](store::Tx& tx) { return tx.putTargetGroup(tg_); });
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.back()->targetGroups[0].protocolVersion, balancer::ProtocolVersion::Http2);
}

TEST_F(ElbControllersTest, PublisherCarriesTheDesyncMitigationMode) {
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store_, [&](auto s) { published.push_back(s); });
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 1u);
  EXPECT_EQ(published[0]->loadBalancers[0].desyncMitigationMode,
            balancer::DesyncMitigationMode::Defensive);
  lb_.desyncMitigationMode = "strictest";
  put([&](store::Tx& tx) { return tx.putLoadBalancer(lb_); });
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 2u); // a change of mode alone is a new configuration
  EXPECT_EQ(published[1]->loadBalancers[0].desyncMitigationMode,
            balancer::DesyncMitigationMode::Strictest);
}

TEST_F(ElbControllersTest, PublisherStartsSlowStartRampsAndCarriesStickiness) {
  tg_.slowStartSeconds = 60;
  tg_.stickinessEnabled = true;
  tg_.stickinessType = "app_cookie";
  tg_.appCookieName = "SESSION";
  tg_.appCookieDurationSeconds = 600;
  tg_.maxConcurrencyPerTarget = 12;
  tg_.queueMaxLength = 50;
  tg_.queueTimeoutMs = 300;
  put([&](store::Tx& tx) { return tx.putTargetGroup(tg_); });
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store_, [&](auto s) { published.push_back(s); });
  int64_t now = 1'000'000;
  p.setMonotonicClock([&] { return now; });
  listener(8000);
  instance("i-a", model::InstanceState::Running, "127.1.0.1");
  instance("i-b", model::InstanceState::Running, "127.1.0.2");
  instance("i-c", model::InstanceState::Running, "127.1.0.3");
  target("i-a", 8080, TargetHealthState::Healthy);
  target("i-b", 8080, TargetHealthState::Initial);
  ASSERT_TRUE(p.publish().isOk());
  const balancer::TargetGroup& g1 = published.back()->targetGroups[0];
  EXPECT_EQ(g1.slowStart, std::chrono::seconds(60));
  EXPECT_EQ(g1.stickiness.type, balancer::Stickiness::Type::AppCookie);
  EXPECT_EQ(g1.stickiness.appCookieName, "SESSION");
  EXPECT_EQ(g1.stickiness.durationSeconds, 600u);
  EXPECT_EQ(g1.maxConcurrency, 12u); // tide.target.max_concurrency and tide.queue.*
  EXPECT_EQ(g1.queueMaxLength, 50u);
  EXPECT_EQ(g1.queueTimeout, std::chrono::milliseconds(300));
  // The first healthy target of a group takes its full share at once.
  EXPECT_EQ(g1.targets[0].slowStartBeginMs, 0);
  // b becomes healthy next to a settled target: it ramps from now.
  now += 5'000;
  target("i-b", 8080, TargetHealthState::Healthy);
  ASSERT_TRUE(p.publish().isOk());
  const auto& t2 = published.back()->targetGroups[0].targets;
  EXPECT_EQ(t2[0].slowStartBeginMs, 0);
  EXPECT_EQ(t2[1].slowStartBeginMs, 1'005'000);
  // Later passes keep the ramp's start.
  now += 10'000;
  target("i-c", 8080, TargetHealthState::Initial);
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.back()->targetGroups[0].targets[1].slowStartBeginMs, 1'005'000);
  // Unhealthy leaves the ramp; healthy again ramps anew.
  target("i-b", 8080, TargetHealthState::Unhealthy);
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.back()->targetGroups[0].targets[1].slowStartBeginMs, 0);
  now += 1'000;
  target("i-b", 8080, TargetHealthState::Healthy);
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.back()->targetGroups[0].targets[1].slowStartBeginMs, 1'016'000);
  // Without slow start a newly healthy target does not ramp.
  tg_.slowStartSeconds = 0;
  tg_.stickinessEnabled = false;
  put([&](store::Tx& tx) { return tx.putTargetGroup(tg_); });
  target("i-c", 8080, TargetHealthState::Healthy);
  ASSERT_TRUE(p.publish().isOk());
  const balancer::TargetGroup& g3 = published.back()->targetGroups[0];
  EXPECT_EQ(g3.slowStart.count(), 0);
  EXPECT_EQ(g3.stickiness.type, balancer::Stickiness::Type::None);
  EXPECT_EQ(g3.targets[2].slowStartBeginMs, 0);
}

TEST_F(ElbControllersTest, PublisherCarriesLimitsAndTheAccessLogPath) {
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store_, [&](auto s) { published.push_back(s); });
  p.setAccessLogDirectory("/data/access-logs");
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 1u);
  const balancer::LoadBalancer& d = published[0]->loadBalancers[0];
  EXPECT_EQ(d.maxUriBytes, 8192u);
  EXPECT_EQ(d.maxRequestBodyBytes, 0u);
  EXPECT_EQ(d.requestHeaderTimeout, std::chrono::milliseconds(60'000));
  EXPECT_EQ(d.maxConnectionsPerListener, 100'000u);
  EXPECT_EQ(d.maxConnectionsPerClient, 0u);
  EXPECT_EQ(d.accessLogPath, "");
  lb_.maxUriBytes = 1024;
  lb_.maxRequestBodyBytes = 4096;
  lb_.requestHeaderTimeoutSeconds = 3;
  lb_.maxConnectionsPerListener = 10;
  lb_.maxConnectionsPerClient = 5;
  lb_.accessLogsEnabled = true;
  lb_.accessLogsBucket = "logs";
  lb_.accessLogsPrefix = "web";
  put([&](store::Tx& tx) { return tx.putLoadBalancer(lb_); });
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 2u); // limits are configuration: a change is published
  const balancer::LoadBalancer& l = published[1]->loadBalancers[0];
  EXPECT_EQ(l.maxUriBytes, 1024u);
  EXPECT_EQ(l.maxRequestBodyBytes, 4096u);
  EXPECT_EQ(l.requestHeaderTimeout, std::chrono::milliseconds(3000));
  EXPECT_EQ(l.maxConnectionsPerListener, 10u);
  EXPECT_EQ(l.maxConnectionsPerClient, 5u);
  std::string id = lb_.loadBalancerArn.substr(lb_.loadBalancerArn.rfind('/') + 1);
  EXPECT_EQ(l.accessLogPath, "/data/access-logs/logs/web/AWSLogs/123456789012/"
                             "elasticloadbalancing/eu-west-1/123456789012_elasticloadbalancing_"
                             "eu-west-1_app." +
                                 lb_.loadBalancerName + "." + id + ".log");
}

TEST_F(ElbControllersTest, PublisherCarriesRulesByPriorityAndRepublishesWhenTheyChange) {
  std::vector<std::shared_ptr<const balancer::Snapshot>> published;
  Publisher p(*store_, [&](auto s) { published.push_back(s); });
  model::TargetGroup api = tg_;
  api.targetGroupArn = "arn:tg/api";
  api.targetGroupName = "api";
  model::Listener l;
  l.listenerArn = "arn:listener/8000";
  l.loadBalancerArn = lb_.loadBalancerArn;
  l.port = 8000;
  l.defaultActions = {{"forward", tg_.targetGroupArn}};
  model::Rule weighted;
  weighted.ruleArn = "arn:rule/2";
  weighted.priority = 20;
  weighted.conditions = {{"path-pattern", {"/split"}}};
  model::ListenerAction split;
  split.forwardTargetGroups = {{api.targetGroupArn, 3}, {tg_.targetGroupArn, 1}};
  weighted.actions = {split};
  model::Rule redirect;
  redirect.ruleArn = "arn:rule/1";
  redirect.priority = 10;
  redirect.conditions = {{"host-header", {"old.example.com"}}};
  model::ListenerAction r;
  r.type = "redirect";
  r.redirectHost = "new.example.com";
  r.redirectStatusCode = "HTTP_302";
  redirect.actions = {r};
  l.rules = {weighted, redirect}; // stored in any order
  put([&](store::Tx& tx) {
    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(api));
    return tx.putListener(l);
  });
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 1u);
  const balancer::Snapshot& s = *published[0];
  ASSERT_EQ(s.targetGroups.size(), 2u); // a group used only by a rule is in the data plane
  const auto& rules = s.loadBalancers[0].listeners[0].rules;
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].priority, 10);
  EXPECT_EQ(rules[0].action.kind, balancer::Action::Kind::Redirect);
  EXPECT_EQ(rules[0].action.redirect.host, "new.example.com");
  EXPECT_EQ(rules[0].action.redirect.statusCode, 302);
  EXPECT_EQ(rules[0].conditions[0].field, balancer::RuleCondition::Field::HostHeader);
  EXPECT_EQ(rules[1].priority, 20);
  ASSERT_EQ(rules[1].action.weightedGroups.size(), 2u);
  EXPECT_EQ(s.targetGroups[rules[1].action.weightedGroups[0].targetGroup].arn, "arn:tg/api");
  EXPECT_EQ(rules[1].action.weightedGroups[0].weight, 3u);
  // Nothing changed: nothing published; a changed priority or weight: published.
  ASSERT_TRUE(p.publish().isOk());
  EXPECT_EQ(published.size(), 1u);
  l.rules[0].actions[0].forwardTargetGroups[0].weight = 2;
  put([&](store::Tx& tx) { return tx.putListener(l); });
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[1]->loadBalancers[0].listeners[0].rules[1].action.weightedGroups[0].weight,
            2u);
  l.rules[0].priority = 5;
  put([&](store::Tx& tx) { return tx.putListener(l); });
  ASSERT_TRUE(p.publish().isOk());
  ASSERT_EQ(published.size(), 3u);
  EXPECT_EQ(published[2]->loadBalancers[0].listeners[0].rules[0].priority, 5);
  // The store keeps the rules in the listener's document.
  EXPECT_OK(store_->transact([&](store::Tx& tx) {
    EXPECT_EQ((*tx.listener(l.listenerArn))->rules, l.rules);
    return Status::ok();
  }));
}

// A one-thread HTTP server that answers every request with `status` and closes.
class TinyServer {
public:
  TinyServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    socklen_t len = sizeof sa;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] {
      while (true) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) {
          return;
        }
        char buf[1024];
        (void)::recv(c, buf, sizeof buf, 0);
        std::string reply = "HTTP/1.1 " + std::to_string(status.load()) +
                            " X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
        ::close(c);
        ++answered;
      }
    });
  }
  ~TinyServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::atomic<int> status{200};
  std::atomic<int> answered{0}; // requests answered so far

private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// A port on 127.0.0.1 that nothing listens on (bound, then closed).
uint16_t unusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(fd);
  return ntohs(sa.sin_port);
}

TEST_F(ElbControllersTest, HealthCheckerChecksRealTargetsOnTheLoop) {
  RealClock clock;
  EventLoop loop;
  HealthChecker checker(loop, *store_, clock);
  TinyServer server;
  tg_.healthCheckIntervalSeconds = 0.1;
  tg_.healthCheckTimeoutSeconds = 0.05;
  tg_.healthCheckPath = "/health";
  put([&](store::Tx& tx) { return tx.putTargetGroup(tg_); });
  listener(8000);
  instance("i-a", model::InstanceState::Running, "127.0.0.1");
  target("i-a", server.port(), TargetHealthState::Initial);
  // A second target on a port where nothing listens.
  uint16_t refused = unusedPort();
  target("i-a", refused, TargetHealthState::Initial);
  // Drive the checker on the loop until the wanted states show, bounded by a deadline.
  auto runUntil = [&](std::function<bool()> done) {
    TimeMs deadline = clock.now() + 10'000;
    std::function<void()> tick = [&] {
      auto next = checker.reconcile();
      if (done() || clock.now() > deadline) {
        loop.stop();
        return;
      }
      loop.runAfter(next.isOk() ? std::min(*next, Millis(20)) : Millis(20), tick);
    };
    loop.runAfter(Millis(0), tick);
    loop.run();
    return done();
  };
  auto stateOf = [&](int port) {
    for (const auto& t : targets()) {
      if (t.port == port) {
        return t;
      }
    }
    return model::Target{};
  };
  ASSERT_TRUE(runUntil([&] {
    return stateOf(server.port()).state == TargetHealthState::Healthy &&
           stateOf(refused).state == TargetHealthState::Unhealthy;
  }));
  EXPECT_EQ(stateOf(refused).reason, "Target.FailedHealthChecks");
  server.status = 500;
  ASSERT_TRUE(
      runUntil([&] { return stateOf(server.port()).state == TargetHealthState::Unhealthy; }));
  EXPECT_EQ(stateOf(server.port()).reason, "Target.ResponseCodeMismatch");
  EXPECT_EQ(stateOf(server.port()).description, "Health checks failed with these codes: [500]");
}

// Drives a health checker on a loop until `done` holds or ten seconds pass; returns done().
bool runChecks(EventLoop& loop, HealthChecker& checker, const Clock& clock,
               const std::function<bool()>& done) {
  TimeMs deadline = clock.now() + 10'000;
  std::function<void()> tick = [&] {
    auto next = checker.reconcile();
    if (done() || clock.now() > deadline) {
      loop.stop();
      return;
    }
    loop.runAfter(next.isOk() ? std::min(*next, Millis(20)) : Millis(20), tick);
  };
  loop.runAfter(Millis(0), tick);
  loop.run();
  return done();
}

// The control thread busy (in an I/O callback) past a check's timeout while the target
// answered in time: the check reads the answer before it calls it a timeout, so a busy server
// does not make healthy targets fail their checks.
TEST(HealthProbe, ATimerThatFiresLateReadsTheAnswerFirst) {
  // A server that reads the request and answers only when told.
  int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(lfd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  socklen_t len = sizeof sa;
  ::getsockname(lfd, reinterpret_cast<sockaddr*>(&sa), &len);
  ASSERT_EQ(::listen(lfd, 4), 0);
  std::atomic<bool> gotRequest{false}, answerNow{false}, answered{false};
  std::thread server([&] {
    int c = ::accept(lfd, nullptr, nullptr);
    if (c < 0) {
      return;
    }
    char buf[1024];
    (void)::recv(c, buf, sizeof buf, 0);
    gotRequest = true;
    for (int i = 0; i < 10'000 && !answerNow; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    answered = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::close(c);
  });
  int busy[2];
  ASSERT_EQ(::pipe2(busy, O_CLOEXEC | O_NONBLOCK), 0);
  EventLoop loop;
  std::optional<CheckResult> result;
  auto started = std::chrono::steady_clock::now();
  constexpr Millis kTimeout(30);
  // The busy callback: the target answers while it runs, and it runs past the timeout.
  ASSERT_OK(loop.add(busy[0], EPOLLIN, [&](uint32_t) {
    char b;
    (void)::read(busy[0], &b, 1);
    answerNow = true;
    for (int i = 0; i < 10'000 && !answered; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_until(started + 2 * kTimeout);
  }));
  std::function<void()> whenRequestIn = [&] {
    if (!gotRequest) {
      loop.runAfter(Millis(1), whenRequestIn);
      return;
    }
    (void)::write(busy[1], "x", 1);
  };
  startHealthProbe(loop, INADDR_LOOPBACK, ntohs(sa.sin_port), 0, "/health", "200", kTimeout,
                   [&](CheckResult r) {
                     result = r;
                     loop.stop();
                   });
  loop.runAfter(Millis(1), whenRequestIn);
  loop.run();
  server.join();
  loop.remove(busy[0]);
  ::close(busy[0]);
  ::close(busy[1]);
  ::close(lfd);
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->kind, CheckResult::Kind::Passed) << result->detail;
}

TEST_F(ElbControllersTest, HealthCheckerWritesStateChangesNotEveryCheck) {
  RealClock clock;
  EventLoop loop;
  HealthChecker checker(loop, *store_, clock);
  TinyServer server;
  tg_.healthCheckIntervalSeconds = 0.05;
  tg_.healthCheckTimeoutSeconds = 0.04;
  tg_.healthyThresholdCount = 3;
  put([&](store::Tx& tx) { return tx.putTargetGroup(tg_); });
  listener(8000);
  instance("i-a", model::InstanceState::Running, "127.0.0.1");
  target("i-a", server.port(), TargetHealthState::Initial);
  auto stateOf = [&] { return targets().at(0); };
  ASSERT_TRUE(runChecks(loop, checker, clock,
                        [&] { return stateOf().state == TargetHealthState::Healthy; }));
  // Passing checks on a healthy target change nothing durable: no store write at all.
  uint64_t writes = store_->writeCommits();
  int answered = server.answered;
  ASSERT_TRUE(runChecks(loop, checker, clock, [&] {
    return server.answered >= answered + 5 && checker.inFlight() == 0;
  }));
  EXPECT_EQ(store_->writeCommits(), writes);
  EXPECT_EQ(stateOf().state, TargetHealthState::Healthy);

  // Failing checks: the first moves only the in-memory counter; the second makes the target
  // unhealthy (one write), and more failures with the same reason write nothing more.
  server.status = 500;
  ASSERT_TRUE(runChecks(loop, checker, clock,
                        [&] { return stateOf().state == TargetHealthState::Unhealthy; }));
  EXPECT_EQ(store_->writeCommits(), writes + 1);
  EXPECT_EQ(stateOf().reason, "Target.ResponseCodeMismatch");
  answered = server.answered;
  ASSERT_TRUE(runChecks(loop, checker, clock, [&] {
    return server.answered >= answered + 5 && checker.inFlight() == 0;
  }));
  EXPECT_EQ(store_->writeCommits(), writes + 1);

  // A restarted server's checker starts counting afresh from the stored state: the target
  // needs the full healthy threshold of passes in a row again.
  HealthChecker restarted(loop, *store_, clock);
  server.status = 200;
  answered = server.answered;
  ASSERT_TRUE(runChecks(loop, restarted, clock,
                        [&] { return stateOf().state == TargetHealthState::Healthy; }));
  EXPECT_GE(server.answered - answered, tg_.healthyThresholdCount);
  EXPECT_EQ(store_->writeCommits(), writes + 2);
}

} // namespace
} // namespace tide::control
