// The plain HTTP/1.1 backend of the tests that run a real Balancer over TLS (https_test,
// h2_listener_test): keep-alive, every request answered 200 with what shows what reached it.
#pragma once

#include "balancer/endpoint.h"
#include "balancer/test_net.h"

#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace tide::balancer::test_net {

// Answers each request head with its own text as the body (so a test sees what reached the
// target); POST: the body's length and a checksum of its bytes ("<length> <sum>"); GET /big:
// `bigBytes` bytes of a pattern; GET /slow: after 300 ms (so that later requests on other
// connections finish first); an upgrade to websocket: 101, then an echo of every byte.
class EchoBackend {
public:
  size_t bigBytes = 300000;
  std::atomic<int> heads{0}; // request heads received

  Endpoint endpoint() const { return Endpoint{kLoopback, server_.port()}; }

  // The checksum POST answers with.
  static uint64_t checksum(const std::string& bytes) {
    uint64_t sum = 0;
    for (char c : bytes) {
      sum = sum * 31 + uint8_t(c);
    }
    return sum;
  }

private:
  void serve(int fd) {
    std::string buf;
    char tmp[65536];
    for (;;) {
      auto head = readHead(fd, buf);
      if (!head) {
        return;
      }
      heads++;
      if (head->find("Upgrade: websocket") != std::string::npos) {
        std::string out = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\n\r\n" +
                          buf;
        send(fd, out.data(), out.size(), MSG_NOSIGNAL);
        for (;;) {
          ssize_t n = recv(fd, tmp, sizeof tmp, 0);
          if (n <= 0 || send(fd, tmp, size_t(n), MSG_NOSIGNAL) != n) {
            break;
          }
        }
        shutdown(fd, SHUT_WR);
        return;
      }
      std::string body = *head;
      if (head->starts_with("POST ")) {
        std::string lower = *head;
        for (char& ch : lower) {
          ch = char(std::tolower(static_cast<unsigned char>(ch)));
        }
        size_t cl = lower.find("content-length: ");
        size_t length = cl == std::string::npos ? 0 : std::stoul(head->substr(cl + 16));
        while (buf.size() < length) {
          ssize_t n = recv(fd, tmp, sizeof tmp, 0);
          if (n <= 0) {
            return;
          }
          buf.append(tmp, size_t(n));
        }
        body = std::to_string(length) + " " + std::to_string(checksum(buf.substr(0, length)));
        buf.erase(0, length);
      }
      if (head->starts_with("GET /slow ")) {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
      if (head->starts_with("GET /big ")) {
        body.resize(bigBytes);
        for (size_t i = 0; i < bigBytes; ++i) {
          body[i] = char('a' + i % 26);
        }
      }
      std::string out =
          "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
      if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) != ssize_t(out.size())) {
        return;
      }
    }
  }

  ThreadedServer server_{[this](int fd) { serve(fd); }}; // last: stopped first
};

} // namespace tide::balancer::test_net
