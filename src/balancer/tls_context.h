// An HTTPS listener's OpenSSL contexts, built from its TlsConfig (snapshot.h): one SSL_CTX per
// certificate, all with the security policy's protocol versions and ciphers (the server's
// order preferred, as ALB), renegotiation off, session tickets and a server session cache on
// for resumption. Connections are made from the default context (the first certificate's);
// its servername callback moves a connection to the certificate the client's SNI name picks:
// an exact name first, then a wildcard ("*.example.com" covers one label), else the default.
//
// Built on the control side when a snapshot is prepared (it parses PEM and keys); immutable
// afterwards and safe to use from every worker at once (OpenSSL's SSL_CTX is thread-safe for
// SSL_new and the callbacks here only read).
#pragma once

#include "balancer/snapshot.h"
#include "common/status.h"

#include <memory>
#include <string_view>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;

namespace tide::balancer {

class TlsContexts {
public:
  // The contexts of `config`, or ValidationError naming what OpenSSL refused (a certificate or
  // key that does not parse or match, a cipher list it does not know, no certificate).
  static Result<std::unique_ptr<TlsContexts>> build(const TlsConfig& config);
  ~TlsContexts();
  TlsContexts(const TlsContexts&) = delete;
  TlsContexts& operator=(const TlsContexts&) = delete;

  // What connections are made with (SSL_new); SNI may move them to another context.
  SSL_CTX* defaultContext() const { return contexts_.front(); }
  // The certificate (index in config.certificates) for a server name: exact match (any case,
  // one trailing dot ignored), then a wildcard, else 0 (the default). Allocates nothing.
  size_t certificateFor(std::string_view serverName) const;
  SSL_CTX* context(size_t i) const { return contexts_[i]; }
  size_t size() const { return contexts_.size(); }
  // The ARN of certificate i (the access log's chosen_cert_arn).
  std::string_view arn(size_t i) const { return arns_[i]; }

private:
  TlsContexts() = default;
  std::vector<SSL_CTX*> contexts_;              // by certificate, the default first
  std::vector<std::vector<std::string>> names_; // by certificate: its names, lowercase
  std::vector<std::string> arns_;               // by certificate
};

} // namespace tide::balancer
