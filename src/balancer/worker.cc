// The worker's loop: epoll, its listening sockets, accepting, adopting snapshots, and the
// worker's lifecycle. What happens on a connection is the exchange's (exchange.h); connection
// state is in connection.h, the keep-alive pool in upstream_pool.h, passive health in
// passive_health.h and the access log's per-worker buffering in access_log_buffer.h.
#include "balancer/worker.h"

#include "balancer/connection.h"
#include "balancer/endpoint.h"
#include "balancer/exchange.h"
#include "balancer/worker_clock.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace tide::balancer {

namespace {

// New connections accepted per listener before the worker polls again. Accepting the whole queue
// at once (30-40 connections under a connection-per-request load) held back the answers already
// waiting from targets, so the client side and tide took turns idling: with 8, `close` served
// 1.19x the connections per second at the same CPU per connection (docs/performance.md).
constexpr int kAcceptBatch = 8;

} // namespace

struct Worker::Impl {
  Impl(int index, WorkerOptions options, const SnapshotSource& source)
      : index_(index), options_(options), source_(source), exchange_(index, options_) {}

  ~Impl() {
    closeAll();
    if (wakeFd_ >= 0) {
      ::close(wakeFd_);
    }
    if (epfd_ >= 0) {
      ::close(epfd_);
    }
  }

  // Closes every socket (the loop has ended or never ran).
  void closeAll() {
    exchange_.closeAll();
    for (auto& l : listeners_) {
      ::close(l->fd);
    }
    listeners_.clear();
  }

  // ---- setup and loop -------------------------------------------------------------------------

  Status init() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wakeFd_ < 0) {
      return internalError(std::string("epoll/eventfd: ") + std::strerror(errno));
    }
    exchange_.setEpoll(epfd_);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = &wake_;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wakeFd_, &ev);
    auto current = source_.current();
    if (current) {
      return adopt(std::move(current));
    }
    return Status::ok();
  }

  void run() {
    epoll_event events[256];
    int64_t lastTick = exchange_.now() / TimerWheel::kTickMs;
    while (!stop_.load(std::memory_order_acquire)) {
      int timeout = acceptPending_ ? 0 : !exchange_.waitsForTime() ? -1 : int(TimerWheel::kTickMs);
      int n = epoll_wait(epfd_, events, 256, timeout);
      int64_t nowMs = monotonicMs();
      exchange_.setNow(nowMs);
      for (int i = 0; i < n; ++i) {
        auto* p = static_cast<Pollable*>(events[i].data.ptr);
        uint32_t ev = events[i].events;
        switch (p->kind) {
        case PollKind::Client:
          exchange_.onClientEvent(static_cast<ClientConn*>(p), ev);
          break;
        case PollKind::Upstream:
          exchange_.onUpstreamEvent(static_cast<UpstreamConn*>(p), ev);
          break;
        case PollKind::Listen:
          onAccept(static_cast<ListenSocket*>(p));
          break;
        case PollKind::Wake:
          onWake();
          break;
        }
      }
      if (acceptPending_) { // listeners that stopped at kAcceptBatch go on, after the events
        acceptPending_ = false;
        for (auto& ls : listeners_) {
          if (ls->acceptPending) {
            onAccept(ls.get());
          }
        }
      }
      int64_t tick = nowMs / TimerWheel::kTickMs;
      if (tick != lastTick) {
        lastTick = tick;
        exchange_.advanceTimers();
      }
      exchange_.endBatch();
    }
    closeAll();
    exchange_.handOverAccessLogs(true);
  }

  void notify() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wakeFd_, &one, sizeof one);
  }

  void onWake() {
    uint64_t v;
    [[maybe_unused]] ssize_t r = ::read(wakeFd_, &v, sizeof v);
    if (stop_.load(std::memory_order_acquire)) {
      return;
    }
    auto current = source_.current();
    if (current && current != config_) {
      Status st = adopt(std::move(current));
      if (!st.isOk()) {
        logWarn("balancer worker " + std::to_string(index_) + ": " + st.toString());
      }
    }
  }

  // Takes a new snapshot: opens and closes listeners, closes pooled connections to targets that
  // left or are draining. Connections keep their own snapshot until their next request.
  Status adopt(std::shared_ptr<const PreparedSnapshot> p) {
    config_ = std::move(p);
    exchange_.adopt(config_);
    Status result;
    for (size_t i = 0; i < listeners_.size();) {
      ListenSocket* ls = listeners_[i].get();
      ls->socketIndex = config_->findSocket(ls->endpoint);
      if (ls->socketIndex < 0) {
        ::close(ls->fd); // connections already accepted finish on their own
        listeners_.erase(listeners_.begin() + i);
      } else {
        ++i;
      }
    }
    for (size_t i = 0; i < config_->sockets.size(); ++i) {
      const PreparedSocket& socket = config_->sockets[i];
      bool have = false;
      for (auto& ls : listeners_) {
        have |= ls->endpoint == socket.endpoint;
      }
      if (have) {
        continue;
      }
      Status st = openListener(socket.endpoint, static_cast<int>(i));
      uint64_t key = (uint64_t(socket.endpoint.address) << 16) | socket.endpoint.port;
      if (st.isOk()) {
        sharedFailed_.erase(key);
      } else if (socket.sharedOnly) {
        // 127.0.0.1:port is a convenience: say once that it is taken, and go on without it.
        if (sharedFailed_.insert(key).second && index_ == 0) {
          logWarn("balancer: " + st.message() + "; its load balancers answer on their own " +
                  "addresses only");
        }
      } else if (result.isOk()) {
        result = st;
      }
    }
    return result;
  }

  Status openListener(const Endpoint& e, int socketIndex) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      return internalError(std::string("socket: ") + std::strerror(errno));
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    // Accept a connection once its first bytes are there: one wakeup less per connection.
    setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof one);
    // Accepted sockets inherit TCP_NODELAY from the listener: no setsockopt per connection.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(e.address);
    addr.sin_port = htons(e.port);
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 4096) != 0) {
      int err = errno;
      ::close(fd);
      return Status("ListenerBindFailed",
                    "cannot listen on " + formatEndpoint(e) + ": " + std::strerror(err));
    }
    auto ls = std::make_unique<ListenSocket>();
    ls->fd = fd;
    ls->endpoint = e;
    ls->socketIndex = socketIndex;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.ptr = ls.get();
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    listeners_.push_back(std::move(ls));
    return Status::ok();
  }

  // Accepts up to kAcceptBatch connections; the rest wait for the next turn of the loop, after
  // the events that are already there.
  void onAccept(ListenSocket* ls) {
    ls->acceptPending = false;
    for (int accepted = 0;; ++accepted) {
      if (accepted == kAcceptBatch) {
        ls->acceptPending = true;
        acceptPending_ = true;
        return;
      }
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      int fd =
          accept4(ls->fd, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) {
          continue;
        }
        if (errno == EMFILE || errno == ENFILE) {
          logWarn("balancer: out of file descriptors; connections wait in the backlog");
        }
        return;
      }
      if (ls->socketIndex < 0 || !config_) {
        ::close(fd);
        continue;
      }
      if (!exchange_.admit(*ls, ntohl(peer.sin_addr.s_addr))) {
        ::close(fd); // at the listener's or the client's bound, none idle: closed, counted
        continue;
      }
      exchange_.accept(fd, peer, *ls);
    }
  }

  // ---- state ----------------------------------------------------------------------------------

  int index_;
  WorkerOptions options_;
  const SnapshotSource& source_;
  int epfd_ = -1;
  int wakeFd_ = -1;
  Pollable wake_{PollKind::Wake};
  std::atomic<bool> stop_{false};
  std::shared_ptr<const PreparedSnapshot> config_; // the newest snapshot adopted
  std::vector<std::unique_ptr<ListenSocket>> listeners_;
  std::set<uint64_t> sharedFailed_; // shared-only endpoints that could not be bound (logged once)
  bool acceptPending_ = false;      // some listener stopped at kAcceptBatch: poll without waiting
  Exchange exchange_;               // everything on the request path
};

Worker::Worker(int index, WorkerOptions options, const SnapshotSource& source)
    : impl_(std::make_unique<Impl>(index, options, source)) {}
Worker::~Worker() = default;
Status Worker::init() {
  return impl_->init();
}
void Worker::run() {
  impl_->run();
}
void Worker::notify() {
  impl_->notify();
}
void Worker::requestStop() {
  impl_->stop_.store(true, std::memory_order_release);
  impl_->notify();
}

void Worker::addCounters(CountersSnapshot& out) const {
  impl_->exchange_.addCounters(out);
}

} // namespace tide::balancer
