// TLS on a client connection (transport.h): OpenSSL over the non-blocking socket.
#include "balancer/transport.h"

#include "balancer/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <climits>
#include <cstring>

namespace tide::balancer {

namespace {

// The largest plaintext of one TLS record: small pieces are gathered up to this before a write.
constexpr size_t kRecordBytes = 16384;

// A failed SSL call: errno as the seam promises, OpenSSL's error queue cleared (it is the
// thread's, shared by every connection of the worker).
ssize_t failed(TlsSession& s, int error, bool reading) {
  switch (error) {
  case SSL_ERROR_WANT_READ:
    if (!reading) {
      s.writeWantsRead = true;
    }
    errno = EAGAIN;
    return -1;
  case SSL_ERROR_WANT_WRITE:
    if (reading) {
      s.readWantsWrite = true;
    }
    errno = EAGAIN;
    return -1;
  case SSL_ERROR_ZERO_RETURN:
    return 0; // close_notify, or EOF (SSL_OP_IGNORE_UNEXPECTED_EOF)
  case SSL_ERROR_SYSCALL:
    ERR_clear_error();
    s.fatal = true;
    if (errno == 0 || errno == EAGAIN) {
      errno = ECONNRESET;
    }
    if (!SSL_is_init_finished(s.ssl)) {
      s.failedHandshake = true;
    }
    return -1;
  default: // SSL_ERROR_SSL: a protocol error (OpenSSL sent its alert)
    ERR_clear_error();
    s.fatal = true;
    if (!SSL_is_init_finished(s.ssl)) {
      s.failedHandshake = true;
    }
    errno = EPROTO;
    return -1;
  }
}

// tide's BIO under a client's SSL: read(2) and send(2) on the socket (MSG_NOSIGNAL: a peer that
// is gone is an error, never SIGPIPE), noting whether a read came back short (transport.h).
int bioRead(BIO* b, char* out, int len) {
  auto* s = static_cast<TlsSession*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  ssize_t n;
  do {
    n = ::read(s->fd, out, size_t(len));
  } while (n < 0 && errno == EINTR);
  if (n > 0) {
    s->drained = n < len;
    return int(n);
  }
  if (n < 0 && errno == EAGAIN) {
    s->drained = true;
    BIO_set_retry_read(b);
  }
  return int(n);
}

int bioWrite(BIO* b, const char* in, int len) {
  auto* s = static_cast<TlsSession*>(BIO_get_data(b));
  BIO_clear_retry_flags(b);
  ssize_t n;
  do {
    n = ::send(s->fd, in, size_t(len), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) {
    BIO_set_retry_write(b);
  }
  return int(n);
}

long bioCtrl(BIO* b, int cmd, long num, void* ptr) {
  (void)b;
  (void)num;
  (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0; // writes are not buffered; nothing else is asked of it
}

int bioCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* socketBioMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tide socket");
    BIO_meth_set_read(m, bioRead);
    BIO_meth_set_write(m, bioWrite);
    BIO_meth_set_ctrl(m, bioCtrl);
    BIO_meth_set_create(m, bioCreate);
    return m;
  }();
  return method;
}

} // namespace

bool tlsStart(TlsSession& s, std::shared_ptr<const TlsContexts> contexts, int fd) {
  s.ssl = SSL_new(contexts->defaultContext());
  BIO* bio = s.ssl != nullptr ? BIO_new(socketBioMethod()) : nullptr;
  if (bio == nullptr) {
    ERR_clear_error();
    if (s.ssl != nullptr) {
      SSL_free(s.ssl);
      s.ssl = nullptr;
    }
    return false;
  }
  s.fd = fd;
  s.drained = false;
  BIO_set_data(bio, &s);
  SSL_set_bio(s.ssl, bio, bio); // (one reference for both directions, owned by the SSL)
  SSL_set_accept_state(s.ssl);
  s.contexts = std::move(contexts);
  s.readWantsWrite = false;
  s.writeWantsRead = false;
  s.fatal = false;
  s.failedHandshake = false;
  s.shut = false;
  s.alpnChecked = false;
  return true;
}

void tlsEnd(TlsSession& s) {
  if (s.ssl == nullptr) {
    return;
  }
  if (!s.fatal && !s.shut && SSL_is_init_finished(s.ssl)) {
    SSL_shutdown(s.ssl); // close_notify; the peer's is not waited for (the socket closes)
  }
  ERR_clear_error();
  SSL_free(s.ssl);
  s.ssl = nullptr;
  s.contexts.reset();
}

bool tlsEstablished(const TlsSession& s) {
  return s.ssl != nullptr && SSL_is_init_finished(s.ssl);
}

bool tlsNegotiationFailed(const TlsSession& s) {
  if (s.failedHandshake) {
    return true;
  }
  return s.ssl != nullptr && !SSL_is_init_finished(s.ssl) && !SSL_in_before(s.ssl);
}

std::string_view tlsCipher(const TlsSession& s) {
  const char* name = s.ssl != nullptr ? SSL_get_cipher_name(s.ssl) : nullptr;
  return name != nullptr && std::strcmp(name, "(NONE)") != 0 ? name : "";
}

std::string_view tlsProtocol(const TlsSession& s) {
  return s.ssl != nullptr && SSL_is_init_finished(s.ssl) ? SSL_get_version(s.ssl) : "";
}

std::string_view tlsServerName(const TlsSession& s) {
  const char* name =
      s.ssl != nullptr ? SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name) : nullptr;
  return name != nullptr ? name : "";
}

size_t tlsCertificateIndex(const TlsSession& s) {
  if (s.ssl == nullptr || !s.contexts) {
    return 0;
  }
  SSL_CTX* ctx = SSL_get_SSL_CTX(s.ssl);
  for (size_t i = 0; i < s.contexts->size(); ++i) {
    if (s.contexts->context(i) == ctx) {
      return i;
    }
  }
  return 0;
}

std::string_view tlsCertificateArn(const TlsSession& s) {
  return s.contexts ? s.contexts->arn(tlsCertificateIndex(s)) : "";
}

std::string_view tlsAlpn(const TlsSession& s) {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  if (s.ssl != nullptr) {
    SSL_get0_alpn_selected(s.ssl, &p, &n);
  }
  return p != nullptr ? std::string_view(reinterpret_cast<const char*>(p), n) : "";
}

ssize_t tlsRead(TlsSession& s, char* p, size_t n) {
  if (s.fatal) {
    errno = EPROTO;
    return -1;
  }
  s.readWantsWrite = false;
  s.drained = false; // set by a short read(2) under this SSL_read
  int r = SSL_read(s.ssl, p, static_cast<int>(std::min<size_t>(n, INT_MAX)));
  if (r > 0) {
    s.drained = s.drained && SSL_has_pending(s.ssl) == 0;
    return r;
  }
  return failed(s, SSL_get_error(s.ssl, r), true);
}

ssize_t tlsWrite(TlsSession& s, const char* p, size_t n) {
  if (s.fatal || s.shut) {
    errno = EPIPE;
    return -1;
  }
  s.writeWantsRead = false;
  int r = SSL_write(s.ssl, p, static_cast<int>(std::min<size_t>(n, INT_MAX)));
  if (r > 0) {
    return r;
  }
  ssize_t out = failed(s, SSL_get_error(s.ssl, r), false);
  if (out == 0) { // the peer's close_notify came while writing: the write is lost
    errno = EPIPE;
    out = -1;
  }
  return out;
}

void tlsShutWrite(TlsSession& s, int fd) {
  if (!s.fatal && !s.shut && SSL_is_init_finished(s.ssl)) {
    SSL_shutdown(s.ssl);
    ERR_clear_error();
  }
  s.shut = true;
  ::shutdown(fd, SHUT_WR);
}

int tlsFlush(BufferPool& buffers, TlsSession& s, Buffer& queued) {
  while (!queued.empty()) {
    ssize_t n = tlsWrite(s, queued.data(), queued.size());
    if (n > 0) {
      queued.consume(size_t(n));
    } else if (errno == EAGAIN) {
      return 0;
    } else {
      return -1;
    }
  }
  buffers.release(queued);
  return 1;
}

bool tlsWriteVector(BufferPool& buffers, TlsSession& s, Buffer& queued, const IoVector& v) {
  if (!queued.empty()) {
    for (int i = 0; i < v.count(); ++i) {
      buffers.append(queued, static_cast<const char*>(v.data()[i].iov_base), v.data()[i].iov_len);
    }
    return tlsFlush(buffers, s, queued) >= 0;
  }
  // Pieces go out in records of up to kRecordBytes: a large piece straight from where it is,
  // small ones (a rewritten head is many) gathered first, so that a response head and a small
  // body make one record and one send.
  char gather[kRecordBytes];
  int i = 0;
  size_t skip = 0; // of piece i, already written
  bool blocked = false;
  while (i < v.count() && !blocked) {
    const iovec& piece = v.data()[i];
    const char* p = static_cast<const char*>(piece.iov_base) + skip;
    size_t left = piece.iov_len - skip;
    if (left >= kRecordBytes / 2 || i + 1 == v.count()) {
      ssize_t n = tlsWrite(s, p, left);
      if (n < 0) {
        if (errno != EAGAIN) {
          return false;
        }
        blocked = true;
        break;
      }
      skip += size_t(n);
      if (skip == piece.iov_len) {
        ++i;
        skip = 0;
      }
      continue;
    }
    size_t used = 0;
    int j = i;
    size_t jskip = skip;
    while (j < v.count() && used < kRecordBytes) {
      const iovec& q = v.data()[j];
      size_t take = std::min(q.iov_len - jskip, kRecordBytes - used);
      std::memcpy(gather + used, static_cast<const char*>(q.iov_base) + jskip, take);
      used += take;
      jskip += take;
      if (jskip == q.iov_len) {
        ++j;
        jskip = 0;
      }
    }
    ssize_t n = tlsWrite(s, gather, used); // one record: all or nothing
    if (n < 0) {
      if (errno != EAGAIN) {
        return false;
      }
      blocked = true;
      break;
    }
    // (n == used: a record under kRecordBytes goes whole)
    size_t advance = size_t(n);
    while (advance > 0) {
      size_t inPiece = v.data()[i].iov_len - skip;
      if (advance >= inPiece) {
        advance -= inPiece;
        ++i;
        skip = 0;
      } else {
        skip += advance;
        advance = 0;
      }
    }
  }
  if (blocked) { // the rest is queued; the retry starts with the same bytes
    for (; i < v.count(); ++i) {
      const iovec& piece = v.data()[i];
      buffers.append(queued, static_cast<const char*>(piece.iov_base) + skip, piece.iov_len - skip);
      skip = 0;
    }
  }
  return true;
}

} // namespace tide::balancer
