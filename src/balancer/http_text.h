// Small HTTP text helpers shared by the parser (http_parser.cc) and the stickiness cookies
// (sticky_cookie.cc). Internal linkage and no `inline`, as when they were local to each file:
// the compiler keeps the same inlining choices on the parser's hot path.
#pragma once

#include <string_view>

namespace tide::balancer {
namespace {

inline unsigned char asciiLower(unsigned char c) {
  return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

// ASCII case-insensitive equality (field names, cookie attribute names).
bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) {
      return false;
    }
  }
  return true;
}

// Without leading and trailing optional whitespace (SP and HTAB, RFC 9110 §5.6.3).
std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

} // namespace
} // namespace tide::balancer
