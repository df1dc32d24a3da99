#include "runtime/peer_uid.h"

#include <gtest/gtest.h>

namespace tide::runtime {
namespace {

// As /proc/net/tcp prints them: a listener on 127.0.0.1:8080 (uid 0), a client socket
// 127.0.0.1:54321 → 127.0.0.1:8080 owned by uid 1000, and the server's accepted end (uid 0).
constexpr const char* kTcp =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout "
    "inode\n"
    "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
    "100 1 0 100 0 0 10 0\n"
    "   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 "
    "101 1 0 20 4 30 10 -1\n"
    "   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 "
    "102 1 0 20 4 30 10 -1\n";

TEST(PeerUid, TheClientsSocketOwnerIsFoundByItsLocalAddress) {
  EXPECT_EQ(socketOwnerIn(kTcp, "127.0.0.1:54321"), std::optional<uid_t>(1000));
  EXPECT_EQ(socketOwnerIn(kTcp, "127.0.0.1:54322"), std::nullopt);
  EXPECT_EQ(socketOwnerIn(kTcp, "127.0.0.2:54321"), std::nullopt);
  EXPECT_EQ(socketOwnerIn(kTcp, "not an address"), std::nullopt);
  EXPECT_EQ(socketOwnerIn(kTcp, "127.0.0.1:99999"), std::nullopt);
}

TEST(PeerUid, AmbiguousEntriesGiveNoAnswer) {
  std::string twice = std::string(kTcp) +
                      "   3: 0100007F:D431 0100007F:1F91 01 00000000:00000000 00:00000000 "
                      "00000000  1001        0 103 1 0 20 4 30 10 -1\n";
  EXPECT_EQ(socketOwnerIn(twice, "127.0.0.1:54321"), std::nullopt);
}

TEST(PeerUid, Ipv6Loopback) {
  constexpr const char* kTcp6 =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:D431 00000000000000000000000001000000:1F90 01 "
      "00000000:00000000 00:00000000 00000000   500        0 200 1 0 20 4 30 10 -1\n";
  EXPECT_EQ(socketOwnerIn(kTcp6, "[::1]:54321"), std::optional<uid_t>(500));
}

} // namespace
} // namespace tide::runtime
