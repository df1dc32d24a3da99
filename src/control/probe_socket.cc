#include "control/probe_socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tide::control {

int connectProbeSocket(uint32_t ip, uint16_t port, uint32_t source, std::string& error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  if (source != 0) {
    // From the load balancer's address; the port is chosen at connect.
    int one = 1;
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    from.sin_addr.s_addr = htonl(source);
    (void)::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
  }
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(ip);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 && errno != EINPROGRESS) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool ProbeBase::connectFailed() {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err == 0) {
    return false;
  }
  finish({CheckResult::Kind::Failed, 0, std::strerror(err)});
  return true;
}

void ProbeBase::finish(CheckResult r) {
  if (!done) {
    return;
  }
  if (timer != 0) {
    loop.cancel(timer);
    timer = 0;
  }
  if (fd >= 0) {
    loop.remove(fd);
    ::close(fd);
    fd = -1;
  }
  auto cb = std::move(done);
  done = nullptr;
  cb(std::move(r));
}

std::string probeAuthority(uint32_t ip, uint16_t port) {
  char host[INET_ADDRSTRLEN];
  in_addr a{htonl(ip)};
  inet_ntop(AF_INET, &a, host, sizeof host);
  return std::string(host) + ":" + std::to_string(port);
}

} // namespace tide::control
