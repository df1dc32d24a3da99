// TLS pieces of the tests that run a real Balancer with an HTTPS listener (https_test,
// h2_listener_test): certificates made for the test, a listener's TLS configuration, and a
// blocking OpenSSL client.
#pragma once

#include "api/test_certificates.h"
#include "balancer/snapshot.h"
#include "balancer/test_net.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace tide::balancer::test_net {

// ALPN lists in their wire format.
constexpr std::string_view kAlpnH2 = "\x02h2\x08http/1.1";
constexpr std::string_view kAlpnHttp11 = "\x08http/1.1";

// A certificate for `cn` (its only name), with its key.
inline TlsCertificate certificate(const std::string& arn, const std::string& cn) {
  testcerts::CertificateSpec spec;
  spec.commonName = cn;
  spec.dnsNames = {cn};
  auto kc = testcerts::make(spec);
  TlsCertificate c;
  c.arn = arn;
  c.certificatePem = kc.certificatePem;
  c.privateKeyPem = kc.keyPem;
  c.names = {cn};
  return c;
}

// ELBSecurityPolicy-TLS13-1-2-2021-06's shape: TLS 1.2 and 1.3.
inline TlsConfig tlsConfig(std::vector<TlsCertificate> certificates) {
  TlsConfig t;
  t.policyName = "ELBSecurityPolicy-TLS13-1-2-2021-06";
  t.minVersion = 0x0303;
  t.maxVersion = 0x0304;
  t.cipherList = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
  t.cipherSuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
  t.certificates = std::move(certificates);
  return t;
}

// A blocking TLS client connection (socket timeouts bound every call).
class TlsClient {
public:
  TlsClient(uint16_t port, const char* serverName, int maxVersion = 0, int minVersion = 0,
            int receiveBuffer = 0, SSL_SESSION* resume = nullptr,
            std::string_view alpn = kAlpnHttp11) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (maxVersion != 0) {
      SSL_CTX_set_max_proto_version(ctx_, maxVersion);
    }
    if (minVersion != 0) {
      SSL_CTX_set_min_proto_version(ctx_, minVersion);
      SSL_CTX_set_security_level(ctx_, 0);
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    setTimeouts(fd_);
    if (receiveBuffer != 0) { // a small window: the balancer's writes to it fill up and queue
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);
    }
    connectLoopback(fd_, port);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    if (serverName != nullptr) {
      SSL_set_tlsext_host_name(ssl_, serverName);
    }
    if (!alpn.empty()) {
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(alpn.data()),
                          unsigned(alpn.size()));
    }
    if (resume != nullptr) {
      SSL_set_session(ssl_, resume);
    }
    ok_ = SSL_connect(ssl_) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ok_) {
      SSL_shutdown(ssl_); // (without close_notify OpenSSL marks the session not resumable)
    }
    ERR_clear_error();
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
    close(fd_);
  }
  bool ok() const { return ok_; }
  std::string peerCommonName() {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (cert == nullptr) {
      return "";
    }
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
    X509_free(cert);
    return cn;
  }
  std::string version() { return SSL_get_version(ssl_); }
  bool reused() { return SSL_session_reused(ssl_) == 1; }
  // The session to resume with (TLS 1.3: its ticket comes after the handshake, with the first
  // response read). Owned by the caller.
  SSL_SESSION* session() { return SSL_get1_session(ssl_); }
  std::string alpn() {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl_, &p, &n);
    return p ? std::string(reinterpret_cast<const char*>(p), n) : "";
  }
  bool send(std::string_view s) {
    return SSL_write(ssl_, s.data(), int(s.size())) == int(s.size());
  }
  // Some bytes, or 0 at EOF, an error or a timeout.
  int read(char* p, int n) {
    int r = SSL_read(ssl_, p, n);
    if (r <= 0) {
      ERR_clear_error();
      return 0;
    }
    return r;
  }
  // One response: its head and a Content-Length body; empty on EOF, error or timeout.
  std::string response() {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return "";
      }
    }
    size_t length = 0;
    size_t cl = buf_.find("Content-Length: ");
    if (cl != std::string::npos && cl < end) {
      length = std::stoul(buf_.substr(cl + 16));
    }
    while (buf_.size() < end + 4 + length) {
      if (!fill()) {
        return "";
      }
    }
    std::string r = buf_.substr(0, end + 4 + length);
    buf_.erase(0, r.size());
    return r;
  }
  std::string take(size_t n) {
    while (buf_.size() < n && fill()) {
    }
    std::string s = buf_.substr(0, std::min(n, buf_.size()));
    buf_.erase(0, s.size());
    return s;
  }
  // Whether the server closed (close_notify or EOF) before `ms`.
  bool closedByServer() {
    char c;
    int n = SSL_read(ssl_, &c, 1);
    int e = SSL_get_error(ssl_, n);
    ERR_clear_error();
    return n <= 0 && (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL);
  }

private:
  bool fill() {
    char tmp[65536];
    int n = SSL_read(ssl_, tmp, sizeof tmp);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    buf_.append(tmp, size_t(n));
    return true;
  }
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool ok_ = false;
  std::string buf_;
};

} // namespace tide::balancer::test_net
