// Test support: a raw target that judges, from the backend's side, what a load balancer
// forwards (desync_listener_test, rfc9112_table_test). It reads each connection's bytes as a
// strict RFC 9112 server does (http1::parseRequestHeadStrict, then the body by its framing) and
// counts the well-framed requests it gets, answering 200 to each. Bytes that do not read as a
// well-framed request are counted as ill-framed (and the connection closed): a request
// smuggled past the balancer, or one the backend would read differently, shows there. A
// request cut off by the balancer closing the connection is counted as truncated (a backend
// drops it unprocessed).
//
// Also a client connection that can bind a source address (127.0.0.x) before connecting, and a
// balancer with one listener before one target.
#pragma once

#include "balancer/balancer.h"
#include "balancer/endpoint.h"
#include "balancer/test_net.h"
#include "http1/chunked.h"
#include "http1/parser.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tide::balancer::testing {

class RawBackend {
public:
  RawBackend() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    port_ = test_net::bindLoopback(fd_);
    listen(fd_, 256);
    acceptor_ = std::thread([this] {
      for (int c; (c = accept(fd_, nullptr, nullptr)) >= 0;) {
        std::lock_guard<std::mutex> lock(mu_);
        int id = accepts_++;
        conns_.push_back(c);
        threads_.emplace_back([this, c, id] { serve(c, id); });
      }
    });
  }
  ~RawBackend() { test_net::stopServer(fd_, acceptor_, mu_, conns_, threads_); }
  RawBackend(const RawBackend&) = delete;
  RawBackend& operator=(const RawBackend&) = delete;

  Endpoint endpoint() const { return {test_net::kLoopback, port_}; }

  // The heads of the well-framed requests received, in order.
  std::vector<std::string> heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }
  size_t requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_.size();
  }
  // Bytes that were not a well-framed request (each piece as received), and requests cut off.
  std::vector<std::string> illFramed() {
    std::lock_guard<std::mutex> lock(mu_);
    return illFramed_;
  }
  size_t truncated() {
    std::lock_guard<std::mutex> lock(mu_);
    return truncated_;
  }
  // Whether the connection that received the last request has been closed by the balancer.
  bool lastConnectionClosed() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(closedIds_.begin(), closedIds_.end(), lastConnection_) != closedIds_.end();
  }

private:
  void serve(int fd, int id) {
    std::string buf;
    auto fill = [&] {
      char tmp[65536];
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n > 0) {
        buf.append(tmp, size_t(n));
      }
      return n > 0;
    };
    auto finish = [&](bool cut) {
      std::lock_guard<std::mutex> lock(mu_);
      truncated_ += cut;
      closedIds_.push_back(id);
      shutdown(fd, SHUT_RDWR);
    };
    auto head = std::make_unique<http1::MessageHead>();
    for (;;) {
      http1::HeadError error = http1::HeadError::None;
      http1::ParseStatus st =
          http1::parseRequestHeadStrict(buf.data(), buf.size(), 64 * 1024, *head, &error);
      if (st == http1::ParseStatus::Incomplete) {
        if (!fill()) {
          return finish(!buf.empty());
        }
        continue;
      }
      if (st != http1::ParseStatus::Complete) {
        std::lock_guard<std::mutex> lock(mu_);
        illFramed_.push_back(buf + " (" + std::string(http1::headErrorText(error)) + ")");
        closedIds_.push_back(id);
        shutdown(fd, SHUT_RDWR);
        return;
      }
      std::string headBytes = buf.substr(0, head->length);
      buf.erase(0, head->length);
      if (head->framing == http1::BodyFraming::Chunked) {
        http1::ChunkedDecoder chunks;
        for (;;) {
          size_t used = 0;
          auto r = chunks.scan(buf.data(), buf.size(), &used);
          if (r == http1::ChunkedDecoder::Result::Done) {
            buf.erase(0, used);
            break;
          }
          if (r != http1::ChunkedDecoder::Result::NeedMore) {
            std::lock_guard<std::mutex> lock(mu_);
            illFramed_.push_back(headBytes + buf + " (chunked body)");
            closedIds_.push_back(id);
            shutdown(fd, SHUT_RDWR);
            return;
          }
          buf.clear();
          if (!fill()) {
            return finish(true);
          }
        }
      } else if (head->framing == http1::BodyFraming::ContentLength) {
        while (buf.size() < head->contentLength) {
          if (!fill()) {
            return finish(true);
          }
        }
        buf.erase(0, head->contentLength);
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        heads_.push_back(headBytes);
        lastConnection_ = id;
      }
      std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
      send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    }
  }

  int fd_;
  uint16_t port_;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> threads_;
  std::vector<std::string> heads_;
  std::vector<std::string> illFramed_;
  size_t truncated_ = 0;
  int accepts_ = 0;
  int lastConnection_ = -1;
  std::vector<int> closedIds_;
};

// A blocking client connection to 127.0.0.1:port from `source` (127.0.0.x, host order).
class ClientConnection {
public:
  explicit ClientConnection(uint16_t port, uint32_t source = test_net::kLoopback,
                            int timeoutMs = 5000) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    test_net::setTimeouts(fd_, timeoutMs);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(source);
    bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
    connected_ = test_net::connectLoopback(fd_, port);
  }
  ~ClientConnection() { close(fd_); }
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  // Reads one response (Content-Length framed; `toHead`: the answer to a HEAD, without a body);
  // its status, or 0 when none came.
  int response(bool toHead = false) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) {
        return 0;
      }
    }
    std::string head = buf_.substr(0, end + 4);
    buf_.erase(0, end + 4);
    size_t length = 0;
    for (size_t p = 0, e; (e = head.find("\r\n", p)) != std::string::npos && e != p; p = e + 2) {
      std::string line = head.substr(p, e - p);
      std::string name = line.substr(0, line.find(':'));
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      if (name == "content-length") {
        length = std::stoul(line.substr(line.find(':') + 1));
      }
    }
    if (toHead) {
      length = 0;
    }
    while (buf_.size() < length && fill()) {
    }
    buf_.erase(0, std::min(length, buf_.size()));
    return head.size() > 12 ? std::stoi(head.substr(9, 3)) : 0;
  }
  int exchange(const std::string& bytes) {
    send(bytes);
    return response(bytes.compare(0, 5, "HEAD ") == 0);
  }
  // Whether the peer has closed the connection (EOF or reset) with nothing more to read.
  bool closedByPeer() {
    char c;
    ssize_t n = recv(fd_, &c, 1, 0);
    return buf_.empty() && (n == 0 || (n < 0 && errno == ECONNRESET));
  }
  // Without waiting: whether the peer has closed the connection (EOF or reset).
  bool closedNow() {
    char c;
    ssize_t n = recv(fd_, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

private:
  bool fill() {
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, size_t(n));
    }
    return n > 0;
  }
  int fd_;
  bool connected_ = false;
  std::string buf_;
};

// A Balancer with one listener on 127.0.0.1 (an ephemeral port) before one routable target.
class OneTargetListener {
public:
  ~OneTargetListener() { stop(); }

  // Starts it; `configure` sets the load balancer's attributes first. True when it runs.
  bool start(const Endpoint& target, const std::function<void(LoadBalancer&)>& configure = {},
             const BalancerOptions& options = {}) {
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(probe, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    port_ = test_net::bindLoopback(probe);
    reserved_ = probe; // held (bound, not listening) while the balancer joins the port
    auto s = std::make_shared<Snapshot>();
    s->version = 1;
    TargetGroup g;
    g.name = "tg";
    g.targets.push_back(Target{"t0", target, 0, TargetState::Routable});
    s->targetGroups.push_back(g);
    LoadBalancer lb;
    lb.name = "lb";
    if (configure) {
      configure(lb);
    }
    Listener l;
    l.endpoint = Endpoint{test_net::kLoopback, port_};
    lb.listeners.push_back(l);
    s->loadBalancers.push_back(lb);
    balancer_ = std::make_unique<Balancer>(options);
    return balancer_->apply(s).isOk() && balancer_->start().isOk();
  }
  void stop() {
    if (balancer_) {
      balancer_->stop();
      balancer_.reset();
    }
    if (reserved_ >= 0) {
      close(reserved_);
      reserved_ = -1;
    }
  }
  uint16_t port() const { return port_; }
  Balancer& balancer() { return *balancer_; }

private:
  std::unique_ptr<Balancer> balancer_;
  int reserved_ = -1;
  uint16_t port_ = 0;
};

} // namespace tide::balancer::testing
