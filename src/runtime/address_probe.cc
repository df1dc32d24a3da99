#include "runtime/address_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace tide::runtime {

bool addressFree(const std::string& ip, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (port <= 0 || port > 65535 || ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    return true;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return true;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bool inUse =
      ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno == EADDRINUSE;
  ::close(fd);
  return !inUse;
}

bool addressUnused(const std::string& ip) {
  in_addr a{};
  if (::inet_pton(AF_INET, ip.c_str(), &a) != 1) {
    return true;
  }
  // /proc/net/tcp prints the address as the 32-bit word in memory, in hex: "0100027F:0050".
  char want[16];
  std::snprintf(want, sizeof want, "%08X:", a.s_addr);
  std::ifstream table("/proc/net/tcp");
  std::string line;
  while (std::getline(table, line)) {
    // "  12: 0100027F:0050 00000000:0000 0A ...": slot, local, remote, state. Listening (0A) and
    // bound, unconnected (07) sockets hold the address; connections ending (TIME_WAIT) do not.
    std::istringstream fields(line);
    std::string slot, local, remote, state;
    if (fields >> slot >> local >> remote >> state && local.compare(0, 9, want) == 0 &&
        (state == "0A" || state == "07")) {
      return false;
    }
  }
  return true;
}

Status canListen(const std::string& ip, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string where = ip + ":" + std::to_string(port);
  if (port <= 0 || port > 65535 || ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    return Status("InvalidConfigurationRequest",
                  "Cannot listen on " + where + ": not an IPv4 address and port 1..65535");
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return internalError("socket: " + std::string(std::strerror(errno)));
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  int err = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 ? 0 : errno;
  ::close(fd);
  switch (err) {
  case 0:
    return Status::ok();
  case EACCES:
  case EPERM:
    return Status("InvalidConfigurationRequest",
                  "Cannot listen on " + where + ": port " + std::to_string(port) +
                      " is a privileged port (below 1024), and this tide server runs without "
                      "root and without CAP_NET_BIND_SERVICE (uid " +
                      std::to_string(::geteuid()) +
                      "). Use a port of 1024 or above, or run tide server as root or with "
                      "CAP_NET_BIND_SERVICE");
  case EADDRINUSE:
    return Status("InvalidConfigurationRequest",
                  "Cannot listen on " + where + ": another program listens there");
  case EADDRNOTAVAIL:
    return Status("InvalidConfigurationRequest",
                  "Cannot listen on " + where + ": the address is not on this host");
  default:
    return Status("InvalidConfigurationRequest",
                  "Cannot listen on " + where + ": " + std::strerror(err));
  }
}

} // namespace tide::runtime
