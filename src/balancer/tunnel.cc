// Copying a tunnel's bytes (tunnel.h).
#include "balancer/tunnel.h"

#include "balancer/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace tide::balancer {

namespace {

// The socket calls of a tunnel end, through the transport seam (transport.h).
ssize_t tunnelRead(const TunnelEnd& e, char* p, size_t n) {
  ssize_t r;
  do {
    r = transportRead(e.fd, e.tls, p, n);
  } while (r < 0 && errno == EINTR);
  return r;
}

ssize_t tunnelWrite(const TunnelEnd& e, const char* p, size_t n) {
  ssize_t r;
  do {
    r = transportWrite(e.fd, e.tls, p, n);
  } while (r < 0 && errno == EINTR);
  return r;
}

} // namespace

PumpResult pumpTunnel(BufferPool& buffers, TunnelEnd& from, TunnelEnd& to, uint64_t* moved) {
  for (;;) {
    if (!to.out->empty()) { // the rest of a write from before the tunnel (the 101's head)
      int r = flush(buffers, to.fd, to.tls, *to.out);
      if (r < 0) {
        return PumpResult::Error;
      }
      if (r == 0) {
        return PumpResult::Open; // the sink's EPOLLOUT resumes
      }
    }
    Buffer& in = *from.in;
    if (!in.empty()) {
      ssize_t n = tunnelWrite(to, in.data(), in.size());
      if (n < 0) {
        return errno == EAGAIN ? PumpResult::Open : PumpResult::Error;
      }
      in.consume(size_t(n));
      *moved += uint64_t(n);
      continue; // all taken: read more; a part: the next write says EAGAIN
    }
    if (*from.eof) {
      if (!*to.shut) {
        transportShutWrite(to.fd, to.tls); // half-close passed on: the other end may still answer
        *to.shut = true;
      }
      buffers.release(in);
      return PumpResult::Done;
    }
    if (!*from.canRead) {
      buffers.release(in);
      return PumpResult::Open; // the source's EPOLLIN resumes
    }
    buffers.acquire(in);
    size_t room = in.writable();
    ssize_t n = tunnelRead(from, in.writePtr(), room);
    if (n > 0) {
      in.produce(size_t(n));
      if (transportDrained(from.tls, size_t(n), room) && !*from.hangup) {
        *from.canRead = false; // drained: edge-triggered epoll reports the next arrival
      }
    } else if (n == 0) {
      *from.eof = true;
      *from.canRead = false;
    } else if (errno == EAGAIN) {
      *from.canRead = false;
    } else {
      return PumpResult::Error;
    }
  }
}

} // namespace tide::balancer
