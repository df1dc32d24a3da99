#include "operations/cron_schedule.h"

#include <array>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>
#include <vector>

namespace tide::operations {

namespace {

struct Field {
  const char* name;                                   // in messages
  int lo, hi;                                         // the values it takes
  const std::array<const char*, 12>* names = nullptr; // by value, from namesFrom
  int namesFrom = 0;
};

constexpr std::array<const char*, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                     "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<const char*, 12> kDayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI",
                                                   "SAT", "",    "",    "",    "",    ""};

Status bad(const Field& f, std::string_view text, const std::string& why) {
  return validationError("The " + std::string(f.name) + " field '" + std::string(text) +
                         "' of the recurrence " + why);
}

// One value: a number in range or, where the field has them, a name.
Result<int> value(const Field& f, std::string_view whole, std::string_view s) {
  if (s.empty()) {
    return bad(f, whole, "has an empty value");
  }
  if (f.names != nullptr && std::isalpha(static_cast<unsigned char>(s[0]))) {
    std::string up;
    for (char c : s) {
      up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    for (size_t i = 0; i < f.names->size(); ++i) {
      if (up == (*f.names)[i]) {
        return static_cast<int>(i) + f.namesFrom;
      }
    }
    return bad(f, whole, "has an unknown name '" + std::string(s) + "'");
  }
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || v > 1000) {
      return bad(f, whole, "is not a number, range, step or list");
    }
    v = v * 10 + (c - '0');
  }
  if (v < f.lo || v > f.hi) {
    return bad(f, whole, "is out of range " + std::to_string(f.lo) + "-" + std::to_string(f.hi));
  }
  return v;
}

// A whole field: a comma-separated list of `*`, values, ranges and steps. Sets bits lo..hi.
Status parseField(const Field& f, std::string_view text, std::vector<bool>& bits) {
  bits.assign(static_cast<size_t>(f.hi) + 1, false);
  size_t start = 0;
  while (true) {
    size_t comma = text.find(',', start);
    std::string_view item = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    int step = 1;
    size_t slash = item.find('/');
    std::string_view range = item.substr(0, slash);
    if (slash != std::string_view::npos) {
      std::string_view st = item.substr(slash + 1);
      if (st.empty() || st.size() > 4 ||
          st.find_first_not_of("0123456789") != std::string_view::npos) {
        return bad(f, text, "has an invalid step");
      }
      step = std::atoi(std::string(st).c_str());
      if (step < 1) {
        return bad(f, text, "has a step of 0");
      }
    }
    int lo = f.lo, hi = f.hi;
    if (range != "*") {
      size_t dash = range.find('-');
      TIDE_ASSIGN_OR_RETURN(lo, value(f, text, range.substr(0, dash)));
      if (dash != std::string_view::npos) {
        TIDE_ASSIGN_OR_RETURN(hi, value(f, text, range.substr(dash + 1)));
        if (hi < lo) {
          return bad(f, text, "has a range that ends before it starts");
        }
      } else if (slash == std::string_view::npos) {
        hi = lo; // a single value
      }
    }
    for (int v = lo; v <= hi; v += step) {
      bits[static_cast<size_t>(v)] = true;
    }
    if (comma == std::string_view::npos) {
      return Status::ok();
    }
    start = comma + 1;
  }
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (the civil calendar
// arithmetic: years counted from March so that the leap day ends a year).
int64_t daysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
void civilFromDays(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

std::mutex& tzMutex() {
  static std::mutex m;
  return m;
}

// Sets TZ for its lifetime (REQUIRES: tzMutex held); an empty zone keeps UTC arithmetic.
class ZoneScope {
public:
  explicit ZoneScope(const std::string& zone) {
    const char* old = std::getenv("TZ");
    hadOld_ = old != nullptr;
    if (hadOld_) {
      old_ = old;
    }
    setenv("TZ", (":" + zone).c_str(), 1);
    tzset();
  }
  ~ZoneScope() {
    if (hadOld_) {
      setenv("TZ", old_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

private:
  bool hadOld_ = false;
  std::string old_;
};

// The first instant whose local wall-clock reading is y-m-d h:mi; for a reading the clocks skip,
// the instant they move past it. In the zone ZoneScope set (or UTC when utc).
int64_t fromLocal(bool utc, int64_t y, int m, int d, int h, int mi) {
  if (utc) {
    return daysFromCivil(y, m, d) * 86400 + h * 3600 + mi * 60;
  }
  std::optional<int64_t> first;
  int64_t skipped = INT64_MIN;
  for (int isdst : {0, 1}) {
    std::tm t{};
    t.tm_year = static_cast<int>(y - 1900);
    t.tm_mon = m - 1;
    t.tm_mday = d;
    t.tm_hour = h;
    t.tm_min = mi;
    t.tm_isdst = isdst;
    time_t r = mktime(&t);
    std::tm back{};
    localtime_r(&r, &back);
    if (back.tm_year == y - 1900 && back.tm_mon == m - 1 && back.tm_mday == d &&
        back.tm_hour == h && back.tm_min == mi) {
      if (!first || r < *first) {
        first = r;
      }
    } else if (r > skipped) {
      skipped = r;
    }
  }
  return first ? *first : skipped;
}

} // namespace

Result<CronSchedule> parseCron(std::string_view expression) {
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i < expression.size()) {
    while (i < expression.size() && std::isspace(static_cast<unsigned char>(expression[i]))) {
      ++i;
    }
    size_t j = i;
    while (j < expression.size() && !std::isspace(static_cast<unsigned char>(expression[j]))) {
      ++j;
    }
    if (j > i) {
      parts.push_back(expression.substr(i, j - i));
    }
    i = j;
  }
  if (parts.size() != 5) {
    return validationError("The recurrence '" + std::string(expression) +
                           "' must have 5 fields (minute hour day-of-month month day-of-week)");
  }
  static const Field fields[5] = {{"minute", 0, 59},
                                  {"hour", 0, 23},
                                  {"day-of-month", 1, 31},
                                  {"month", 1, 12, &kMonthNames, 1},
                                  {"day-of-week", 0, 7, &kDayNames, 0}};
  CronSchedule c;
  std::vector<bool> bits;
  for (int f = 0; f < 5; ++f) {
    TIDE_RETURN_IF_ERROR(parseField(fields[f], parts[static_cast<size_t>(f)], bits));
    for (size_t v = 0; v < bits.size(); ++v) {
      if (!bits[v]) {
        continue;
      }
      switch (f) {
      case 0:
        c.minutes.set(v);
        break;
      case 1:
        c.hours.set(v);
        break;
      case 2:
        c.daysOfMonth.set(v);
        break;
      case 3:
        c.months.set(v);
        break;
      default:
        c.daysOfWeek.set(v % 7);
        break;
      }
    }
  }
  c.dayOfMonthStar = parts[2][0] == '*';
  c.dayOfWeekStar = parts[4][0] == '*';
  return c;
}

bool isTimeZone(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos ||
      name.size() > 128 || name.starts_with("right/")) {
    return false; // right/: clocks that count leap seconds, which POSIX time does not
  }
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  std::ifstream in("/usr/share/zoneinfo/" + std::string(name), std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && std::string_view(magic, 4) == "TZif";
}

std::optional<TimeMs> nextCronTime(const CronSchedule& c, const std::string& timeZone,
                                   TimeMs after) {
  bool utc = timeZone.empty() || timeZone == "UTC" || timeZone == "Etc/UTC";
  std::unique_lock<std::mutex> lock(tzMutex(), std::defer_lock);
  std::optional<ZoneScope> zone;
  if (!utc) {
    lock.lock();
    zone.emplace(timeZone);
  }
  int64_t afterSec = after >= 0 ? after / 1000 : -((-after + 999) / 1000);
  // The local date of `after` (a day early, so that a DST change near midnight is covered).
  int64_t startDay;
  if (utc) {
    startDay = (afterSec >= 0 ? afterSec : afterSec - 86399) / 86400;
  } else {
    time_t t = static_cast<time_t>(afterSec);
    std::tm lt{};
    localtime_r(&t, &lt);
    startDay = daysFromCivil(lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday) - 1;
  }
  for (int64_t day = startDay; day < startDay + 366 * 8 + 2; ++day) {
    int64_t y;
    int m, d;
    civilFromDays(day, y, m, d);
    int wday = static_cast<int>(((day % 7) + 7 + 4) % 7); // 1970-01-01 was a Thursday
    if (!c.months[static_cast<size_t>(m)]) {
      continue;
    }
    bool dom = c.daysOfMonth[static_cast<size_t>(d)];
    bool dow = c.daysOfWeek[static_cast<size_t>(wday)];
    bool dayMatches = c.dayOfMonthStar || c.dayOfWeekStar ? (dom && dow) : (dom || dow);
    if (!dayMatches) {
      continue;
    }
    std::optional<int64_t> best;
    for (int h = 0; h < 24; ++h) {
      if (!c.hours[static_cast<size_t>(h)]) {
        continue;
      }
      for (int mi = 0; mi < 60; ++mi) {
        if (!c.minutes[static_cast<size_t>(mi)]) {
          continue;
        }
        int64_t at = fromLocal(utc, y, m, d, h, mi);
        if (at * 1000 > after && (!best || at < *best)) {
          best = at;
        }
      }
    }
    if (best) {
      return *best * 1000;
    }
  }
  return std::nullopt;
}

} // namespace tide::operations
