#include "http1/serializer.h"

#include "http1/chars.h"
#include "http1/reason.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace tide::http1 {

void formatHttpDate(int64_t unixSec, char* out) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  time_t t = static_cast<time_t>(unixSec);
  tm parts{};
  gmtime_r(&t, &parts);
  char buf[64]; // roomy: the compiler cannot tell the fields stay within their widths
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[parts.tm_wday],
                parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
                parts.tm_min, parts.tm_sec);
  std::memcpy(out, buf, kHttpDateChars);
}

namespace {

void appendNumber(std::string& out, uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, size_t(r.ptr - buf));
}

} // namespace

void appendStatusLine(std::string& out, int status, std::string_view reason) {
  out += "HTTP/1.1 ";
  appendNumber(out, uint64_t(status));
  out += ' ';
  out += reason.empty() ? reasonPhrase(status) : reason;
  out += "\r\n";
}

void appendRequestLine(std::string& out, std::string_view method, std::string_view target,
                       int versionMinor) {
  out += method;
  out += ' ';
  out += target;
  out += versionMinor == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n";
}

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void appendField(std::string& out, std::string_view name, uint64_t value) {
  out += name;
  out += ": ";
  appendNumber(out, value);
  out += "\r\n";
}

bool isFieldName(std::string_view name) {
  return isToken(name);
}

bool isFieldValue(std::string_view value) {
  return onlyFieldValueChars(value);
}

bool isMethod(std::string_view method) {
  return isToken(method);
}

bool isRequestTarget(std::string_view target) {
  if (target.empty()) {
    return false;
  }
  for (char c : target) {
    unsigned char u = static_cast<unsigned char>(c);
    if (!kChars.target[u] || u >= 0x80) {
      return false;
    }
  }
  return true;
}

} // namespace tide::http1
