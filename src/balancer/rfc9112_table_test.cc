// RFC 9112 (and RFC 9110 field syntax), rule by rule: each row is the bytes of one request, the
// section that decides it and what tide does with it. Every row is sent to a real listener in
// each desync mitigation mode and judged from the backend's side (desync_backend.h): what RFC
// 9112 says to reject gets 400 and a closed connection in every mode and never reaches the
// target; what it allows reaches the target as exactly one well-framed request. Rows about the
// head are also checked against both head parsers (the balancer's and tide's own servers').
// docs/security.md "HTTP parsing" lists these promises.
#include "balancer/balancer.h"
#include "balancer/desync.h"
#include "balancer/desync_backend.h"
#include "balancer/test_net.h"
#include "http1/parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::waitFor;
using testing::ClientConnection;
using testing::OneTargetListener;
using testing::RawBackend;

enum class Outcome {
  Refused,          // 400 and close in every mode; nothing reaches the target
  Forwarded,        // one request reaches the target in every mode
  ForwardedLenient, // forwarded in monitor and defensive; 400 and close in strictest
                    // (Acceptable: allowed by the RFC, not Compliant)
  NotKept,          // forwarded and then both connections closed, or 400 (strictest): never
                    // kept open (RFC 9112 §6.1)
};

struct Rule {
  const char* section; // where RFC 9112 / RFC 9110 decide it
  const char* what;
  std::string bytes; // the whole request
  Outcome outcome;
  bool body = false;          // the rule is about the body: the head alone parses
  bool serverAccepts = false; // tide's own servers accept it where the RFC allows (a MAY):
                              // their strict parser reads it one way only
};

// A request head with `line` as its request line and `fields` (each ending in CRLF) after Host.
std::string req(const std::string& line, const std::string& fields = "") {
  return line + "\r\nHost: t.test\r\n" + fields + "\r\n";
}

const std::vector<Rule>& rules() {
  static const std::vector<Rule> kRules = {
      // §2.2 message parsing
      {"9112 §2.2", "empty lines before the request line are skipped",
       "\r\n" + req("GET /a HTTP/1.1"), Outcome::Forwarded},
      {"9112 §2.2", "bare LF ending the request line", "GET /a HTTP/1.1\nHost: t.test\r\n\r\n",
       Outcome::Refused},
      {"9112 §2.2", "bare LF ending a field line", "GET /a HTTP/1.1\r\nHost: t.test\nX: y\r\n\r\n",
       Outcome::Refused},
      {"9112 §2.2", "bare CR in a field value", req("GET /a HTTP/1.1", "X: a\rb\r\n"),
       Outcome::Refused},
      {"9112 §2.2", "whitespace-preceded line before the first field",
       "GET /a HTTP/1.1\r\n X: y\r\nHost: t.test\r\n\r\n", Outcome::Refused},
      // §2.3 version
      {"9112 §2.3", "version in lower case", req("GET /a http/1.1"), Outcome::Refused},
      {"9112 §2.3", "HTTP/2.0 on an HTTP/1.1 connection", req("GET /a HTTP/2.0"), Outcome::Refused},
      {"9112 §2.3", "HTTP/1.0", "GET /a HTTP/1.0\r\n\r\n", Outcome::Forwarded},
      {"9112 §2.3", "HTTP/1.2: a later minor version, read as 1.1", req("GET /a HTTP/1.2"),
       Outcome::ForwardedLenient},
      {"9112 §2.3", "HTTP/0.9: no version", "GET /a\r\nHost: t.test\r\n\r\n", Outcome::Refused},
      {"9112 §2.3", "HTTP/0.9 named", req("GET /a HTTP/0.9"), Outcome::Refused},
      {"9112 §2.3", "version not DIGIT.DIGIT", req("GET /a HTTP/1.10"), Outcome::Refused},
      // §3 request line
      {"9112 §3", "empty request-target (two spaces)", req("GET  HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "two spaces after the method", req("GET  /a HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "two spaces before the version", req("GET /a  HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "HTAB as a separator", req("GET\t/a HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "trailing space after the version", req("GET /a HTTP/1.1 "), Outcome::Refused},
      {"9112 §3", "leading space before the method", req(" GET /a HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "a space inside the target", req("GET /a b HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "a second version inside the target", req("GET /a HTTP/1.1 HTTP/1.1"),
       Outcome::Refused},
      {"9112 §3", "method not a token", req("G@T /a HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "method with a control character", req("G\x01T /a HTTP/1.1"), Outcome::Refused},
      {"9112 §3", "an unknown method that is a token", req("PURGE /a HTTP/1.1"),
       Outcome::Forwarded},
      // §3.2 request-target
      {"9112 §3.2.1", "origin-form with a query and percent-encoding",
       req("GET /a/b?c=d&e=%41~!$'()*+,;=:@ HTTP/1.1"), Outcome::Forwarded},
      {"9112 §3.2.1", "a target not starting with '/' or a scheme", req("GET a/b HTTP/1.1"),
       Outcome::Refused},
      {"9112 §3.2", "a fragment", req("GET /a#b HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2", "a malformed percent-encoding", req("GET /a%zz HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2", "a '%' at the end", req("GET /a% HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2", "a control character (HTAB)", req("GET /a\tb HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2", "a control character (0x01)", req("GET /a\x01 HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2", "DEL", req("GET /a\x7f HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2", "NUL", req(std::string("GET /a\0b HTTP/1.1", 17)), Outcome::Refused},
      {"9112 §3.2", "non-ASCII bytes (not percent-encoded)", req("GET /\xc3\xa9 HTTP/1.1"),
       Outcome::Refused},
      {"9112 §3.2", "characters RFC 3986 excludes: < > \" { } | \\ ^ `",
       req("GET /a<b>{c}|d HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2.2", "absolute-form", req("GET http://t.test:80/a?b HTTP/1.1"),
       Outcome::Forwarded},
      {"9112 §3.2.2", "absolute-form with a bad authority", req("GET http://t test/a HTTP/1.1"),
       Outcome::Refused},
      {"9112 §3.2.3",
       "authority-form with a method other than CONNECT (\"t.test:80\" would be "
       "an absolute URI of scheme t.test)",
       req("GET 127.0.0.1:80 HTTP/1.1"), Outcome::Refused},
      {"9112 §3.2.3", "CONNECT with an origin-form target", req("CONNECT /a HTTP/1.1"),
       Outcome::Refused},
      {"9112 §3.2.4", "asterisk-form with OPTIONS", req("OPTIONS * HTTP/1.1"), Outcome::Forwarded},
      {"9112 §3.2.4", "asterisk-form with another method", req("GET * HTTP/1.1"), Outcome::Refused},
      // §3.2 Host
      {"9112 §3.2", "HTTP/1.1 without Host", "GET /a HTTP/1.1\r\n\r\n", Outcome::Refused},
      {"9112 §3.2", "two Host fields", req("GET /a HTTP/1.1", "Host: u.test\r\n"),
       Outcome::Refused},
      {"9112 §3.2", "a Host with a space", "GET /a HTTP/1.1\r\nHost: t test\r\n\r\n",
       Outcome::Refused},
      {"9112 §3.2", "a Host with a path", "GET /a HTTP/1.1\r\nHost: t.test/a\r\n\r\n",
       Outcome::Refused},
      {"9112 §3.2", "a Host with a bad port", "GET /a HTTP/1.1\r\nHost: t.test:8x\r\n\r\n",
       Outcome::Refused},
      {"9112 §3.2", "a Host with userinfo", "GET /a HTTP/1.1\r\nHost: u@t.test\r\n\r\n",
       Outcome::Refused},
      {"9112 §3.2", "a Host with an IP literal and a port",
       "GET /a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", Outcome::Forwarded},
      {"9112 §3.2", "an empty Host", "GET /a HTTP/1.1\r\nHost:\r\n\r\n", Outcome::Forwarded},
      // §5 field syntax (and RFC 9110 §5.1, §5.5)
      {"9112 §5.1", "whitespace between the name and the colon",
       req("GET /a HTTP/1.1", "X-A : b\r\n"), Outcome::Refused},
      {"9112 §5.1", "HTAB between the name and the colon", req("GET /a HTTP/1.1", "X-A\t: b\r\n"),
       Outcome::Refused},
      {"9110 §5.1", "a name that is not a token (space)", req("GET /a HTTP/1.1", "X A: b\r\n"),
       Outcome::Refused},
      {"9110 §5.1", "a name with a control character", req("GET /a HTTP/1.1", "X\x01: b\r\n"),
       Outcome::Refused},
      {"9110 §5.1", "a name with a non-ASCII byte", req("GET /a HTTP/1.1", "X\xe9: b\r\n"),
       Outcome::Refused},
      {"9112 §5", "an empty name", req("GET /a HTTP/1.1", ": b\r\n"), Outcome::Refused},
      {"9112 §5", "a line without a colon", req("GET /a HTTP/1.1", "X-A b\r\n"), Outcome::Refused},
      {"9112 §5.2", "obs-fold", req("GET /a HTTP/1.1", "X-A: b\r\n c\r\n"), Outcome::Refused},
      {"9110 §5.5", "NUL in a value", req("GET /a HTTP/1.1", std::string("X-A: b\0c\r\n", 10)),
       Outcome::Refused},
      {"9110 §5.5", "a control character in a value", req("GET /a HTTP/1.1", "X-A: b\x01\r\n"),
       Outcome::Refused},
      {"9110 §5.5", "DEL in a value", req("GET /a HTTP/1.1", "X-A: b\x7f\r\n"), Outcome::Refused},
      {"9110 §5.5", "HTAB, SP and obs-text in a value",
       req("GET /a HTTP/1.1", "X-A: b\tc d\xe9\r\n"), Outcome::Forwarded},
      {"9110 §5.5", "an empty value", req("GET /a HTTP/1.1", "X-A:\r\n"), Outcome::Forwarded},
      // §6 message body length
      {"9112 §6.3", "Content-Length not a number", req("POST /a HTTP/1.1", "Content-Length: x\r\n"),
       Outcome::Refused},
      {"9112 §6.3", "a negative Content-Length", req("POST /a HTTP/1.1", "Content-Length: -1\r\n"),
       Outcome::Refused},
      {"9112 §6.3", "Content-Length with a sign",
       req("POST /a HTTP/1.1", "Content-Length: +1\r\n") + "x", Outcome::Refused},
      {"9110 §8.6", "Content-Length as a list of equal values (servers: MAY accept)",
       req("POST /a HTTP/1.1", "Content-Length: 1, 1\r\n") + "x", Outcome::Refused, false, true},
      {"9112 §6.3", "two different Content-Lengths",
       req("POST /a HTTP/1.1", "Content-Length: 1\r\nContent-Length: 2\r\n") + "xx",
       Outcome::Refused},
      {"9112 §6.3", "a Content-Length past 64 bits",
       req("POST /a HTTP/1.1", "Content-Length: 99999999999999999999\r\n"), Outcome::Refused},
      {"9112 §6.3", "Content-Length", req("POST /a HTTP/1.1", "Content-Length: 2\r\n") + "xy",
       Outcome::Forwarded},
      {"9112 §6.1", "Transfer-Encoding whose final coding is not chunked",
       req("POST /a HTTP/1.1", "Transfer-Encoding: gzip\r\n"), Outcome::Refused},
      {"9112 §6.1", "chunked twice",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n") + "0\r\n\r\n",
       Outcome::Refused},
      {"9112 §6.1", "an unknown coding (servers: the body is still chunked-framed)",
       req("POST /a HTTP/1.1", "Transfer-Encoding: x, chunked\r\n") + "0\r\n\r\n", Outcome::Refused,
       false, true},
      {"9112 §6.1", "Transfer-Encoding in HTTP/1.0",
       "POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", Outcome::Refused},
      {"9112 §6.1", "Transfer-Encoding beside Content-Length: closed after",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + "0\r\n\r\n",
       Outcome::NotKept},
      {"9112 §7", "a parameter on chunked (none is defined; read two ways)",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked;x=1\r\n") + "0\r\n\r\n",
       Outcome::Refused},
      {"9112 §6.1", "Transfer-Encoding: chunked",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2\r\nxy\r\n0\r\n\r\n",
       Outcome::Forwarded},
      // §7.1 chunked coding
      {"9112 §7.1", "a chunk size that is not hex",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "z\r\nxy\r\n0\r\n\r\n",
       Outcome::Refused, true},
      {"9112 §7.1", "a chunk size line ending in a bare LF",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2\nxy\r\n0\r\n\r\n",
       Outcome::Refused, true},
      {"9112 §7.1", "chunk data longer than its size",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2\r\nxyz\r\n0\r\n\r\n",
       Outcome::Refused, true},
      {"9112 §7.1", "a chunk size past 60 bits",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") +
           "10000000000000002\r\nxy\r\n0\r\n\r\n",
       Outcome::Refused, true},
      {"9112 §7.1.1", "whitespace after the size without an extension",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2 \r\nxy\r\n0\r\n\r\n",
       Outcome::Refused, true},
      {"9112 §7.1.1", "a chunk extension",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2 ;a=\"b\"\r\nxy\r\n0\r\n\r\n",
       Outcome::Forwarded, true},
      {"9112 §7.1.2", "a trailer field",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2\r\nxy\r\n0\r\nX: y\r\n\r\n",
       Outcome::Forwarded, true},
      {"9112 §7.1.2", "a trailer with whitespace before the colon",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2\r\nxy\r\n0\r\nX : y\r\n\r\n",
       Outcome::Refused, true},
      {"9112 §7.1.2", "a trailer line without a colon",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") + "2\r\nxy\r\n0\r\nX y\r\n\r\n",
       Outcome::Refused, true},
      {"9112 §7.1.2", "obs-fold in the trailer section",
       req("POST /a HTTP/1.1", "Transfer-Encoding: chunked\r\n") +
           "2\r\nxy\r\n0\r\nX: y\r\n z\r\n\r\n",
       Outcome::Refused, true},
  };
  return kRules;
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += char(c);
    }
  }
  return out;
}

// The head parsers: the balancer's refuses (Invalid) exactly the head rows that are Refused, and
// tide's own servers' strict one refuses them too (and accepts the Forwarded ones).
TEST(Rfc9112Table, HeadParsersAgreeWithEveryRow) {
  auto head = std::make_unique<http1::MessageHead>();
  for (const Rule& r : rules()) {
    if (r.body) {
      continue;
    }
    SCOPED_TRACE(std::string(r.section) + ": " + r.what + ": " + printable(r.bytes));
    http1::ParseStatus st = http1::parseRequestHead(r.bytes.data(), r.bytes.size(), 65536, *head);
    bool te = r.outcome == Outcome::NotKept; // a framing the strict parser refuses outright
    if (r.outcome == Outcome::Refused) {
      EXPECT_EQ(st, http1::ParseStatus::Invalid);
    } else {
      EXPECT_EQ(st, http1::ParseStatus::Complete);
    }
    http1::HeadError error;
    st = http1::parseRequestHeadStrict(r.bytes.data(), r.bytes.size(), 65536, *head, &error);
    if ((r.outcome == Outcome::Refused && !r.serverAccepts) || te) {
      EXPECT_EQ(st, http1::ParseStatus::Invalid);
    } else {
      EXPECT_EQ(st, http1::ParseStatus::Complete) << http1::headErrorText(error);
    }
  }
}

class Rfc9112ListenerTest : public ::testing::TestWithParam<DesyncMitigationMode> {
protected:
  void SetUp() override {
    ASSERT_TRUE(listener_.start(backend_.endpoint(),
                                [](LoadBalancer& lb) { lb.desyncMitigationMode = GetParam(); }));
  }
  void TearDown() override { listener_.stop(); }

  RawBackend backend_;
  OneTargetListener listener_;
};

TEST_P(Rfc9112ListenerTest, EveryRowJudgedFromTheBackend) {
  DesyncMitigationMode mode = GetParam();
  size_t forwarded = 0;
  for (const Rule& r : rules()) {
    SCOPED_TRACE(std::string(r.section) + ": " + r.what + ": " + printable(r.bytes));
    Outcome want = r.outcome;
    if (want == Outcome::ForwardedLenient) {
      want = mode == DesyncMitigationMode::Strictest ? Outcome::Refused : Outcome::Forwarded;
    }
    size_t before = backend_.requests();
    ClientConnection conn(listener_.port());
    int status = conn.exchange(r.bytes);
    size_t got = backend_.requests() - before;
    forwarded += got;
    switch (want) {
    case Outcome::Refused:
      EXPECT_EQ(status, 400);
      EXPECT_TRUE(conn.closedByPeer());
      EXPECT_EQ(got, 0u);
      break;
    case Outcome::Forwarded:
    case Outcome::ForwardedLenient:
      EXPECT_EQ(status, 200);
      EXPECT_EQ(got, 1u);
      break;
    case Outcome::NotKept:
      EXPECT_TRUE(status == 400 || status == 200) << status;
      EXPECT_EQ(got, status == 200 ? 1u : 0u);
      EXPECT_TRUE(conn.closedByPeer());
      break;
    }
  }
  EXPECT_EQ(backend_.requests(), forwarded);
  std::vector<std::string> ill = backend_.illFramed();
  EXPECT_TRUE(ill.empty()) << printable(ill.empty() ? "" : ill.front());
  EXPECT_EQ(backend_.truncated(), 0u);
}

INSTANTIATE_TEST_SUITE_P(EveryMode, Rfc9112ListenerTest,
                         ::testing::Values(DesyncMitigationMode::Defensive,
                                           DesyncMitigationMode::Strictest,
                                           DesyncMitigationMode::Monitor),
                         [](const auto& info) { return std::string(desyncModeName(info.param)); });

} // namespace
} // namespace tide::balancer
