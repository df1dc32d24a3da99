// Socket helpers shared by the tests that run a real Balancer on 127.0.0.1 (balancer_test,
// desync_listener_test, tunnel_test, https_test, h2_listener_test): loopback binding and
// connecting, socket timeouts, a thread-per-connection test server, bounded waits.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tide::balancer::test_net {

constexpr uint32_t kLoopback = 0x7f000001;

inline void setTimeouts(int fd, int ms = 5000) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Binds `fd` to an ephemeral port on 127.0.0.1 and returns that port (host order).
inline uint16_t bindLoopback(int fd) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(kLoopback);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

// A port held by a bound (not listening) SO_REUSEPORT socket, which the balancer's listeners
// join; it receives no connections itself.
struct ReservedPort {
  int fd = -1;
  uint16_t port = 0;
  ReservedPort() {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    port = bindLoopback(fd);
  }
  ~ReservedPort() { close(fd); }
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;
};

// Connects `fd` to 127.0.0.1:`port`; true on success.
inline bool connectLoopback(int fd, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(kLoopback);
  a.sin_port = htons(port);
  return connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
}

// Stops a thread-per-connection server: ends its accept loop (blocked in accept on
// `listenFd`), closes the listening socket, then shuts every connection down and joins the
// threads serving them.
inline void stopServer(int listenFd, std::thread& acceptor, std::mutex& mu,
                       const std::vector<int>& conns, std::vector<std::thread>& threads) {
  shutdown(listenFd, SHUT_RDWR);
  acceptor.join();
  close(listenFd);
  std::vector<std::thread> serving;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (int c : conns) {
      shutdown(c, SHUT_RDWR);
    }
    serving.swap(threads);
  }
  for (auto& t : serving) {
    t.join();
  }
}

// A thread-per-connection server on 127.0.0.1 (an ephemeral port): `serve` runs on a thread of
// its own for each accepted connection (10 s socket timeouts) and may return at any time (the
// connection is closed when the server stops). Declare it after what `serve` uses: the
// destructor stops the server and joins every thread first.
class ThreadedServer {
public:
  explicit ThreadedServer(std::function<void(int fd)> serve) : serve_(std::move(serve)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    port_ = bindLoopback(fd_);
    listen(fd_, 64);
    acceptor_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) {
          return;
        }
        setTimeouts(c, 10000);
        std::lock_guard<std::mutex> lock(mu_);
        conns_.push_back(c);
        threads_.emplace_back([this, c] { serve_(c); });
      }
    });
  }
  ~ThreadedServer() {
    stopServer(fd_, acceptor_, mu_, conns_, threads_);
    for (int c : conns_) {
      close(c);
    }
  }
  ThreadedServer(const ThreadedServer&) = delete;
  ThreadedServer& operator=(const ThreadedServer&) = delete;
  uint16_t port() const { return port_; }

private:
  std::function<void(int fd)> serve_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
};

// Appends what one recv(2) on `fd` gives to `buf`; false at EOF, an error or a timeout.
inline bool recvAppend(int fd, std::string& buf) {
  char tmp[65536];
  ssize_t n = recv(fd, tmp, sizeof tmp, 0);
  if (n <= 0) {
    return false;
  }
  buf.append(tmp, size_t(n));
  return true;
}

// Reads from `fd` until `buf` holds a whole head (up to the blank line): returns it, removed
// from `buf` (what came after it stays), or nullopt at EOF, an error or a timeout.
inline std::optional<std::string> readHead(int fd, std::string& buf) {
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!recvAppend(fd, buf)) {
      return std::nullopt;
    }
  }
  std::string head = buf.substr(0, end + 4);
  buf.erase(0, end + 4);
  return head;
}

// Polls `f` every 2 ms until it holds or `ms` milliseconds have passed.
template <typename F> bool waitFor(F&& f, int ms = 5000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!f()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

} // namespace tide::balancer::test_net
