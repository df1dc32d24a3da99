// Socket helpers shared by the tests that run a real Balancer on 127.0.0.1 (balancer_test,
// desync_listener_test): loopback binding and connecting, socket timeouts, stopping a test
// server, bounded waits.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <mutex>
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
