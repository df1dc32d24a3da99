// Pooled connection objects and the writes that queue what a socket does not take.
#include "balancer/connection.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace tide::balancer {

void ConnectionStore::reap() {
  for (Pollable* p : graveyard_) {
    if (p->kind == PollKind::Client) {
      clientFree_.push_back(static_cast<ClientConn*>(p));
    } else {
      upstreamFree_.push_back(static_cast<UpstreamConn*>(p));
    }
  }
  graveyard_.clear();
}

bool writeVector(BufferPool& buffers, int fd, Buffer& queued, const IoVector& v) {
  if (!queued.empty()) {
    for (int i = 0; i < v.count(); ++i) {
      buffers.append(queued, static_cast<const char*>(v.data()[i].iov_base), v.data()[i].iov_len);
    }
    return flush(buffers, fd, queued) >= 0;
  }
  ssize_t n;
  do {
    n = v.count() == 1 ? ::send(fd, v.data()[0].iov_base, v.data()[0].iov_len, MSG_NOSIGNAL)
                       : ::writev(fd, v.data(), v.count());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno != EAGAIN) {
      return false;
    }
    n = 0;
  }
  size_t skip = size_t(n);
  if (skip == v.bytes()) {
    return true;
  }
  for (int i = 0; i < v.count(); ++i) {
    const iovec& piece = v.data()[i];
    if (skip >= piece.iov_len) {
      skip -= piece.iov_len;
      continue;
    }
    buffers.append(queued, static_cast<const char*>(piece.iov_base) + skip, piece.iov_len - skip);
    skip = 0;
  }
  return true;
}

int flush(BufferPool& buffers, int fd, Buffer& queued) {
  while (!queued.empty()) {
    ssize_t n = ::send(fd, queued.data(), queued.size(), MSG_NOSIGNAL);
    if (n > 0) {
      queued.consume(size_t(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      return 0;
    } else {
      return -1;
    }
  }
  buffers.release(queued);
  return 1;
}

} // namespace tide::balancer
