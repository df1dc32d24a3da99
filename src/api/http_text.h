// Text helpers of HTTP/1.1 shared by the API's server and client (trimOws and
// equalsIgnoreCase are in common/text.h).
#pragma once

#include <string>
#include <string_view>

#include "common/text.h"

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

} // namespace tide::api
