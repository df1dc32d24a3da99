#include "common/clock.h"

#include <gtest/gtest.h>

namespace tide {
namespace {

TEST(FormatIso8601Test, Epoch) {
  EXPECT_EQ(formatIso8601(0), "1970-01-01T00:00:00.000Z");
}

TEST(FormatIso8601Test, KnownInstantWithMillis) {
  // 2023-11-14T22:13:20Z is 1'700'000'000 s after the epoch.
  EXPECT_EQ(formatIso8601(1'700'000'000'000), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(formatIso8601(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(formatIso8601(1'700'000'000'007), "2023-11-14T22:13:20.007Z");
}

TEST(FormatIso8601Test, LeapDay) {
  // 2024-02-29T12:00:00Z
  EXPECT_EQ(formatIso8601(1'709'208'000'000), "2024-02-29T12:00:00.000Z");
}

TEST(FormatIso8601Test, BeforeEpoch) {
  EXPECT_EQ(formatIso8601(-1), "1969-12-31T23:59:59.999Z");
}

TEST(VirtualClockTest, StartsWhereToldAndMovesOnlyWhenTold) {
  VirtualClock clock(1'000);
  EXPECT_EQ(clock.now(), 1'000);
  EXPECT_EQ(clock.now(), 1'000);
  clock.advance(Millis(250));
  EXPECT_EQ(clock.now(), 1'250);
  clock.advance(std::chrono::seconds(2));
  EXPECT_EQ(clock.now(), 3'250);
  clock.set(10);
  EXPECT_EQ(clock.now(), 10);
}

TEST(VirtualClockTest, DefaultStartAndInterface) {
  VirtualClock clock;
  const Clock& c = clock;
  EXPECT_EQ(c.now(), 1'700'000'000'000);
  EXPECT_EQ(formatIso8601(c.now()), "2023-11-14T22:13:20.000Z");
}

TEST(RealClockTest, IsAfter2020) {
  RealClock clock;
  EXPECT_GT(clock.now(), 1'577'836'800'000); // 2020-01-01
}

} // namespace
} // namespace tide

namespace tide {
namespace {
TEST(ParseTimestamp, Iso8601AndEpochSeconds) {
  EXPECT_EQ(parseTimestamp("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(parseTimestamp("2026-11-27T21:18:13.250Z"),
            *parseTimestamp("2026-11-27T21:18:13Z") + 250);
  EXPECT_EQ(parseTimestamp("2026-11-27T22:18:13+01:00"), parseTimestamp("2026-11-27T21:18:13Z"));
  EXPECT_EQ(parseTimestamp("1700000000"), 1700000000000LL);
  EXPECT_EQ(parseTimestamp(formatIso8601(1700000000123LL)), 1700000000123LL);
  EXPECT_FALSE(parseTimestamp("yesterday"));
  EXPECT_FALSE(parseTimestamp("2026-13-01T00:00:00Z"));
  EXPECT_FALSE(parseTimestamp("2026-11-27T21:18:13Zjunk"));
}
} // namespace
} // namespace tide
