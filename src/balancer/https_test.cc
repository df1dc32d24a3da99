// HTTPS listeners served (docs/tls.md): a real Balancer on 127.0.0.1 terminating TLS, OpenSSL
// clients in the test, a plain HTTP backend. SNI picks the certificate, requests keep the
// connection alive, X-Forwarded-Proto says https, large responses go out in parts, upgrades
// tunnel over TLS, a rotated certificate leaves open connections alone, and bad input is closed
// without stalling anyone. Every wait is bounded (socket timeouts, deadlines).
#include "balancer/access_log.h"
#include "balancer/balancer.h"
#include "balancer/rules.h"
#include "balancer/test_backend.h"
#include "balancer/test_balancer.h"
#include "balancer/test_net.h"
#include "balancer/test_snapshot.h"
#include "balancer/test_tls.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tide::balancer {
namespace {

using test_net::certificate;
using test_net::connectLoopback;
using test_net::kLoopback;
using test_net::makeSnapshot;
using test_net::ReservedPort;
using test_net::setTimeouts;
using test_net::TlsClient;
using test_net::tlsConfig;
using test_net::waitFor;

const std::string kGet = "GET /x HTTP/1.1\r\nHost: shop.example.test\r\n\r\n";

class HttpsTest : public test_net::RunningBalancerTest {
protected:
  std::shared_ptr<Snapshot> snapshot(std::vector<TlsCertificate> certificates) {
    auto s = makeSnapshot(port_.port, {backend_.endpoint()});
    Listener& l = s->loadBalancers[0].listeners[0];
    l.https = true;
    l.tls = tlsConfig(std::move(certificates));
    return s;
  }

  test_net::EchoBackend backend_;
  TlsCertificate default_ = certificate("arn:default", "default.test");
  TlsCertificate shop_ = certificate("arn:shop", "shop.example.test");
};

TEST_F(HttpsTest, SniPicksTheCertificateAndRequestsKeepTheConnection) {
  startBalancer(snapshot({default_, shop_}));
  TlsClient c(port_.port, "shop.example.test");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.peerCommonName(), "shop.example.test");
  EXPECT_EQ(c.version(), "TLSv1.3");
  EXPECT_EQ(c.alpn(), "http/1.1"); // (h2 is served to clients that offer it: h2_listener_test)
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.send(kGet));
    std::string r = c.response();
    ASSERT_TRUE(r.starts_with("HTTP/1.1 200 OK")) << r;
    EXPECT_NE(r.find("X-Forwarded-Proto: https\r\n"), std::string::npos) << r;
    EXPECT_NE(r.find("X-Forwarded-Port: " + std::to_string(port_.port) + "\r\n"),
              std::string::npos);
  }
  TlsClient none(port_.port, nullptr);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none.peerCommonName(), "default.test"); // no SNI: the default certificate
  TlsClient other(port_.port, "other.test");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other.peerCommonName(), "default.test");
  TlsClient v12(port_.port, "shop.example.test", TLS1_2_VERSION);
  ASSERT_TRUE(v12.ok());
  EXPECT_EQ(v12.version(), "TLSv1.2");
  ASSERT_TRUE(v12.send(kGet));
  EXPECT_TRUE(v12.response().starts_with("HTTP/1.1 200 OK"));
  EXPECT_EQ(lb().clientTlsNegotiationErrorCount, 0u);
}

// Sessions resume (TLS 1.3 tickets, TLS 1.2 session ids), also after a new snapshot that leaves
// the listener's certificates alone (its contexts are taken over).
TEST_F(HttpsTest, SessionsResumeAcrossSnapshots) {
  startBalancer(snapshot({default_, shop_}));
  for (int version : {TLS1_3_VERSION, TLS1_2_VERSION}) {
    SSL_SESSION* session = nullptr;
    {
      TlsClient first(port_.port, "shop.example.test", version);
      ASSERT_TRUE(first.ok());
      ASSERT_TRUE(first.send(kGet));
      ASSERT_TRUE(first.response().starts_with("HTTP/1.1 200 OK"));
      EXPECT_FALSE(first.reused());
      session = first.session();
    }
    ASSERT_NE(session, nullptr);
    auto next = snapshot({default_, shop_});
    next->version = 2;
    ASSERT_TRUE(balancer_->apply(next).isOk());
    TlsClient again(port_.port, "shop.example.test", version, 0, 0, session);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again.reused()) << version;
    EXPECT_EQ(again.peerCommonName(), "shop.example.test");
    ASSERT_TRUE(again.send(kGet));
    EXPECT_TRUE(again.response().starts_with("HTTP/1.1 200 OK"));
    SSL_SESSION_free(session);
  }
}

TEST_F(HttpsTest, OldProtocolIsRefusedAndCounted) {
  startBalancer(snapshot({default_}));
  TlsClient old(port_.port, nullptr, TLS1_1_VERSION, TLS1_VERSION);
  EXPECT_FALSE(old.ok());
  EXPECT_TRUE(waitFor([&] { return lb().clientTlsNegotiationErrorCount == 1; }));
  EXPECT_TRUE(waitFor([&] { return lb().activeConnectionCount == 0; }));
}

TEST_F(HttpsTest, LargeResponsesAndPipelinedRequestsGoThroughWhole) {
  startBalancer(snapshot({default_}));
  TlsClient c(port_.port, nullptr);
  ASSERT_TRUE(c.ok());
  std::string big = "GET /big HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_TRUE(c.send(big + kGet + big));
  for (int i = 0; i < 3; ++i) {
    std::string r = c.response();
    ASSERT_TRUE(r.starts_with("HTTP/1.1 200 OK")) << i;
    if (i != 1) {
      std::string body = r.substr(r.find("\r\n\r\n") + 4);
      ASSERT_EQ(body.size(), backend_.bigBytes);
      for (size_t k = 0; k < body.size(); k += 4099) {
        ASSERT_EQ(body[k], char('a' + k % 26)) << k;
      }
    }
  }
}

// A client with a small receive window takes large responses slowly: the balancer's TLS writes
// stop part-way, what is left is queued and goes out as the window opens, in order.
TEST_F(HttpsTest, ASlowReaderGetsEveryByteInOrder) {
  backend_.bigBytes = 2 * 1024 * 1024;
  startBalancer(snapshot({default_}));
  TlsClient c(port_.port, nullptr, 0, 0, 4096);
  ASSERT_TRUE(c.ok());
  std::string big = "GET /big HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_TRUE(c.send(big + big));
  for (int i = 0; i < 2; ++i) {
    std::string r = c.response();
    ASSERT_TRUE(r.starts_with("HTTP/1.1 200 OK")) << i;
    std::string body = r.substr(r.find("\r\n\r\n") + 4);
    ASSERT_EQ(body.size(), backend_.bigBytes);
    for (size_t k = 0; k < body.size(); k += 997) {
      ASSERT_EQ(body[k], char('a' + k % 26)) << k;
    }
  }
  ASSERT_TRUE(c.send(kGet));
  EXPECT_TRUE(c.response().starts_with("HTTP/1.1 200 OK"));
}

// A request body larger than the connection's buffer streams through TLS to the target whole.
TEST_F(HttpsTest, LargeRequestBodiesStreamThrough) {
  auto s = snapshot({default_});
  s->loadBalancers[0].maxRequestBodyBytes = 0; // unlimited
  startBalancer(s);
  TlsClient c(port_.port, nullptr);
  ASSERT_TRUE(c.ok());
  std::string body(3 * 1024 * 1024 + 17, '\0');
  uint64_t sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = char((i * 7919) % 251);
    sum = sum * 31 + uint8_t(body[i]);
  }
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send("POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body));
    std::string r = c.response();
    ASSERT_TRUE(r.starts_with("HTTP/1.1 200 OK")) << r;
    EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4),
              std::to_string(body.size()) + " " + std::to_string(sum));
  }
}

// The access log through the data path: type https, the cipher and protocol of the session, the
// SNI name and the certificate's ARN, and an https:// request URL.
TEST_F(HttpsTest, AccessLogHasTheSessionsTlsFields) {
  char dir[] = "/tmp/tide-https-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/access.log";
  auto s = snapshot({default_, shop_});
  s->loadBalancers[0].accessLogPath = path;
  startBalancer(s);
  {
    TlsClient c(port_.port, "shop.example.test", TLS1_2_VERSION);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE(c.send(kGet));
    ASSERT_TRUE(c.response().starts_with("HTTP/1.1 200 OK"));
  }
  balancer_->stop(); // hands over and writes what is buffered
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_TRUE(line.starts_with("https ")) << line;
  EXPECT_NE(line.find("\"GET https://shop.example.test:" + std::to_string(port_.port) +
                      "/x HTTP/1.1\" \"-\" ECDHE-ECDSA-AES128-GCM-SHA256 TLSv1.2 - \"-\" "
                      "\"shop.example.test\" \"arn:shop\" "),
            std::string::npos)
      << line;
  std::remove(path.c_str());
  rmdir(dir);
}

TEST_F(HttpsTest, MalformedBytesAndHalfHandshakesAreClosedWithoutStallingOthers) {
  startBalancer(snapshot({default_}));
  // Half a handshake: the first bytes of a ClientHello record, then nothing.
  int half = socket(AF_INET, SOCK_STREAM, 0);
  setTimeouts(half);
  ASSERT_TRUE(connectLoopback(half, port_.port));
  const char hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00};
  ASSERT_EQ(send(half, hello, sizeof hello, MSG_NOSIGNAL), ssize_t(sizeof hello));
  // Garbage instead of TLS (plain HTTP to an HTTPS port): closed after OpenSSL's alert.
  int junk = socket(AF_INET, SOCK_STREAM, 0);
  setTimeouts(junk);
  ASSERT_TRUE(connectLoopback(junk, port_.port));
  std::string plain = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(send(junk, plain.data(), plain.size(), MSG_NOSIGNAL), ssize_t(plain.size()));
  char tmp[4096];
  ssize_t n;
  std::string got;
  while ((n = recv(junk, tmp, sizeof tmp, 0)) > 0) {
    got.append(tmp, size_t(n));
  }
  EXPECT_EQ(n, 0);                                    // closed, not timed out
  EXPECT_EQ(got.find("HTTP/1.1"), std::string::npos); // never answered in plain HTTP
  close(junk);
  // Meanwhile others are served.
  TlsClient c(port_.port, nullptr);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send(kGet));
  EXPECT_TRUE(c.response().starts_with("HTTP/1.1 200 OK"));
  EXPECT_TRUE(waitFor([&] { return lb().clientTlsNegotiationErrorCount >= 1; }));
  close(half); // cut mid-handshake: counted too
  EXPECT_TRUE(waitFor([&] { return lb().clientTlsNegotiationErrorCount == 2; }));
}

TEST_F(HttpsTest, RotationKeepsOpenConnectionsAndNewOnesGetTheNewCertificate) {
  startBalancer(snapshot({shop_}));
  TlsClient before(port_.port, "shop.example.test");
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(before.send(kGet));
  ASSERT_TRUE(before.response().starts_with("HTTP/1.1 200 OK"));
  TlsCertificate rotated = certificate("arn:shop", "shop-v2.example.test"); // a reimport
  rotated.names = {"shop.example.test"};
  ASSERT_TRUE(balancer_->apply(snapshot({rotated})).isOk());
  ASSERT_TRUE(waitFor([&] {
    TlsClient after(port_.port, "shop.example.test");
    return after.ok() && after.peerCommonName() == "shop-v2.example.test";
  }));
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(before.send(kGet));
    EXPECT_TRUE(before.response().starts_with("HTTP/1.1 200 OK"));
  }
}

TEST_F(HttpsTest, UpgradeTunnelsOverTls) {
  startBalancer(snapshot({default_}));
  TlsClient c(port_.port, nullptr);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c.send("GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: k\r\nSec-WebSocket-Version: 13\r\n"
                     "\r\n"));
  std::string head = c.take(std::string("HTTP/1.1 101").size());
  ASSERT_EQ(head, "HTTP/1.1 101");
  std::string rest;
  while (rest.find("\r\n\r\n") == std::string::npos) {
    std::string b = c.take(1);
    ASSERT_FALSE(b.empty());
    rest += b;
  }
  std::string big(100000, 'w');
  ASSERT_TRUE(c.send("hello"));
  EXPECT_EQ(c.take(5), "hello");
  ASSERT_TRUE(c.send(big));
  EXPECT_EQ(c.take(big.size()), big);
}

TEST(HttpsRedirect, ProtocolTokenIsHttpsOnAnHttpsListener) {
  Redirect r; // #{protocol}://#{host}:#{port}/#{path}?#{query}
  http1::MessageHead h;
  std::string req = "GET /a?b=1 HTTP/1.1\r\nHost: shop.test\r\n\r\n";
  ASSERT_EQ(http1::parseRequestHead(req.data(), req.size(), 16384, h),
            http1::ParseStatus::Complete);
  EXPECT_EQ(redirectLocation(r, h, 443, true), "https://shop.test/a?b=1");
  EXPECT_EQ(redirectLocation(r, h, 443, false), "http://shop.test:443/a?b=1");
  r.protocol = "HTTPS";
  r.port = "443";
  EXPECT_EQ(redirectLocation(r, h, 80, false), "https://shop.test/a?b=1");
}

TEST(HttpsAccessLog, TlsFieldsAsAlbWritesThem) {
  AccessLogEntry e;
  e.method = "GET";
  e.requestTarget = "/x";
  e.host = "shop.test";
  e.listenerPort = 443;
  e.https = true;
  e.sslCipher = "TLS_AES_128_GCM_SHA256";
  e.sslProtocol = "TLSv1.3";
  e.domainName = "shop.test";
  e.chosenCertArn = "arn:aws:acm:us-east-1:1:certificate/x";
  std::string line;
  formatAccessLogEntry(e, line);
  EXPECT_TRUE(line.starts_with("https ")) << line;
  EXPECT_NE(line.find("\"GET https://shop.test:443/x HTTP/1.1\" \"-\" TLS_AES_128_GCM_SHA256 "
                      "TLSv1.3 - \"-\" \"shop.test\" \"arn:aws:acm:us-east-1:1:certificate/x\" "),
            std::string::npos)
      << line;
  e.webSocket = true;
  line.clear();
  formatAccessLogEntry(e, line);
  EXPECT_TRUE(line.starts_with("wss ")) << line;
  AccessLogEntry plain;
  line.clear();
  formatAccessLogEntry(plain, line);
  EXPECT_NE(line.find("\"-\" - - - \"-\" \"-\" \"-\" "), std::string::npos) << line;
}

} // namespace
} // namespace tide::balancer
