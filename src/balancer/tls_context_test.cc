// Real handshakes over a socketpair against an HTTPS listener's contexts: SNI picks the
// certificate (exact, wildcard, else the default), the policy decides versions and ciphers, and
// sessions resume.
#include "balancer/tls_context.h"

#include "balancer/prepared_snapshot.h"

#include "api/test_certificates.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::balancer {
namespace {

using testcerts::CertificateSpec;

TlsCertificate certificate(const std::string& arn, const std::string& cn,
                           std::vector<std::string> names) {
  CertificateSpec spec;
  spec.commonName = cn;
  spec.dnsNames = names;
  auto kc = testcerts::make(spec);
  TlsCertificate c;
  c.arn = arn;
  c.certificatePem = kc.certificatePem;
  c.privateKeyPem = kc.keyPem;
  c.names = std::move(names);
  return c;
}

TlsConfig config(uint16_t minVersion, uint16_t maxVersion, std::string ciphers,
                 std::string suites) {
  TlsConfig t;
  t.policyName = "test";
  t.minVersion = minVersion;
  t.maxVersion = maxVersion;
  t.cipherList = std::move(ciphers);
  t.cipherSuites = std::move(suites);
  t.certificates.push_back(certificate("arn:default", "default.test", {"default.test"}));
  t.certificates.push_back(certificate("arn:shop", "shop.example.test", {"shop.example.test"}));
  t.certificates.push_back(
      certificate("arn:wild", "*.example.test", {"*.example.test", "example.test"}));
  return t;
}

const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384";
const char* kTls12Ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

struct Handshake {
  std::string peerName; // the server certificate's CN
  std::string version;  // "TLSv1.3"
  std::string cipher;
  bool reused = false;
  SSL_SESSION* session = nullptr; // the client's, for resumption (owned by the caller)
};

// One handshake, both ends driven in turn on non-blocking sockets (bounded).
Handshake handshake(const TlsContexts& server, const char* serverName,
                    SSL_SESSION* resume = nullptr, int clientMaxVersion = 0) {
  int fds[2];
  EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  fcntl(fds[1], F_SETFL, O_NONBLOCK);
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(cctx, 0);
  if (clientMaxVersion != 0) {
    SSL_CTX_set_max_proto_version(cctx, clientMaxVersion);
  }
  SSL* c = SSL_new(cctx);
  SSL* s = SSL_new(server.defaultContext());
  SSL_set_fd(c, fds[0]);
  SSL_set_fd(s, fds[1]);
  if (serverName != nullptr) {
    SSL_set_tlsext_host_name(c, serverName);
  }
  if (resume != nullptr) {
    SSL_set_session(c, resume);
  }
  SSL_set_connect_state(c);
  SSL_set_accept_state(s);
  bool cDone = false, sDone = false;
  for (int i = 0; i < 200 && !(cDone && sDone); ++i) {
    if (!cDone) {
      int r = SSL_do_handshake(c);
      cDone = r == 1;
      EXPECT_TRUE(cDone || SSL_get_error(c, r) == SSL_ERROR_WANT_READ) << i;
    }
    if (!sDone) {
      int r = SSL_do_handshake(s);
      sDone = r == 1;
      EXPECT_TRUE(sDone || SSL_get_error(s, r) == SSL_ERROR_WANT_READ) << i;
    }
  }
  EXPECT_TRUE(cDone && sDone);
  Handshake out;
  // TLS 1.3 tickets come after the handshake: a byte from the server carries them along.
  char byte = 'x';
  EXPECT_EQ(SSL_write(s, &byte, 1), 1);
  for (int i = 0; i < 50 && SSL_read(c, &byte, 1) != 1; ++i) {
  }
  if (X509* peer = SSL_get1_peer_certificate(c)) {
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof(cn));
    out.peerName = cn;
    X509_free(peer);
  }
  out.version = SSL_get_version(c);
  out.cipher = SSL_get_cipher_name(c);
  out.reused = SSL_session_reused(c) == 1;
  // A connection freed without close_notify has its session dropped, as a broken one.
  SSL_shutdown(c);
  SSL_shutdown(s);
  out.session = SSL_get1_session(c);
  SSL_free(c);
  SSL_free(s);
  SSL_CTX_free(cctx);
  close(fds[0]);
  close(fds[1]);
  ERR_clear_error();
  return out;
}

TEST(TlsContextTest, SniPicksExactThenWildcardElseDefault) {
  auto contexts =
      TlsContexts::build(config(TLS1_2_VERSION, TLS1_3_VERSION, kTls12Ciphers, kTls13Suites));
  ASSERT_TRUE(contexts.isOk()) << contexts.status().toString();
  const TlsContexts& t = **contexts;
  EXPECT_EQ(t.certificateFor("SHOP.example.test."), 1u);
  EXPECT_EQ(t.certificateFor("api.example.test"), 2u);
  EXPECT_EQ(t.certificateFor("a.b.example.test"), 0u); // a wildcard covers one label
  EXPECT_EQ(t.certificateFor("other.test"), 0u);

  struct Case {
    const char* sni;
    const char* cn;
  };
  for (Case k : {Case{"shop.example.test", "shop.example.test"},
                 Case{"api.example.test", "*.example.test"}, Case{"example.test", "*.example.test"},
                 Case{"unknown.test", "default.test"}, Case{nullptr, "default.test"}}) {
    Handshake h = handshake(t, k.sni);
    EXPECT_EQ(h.peerName, k.cn) << (k.sni ? k.sni : "(no SNI)");
    EXPECT_EQ(h.version, "TLSv1.3");
    SSL_SESSION_free(h.session);
  }
}

TEST(TlsContextTest, PolicyDecidesVersionsAndCiphers) {
  auto tls12 = TlsContexts::build(
      config(TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", ""));
  ASSERT_TRUE(tls12.isOk()) << tls12.status().toString();
  Handshake h = handshake(**tls12, "shop.example.test");
  EXPECT_EQ(h.version, "TLSv1.2");
  EXPECT_EQ(h.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
  EXPECT_EQ(h.peerName, "shop.example.test");
  SSL_SESSION_free(h.session);

  auto tls13 = TlsContexts::build(config(TLS1_3_VERSION, TLS1_3_VERSION, "", kTls13Suites));
  ASSERT_TRUE(tls13.isOk()) << tls13.status().toString();
  h = handshake(**tls13, nullptr);
  EXPECT_EQ(h.version, "TLSv1.3");
  EXPECT_EQ(h.cipher, "TLS_AES_128_GCM_SHA256"); // the server's order
  SSL_SESSION_free(h.session);

  EXPECT_FALSE(
      TlsContexts::build(config(TLS1_2_VERSION, TLS1_2_VERSION, "NO-SUCH-CIPHER", "")).isOk());
  TlsConfig broken = config(TLS1_2_VERSION, TLS1_3_VERSION, kTls12Ciphers, kTls13Suites);
  broken.certificates[1].privateKeyPem = broken.certificates[0].privateKeyPem;
  EXPECT_FALSE(TlsContexts::build(broken).isOk()); // a key of another certificate
  broken.certificates.clear();
  EXPECT_FALSE(TlsContexts::build(broken).isOk());
}

TEST(TlsContextTest, SessionsResume) {
  for (uint16_t version : {uint16_t(TLS1_2_VERSION), uint16_t(TLS1_3_VERSION)}) {
    auto contexts = TlsContexts::build(config(TLS1_2_VERSION, version, kTls12Ciphers,
                                              version == TLS1_3_VERSION ? kTls13Suites : ""));
    ASSERT_TRUE(contexts.isOk()) << contexts.status().toString();
    Handshake first = handshake(**contexts, "shop.example.test");
    EXPECT_FALSE(first.reused);
    ASSERT_NE(first.session, nullptr);
    Handshake again = handshake(**contexts, "shop.example.test", first.session);
    EXPECT_TRUE(again.reused) << version;
    EXPECT_EQ(again.peerName, "shop.example.test");
    SSL_SESSION_free(first.session);
    SSL_SESSION_free(again.session);
  }
}

// An HTTPS listener's socket carries its TLS contexts; an HTTP listener's none. A new snapshot
// with the same TLS configuration takes the previous contexts over (sessions keep resuming); a
// changed one (a rotated certificate) gets new ones. A certificate OpenSSL refuses leaves the
// listener without a socket: its port never answers plain HTTP.
TEST(TlsContextTest, HttpsListenersGetTheirContexts) {
  auto s = std::make_shared<Snapshot>();
  LoadBalancer lb;
  lb.name = "shop";
  Listener http;
  http.endpoint = {0x7f000001, 8080};
  http.defaultAction.kind = Action::Kind::FixedResponse;
  http.defaultAction.fixedResponse.statusCode = 200;
  Listener https = http;
  https.endpoint = {0x7f000001, 8443};
  https.https = true;
  lb.listeners = {http, https};
  s->loadBalancers.push_back(lb);
  auto refused = prepareSnapshot(s, SlotCapacity{});
  EXPECT_FALSE(refused.isOk()); // HTTPS without a certificate
  s->loadBalancers[0].listeners[1].tls =
      config(TLS1_2_VERSION, TLS1_3_VERSION, kTls12Ciphers, kTls13Suites);
  auto prepared = prepareSnapshot(s, SlotCapacity{});
  ASSERT_TRUE(prepared.isOk()) << prepared.status().toString();
  EXPECT_EQ((*prepared)->listeners.size(), 2u);
  ASSERT_EQ((*prepared)->sockets.size(), 2u);
  EXPECT_EQ((*prepared)->sockets[0].endpoint.port, 8080);
  EXPECT_EQ((*prepared)->sockets[0].tls, nullptr);
  EXPECT_EQ((*prepared)->sockets[1].endpoint.port, 8443);
  ASSERT_NE((*prepared)->sockets[1].tls, nullptr);
  EXPECT_EQ((*prepared)->sockets[1].tls->size(), 3u);

  auto same = std::make_shared<Snapshot>(*s);
  auto again = prepareSnapshot(same, SlotCapacity{}, prepared->get());
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ((*again)->sockets[1].tls, (*prepared)->sockets[1].tls); // taken over

  auto rotated = std::make_shared<Snapshot>(*s);
  rotated->loadBalancers[0].listeners[1].tls.certificates[0] =
      certificate("arn:default", "default.test", {"default.test"});
  auto next = prepareSnapshot(rotated, SlotCapacity{}, prepared->get());
  ASSERT_TRUE(next.isOk());
  ASSERT_NE((*next)->sockets[1].tls, nullptr);
  EXPECT_NE((*next)->sockets[1].tls, (*prepared)->sockets[1].tls); // built anew

  auto broken = std::make_shared<Snapshot>(*s);
  broken->loadBalancers[0].listeners[1].tls.certificates[0].privateKeyPem = "not a key";
  auto without = prepareSnapshot(broken, SlotCapacity{});
  ASSERT_TRUE(without.isOk());
  ASSERT_EQ((*without)->sockets.size(), 1u);
  EXPECT_EQ((*without)->sockets[0].endpoint.port, 8080);
}

// 127.0.0.1:port shared by listeners of two load balancers is HTTP or HTTPS as its first
// listener is; a listener of the other kind answers on its own address only.
TEST(TlsContextTest, ASharedPortIsHttpOrHttpsAsItsFirstListener) {
  auto s = std::make_shared<Snapshot>();
  for (int i = 0; i < 2; ++i) {
    LoadBalancer lb;
    lb.name = "lb" + std::to_string(i);
    lb.dnsName = lb.name + ".test";
    lb.slot = uint32_t(i);
    Listener l;
    l.endpoint = {0x7f000010u + uint32_t(i), 8443};
    l.sharedEndpoint = {0x7f000001, 8443};
    l.defaultAction.kind = Action::Kind::FixedResponse;
    l.defaultAction.fixedResponse.statusCode = 200;
    if (i == 1) {
      l.https = true;
      l.tls = config(TLS1_2_VERSION, TLS1_3_VERSION, kTls12Ciphers, kTls13Suites);
    }
    lb.listeners.push_back(l);
    s->loadBalancers.push_back(lb);
  }
  auto prepared = prepareSnapshot(s, SlotCapacity{});
  ASSERT_TRUE(prepared.isOk()) << prepared.status().toString();
  const auto& sockets = (*prepared)->sockets;
  ASSERT_EQ(sockets.size(), 3u); // lb0's own, the shared one, lb1's own
  int shared = (*prepared)->findSocket({0x7f000001, 8443});
  ASSERT_GE(shared, 0);
  EXPECT_EQ(sockets[size_t(shared)].tls, nullptr);
  EXPECT_EQ(sockets[size_t(shared)].listeners.size(), 1u);
  int own = (*prepared)->findSocket({0x7f000011, 8443});
  ASSERT_GE(own, 0);
  EXPECT_NE(sockets[size_t(own)].tls, nullptr);
}

} // namespace
} // namespace tide::balancer
