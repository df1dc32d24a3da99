// The transport seam of client connections: every read, write and write shutdown on a client's
// socket goes through these functions, which are the plain socket calls for HTTP listeners and
// OpenSSL's SSL_read/SSL_write for HTTPS listeners (a connection with a TlsSession). Above the
// seam, the exchange (and a tunnel) sees a byte stream either way: decrypted bytes in, plaintext
// out. An HTTP/2 session sits on the same seam: it takes the bytes transportRead gives and its
// frames go out through transportWrite; ALPN's choice (tlsAlpn: "h2") says when.
//
// The plain path costs one pointer test per call (tls == nullptr) and nothing else.
//
// TLS with non-blocking sockets and edge-triggered epoll (what the callers must keep):
//  - A short SSL_read does not mean the socket is drained (OpenSSL may hold whole records, read
//    ahead). OpenSSL reads the socket through tide's own BIO (transport.cc), which notes whether
//    the last read(2) under an SSL_read came back short; when it did and OpenSSL holds nothing
//    more, the socket is drained (TlsSession::drained) and edge-triggered epoll reports the next
//    arrival, as a short read says on a plain socket. Otherwise the connection is read until
//    EAGAIN. (Without this, every request over TLS cost one more read(2), an EAGAIN.)
//  - SSL_read may need to write (a handshake message, an alert) and say WANT_WRITE: EAGAIN with
//    TlsSession::readWantsWrite set; the socket's EPOLLOUT then resumes reading. SSL_write may
//    need to read (WANT_READ): EAGAIN with writeWantsRead set; any event then resumes writing.
//  - Writes are partial (SSL_MODE_ENABLE_PARTIAL_WRITE: one record per SSL_write at most) and
//    what a write did not take is queued; a retried write may start from another address
//    (SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) with the same bytes first, which the queue keeps.
#pragma once

#include "balancer/buffer.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string_view>

typedef struct ssl_st SSL;

namespace tide::balancer {

class TlsContexts;

// A client connection's TLS state on an HTTPS listener. The contexts it was made from are held
// for the connection's life, so that a new snapshot (a rotated certificate) changes nothing for
// connections already open.
struct TlsSession {
  SSL* ssl = nullptr;
  int fd = -1;          // the socket (tide's BIO reads and writes it)
  bool drained = false; // the last read found the socket drained (see above)
  std::shared_ptr<const TlsContexts> contexts;
  bool readWantsWrite = false;  // the last read needs the socket writable (EPOLLOUT resumes it)
  bool writeWantsRead = false;  // the last write needs bytes from the peer (EPOLLIN resumes it)
  bool fatal = false;           // a TLS error (no close_notify may follow)
  bool failedHandshake = false; // the handshake failed (ClientTLSNegotiationErrorCount)
  bool shut = false;            // close_notify sent
  bool alpnChecked = false;     // the exchange looked at ALPN's choice (h2: an HTTP/2 session)
};

// Starts the server side of TLS on an accepted socket, from `contexts`' default context (SNI may
// move it to another certificate's). False when OpenSSL cannot make the connection.
bool tlsStart(TlsSession& s, std::shared_ptr<const TlsContexts> contexts, int fd);
// Ends a connection's TLS: sends close_notify when the handshake was done and nothing failed
// (without waiting for the peer's), and frees the OpenSSL connection. The socket stays open.
void tlsEnd(TlsSession& s);
// Whether the handshake is over (a session is established).
bool tlsEstablished(const TlsSession& s);
// Whether the connection ended in a negotiation error: the handshake failed, or it began and
// did not finish (ALB's ClientTLSNegotiationErrorCount).
bool tlsNegotiationFailed(const TlsSession& s);

// What the access log shows of an established session (docs/load-balancer.md "Access log"):
// the cipher's OpenSSL name, the protocol ("TLSv1.2", "TLSv1.3"), the server name the client
// sent (empty: none) and the index of the certificate served (TlsConfig::certificates).
std::string_view tlsCipher(const TlsSession& s);
std::string_view tlsProtocol(const TlsSession& s);
std::string_view tlsServerName(const TlsSession& s);
size_t tlsCertificateIndex(const TlsSession& s);
std::string_view tlsCertificateArn(const TlsSession& s); // of that certificate
// The protocol ALPN chose ("h2", "http/1.1"), empty when none. "h2" makes the connection an
// HTTP/2 one (exchange.cc, docs/ARCHITECTURE.md "HTTP/2").
std::string_view tlsAlpn(const TlsSession& s);

// As read(2) and send(2) on the TLS connection: bytes, 0 at the peer's end (close_notify or
// EOF), or -1 with errno EAGAIN (wait: see readWantsWrite/writeWantsRead), EPROTO (a TLS error:
// a failed handshake, a malformed record) or the socket's error.
ssize_t tlsRead(TlsSession& s, char* p, size_t n);
ssize_t tlsWrite(TlsSession& s, const char* p, size_t n);
// Sends close_notify (once), then shuts the socket's writes down.
void tlsShutWrite(TlsSession& s, int fd);
// writeVector and flush (connection.h) over TLS: pieces gathered into records of up to 16 KiB,
// one SSL_write per record.
bool tlsWriteVector(BufferPool& buffers, TlsSession& s, Buffer& queued, const IoVector& v);
int tlsFlush(BufferPool& buffers, TlsSession& s, Buffer& queued);

// ---- the seam -----------------------------------------------------------------------------------

inline ssize_t transportRead(int fd, TlsSession* tls, char* p, size_t n) {
  if (tls != nullptr) {
    return tlsRead(*tls, p, n);
  }
  return ::read(fd, p, n);
}

inline ssize_t transportWrite(int fd, TlsSession* tls, const char* p, size_t n) {
  if (tls != nullptr) {
    return tlsWrite(*tls, p, n);
  }
  return ::send(fd, p, n, MSG_NOSIGNAL);
}

inline void transportShutWrite(int fd, TlsSession* tls) {
  if (tls != nullptr) {
    tlsShutWrite(*tls, fd);
    return;
  }
  ::shutdown(fd, SHUT_WR);
}

// Whether a read of n bytes that returned `got` drained the socket, so that edge-triggered epoll
// reports the next arrival: a short read on a plain socket; over TLS, TlsSession::drained.
inline bool transportDrained(const TlsSession* tls, size_t got, size_t n) {
  return tls == nullptr ? got < n : tls->drained;
}

} // namespace tide::balancer
