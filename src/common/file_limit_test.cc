#include "common/file_limit.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

namespace tide {
namespace {

rlimit currentLimit() {
  rlimit l{};
  EXPECT_EQ(getrlimit(RLIMIT_NOFILE, &l), 0);
  return l;
}

TEST(FileLimitTest, RaisesTheSoftLimitToTheHardLimit) {
  rlimit before = currentLimit();
  if (before.rlim_max == RLIM_INFINITY || before.rlim_max <= 64) {
    GTEST_SKIP() << "needs a finite hard limit above 64";
  }
  // Lowering the soft limit is always allowed; the call must bring it back up.
  rlimit low{64, before.rlim_max};
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  Result<uint64_t> r = raiseOpenFileLimit();
  ASSERT_TRUE(r.isOk()) << r.status().toString();
  rlimit after = currentLimit();
  EXPECT_EQ(after.rlim_cur, before.rlim_max);
  EXPECT_EQ(after.rlim_max, before.rlim_max);
  EXPECT_EQ(*r, uint64_t(before.rlim_max));
}

TEST(FileLimitTest, AtTheHardLimitAlreadyChangesNothing) {
  ASSERT_TRUE(raiseOpenFileLimit().isOk());
  rlimit first = currentLimit();
  Result<uint64_t> again = raiseOpenFileLimit();
  ASSERT_TRUE(again.isOk());
  rlimit second = currentLimit();
  EXPECT_EQ(second.rlim_cur, first.rlim_cur);
  EXPECT_EQ(second.rlim_max, first.rlim_max);
}

} // namespace
} // namespace tide
