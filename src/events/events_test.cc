#include "events/event.h"
#include "events/event_journal.h"
#include "events/event_stream.h"
#include "events/state_events.h"
#include "store/sqlite_store.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <thread>
#include <unistd.h>

namespace tide::events {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const EventOrigin kOrigin{"123456789012", "eu-west-1"};
constexpr TimeMs kNoon = 1'796'558'400'000; // 2026-12-06T12:00:00Z

Json parsed(const EventJson& e) {
  return Json::parse(e.dump());
}

// ---- shapes ----

TEST(EventShapeTest, InstanceStateChangeHasTheEnvelopeAndDetail) {
  Json e = parsed(
      instanceStateChange(kOrigin, "i-0123456789abcdef0", model::InstanceState::Running, kNoon));
  EXPECT_EQ(e["version"], "0");
  EXPECT_EQ(e["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(e["detail-type"], "EC2 Instance State-change Notification");
  EXPECT_EQ(e["source"], "aws.ec2");
  EXPECT_EQ(e["account"], "123456789012");
  EXPECT_EQ(e["time"], "2026-12-06T12:00:00Z");
  EXPECT_EQ(e["region"], "eu-west-1");
  EXPECT_EQ(e["resources"],
            Json::array({"arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"}));
  EXPECT_EQ(e["detail"], (Json{{"instance-id", "i-0123456789abcdef0"}, {"state", "running"}}));
  // Keys in AWS's order.
  EXPECT_EQ(instanceStateChange(kOrigin, "i-1", model::InstanceState::Pending, kNoon)
                .dump()
                .rfind("{\"version\":\"0\",\"id\":", 0),
            0u);
}

TEST(EventShapeTest, FinishedActivitiesBecomeLaunchAndTerminateEvents) {
  model::ScalingActivity a;
  a.activityId = "5ff0a4f7-0d5b-4b8e-8f0c-2f3b0a3a9d11";
  a.autoScalingGroupName = "web";
  a.kind = model::ActivityKind::Launch;
  a.instanceId = "i-0123456789abcdef0";
  a.description = "Launching a new EC2 instance: i-0123456789abcdef0";
  a.cause = "At 2026-12-06T11:59:58Z a user request update of AutoScalingGroup constraints...";
  a.details = R"({"Availability Zone":"eu-west-1a"})";
  a.startTime = kNoon - 2000;
  a.endTime = kNoon;
  a.statusCode = model::ActivityStatusCode::Successful;
  Json e = parsed(activityEvent(kOrigin, "arn:aws:autoscaling:...:autoScalingGroupName/web", a));
  EXPECT_EQ(e["detail-type"], "EC2 Instance Launch Successful");
  EXPECT_EQ(e["source"], "aws.autoscaling");
  EXPECT_EQ(e["resources"].size(), 2u);
  const Json& d = e["detail"];
  EXPECT_EQ(d["ActivityId"], a.activityId);
  EXPECT_EQ(d["AutoScalingGroupName"], "web");
  EXPECT_EQ(d["EC2InstanceId"], "i-0123456789abcdef0");
  EXPECT_EQ(d["StatusCode"], "Successful");
  EXPECT_EQ(d["Cause"], a.cause);
  EXPECT_EQ(d["Description"], a.description);
  EXPECT_EQ(d["Details"], (Json{{"Availability Zone", "eu-west-1a"}}));
  EXPECT_EQ(d["StartTime"], "2026-12-06T11:59:58.000Z");
  EXPECT_EQ(d["EndTime"], "2026-12-06T12:00:00.000Z");
  EXPECT_EQ(d["Origin"], "EC2");
  EXPECT_EQ(d["Destination"], "AutoScalingGroup");
  EXPECT_TRUE(d.contains("RequestId") && d.contains("StatusMessage"));

  a.kind = model::ActivityKind::Terminate;
  a.statusCode = model::ActivityStatusCode::Failed;
  a.details = "not json";
  e = parsed(activityEvent(kOrigin, "arn:group", a));
  EXPECT_EQ(e["detail-type"], "EC2 Instance Terminate Unsuccessful");
  EXPECT_EQ(e["detail"]["Origin"], "AutoScalingGroup");
  EXPECT_EQ(e["detail"]["Details"], Json::object());
}

TEST(EventShapeTest, LifecycleActionEvents) {
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "web";
  g.autoScalingGroupArn = "arn:group";
  model::LifecycleHook hook;
  hook.lifecycleHookName = "drain";
  hook.lifecycleTransition = model::LifecycleTransition::Terminating;
  hook.notificationMetadata = "meta";
  g.lifecycleHooks.push_back(hook);
  model::LifecycleAction a;
  a.lifecycleActionToken = "87654321-4321-4321-4321-210987654321";
  a.lifecycleHookName = "drain";
  a.instanceId = "i-1";
  a.lifecycleTransition = model::LifecycleTransition::Terminating;
  Json e = parsed(lifecycleActionEvent(kOrigin, g, a, kNoon));
  EXPECT_EQ(e["detail-type"], "EC2 Instance-terminate Lifecycle Action");
  EXPECT_EQ(e["resources"], Json::array({"arn:group"}));
  const Json& d = e["detail"];
  EXPECT_EQ(d["LifecycleActionToken"], a.lifecycleActionToken);
  EXPECT_EQ(d["LifecycleHookName"], "drain");
  EXPECT_EQ(d["EC2InstanceId"], "i-1");
  EXPECT_EQ(d["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");
  EXPECT_EQ(d["NotificationMetadata"], "meta");
  a.lifecycleTransition = model::LifecycleTransition::Launching;
  EXPECT_EQ(parsed(lifecycleActionEvent(kOrigin, g, a, kNoon))["detail-type"],
            "EC2 Instance-launch Lifecycle Action");
}

TEST(EventShapeTest, AlarmStateChange) {
  model::MetricAlarm alarm;
  alarm.alarmName = "cpu-high";
  alarm.alarmArn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high";
  alarm.alarmDescription = "scale out";
  alarm.namespace_ = "AWS/EC2";
  alarm.metricName = "CPUUtilization";
  alarm.dimensions = {{"AutoScalingGroupName", "web"}};
  alarm.statistic = "Average";
  alarm.period = 60;
  alarm.stateValue = model::AlarmStateValue::Alarm;
  alarm.stateReason = "Threshold Crossed";
  alarm.stateUpdatedTimestamp = kNoon;
  AlarmState previous{model::AlarmStateValue::Ok, "fine", "", kNoon - 60'000};
  Json e = parsed(alarmStateChange(kOrigin, alarm, previous, kNoon));
  EXPECT_EQ(e["detail-type"], "CloudWatch Alarm State Change");
  EXPECT_EQ(e["source"], "aws.cloudwatch");
  EXPECT_EQ(e["resources"], Json::array({alarm.alarmArn}));
  const Json& d = e["detail"];
  EXPECT_EQ(d["alarmName"], "cpu-high");
  EXPECT_EQ(d["state"]["value"], "ALARM");
  EXPECT_EQ(d["state"]["reason"], "Threshold Crossed");
  EXPECT_EQ(d["state"]["timestamp"], "2026-12-06T12:00:00.000+0000");
  EXPECT_EQ(d["previousState"]["value"], "OK");
  EXPECT_EQ(d["configuration"]["description"], "scale out");
  const Json& m = d["configuration"]["metrics"][0]["metricStat"];
  EXPECT_EQ(m["metric"]["name"], "CPUUtilization");
  EXPECT_EQ(m["metric"]["namespace"], "AWS/EC2");
  EXPECT_EQ(m["metric"]["dimensions"], (Json{{"AutoScalingGroupName", "web"}}));
  EXPECT_EQ(m["period"], 60);
  EXPECT_EQ(m["stat"], "Average");
}

TEST(EventShapeTest, TargetHealthChangeIsTidesOwn) {
  model::Target t;
  t.targetGroupArn = "arn:tg";
  t.id = "i-1";
  t.state = model::TargetHealthState::Unhealthy;
  t.reason = "Target.FailedHealthChecks";
  t.description = "Health checks failed";
  Json e = parsed(targetHealthChange(
      kOrigin, t, 8080, TargetHealth{model::TargetHealthState::Healthy, "", ""}, kNoon));
  EXPECT_EQ(e["source"], "tide.elasticloadbalancing");
  EXPECT_EQ(e["detail-type"], "ELB Target Health State Change");
  const Json& d = e["detail"];
  EXPECT_EQ(d["targetGroupArn"], "arn:tg");
  EXPECT_EQ(d["target"], (Json{{"id", "i-1"}, {"port", 8080}}));
  EXPECT_EQ(d["state"], "unhealthy");
  EXPECT_EQ(d["reason"], "Target.FailedHealthChecks");
  EXPECT_EQ(d["previousState"], "healthy");
  EXPECT_TRUE(
      parsed(targetHealthChange(kOrigin, t, 80, std::nullopt, kNoon))["detail"]["previousState"]
          .is_null());
}

// ---- journal ----

EventJson pendingEvent(int n) {
  return instanceStateChange(kOrigin, "i-" + std::to_string(n), model::InstanceState::Pending,
                             kNoon);
}

class JournalTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tide-events-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static EventJson event(int n) { return pendingEvent(n); }

  fs::path dir_;
};

TEST_F(JournalTest, RingKeepsTheNewestAndReplaysAfterASeq) {
  EventJournal j(EventJournalOptions{3, "", 1024, 1});
  ASSERT_TRUE(j.open().isOk());
  for (int i = 1; i <= 5; ++i) {
    EXPECT_EQ(j.append(event(i)).seq, uint64_t(i));
  }
  EXPECT_EQ(j.lastSeq(), 5u);
  auto all = j.after(0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].seq, 3u);
  EXPECT_EQ(all[2].seq, 5u);
  EXPECT_EQ(j.after(4).size(), 1u);
  EXPECT_TRUE(j.after(5).empty());
  EXPECT_EQ(j.newest(2).front().seq, 4u);
  EXPECT_EQ(j.newest(100).size(), 3u);
  EXPECT_EQ(all[0].detailType, "EC2 Instance State-change Notification");
}

TEST_F(JournalTest, SubscribersSeeEachEventAndMayLeaveFromTheirCallback) {
  EventJournal j(EventJournalOptions{});
  std::vector<uint64_t> seen;
  uint64_t id = 0;
  id = j.subscribe([&](const Event& e) {
    seen.push_back(e.seq);
    if (e.seq == 2) {
      j.unsubscribe(id);
    }
  });
  for (int i = 1; i <= 3; ++i) {
    j.append(event(i));
  }
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2}));
}

TEST_F(JournalTest, LogRotatesKeepsFewFilesIsPrivateAndIsReadBack) {
  EventJournalOptions o;
  o.directory = (dir_ / "events").string();
  o.maxFileBytes = 2000;
  o.keepFiles = 2;
  {
    EventJournal j(o);
    ASSERT_TRUE(j.open().isOk());
    for (int i = 1; i <= 40; ++i) {
      j.append(event(i));
    }
  }
  std::string base = o.directory + "/events.jsonl";
  EXPECT_TRUE(fs::exists(base));
  EXPECT_TRUE(fs::exists(base + ".1"));
  EXPECT_TRUE(fs::exists(base + ".2"));
  EXPECT_FALSE(fs::exists(base + ".3"));
  for (const std::string& f : {base, base + ".1", base + ".2"}) {
    EXPECT_LE(fs::file_size(f), o.maxFileBytes) << f;
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  // Every line is {"seq": N, "event": {...}}, in order.
  std::ifstream in(base);
  std::string line;
  uint64_t last = 0;
  size_t lines = 0;
  while (std::getline(in, line)) {
    Json r = Json::parse(line);
    EXPECT_GT(r["seq"].get<uint64_t>(), last);
    last = r["seq"];
    EXPECT_EQ(r["event"]["detail-type"], "EC2 Instance State-change Notification");
    ++lines;
  }
  EXPECT_EQ(last, 40u);
  EXPECT_GT(lines, 0u);

  // A restart continues the numbers and refills the ring from the current file.
  EventJournal again(o);
  ASSERT_TRUE(again.open().isOk());
  EXPECT_EQ(again.lastSeq(), 40u);
  EXPECT_EQ(again.after(0).size(), lines);
  EXPECT_EQ(again.after(0).front().json.rfind("{\"version\":\"0\",\"id\":", 0), 0u);
  EXPECT_EQ(again.append(event(41)).seq, 41u);
}

TEST(EventStreamFrameTest, SseFrame) {
  Event e{7, "EC2 Instance State-change Notification", R"({"a":"x\ny"})"};
  EXPECT_EQ(EventStream::sseFrame(e), "id: 7\nevent: EC2 Instance State-change Notification\n"
                                      "data: {\"a\":\"x\\ny\"}\n\n");
}

// ---- the stream, over a real HTTP server ----

// An HttpServer on its own loop thread answering with an EventStream over a journal (auth
// none), with a short keep-alive.
class StreamTest : public ::testing::Test {
protected:
  template <typename Fn> auto onLoop(Fn fn) {
    std::promise<decltype(fn())> done;
    loop_.post([&] { done.set_value(fn()); });
    return done.get_future().get();
  }
  void SetUp() override {
    stream_ = std::make_unique<EventStream>(loop_, journal_, nullptr, Millis(50));
    http_ = std::make_unique<api::HttpServer>(
        loop_, api::HttpServerOptions{},
        [this](const api::HttpRequest& r) { return stream_->handle(r); });
    auto port = http_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port.isOk());
    port_ = *port;
    thread_ = std::thread([this] { loop_.run(); });
  }
  void TearDown() override {
    onLoop([this] {
      http_->close();
      loop_.stop();
      return true;
    });
    thread_.join();
  }
  void append(int n) {
    onLoop([&] { return journal_.append(pendingEvent(n)).seq; });
  }
  // A raw connection that sent `request`; reads with a 5 s timeout.
  int open(const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL), ssize_t(request.size()));
    return fd;
  }
  // Reads until `needle` has arrived; returns all read so far.
  static std::string readUntil(int fd, std::string& buf, const std::string& needle) {
    char tmp[4096];
    while (buf.find(needle) == std::string::npos) {
      ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) {
        break;
      }
      buf.append(tmp, size_t(n));
    }
    return buf;
  }

  EventLoop loop_;
  EventJournal journal_{EventJournalOptions{}};
  std::unique_ptr<EventStream> stream_;
  std::unique_ptr<api::HttpServer> http_;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(StreamTest, ReplaysAfterLastEventIdThenSendsNewEventsAndKeepAlives) {
  append(1);
  append(2);
  append(3);
  int fd = open("GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1\r\n\r\n");
  std::string buf;
  readUntil(fd, buf, "id: 3\n");
  EXPECT_NE(buf.find("Content-Type: text/event-stream\r\n"), std::string::npos) << buf;
  EXPECT_EQ(buf.find("id: 1\n"), std::string::npos) << buf;
  EXPECT_NE(buf.find("id: 2\nevent: EC2 Instance State-change Notification\ndata: {"),
            std::string::npos)
      << buf;
  EXPECT_EQ(onLoop([&] { return stream_->clients(); }), 1u);
  append(4);
  readUntil(fd, buf, "id: 4\n");
  EXPECT_NE(buf.find("id: 4\n"), std::string::npos);
  readUntil(fd, buf, ": keep-alive\n\n");
  EXPECT_NE(buf.find(": keep-alive\n\n"), std::string::npos);
  ::close(fd);
  for (int i = 0; i < 500 && onLoop([&] { return stream_->clients(); }) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(onLoop([&] { return stream_->clients(); }), 0u);
}

TEST_F(StreamTest, ReplayNAndOnlyNewByDefault) {
  append(1);
  append(2);
  int fd = open("GET /events?replay=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string buf;
  readUntil(fd, buf, "id: 2\n");
  EXPECT_EQ(buf.find("id: 1\n"), std::string::npos) << buf;
  ::close(fd);
  int fresh = open("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string got;
  readUntil(fresh, got, "retry: 1000\n\n");
  append(3);
  readUntil(fresh, got, "id: 3\n");
  EXPECT_EQ(got.find("id: 2\n"), std::string::npos) << got;
  EXPECT_NE(got.find("id: 3\n"), std::string::npos) << got;
  ::close(fresh);
}

TEST_F(StreamTest, JsonForPollingAndPreciseErrors) {
  append(1);
  append(2);
  api::HttpRequest req;
  req.method = "GET";
  req.target = "/events?format=json&since=1";
  auto r = api::httpRequest("127.0.0.1", port_, req, Millis(5000));
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->status, 200);
  Json records = Json::parse(r->body);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0]["seq"], 2);
  EXPECT_EQ(records[0]["event"]["detail"]["instance-id"], "i-2");
  for (const char* bad : {"/events?since=x", "/events?replay=-1", "/events?format=xml"}) {
    req.target = bad;
    r = api::httpRequest("127.0.0.1", port_, req, Millis(5000));
    ASSERT_TRUE(r.isOk());
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(Json::parse(r->body)["__type"], "ValidationError") << bad;
  }
  req.method = "POST";
  req.target = "/events";
  r = api::httpRequest("127.0.0.1", port_, req, Millis(5000));
  ASSERT_TRUE(r.isOk());
  EXPECT_EQ(r->status, 405);
}

TEST(EventStreamAuthTest, ViewerTokenIsRequiredWithSigV4) {
  EventLoop loop;
  EventJournal journal{EventJournalOptions{}};
  api::AuthConfig auth;
  auth.credentials = api::Credentials{"AKIAEXAMPLE000000000", "secret"};
  EventStream stream(loop, journal, &auth);
  api::HttpRequest req;
  req.method = "GET";
  req.target = "/events?format=json";
  api::HttpResponse r = stream.handle(req);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Json::parse(r.body)["__type"], "AccessDeniedException");
  req.headers.emplace_back("authorization", "Bearer " + api::viewerToken(auth.credentials));
  EXPECT_EQ(stream.handle(req).status, 200);
  EXPECT_TRUE(EventStream::handles("/events"));
  EXPECT_TRUE(EventStream::handles("/events?since=3"));
  EXPECT_FALSE(EventStream::handles("/eventsx"));
  EXPECT_FALSE(EventStream::handles("/"));
}

// ---- events from the store's changes ----

class StateEventsTest : public JournalTest {
protected:
  void SetUp() override {
    JournalTest::SetUp();
    fs::create_directories(dir_);
    auto s = store::openSqliteStore((dir_ / "state.db").string());
    ASSERT_TRUE(s.isOk()) << s.status().toString();
    store_ = std::move(*s);
  }

  void start() {
    events_ = std::make_unique<StateEvents>(*store_, clock_, kOrigin, [this](const EventJson& e) {
      seen_.push_back(Json::parse(e.dump()));
    });
    ASSERT_TRUE(events_->prime().isOk());
    store_->onChange(
        [this](const store::ChangeSet& c) { ASSERT_TRUE(events_->observe(c).isOk()); });
  }

  void write(const std::function<Status(store::Tx&)>& fn) {
    Status s = store_->transact(fn);
    ASSERT_TRUE(s.isOk()) << s.toString();
  }

  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const Json& e : seen_) {
      out.push_back(e["detail-type"]);
    }
    return out;
  }

  VirtualClock clock_{kNoon};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<StateEvents> events_;
  std::vector<Json> seen_;
};

TEST_F(StateEventsTest, InstanceStatesAnnouncedOncePerTransition) {
  model::Instance before;
  before.instanceId = "i-0000000000000000a";
  before.state = model::InstanceState::Running;
  write([&](store::Tx& tx) { return tx.putInstance(before); });
  start(); // what was so before start is not announced

  model::Instance i;
  i.instanceId = "i-0123456789abcdef0";
  write([&](store::Tx& tx) { return tx.putInstance(i); });
  write([&](store::Tx& tx) { return tx.putInstance(i); }); // no change of state
  i.state = model::InstanceState::Running;
  write([&](store::Tx& tx) { return tx.putInstance(i); });
  ASSERT_EQ(seen_.size(), 2u);
  EXPECT_EQ(seen_[0]["detail"]["state"], "pending");
  EXPECT_EQ(seen_[1]["detail"]["state"], "running");
  EXPECT_EQ(seen_[1]["detail"]["instance-id"], i.instanceId);
}

TEST_F(StateEventsTest, GroupActivitiesTargetsAndAlarms) {
  model::AutoScalingGroup g;
  g.autoScalingGroupName = "web";
  g.autoScalingGroupArn = "arn:group";
  g.desiredCapacity = 1;
  g.maxSize = 3;
  model::TargetGroup tg;
  tg.targetGroupArn = "arn:tg";
  tg.targetGroupName = "tg";
  tg.port = 8080;
  model::MetricAlarm alarm;
  alarm.alarmName = "cpu-high";
  alarm.alarmArn = "arn:alarm";
  write([&](store::Tx& tx) -> Status {
    TIDE_RETURN_IF_ERROR(tx.putAutoScalingGroup(g));
    TIDE_RETURN_IF_ERROR(tx.putTargetGroup(tg));
    return tx.putAlarm(alarm);
  });
  start();

  g.desiredCapacity = 2;
  write([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); });
  model::ScalingActivity a;
  a.activityId = "a1";
  a.autoScalingGroupName = "web";
  a.kind = model::ActivityKind::Launch;
  a.instanceId = "i-1";
  a.startTime = kNoon;
  write([&](store::Tx& tx) { return tx.putScalingActivity(a); }); // in progress: nothing yet
  a.statusCode = model::ActivityStatusCode::Successful;
  a.endTime = kNoon + 1000;
  write([&](store::Tx& tx) { return tx.putScalingActivity(a); });
  write([&](store::Tx& tx) { return tx.putScalingActivity(a); }); // announced once

  model::Target t;
  t.targetGroupArn = "arn:tg";
  t.id = "i-1";
  write([&](store::Tx& tx) { return tx.putTarget(t); });
  t.state = model::TargetHealthState::Healthy;
  write([&](store::Tx& tx) { return tx.putTarget(t); });

  alarm.stateValue = model::AlarmStateValue::Alarm;
  alarm.stateReason = "Threshold Crossed";
  write([&](store::Tx& tx) { return tx.putAlarm(alarm); });

  model::LifecycleAction la;
  la.lifecycleActionToken = "tok";
  la.lifecycleHookName = "hold";
  la.instanceId = "i-2";
  g.lifecycleActions.push_back(la);
  write([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); });
  write([&](store::Tx& tx) { return tx.putAutoScalingGroup(g); }); // the same action: once

  EXPECT_EQ(types(), (std::vector<std::string>{
                         "Auto Scaling Desired Capacity Change", "EC2 Instance Launch Successful",
                         "ELB Target Health State Change", "ELB Target Health State Change",
                         "CloudWatch Alarm State Change", "EC2 Instance-launch Lifecycle Action"}));
  EXPECT_EQ(seen_[0]["detail"]["PreviousDesiredCapacity"], 1);
  EXPECT_EQ(seen_[0]["detail"]["DesiredCapacity"], 2);
  EXPECT_EQ(seen_[1]["resources"][0], "arn:group");
  EXPECT_TRUE(seen_[2]["detail"]["previousState"].is_null());
  EXPECT_EQ(seen_[2]["detail"]["target"]["port"], 8080); // the group's port for port 0
  EXPECT_EQ(seen_[3]["detail"]["state"], "healthy");
  EXPECT_EQ(seen_[3]["detail"]["previousState"], "initial");
  EXPECT_EQ(seen_[4]["detail"]["previousState"]["value"], "INSUFFICIENT_DATA");
  EXPECT_EQ(seen_[5]["detail"]["LifecycleActionToken"], "tok");
}

} // namespace
} // namespace tide::events
