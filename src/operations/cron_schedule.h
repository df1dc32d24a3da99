// Recurrence of Auto Scaling scheduled actions: a 5-field Unix cron expression (minute hour
// day-of-month month day-of-week), read in UTC or in an IANA time zone, and the next time it
// fires.
//
// The syntax is what Auto Scaling accepts: in each field `*`, a number, a range `a-b`, a step
// `*/n`, `a-b/n` or `a/n` (a to the field's end), and comma-separated lists of these; months
// JAN..DEC and weekdays SUN..SAT by name (any case, ranges of names too); weekday 0 and 7 are
// Sunday. As in Vixie cron, when both day fields are restricted (neither starts with `*`), a day
// matches when either matches.
//
// Time zones come from the system's tz database (Debian's tzdata, /usr/share/zoneinfo), through
// the C library: localtime_r and mktime with TZ set to the zone for the conversion. g++ 12's
// libstdc++ has no C++20 chrono time zones, and the C library already reads TZif files and
// their POSIX footers correctly. TZ is process-wide: the conversions hold a mutex and put TZ
// back as it was; tide calls them on the control thread only.
//
// Across DST changes (local wall-clock times): a time that occurs twice (the autumn hour) fires
// once, at its first occurrence; a time that does not occur (the spring hour) fires when the
// clocks have moved past it (02:30 on the March change in America/New_York fires at 03:30 EDT).
#pragma once

#include "common/clock.h"
#include "common/status.h"

#include <bitset>
#include <optional>
#include <string>
#include <string_view>

namespace tide::operations {

struct CronSchedule {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> daysOfMonth; // 1..31
  std::bitset<13> months;      // 1..12
  std::bitset<7> daysOfWeek;   // 0 (Sunday)..6
  bool dayOfMonthStar = false; // the field starts with `*`
  bool dayOfWeekStar = false;
};

// Parses a recurrence; a ValidationError naming what is wrong otherwise.
Result<CronSchedule> parseCron(std::string_view expression);

// Whether the tz database has this zone ("America/New_York", "UTC", "Etc/GMT+5"): a TZif file
// under /usr/share/zoneinfo. Names with "..", a leading "/", characters other than letters,
// digits and "/_-+", and the leap-second "right/" zones are refused.
bool isTimeZone(std::string_view name);

// The first time strictly after `after` at which the schedule fires, read in timeZone (empty:
// UTC), at a whole minute. nullopt when it never fires within the next 8 years (31 February).
std::optional<TimeMs> nextCronTime(const CronSchedule& schedule, const std::string& timeZone,
                                   TimeMs after);

} // namespace tide::operations
