// HTTP/2 to targets (docs/load-balancer.md "gRPC and HTTP/2 target groups"): a real Balancer on
// 127.0.0.1 with an HTTPS listener, the HTTP/2 client of test_h2_client.h (ALPN h2), and an h2c
// target made directly on nghttp2's server API (test_h2_backend.h) behind a target group whose
// ProtocolVersion is HTTP2 or GRPC. What the target receives is checked there, what comes back
// at the client here: fields, bodies both ways under flow control, trailers and trailers-only
// answers, one request at a time per pooled target connection (also when the target ends its
// stream in a frame of its own after the body), the resends (REFUSED_STREAM, a GOAWAY before the
// answer), a target's PING while pooled, a target's reset or close mid-response, ALB's 464 for
// requests a group cannot take, and the access log's type. Every wait is bounded (socket
// timeouts, deadlines).
#include "balancer/balancer.h"
#include "balancer/test_backend.h"
#include "balancer/test_balancer.h"
#include "balancer/test_h2_backend.h"
#include "balancer/test_h2_client.h"
#include "balancer/test_net.h"
#include "balancer/test_snapshot.h"
#include "balancer/test_tls.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::body;
using test_net::H2Backend;
using test_net::H2Client;
using test_net::kLoopback;
using test_net::parts;
using test_net::ReservedPort;

constexpr const char* kHost = "shop.example.test";

std::string get(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: " + kHost + "\r\n\r\n";
}

// A POST with a Content-Length body; `fields` are whole lines ("Name: value\r\n").
std::string post(const std::string& path, const std::string& body, const std::string& fields = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: " + kHost + "\r\n" + fields +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// One gRPC length-prefixed message (uncompressed).
std::string grpcMessage(const std::string& message) {
  std::string m(5, '\0');
  for (int i = 0; i < 4; ++i) {
    m[size_t(1 + i)] = char((message.size() >> (8 * (3 - i))) & 0xff);
  }
  return m + message;
}

// A unary gRPC call as a gRPC client sends it.
std::string grpcCall(const std::string& path, const std::string& message,
                     const std::string& contentType = "application/grpc") {
  return post(path, grpcMessage(message), "Content-Type: " + contentType + "\r\nTE: trailers\r\n");
}

// `n` bytes of a pattern that does not repeat within a window.
std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) {
    s[i] = char('A' + (i * 7 + i / 4096) % 53);
  }
  return s;
}

// The status code of HTTP/1.1 response bytes; 0 without a status line.
int status(const std::string& response) {
  return response.starts_with("HTTP/1.1 ") && response.size() >= 12
             ? std::atoi(response.substr(9, 3).c_str())
             : 0;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// One request over a plain HTTP/1.1 connection; the response head, or "" on EOF or a timeout.
std::string plainRequest(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  test_net::setTimeouts(fd);
  std::string head;
  if (test_net::connectLoopback(fd, port) &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size())) {
    std::string buf;
    head = test_net::readHead(fd, buf).value_or("");
  }
  close(fd);
  return head;
}

class H2UpstreamTest : public test_net::RunningBalancerTest {
protected:
  // One HTTPS listener forwarding to one group of `version` whose one target is `target` (the h2c
  // backend unless said).
  std::shared_ptr<Snapshot> snapshot(ProtocolVersion version) {
    return snapshot(version, backend_.endpoint());
  }
  std::shared_ptr<Snapshot> snapshot(ProtocolVersion version, Endpoint target) {
    auto s = test_net::makeSnapshot(port_.port, {target});
    Listener& l = s->loadBalancers[0].listeners[0];
    l.https = true;
    l.tls = test_net::tlsConfig({test_net::certificate("arn:shop", kHost)});
    s->targetGroups[0].maxConcurrency = 0; // every request to the target at once (no queue)
    s->targetGroups[0].protocolVersion = version;
    return s;
  }
  // Adds a plain HTTP listener on plainPort_ with the same default action.
  void addPlainListener(Snapshot& s) {
    Listener l;
    l.endpoint = Endpoint{kLoopback, plainPort_.port};
    s.loadBalancers[0].listeners.push_back(l);
  }
  // Adds a group of `version` with one target (the next slots) and a rule of the HTTPS listener
  // that forwards the paths matching `pathPattern` to it.
  void addGroup(Snapshot& s, ProtocolVersion version, Endpoint target,
                const std::string& pathPattern) {
    TargetGroup g;
    g.name = "tg" + std::to_string(s.targetGroups.size());
    g.slot = uint32_t(s.targetGroups.size());
    g.maxConcurrency = 0;
    g.protocolVersion = version;
    Target t;
    t.id = "t-" + g.name;
    t.endpoint = target;
    t.slot = g.slot; // (one target per group: the group's slot is free among the targets)
    g.targets.push_back(t);
    Rule r;
    r.priority = int(s.targetGroups.size());
    RuleCondition c;
    c.field = RuleCondition::Field::PathPattern;
    c.values = {pathPattern};
    r.conditions.push_back(c);
    r.action.kind = Action::Kind::Forward;
    r.action.targetGroup = g.slot;
    s.loadBalancers[0].listeners[0].rules.push_back(r);
    s.targetGroups.push_back(g);
  }
  void start(ProtocolVersion version) { startBalancer(snapshot(version)); }
  void restart(std::shared_ptr<Snapshot> s) {
    balancer_->stop();
    balancer_.reset();
    startBalancer(std::move(s));
  }
  // Sends one request and reads until its stream ended or was closed: the response's bytes, ""
  // when neither came within 10 s. *id: its stream.
  static std::string roundTrip(H2Client& c, const std::string& request, int32_t* id = nullptr) {
    int32_t stream = c.request(request);
    if (id != nullptr) {
      *id = stream;
    }
    if (!c.until([&] { return c.responses[stream].ended || c.responses[stream].closed; })) {
      ADD_FAILURE() << "no answer to " << request.substr(0, request.find('\r'));
      return "";
    }
    return c.responses[stream].bytes;
  }
  bool elb4xxIs(uint64_t n) {
    return test_net::waitFor([&] { return lb().httpCodeElb4xx == n; });
  }

  H2Backend backend_;
  test_net::EchoBackend plain_; // an HTTP/1.1 target
  ReservedPort plainPort_;
};

TEST_F(H2UpstreamTest, ARequestGoesToTheTargetOverHttp2WithItsFieldsAndBodyAndComesBack) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string r = roundTrip(c, post("/echo?x=1", "hello, h2 target", "X-Custom: one\r\n"));
  ASSERT_EQ(status(r), 200) << r;
  EXPECT_TRUE(contains(r, "x-echo-method: POST\r\n")) << r;
  EXPECT_TRUE(contains(r, "x-echo-path: /echo?x=1\r\n")) << r;
  EXPECT_EQ(body(r), "hello, h2 target");
  auto seen = backend_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/echo?x=1");
  EXPECT_EQ(seen[0].authority, kHost);
  EXPECT_EQ(seen[0].scheme, "http");
  EXPECT_EQ(seen[0].field("x-custom"), "one");
  EXPECT_EQ(seen[0].field("x-forwarded-proto"), "https");
  EXPECT_EQ(seen[0].body, "hello, h2 target");
  EXPECT_FALSE(seen[0].has("te")); // (added for GRPC groups only)
  EXPECT_EQ(lb().httpCodeElb4xx + lb().httpCodeElb5xx, 0u);
}

TEST_F(H2UpstreamTest, TrailersAreCarriedEndToEndBothWays) {
  start(ProtocolVersion::Grpc);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string message = grpcMessage("ping");
  char size[16];
  std::snprintf(size, sizeof size, "%zx", message.size());
  std::string call = std::string("POST /test.Echo/Unary HTTP/1.1\r\nHost: ") + kHost +
                     "\r\nContent-Type: application/grpc\r\nTE: trailers\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n" +
                     size + "\r\n" + message + "\r\n0\r\nx-request-checksum: 42\r\n\r\n";
  int32_t id;
  std::string r = roundTrip(c, call, &id);
  ASSERT_EQ(status(r), 200) << r;
  EXPECT_TRUE(contains(r, "content-type: application/grpc\r\n")) << r;
  auto got = parts(r);
  EXPECT_EQ(got.body, message);
  EXPECT_TRUE(contains(got.trailers, "grpc-status: 0\r\n")) << r;
  EXPECT_TRUE(contains(got.trailers, "grpc-message: all good\r\n")) << r;
  // To the client: HEADERS, DATA, then the trailers' HEADERS with END_STREAM.
  const std::string& frames = c.frameLog[id];
  EXPECT_TRUE(frames.starts_with("HD")) << frames;
  EXPECT_TRUE(frames.ends_with("DH.")) << frames;
  // At the target: the request's trailers, and TE: trailers as gRPC requires.
  auto seen = backend_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].body, message);
  EXPECT_EQ(seen[0].field("te"), "trailers");
  EXPECT_EQ(seen[0].field("content-type"), "application/grpc");
  ASSERT_EQ(seen[0].trailers.size(), 1u);
  EXPECT_EQ(seen[0].trailers[0].first, "x-request-checksum");
  EXPECT_EQ(seen[0].trailers[0].second, "42");
}

TEST_F(H2UpstreamTest, ATrailersOnlyAnswerReachesTheClientAsOneHeadersThatEndsTheStream) {
  start(ProtocolVersion::Grpc);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t id;
  std::string r = roundTrip(c, grpcCall("/test.Echo/Missing", "who"), &id);
  ASSERT_EQ(status(r), 200) << r;
  EXPECT_TRUE(contains(r, "grpc-status: 5\r\n")) << r;
  EXPECT_TRUE(contains(r, "grpc-message: no such thing\r\n")) << r;
  EXPECT_TRUE(c.responses[id].ended);
  EXPECT_EQ(body(r), "");
  EXPECT_EQ(c.frameLog[id], "H.");
  auto seen = backend_.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].field("te"), "trailers");
}

TEST_F(H2UpstreamTest, SixteenConcurrentStreamsGoOverSeveralTargetConnectionsAndAreAllAnswered) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::vector<int32_t> ids;
  for (int i = 0; i < 16; ++i) {
    ids.push_back(c.request(post("/held", "stream " + std::to_string(i))));
  }
  // All sixteen are at the target at once (it holds their answers), then answered.
  ASSERT_TRUE(test_net::waitFor([&] { return backend_.requestCount() == 16; }))
      << backend_.requestCount();
  backend_.release();
  ASSERT_TRUE(c.until([&] { return c.endOrder.size() == 16; })) << c.endOrder.size();
  for (int i = 0; i < 16; ++i) {
    const std::string& r = c.responses[ids[size_t(i)]].bytes;
    ASSERT_EQ(status(r), 200) << r;
    EXPECT_EQ(body(r), "stream " + std::to_string(i));
  }
  EXPECT_GE(backend_.connections(), 2);
  EXPECT_EQ(backend_.maxStreamsAtOnce(), 1); // one request at a time per target connection
}

// One after the other: H2Client writes what the window allows before it reads again, so with a
// download at the same time its own writes could block.
TEST_F(H2UpstreamTest, AMebibyteEachWayFlowsUnderFlowControl) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string up = pattern(1 << 20); // past every window: WINDOW_UPDATEs needed on both legs
  std::string echo = roundTrip(c, post("/echo", up));
  ASSERT_EQ(status(echo), 200) << echo.substr(0, 200) << "; the target took "
                               << backend_.bodyBytes() << " bytes of the body";
  std::string back = body(echo);
  EXPECT_EQ(back.size(), up.size());
  EXPECT_TRUE(back == up);
  std::string large = roundTrip(c, get("/large")); // without content-length: chunked here
  ASSERT_EQ(status(large), 200) << large.substr(0, 200);
  std::string down = body(large);
  ASSERT_EQ(down.size(), H2Backend::kLargeBytes);
  bool same = true;
  for (size_t i = 0; i < down.size() && same; ++i) {
    same = down[i] == char('a' + i % 26);
  }
  EXPECT_TRUE(same);
  auto seen = backend_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].body.size(), up.size());
}

TEST_F(H2UpstreamTest, SequentialRequestsReuseOneTargetConnection) {
  start(ProtocolVersion::Http2);
  for (int client = 0; client < 2; ++client) {
    H2Client c(port_.port);
    ASSERT_TRUE(c.ok());
    for (int i = 0; i < 5; ++i) {
      std::string r = roundTrip(c, get("/echo"));
      ASSERT_EQ(status(r), 200) << r;
    }
  }
  EXPECT_EQ(backend_.connections(), 1);
  auto seen = backend_.requests();
  ASSERT_EQ(seen.size(), 10u);
  for (const auto& r : seen) {
    EXPECT_EQ(r.connection, 1);
  }
}

// A target may end its stream with a frame of its own (an empty DATA with END_STREAM) after a
// body its content-length made whole already, as servers that write frames as they come do: the
// connection still goes back to the pool.
TEST_F(H2UpstreamTest, AResponseEndedByALaterEmptyDataFrameLeavesTheConnectionPooled) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t id = c.request(post("/end-later", "whole"));
  // The head and the whole body reach the client before the target ends its stream.
  ASSERT_TRUE(c.until([&] { return body(c.responses[id].bytes) == "whole"; }));
  backend_.release();
  ASSERT_TRUE(c.until([&] { return c.responses[id].ended; }));
  std::string next = roundTrip(c, get("/echo"));
  ASSERT_EQ(status(next), 200) << next;
  EXPECT_EQ(backend_.connections(), 1);
}

TEST_F(H2UpstreamTest, ARefusedStreamIsResentAndAnswered) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string r = roundTrip(c, post("/refuse-once", "try again"));
  ASSERT_EQ(status(r), 200) << r;
  EXPECT_EQ(body(r), "try again");
  auto seen = backend_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0].refused);
  EXPECT_FALSE(seen[1].refused);
  EXPECT_EQ(seen[1].body, "try again");
  EXPECT_EQ(lb().httpCodeElb5xx, 0u);
}

TEST_F(H2UpstreamTest, AGoawayBeforeTheAnswerIsResentOnANewConnection) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string r = roundTrip(c, post("/goaway-first", "once more"));
  ASSERT_EQ(status(r), 200) << r;
  EXPECT_EQ(body(r), "once more");
  EXPECT_EQ(backend_.connections(), 2);
  EXPECT_EQ(lb().httpCodeElb5xx, 0u);
}

TEST_F(H2UpstreamTest, AfterAGoawayWithAResponseTheNextRequestGetsANewConnection) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  for (const char* path : {"/goaway-after", "/echo"}) {
    std::string r = roundTrip(c, get(path));
    ASSERT_EQ(status(r), 200) << path << ": " << r;
  }
  EXPECT_EQ(backend_.connections(), 2);
  auto seen = backend_.requests();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].connection, 2);
  EXPECT_EQ(lb().httpCodeElb5xx, 0u);
}

TEST_F(H2UpstreamTest, APingWhilePooledIsAnsweredAndTheConnectionIsStillReused) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string first = roundTrip(c, get("/ping-when-idle"));
  ASSERT_EQ(status(first), 200) << first;
  // The idle connection's PING and SETTINGS are acknowledged (SETTINGS: the first one, then
  // the one sent while idle).
  ASSERT_TRUE(test_net::waitFor([&] { return backend_.pingAcks() == 1; }));
  ASSERT_TRUE(test_net::waitFor([&] { return backend_.settingsAcks() == 2; }));
  std::string next = roundTrip(c, get("/echo"));
  ASSERT_EQ(status(next), 200) << next;
  EXPECT_EQ(backend_.connections(), 1);
}

TEST_F(H2UpstreamTest, ATargetResetMidResponseResetsTheClientStreamAndLeavesTheOthersAlone) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t cut = c.request(get("/reset-mid"));
  ASSERT_TRUE(c.until([&] { return c.responses[cut].bytes.size() > H2Backend::kPartialBytes; }));
  int32_t held = c.request(post("/held", "still here")); // in flight when the other is reset
  ASSERT_TRUE(test_net::waitFor([&] { return backend_.requestCount() == 2; }));
  backend_.release();
  ASSERT_TRUE(c.until([&] { return c.responses[cut].closed && c.responses[held].ended; }));
  EXPECT_FALSE(c.responses[cut].ended);
  EXPECT_NE(c.responses[cut].code, h2::ErrorCode::NoError);
  EXPECT_EQ(body(c.responses[held].bytes), "still here");
  std::string after = roundTrip(c, get("/echo"));
  EXPECT_EQ(status(after), 200) << after;
}

TEST_F(H2UpstreamTest, ATargetThatClosesMidResponseResetsTheClientStream) {
  start(ProtocolVersion::Http2);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  int32_t cut = c.request(get("/close-mid"));
  ASSERT_TRUE(c.until([&] { return c.responses[cut].bytes.size() > H2Backend::kPartialBytes; }));
  backend_.release();
  ASSERT_TRUE(c.until([&] { return c.responses[cut].closed; }));
  EXPECT_FALSE(c.responses[cut].ended);
  EXPECT_NE(c.responses[cut].code, h2::ErrorCode::NoError);
  std::string after = roundTrip(c, get("/echo"));
  EXPECT_EQ(status(after), 200) << after;
  EXPECT_EQ(backend_.connections(), 2);
}

// ALB's 464 Incompatible protocol, counted as an ELB 4XX, never at a target.
TEST_F(H2UpstreamTest, Http11RequestsToHttp2AndGrpcGroupsAre464) {
  for (ProtocolVersion v : {ProtocolVersion::Http2, ProtocolVersion::Grpc}) {
    auto s = snapshot(v);
    addPlainListener(*s);
    if (balancer_) {
      restart(s);
    } else {
      startBalancer(s);
    }
    std::string plain = plainRequest(plainPort_.port, post("/echo", "x"));
    EXPECT_EQ(status(plain), 464) << plain;
    test_net::TlsClient t(port_.port, kHost); // ALPN http/1.1
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(t.send(post("/echo", "x")));
    std::string tls = t.response();
    EXPECT_EQ(status(tls), 464) << tls;
    EXPECT_TRUE(elb4xxIs(2)) << lb().httpCodeElb4xx; // (a new balancer counts from 0)
  }
  EXPECT_EQ(backend_.connections(), 0);
}

TEST_F(H2UpstreamTest, AGetOverHttp2ToAGrpcGroupIs464) {
  start(ProtocolVersion::Grpc);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  std::string r = roundTrip(c, get("/test.Echo/Unary"));
  EXPECT_EQ(status(r), 464) << r;
  EXPECT_TRUE(elb4xxIs(1)) << lb().httpCodeElb4xx;
  EXPECT_EQ(backend_.requestCount(), 0u);
  // A POST on the same connection goes through.
  r = roundTrip(c, grpcCall("/test.Echo/Unary", "hi"));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_EQ(backend_.requestCount(), 1u);
}

TEST_F(H2UpstreamTest, AGrpcRequestToAnHttp1GroupIs464) {
  startBalancer(snapshot(ProtocolVersion::Http1, plain_.endpoint()));
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  for (const char* type : {"application/grpc", "application/grpc+proto"}) {
    std::string r = roundTrip(c, grpcCall("/test.Echo/Unary", "hi", type));
    EXPECT_EQ(status(r), 464) << type << ": " << r;
  }
  EXPECT_TRUE(elb4xxIs(2)) << lb().httpCodeElb4xx;
  EXPECT_EQ(plain_.heads.load(), 0);
  // Other POSTs over HTTP/2 reach the HTTP/1.1 target as before.
  std::string r = roundTrip(c, post("/form", "{}", "Content-Type: application/json\r\n"));
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_EQ(plain_.heads.load(), 1);
}

// A GRPC group and a plain HTTP/1.1 group on one listener: the HTTP/2 traffic, its 464s and a
// target's reset leave the plain group's target as it was (no ejection, no connection error)
// and serving HTTP/1.1 and HTTP/2 clients.
TEST_F(H2UpstreamTest, APlainHttp1GroupOnTheSameBalancerKeepsItsHealth) {
  auto s = snapshot(ProtocolVersion::Grpc);
  addGroup(*s, ProtocolVersion::Http1, plain_.endpoint(), "/plain/*");
  startBalancer(s);
  H2Client c(port_.port);
  ASSERT_TRUE(c.ok());
  const std::pair<std::string, int> calls[] = {
      {grpcCall("/test.Echo/Unary", "hi"), 200},
      {get("/test.Echo/Unary"), 464},      // not a POST, to the GRPC group
      {grpcCall("/plain/rpc", "hi"), 464}, // gRPC to the HTTP1 group
  };
  for (const auto& [request, code] : calls) {
    std::string r = roundTrip(c, request);
    EXPECT_EQ(status(r), code) << r;
  }
  EXPECT_EQ(balancer_->counters().targets[0].targetEjectionCount, 0u); // (a 464 is no failure)
  int32_t cut = c.request(grpcCall("/reset-mid", "hi")); // reset mid-response by the GRPC target
  ASSERT_TRUE(c.until([&] { return c.responses[cut].bytes.size() > H2Backend::kPartialBytes; }));
  backend_.release();
  ASSERT_TRUE(c.until([&] { return c.responses[cut].closed; }));
  // The plain group, over HTTP/2 and over HTTP/1.1.
  std::string r = roundTrip(c, get("/plain/a"));
  EXPECT_EQ(status(r), 200) << r;
  test_net::TlsClient t(port_.port, kHost);
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t.send(get("/plain/b")));
  r = t.response();
  EXPECT_EQ(status(r), 200) << r;
  EXPECT_EQ(plain_.heads.load(), 2);
  auto counters = balancer_->counters();
  const TrafficCounters& plainTarget = counters.targets[1];
  EXPECT_EQ(plainTarget.targetEjectionCount, 0u);
  EXPECT_EQ(plainTarget.targetConnectionErrorCount, 0u);
  EXPECT_EQ(plainTarget.httpCodeTarget2xx, 2u);
}

TEST_F(H2UpstreamTest, TheAccessLogSaysGrpcsForGrpcGroupsAndH2ForHttp2Groups) {
  char dir[] = "/tmp/tide-h2up-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/access.log";
  auto s = snapshot(ProtocolVersion::Grpc);
  addGroup(*s, ProtocolVersion::Http2, backend_.endpoint(), "/web/*");
  s->loadBalancers[0].accessLogPath = path;
  startBalancer(s);
  {
    H2Client c(port_.port);
    ASSERT_TRUE(c.ok());
    for (const std::string& request : {grpcCall("/test.Echo/Unary", "hi"), get("/web/page")}) {
      std::string r = roundTrip(c, request);
      EXPECT_EQ(status(r), 200) << r;
    }
  }
  balancer_->stop();
  std::ifstream in(path);
  std::string grpcLine, h2Line;
  std::getline(in, grpcLine);
  std::getline(in, h2Line);
  EXPECT_TRUE(grpcLine.starts_with("grpcs ")) << grpcLine;
  EXPECT_TRUE(contains(grpcLine, "/test.Echo/Unary HTTP/2.0\"")) << grpcLine;
  EXPECT_TRUE(h2Line.starts_with("h2 ")) << h2Line;
  EXPECT_TRUE(contains(h2Line, "/web/page HTTP/2.0\"")) << h2Line;
  std::remove(path.c_str());
  rmdir(dir);
}

} // namespace
} // namespace tide::balancer
