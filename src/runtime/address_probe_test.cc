// The probes on real sockets of 127.2.0.0/16: an address something is bound to is not unused,
// a port another program holds cannot be listened on, and (as root, dropping privileges in a
// child) a port below 1024 without CAP_NET_BIND_SERVICE is refused with a message that says so.
#include "runtime/address_probe.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace tide::runtime {
namespace {

// A TCP socket bound to ip (port 0: any free one), listening when `listen`; its port.
struct BoundSocket {
  int fd = -1;
  int port = 0;
  BoundSocket(const char* ip, bool listening) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, ip, &a.sin_addr);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0) << std::strerror(errno);
    if (listening) {
      EXPECT_EQ(::listen(fd, 1), 0);
    }
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~BoundSocket() { ::close(fd); }
};

TEST(AddressProbe, AnAddressWithABoundSocketIsNotUnused) {
  EXPECT_TRUE(addressUnused("127.2.251.7"));
  {
    BoundSocket s("127.2.251.7", true);
    EXPECT_FALSE(addressUnused("127.2.251.7"));
    EXPECT_TRUE(addressUnused("127.2.251.8"));
  }
  EXPECT_TRUE(addressUnused("127.2.251.7"));
  EXPECT_TRUE(addressUnused("not an address"));
}

TEST(AddressProbe, CanListenOnAFreePortButNotOnOneAnotherProgramHolds) {
  BoundSocket other("127.2.251.9", true); // without SO_REUSEPORT, as another program's
  Status held = canListen("127.2.251.9", other.port);
  EXPECT_EQ(held.code(), "InvalidConfigurationRequest");
  EXPECT_NE(held.message().find("another program listens there"), std::string::npos)
      << held.message();
  EXPECT_NE(held.message().find("127.2.251.9:" + std::to_string(other.port)), std::string::npos);
  EXPECT_TRUE(canListen("127.2.251.10", other.port).isOk());
  EXPECT_EQ(canListen("127.2.251.10", 0).code(), "InvalidConfigurationRequest");
  EXPECT_EQ(canListen("10.255.255.1", 8080).code(), "InvalidConfigurationRequest"); // not here
}

TEST(AddressProbe, PrivilegedPortWithoutRootOrCapabilityIsRefusedSayingWhy) {
  if (::geteuid() != 0) {
    Status s = canListen("127.2.251.11", 80);
    if (s.isOk()) {
      GTEST_SKIP() << "this host lets unprivileged users bind port 80";
    }
    EXPECT_NE(s.message().find("privileged port"), std::string::npos) << s.message();
    return;
  }
  EXPECT_TRUE(canListen("127.2.251.11", 80).isOk()); // root may
  int pipeFd[2];
  ASSERT_EQ(::pipe(pipeFd), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Becoming nobody drops every capability (no keep-caps): as a server run by a user.
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(2);
    }
    Status s = canListen("127.2.251.11", 80);
    std::string text = s.code() + "|" + s.message();
    [[maybe_unused]] ssize_t w = ::write(pipeFd[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(pipeFd[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(pipeFd[0], buf, sizeof buf)) > 0;) {
    got.append(buf, size_t(n));
  }
  ::close(pipeFd[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(got.substr(0, got.find('|')), "InvalidConfigurationRequest") << got;
  EXPECT_NE(got.find("port 80 is a privileged port"), std::string::npos) << got;
  EXPECT_NE(got.find("CAP_NET_BIND_SERVICE"), std::string::npos) << got;
}

} // namespace
} // namespace tide::runtime
