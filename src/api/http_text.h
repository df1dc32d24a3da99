// Text helpers of HTTP/1.1 shared by the API's server and client.
#pragma once

#include <string>
#include <string_view>

namespace tide::api {

// ASCII lowercase (header names are case-insensitive).
inline std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = char(c - 'A' + 'a');
    }
  }
  return out;
}

// Removes optional whitespace (RFC 9110 OWS: spaces and tabs) from both ends.
inline std::string_view trimSpaceTab(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

} // namespace tide::api
