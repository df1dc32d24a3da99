#include "common/clock.h"

#include <ctime>
#include <stdexcept>

namespace tide {

TimeMs RealClock::now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string formatIso8601(TimeMs t) {
  time_t secs = static_cast<time_t>(t / 1000);
  int ms = static_cast<int>(t % 1000);
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::optional<TimeMs> parseTimestamp(std::string_view s) {
  if (s.empty()) {
    return std::nullopt;
  }
  if (s.find_first_not_of("0123456789.") == std::string_view::npos) {
    try {
      size_t used = 0;
      double secs = std::stod(std::string(s), &used);
      if (used != s.size()) {
        return std::nullopt;
      }
      return static_cast<TimeMs>(secs * 1000);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  int y, mo, d, h, mi, sec, n = 0;
  std::string text(s);
  if (sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
      n != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) {
    return std::nullopt;
  }
  size_t i = 19;
  int ms = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    int digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (digits < 3) {
        ms = ms * 10 + (text[i] - '0');
      }
      ++digits;
      ++i;
    }
    if (digits == 0) {
      return std::nullopt;
    }
    for (; digits < 3; ++digits) {
      ms *= 10;
    }
  }
  int offsetMinutes = 0;
  if (i < text.size() && text[i] == 'Z') {
    ++i;
  } else if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    int oh = 0, om = 0;
    if (sscanf(text.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2 || i + 6 != text.size()) {
      return std::nullopt;
    }
    offsetMinutes = (text[i] == '+' ? 1 : -1) * (oh * 60 + om);
    i += 6;
  }
  if (i != text.size()) {
    return std::nullopt;
  }
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  time_t t = timegm(&tm);
  return (static_cast<TimeMs>(t) - offsetMinutes * 60LL) * 1000 + ms;
}

} // namespace tide
