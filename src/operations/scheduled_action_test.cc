// Scheduled actions' recurrences (cron parsing, the next run in UTC and in a time zone across
// DST changes) and the rules of their fields. The controller that runs them is tested in
// control/scheduled_action_controller_test.cc.
#include "common/status_testing.h"
#include "operations/cron_schedule.h"
#include "operations/scheduled_action.h"

#include <gtest/gtest.h>

namespace tide::operations {
namespace {

TimeMs at(const char* iso) {
  return *parseTimestamp(iso);
}

std::string next(const char* cron, const char* after, const std::string& zone = "") {
  auto c = parseCron(cron);
  EXPECT_TRUE(c.isOk()) << c.status().toString();
  auto t = nextCronTime(*c, zone, at(after));
  return t ? formatIso8601(*t) : "never";
}

TEST(CronSchedule, ParsesFieldsListsRangesStepsAndNames) {
  auto c = parseCron("*/15 9-17 * JAN,jul-Sep mon-FRI");
  ASSERT_OK(c.status());
  EXPECT_EQ(c->minutes.count(), 4u);
  EXPECT_TRUE(c->minutes[45]);
  EXPECT_EQ(c->hours.count(), 9u);
  EXPECT_TRUE(c->months[1] && c->months[7] && c->months[9] && !c->months[10]);
  EXPECT_TRUE(c->daysOfWeek[1] && c->daysOfWeek[5] && !c->daysOfWeek[0]);
  EXPECT_TRUE(c->dayOfMonthStar);
  auto sunday = parseCron("0 0 * * 7");
  ASSERT_OK(sunday.status());
  EXPECT_TRUE(sunday->daysOfWeek[0]);
  auto stepFrom = parseCron("5/20 0 1 1 *");
  ASSERT_OK(stepFrom.status());
  EXPECT_EQ(stepFrom->minutes.count(), 3u); // 5, 25, 45
}

TEST(CronSchedule, RefusesWhatAutoScalingRefuses) {
  for (const char* bad : {"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                          "* * 32 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *",
                          "* * * FOO *", "a * * * *", "1,,2 * * * *", "* * * * MON-"}) {
    auto c = parseCron(bad);
    EXPECT_FALSE(c.isOk()) << bad;
    if (!c.isOk()) {
      EXPECT_EQ(c.status().code(), "ValidationError") << bad;
    }
  }
}

TEST(CronSchedule, NextRunInUtc) {
  EXPECT_EQ(next("0 18 * * *", "2026-12-06T17:59:59Z"), "2026-12-06T18:00:00.000Z");
  EXPECT_EQ(next("0 18 * * *", "2026-12-06T18:00:00Z"), "2026-12-07T18:00:00.000Z"); // strictly
  EXPECT_EQ(next("*/5 * * * *", "2026-12-06T18:01:30Z"), "2026-12-06T18:05:00.000Z");
  EXPECT_EQ(next("30 0 1 1,6,12 *", "2026-12-06T00:00:00Z"), "2027-01-01T00:30:00.000Z");
  EXPECT_EQ(next("0 9 * * MON-FRI", "2026-12-05T10:00:00Z"), "2026-12-07T09:00:00.000Z"); // Sat
  EXPECT_EQ(next("0 0 29 2 *", "2026-03-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
  // Both day fields restricted: either matches (1st of the month, or a Friday).
  EXPECT_EQ(next("0 0 1 * FRI", "2026-12-06T00:00:00Z"), "2026-12-11T00:00:00.000Z");
  EXPECT_EQ(next("0 0 31 2 *", "2026-12-06T00:00:00Z"), "never");
}

TEST(CronSchedule, NextRunInATimeZoneFollowsDst) {
  const std::string ny = "America/New_York";
  // Winter: 09:00 EST is 14:00Z; summer: 09:00 EDT is 13:00Z. 2027's change is March 14.
  EXPECT_EQ(next("0 9 * * *", "2027-03-13T00:00:00Z", ny), "2027-03-13T14:00:00.000Z");
  EXPECT_EQ(next("0 9 * * *", "2027-03-13T14:00:00Z", ny), "2027-03-14T13:00:00.000Z");
  // 02:30 does not happen on March 14 (02:00 EST → 03:00 EDT): it runs as the clocks pass it.
  EXPECT_EQ(next("30 2 * * *", "2027-03-13T12:00:00Z", ny), "2027-03-14T07:30:00.000Z");
  EXPECT_EQ(next("30 2 * * *", "2027-03-14T07:30:00Z", ny), "2027-03-15T06:30:00.000Z");
  // 01:30 happens twice on November 7 2027 (EDT, then EST): it runs once, at the first.
  EXPECT_EQ(next("30 1 * * *", "2027-11-06T12:00:00Z", ny), "2027-11-07T05:30:00.000Z");
  EXPECT_EQ(next("30 1 * * *", "2027-11-07T05:30:00Z", ny), "2027-11-08T06:30:00.000Z");
  // Every 30 minutes across the spring change: 01:30 EST, then 03:00 EDT.
  EXPECT_EQ(next("*/30 * * * *", "2027-03-14T06:30:00Z", ny), "2027-03-14T07:00:00.000Z");
  EXPECT_EQ(next("0 9 * * *", "2026-12-06T00:00:00Z", "Asia/Kolkata"), "2026-12-06T03:30:00.000Z");
  EXPECT_EQ(next("0 9 * * *", "2026-12-06T00:00:00Z", "UTC"), "2026-12-06T09:00:00.000Z");
}

TEST(CronSchedule, KnowsTheTzDatabase) {
  EXPECT_TRUE(isTimeZone("America/New_York"));
  EXPECT_TRUE(isTimeZone("Etc/GMT+5"));
  EXPECT_TRUE(isTimeZone("UTC"));
  EXPECT_FALSE(isTimeZone("Mars/Olympus_Mons"));
  EXPECT_FALSE(isTimeZone("../../etc/passwd"));
  EXPECT_FALSE(isTimeZone("/etc/passwd"));
  EXPECT_FALSE(isTimeZone(""));
  EXPECT_FALSE(isTimeZone("America"));   // a directory
  EXPECT_FALSE(isTimeZone("right/UTC")); // leap seconds: not POSIX time
  EXPECT_FALSE(isTimeZone("UTC\n"));
}

model::ScheduledUpdateGroupAction action() {
  model::ScheduledUpdateGroupAction a;
  a.scheduledActionName = "evening";
  a.desiredCapacity = 4;
  return a;
}

TEST(ScheduledAction, FirstRunIsTheStartTimeOrTheNextCronTime) {
  TimeMs now = at("2026-12-06T17:00:00Z");
  auto once = action();
  once.startTime = at("2026-12-06T18:00:00Z");
  ASSERT_OK(prepareScheduledAction(once, now));
  EXPECT_EQ(once.nextRun, once.startTime);
  auto daily = action();
  daily.recurrence = "0 18 * * *";
  ASSERT_OK(prepareScheduledAction(daily, now));
  EXPECT_EQ(formatIso8601(daily.nextRun), "2026-12-06T18:00:00.000Z");
  EXPECT_EQ(formatIso8601(nextScheduledRun(daily, daily.nextRun)), "2026-12-07T18:00:00.000Z");
  daily.endTime = at("2026-12-07T12:00:00Z");
  EXPECT_EQ(nextScheduledRun(daily, daily.nextRun), 0); // past the end
  EXPECT_EQ(nextScheduledRun(once, once.nextRun), 0);
}

TEST(ScheduledAction, RefusesBadFieldsWithoutChangingTheAction) {
  TimeMs now = at("2026-12-06T17:00:00Z");
  auto check = [&](model::ScheduledUpdateGroupAction a, const std::string& message) {
    auto before = a;
    Status s = prepareScheduledAction(a, now);
    EXPECT_EQ(s.code(), "ValidationError") << message;
    EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
    EXPECT_EQ(a, before);
  };
  auto a = action();
  a.startTime = at("2026-12-06T16:59:00Z");
  check(a, "Given start time is in the past");
  a = action();
  a.recurrence = "0 18 * * *";
  a.startTime = at("2026-12-07T00:00:00Z");
  a.endTime = at("2026-12-06T20:00:00Z");
  check(a, "Start time must be before end time");
  a = action();
  a.recurrence = "0 25 * * *";
  check(a, "hour field");
  a = action();
  a.recurrence = "0 18 * * *";
  a.timeZone = "Europe/Atlantis";
  check(a, "Invalid time zone");
  a = action();
  check(a, "StartTime or a Recurrence");
  a = action();
  a.recurrence = "0 18 * * *";
  a.desiredCapacity.reset();
  check(a, "At least one of MinSize, MaxSize or DesiredCapacity");
  a = action();
  a.recurrence = "0 18 * * *";
  a.minSize = 5;
  a.maxSize = 2;
  check(a, "Max bound, 2");
  a.maxSize = 10;
  a.desiredCapacity = 11;
  check(a, "Desired capacity:11");
}

TEST(ScheduledAction, CauseIsWordedAsAutoScaling) {
  EXPECT_EQ(scheduledCause(at("2026-12-06T18:00:00Z"), 2, 10, 4, 2),
            "At 2026-12-06T18:00:00Z a scheduled action update of AutoScalingGroup constraints "
            "to min: 2, max: 10, desired: 4 changing the desired capacity from 2 to 4.");
}

} // namespace
} // namespace tide::operations
