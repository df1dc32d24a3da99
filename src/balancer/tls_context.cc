#include "balancer/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <cstring>

namespace tide::balancer {

namespace {

// OpenSSL's latest error text, the queue cleared.
std::string opensslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) {
    return "unknown error";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return buf;
}

Status refused(const std::string& what) {
  return validationError(what + ": " + opensslError());
}

bool equalsLower(std::string_view name, std::string_view lowered) {
  if (name.size() != lowered.size()) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c + 32);
    }
    if (c != lowered[i]) {
      return false;
    }
  }
  return true;
}

// The same session id context in every context of a listener, so that a session made under
// one certificate's context is taken back after SNI moved the connection.
constexpr unsigned char kSessionIdContext[] = "tide-https";

int onServerName(SSL* ssl, int* alert, void* arg) {
  (void)alert;
  const auto* self = static_cast<const TlsContexts*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) {
    return SSL_TLSEXT_ERR_NOACK; // no SNI: the default certificate
  }
  size_t i = self->certificateFor(name);
  if (i != 0) {
    SSL_set_SSL_CTX(ssl, self->context(i));
  }
  return SSL_TLSEXT_ERR_OK;
}

// The protocols offered by ALPN, in the server's order of preference (wire format: a length,
// then the name): HTTP/2 first, as ALB speaks it to clients by default; the exchange makes a
// connection whose ALPN chose "h2" an HTTP/2 one (tlsAlpn(), transport.h).
constexpr unsigned char kAlpnProtocols[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

// Picks the first protocol of kAlpnProtocols the client offers; none in common: no ALPN (the
// connection goes on as HTTP/1.1, as ALB does with clients that offer only other protocols).
int onAlpn(SSL* ssl, const unsigned char** out, unsigned char* outLen, const unsigned char* in,
           unsigned int inLen, void* arg) {
  (void)ssl;
  (void)arg;
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outLen, kAlpnProtocols, sizeof(kAlpnProtocols), in, inLen) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

Status loadCertificate(SSL_CTX* ctx, const TlsCertificate& c) {
  const std::string name = c.arn.empty() ? "(no ARN)" : c.arn;
  BIO* bio = BIO_new_mem_buf(c.certificatePem.data(), static_cast<int>(c.certificatePem.size()));
  X509* leaf = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  if (leaf == nullptr) {
    BIO_free(bio);
    return refused("certificate " + name);
  }
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  while (ok == 1) { // the chain after the leaf
    X509* next = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (next == nullptr) {
      ERR_clear_error(); // the end of the PEM
      break;
    }
    ok = SSL_CTX_add0_chain_cert(ctx, next);
    if (ok != 1) {
      X509_free(next);
    }
  }
  BIO_free(bio);
  if (ok != 1) {
    return refused("certificate chain " + name);
  }
  bio = BIO_new_mem_buf(c.privateKeyPem.data(), static_cast<int>(c.privateKeyPem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(
      bio, nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    return refused("private key of " + name);
  }
  ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return refused("private key of " + name);
  }
  return Status::ok();
}

Result<SSL_CTX*> makeContext(const TlsConfig& config, const TlsCertificate& certificate) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    return refused("SSL_CTX_new");
  }
  auto fail = [&](Status s) -> Result<SSL_CTX*> {
    SSL_CTX_free(ctx);
    return s;
  };
  // Policies that keep TLS 1.0 and 1.1 (ELBSecurityPolicy-2016-08) need SHA-1 signatures,
  // which OpenSSL 3's default security level refuses: the policy decides instead.
  if (config.minVersion < TLS1_2_VERSION) {
    SSL_CTX_set_security_level(ctx, 0);
  }
  if (SSL_CTX_set_min_proto_version(ctx, config.minVersion) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, config.maxVersion) != 1) {
    return fail(refused("protocol versions of " + config.policyName));
  }
  if (!config.cipherList.empty() && SSL_CTX_set_cipher_list(ctx, config.cipherList.c_str()) != 1) {
    return fail(refused("ciphers of " + config.policyName));
  }
  if (SSL_CTX_set_ciphersuites(ctx, config.cipherSuites.c_str()) != 1) {
    return fail(refused("TLS 1.3 suites of " + config.policyName));
  }
  // An EOF without close_notify ends the stream like close_notify does (what clients do and
  // what HTTP/1.1's framing already guards against), rather than as a protocol error.
  SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF);
  // For non-blocking sockets (transport.h): a write takes what it can (a record at a time) and
  // may be retried from another address with the same bytes first (the connection's queue).
  // An idle connection holds no record buffers (as an idle plain connection holds no buffer):
  // OpenSSL gives them back once they are empty.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // Read what the socket has at once instead of a record's header and body apart: one read
  // instead of two per record.
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_alpn_select_cb(ctx, onAlpn, nullptr);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1);
  SSL_CTX_set_num_tickets(ctx, 1); // TLS 1.3: one ticket per full handshake
  Status loaded = loadCertificate(ctx, certificate);
  if (!loaded.isOk()) {
    return fail(loaded);
  }
  return ctx;
}

} // namespace

Result<std::unique_ptr<TlsContexts>> TlsContexts::build(const TlsConfig& config) {
  if (config.certificates.empty()) {
    return validationError("an HTTPS listener needs a certificate");
  }
  std::unique_ptr<TlsContexts> out(new TlsContexts());
  for (const TlsCertificate& c : config.certificates) {
    TIDE_ASSIGN_OR_RETURN(SSL_CTX * ctx, makeContext(config, c));
    out->contexts_.push_back(ctx);
    out->names_.push_back(c.names);
    out->arns_.push_back(c.arn);
  }
  SSL_CTX_set_tlsext_servername_callback(out->contexts_.front(), onServerName);
  SSL_CTX_set_tlsext_servername_arg(out->contexts_.front(), out.get());
  return out;
}

TlsContexts::~TlsContexts() {
  for (SSL_CTX* ctx : contexts_) {
    SSL_CTX_free(ctx);
  }
}

size_t TlsContexts::certificateFor(std::string_view name) const {
  if (!name.empty() && name.back() == '.') {
    name.remove_suffix(1);
  }
  for (size_t i = 0; i < names_.size(); ++i) {
    for (const std::string& n : names_[i]) {
      if (equalsLower(name, n)) {
        return i;
      }
    }
  }
  size_t dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0) {
    return 0;
  }
  std::string_view parent = name.substr(dot); // ".example.com"
  for (size_t i = 0; i < names_.size(); ++i) {
    for (const std::string& n : names_[i]) {
      if (n.size() == parent.size() + 1 && n[0] == '*' &&
          equalsLower(parent, std::string_view(n).substr(1))) {
        return i;
      }
    }
  }
  return 0;
}

} // namespace tide::balancer
