// The host-wide address registry on a file in a temporary folder: two servers get different
// blocks, a data directory gets its block back after a restart, claims of servers that are gone
// are released or taken over, and the default liveness test reads pids and /proc/locks.
#include "runtime/address_registry.h"

#include "runtime/test_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

namespace tide::runtime {
namespace {

using testing::readText;
using testing::TempDir;
namespace fs = std::filesystem;

class AddressRegistryTest : public ::testing::Test {
protected:
  // A registry object as the server with `pid` would have it; only pids in live_ run.
  AddressRegistry server(int pid) {
    AddressRegistryOptions o;
    o.path = tmp_ / "run/address-ranges";
    o.pid = pid;
    o.inUse = [this](const AddressClaim& c) { return live_.count(c.pid) != 0; };
    return AddressRegistry(o);
  }
  std::string dataDir(const std::string& name) {
    std::string d = tmp_ / name;
    fs::create_directories(d);
    return d;
  }
  std::string file() { return readText(tmp_ / "run/address-ranges"); }

  TempDir tmp_;
  std::set<int> live_;
};

TEST_F(AddressRegistryTest, TwoServersClaimDifferentBlocks) {
  live_ = {100, 200};
  const std::string a = dataDir("a"), b = dataDir("b");
  auto first = server(100).claim(a, {});
  ASSERT_TRUE(first.isOk()) << first.status().toString();
  EXPECT_EQ(*first, std::vector<int>{0});
  auto second = server(200).claim(b, {});
  ASSERT_TRUE(second.isOk()) << second.status().toString();
  EXPECT_EQ(*second, std::vector<int>{1});
  EXPECT_EQ(file(), "0 100 " + a + "\n1 200 " + b + "\n");
  // Claiming again changes nothing.
  EXPECT_EQ(*server(100).claim(a, {}), std::vector<int>{0});
  EXPECT_EQ(file(), "0 100 " + a + "\n1 200 " + b + "\n");
  // One more block goes to the lowest unclaimed.
  EXPECT_EQ(*server(100).claimAnother(a), 2);
  EXPECT_EQ(*server(100).claim(a, {}), (std::vector<int>{0, 2}));
}

TEST_F(AddressRegistryTest, TheSameDataDirectoryGetsItsBlocksBackAfterARestart) {
  live_ = {100, 200};
  const std::string a = dataDir("a"), b = dataDir("b");
  ASSERT_TRUE(server(100).claim(a, {}).isOk());
  ASSERT_TRUE(server(200).claim(b, {}).isOk());
  ASSERT_TRUE(server(100).claimAnother(a).isOk());
  live_ = {200, 300}; // a's server stopped; the next one on a has pid 300
  auto again = server(300).claim(a, {});
  ASSERT_TRUE(again.isOk());
  EXPECT_EQ(*again, (std::vector<int>{0, 2}));
  EXPECT_EQ(file(), "0 300 " + a + "\n1 200 " + b + "\n2 300 " + a + "\n");
}

TEST_F(AddressRegistryTest, WantedBlocksAreTakenUnlessALiveServerHoldsThem) {
  live_ = {100, 200};
  const std::string a = dataDir("a"), b = dataDir("b");
  ASSERT_TRUE(server(100).claim(a, {}).isOk()); // block 0
  // b's instances already have addresses in blocks 0 (held by a) and 5 (free).
  auto held = server(200).claim(b, {0, 5});
  ASSERT_TRUE(held.isOk());
  EXPECT_EQ(*held, std::vector<int>{5});
}

TEST_F(AddressRegistryTest, ClaimsOfServersThatAreGone) {
  const std::string a = dataDir("a"), b = dataDir("b"), c = dataDir("c");
  const std::string removed = dataDir("removed");
  live_ = {100, 200, 300};
  ASSERT_EQ(*server(100).claim(a, {}), std::vector<int>{0});
  ASSERT_EQ(*server(200).claim(removed, {}), std::vector<int>{1});
  live_ = {300}; // both servers are gone; `removed` is deleted, `a` is still there
  fs::remove_all(removed);
  // The released block (its data directory is gone) is free again; the stale one is not
  // taken while unclaimed blocks are left.
  EXPECT_EQ(*server(300).claim(c, {}), std::vector<int>{1});
  EXPECT_EQ(file(), "0 100 " + a + "\n1 300 " + c + "\n");
  // Every other block held by live servers: the stale claim is taken over.
  for (int block = 2; block < kAddressBlocks; ++block) {
    int pid = 1000 + block;
    live_.insert(pid);
    ASSERT_EQ(*server(pid).claim(dataDir("s" + std::to_string(block)), {}),
              std::vector<int>{block});
  }
  EXPECT_EQ(*server(400).claim(b, {}), std::vector<int>{0});
  live_.insert(400);
  // Now nothing is left.
  auto none = server(500).claim(dataDir("late"), {});
  ASSERT_FALSE(none.isOk());
  EXPECT_EQ(none.status().code(), "InsufficientFreeAddressesInSubnet");
  auto more = server(400).claimAnother(b);
  ASSERT_FALSE(more.isOk());
  EXPECT_EQ(more.status().code(), "InsufficientFreeAddressesInSubnet");
}

TEST_F(AddressRegistryTest, ReleaseAndTornLines) {
  live_ = {100};
  const std::string a = dataDir("a");
  ASSERT_TRUE(server(100).claim(a, {}).isOk());
  // A torn write leaves a partial line: it is dropped, the rest is kept.
  testing::writeFile(tmp_ / "run/address-ranges", "0 100 " + a + "\n7 12");
  auto claims = server(100).claims();
  ASSERT_TRUE(claims.isOk());
  ASSERT_EQ(claims->size(), 1u);
  EXPECT_EQ((*claims)[0].dataDir, a);
  ASSERT_TRUE(server(100).release(a).isOk());
  EXPECT_EQ(file(), "");
  EXPECT_FALSE(server(100).claim("bad\npath", {}).isOk());
}

TEST(AddressClaimInUse, PidsAndDataDirectoryLocks) {
  TempDir tmp;
  // This process is alive.
  EXPECT_TRUE(claimInUse(AddressClaim{0, static_cast<int>(getpid()), tmp.path()}));
  // A child that has exited and been reaped is not.
  pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  AddressClaim gone{0, static_cast<int>(child), tmp.path()};
  EXPECT_FALSE(claimInUse(gone));
  // Unless a server holds the data directory's lock (it started and has not claimed yet).
  int fd = open((tmp / "server.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_TRUE(claimInUse(gone));
  close(fd);
  EXPECT_FALSE(claimInUse(gone));
}

} // namespace
} // namespace tide::runtime
